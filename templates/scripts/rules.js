// The request form's rules, the page's one copy of them: each field's check and normalisation
// (form/src/validate.rs, crop.rs, submission.rs), the photo format read from a file's first
// bytes (format.rs), the 35:45 frame (framing.rs) and the placeholders of the texts (messages.rs
// `fill`). The function (handler/) applies the Rust ones to every request and is the authority;
// this copy lets the page say what is wrong while the student types, with the same French text.
// The shared case table form/tests/cases.toml, run against both (form/tests/cases.rs and
// tests/site/rules.test.mjs), proves that they give the same answers.
//
// No rule's data is written here: the limits, messages, options, formats and framing all come
// from the contract the page carries (its part of it: form::Schema::page_contracts), so a school's edit of
// content/form.toml reaches both sides at once.
//
// A classic-script part (no module syntax, no DOM, no `window`): the generator joins it first
// into each page's bundle (templates/scripts/bundles.toml), inside the bundle's
// `(() => { 'use strict'; … })();`, so its one declaration, makeRules, is seen by the later parts
// and not by the page. The regular expressions use the `u` flag, not `v`: a browser that does not
// know `v` (Safari before 17) would refuse to parse the whole bundle, form and photo tool with it.

/**
 * The contract's rules, bound to the contract the page carries (JSON of its part, form::Schema::page_contracts).
 *
 * - `checkField(name, value, { today, school, photoPresent })`: `{ ok: true, value }` with the
 *   value as the function records it, or `{ ok: false, kind }` with the kind of the field's
 *   message (`required`, `invalid`, `invisible`, `too_long`, `future`, `too_young`, `too_old`).
 *   `value` is what the input holds (for a checkbox: null when unticked); the photo's presence is
 *   `photoPresent`; `today` is `{ year, month, day }`; `school` the establishment's name the
 *   function expects.
 * - `message(name, kind)`: the field's French text of that kind.
 * - `sniff(bytes)`: `'jpeg'`, `'png'`, `'webp'`, `'heic'` or `'unsupported'`, from a Uint8Array
 *   of the file's first `formats.sniff_bytes` bytes.
 * - `fit(area, bias)`, `defaultFrame(width, height)`, `isLargeEnough(rect)`: the 35:45 frame,
 *   rectangles as `{ x, y, width, height }`.
 * - `fill(template, values)`: each `{name}` of `values` replaced.
 * - `utf8Length(text)`: the bytes `text` takes in UTF-8, as the function counts them.
 */
