// wiring.js: the request form's start, last of its bundle (bundles.toml). Owns reading the
// contract the generator wrote into the page (<script type="application/json" id="form-schema">,
// form::Schema::contract_json), building the parts from it, attaching every event listener and
// timer, and the form's data-state (empty | error | sending | receipt), which several parts set.
// Apart so that no other part starts anything: each part is a factory that takes what it needs,
// and this is the one place where they meet and where the page's life begins.
//
// Without JavaScript, in a browser too old for this script, or with a page whose contract lacks
// a part this script reads, nothing starts: the form posts as plain HTML and the function
// answers with its own receipt page.

/** Builds the form's parts and starts them; does nothing when the page cannot take them. */
function startForm() {
  const form = document.getElementById('form-demande');
  const contractScript = document.getElementById('form-schema');
  if (!form || !contractScript || !window.fetch || !window.FormData || !window.Blob || !''.normalize) return;
  let contract;
  let rules;
  try {
    contract = JSON.parse(contractScript.textContent);
    const { limits, formats, messages } = contract;
    if (!limits || !limits.upload || !formats || !messages || !messages.page || !messages.photo || !messages.answer || !messages.account) return;
    rules = makeRules(contract);
  } catch {
    return;
  }
  const $ = (id) => document.getElementById(id);

  const state = Object.freeze({
    get: () => form.dataset.state,
    set(next) {
      form.dataset.state = next;
      document.documentElement.classList.toggle('is-receipt', next === 'receipt');
    },
  });

  const image = makeImage({ rules, formats: contract.formats });
  const crop = makeCrop({ contract, rules });
  const errors = makeErrors({
    form,
    contract,
    rules,
    state,
    hasPhoto: () => photo.isReady(),
    photoFocus: () => (crop.isShown() ? crop.frame : null),
  });
  const storage = makeStorage({ form, fieldNames: errors.fieldNames, keepMs: contract.limits.keep_ms });
  const preview = makePreview({ form, contract, image, crop });
  const photo = makePhoto({ contract, rules, image, errors, crop, preview });
  const webcam = makeWebcam({
    contract,
    errors,
    async onShot(canvas, width, height) {
      await photo.useShot(canvas, width, height);
      if (photo.isReady()) crop.focus();
    },
  });
  const receipt = makeReceipt({
    form,
    contract,
    rules,
    storage,
    errors,
    state,
    onReset() {
      webcam.close();
      photo.clear();
    },
  });
  const send = makeSend({ form, contract, rules, image, errors, photo, storage, receipt, state });

  // The fields: live checks, and a copy kept for a reload.
  form.addEventListener('focusout', errors.onFocusOut);
  form.addEventListener('change', errors.onChange);
  form.addEventListener('input', errors.onInput);
  form.addEventListener('input', () => storage.saveValues());
  form.addEventListener('change', () => storage.saveValues());
  $('form-summary').addEventListener('click', errors.onSummaryClick);

  // The photo, chosen or taken with the phone's camera: the webcam closes.
  const photoInput = $('photo');
  const cameraInput = $('photo-camera');
  photoInput.addEventListener('change', () => {
    if (!photoInput.files || !photoInput.files[0]) return;
    webcam.close();
    photo.useFile(photoInput.files[0]);
  });
  cameraInput.addEventListener('change', () => {
    if (!cameraInput.files || !cameraInput.files[0]) return;
    webcam.close();
    photo.useCameraFile(cameraInput.files[0]);
  });

  // The crop frame.
  const frame = crop.frame;
  frame.addEventListener('pointerdown', crop.onPointerDown);
  frame.addEventListener('pointermove', crop.onPointerMove);
  frame.addEventListener('pointerup', crop.onPointerEnd);
  frame.addEventListener('pointercancel', crop.onPointerEnd);
  frame.addEventListener('wheel', crop.onWheel, { passive: false });
  frame.addEventListener('keydown', crop.onKeyDown);
  crop.zoomRange.addEventListener('input', () => crop.zoomTo(Number(crop.zoomRange.value)));
  $('zoom-plus').addEventListener('click', () => crop.zoomBy(1));
  $('zoom-moins').addEventListener('click', () => crop.zoomBy(-1));
  $('recentrer').addEventListener('click', () => crop.reset());
  for (const button of $('cadrage').querySelectorAll('[data-dx]')) {
    button.addEventListener('click', () => crop.moveBy(Number(button.dataset.dx), Number(button.dataset.dy)));
  }
  // Each move of the frame by the student: the preview asks for advice on it once it settles. A
  // drag is one move, from the finger down (nothing moves the frame under it) to the finger up.
  frame.addEventListener('pointerdown', preview.touch);
  frame.addEventListener('pointerup', preview.moved);
  frame.addEventListener('pointercancel', preview.moved);
  frame.addEventListener('wheel', preview.moved, { passive: true });
  frame.addEventListener('keydown', (event) => event.defaultPrevented && preview.moved());
  crop.zoomRange.addEventListener('input', preview.moved);
  for (const button of $('cadrage').querySelectorAll('button')) button.addEventListener('click', preview.moved);
  if (window.ResizeObserver) new ResizeObserver(() => crop.render()).observe(frame);
  else window.addEventListener('resize', () => crop.render());

  // The webcam.
  $('webcam-ouvrir').addEventListener('click', webcam.open);
  $('webcam-prendre').addEventListener('click', webcam.shoot);
  $('webcam-annuler').addEventListener('click', () => {
    webcam.close();
    $('webcam-ouvrir').focus();
  });

  // Sending, and the receipt.
  form.addEventListener('submit', send.onSubmit);
  $('recu-copier').addEventListener('click', receipt.copyNumber);
  $('recu-renvoyer').addEventListener('click', receipt.resendMail);
  $('recu-imprimer').addEventListener('click', () => window.print());
  $('recu-nouvelle').addEventListener('click', receipt.newRequest);

  // What is past its time goes: the receipt on the screen, the answers kept in the tab. The
  // clock is compared often rather than with one long timer, which would be late after the
  // computer slept.
  const checkExpiry = () => {
    receipt.expireIfPast();
    storage.dropExpiredValues();
  };
  setInterval(checkExpiry, contract.limits.expiry_check_ms);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') checkExpiry();
  });
  window.addEventListener('afterprint', receipt.onAfterPrint);
  window.addEventListener('pagehide', receipt.onPageHide);
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    // A page left while sending may come back still marked as sending: make it usable again.
    if (state.get() === 'sending') state.set('empty');
    receipt.onPageShow(event);
    checkExpiry();
  });

  // The page as the script takes it over: its own checks instead of the browser's, the birth
  // date's picker bounded by the age rule, the ways to take a photo this device has, and what
  // the tab kept.
  form.noValidate = true;
  const birth = form.elements.namedItem('date_naissance');
  if (birth && birth.type === 'date') {
    const bounds = birthDateBounds(contract.rules);
    birth.min = bounds.min;
    birth.max = bounds.max;
  }
  $('photo-sources').hidden = false;
  const coarse = window.matchMedia && window.matchMedia('(pointer: coarse)').matches;
  if (coarse) $('photo-camera-choix').hidden = false;
  else if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) $('webcam-ouvrir').hidden = false;
  else $('photo-sources').hidden = true;
  if (!receipt.restore()) storage.restoreValues();

  /**
   * The birth dates the age rule accepts today, as `YYYY-MM-DD` for a date input's min and max
   * (form::Schema::birth_date_range): from the day after someone turned `age_max + 1` to the
   * day someone turns `age_min`, 29 February clamped to the month.
   */
  function birthDateBounds({ age_min, age_max }) {
    const now = new Date();
    const yearsBefore = (years) => {
      const year = now.getFullYear() - years;
      const month = now.getMonth();
      const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
      return new Date(Date.UTC(year, month, Math.min(now.getDate(), last)));
    };
    const iso = (date) => date.toISOString().slice(0, 10);
    const earliest = yearsBefore(age_max + 1);
    earliest.setUTCDate(earliest.getUTCDate() + 1);
    return { min: iso(earliest), max: iso(yearsBefore(age_min)) };
  }
}

startForm();
