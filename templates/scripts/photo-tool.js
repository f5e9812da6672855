// photo-tool.js: « Réduire le poids d’une photo », the whole page's script, last of its bundle
// (rules.js, image.js, then this). Owns #outil: the chosen photo (#outil-photo) is decoded
// upright and reduced as the request form reduces it before sending (the contract's
// `limits.upload`), so that what is downloaded is what the form would send, under the photo
// size the form promises (`limits.max_photo_bytes`). Everything happens in the browser: nothing
// is sent, so the page works from file:// with no network.
//
// It reads the same contract as the form, from the same element (<script type="application/json"
// id="form-schema">): the limits, the photo formats (a file that cannot be decoded is told HEIC
// or unsupported by `rules.sniff`, as the function would) and the texts `messages.photo.heic`
// and `.unsupported`. Its own texts, which only this page says, are the page's: data-* of #outil
// in templates/photo-tool.html. Without the contract, or in a browser too old, nothing starts.

/** Starts the photo tool; does nothing when the page cannot take it. */
function startPhotoTool() {
  const input = document.getElementById('outil-photo');
  const tool = document.getElementById('outil');
  const contractScript = document.getElementById('form-schema');
  if (!input || !tool || !contractScript || !window.Blob || !window.URL || !document.createElement('canvas').toBlob) return;
  let contract;
  let rules;
  try {
    contract = JSON.parse(contractScript.textContent);
    if (!contract.limits || !contract.limits.upload || !contract.formats || !contract.messages || !contract.messages.photo) return;
    rules = makeRules(contract);
  } catch {
    return;
  }
  const texts = tool.dataset; // working, done, alreadySmall, failed, previewAlt
  if (!texts.working || !texts.done || !texts.alreadySmall || !texts.failed) return;
  const maxBytes = contract.limits.max_photo_bytes;
  const image = makeImage({ rules, formats: contract.formats });
  const $ = (id) => document.getElementById(id);
  const status = $('outil-etat');
  const result = $('outil-resultat');
  const link = $('outil-telecharger');
  // The preview <img> is made here: an empty one in the HTML would be invalid.
  const preview = document.createElement('img');
  preview.className = 'photo-tool-preview';
  preview.id = 'outil-apercu';
  preview.alt = texts.previewAlt || '';
  $('outil-apercu-cadre').append(preview);

  const number = new Intl.NumberFormat('fr-FR');
  const describe = (bytes, width, height, format) =>
    `${image.formatSize(bytes)}, ${number.format(width)} × ${number.format(height)}\u202fpixels${format ? `, ${format}` : ''}`;

  const FORMATS = { 'image/jpeg': 'JPEG', 'image/png': 'PNG', 'image/webp': 'WebP', 'image/heic': 'HEIC' };

  let url = '';
  // Each choice gets a number: when a photo is chosen while the previous one is still being
  // reduced, only the latest shows its result.
  let latest = 0;

  async function run(file) {
    const ticket = ++latest;
    result.hidden = true;
    status.textContent = texts.working;
    let decoded;
    try {
      decoded = await image.decode(file);
    } catch {
      const message = (await image.sniff(file)) === 'heic' ? contract.messages.photo.heic : contract.messages.photo.unsupported;
      if (ticket === latest) status.textContent = message;
      return;
    }
    let reduced;
    try {
      reduced = await image.reduce(decoded.source, decoded.width, decoded.height, contract.limits.upload);
    } catch {
      reduced = null;
    } finally {
      decoded.release();
    }
    if (ticket !== latest) return;
    // reduce() gives back its last try when none fits: that one may be too heavy too.
    if (!reduced || reduced.blob.size > maxBytes) {
      status.textContent = texts.failed;
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
    status.textContent = file.size <= maxBytes ? texts.alreadySmall : texts.done;
  }

  input.addEventListener('change', () => {
    const file = input.files && input.files[0];
    if (file) run(file);
  });
}

startPhotoTool();