function makeRules(contract) {
  const { rules, limits, formats, framing } = contract;
  const fields = new Map(contract.fields.map((field) => [field.name, field]));

  // Unicode properties rather than JavaScript's own classes: `\s` and trim() count U+FEFF (which
  // the function refuses as invisible) as a space and miss NEL (U+0085, which it folds into one),
  // where Rust's `char::is_whitespace` is exactly White_Space.
  const WHITE_SPACE = /\p{White_Space}/u;
  const WHITE_SPACE_RUNS = /\p{White_Space}+/u;
  const ALL_WHITE_SPACE = /\p{White_Space}/gu;
  const EDGE_WHITE_SPACE = /^\p{White_Space}+|\p{White_Space}+$/gu;
  // validate.rs `is_invisible_or_unknown`: category C (controls, format characters, private use,
  // unassigned, surrogates: a lone one in a DOM string is what the browser would send as U+FFFD),
  // the other default-ignorable code points, and U+FFFD; but never White_Space (tab, line feed,
  // NEL… are Cc, and every field already treats them as spaces).
  const INVISIBLE_OR_UNKNOWN = /(?!\p{White_Space})[\p{C}\p{Default_Ignorable_Code_Point}\uFFFD]/u;
  const ALPHABETIC = /\p{Alphabetic}/u;
  const MARK = /\p{M}/u;
  // Rust's `char::is_alphanumeric`: Alphabetic, or a number of category Nd, Nl or No.
  const ALPHANUMERIC = /[\p{Alphabetic}\p{N}]/u;
  const NAME_SEPARATORS = new Set([' ', '-', "'", '’']);
  // validate.rs `NATIVE_COMPATIBILITY_LETTERS`: Thai SARA AM and Lao AM, HO NO, HO MO change
  // under NFKC, yet are their scripts' ordinary spelling.
  const NATIVE_COMPATIBILITY_LETTERS = new Set(['\u0E33', '\u0EB3', '\u0EDC', '\u0EDD']);
  const EMAIL_LOCAL_FORBIDDEN = new Set('@"(),:;<>[\\]');
  const PHONE_SEPARATORS = new Set('.-()');
  const DIGITS = /^[0-9]+$/;

  const accept = (value) => ({ ok: true, value });
  const refuse = (kind) => ({ ok: false, kind });

  /** The contract's field `name`: a name it does not have is the calling code's mistake. */
  function field(name) {
    const found = fields.get(name);
    if (!found) throw new Error(`the contract has no field \`${name}\``);
    return found;
  }

  function message(name, kind) {
    const text = field(name).messages[kind];
    if (!text) throw new Error(`the field \`${name}\` has no \`${kind}\` message`);
    return text;
  }

  /** Counted rather than encoded (TextEncoder would copy each value at each keystroke). */
  function utf8Length(text) {
    let bytes = 0;
    for (const c of text) {
      const code = c.codePointAt(0);
      // A lone surrogate counts 3, as the U+FFFD the browser sends instead.
      bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    }
    return bytes;
  }

  const characters = (text) => Array.from(text).length;
  const trim = (text) => text.replace(EDGE_WHITE_SPACE, '');
  /** validate.rs `clean`: NFC, trimmed, inner runs of White_Space collapsed to one space. */
  const clean = (text) => text.normalize('NFC').split(WHITE_SPACE_RUNS).filter(Boolean).join(' ');

  /** A styled or presentation form of another letter (NFKC changes it), but the native ones. */
  const isCompatibilityVariant = (c) => !NATIVE_COMPATIBILITY_LETTERS.has(c) && c.normalize('NFKC') !== c;

  /** validate.rs `is_name`, on a cleaned value. */
  function isName(value) {
    let previousIsLetter = false;
    for (const c of value) {
      const letter = ALPHABETIC.test(c) || (previousIsLetter && MARK.test(c));
      if ((!letter && !NAME_SEPARATORS.has(c)) || isCompatibilityVariant(c)) return false;
      previousIsLetter = letter;
    }
    return ALPHABETIC.test(value);
  }

  const isLeapYear = (year) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  // Computed, not asked of Date: Date.UTC reads the years 0 to 99 as 1900 to 1999, and the
  // function's calendar has a year 0, a leap year.
  const daysInMonth = (year, month) =>
    month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

  /** validate.rs `parse_date`: `YYYY-MM-DD`, or `DD/MM/YYYY` with `/`, `.` or `-`; null unless a real date. */
  function parseDate(value) {
    // Lengths in bytes, as Rust's `str::len`: a part of other characters than ASCII digits fails
    // `number` either way.
    const number = (part, min, max) => {
      const length = utf8Length(part);
      return length >= min && length <= max && DIGITS.test(part) ? Number(part) : null;
    };
    const parts = value.split(/[-/.]/);
    if (parts.length !== 3) return null;
    const [a, b, c] = parts;
    let date;
    if (utf8Length(a) === 4) {
      // ISO: only with hyphens and two-digit month and day.
      if (/[/.]/.test(value)) return null;
      date = { year: number(a, 4, 4), month: number(b, 2, 2), day: number(c, 2, 2) };
    } else {
      date = { year: number(c, 4, 4), month: number(b, 1, 2), day: number(a, 1, 2) };
    }
    const { year, month, day } = date;
    if (year === null || month === null || day === null) return null;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
    return date;
  }

  const compareDates = (a, b) => a.year - b.year || a.month - b.month || a.day - b.day;
  /** validate.rs `age_on`: whole years on `on` of someone born on `birth`. */
  const ageOn = (birth, on) => on.year - birth.year - (on.month * 100 + on.day < birth.month * 100 + birth.day ? 1 : 0);
  const isoDate = ({ year, month, day }) =>
    `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

  // A label the URL parser is handed after the domain: see `asciiDomain`.
  const NON_NUMERIC_LABEL = '.x';
  // One DNS label once in ASCII: 1 to 63 letters, digits and hyphens, no hyphen at either end.
  const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

  /**
   * validate.rs `ascii_domain`: the domain's IDNA ASCII form (UTS #46 ToASCII, non-transitional),
   * or null when the function's `idna` would refuse it.
   *
   * The browser's URL parser does the UTS #46 mapping and the punycode (rejected alternative:
   * shipping the mapping tables and a punycode coder, hundreds of kilobytes for one field), but
   * it is laxer than the function, which checks the STD3 rules, the hyphens at a label's ends and
   * the DNS lengths, so those are checked here: on the ASCII characters typed, before the parser
   * sees them (it would percent-decode `%41`, drop a tab, stop at `/`, `:`, `?`, `#` or take
   * what precedes an `@` for a user name), and on its result (a non-ASCII character may map to
   * `_` or an empty label). The extra last label keeps the parser from reading a domain that
   * ends in digits as an IPv4 address (`example.12`), which the function takes as a name.
   */
  function asciiDomain(domain) {
    for (const c of domain) {
      if (c < '\u0080' && !/[A-Za-z0-9.-]/.test(c)) return null;
    }
    let ascii;
    try {
      ascii = new URL(`http://${domain}${NON_NUMERIC_LABEL}`).hostname;
    } catch {
      return null;
    }
    if (!ascii.endsWith(NON_NUMERIC_LABEL)) return null;
    ascii = ascii.slice(0, -NON_NUMERIC_LABEL.length);
    return ascii.length <= 253 && ascii.split('.').every((label) => DNS_LABEL.test(label)) ? ascii : null;
  }

  /** validate.rs `normalise_email`, on a trimmed value: the address recorded, or null. */
  function normaliseEmail(value) {
    const nfc = value.normalize('NFC');
    const at = nfc.indexOf('@');
    if (at < 0) return null;
    const local = nfc.slice(0, at);
    const localOk =
      local !== '' &&
      !local.startsWith('.') &&
      !local.endsWith('.') &&
      !local.includes('..') &&
      !Array.from(local).some((c) => WHITE_SPACE.test(c) || EMAIL_LOCAL_FORBIDDEN.has(c));
    const domain = asciiDomain(nfc.slice(at + 1));
    if (!localOk || domain === null) return null;
    const labels = domain.split('.');
    return labels.length >= 2 && labels[labels.length - 1].length >= 2 ? `${local}@${domain}` : null;
  }

  /** validate.rs `normalise_phone`: a French number in any usual writing, in E.164, or null. */
  function normalisePhone(value) {
    const compact = Array.from(value)
      .filter((c) => !(WHITE_SPACE.test(c) || PHONE_SEPARATORS.has(c)))
      .join('');
    const prefix = ['+33', '0033'].find((p) => compact.startsWith(p));
    let national;
    if (prefix) {
      // `+33 (0)6…`: the trunk 0 written after the country code.
      const rest = compact.slice(prefix.length);
      if (utf8Length(rest) === 10) {
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

  /** crop.rs `Crop::parse`, then its Display: `x,y,w,h` as the function writes it back, or null. */
  function normaliseCrop(value) {
    const parts = value.split(',').map(trim);
    if (parts.length !== 4) return null;
    // Digits only (no sign, no decimals, no exponent), and within a u32.
    const numbers = parts.map((part) => (DIGITS.test(part) ? Number(part) : NaN));
    if (!numbers.every((n) => n <= 0xffffffff)) return null;
    const [, , width, height] = numbers;
    return width === 0 || height === 0 ? null : numbers.join(',');
  }

  /** submission.rs `SubmissionId::parse`: 8 to 64 of `A-Z a-z 0-9 - _`. */
  const isSubmissionId = (value) => /^[A-Za-z0-9_-]{8,64}$/.test(value);

  /** Refuses a cleaned value above the field's `max_length`, in characters. */
  const withinLength = (info, value) => (characters(value) > info.max_length ? refuse('too_long') : accept(value));

  function checkField(name, value, { today, school, photoPresent } = {}) {
    const info = field(name);
    // A checkbox counts when it is sent, whatever its value; the photo's bytes are not text.
    if (name === 'charte') return value == null ? refuse('required') : accept(true);
    if (name === 'envoi_etablissement') return accept(value != null);
    if (name === 'photo') return photoPresent ? accept(true) : refuse('required');

    // validate.rs `Checker::raw`: a missing value is empty; the byte bound, then the hygiene.
    const raw = value == null ? '' : String(value);
    if (utf8Length(raw) > rules.max_field_bytes) return refuse(info.max_length == null ? 'invalid' : 'too_long');
    if (INVISIBLE_OR_UNKNOWN.test(raw)) return refuse(info.messages.invisible ? 'invisible' : 'invalid');

    const cleaned = clean(raw);
    switch (name) {
      case 'nom':
      case 'prenom':
      case 'commune':
        if (!cleaned) return refuse('required');
        return isName(cleaned) ? withinLength(info, cleaned) : refuse('invalid');
      case 'adresse':
      case 'etablissement': {
        if (!cleaned) return refuse('required');
        if (!ALPHANUMERIC.test(cleaned)) return refuse('invalid');
        const bounded = withinLength(info, cleaned);
        // The page fills the establishment in; any other name means it was built for another school.
        return name === 'etablissement' && bounded.ok && cleaned !== clean(school) ? refuse('invalid') : bounded;
      }
      case 'date_naissance': {
        if (!cleaned) return refuse('required');
        const date = parseDate(cleaned);
        if (!date) return refuse('invalid');
        if (compareDates(date, today) > 0) return refuse('future');
        const age = ageOn(date, today);
        if (age < rules.age_min) return refuse('too_young');
        if (age > rules.age_max) return refuse('too_old');
        return accept(isoDate(date));
      }
      case 'email': {
        const trimmed = trim(raw);
        if (!trimmed) return refuse('required');
        const email = normaliseEmail(trimmed);
        return email === null ? refuse('invalid') : withinLength(info, email);
      }
      case 'code_postal': {
        const digits = raw.replace(ALL_WHITE_SPACE, '');
        if (!digits) return refuse('required');
        return /^[0-9]{5}$/.test(digits) ? accept(digits) : refuse('invalid');
      }
      case 'telephone': {
        const trimmed = trim(raw);
        if (!trimmed) return accept(null);
        const phone = normalisePhone(trimmed);
        return phone === null ? refuse('invalid') : accept(phone);
      }
      case 'filiere':
        if (!cleaned) return refuse('required');
        return info.options.includes(cleaned) ? accept(cleaned) : refuse('invalid');
      case 'recadrage': {
        const trimmed = trim(raw);
        if (!trimmed) return accept(null);
        const crop = normaliseCrop(trimmed);
        return crop === null ? refuse('invalid') : accept(crop);
      }
      case 'submission_id': {
        const trimmed = trim(raw);
        if (!trimmed) return accept(null);
        return isSubmissionId(trimmed) ? accept(trimmed) : refuse('invalid');
      }
      default:
        throw new Error(`no rule for the field \`${name}\``);
    }
  }

  /** format.rs `ftyp_brands`: the brands of a leading ISO-BMFF `ftyp` box, or none. */
  function ftypBrands(head) {
    const text = (from, to) => String.fromCharCode(...head.subarray(from, to));
    if (head.length < 16 || text(4, 8) !== 'ftyp') return [];
    const declared = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(0);
    // A box size pointing past the bytes read is cut at their end.
    const end = Math.min(Math.max(declared, 16), head.length);
    const brands = [text(8, 12)];
    for (let at = 16; at + 4 <= end; at += 4) brands.push(text(at, at + 4));
    return brands;
  }

  /** format.rs `sniff`, driven by the contract's tables. */
  function sniff(bytes) {
    const head = bytes.subarray(0, formats.sniff_bytes);
    const matches = ({ at, bytes: magic }) =>
      at + magic.length <= head.length && magic.every((byte, i) => head[at + i] === byte);
    const signature = formats.signatures.find((s) => s.magic.every(matches));
    if (signature) return signature.format;
    const brands = ftypBrands(head);
    const listed = (table) => brands.some((brand) => table.includes(brand));
    // AVIF often lists `mif1` too: it is not what iPhones write, so the HEIC advice would mislead.
    if (listed(formats.avif_brands)) return 'unsupported';
    return listed(formats.heif_brands) ? 'heic' : 'unsupported';
  }

  const ratio = limits.output_width / limits.output_height;

  /** framing.rs `fit`: the largest 35:45 rectangle in `area`, centred across, `bias` of the spare height above. */
  function fit(area, bias) {
    if (area.width > area.height * ratio) {
      const width = area.height * ratio;
      return { x: area.x + (area.width - width) / 2, y: area.y, width, height: area.height };
    }
    const height = area.width / ratio;
    return { x: area.x, y: area.y + (area.height - height) * bias, width: area.width, height };
  }

  /** framing.rs `default_frame`: the frame of a whole upright photo when no crop is sent. */
  const defaultFrame = (width, height) => fit({ x: 0, y: 0, width, height }, framing.whole_photo_bias);

  /** framing.rs `Rect::is_large_enough`: the tolerance absorbs the rounding of `width / ratio`. */
  const isLargeEnough = (rect) => rect.height + 1e-6 >= limits.min_frame_height;

  /** messages.rs `fill`. Split and joined, not replaceAll: a `$&` in a value is no pattern. */
  const fill = (template, values) =>
    Object.entries(values).reduce((text, [name, value]) => text.split(`{${name}}`).join(String(value)), template);

  return Object.freeze({ checkField, message, sniff, fit, defaultFrame, isLargeEnough, fill, utf8Length });
}
