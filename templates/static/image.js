// The image helpers shared by the request form (form.js) and the photo tool (photo-tool.js):
// decoding a chosen file upright, spotting an iPhone HEIC photo the browser cannot read,
// re-encoding as a lighter JPEG and writing a size in French. Each page loads this script
// before its own, both with `defer`, so they run in that order.
//
// A classic script defining one global, window.PassImage, not a module: Chromium refuses
// module scripts on file:// pages. No dependency.
(() => {
  'use strict';

  const number = new Intl.NumberFormat('fr-FR');
  const megabytes = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });

  /** A size in French: `1,96 Mo` or `460 Ko`. */
  const formatSize = (bytes) =>
    bytes >= 1e6 ? `${megabytes.format(bytes / 1e6)} Mo` : `${number.format(Math.max(1, Math.round(bytes / 1e3)))} Ko`;

  /** Reads the file's first bytes: HEIC/HEIF has an `ftyp` box with one of these brands. */
  async function isHeic(file) {
    try {
      const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
      const text = String.fromCharCode(...head);
      return text.slice(4, 8) === 'ftyp' && /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1)$/.test(text.slice(8, 12));
    } catch {
      return false;
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

  /**
   * Draws `source` at most `maxSide` pixels on its longest side and encodes it as JPEG at each of
   * `qualities` in turn, then `rounds` times at `shrink` of the size, until it weighs at most
   * `maxBytes`. Returns { blob, width, height } of the first JPEG that fits, or else of the last
   * one tried: the caller decides whether an oversized one will do. A JPEG made by a canvas has
   * no metadata: the GPS position of a phone photo never leaves the device.
   */
  async function reduce(source, width, height, { maxSide, maxBytes, rounds, qualities, shrink }) {
    let scale = Math.min(1, maxSide / Math.max(width, height));
    let result = null;
    for (let round = 0; round < rounds; round++) {
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      const context = canvas.getContext('2d');
      context.fillStyle = '#ffffff'; // transparent PNG pixels would turn black in a JPEG
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingQuality = 'high';
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      for (const quality of qualities) {
        const blob = await toBlob(canvas, quality);
        result = { blob, width: canvas.width, height: canvas.height };
        if (blob.size <= maxBytes) return result;
      }
      scale *= shrink;
    }
    return result;
  }

  window.PassImage = Object.freeze({ formatSize, isHeic, decode, reduce });
})();
