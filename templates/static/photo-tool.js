// « Réduire le poids d’une photo »: the chosen photo is decoded upright, drawn at most
// MAX_SIDE pixels on its longest side and encoded as JPEG at the best quality that weighs less
// than the Region's 2 MB limit. Everything happens in the browser: nothing is sent, so the page
// works from file:// with no network. A classic script (Chromium refuses module scripts on
// file:// pages), no dependency.
(() => {
  'use strict';

  const input = document.getElementById('outil-photo');
  if (!input || !window.Blob || !window.URL || !document.createElement('canvas').toBlob) return;
  const $ = (id) => document.getElementById(id);
  const status = $('outil-etat');
  const result = $('outil-resultat');
  const link = $('outil-telecharger');
  // The preview <img> is made here: an empty one in the HTML would be invalid.
  const preview = document.createElement('img');
  preview.className = 'photo-tool-preview';
  preview.id = 'outil-apercu';
  preview.alt = 'Aperçu de la photo réduite';
  $('outil-apercu-cadre').append(preview);

  // "2 Mo" may be read as 2 000 000 or 2 097 152 bytes: stay under the smaller, with a margin.
  const MAX_BYTES = 1900000;
  // Far more than an ID photo needs, and small enough to stay far under the limit.
  const MAX_SIDE = 2000;

  const TEXT = {
    working: 'Réduction de la photo en cours…',
    done: 'La photo est réduite. Vérifiez l’aperçu, puis téléchargez-la.',
    alreadySmall: 'Cette photo pèse déjà moins de 2 Mo : vous pouvez l’envoyer telle quelle. Voici tout de même une copie plus légère, si vous la préférez.',
    heic: 'Cette photo est au format HEIC, celui des iPhone, que ce navigateur ne sait pas lire. Sur l’iPhone, ouvrez Réglages > Appareil photo > Formats et choisissez « Le plus compatible » avant de reprendre la photo, ou enregistrez-la au format JPEG, puis choisissez ce fichier.',
    unreadable: 'Ce fichier n’est pas une photo que ce navigateur sait lire. Choisissez une photo au format JPEG, PNG ou WebP.',
    failed: 'La photo n’a pas pu être réduite sous 2 Mo. Choisissez une autre photo, ou prenez-la de nouveau.',
  };

  const number = new Intl.NumberFormat('fr-FR');
  const megabytes = new Intl.NumberFormat('fr-FR', { maximumFractionDigits: 2 });
  const formatSize = (bytes) =>
    bytes >= 1e6 ? `${megabytes.format(bytes / 1e6)} Mo` : `${number.format(Math.max(1, Math.round(bytes / 1e3)))} Ko`;
  const describe = (bytes, width, height, format) =>
    `${formatSize(bytes)}, ${number.format(width)} × ${number.format(height)} pixels${format ? `, ${format}` : ''}`;

  const FORMATS = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/webp': 'WebP', 'image/heic': 'HEIC' };

  async function isHeic(file) {
    try {
      const head = new Uint8Array(await file.slice(0, 12).arrayBuffer());
      const text = String.fromCharCode(...head);
      return text.slice(4, 8) === 'ftyp' && /^(heic|heix|heim|heis|hevc|hevx|mif1|msf1)$/.test(text.slice(8, 12));
    } catch {
      return false;
    }
  }

  /** Decodes upright (EXIF orientation applied); returns { source, width, height, release }. */
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

  /** The best quality, then the largest size, whose JPEG weighs at most MAX_BYTES. */
  async function reduce(source, width, height) {
    let scale = Math.min(1, MAX_SIDE / Math.max(width, height));
    for (let round = 0; round < 6; round++) {
      const canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(width * scale));
      canvas.height = Math.max(1, Math.round(height * scale));
      const context = canvas.getContext('2d');
      context.fillStyle = '#ffffff'; // transparent PNG pixels would turn black in a JPEG
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.imageSmoothingQuality = 'high';
      context.drawImage(source, 0, 0, canvas.width, canvas.height);
      for (const quality of [0.92, 0.85, 0.78, 0.7]) {
        const blob = await toBlob(canvas, quality);
        if (blob.size <= MAX_BYTES) return { blob, width: canvas.width, height: canvas.height };
      }
      scale *= 0.75;
    }
    return null;
  }

  let url = '';
  // Each choice gets a number: when a photo is chosen while the previous one is still being
  // reduced, only the latest shows its result.
  let latest = 0;

  async function run(file) {
    const ticket = ++latest;
    result.hidden = true;
    status.textContent = TEXT.working;
    let decoded;
    try {
      decoded = await decode(file);
    } catch {
      const message = (await isHeic(file)) ? TEXT.heic : TEXT.unreadable;
      if (ticket === latest) status.textContent = message;
      return;
    }
    let reduced;
    try {
      reduced = await reduce(decoded.source, decoded.width, decoded.height);
    } catch {
      reduced = null;
    } finally {
      decoded.release();
    }
    if (ticket !== latest) return;
    if (!reduced) {
      status.textContent = TEXT.failed;
      return;
    }
    if (url) URL.revokeObjectURL(url);
    url = URL.createObjectURL(reduced.blob);
    const base = file.name.replace(/\.[^.]*$/, '') || 'photo';
    link.href = url;
    link.download = `${base}-reduite.jpg`;
    preview.src = url;
    $('outil-nom').textContent = link.download;
    $('outil-avant').textContent = describe(file.size, decoded.width, decoded.height, FORMATS[file.type] || '');
    $('outil-apres').textContent = describe(reduced.blob.size, reduced.width, reduced.height, 'JPEG');
    result.hidden = false;
    status.textContent = file.size <= MAX_BYTES ? TEXT.alreadySmall : TEXT.done;
  }

  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (file) run(file);
  });
})();
