// storage.js: what the tab keeps across a reload, and for how long. Owns the two copies in
// sessionStorage (the answers typed, for a retry or a reload by mistake; the receipt, for a
// reload), their expiry times, and the request's submission id (#submission_id), which travels
// with the answers so that a request sent twice gets one dossier number. Apart because personal
// data on a shared computer (CDI, computer room) is a concern of its own: every copy carries its
// expiry, `limits.keep_ms` from the contract (the answers: after their last change), and the
// tab's sessionStorage only, never localStorage, so nothing outlives the tab.

/**
 * The tab's copies for `form`, whose inputs named in `fieldNames` are kept (not the file inputs
 * nor the read-only ones), each kept `keepMs` milliseconds. Returns { saveValues, restoreValues,
 * forgetValues, dropExpiredValues, renewSubmission, readReceipt, writeReceipt, forget,
 * forgetReceipt, isLive, expiryFromNow }.
 */
function makeStorage({ form, fieldNames, keepMs }) {
  const VALUES_KEY = 'passregion-demande';
  const RECEIPT_KEY = 'passregion-recu';
  const PROBE_KEY = 'passregion-test';
  const submissionInput = form.elements.namedItem('submission_id');

  const storage = (() => {
    try {
      const s = window.sessionStorage;
      s.setItem(PROBE_KEY, '1');
      s.removeItem(PROBE_KEY);
      return s;
    } catch {
      return null;
    }
  })();

  const read = (key) => {
    try {
      return JSON.parse(storage && storage.getItem(key));
    } catch {
      return null;
    }
  };
  const write = (key, value) => {
    try {
      if (storage) storage.setItem(key, JSON.stringify(value));
    } catch {
      // Storage full or refused: the page still works, only a reload would lose the answers.
    }
  };
  const remove = (key) => {
    if (storage) storage.removeItem(key);
  };

  /** The time, in milliseconds, until which a copy written now may be kept. */
  const expiryFromNow = () => Date.now() + keepMs;

  /**
   * Whether a stored copy is still within its time. One whose expiry lies further ahead than
   * `keepMs` was written before the clock was put back: expired too.
   */
  const isLive = (stored) => {
    const left = stored && typeof stored.expiresAt === 'number' ? stored.expiresAt - Date.now() : 0;
    return left > 0 && left <= keepMs;
  };

  /** The inputs whose values are kept: what a person types or chooses, not the photo. */
  const keptInputs = () =>
    Array.from(form.elements).filter((el) => el.name && fieldNames.includes(el.name) && el.type !== 'file' && !el.readOnly);

  function newSubmissionId() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 2 ** 8);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** Keeps what is typed for a reload, until `expiresAt` (by default `keepMs` from now). */
  function saveValues(expiresAt) {
    const values = {};
    const checked = {};
    for (const el of keptInputs()) {
      if (el.type === 'checkbox') checked[el.name] = el.checked;
      else values[el.name] = el.value;
    }
    const until = typeof expiresAt === 'number' ? expiresAt : expiryFromNow();
    write(VALUES_KEY, { values, checked, submission: submissionInput.value, expiresAt: until });
  }

  /** Puts back the answers kept in the tab, if still within their time, with their submission id. */
  function restoreValues() {
    let stored = read(VALUES_KEY);
    if (stored && !isLive(stored)) {
      remove(VALUES_KEY);
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

  /** Drops the copy of the answers once it is past its time (the answers on the screen stay). */
  function dropExpiredValues() {
    const values = read(VALUES_KEY);
    if (values && !isLive(values)) remove(VALUES_KEY);
  }

  /** A new submission id: the next send is a new request. */
  function renewSubmission() {
    submissionInput.value = newSubmissionId();
  }

  return Object.freeze({
    saveValues,
    restoreValues,
    forgetValues: () => remove(VALUES_KEY),
    dropExpiredValues,
    renewSubmission,
    readReceipt: () => read(RECEIPT_KEY),
    writeReceipt: (receipt) => write(RECEIPT_KEY, receipt),
    /** Takes the receipt and the answers out of the tab. */
    forget() {
      remove(RECEIPT_KEY);
      remove(VALUES_KEY);
    },
    forgetReceipt: () => remove(RECEIPT_KEY),
    isLive,
    expiryFromNow,
  });
}
