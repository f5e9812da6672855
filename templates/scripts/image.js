// image.js: the image helpers shared by the request form and the photo tool. Owns decoding a
// chosen file upright, telling what format a file really is from its first bytes, re-encoding
// a picture (whole, or a rectangle cut from it) as a lighter JPEG, and writing a size in French. Shared because both pages prepare
// photos the same way; the page's parts never touch a canvas or a file's bytes themselves.
//
// What a file is comes from `rules.sniff` (rules.js, joined first) on the file's first
// `formats.sniff_bytes` bytes: the same tables as the function's (form/src/format.rs), so that
// the page calls HEIC exactly what the function calls HEIC. The reduction's parameters are the
// contract's `limits.upload` and `limits.frame_upload`, passed by the caller; this file holds no
// limit of its own.
//
// Joined into each page's one classic script (bundles.toml): no module (Chromium refuses them on
// file:// pages), no dependency.

/**
 * The image helpers, for `rules` (makeRules) and the contract's `formats`.
 * Returns { formatSize, sniff, decode, reduce, cut }.
 */
function makeImage({ rules, formats }) {
  const number = new Intl.NumberFormat('fr-FR');
  const megabytes = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });
  const MEGA = 1e6;
  const KILO = 1e3;

  /** A size in French: `1,96 Mo` or `460 Ko`, with a narrow no-break space (10^6 and 10^3 bytes, as phones count). */
  const formatSize = (bytes) =>
    bytes >= MEGA ? `${megabytes.format(bytes / MEGA)}\u202fMo` : `${number.format(Math.max(1, Math.round(bytes / KILO)))}\u202fKo`;

  /**
   * What `file` is, from its first bytes: 'jpeg', 'png', 'webp', 'heic' or 'unsupported' (also
   * when the file cannot be read).
   */
  async function sniff(file) {
    try {
      return rules.sniff(new Uint8Array(await file.slice(0, formats.sniff_bytes).arrayBuffer()));
    } catch {
      return 'unsupported';
    }
  }

  /**
   * Decodes an image file upright (its EXIF orientation applied, as the browser shows it).
   * Returns { source, width, height, release }.
   */
  async function decode(file) {
    if (window.createImageBitmap) {
      try {
        const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
        return { source: bitmap, width: bitmap.width, height: bitmap.height, release: () => bitmap.close() };
      } catch {
        // Fall back on an <img>, which also applies the orientation.
      }
    }
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.src = url;
    try {
      await img.decode();
    } catch (error) {
      URL.revokeObjectURL(url);
      throw error;
    }
    return { source: img, width: img.naturalWidth, height: img.naturalHeight, release: () => URL.revokeObjectURL(url) };
  }

  const toBlob = (canvas, quality) =>
    new Promise((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('toBlob failed'))), 'image/jpeg', quality),
    );

  /** A `width`×`height` canvas holding the rectangle `rect` of `source`, resampled. */
  function draw(source, rect, width, height) {
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext('2d');
    context.fillStyle = 'white'; // transparent PNG pixels would turn black in a JPEG
    context.fillRect(0, 0, width, height);
    context.imageSmoothingQuality = 'high';
    context.drawImage(source, rect.x, rect.y, rect.width, rect.height, 0, 0, width, height);
    return canvas;
  }

  /**
   * Encodes `canvas` as JPEG at each of `qualities` in turn until it weighs at most `max_bytes`.
   * Returns { blob, width, height } of the first that fits, or else of the last one tried.
   */
  async function encode(canvas, qualities, max_bytes) {
    let result = null;
    for (const quality of qualities) {
      result = { blob: await toBlob(canvas, quality), width: canvas.width, height: canvas.height };
      if (result.blob.size <= max_bytes) break;
    }
    return result;
  }

  /**
   * Draws `source` at most `max_side` pixels on its longest side and encodes it as JPEG at each
   * of `qualities` in turn, then `rounds` times at `shrink` of the size, until it weighs at most
   * `max_bytes` (the contract's `limits.upload`). Returns { blob, width, height } of the first
   * JPEG that fits, or else of the last one tried: the caller decides whether an oversized one
   * will do. A JPEG made by a canvas has no metadata: the GPS position of a phone photo never
   * leaves the device.
   */
  async function reduce(source, width, height, { max_side, max_bytes, qualities, rounds, shrink }) {
    const whole = { x: 0, y: 0, width, height };
    let scale = Math.min(1, max_side / Math.max(width, height));
    let result = null;
    for (let round = 0; round < rounds; round++) {
      const size = (side) => Math.max(1, Math.round(side * scale));
      result = await encode(draw(source, whole, size(width), size(height)), qualities, max_bytes);
      if (result.blob.size <= max_bytes) return result;
      scale *= shrink;
    }
    return result;
  }

  /**
   * Cuts the rectangle `rect` (pixels of `source`) out of `source`, resamples it to
   * `width`×`height` and encodes it as JPEG at each of `qualities` in turn until it weighs at most
   * `max_bytes` (the contract's `limits.frame_upload`). Returns { blob, width, height } of the
   * first JPEG that fits, or else of the last one tried. No metadata either.
   */
  const cut = (source, rect, width, height, { qualities, max_bytes }) =>
    encode(draw(source, rect, width, height), qualities, max_bytes);

  return Object.freeze({ formatSize, sniff, decode, reduce, cut });
}
