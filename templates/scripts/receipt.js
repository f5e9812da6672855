// receipt.js: the receipt shown in the page once the request is recorded, and its end. Owns #recu
// (the dossier number, the values the function stored, the slip to print #document-a-rendre),
// its buttons (copy the number, print, make another request), and #recu-efface, which says why a
// receipt is no longer shown. Apart because on a shared computer (CDI, computer room) the
// receipt is personal data with a short life: it stays for a reload, and goes after its time
// (`limits.keep_ms`, through the storage part), once printed, or once the page is left, taking
// the form's answers with it.
//
// It shows what the function stored, never what the inputs hold: after a replay the inputs may
// have been edited, and the stored values are the normalised ones (trimmed, NFC, the e-mail's
// domain in punycode). Its texts are the contract's (`messages.page`, and `messages.account` for
// the e-mail the function sent: #recu-courriel says whether it left, and « Renvoyer l’e-mail »
// asks the function for the next one while its answer carries a resend token). #recu-conseils
// gives the function's advice on the stored photo (`conseils`), when it has any: advice only, the
// request is stored either way.

/**
 * The receipt of `form`, with the `contract`, its `rules` (makeRules, for `fill`), the `storage` (makeStorage), the `errors` (cleared
 * with the form), the form's `state` ({ get, set }) and `onReset()`, which empties what the form
 * holds outside its inputs (the photo, the camera).
 * Returns { show, restore, hideNotice, expireIfPast, newRequest, copyNumber, isShown,
 * onAfterPrint, onPageHide, onPageShow }.
 */
