// photo.js: the photo that will be sent. Owns a file chosen (#photo) or taken with the phone's
// camera (#photo-camera) or the webcam (a canvas from the webcam part): read, decoded upright,
// checked large enough, reduced to an upright JPEG, the working copy, and handed to the crop frame
// and the preview (preview.js, which asks the function where the face is); the status line
// #photo-etat; the photo being prepared, which a send waits for; and what a send uploads: the
// student's frame cut from the photo as chosen (the file, read again, or the webcam's frame),
// about 300 KB where the working copy weighs up to a megabyte. Apart because preparing a photo is
// slow and asynchronous (a second photo may arrive while the first is still being reduced: only
// the latest counts) and the rest of the form only needs to know whether one is ready, and what
// to upload for a frame.
//
// Everything it decides comes from the contract: the working copy (`limits.upload`), the upload
// of the frame (`limits.frame_upload`), the least frame (`rules.defaultFrame` and `rules.isLargeEnough`, the
// function's own test), what a file that cannot be read is (`image.sniff`, so HEIC gets its
// advice), and every text (`messages.photo`, `messages.page`, filled with `rules.fill`).

/**
 * The photo, with the `contract`, its `rules`, the `image` helpers (makeImage), the `errors`
 * (which show a refusal under the photo), the `crop` frame (which shows the photo) and the
 * `preview` (makePreview, the function's advice on it).
 * Returns { useFile, useCameraFile, useShot, clear, isReady, upload, pending }.
 */
function makePhoto({ contract, rules, image, errors, crop, preview }) {
  const pageTexts = contract.messages.page;
  const photoTexts = contract.messages.photo;
  const photoInput = document.getElementById('photo');
  const status = document.getElementById('photo-etat');
  /**
   * The working copy (an upright JPEG, its size: the crop frame counts in its pixels) and
   * `origin`, what it was made from: { file } or { canvas } (a webcam frame), with the upright
   * size, for the upload of the frame.
   */
  const photo = { blob: null, url: '', width: 0, height: 0, origin: null };
  /** The last upload made: { key, blob (the working copy it was cut for), made (its promise) }. */
  let kept = null;
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
    Object.assign(photo, { blob: null, url: '', width: 0, height: 0, origin: null });
    kept = null;
    crop.clear();
    preview.clear();
    setStatus('');
  }

  /** Refuses the photo with `message`. */
  function refuse(message) {
    clear();
    errors.set('photo', message);
  }

  /**
   * Checks, reduces and shows an upright picture (a decoded file or a webcam frame), `origin` its
   * file or canvas.
   */
  async function useSource(source, width, height, mine, origin) {
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
    photo.origin = { ...origin, width, height };
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
      await useSource(decoded.source, decoded.width, decoded.height, mine, { file });
    } finally {
      decoded.release();
    }
  }

  /**
   * The frame `[x, y, w, h]` (pixels of the working copy) cut from the photo as it was chosen, in
   * whole pixels of it (the crop the function would take from the original), reduced only when
   * it is larger than `limits.frame_upload` and never enlarged: { blob, crop }, `crop` being the
   * whole of it, which the function then frames at 35:45 as it frames a crop of the original.
   * Null when the photo cannot be read again as it was (a file removed or replaced since).
   */
  async function cutFrame([x, y, w, h], { width, height, origin }) {
    const decoded = origin.file
      ? await image.decode(origin.file)
      : { source: origin.canvas, width: origin.width, height: origin.height, release() {} };
    try {
      if (decoded.width !== origin.width || decoded.height !== origin.height) return null;
      const sx = origin.width / width;
      const sy = origin.height / height;
      const rect = { x: Math.round(x * sx), y: Math.round(y * sy) };
      rect.width = Math.min(origin.width - rect.x, Math.round(w * sx));
      rect.height = Math.min(origin.height - rect.y, Math.round(h * sy));
      // Whole pixels, copied as they are when the frame fits, and a reduction keeping the frame's
      // own shape otherwise: stretched to exactly 35:45, a 373-pixel frame drawn 374 wide lost
      // 0.07 of SSIM against the original's photo (camera-nikon-gps.jpg), resampled at every pixel.
      const { frame_upload } = contract.limits;
      const scale = Math.min(1, frame_upload.width / rect.width, frame_upload.height / rect.height);
      const outWidth = Math.max(1, Math.round(rect.width * scale));
      const outHeight = Math.max(1, Math.round(rect.height * scale));
      const made = await image.cut(decoded.source, rect, outWidth, outHeight, frame_upload);
      return { blob: made.blob, crop: `0,0,${made.width},${made.height}` };
    } finally {
      decoded.release();
    }
  }

  /**
   * What to upload for the frame `cropText` (`x,y,w,h` in pixels of the working copy, as
   * #recadrage holds it): { blob, crop }, the frame cut from the photo as chosen (cutFrame), or
   * the working copy and `cropText` themselves when that cannot be made, as the form sent before.
   * The same frame of the same photo gives the same upload, kept rather than made again: a send
   * repeated after a lost answer is then the same content to the function, its replay and not a
   * conflict, even from a browser whose JPEG encoder is not deterministic.
   */
  function upload(cropText) {
    if (kept && kept.key === cropText && kept.blob === photo.blob) return kept.made;
    const working = { blob: photo.blob, crop: cropText };
    const frame = cropText.split(',').map(Number);
    const usable = photo.origin && frame.length === 4 && frame.every(Number.isFinite) && frame[2] > 0 && frame[3] > 0;
    const made = (usable ? cutFrame(frame, { ...photo }) : Promise.resolve(null)).then(
      (cut) => cut || working,
      () => working,
    );
    kept = { key: cropText, blob: photo.blob, made };
    return made;
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
      return track(useSource(canvas, width, height, ++ticket, { canvas }));
    },
    clear,
    isReady: () => photo.blob !== null,
    upload,
    /** The photo being prepared, or null: a send waits for it. */
    pending: () => work,
  });
}
