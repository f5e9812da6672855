// preview.js: what the function sees in the photo before it is sent (its route `apercu`). Owns a
// small upright JPEG copy of the photo (`limits.preview`), the one preview request in flight,
// moving the crop frame onto the face the function found, and #conseils, the advice it gives
// (`messages.hint`), shown beside the frame. Apart because all of it is optional: without a
// network, from a USB key offline, on any failure or odd answer, nothing of it shows and the page
// behaves as it did without it (the default frame, no advice, no error). The advice never blocks
// a send: the function gives it again, for the stored photo, on the receipt.
//
// The copy is made once per photo and sent again, as it is, each time the student settles the
// frame (with `recadrage`, in the copy's pixels), so the advice follows the frame they chose.

/**
 * The preview of the photo in the `crop` frame, for `form` (whose endpoint names the function),
 * with the `contract` and the `image` helpers. Returns { start, clear, touch, moved }: `start`
 * with each new photo, `touch` when the student starts moving the frame, `moved` each time they
 * moved or zoomed it.
 */
function makePreview({ form, contract, image, crop }) {
  const settings = contract.limits.preview;
  const texts = contract.messages.hint;
  const box = document.getElementById('conseils');
  // A page whose contract has no preview (built by an older generator) just goes without it.
  if (!settings || !texts || !box) return Object.freeze({ start() {}, clear() {}, touch() {}, moved() {} });

  // The function answers a preview in well under a second; past this, the network is too slow for
  // advice to arrive while it is still useful, and the request is dropped rather than queued.
  const TIMEOUT_MS = 15000;
  // A frame settled for this long is sent: a drag, a run of key presses or wheel notches is one
  // request, not one per step.
  const SETTLE_MS = 400;

  /** The copy sent: its JPEG, size, and how many pixels of the uploaded photo one of it stands for. */
  let copy = null;
  /** The size of the photo the form will upload, whose pixels the crop frame counts in. */
  let full = { width: 0, height: 0 };
  // Each photo gets a number: an answer or a copy for an earlier photo is dropped.
  let ticket = 0;
  let inFlight = null;
  let timer = 0;
  // `changes` counts the student's moves: an answer to a request sent before the latest move is
  // stale (another request is on its way). `touched`: the student moved the frame since the photo
  // came, so no answer moves it under their hands; `placed`: the function's frame is the one shown.
  let changes = 0;
  let touched = false;
  let placed = false;
  let shownKey = '';

  const element = (tag, className, text) => {
    const made = document.createElement(tag);
    if (className) made.className = className;
    if (text) made.textContent = text;
    return made;
  };

  /**
   * Shows `messages` (the advice), with the `framed` sentence first when the frame was placed on
   * the face, or nothing at all. The live region is always in the page and only its content
   * changes, so that screen readers announce it; the same content twice is not announced again.
   */
  function show(messages, framed) {
    const key = JSON.stringify([framed, messages]);
    if (key === shownKey) return;
    shownKey = key;
    box.textContent = '';
    if (!framed && messages.length === 0) return;
    const panel = element('div', 'hints');
    panel.append(element('h3', 'hints-title', texts.title));
    if (framed) panel.append(element('p', 'hints-framed', texts.framed));
    if (messages.length > 0) {
      const list = element('ul', 'hints-list');
      for (const message of messages) list.append(element('li', '', message));
      panel.append(list);
    }
    box.append(panel);
  }

  const isRect = (r) =>
    r && typeof r === 'object' && [r.x, r.y, r.width, r.height].every(Number.isFinite) && r.width > 0 && r.height > 0;

  /** The frame as `x,y,w,h` in whole pixels of the copy, inside it. */
  function frameInCopy() {
    const rect = crop.rect();
    if (!rect) return '';
    const sx = copy.width / full.width;
    const sy = copy.height / full.height;
    const w = Math.min(copy.width, Math.max(1, Math.round(rect.width * sx)));
    const h = Math.min(copy.height, Math.max(1, Math.round(rect.height * sy)));
    const x = Math.min(copy.width - w, Math.max(0, Math.round(rect.x * sx)));
    const y = Math.min(copy.height - h, Math.max(0, Math.round(rect.y * sy)));
    return `${x},${y},${w},${h}`;
  }

  /** Asks the function about the copy, in the frame shown when `withFrame`; one request at a time. */
  async function ask(withFrame) {
    if (!copy || navigator.onLine === false) return;
    if (inFlight) inFlight.abort();
    const abort = new AbortController();
    inFlight = abort;
    const mine = ticket;
    const asked = changes;
    const data = new FormData();
    data.append('photo', copy.blob, 'apercu.jpg');
    data.append('echelle', copy.scale);
    if (withFrame) data.append('recadrage', frameInCopy());
    const stop = setTimeout(() => abort.abort(), TIMEOUT_MS);
    let look = null;
    try {
      const response = await fetch(new URL('apercu', form.action).href, {
        method: 'POST',
        body: data,
        headers: { Accept: 'application/json' },
        credentials: 'omit',
        signal: abort.signal,
      });
      // A 422 is a photo the function refuses: the page's own checks and the send say why.
      if (response.status === 200) look = await response.json();
    } catch {
      look = null;
    } finally {
      clearTimeout(stop);
      if (inFlight === abort) inFlight = null;
    }
    if (mine !== ticket || abort.signal.aborted || !look || !Array.isArray(look.conseils)) return;
    // A face found and no frame sent: the function's frame, on the face, in pixels of the upload.
    if (!withFrame && look.visage && isRect(look.cadre)) {
      const sx = full.width / copy.width;
      const sy = full.height / copy.height;
      const c = look.cadre;
      const rect = { x: c.x * sx, y: c.y * sy, width: c.width * sx, height: c.height * sy };
      // Moved there only while the student has not moved it; « Recentrer » comes back to it anyway.
      crop.propose(rect, !touched);
      placed = !touched;
    }
    if (asked !== changes) return; // the frame moved since: the next answer brings its advice
    const messages = look.conseils
      .map((hint) => hint && (typeof hint.message === 'string' ? hint.message : texts[hint.code]))
      .filter((message) => typeof message === 'string' && message !== '');
    show(messages, placed && !touched);
  }

  /** Forgets the photo: no request, no advice. */
  function clear() {
    ticket++;
    if (inFlight) inFlight.abort();
    inFlight = null;
    clearTimeout(timer);
    timer = 0;
    copy = null;
    changes = 0;
    touched = false;
    placed = false;
    show([], false);
  }

  /**
   * A new photo: `source` (`width`×`height`, upright) is what the upload `upload` ({ width,
   * height }) was reduced from. The copy is drawn at once (image.reduce draws before its first
   * await), so the caller may release `source` as soon as this returns; it is encoded and sent in
   * the background.
   */
  function start(source, width, height, upload) {
    clear();
    const mine = ticket;
    full = { width: upload.width, height: upload.height };
    const uploadSide = Math.max(upload.width, upload.height);
    // Never larger than the upload, so that one pixel of the copy stands for one or more of it.
    const max_side = Math.min(settings.max_side, uploadSide);
    const limits = { max_side, max_bytes: Infinity, qualities: [settings.quality], rounds: 1, shrink: 1 };
    let made;
    try {
      made = image.reduce(source, width, height, limits);
    } catch {
      return;
    }
    made.then(
      (result) => {
        if (mine !== ticket || !result) return;
        const scale = Math.max(1, uploadSide / Math.max(result.width, result.height));
        copy = { blob: result.blob, width: result.width, height: result.height, scale: String(Math.round(scale * 1e6) / 1e6) };
        ask(touched);
      },
      () => {},
    );
  }

  /** The student starts moving the frame: nothing moves it from now on, nothing is sent yet. */
  function touch() {
    changes++;
    touched = true;
    placed = false;
    clearTimeout(timer);
    timer = 0;
  }

  /** The student moved or zoomed the frame: once it settles, the advice for it is asked. */
  function moved() {
    touch();
    timer = setTimeout(() => {
      timer = 0;
      ask(true);
    }, SETTLE_MS);
  }

  return Object.freeze({ start, clear, touch, moved });
}
