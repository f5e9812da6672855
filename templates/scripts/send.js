// send.js: sending the request with fetch, and what its answer means. Owns the submit of the
// form (a second click while a send is on its way, or while the photo is still being prepared,
// does nothing), the button #envoyer and the status line #envoi-etat, the body (the fields, and in
// place of the chosen file and #recadrage the photo's upload for the frame, photo.upload),
// weighing it before it goes, and turning each answer into the receipt, the fields' errors or one
// message at the top.
// Apart because it is the one place the page talks to the function, and the only one that
// knows the function's answers (201 or 200 with a dossier, 422 with errors by field, 409, 403,
// 503, anything else, or no answer at all).
//
// The limits are the contract's (`limits.max_body_bytes`, above which AWS itself would refuse
// the body in English after the whole upload; `limits.send_timeout_ms`). The texts too: the
// function's own message when its answer can be read, otherwise `messages.answer.conflict` or
// `.unavailable` (409, 503), `messages.page.forbidden` (403), `.unexpected` (anything else),
// `.offline` or `.network` (no answer).

/**
 * The send of `form`, with the `contract` and its `rules` (to fill a text's placeholders), the
 * `image` helpers (for sizes in French), the `errors`, the `photo`, the `storage` (a new
 * submission id after a 409), the `receipt` (shown on success) and the form's `state`
 * ({ get, set }).
 * Returns { onSubmit }.
 */
function makeSend({ form, contract, rules, image, errors, photo, storage, receipt, state }) {
  const pageTexts = contract.messages.page;
  const answerTexts = contract.messages.answer;
  const { max_body_bytes, send_timeout_ms } = contract.limits;
  const submitButton = document.getElementById('envoyer');
  const status = document.getElementById('envoi-etat');
  let waitingForPhoto = false;

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

  const done = () => {
    submitButton.removeAttribute('aria-disabled');
    status.textContent = '';
  };

  /** What to say for an answer that is neither a receipt nor field errors. */
  function failureMessage(response, body) {
    const serverMessage = body && typeof body.error === 'string' ? body.error : '';
    if (serverMessage) return serverMessage;
    if (response.status === 409) return answerTexts.conflict;
    if (response.status === 503) return answerTexts.unavailable;
    if (response.status === 403) return pageTexts.forbidden;
    return pageTexts.unexpected;
  }

  async function send() {
    state.set('sending');
    submitButton.setAttribute('aria-disabled', 'true');
    status.textContent = pageTexts.sending;
    const data = new FormData(form);
    data.delete('photo');
    const upload = await photo.upload(String(data.get('recadrage') || ''));
    data.set('recadrage', upload.crop);
    data.append('photo', upload.blob, 'photo.jpg');
    // Weighed before it goes: AWS would refuse a larger body in English, after the whole upload.
    const size = await bodySize(data);
    if (size > max_body_bytes) {
      done();
      errors.set(
        'photo',
        rules.fill(pageTexts.too_heavy, { size: image.formatSize(size), max_size: image.formatSize(max_body_bytes) }),
      );
      errors.showSummary('');
      return;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), send_timeout_ms);
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
      done();
    }
    if (!response) {
      errors.showSummary(navigator.onLine === false ? pageTexts.offline : pageTexts.network);
      return;
    }
    if (response.ok && body && typeof body.dossier === 'string') {
      receipt.show({
        dossier: body.dossier,
        receivedAt: typeof body.received_at === 'string' ? body.received_at : new Date().toISOString(),
        replay: body.replay === true,
        demande: body.demande,
        courriel: body.courriel,
        conseils: body.conseils,
      });
      return;
    }
    if (response.status === 422 && body && body.errors && typeof body.errors === 'object') {
      const others = [];
      for (const [name, message] of Object.entries(body.errors)) {
        if (typeof message !== 'string') continue;
        if (!errors.set(name, message)) others.push(message);
      }
      errors.showSummary(others.join(' '));
      return;
    }
    if (response.status === 409) {
      // This submission id already names a request with other answers: an earlier send got
      // through (its answer lost, or the tab restored) and the answers were edited since. Nothing
      // was stored or changed, and the same id would only be refused again. A fresh id makes the
      // next deliberate send (the student has read the message and presses « Envoyer » again) a
      // new request with what the page shows now. Nothing sends by itself, so this cannot make
      // a second request behind anyone's back.
      storage.renewSubmission();
      storage.saveValues();
    }
    errors.showSummary(failureMessage(response, body));
  }

  async function onSubmit(event) {
    event.preventDefault();
    // A second click while the first send is on its way, or while the photo is being prepared.
    if (state.get() === 'sending' || waitingForPhoto) return;
    const pending = photo.pending();
    if (pending) {
      waitingForPhoto = true;
      try {
        await pending;
      } finally {
        waitingForPhoto = false;
      }
    }
    if (!errors.checkAll()) {
      errors.showSummary('');
      return;
    }
    errors.hideSummary();
    receipt.hideNotice();
    send();
  }

  return Object.freeze({ onSubmit });
}
