// « Réduire le poids d’une photo »: the chosen photo is decoded upright, drawn at most
// JPEG.maxSide pixels on its longest side and encoded as JPEG at the best quality that weighs no
// more than the request form's photo limit, which the page gives in data-max-photo-bytes (from
// form::limits, the handler's own). Everything happens in the browser: nothing is sent, so the page
// works from file:// with no network. A classic script (Chromium refuses module scripts on
// file:// pages); its one dependency, static/image.js, is loaded before it.
(() => {
  'use strict';

  const input = document.getElementById('outil-photo');
  const tool = document.getElementById('outil');
  if (!input || !tool || !window.PassImage || !window.Blob || !window.URL || !document.createElement('canvas').toBlob) return;
  // The form's limit, in bytes (10^6 to the « Mo », as the handler counts), and as the pages write it.
  const MAX_BYTES = Number(tool.dataset.maxPhotoBytes);
  const MAX_TEXT = tool.dataset.maxPhoto;
  if (!(MAX_BYTES > 0) || !MAX_TEXT) return;
  const { formatSize, isHeic, decode, reduce } = window.PassImage; // static/image.js
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

  // At most 2000 pixels on the longest side: far more than an ID photo needs, and small enough
  // to stay far under the limit. The best quality, then the largest size, that fits MAX_BYTES.
  const JPEG = { maxSide: 2000, maxBytes: MAX_BYTES, rounds: 6, qualities: [0.92, 0.85, 0.78, 0.7], shrink: 0.75 };

  const TEXT = {
    working: 'Réduction de la photo en cours…',
    done: 'La photo est réduite. Vérifiez l’aperçu, puis téléchargez-la.',
    alreadySmall: `Cette photo ne dépasse pas ${MAX_TEXT} : le formulaire de demande l’accepte telle quelle. Voici tout de même une copie plus légère, si vous la préférez.`,
    heic: 'Cette photo est au format HEIC, celui des iPhone, que ce navigateur ne sait pas lire. Sur l’iPhone, ouvrez Réglages > Appareil photo > Formats et choisissez « Le plus compatible » avant de reprendre la photo, ou enregistrez-la au format JPEG, puis choisissez ce fichier.',
    unreadable: 'Ce fichier n’est pas une photo que ce navigateur sait lire. Choisissez une photo au format JPEG, PNG ou WebP.',
    failed: `La photo n’a pas pu être ramenée sous ${MAX_TEXT}. Choisissez une autre photo, ou prenez-la de nouveau.`,
  };

  const number = new Intl.NumberFormat('fr-FR');
  const describe = (bytes, width, height, format) =>
    `${formatSize(bytes)}, ${number.format(width)} × ${number.format(height)} pixels${format ? `, ${format}` : ''}`;

  const FORMATS = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/webp': 'WebP', 'image/heic': 'HEIC' };

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
      reduced = await reduce(decoded.source, decoded.width, decoded.height, JPEG);
    } catch {
      reduced = null;
    } finally {
      decoded.release();
    }
    if (ticket !== latest) return;
    // reduce() gives back its last try when none fits: that one is too heavy too.
    if (!reduced || reduced.blob.size > MAX_BYTES) {
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