function makeReceipt({ form, contract, rules, storage, errors, state, onReset }) {
  const texts = contract.messages.page;
  const accountTexts = contract.messages.account;
  const $ = (id) => document.getElementById(id);
  const receipt = $('recu');
  const notice = $('recu-efface');
  const longDate = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long' });
  const longDateUtc = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeZone: 'UTC' });
  /** The receipt on the screen (what is stored, with its expiry), or null. */
  let shown = null;

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
    'recu-courriel-texte',
    'slip-numero',
    'slip-nom',
    'slip-prenom',
    'slip-naissance',
    'slip-filiere',
    'slip-date',
  ];

  function formatDay(iso) {
    const date = new Date(iso);
    return longDate.format(Number.isNaN(date.getTime()) ? new Date() : date);
  }

  /** A stored `YYYY-MM-DD` as a French date (`14 mars 2009`); anything else as it is. */
  function formatBirthDate(value) {
    const match = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(value);
    if (!match) return value;
    return longDateUtc.format(new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))));
  }

  /**
   * The answer's `demande`, the values as the function stored them, kept to what the page shows;
   * null when the answer has none (a function older than the page), and the receipt then shows none.
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

  /**
   * The answer's `courriel` ({ envoye, email, jeton_renvoi }), or null when the function sends no
   * e-mail (then the receipt says nothing of one).
   */
  function mailState(courriel) {
    if (!courriel || typeof courriel !== 'object' || typeof courriel.envoye !== 'boolean') return null;
    return {
      envoye: courriel.envoye,
      email: typeof courriel.email === 'string' ? courriel.email : '',
      jeton_renvoi: typeof courriel.jeton_renvoi === 'string' ? courriel.jeton_renvoi : null,
    };
  }

  /**
   * The answer's `conseils` ([{ code, message }]), kept to the well-formed ones; none when the
   * answer has none (a function without face detection).
   */
  const hintsOf = (conseils) =>
    (Array.isArray(conseils) ? conseils : [])
      .filter((hint) => hint && typeof hint.code === 'string' && typeof hint.message === 'string' && hint.message !== '')
      .map(({ code, message }) => ({ code, message }));

  /** Lists the advice on the photo, as text; the block shows only when there is some. */
  function showHints(hints) {
    const list = $('recu-conseils-liste');
    list.textContent = '';
    for (const { message } of hints) {
      const item = document.createElement('li');
      item.textContent = message;
      list.append(item);
    }
    $('recu-conseils').hidden = hints.length === 0;
  }

  /** Says where the e-mail stands (`sentText` when it left), and offers to send it again. */
  function showMail(mail, sentText) {
    $('recu-courriel').hidden = !mail;
    if (!mail) return;
    $('recu-courriel-texte').textContent = mail.envoye ? rules.fill(sentText, { email: mail.email }) : accountTexts.mail_failed;
    $('recu-renvoyer').hidden = !mail.jeton_renvoi;
  }

  /** The function's address for « Renvoyer l’e-mail »: the form's, its last segment `renvoi`. */
  const resendUrl = () => form.action.replace(/\/demande\/?$/, '/renvoi');

  /** « Renvoyer l’e-mail »: asks the function for the next e-mail, and says what came of it. */
  async function resendMail() {
    if (!shown || !shown.courriel || !shown.courriel.jeton_renvoi) return;
    const button = $('recu-renvoyer');
    button.disabled = true;
    const data = new FormData();
    data.append('jeton', shown.courriel.jeton_renvoi);
    let response = null;
    let body = null;
    try {
      response = await fetch(resendUrl(), { method: 'POST', body: data, headers: { Accept: 'application/json' }, credentials: 'omit' });
      body = await response.json().catch(() => null);
    } catch {
      response = null;
    } finally {
      button.disabled = false;
    }
    const status = $('recu-courriel-texte');
    if (response && response.ok && body && typeof body.envoye === 'boolean') {
      shown.courriel = mailState(body);
      storage.writeReceipt(shown);
      showMail(shown.courriel, accountTexts.resent);
    } else if (response && response.status === 429) {
      shown.courriel = { ...shown.courriel, jeton_renvoi: null };
      storage.writeReceipt(shown);
      showMail(shown.courriel, accountTexts.mail_sent);
      status.textContent = accountTexts.resend_limit;
    } else if (response && body && typeof body.error === 'string') {
      status.textContent = body.error;
    } else {
      status.textContent = navigator.onLine === false ? texts.offline : texts.network;
    }
  }

  /**
   * Shows the receipt of `details` ({ dossier, receivedAt, replay, demande, courriel, conseils });
   * `restored` when it comes back from the tab's storage on a reload, with its first expiry.
   */
  function show(details, restored) {
    const values = storedValues(details.demande);
    const birth = values ? formatBirthDate(values.date_naissance) : '';
    const sent = values && values.envoi_etablissement !== null ? (values.envoi_etablissement ? texts.yes : texts.no) : '';
    const shownTexts = {
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
    for (const [id, text] of Object.entries(shownTexts)) $(id).textContent = text;
    receipt.querySelector('.receipt-values').hidden = !values;
    const mail = mailState(details.courriel);
    showMail(mail, accountTexts.mail_sent);
    const hints = hintsOf(details.conseils);
    showHints(hints);
    $('recu-deja').hidden = !details.replay;
    notice.hidden = true;
    form.hidden = true;
    receipt.hidden = false;
    state.set('receipt');
    if (restored) {
      shown = details;
      return;
    }
    // Kept for a reload of the tab, until it expires; the answers themselves are no longer needed.
    shown = {
      dossier: details.dossier,
      receivedAt: details.receivedAt,
      replay: details.replay,
      demande: values,
      courriel: mail,
      conseils: hints,
      expiresAt: storage.expiryFromNow(),
    };
    storage.writeReceipt(shown);
    storage.forgetValues();
    receipt.focus();
    errors.jumpTo(receipt);
  }

  /** Empties the form, photo included, for a new request with a new submission id. */
  function resetForm() {
    form.reset();
    errors.clearAll();
    onReset();
    storage.renewSubmission();
    receipt.hidden = true;
    form.hidden = false;
    state.set('empty');
  }

  const clearTexts = () => {
    for (const id of RECEIPT_TEXTS) $(id).textContent = '';
    showHints([]);
  };

  /** Says `why` a receipt is no longer shown, in its place. */
  function showNotice(why) {
    $('recu-efface-texte').textContent = why;
    notice.hidden = false;
  }

  /**
   * Takes the receipt away, from the screen and from storage (the answers kept for a retry go
   * too), empties the form under it, and says why in its place (`why`); focus goes there when
   * `focus` (the person is at the page).
   */
  function expire(why, focus) {
    storage.forget();
    if (!shown) return;
    shown = null;
    clearTexts();
    resetForm();
    showNotice(why);
    if (focus) {
      notice.focus();
      errors.jumpTo(notice);
    }
  }

  /** « Faire une autre demande »: the receipt goes, the form comes back empty. */
  function newRequest() {
    storage.forget();
    shown = null;
    clearTexts();
    notice.hidden = true;
    resetForm();
    storage.saveValues();
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
    $('recu-copie-etat').textContent = copied ? texts.copied : texts.copy_failed;
  }

  /** How this page was reached: `navigate`, `reload`, `back_forward`; '' when unknown. */
  function arrival() {
    try {
      const [entry] = performance.getEntriesByType('navigation');
      return (entry && entry.type) || '';
    } catch {
      return '';
    }
  }

  /**
   * At the page's start: shows the receipt kept in the tab when this load is a reload within its
   * time, or else takes it away (saying so when it was one). True when a receipt is shown; the
   * caller then leaves the form's answers alone.
   */
  function restore() {
    const stored = storage.readReceipt();
    const isReceipt = stored && typeof stored === 'object' && typeof stored.dossier === 'string';
    if (isReceipt && storage.isLive(stored) && (!stored.leftAt || arrival() === 'reload')) {
      // The same page reloaded within the receipt's time: it stays, with its first expiry.
      delete stored.leftAt;
      storage.writeReceipt(stored);
      storage.forgetValues();
      storage.renewSubmission();
      show(stored, true);
      return true;
    }
    if (isReceipt) {
      // Expired, or the page was left and opened again: the receipt and the answers go.
      storage.forget();
      showNotice(texts.receipt_expired);
    } else if (stored !== null) {
      storage.forgetReceipt();
    }
    return false;
  }

  return Object.freeze({
    show,
    restore,
    resendMail,
    hideNotice() {
      notice.hidden = true;
    },
    /** The receipt goes once past its time. */
    expireIfPast() {
      if (shown && !storage.isLive(shown)) expire(texts.receipt_expired, false);
    },
    newRequest,
    copyNumber,
    isShown: () => shown !== null,
    // Printed: the slip is on paper, the receipt need not stay on the screen. Browsers fire
    // afterprint for a cancelled print dialog too: the number is then on the screenshot the
    // receipt asks for first.
    onAfterPrint() {
      if (shown) expire(texts.receipt_printed, true);
    },
    // Leaving the page. Kept in the back-forward cache (persisted), it may come back: the receipt
    // goes now. Otherwise this may be a reload, which fires pagehide too and cannot be told apart
    // here: the stored receipt is marked as left, and the next load keeps it only for a reload
    // (see restore).
    onPageHide(event) {
      if (!shown) return;
      if (event.persisted) {
        expire(texts.receipt_expired, false);
        return;
      }
      const stored = storage.readReceipt();
      if (stored) storage.writeReceipt({ ...stored, leftAt: Date.now() });
    },
    /** Back from the cache with a receipt pagehide did not take away: it goes now. */
    onPageShow(event) {
      if (event.persisted && shown) expire(texts.receipt_expired, false);
    },
  });
}
