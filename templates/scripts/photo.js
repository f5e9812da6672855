// photo.js: the photo that will be sent. Owns a file chosen (#photo) or taken with the phone's
// camera (#photo-camera) or the webcam (a canvas from the webcam part): read, decoded upright,
// checked large enough, reduced to an upright JPEG and handed to the crop frame and the preview
// (preview.js, which asks the function where the face is); the status line
// #photo-etat; and the photo being prepared, which a send waits for. Apart because preparing a
// photo is slow and asynchronous (a second photo may arrive while the first is still being
// reduced: only the latest counts) and the rest of the form only needs to know whether one is
// ready, and its bytes.
//
// Everything it decides comes from the contract: the reduction (`limits.upload`), the least
// frame (`rules.defaultFrame` and `rules.isLargeEnough`, the function's own test), what a file
// that cannot be read is (`image.sniff`, so HEIC gets its advice), and every text
// (`messages.photo`, `messages.page`, filled with `rules.fill`).

/**
 * The photo, with the `contract`, its `rules`, the `image` helpers (makeImage), the `errors`
 * (which show a refusal under the photo), the `crop` frame (which shows the photo) and the
 * `preview` (makePreview, the function's advice on it).
 * Returns { useFile, useCameraFile, useShot, clear, isReady, blob, pending }.
 */
function makePhoto({ contract, rules, image, errors, crop, preview }) {
  const pageTexts = contract.messages.page;
  const photoTexts = contract.messages.photo;
  const photoInput = document.getElementById('photo');
  const status = document.getElementById('photo-etat');
  /** The photo as it will be sent: an upright JPEG and its size. */
  const photo = { blob: null, url: '', width: 0, height: 0 };
  // Each photo chosen or taken gets a number: when a second one comes while the first is still
  // being prepared, only the latest is kept.
  let ticket = 0;
  /** The photo being prepared, which a send waits for (null when none is). */
  let work = null;

  const setStatus = (text) => {
    status.textContent = text;
  };

  const track = (promise) => {
    const settled = promise.catch(() => {}).then(() => {
      if (work === settled) work = null;
    });
    work = settled;
    return promise;
  };

  /** Whether the largest 35:45 frame of a `width`×`height` picture is one the function accepts. */
  const isLargeEnough = (width, height) => rules.isLargeEnough(rules.defaultFrame(width, height));

  /** Forgets the photo, so that a refused one never leaves an earlier one to be sent. */
  function clear() {
    ticket++; // a photo still being prepared is dropped too
    if (photo.url) URL.revokeObjectURL(photo.url);
    Object.assign(photo, { blob: null, url: '', width: 0, height: 0 });
    crop.clear();
    preview.clear();
    setStatus('');
  }

  /** Refuses the photo with `message`. */
  function refuse(message) {
    clear();
    errors.set('photo', message);
  }

  /** Checks, reduces and shows an upright picture (a decoded file or a webcam frame). */
  async function useSource(source, width, height, mine) {
    if (mine !== ticket) return;
    const tooSmall = rules.fill(photoTexts.too_small, { width, height });
    if (!isLargeEnough(width, height)) {
      refuse(tooSmall);
      return;
    }
    setStatus(pageTexts.preparing);
    let reduced;
    try {
      reduced = await image.reduce(source, width, height, contract.limits.upload);
    } catch {
      reduced = null;
    }
    if (mine !== ticket) return;
    if (!reduced) {
      refuse(photoTexts.unsupported);
      return;
    }
    // A panorama reduced to the upload's longest side may keep too few rows for the frame.
    if (!isLargeEnough(reduced.width, reduced.height)) {
      refuse(tooSmall);
      return;
    }
    if (photo.url) URL.revokeObjectURL(photo.url);
    photo.blob = reduced.blob;
    photo.width = reduced.width;
    photo.height = reduced.height;
    photo.url = URL.createObjectURL(reduced.blob);
    crop.start(photo.url, photo.width, photo.height);
    // Before `source` is released (fromFile's finally): the preview draws its copy from it now.
    preview.start(source, width, height, photo);
    errors.set('photo', '');
    setStatus(
      rules.fill(pageTexts.ready, { width: photo.width, height: photo.height, size: image.formatSize(photo.blob.size) }),
    );
  }

  /** Takes a chosen or captured file. */
  async function fromFile(file) {
    const mine = ++ticket;
    setStatus(pageTexts.preparing);
    let decoded;
    try {
      decoded = await image.decode(file);
    } catch {
      const message = (await image.sniff(file)) === 'heic' ? photoTexts.heic : photoTexts.unsupported;
      if (mine === ticket) refuse(message);
      return;
    }
    try {
      await useSource(decoded.source, decoded.width, decoded.height, mine);
    } finally {
      decoded.release();
    }
  }

  return Object.freeze({
    /** The file chosen in #photo. */
    useFile: (file) => (file ? track(fromFile(file)) : Promise.resolve()),
    /** The file taken with the phone's camera: #photo no longer names the one in use. */
    useCameraFile(file) {
      if (!file) return Promise.resolve();
      photoInput.value = '';
      return track(fromFile(file));
    },
    /** A frame of the webcam, drawn on `canvas`. */
    useShot(canvas, width, height) {
      photoInput.value = '';
      return track(useSource(canvas, width, height, ++ticket));
    },
    clear,
    isReady: () => photo.blob !== null,
    blob: () => photo.blob,
    /** The photo being prepared, or null: a send waits for it. */
    pending: () => work,
  });
}
