// errors.js: the form's checks as the student types, and where their messages show. Owns each
// field's error box (#<name>-error, aria-invalid on the input, .has-error on #field-<name>),
// the summary at the top of the form (#form-summary: the wrong fields as links, or a message
// that belongs to no field), and bringing either into view. Apart because three concerns report
// through it (the fields, the photo, the answer of a send) and none should know how it shows.
//
// The check itself is `rules.checkField` (rules.js): this part only reads what the DOM alone
// knows (an input's value, a ticked box, a date input the browser could not parse) and the
// photo's presence (`hasPhoto`, from the photo part). The texts are the contract's: the field
// messages through `rules.message`, the summary's from `messages.page`.

/**
 * The field errors and the summary of `form`, with the `contract` and its `rules`; `state`
 * is the form's data-state ({ get, set }), `hasPhoto()` whether a photo is ready to be sent,
 * `photoFocus()` the element that takes focus for the photo (the crop frame once it shows).
 * Returns { check, set, has, checkAll, clearAll, showSummary, hideSummary, jumpTo, fieldNames,
 * onSummaryClick, onFocusOut, onChange, onInput }.
 */
function makeErrors({ form, contract, rules, state, hasPhoto, photoFocus }) {
  const texts = contract.messages.page;
  const summary = document.getElementById('form-summary');
  const list = document.getElementById('form-summary-list');
  /** The fields checked in the page: every field a person fills in, in the page's order. */
  const fieldNames = Object.freeze(contract.fields.filter((field) => field.kind !== 'hidden').map((field) => field.name));
  const shown = new Map();
  let generalMessage = '';
  let summaryShown = false;

  const control = (name) => form.elements.namedItem(name);

  /** Today in the student's own time zone: the age rule counts on the day they see. */
  function today() {
    const now = new Date();
    return { year: now.getFullYear(), month: now.getMonth() + 1, day: now.getDate() };
  }

  /** The message for field `name` as it stands, or '' when it is right. */
  function check(name) {
    const input = control(name);
    if (!input) return '';
    if (input.validity && input.validity.badInput) return rules.message(name, 'invalid');
    let value = 'value' in input ? input.value : '';
    if (input.type === 'checkbox') value = input.checked ? input.value : null;
    else if (input.type === 'file') value = '';
    const school = control('etablissement');
    const result = rules.checkField(name, value, {
      today: today(),
      school: school ? school.defaultValue : '',
      photoPresent: hasPhoto(),
    });
    return result.ok ? '' : rules.message(name, result.kind);
  }

  function renderSummary() {
    list.textContent = '';
    for (const name of fieldNames) {
      const message = shown.get(name);
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
    document.getElementById('form-summary-title').textContent = hasFields ? texts.summary_fields_title : texts.summary_other_title;
    document.getElementById('form-summary-message').textContent = generalMessage || (hasFields ? texts.summary_fields_intro : '');
    list.hidden = !hasFields;
    summary.hidden = !hasFields && !generalMessage;
    if (summary.hidden) {
      summaryShown = false;
      if (state.get() === 'error') state.set('empty');
    }
  }

  /**
   * Shows `message` under field `name` (or clears it), with aria-invalid on the input; false
   * when the page has no such field (the caller then shows the message in the summary).
   */
  function set(name, message) {
    // The crop is hidden: its errors belong to the photo.
    if (name === 'recadrage') name = 'photo';
    const box = document.getElementById(`${name}-error`);
    if (!box) return false;
    box.textContent = message;
    const input = document.getElementById(name);
    if (input) {
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    const wrapper = document.getElementById(`field-${name}`);
    if (wrapper) wrapper.classList.toggle('has-error', Boolean(message));
    if (message) shown.set(name, message);
    else shown.delete(name);
    if (summaryShown) renderSummary();
    return true;
  }

  /** Checks every field; returns true when all are right. */
  function checkAll() {
    let ok = true;
    for (const name of fieldNames) {
      const message = check(name);
      set(name, message);
      if (message) ok = false;
    }
    return ok;
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
    state.set('error');
    summary.hidden = false;
    summary.focus();
    jumpTo(summary);
  }

  /** Hides the summary and forgets its message (the field errors stay). */
  function hideSummary() {
    generalMessage = '';
    summaryShown = false;
    summary.hidden = true;
  }

  /** Clears every field's error and the summary: the form is empty again. */
  function clearAll() {
    for (const name of fieldNames) set(name, '');
    hideSummary();
  }

  /** A link of the summary takes the student to its field. */
  function onSummaryClick(event) {
    const link = event.target.closest('a[data-field]');
    if (!link) return;
    event.preventDefault();
    const name = link.dataset.field;
    const target = (name === 'photo' && photoFocus()) || document.getElementById(name);
    const wrapper = document.getElementById(`field-${name}`) || target;
    wrapper.scrollIntoView({ block: 'start' });
    target.focus({ preventScroll: true });
  }

  // Live checks: a field is checked when left (if something was typed or it already shows an
  // error) and when changed; a shown error disappears as soon as the field is right.
  const isChecked = (target) => target && target.name && fieldNames.includes(target.name) && target.name !== 'photo';

  function onFocusOut(event) {
    const target = event.target;
    if (!isChecked(target) || target.type === 'checkbox') return;
    const typed = target.value !== '' || (target.validity && target.validity.badInput);
    if (typed || shown.has(target.name)) set(target.name, check(target.name));
  }

  function onChange(event) {
    const target = event.target;
    if (isChecked(target) && (target.type === 'checkbox' || target.tagName === 'SELECT' || target.type === 'date')) {
      set(target.name, check(target.name));
    }
  }

  function onInput(event) {
    const target = event.target;
    if (isChecked(target) && shown.has(target.name) && check(target.name) === '') set(target.name, '');
  }

  return Object.freeze({
    check,
    set,
    has: (name) => shown.has(name),
    checkAll,
    clearAll,
    showSummary,
    hideSummary,
    jumpTo,
    fieldNames,
    onSummaryClick,
    onFocusOut,
    onChange,
    onInput,
  });
}
