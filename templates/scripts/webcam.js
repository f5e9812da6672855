// webcam.js: taking the photo with a computer's webcam. Owns #webcam (the live picture in
// #webcam-video, shown while the camera is open), the camera stream and its permission, and the
// shot: one frame drawn on a canvas and handed over (`onShot`). Apart because the camera is a
// device with its own life (a permission, a light that stays on until every track is stopped),
// which must close whenever the photo comes from elsewhere or the form is emptied.
//
// Why the camera failed is said with the contract's texts (`messages.page.camera_*`); the
// resolution asked for is about what the upload keeps (`limits.upload.max_side`), since the
// photo is reduced to that anyway.

/**
 * The webcam, with the `contract`, the `errors` (which show why the camera failed, under the
 * photo), and `onShot(canvas, width, height)`, called with each frame taken.
 * Returns { open, shoot, close }.
 */
function makeWebcam({ contract, errors, onShot }) {
  const texts = contract.messages.page;
  const webcam = document.getElementById('webcam');
  const video = document.getElementById('webcam-video');
  // About the upload's longest side, at the 16:9 most webcams have: the camera picks its
  // nearest mode.
  const ideal = contract.limits.upload.max_side;
  const WIDE = 9 / 16;
  let stream = null;

  /** Stops the camera (its light goes off) and hides the live picture. */
  function close() {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    webcam.hidden = true;
  }

  /** The text for a getUserMedia failure named `name`. */
  function messageFor(name) {
    if (name === 'NotAllowedError' || name === 'SecurityError') return texts.camera_denied;
    if (name === 'NotFoundError' || name === 'OverconstrainedError') return texts.camera_missing;
    if (name === 'NotReadableError') return texts.camera_busy;
    return texts.camera_failed;
  }

  /** Asks for the camera and shows its picture, or says why it cannot. */
  async function open() {
    errors.set('photo', '');
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal }, height: { ideal: Math.round(ideal * WIDE) } },
        audio: false,
      });
    } catch (error) {
      errors.set('photo', messageFor(error && error.name));
      return;
    }
    video.srcObject = stream;
    webcam.hidden = false;
    webcam.scrollIntoView({ block: 'start' });
    try {
      await video.play();
    } catch {
      // Autoplay of a muted video is allowed everywhere; a refusal leaves the button to try.
    }
    document.getElementById('webcam-prendre').focus({ preventScroll: true });
  }

  /** Takes the frame on the screen, closes the camera and hands the frame over. */
  async function shoot() {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').drawImage(video, 0, 0, width, height);
    close();
    await onShot(canvas, width, height);
  }

  return Object.freeze({ open, shoot, close });
}
