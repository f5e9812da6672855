// The request form, improved: the server's checks live beside each field, the photo taken with
// the webcam or chosen, reduced in the browser and framed at 35:45, the request posted with fetch
// and the receipt shown in the page, with the values the handler stored. On a shared computer the
// receipt and the answers kept for a retry do not stay behind (see KEEP_MS).
//
// A classic script, not a module: Chromium refuses module scripts on file:// pages. No
// dependency and nothing loaded from elsewhere. Without it (or in a browser too old for it) the
// form posts as plain HTML and the handler answers with its own receipt page.
//
// The rules below mirror form/src/validate.rs (and the photo limits of handler/src/photo.rs);
// the texts come from content/form.toml through the JSON embedded in the page, so a school's
// edits reach both sides.
(() => {
  'use strict';

  const form = document.getElementById('form-demande');
  const schemaScript = document.getElementById('form-schema');
  if (!form || !schemaScript || !window.PassImage || !window.fetch || !window.FormData || !window.Blob || !''.normalize) {
    return;
  }
  let schema;
  try {
    schema = JSON.parse(schemaScript.textContent);
  } catch {
    return;
  }

  const { formatSize, isHeic, decode, reduce } = window.PassImage; // static/image.js
  const $ = (id) => document.getElementById(id);
  const fields = new Map(schema.fields.map((field) => [field.name, field]));
  const rules = schema.rules;

  // The largest body the handler takes (form::limits::MAX_BODY_BYTES, written into the page by the
  // generator): a Function URL hands the body over base64-encoded inside a 6 MiB payload. Above
  // it AWS itself would refuse the request, in English, before the handler runs.
  const MAX_BODY_BYTES = Number(form.dataset.maxBody) || Infinity;
  // The uploaded photo: longest side and size budget. The text fields weigh a few kilobytes, so
  // 1 MB leaves a wide margin under MAX_BODY_BYTES and keeps slow uploads short. Should no JPEG
  // fit, the last one tried is still offered: send() weighs the whole body before it goes.
  const UPLOAD_JPEG = { maxSide: 1600, maxBytes: 1000000, rounds: 5, qualities: [0.9, 0.82, 0.74, 0.66], shrink: 0.8 };
  // handler/src/photo.rs: the smallest 35:45 frame the server accepts, and the output height,
  // below which zooming further would only enlarge pixels.
  const MIN_FRAME_WIDTH = 234;
  const MIN_FRAME_HEIGHT = 300;
  const OUTPUT_HEIGHT = 531;
  const FRAME_RATIO = 35 / 45;
  const SEND_TIMEOUT_MS = 90000;
  // sessionStorage only: personal data must not outlive the browser tab.
  const VALUES_KEY = 'passregion-demande';
  const RECEIPT_KEY = 'passregion-recu';
  // How long the receipt (name, dossier number) and the answers kept for a retry may stay in the
  // tab: enough to take the screenshot, print the slip or reload by mistake, short enough that on
  // a shared computer (CDI, computer room) the next student does not find them. Each copy in
  // sessionStorage carries its expiry time (the answers: KEEP_MS after the last change). The
  // receipt goes earlier once printed or once the page is left. The one place this time is set.
  const KEEP_MS = 30 * 60 * 1000;
  // How often an open page compares the clock with those expiry times: a single long timer would
  // be late after the computer slept.
  const EXPIRY_CHECK_MS = 15 * 1000;

  const TEXT = {
    summaryFields: 'Quelques réponses à corriger',
    summaryFieldsIntro: 'Votre demande n’est pas encore envoyée. Corrigez ces points, puis envoyez-la de nouveau :',
    summaryOther: 'Votre demande n’est pas encore envoyée',
    offline: 'Votre appareil n’est pas connecté à internet : la demande n’est pas partie. Vos réponses restent sur cette page. Reconnectez-vous (Wi-Fi ou données mobiles), puis appuyez de nouveau sur « Envoyer ma demande ».',
    network: 'La demande n’a pas pu être envoyée, sans doute à cause de la connexion. Vos réponses restent sur cette page. Vérifiez la connexion, puis appuyez de nouveau sur « Envoyer ma demande » : vous n’obtiendrez qu’un seul numéro de dossier.',
    unavailable: 'L’enregistrement des demandes ne répond pas pour le moment et votre demande n’est pas encore enregistrée. Réessayez dans quelques minutes : vous n’obtiendrez qu’un seul numéro de dossier.',
    unexpected: 'Une erreur inattendue a empêché d’enregistrer votre demande. Vos réponses restent sur cette page : réessayez dans quelques minutes.',
    sending: 'Envoi de votre demande en cours…',
    preparing: 'Préparation de la photo…',
    heic: 'Cette photo est au format HEIC, celui des iPhone, que ce navigateur ne sait pas lire. Sur l’iPhone, ouvrez Réglages > Appareil photo > Formats et choisissez « Le plus compatible » avant de reprendre la photo, ou enregistrez-la au format JPEG, puis choisissez ce fichier.',
    unreadable: 'Ce fichier n’est pas une photo que ce navigateur sait lire. Choisissez une photo au format JPEG (celui des appareils photo et de la plupart des téléphones), PNG ou WebP.',
    tooSmall: (w, h) => `Cette photo est trop petite (${w} × ${h} pixels) : une photo d’identité nette demande au moins ${MIN_FRAME_WIDTH} × ${MIN_FRAME_HEIGHT} pixels autour du visage. Choisissez la photo d’origine plutôt qu’une miniature ou une image reçue par messagerie.`,
    ready: (w, h, size) => `Photo prête (${w} × ${h} pixels, ${size}). Ajustez-la au cadre ci-dessous.`,
    cameraDenied: 'L’accès à la caméra a été refusé. Autorisez-le dans les réglages du navigateur, ou choisissez plutôt un fichier.',
    cameraMissing: 'Aucune caméra n’a été trouvée sur cet appareil : choisissez plutôt un fichier.',
    cameraBusy: 'La caméra est déjà utilisée par une autre application : fermez-la, puis réessayez.',
    cameraFailed: 'La caméra n’a pas pu démarrer : choisissez plutôt un fichier.',
    copied: 'Numéro copié.',
    copyFailed: 'La copie n’a pas marché : le numéro est sélectionné, copiez-le à la main.',
    tooHeavy: (size, max) =>
      `Avec cette photo, votre demande pèse ${size} : c’est plus que les ${max} acceptés à l’envoi, et elle n’est pas partie. Prenez ou choisissez une autre photo, puis envoyez de nouveau la demande.`,
    conflict: 'Ce formulaire avait déjà été envoyé avec d’autres réponses : cette version n’a pas été enregistrée. Vérifiez vos réponses, puis appuyez de nouveau sur « Envoyer ma demande » pour les envoyer comme une nouvelle demande.',
    forbidden: 'Le service qui reçoit les demandes n’accepte pas celles envoyées depuis cette page : votre demande n’est pas enregistrée. Prévenez l’établissement.',
    yes: 'Oui',
    no: 'Non',
    receiptPrinted: 'Après l’impression, le reçu n’est plus affiché, pour protéger vos informations si cet appareil est partagé : votre numéro de dossier figure sur le document imprimé et sur votre capture d’écran.',
    receiptExpired: `Le reçu de la dernière demande n’est plus affiché : il s’efface au bout de ${KEEP_MS / 60000} minutes, ou dès que l’on quitte la page, pour protéger les informations personnelles si cet appareil est partagé.`,
  };

  // ---------------------------------------------------------------- the server's rules

  const LETTER = /\p{Alphabetic}/u;
  const MARK = /\p{M}/u;
  const ALPHANUMERIC = /[\p{Alphabetic}\p{N}]/u;
  const CONTROL = /\p{Cc}/u;
  const SPACE = /\p{White_Space}/u;
  const encoder = new TextEncoder();

  const trim = (value) => value.replace(/^\p{White_Space}+|\p{White_Space}+$/gu, '');
  /** NFC, trimmed, inner runs of spaces collapsed (validate.rs `clean`). */
  const clean = (value) => value.normalize('NFC').split(/\p{White_Space}+/u).filter(Boolean).join(' ');
  const chars = (value) => Array.from(value).length;

  /** Letters (a combining mark after a letter too), spaces, hyphens, apostrophes; one letter at least. */
  function isName(value) {
    let previousIsLetter = false;
    for (const c of value) {
      const letter = LETTER.test(c) || (previousIsLetter && MARK.test(c));
      if (!letter && !" -'’".includes(c)) return false;
      previousIsLetter = letter;
    }
    return LETTER.test(value);
  }

  const isFreeText = (value) => !CONTROL.test(value) && ALPHANUMERIC.test(value);

  const daysInMonth = (year, month) => new Date(Date.UTC(year, month, 0)).getUTCDate();

  /** `YYYY-MM-DD`, or `DD/MM/YYYY` with `/`, `.` or `-`; null unless a real date. */
  function parseDate(value) {
    const parts = value.split(/[-/.]/);
    if (parts.length !== 3) return null;
    const [a, b, c] = parts;
    const number = (s, min, max) => (s.length >= min && s.length <= max && /^[0-9]+$/.test(s) ? Number(s) : null);
    let year;
    let month;
    let day;
    if (a.length === 4) {
      if (/[/.]/.test(value)) return null;
      [year, month, day] = [number(a, 4, 4), number(b, 2, 2), number(c, 2, 2)];
    } else {
      [year, month, day] = [number(c, 4, 4), number(b, 1, 2), number(a, 1, 2)];
    }
    if (year === null || month === null || day === null) return null;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    return { year, month, day };
  }

  function today() {
    const now = new Date();
    return { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };
  }

  const compareDates = (a, b) => a.year - b.year || a.month - b.month || a.day - b.day;

  /** Whole years on `on` of someone born on `birth` (validate.rs `age_on`). */
  const ageOn = (birth, on) =>
    on.year - birth.year - (on.month < birth.month || (on.month === birth.month && on.day < birth.day) ? 1 : 0);

  /** The same day `years` earlier, 29 February clamped (schema.rs `years_before`). */
  function yearsBefore(date, years) {
    const year = date.year - years;
    return { year, month: date.month, day: Math.min(date.day, daysInMonth(year, date.month)) };
  }

  const isoDate = (d) => `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;

  function normaliseEmail(value) {
    const at = value.indexOf('@');
    if (at < 0) return null;
    const local = value.slice(0, at);
    const domain = value.slice(at + 1);
    const localOk =
      local !== '' &&
      !local.startsWith('.') &&
      !local.endsWith('.') &&
      !local.includes('..') &&
      !Array.from(local).some((c) => SPACE.test(c) || CONTROL.test(c) || '@"(),:;<>[\\]'.includes(c));
    const labels = domain.split('.');
    const labelOk = (label) =>
      label !== '' &&
      !label.startsWith('-') &&
      !label.endsWith('-') &&
      Array.from(label).every((c) => ALPHANUMERIC.test(c) || c === '-');
    const domainOk = labels.length >= 2 && labels.every(labelOk) && chars(labels[labels.length - 1]) >= 2;
    return localOk && domainOk ? `${local}@${domain.toLowerCase()}` : null;
  }

  /** A French number in any usual writing, in E.164; null when it is not one. */
  function normalisePhone(value) {
    const compact = Array.from(value)
      .filter((c) => !(SPACE.test(c) || '.-()'.includes(c)))
      .join('');
    let national;
    const rest = compact.startsWith('+33') ? compact.slice(3) : compact.startsWith('0033') ? compact.slice(4) : null;
    if (rest !== null) {
      if (rest.length === 10) {
        if (!rest.startsWith('0')) return null;
        national = rest.slice(1);
      } else {
        national = rest;
      }
    } else {
      if (!compact.startsWith('0')) return null;
      national = compact.slice(1);
    }
    return /^[1-9][0-9]{8}$/.test(national) ? `+33${national}` : null;
  }

  const control = (name) => form.elements.namedItem(name);

  /** The message for field `name` as it stands, or '' when it is right. */
  function check(name) {
    const field = fields.get(name);
    if (!field) return '';
    const message = (kind) => field.messages[kind] || '';
    const input = control(name);
    const raw = input && 'value' in input ? input.value : '';
    if (encoder.encode(raw).length > rules.max_field_bytes) {
      return message(field.max_length ? 'too_long' : 'invalid');
    }
    const tooLong = (value) => field.max_length && chars(value) > field.max_length;
    switch (name) {
      case 'charte':
        return input.checked ? '' : message('required');
      case 'nom':
      case 'prenom':
      case 'commune':
      case 'adresse':
      case 'etablissement': {
        const value = clean(raw);
        if (!value) return message('required');
        const ok = name === 'adresse' || name === 'etablissement' ? isFreeText(value) : isName(value);
        if (!ok) return message('invalid');
        return tooLong(value) ? message('too_long') : '';
      }
      case 'date_naissance': {
        if (input.validity && input.validity.badInput) return message('invalid');
        const value = clean(raw);
        if (!value) return message('required');
        const date = parseDate(value);
        if (!date) return message('invalid');
        const now = today();
        if (compareDates(date, now) > 0) return message('future');
        const age = ageOn(date, now);
        if (age < rules.age_min) return message('too_young');
        if (age > rules.age_max) return message('too_old');
        return '';
      }
      case 'email': {
        const value = trim(raw);
        if (!value) return message('required');
        const email = normaliseEmail(value);
        if (!email) return message('invalid');
        return tooLong(email) ? message('too_long') : '';
      }
      case 'code_postal': {
        const digits = Array.from(raw).filter((c) => !SPACE.test(c)).join('');
        if (!digits) return message('required');
        return /^[0-9]{5}$/.test(digits) ? '' : message('invalid');
      }
      case 'telephone': {
        const value = trim(raw);
        return !value || normalisePhone(value) ? '' : message('invalid');
      }
      case 'filiere': {
        const value = clean(raw);
        if (!value) return message('required');
        return field.options.includes(value) ? '' : message('invalid');
      }
      case 'photo':
        return photo.blob ? '' : message('required');
      default:
        return '';
    }
  }

  /** The fields checked in the page: every field a person fills in. */
  const checkedFields = schema.fields.filter((field) => field.kind !== 'hidden').map((field) => field.name);

  // ---------------------------------------------------------------- errors on the page

  const summary = $('form-summary');
  const errors = new Map();
  let generalMessage = '';
  let summaryShown = false;

  /** Shows `message` under field `name` (or clears it), with aria-invalid on the input. */
  function setError(name, message) {
    // The crop and the submission id are hidden: their errors belong to the photo, or to the form.
    if (name === 'recadrage') name = 'photo';
    const box = $(`${name}-error`);
    if (!box) return false;
    box.textContent = message;
    const input = $(name);
    if (input) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    const wrapper = $(`field-${name}`);
    if (wrapper) wrapper.classList.toggle('has-error', Boolean(message));
    if (message) errors.set(name, message);
    else errors.delete(name);
    if (summaryShown) renderSummary();
    return true;
  }

  function renderSummary() {
    const list = $('form-summary-list');
    list.textContent = '';
    for (const name of checkedFields) {
      const message = errors.get(name);
      if (!message) continue;
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = `#${name}`;
      link.dataset.field = name;
      link.textContent = message;
      item.append(link);
      list.append(item);
    }
    const hasFields = list.children.length > 0;
    $('form-summary-title').textContent = hasFields ? TEXT.summaryFields : TEXT.summaryOther;
    $('form-summary-message').textContent = generalMessage || (hasFields ? TEXT.summaryFieldsIntro : '');
    list.hidden = !hasFields;
    summary.hidden = !hasFields && !generalMessage;
    if (summary.hidden) {
      summaryShown = false;
      if (state() === 'error') setState('empty');
    }
  }

  /**
   * Brings `element` to the top of the screen at once: the page's smooth scrolling would leave
   * a screenshot taken right away (what students are told to do) showing the wrong part.
   */
  function jumpTo(element) {
    try {
      element.scrollIntoView({ block: 'start', behavior: 'instant' });
    } catch {
      element.scrollIntoView(true); // browsers that do not know `instant`
    }
  }

  /** Shows the summary (field errors and `general`), moves focus to it and sets the error state. */
  function showSummary(general) {
    generalMessage = general || '';
    summaryShown = true;
    renderSummary();
    setState('error');
    summary.hidden = false;
    summary.focus();
    jumpTo(summary);
  }

  summary.addEventListener('click', (event) => {
    const link = event.target.closest('a[data-field]');
    if (!link) return;
    event.preventDefault();
    const name = link.dataset.field;
    const target = name === 'photo' && !$('cadrage').hidden ? $('cadre') : $(name);
    const wrapper = $(`field-${name}`) || target;
    wrapper.scrollIntoView({ block: 'start' });
    target.focus({ preventScroll: true });
  });

  const state = () => form.dataset.state;
  function setState(next) {
    form.dataset.state = next;
    document.documentElement.classList.toggle('is-receipt', next === 'receipt');
  }

  // Live checks: a field is checked when left (if something was typed or it already shows an
  // error) and when changed; a shown error disappears as soon as the field is right.
  const isChecked = (target) => target && target.name && checkedFields.includes(target.name) && target.name !== 'photo';
  form.addEventListener('focusout', (event) => {
    const target = event.target;
    if (!isChecked(target) || target.type === 'checkbox') return;
    const typed = target.value !== '' || (target.validity && target.validity.badInput);
    if (typed || errors.has(target.name)) setError(target.name, check(target.name));
  });
  form.addEventListener('change', (event) => {
    const target = event.target;
    if (isChecked(target) && (target.type === 'checkbox' || target.tagName === 'SELECT' || target.type === 'date')) {
      setError(target.name, check(target.name));
    }
  });
  form.addEventListener('input', (event) => {
    const target = event.target;
    if (isChecked(target) && errors.has(target.name) && check(target.name) === '') setError(target.name, '');
  });

  /** Checks every field; returns true when all are right. */
  function checkAll() {
    let ok = true;
    for (const name of checkedFields) {
      const message = check(name);
      setError(name, message);
      if (message) ok = false;
    }
    return ok;
  }

  // ---------------------------------------------------------------- what is typed survives a reload

  const storage = (() => {
    try {
      const s = window.sessionStorage;
      s.setItem('passregion-test', '1');
      s.removeItem('passregion-test');
      return s;
    } catch {
      return null;
    }
  })();

  const readStored = (key) => {
    try {
      return JSON.parse(storage && storage.getItem(key));
    } catch {
      return null;
    }
  };
  const writeStored = (key, value) => {
    try {
      if (storage) storage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage full or refused: the page still works, only a reload would lose the answers.
    }
  };
  /** The time from now, in milliseconds, until which a copy written now may be kept. */
  const expiryFromNow = () => Date.now() + KEEP_MS;
  /**
   * Whether a stored copy is still within its time. One whose expiry lies further ahead than
   * KEEP_MS was written before the clock was put back: expired too.
   */
  const isLive = (stored) => {
    const left = stored && typeof stored.expiresAt === 'number' ? stored.expiresAt - Date.now() : 0;
    return left > 0 && left <= KEEP_MS;
  };
  /** Takes the receipt and the answers out of the tab's storage. */
  const forgetStored = () => {
    if (!storage) return;
    storage.removeItem(RECEIPT_KEY);
    storage.removeItem(VALUES_KEY);
  };

  /** The inputs whose values are kept: what a person types or chooses, not the photo. */
  const keptInputs = () =>
    Array.from(form.elements).filter(
      (el) => el.name && checkedFields.includes(el.name) && el.type !== 'file' && !el.readOnly,
    );

  const submissionInput = control('submission_id');
  const cropInput = control('recadrage');

  function newSubmissionId() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** Keeps what is typed for a reload, until `expiresAt` (by default KEEP_MS from now). */
  function saveValues(expiresAt) {
    const values = {};
    const checked = {};
    for (const el of keptInputs()) {
      if (el.type === 'checkbox') checked[el.name] = el.checked;
      else values[el.name] = el.value;
    }
    const until = typeof expiresAt === 'number' ? expiresAt : expiryFromNow();
    writeStored(VALUES_KEY, { values, checked, submission: submissionInput.value, expiresAt: until });
  }

  function restoreValues() {
    let stored = readStored(VALUES_KEY);
    if (stored && !isLive(stored)) {
      storage.removeItem(VALUES_KEY);
      stored = null;
    }
    if (stored && typeof stored === 'object') {
      for (const el of keptInputs()) {
        if (el.type === 'checkbox' && stored.checked && typeof stored.checked[el.name] === 'boolean') {
          el.checked = stored.checked[el.name];
        } else if (el.type !== 'checkbox' && stored.values && typeof stored.values[el.name] === 'string') {
          el.value = stored.values[el.name];
        }
      }
    }
    // One id per request, kept across retries and reloads: the handler recognises a request sent
    // twice and answers with the same dossier number.
    submissionInput.value = (stored && typeof stored.submission === 'string' && stored.submission) || newSubmissionId();
    // A reload does not give the answers more time: only a change does.
    saveValues(stored ? stored.expiresAt : undefined);
  }

  form.addEventListener('input', () => saveValues());
  form.addEventListener('change', () => saveValues());

  // ---------------------------------------------------------------- the photo

  const photoInput = $('photo');
  const cameraInput = $('photo-camera');
  const photoStatus = $('photo-etat');
  const cropper = $('cadrage');
  const frame = $('cadre');
  // The <img> is made here: an empty one in the HTML would be invalid.
  const frameImage = document.createElement('img');
  frameImage.className = 'crop-image';
  frameImage.id = 'cadre-image';
  frameImage.alt = '';
  frameImage.draggable = false;
  frame.prepend(frameImage);
  const zoomRange = $('zoom');
  /** The photo as it will be sent: an upright JPEG, its size, and the crop in its pixels. */
  const photo = { blob: null, url: '', width: 0, height: 0 };
  /** The crop: zoom (1 = the largest frame) and centre, in pixels of the uploaded photo. */
  const crop = { zoom: 1, maxZoom: 1, cx: 0, cy: 0, coverWidth: 0, coverHeight: 0 };

  function setPhotoStatus(text) {
    photoStatus.textContent = text;
  }

  // Each photo chosen or taken gets a number: when a second one comes while the first is still
  // being prepared, only the latest is kept.
  let photoTicket = 0;

  /** Forgets the photo, so that a refused one never leaves an earlier one to be sent. */
  function clearPhoto() {
    photoTicket++; // a photo still being prepared is dropped too
    if (photo.url) URL.revokeObjectURL(photo.url);
    Object.assign(photo, { blob: null, url: '', width: 0, height: 0 });
    frameImage.removeAttribute('src');
    cropper.hidden = true;
    cropInput.value = '';
    setPhotoStatus('');
  }

  /** Refuses the photo with `message`. */
  function refusePhoto(message) {
    clearPhoto();
    setError('photo', message);
  }

  /** Takes a chosen or captured file. */
  async function usePhotoFile(file) {
    if (!file) return;
    const ticket = ++photoTicket;
    closeWebcam();
    setPhotoStatus(TEXT.preparing);
    let decoded;
    try {
      decoded = await decode(file);
    } catch {
      const message = (await isHeic(file)) ? TEXT.heic : TEXT.unreadable;
      if (ticket === photoTicket) refusePhoto(message);
      return;
    }
    try {
      await usePhotoSource(decoded.source, decoded.width, decoded.height, ticket);
    } finally {
      decoded.release();
    }
  }

  /** The height of the largest 35:45 frame in a `width`×`height` image. */
  const coverHeightOf = (width, height) => Math.min(height, width / FRAME_RATIO);

  /** Checks, reduces and shows an upright image (a decoded file or a webcam frame). */
  async function usePhotoSource(source, width, height, ticket) {
    if (ticket !== photoTicket) return;
    if (coverHeightOf(width, height) < MIN_FRAME_HEIGHT) {
      refusePhoto(TEXT.tooSmall(width, height));
      return;
    }
    setPhotoStatus(TEXT.preparing);
    let reduced;
    try {
      reduced = await reduce(source, width, height, UPLOAD_JPEG);
    } catch {
      reduced = null;
    }
    if (ticket !== photoTicket) return;
    if (!reduced) {
      refusePhoto(TEXT.unreadable);
      return;
    }
    // A panorama reduced to 1600 pixels wide may keep too few rows for the handler's frame.
    if (coverHeightOf(reduced.width, reduced.height) < MIN_FRAME_HEIGHT) {
      refusePhoto(TEXT.tooSmall(width, height));
      return;
    }
    if (photo.url) URL.revokeObjectURL(photo.url);
    photo.blob = reduced.blob;
    photo.width = reduced.width;
    photo.height = reduced.height;
    photo.url = URL.createObjectURL(reduced.blob);
    frameImage.src = photo.url;
    startCrop();
    setError('photo', '');
    setPhotoStatus(TEXT.ready(photo.width, photo.height, formatSize(photo.blob.size)));
  }

  /** The photo being prepared, which a send waits for (null when none is). */
  let photoWork = null;
  const track = (work) => {
    const settled = work.catch(() => {}).then(() => {
      if (photoWork === settled) photoWork = null;
    });
    photoWork = settled;
    return work;
  };

  photoInput.addEventListener('change', () => {
    if (photoInput.files && photoInput.files[0]) track(usePhotoFile(photoInput.files[0]));
  });
  cameraInput.addEventListener('change', () => {
    if (!cameraInput.files || !cameraInput.files[0]) return;
    // The photo now comes from the camera: the file input no longer names the one in use.
    photoInput.value = '';
    track(usePhotoFile(cameraInput.files[0]));
  });

  // ---------------------------------------------------------------- the crop frame

  const clamp = (value, min, max) => Math.min(max, Math.max(min, value));

  function cropRect() {
    const width = crop.coverWidth / crop.zoom;
    const height = crop.coverHeight / crop.zoom;
    return { x: crop.cx - width / 2, y: crop.cy - height / 2, width, height };
  }

  /** Keeps the frame inside the photo. */
  function clampCrop() {
    crop.zoom = clamp(crop.zoom, 1, crop.maxZoom);
    const { width, height } = cropRect();
    crop.cx = clamp(crop.cx, width / 2, photo.width - width / 2);
    crop.cy = clamp(crop.cy, height / 2, photo.height - height / 2);
  }

  /** The default frame, as the handler would choose it: the largest, centred, a quarter of the spare height above. */
  function resetCrop() {
    crop.zoom = 1;
    crop.cx = photo.width / 2;
    crop.cy = (photo.height - crop.coverHeight) * 0.25 + crop.coverHeight / 2;
    renderCrop();
  }

  function startCrop() {
    crop.coverHeight = coverHeightOf(photo.width, photo.height);
    crop.coverWidth = crop.coverHeight * FRAME_RATIO;
    // Zoom until the frame is as small as the photo made by the handler, never below the least it accepts.
    const smallest = clamp(OUTPUT_HEIGHT, MIN_FRAME_HEIGHT, crop.coverHeight);
    crop.maxZoom = Math.max(1, crop.coverHeight / smallest);
    zoomRange.max = String(crop.maxZoom);
    cropper.hidden = false;
    resetCrop();
  }

  /** Draws the photo in the frame and writes `recadrage`: `x,y,w,h` in pixels of the uploaded photo. */
  function renderCrop() {
    if (!photo.blob) return;
    clampCrop();
    const rect = cropRect();
    const frameWidth = frame.clientWidth;
    if (frameWidth > 0) {
      const scale = frameWidth / rect.width;
      frameImage.style.width = `${photo.width * scale}px`;
      frameImage.style.height = `${photo.height * scale}px`;
      frameImage.style.transform = `translate(${-rect.x * scale}px, ${-rect.y * scale}px)`;
    }
    zoomRange.value = String(crop.zoom);
    zoomRange.setAttribute('aria-valuetext', `${Math.round(crop.zoom * 100)} %`);
    const w = clamp(Math.round(rect.width), 1, photo.width);
    const h = clamp(Math.round(rect.height), 1, photo.height);
    const x = clamp(Math.round(rect.x), 0, photo.width - w);
    const y = clamp(Math.round(rect.y), 0, photo.height - h);
    cropInput.value = `${x},${y},${w},${h}`;
  }

  /** Moves the photo by (dx, dy) pixels of the screen: the frame moves the other way. */
  function movePhoto(dx, dy) {
    const scale = frame.clientWidth / cropRect().width;
    if (!(scale > 0)) return;
    crop.cx -= dx / scale;
    crop.cy -= dy / scale;
    renderCrop();
  }

  function zoomTo(zoom) {
    crop.zoom = zoom;
    renderCrop();
  }

  const pointers = new Map();
  let pinch = null;
  frame.addEventListener('pointerdown', (event) => {
    if (!photo.blob) return;
    frame.setPointerCapture(event.pointerId);
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), zoom: crop.zoom };
    }
    frame.classList.add('is-dragging');
  });
  frame.addEventListener('pointermove', (event) => {
    const last = pointers.get(event.pointerId);
    if (!last) return;
    const current = { x: event.clientX, y: event.clientY };
    pointers.set(event.pointerId, current);
    if (pointers.size === 1) {
      movePhoto(current.x - last.x, current.y - last.y);
    } else if (pinch && pointers.size === 2) {
      const [a, b] = Array.from(pointers.values());
      const distance = Math.hypot(a.x - b.x, a.y - b.y);
      if (pinch.distance > 0) zoomTo(pinch.zoom * (distance / pinch.distance));
    }
  });
  const endPointer = (event) => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (pointers.size === 0) frame.classList.remove('is-dragging');
  };
  frame.addEventListener('pointerup', endPointer);
  frame.addEventListener('pointercancel', endPointer);
  frame.addEventListener(
    'wheel',
    (event) => {
      if (!photo.blob) return;
      event.preventDefault();
      zoomTo(crop.zoom * Math.exp(-event.deltaY * 0.002));
    },
    { passive: false },
  );
  frame.addEventListener('keydown', (event) => {
    const step = frame.clientWidth * (event.shiftKey ? 0.2 : 0.05);
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (moves[event.key]) movePhoto(...moves[event.key]);
    else if (event.key === '+' || event.key === '=') zoomTo(crop.zoom + 0.1);
    else if (event.key === '-' || event.key === '−' || event.key === '_') zoomTo(crop.zoom - 0.1);
    else if (event.key === '0') resetCrop();
    else return;
    event.preventDefault();
  });
  zoomRange.addEventListener('input', () => zoomTo(Number(zoomRange.value)));
  $('zoom-plus').addEventListener('click', () => zoomTo(crop.zoom + 0.1));
  $('zoom-moins').addEventListener('click', () => zoomTo(crop.zoom - 0.1));
  $('recentrer').addEventListener('click', resetCrop);
  for (const button of cropper.querySelectorAll('[data-dx]')) {
    button.addEventListener('click', () => {
      const step = frame.clientWidth * 0.05;
      movePhoto(Number(button.dataset.dx) * step, Number(button.dataset.dy) * step);
    });
  }
  if (window.ResizeObserver) new ResizeObserver(() => renderCrop()).observe(frame);
  else window.addEventListener('resize', renderCrop);

  // ---------------------------------------------------------------- the webcam

  const webcam = $('webcam');
  const video = $('webcam-video');
  let stream = null;

  function closeWebcam() {
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    video.srcObject = null;
    webcam.hidden = true;
  }

  async function openWebcam() {
    setError('photo', '');
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 1920 }, height: { ideal: 1080 } },
        audio: false,
      });
    } catch (error) {
      const name = error && error.name;
      const message =
        name === 'NotAllowedError' || name === 'SecurityError'
          ? TEXT.cameraDenied
          : name === 'NotFoundError' || name === 'OverconstrainedError'
            ? TEXT.cameraMissing
            : name === 'NotReadableError'
              ? TEXT.cameraBusy
              : TEXT.cameraFailed;
      setError('photo', message);
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
    $('webcam-prendre').focus({ preventScroll: true });
  }

  async function shoot() {
    const width = video.videoWidth;
    const height = video.videoHeight;
    if (!width || !height) return;
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    canvas.getContext('2d').drawImage(video, 0, 0, width, height);
    closeWebcam();
    photoInput.value = '';
    await track(usePhotoSource(canvas, width, height, ++photoTicket));
    if (photo.blob) frame.focus();
  }

  $('webcam-ouvrir').addEventListener('click', openWebcam);
  $('webcam-prendre').addEventListener('click', shoot);
  $('webcam-annuler').addEventListener('click', () => {
    closeWebcam();
    $('webcam-ouvrir').focus();
  });

  // ---------------------------------------------------------------- sending

  const submitButton = $('envoyer');
  const sendStatus = $('envoi-etat');

  /**
   * The size of `data` once encoded as a multipart body, as this browser encodes it (the body
   * sent has another boundary of the same length); 0 when the browser cannot tell.
   */
  async function bodySize(data) {
    try {
      return (await new Response(data).blob()).size;
    } catch {
      return 0;
    }
  }

  async function send() {
    setState('sending');
    submitButton.setAttribute('aria-disabled', 'true');
    sendStatus.textContent = TEXT.sending;
    const data = new FormData(form);
    data.delete('photo');
    data.append('photo', photo.blob, 'photo.jpg');
    // Weighed before it goes: AWS would refuse a larger body in English, after the whole upload.
    const size = await bodySize(data);
    if (size > MAX_BODY_BYTES) {
      submitButton.removeAttribute('aria-disabled');
      sendStatus.textContent = '';
      setError('photo', TEXT.tooHeavy(formatSize(size), formatSize(MAX_BODY_BYTES)));
      showSummary('');
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), SEND_TIMEOUT_MS);
    let response = null;
    let body = null;
    try {
      response = await fetch(form.action, {
        method: 'POST',
        body: data,
        headers: { Accept: 'application/json' },
        credentials: 'omit',
        signal: abort.signal,
      });
      body = await response.json().catch(() => null);
    } catch {
      response = null;
    } finally {
      clearTimeout(timer);
      submitButton.removeAttribute('aria-disabled');
      sendStatus.textContent = '';
    }
    if (!response) {
      showSummary(navigator.onLine === false ? TEXT.offline : TEXT.network);
      return;
    }
    if (response.ok && body && typeof body.dossier === 'string') {
      showReceipt({
        dossier: body.dossier,
        receivedAt: typeof body.received_at === 'string' ? body.received_at : new Date().toISOString(),
        replay: body.replay === true,
        // What the handler stored, never what the inputs hold: after a replay the inputs may have
        // been edited, and the stored values are the normalised ones (trimmed, NFC, the e-mail's
        // domain in punycode).
        demande: storedValues(body.demande),
      });
      return;
    }
    if (response.status === 422 && body && body.errors && typeof body.errors === 'object') {
      const others = [];
      for (const [name, message] of Object.entries(body.errors)) {
        if (typeof message !== 'string') continue;
        if (!setError(name, message)) others.push(message);
      }
      showSummary(others.join(' '));
      return;
    }
    const serverMessage = body && typeof body.error === 'string' ? body.error : '';
    if (response.status === 409) {
      // This submission id already names a request with other answers: an earlier send got
      // through (its answer lost, or the tab restored) and the answers were edited since. Nothing
      // was stored or changed, and the same id would only be refused again. A fresh id makes the
      // next deliberate send (the student has read the message and presses « Envoyer » again) a
      // new request with what the page shows now. Nothing sends by itself, so this cannot make
      // a second request behind anyone's back.
      submissionInput.value = newSubmissionId();
      saveValues();
      showSummary(serverMessage || TEXT.conflict);
    } else if (response.status === 503) {
      showSummary(serverMessage || TEXT.unavailable);
    } else if (response.status === 403) {
      showSummary(serverMessage || TEXT.forbidden);
    } else {
      showSummary(serverMessage || TEXT.unexpected);
    }
  }

  let waitingForPhoto = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    // A second click while the first send is on its way, or while the photo is being prepared.
    if (state() === 'sending' || waitingForPhoto) return;
    if (photoWork) {
      waitingForPhoto = true;
      try {
        await photoWork;
      } finally {
        waitingForPhoto = false;
      }
    }
    if (!checkAll()) {
      showSummary('');
      return;
    }
    generalMessage = '';
    summaryShown = false;
    summary.hidden = true;
    notice.hidden = true;
    send();
  });

  // ---------------------------------------------------------------- the receipt

  const receipt = $('recu');
  const notice = $('recu-efface');
  /** The receipt on the screen (what is stored, with its expiry), or null. */
  let receiptShown = null;

  function formatDay(iso) {
    const date = new Date(iso);
    const valid = !Number.isNaN(date.getTime());
    return new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long' }).format(valid ? date : new Date());
  }

  /** A stored `YYYY-MM-DD` as a French date (`14 mars 2009`); anything else as it is. */
  function formatBirthDate(value) {
    const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value);
    if (!match) return value;
    const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    return new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' }).format(date);
  }

  /**
   * The receipt's `demande`, the values as the handler stored them, kept to what the page shows;
   * null when the answer has none (a handler older than the page), and the receipt then shows none.
   */
  function storedValues(demande) {
    if (!demande || typeof demande !== 'object') return null;
    const text = (name) => (typeof demande[name] === 'string' ? demande[name] : '');
    return {
      nom: text('nom'),
      prenom: text('prenom'),
      date_naissance: text('date_naissance'),
      email: text('email'),
      etablissement: text('etablissement'),
      filiere: text('filiere'),
      envoi_etablissement: typeof demande.envoi_etablissement === 'boolean' ? demande.envoi_etablissement : null,
    };
  }

  /** Every element of the receipt that holds a personal value, by id. */
  const RECEIPT_TEXTS = [
    'recu-numero',
    'recu-copie-etat',
    'recu-nom',
    'recu-prenom',
    'recu-date_naissance',
    'recu-email',
    'recu-etablissement',
    'recu-filiere',
    'recu-envoi_etablissement',
    'slip-numero',
    'slip-nom',
    'slip-prenom',
    'slip-naissance',
    'slip-filiere',
    'slip-date',
  ];

  function showReceipt(details, restored) {
    const values = storedValues(details.demande);
    const birth = values ? formatBirthDate(values.date_naissance) : '';
    const sent = values && values.envoi_etablissement !== null ? (values.envoi_etablissement ? TEXT.yes : TEXT.no) : '';
    const texts = {
      'recu-numero': details.dossier,
      'recu-nom': values ? values.nom : '',
      'recu-prenom': values ? values.prenom : '',
      'recu-date_naissance': birth,
      'recu-email': values ? values.email : '',
      'recu-etablissement': values ? values.etablissement : '',
      'recu-filiere': values ? values.filiere : '',
      'recu-envoi_etablissement': sent,
      'slip-numero': details.dossier,
      'slip-nom': values ? values.nom : '',
      'slip-prenom': values ? values.prenom : '',
      'slip-naissance': birth,
      'slip-filiere': values ? values.filiere : '',
      'slip-date': formatDay(details.receivedAt),
    };
    for (const [id, text] of Object.entries(texts)) $(id).textContent = text;
    receipt.querySelector('.receipt-values').hidden = !values;
    $('recu-deja').hidden = !details.replay;
    notice.hidden = true;
    form.hidden = true;
    receipt.hidden = false;
    setState('receipt');
    receiptShown = details;
    if (!restored) {
      // Kept for a reload of the tab, until it expires; the answers themselves are no longer needed.
      details.expiresAt = expiryFromNow();
      writeStored(RECEIPT_KEY, details);
      if (storage) storage.removeItem(VALUES_KEY);
      receipt.focus();
      jumpTo(receipt);
    }
  }

  /** Empties the form, photo included, for a new request with a new submission id. */
  function resetForm() {
    form.reset();
    for (const name of checkedFields) setError(name, '');
    generalMessage = '';
    summaryShown = false;
    summary.hidden = true;
    closeWebcam();
    clearPhoto();
    submissionInput.value = newSubmissionId();
    receipt.hidden = true;
    form.hidden = false;
    setState('empty');
  }

  /**
   * Takes the receipt away, from the screen and from storage (the answers kept for a retry go
   * too), empties the form under it, and says why in its place (`why`); focus goes there when
   * `focus` (the person is at the page).
   */
  function expireReceipt(why, focus) {
    forgetStored();
    if (!receiptShown) return;
    receiptShown = null;
    for (const id of RECEIPT_TEXTS) $(id).textContent = '';
    resetForm();
    $('recu-efface-texte').textContent = why;
    notice.hidden = false;
    if (focus) {
      notice.focus();
      jumpTo(notice);
    }
  }

  function newRequest() {
    forgetStored();
    receiptShown = null;
    for (const id of RECEIPT_TEXTS) $(id).textContent = '';
    notice.hidden = true;
    resetForm();
    saveValues();
    form.querySelector('input:not([type=hidden]), select').focus();
  }

  async function copyNumber() {
    const number = $('recu-numero');
    const text = number.textContent;
    let copied = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        copied = true;
      }
    } catch {
      copied = false;
    }
    if (!copied) {
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.className = 'offscreen';
      document.body.append(area);
      area.select();
      try {
        copied = document.execCommand('copy');
      } catch {
        copied = false;
      }
      area.remove();
      $('recu-copier').focus();
    }
    if (!copied) {
      const range = document.createRange();
      range.selectNodeContents(number);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    $('recu-copie-etat').textContent = copied ? TEXT.copied : TEXT.copyFailed;
  }

  $('recu-copier').addEventListener('click', copyNumber);
  $('recu-imprimer').addEventListener('click', () => window.print());
  $('recu-nouvelle').addEventListener('click', newRequest);

  // ---------------------------------------------------------------- the receipt expires

  /** Expires what is past its time: the receipt on the screen, the answers in storage. */
  function checkExpiry() {
    if (receiptShown && !isLive(receiptShown)) expireReceipt(TEXT.receiptExpired, false);
    const values = readStored(VALUES_KEY);
    // The answers on the screen stay: only their copy for a reload goes.
    if (values && !isLive(values)) storage.removeItem(VALUES_KEY);
  }
  setInterval(checkExpiry, EXPIRY_CHECK_MS);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkExpiry();
  });

  // Printed: the slip is on paper, the receipt need not stay on the screen. Browsers fire
  // afterprint for a cancelled print dialog too: the number is then on the screenshot the receipt
  // asks for first.
  window.addEventListener('afterprint', () => {
    if (receiptShown) expireReceipt(TEXT.receiptPrinted, true);
  });

  // Leaving the page. Kept in the back-forward cache (persisted), it may come back: the receipt
  // goes now. Otherwise this may be a reload, which fires pagehide too and cannot be told apart
  // here: the stored receipt is marked as left, and the next load keeps it only for a reload
  // (see the start, below).
  window.addEventListener('pagehide', (event) => {
    if (!receiptShown) return;
    if (event.persisted) {
      expireReceipt(TEXT.receiptExpired, false);
      return;
    }
    const stored = readStored(RECEIPT_KEY);
    if (stored) writeStored(RECEIPT_KEY, { ...stored, leftAt: Date.now() });
  });

  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    // A page left while sending may come back still marked as sending: make it usable again.
    if (state() === 'sending') setState('empty');
    // Back from the cache with a receipt pagehide did not take away: it goes now.
    if (receiptShown) expireReceipt(TEXT.receiptExpired, false);
    checkExpiry();
  });

  /** How this page was reached: `navigate`, `reload`, `back_forward`; '' when unknown. */
  function arrival() {
    try {
      const [entry] = performance.getEntriesByType('navigation');
      return (entry && entry.type) || '';
    } catch {
      return '';
    }
  }

  // ---------------------------------------------------------------- start

  form.noValidate = true;
  const birth = control('date_naissance');
  if (birth && birth.type === 'date') {
    const now = today();
    const latest = yearsBefore(now, rules.age_min);
    const earliest = yearsBefore(now, rules.age_max + 1);
    const next = new Date(Date.UTC(earliest.year, earliest.month - 1, earliest.day + 1));
    birth.max = isoDate(latest);
    birth.min = isoDate({ year: next.getUTCFullYear(), month: next.getUTCMonth() + 1, day: next.getUTCDate() });
  }
  $('photo-sources').hidden = false;
  const coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
  if (coarse) $('photo-camera-choix').hidden = false;
  else if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) $('webcam-ouvrir').hidden = false;
  else $('photo-sources').hidden = true;
  const storedReceipt = readStored(RECEIPT_KEY);
  const isReceipt = storedReceipt && typeof storedReceipt === 'object' && typeof storedReceipt.dossier === 'string';
  if (isReceipt && isLive(storedReceipt) && (!storedReceipt.leftAt || arrival() === 'reload')) {
    // The same page reloaded within the receipt's time: it stays, with its first expiry.
    delete storedReceipt.leftAt;
    writeStored(RECEIPT_KEY, storedReceipt);
    if (storage) storage.removeItem(VALUES_KEY);
    submissionInput.value = newSubmissionId();
    showReceipt(storedReceipt, true);
  } else {
    if (isReceipt) {
      // Expired, or the page was left and opened again: the receipt and the answers go.
      forgetStored();
      $('recu-efface-texte').textContent = TEXT.receiptExpired;
      notice.hidden = false;
    } else if (storedReceipt !== null) {
      storage.removeItem(RECEIPT_KEY);
    }
    restoreValues();
  }
})();
