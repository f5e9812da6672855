// wiring.js: the request form's start, last of its bundle (bundles.toml). Owns reading the
// contract the generator wrote into the page (<script type="application/json" id="form-schema">,
// the form page's part of form::Schema::page_contracts), building the parts from it, loading the
// photo's parts, attaching every event listener and timer, and the form's data-state (empty |
// error | sending | receipt), which several parts set.
// Apart so that no other part starts anything: each part is a factory that takes what it needs,
// and this is the one place where they meet and where the page's life begins.
//
// The photo's parts (photo, crop, preview, webcam) are another bundle, static/form-photo.js,
// named by the form's data-photo-script: inserted as a classic <script> the first time a photo is
// chosen or the webcam asked for, and built when it has run (photo-parts.js). Until then the form
// works without them: its checks say a photo is missing, and a send waits for the photo being
// loaded. Should the bundle fail to load (a server gone), the form posts as plain HTML, as
// without JavaScript.
//
// Without JavaScript, in a browser too old for this script, or with a page whose contract lacks
// a part this script reads, nothing starts: the form posts as plain HTML and the function
// answers with its own receipt page.

/** Builds the form's parts and starts them; does nothing when the page cannot take them. */
function startForm() {
  const form = document.getElementById('form-demande');
  const contractScript = document.getElementById('form-schema');
  if (!form || !contractScript || !form.dataset.photoScript || !window.fetch || !window.FormData || !window.Blob || !''.normalize) return;
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
  /** The photo's parts once built ({ crop, preview, photo, webcam }), null before. */
  let parts = null;
  /** Their loading, once asked for: resolves to them, rejects when the bundle did not come. */
  let loading = null;
  /** Set when the photo's bundle could not be loaded: the form then posts as plain HTML. */
  let plain = false;
  const errors = makeErrors({
    form,
    contract,
    rules,
    state,
    hasPhoto: () => Boolean(parts) && parts.photo.isReady(),
    photoFocus: () => (parts && parts.crop.isShown() ? parts.crop.frame : null),
  });
  const storage = makeStorage({ form, fieldNames: errors.fieldNames, keepMs: contract.limits.keep_ms });
  /**
   * The photo as the send sees it, whether its parts have come or not: a photo being loaded is
   * one being prepared, which the send waits for.
   */
  const photo = Object.freeze({
    isReady: () => Boolean(parts) && parts.photo.isReady(),
    pending: () => (parts ? parts.photo.pending() : loading && loading.then((p) => p.photo.pending(), () => null)),
    upload: (frame) => parts.photo.upload(frame),
  });
  const receipt = makeReceipt({
    form,
    contract,
    rules,
    storage,
    errors,
    state,
    onReset() {
      if (!parts) return;
      parts.webcam.close();
      parts.photo.clear();
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

  /** The photo's parts, loaded and built the first time they are asked for. */
  function photoParts() {
    if (loading) return loading;
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = form.dataset.photoScript;
      script.onload = () => (window.formPhotoParts ? resolve(window.formPhotoParts) : reject(new Error('no photo parts')));
      script.onerror = reject;
      document.head.append(script);
    }).then(buildPhotoParts); // a part that throws while built is a bundle that did not come
    loading.catch(() => {
      // Without its photo code the page cannot prepare a photo: the browser sends the file
      // chosen, with its own checks, and the function frames it.
      plain = true;
      form.noValidate = false;
    });
    return loading;
  }

  /** Builds the photo's parts from the bundle's factories and attaches their listeners. */
  function buildPhotoParts({ makePhoto, makeCrop, makePreview, makeWebcam }) {
    const crop = makeCrop({ contract, rules });
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

    // The webcam's own buttons, shown once it is open.
    $('webcam-prendre').addEventListener('click', webcam.shoot);
    $('webcam-annuler').addEventListener('click', () => {
      webcam.close();
      $('webcam-ouvrir').focus();
    });
    parts = { crop, preview, photo, webcam };
    return parts;
  }

  // The photo, chosen or taken with the phone's camera (the webcam closes), or the webcam opened:
  // each the first time loads the photo's parts.
  const photoInput = $('photo');
  const cameraInput = $('photo-camera');
  photoInput.addEventListener('change', () => {
    const file = photoInput.files && photoInput.files[0];
    if (!file) return;
    photoParts().then((p) => {
      p.webcam.close();
      p.photo.useFile(file);
    }, () => {});
  });
  cameraInput.addEventListener('change', () => {
    const file = cameraInput.files && cameraInput.files[0];
    if (!file) return;
    photoParts().then((p) => {
      p.webcam.close();
      p.photo.useCameraFile(file);
    }, () => {});
  });
  $('webcam-ouvrir').addEventListener('click', () => photoParts().then((p) => p.webcam.open(), () => {}));

  // Sending, and the receipt.
  form.addEventListener('submit', (event) => plain || send.onSubmit(event));
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
