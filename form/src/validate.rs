//! Validation of a submitted form: every field checked, every error reported at once with the
//! French message of `form.toml`, and the accepted values normalised (NFC, trimmed, inner spaces
//! collapsed, e-mail domain in its IDNA ASCII form, phone in one form) into a [`Demande`].
//!
//! # Text hygiene
//!
//! Every text value (every field but the checkboxes and the photo) is refused, before anything
//! else is checked, when it holds a character that cannot be seen or is not a character at all
//! (see [`is_invisible_or_unknown`]): a control character, a format character (soft hyphen, bidi
//! controls, zero-width characters, BOM…), a private-use, unassigned or noncharacter code point,
//! another default-ignorable one, or U+FFFD (what a decoder leaves for a lost character). Such
//! characters come from pasting out of a PDF, a word processor or a chat, are invisible in the
//! form and in the record, and would make two identical-looking names differ. The field's
//! `invisible` message says so, or `invalid` for the fields a student does not type.
//!
//! The categories come from `icu_properties` (ICU4X), whose data is Unicode 18.0, the version of
//! `unicode-normalization` and of the IDNA mapping of `idna` in this tree: a character that the
//! normalisation knows is never « unassigned » here.

use std::collections::BTreeMap;
use std::fmt;

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory, GeneralCategoryGroup};
use icu_properties::{CodePointMapData, CodePointSetData};
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use serde::Serialize;
use time::{Date, Month};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::schema::{Field, Message, Schema, can_show};
use crate::{Crop, SubmissionId};

/// What the handler read from the multipart body. Names the schema does not know are ignored.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Text parts by field name.
    pub text: BTreeMap<String, String>,
    /// Whether a non-empty `photo` part was sent (its bytes are the handler's business).
    pub photo_present: bool,
}

/// Field wire name → French message saying what to fix, for every wrong field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(transparent)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl fmt::Display for FieldErrors {
    /// Names the wrong fields only: the messages are for students, and values are never shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.keys().map(String::as_str).collect();
        write!(f, "invalid fields: {}", names.join(", "))
    }
}

/// The validated, normalised request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Demande {
    /// Always true: the charter has to be accepted.
    pub charte: bool,
    pub nom: String,
    pub prenom: String,
    #[serde(serialize_with = "crate::serialize_date")]
    pub date_naissance: Date,
    /// Trimmed and in NFC, the local part as typed, the domain in its IDNA ASCII form (punycode,
    /// lower case): `Léa@xn--exmple-cua.fr` for `Léa@Exämple.FR`.
    pub email: String,
    pub adresse: String,
    /// Five digits.
    pub code_postal: String,
    pub commune: String,
    /// E.164, e.g. `+33612345678`.
    pub telephone: Option<String>,
    pub etablissement: String,
    /// One of the schema's options.
    pub filiere: String,
    pub envoi_etablissement: bool,
    #[serde(skip)]
    pub recadrage: Option<Crop>,
    #[serde(skip)]
    pub submission_id: Option<SubmissionId>,
}

impl Schema {
    /// Checks `input` as of `today` (for the age range), for the establishment `school` (the one
    /// the function is deployed for: `etablissement` must name it). Every wrong field gets its
    /// message.
    pub fn validate(&self, input: &Input, today: Date, school: &str) -> Result<Demande, FieldErrors> {
        let mut check = Checker { schema: self, input, errors: BTreeMap::new() };
        let charte = check.charte();
        let nom = check.name("nom");
        let prenom = check.name("prenom");
        let date_naissance = check.birth_date(today);
        let email = check.email();
        let adresse = check.free_text("adresse");
        let code_postal = check.postal_code();
        let commune = check.name("commune");
        let telephone = check.telephone();
        let etablissement = check.school(school);
        let filiere = check.filiere();
        let envoi_etablissement = input.text.contains_key("envoi_etablissement");
        let photo = check.photo();
        let recadrage = check.optional("recadrage", |s| Crop::parse(s).ok());
        let submission_id = check.optional("submission_id", |s| SubmissionId::parse(s).ok());

        let (
            Some(charte),
            Some(nom),
            Some(prenom),
            Some(date_naissance),
            Some(email),
            Some(adresse),
            Some(code_postal),
            Some(commune),
            Some(telephone),
            Some(etablissement),
            Some(filiere),
            Some(()),
            Some(recadrage),
            Some(submission_id),
        ) = (
            charte,
            nom,
            prenom,
            date_naissance,
            email,
            adresse,
            code_postal,
            commune,
            telephone,
            etablissement,
            filiere,
            photo,
            recadrage,
            submission_id,
        )
        else {
            return Err(FieldErrors(check.errors));
        };
        Ok(Demande {
            charte,
            nom,
            prenom,
            date_naissance,
            email,
            adresse,
            code_postal,
            commune,
            telephone,
            etablissement,
            filiere,
            envoi_etablissement,
            recadrage,
            submission_id,
        })
    }

    /// Whether the honeypot, which no person sees, was filled.
    pub fn is_spam(&self, input: &Input) -> bool {
        input.text.get(self.honeypot()).is_some_and(|value| !value.trim().is_empty())
    }
}

/// Collects the errors while each field is checked. Each check returns `None` after recording
/// the field's message.
struct Checker<'a> {
    schema: &'a Schema,
    input: &'a Input,
    errors: BTreeMap<String, String>,
}

impl<'a> Checker<'a> {
    fn field(&self, name: &str) -> &Field {
        self.schema.field(name).expect("`Schema::parse` checked that every wire field is present")
    }

    /// Records the field's message of this kind.
    fn fail<T>(&mut self, name: &str, message: Message) -> Option<T> {
        let text = self.field(name).messages.get(message).to_owned();
        self.errors.insert(name.to_owned(), text);
        None
    }

    /// The raw value (missing counts as empty), or `None` after an error when it exceeds the
    /// byte bound (nothing longer is ever normalised or scanned) or holds an invisible or unknown
    /// character (`invisible`, or `invalid` for the fields that cannot show it).
    fn raw(&mut self, name: &str) -> Option<&'a str> {
        let value = self.input.text.get(name).map_or("", String::as_str);
        if value.len() > self.schema.rules().max_field_bytes {
            let message =
                if self.field(name).max_length.is_some() { Message::TooLong } else { Message::Invalid };
            return self.fail(name, message);
        }
        if value.chars().any(is_invisible_or_unknown) {
            let message =
                if can_show(name, Message::Invisible) { Message::Invisible } else { Message::Invalid };
            return self.fail(name, message);
        }
        Some(value)
    }

    /// The value in NFC with whitespace trimmed and inner runs collapsed to one space; `None`
    /// after the `required` error when that leaves nothing.
    fn cleaned(&mut self, name: &str) -> Option<String> {
        let value = clean(self.raw(name)?);
        if value.is_empty() {
            return self.fail(name, Message::Required);
        }
        Some(value)
    }

    /// `None` after the `too_long` error when the value has more characters than allowed.
    fn within_length(&mut self, name: &str, value: String) -> Option<String> {
        let max = self.field(name).max_length.expect("bounded fields have a `max_length`");
        if value.chars().count() > max {
            return self.fail(name, Message::TooLong);
        }
        Some(value)
    }

    fn charte(&mut self) -> Option<bool> {
        // A checkbox is sent only when checked, whatever its value.
        if self.input.text.contains_key("charte") {
            Some(true)
        } else {
            self.fail("charte", Message::Required)
        }
    }

    /// `nom`, `prenom`, `commune`: see [`is_name`].
    fn name(&mut self, name: &str) -> Option<String> {
        let value = self.cleaned(name)?;
        if !is_name(&value) {
            return self.fail(name, Message::Invalid);
        }
        self.within_length(name, value)
    }

    /// `adresse`, `etablissement`: free text (the hygiene of [`Checker::raw`]) with at least one
    /// letter or digit.
    fn free_text(&mut self, name: &str) -> Option<String> {
        let value = self.cleaned(name)?;
        if !value.chars().any(char::is_alphanumeric) {
            return self.fail(name, Message::Invalid);
        }
        self.within_length(name, value)
    }

    /// `etablissement`: the page fills it in, read-only, with the school's name; any other name
    /// means the page was built for another school than this function's.
    fn school(&mut self, school: &str) -> Option<String> {
        const NAME: &str = "etablissement";
        let value = self.free_text(NAME)?;
        if value != clean(school) {
            return self.fail(NAME, Message::Invalid);
        }
        Some(value)
    }

    fn birth_date(&mut self, today: Date) -> Option<Date> {
        const NAME: &str = "date_naissance";
        let value = self.cleaned(NAME)?;
        let Some(date) = parse_date(&value) else {
            return self.fail(NAME, Message::Invalid);
        };
        let rules = *self.schema.rules();
        if date > today {
            return self.fail(NAME, Message::Future);
        }
        let age = age_on(date, today);
        if age < i32::from(rules.age_min) {
            return self.fail(NAME, Message::TooYoung);
        }
        if age > i32::from(rules.age_max) {
            return self.fail(NAME, Message::TooOld);
        }
        Some(date)
    }

    fn email(&mut self) -> Option<String> {
        const NAME: &str = "email";
        let value = self.raw(NAME)?.trim().to_owned();
        if value.is_empty() {
            return self.fail(NAME, Message::Required);
        }
        let Some(email) = normalise_email(&value) else {
            return self.fail(NAME, Message::Invalid);
        };
        self.within_length(NAME, email)
    }

    fn postal_code(&mut self) -> Option<String> {
        const NAME: &str = "code_postal";
        let digits: String = self.raw(NAME)?.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.is_empty() {
            return self.fail(NAME, Message::Required);
        }
        if digits.len() != 5 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return self.fail(NAME, Message::Invalid);
        }
        Some(digits)
    }

    /// Optional: `Some(None)` when empty.
    fn telephone(&mut self) -> Option<Option<String>> {
        const NAME: &str = "telephone";
        let value = self.raw(NAME)?.trim();
        if value.is_empty() {
            return Some(None);
        }
        match normalise_phone(value) {
            Some(phone) => Some(Some(phone)),
            None => self.fail(NAME, Message::Invalid),
        }
    }

    fn filiere(&mut self) -> Option<String> {
        const NAME: &str = "filiere";
        let value = self.cleaned(NAME)?;
        if !self.field(NAME).options.contains(&value) {
            return self.fail(NAME, Message::Invalid);
        }
        Some(value)
    }

    fn photo(&mut self) -> Option<()> {
        if self.input.photo_present { Some(()) } else { self.fail("photo", Message::Required) }
    }

    /// An optional hidden field: `Some(None)` when empty, the parsed value, or `None` after the
    /// `invalid` error.
    fn optional<T>(&mut self, name: &str, parse: impl Fn(&str) -> Option<T>) -> Option<Option<T>> {
        let value = self.raw(name)?.trim();
        if value.is_empty() {
            return Some(None);
        }
        match parse(value) {
            Some(parsed) => Some(Some(parsed)),
            None => self.fail(name, Message::Invalid),
        }
    }
}

/// NFC, trimmed, inner whitespace runs collapsed to one space.
fn clean(value: &str) -> String {
    let nfc: String = value.nfc().collect();
    nfc.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `c` is refused in every text value: it cannot be seen, or it is not a character.
///
/// - General category C: Cc (controls: NUL, ESC, DEL, the C1 range…), Cf (format: soft hyphen,
///   LRM/RLM, the bidi embeddings U+202A–U+202E and isolates U+2066–U+2069, the zero-width
///   U+200B–U+200D, WORD JOINER U+2060, BOM U+FEFF, the tags…), Co (private use: a font's own
///   glyphs, such as an icon), Cn (unassigned in Unicode 18.0, the noncharacters U+FDD0–U+FDEF
///   and U+xFFFE/U+xFFFF among them) and Cs (surrogates, which a Rust string cannot hold: the
///   handler refuses a part that is not UTF-8, encoded surrogates included).
/// - Except White_Space: tab, line feed, vertical tab, form feed, carriage return and NEL are Cc,
///   but a textarea or a paste produces them harmlessly, and every field already treats them as
///   spaces ([`clean`] folds them, the e-mail and phone rules refuse or drop inner spaces).
/// - Also the other Default_Ignorable_Code_Point characters, which render as nothing though
///   their category is a mark or a letter: COMBINING GRAPHEME JOINER, the variation selectors,
///   the Hangul fillers (U+115F, U+3164, which pass for letters and make a blank name look
///   filled in).
/// - And U+FFFD, the replacement character: the trace of a character lost in a conversion.
fn is_invisible_or_unknown(c: char) -> bool {
    if c.is_whitespace() {
        return false;
    }
    let category = CodePointMapData::<GeneralCategory>::new().get(c);
    GeneralCategoryGroup::Other.contains(category)
        || CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c)
        || c == char::REPLACEMENT_CHARACTER
}

/// Letters of any script (a combining mark is accepted after a letter, for the sequences NFC
/// cannot compose), spaces, hyphens and apostrophes (' and ’), with at least one letter; and no
/// letter that is a compatibility variant (see [`is_compatibility_variant`]).
fn is_name(value: &str) -> bool {
    let mut previous_is_letter = false;
    for c in value.chars() {
        let letter = c.is_alphabetic() || (previous_is_letter && is_combining_mark(c));
        if !letter && !matches!(c, ' ' | '-' | '\'' | '’') {
            return false;
        }
        if is_compatibility_variant(c) {
            return false;
        }
        previous_is_letter = letter;
    }
    value.chars().any(char::is_alphabetic)
}

/// Letters whose compatibility decomposition is not a look-alike but the ordinary spelling of
/// their script, typed by every keyboard of it: Thai SARA AM (คำ), Lao AM, HO NO and HO MO.
const NATIVE_COMPATIBILITY_LETTERS: [char; 4] = ['\u{e33}', '\u{eb3}', '\u{edc}', '\u{edd}'];

/// Whether `c` (from an NFC string) changes under NFKC: a styled or presentation form of another
/// letter, such as the mathematical alphanumerics (𝐃, 𝔇, 𝒟), the fullwidth and halfwidth forms
/// (Ｄ, ｶ), the ligatures (ﬁ, ĳ), superscripts (ᵉ), circled letters (ⓓ), the Arabic presentation
/// forms or the long s (ſ). Names are « as on the ID document », which prints none of these: they
/// come from « fancy text » generators or a PDF's glyphs, look like the plain letters and would
/// make the record differ from the Region's. For a value in NFC, having none of them is exactly
/// NFKC(value) = NFC(value), but for [`NATIVE_COMPATIBILITY_LETTERS`].
///
/// Refused with the `invalid` message rather than silently folded into the plain letters (the
/// alternative, rejected): folding would change a name behind the student's back (ĳ into « ij »,
/// ǅ into « Dž », ⓓ into « d »), and the student, who never sees the stored record, could not
/// check what the card will carry. A refusal asks for the name typed on a keyboard, which is
/// what the ID document prints.
fn is_compatibility_variant(c: char) -> bool {
    !NATIVE_COMPATIBILITY_LETTERS.contains(&c) && !std::iter::once(c).nfkc().eq(std::iter::once(c))
}

/// `YYYY-MM-DD` (the wire format of a date input), or `DD/MM/YYYY` with `/`, `.` or `-` (what a
/// person types where the browser has no date picker); `None` unless it is a real date.
fn parse_date(value: &str) -> Option<Date> {
    let number = |s: &str, lengths: std::ops::RangeInclusive<usize>| -> Option<u16> {
        let ok = lengths.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| s.parse().ok()).flatten()
    };
    let parts: Vec<&str> = value.split(['-', '/', '.']).collect();
    let [a, b, c] = parts[..] else { return None };
    let (year, month, day) = if a.len() == 4 {
        // ISO: only with hyphens and two-digit month and day.
        if value.contains(['/', '.']) {
            return None;
        }
        (number(a, 4..=4)?, number(b, 2..=2)?, number(c, 2..=2)?)
    } else {
        (number(c, 4..=4)?, number(b, 1..=2)?, number(a, 1..=2)?)
    };
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()
}

/// Age in whole years on `today` of someone born on `birth` (the birthday of 29 February is
/// reached on 1 March in common years).
pub(crate) fn age_on(birth: Date, today: Date) -> i32 {
    let before_birthday = (today.month() as u8, today.day()) < (birth.month() as u8, birth.day());
    today.year() - birth.year() - i32::from(before_birthday)
}

/// A pragmatic address check, not RFC 5322, on the value in NFC: one `@`, a local part without
/// spaces or the characters that need quoting, kept as typed; a domain that IDNA (UTS #46) turns
/// into its ASCII form, of two labels or more, the last of two characters or more.
fn normalise_email(value: &str) -> Option<String> {
    let value: String = value.nfc().collect();
    let (local, domain) = value.split_once('@')?;
    let local_ok = !local.is_empty()
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && !local.chars().any(|c| c.is_whitespace() || "@\"(),:;<>[\\]".contains(c));
    let domain = ascii_domain(domain)?;
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2 && labels.last().is_some_and(|tld| tld.len() >= 2);
    (local_ok && domain_ok).then(|| format!("{local}@{domain}"))
}

/// The IDNA ASCII form of a domain (UTS #46 ToASCII, non-transitional: `straße.de` stays
/// distinct from `strasse.de`), lower case, or `None` when IDNA refuses it. Stricter than a
/// browser's URL parsing, since an address must reach a mail server: STD3 rules (only letters,
/// digits and hyphens in ASCII), no hyphen at either end of a label, and the DNS lengths (labels
/// of 1 to 63 bytes, 253 in all, no empty label, so no trailing dot). The mappings of UTS #46
/// still apply: case, fullwidth forms, the ideographic full stop `。` for `.`.
fn ascii_domain(domain: &str) -> Option<String> {
    Uts46::new()
        .to_ascii(domain.as_bytes(), AsciiDenyList::STD3, Hyphens::CheckFirstLast, DnsLength::Verify)
        .ok()
        .map(|ascii| ascii.into_owned())
}

/// A French number in any usual writing (`06 12 34 56 78`, `06.12.34.56.78`, `0612345678`,
/// `+33 6 12 34 56 78`, `+33 (0)6 12 34 56 78`, `0033 6 12 34 56 78`) in E.164: `+33612345678`.
fn normalise_phone(value: &str) -> Option<String> {
    let compact: String =
        value.chars().filter(|&c| !(c.is_whitespace() || matches!(c, '.' | '-' | '(' | ')'))).collect();
    let national = if let Some(rest) = compact.strip_prefix("+33").or_else(|| compact.strip_prefix("0033")) {
        // `+33 (0)6…`: the trunk 0 written after the country code.
        if rest.len() == 10 { rest.strip_prefix('0')? } else { rest }
    } else {
        compact.strip_prefix('0')?
    };
    let valid =
        national.len() == 9 && national.bytes().all(|b| b.is_ascii_digit()) && !national.starts_with('0');
    valid.then(|| format!("+33{national}"))
}

/// The tests of what only Rust sees: the whole form at once, the serialisation, the Unicode data
/// and the predicates themselves. The value tables of each field (what it accepts, records and
/// refuses, the text hygiene's characters included) are in `form/tests/cases.toml`, shared with
/// the page's copy of the rules (templates/scripts/rules.js) so that both are held to the same
/// cases; `form/tests/cases.rs` runs them here.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::FORM_TOML;
    use time::macros::date;

    const TODAY: Date = date!(2025 - 09 - 01);
    const SCHOOL: &str = "Lycée Sidoine Apollinaire";

    fn schema() -> Schema {
        Schema::parse(FORM_TOML).unwrap()
    }

    /// A complete, valid form.
    fn valid() -> Input {
        let text = [
            ("charte", "on"),
            ("nom", "Dupré"),
            ("prenom", "Léa"),
            ("date_naissance", "2009-03-14"),
            ("email", "lea.dupre@example.org"),
            ("adresse", "12 rue des Écoles"),
            ("code_postal", "63000"),
            ("commune", "Clermont-Ferrand"),
            ("telephone", ""),
            ("etablissement", "Lycée Sidoine Apollinaire"),
            ("filiere", "Seconde générale et technologique"),
            ("envoi_etablissement", "on"),
            ("recadrage", ""),
            ("submission_id", "0b8e6a52-3f1c-4d0e-9a57-2f9c1d7e4b60"),
        ];
        Input {
            text: text.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            photo_present: true,
        }
    }

    /// The valid form with `field` set to `value`.
    fn with(field: &str, value: &str) -> Input {
        let mut input = valid();
        input.text.insert(field.to_owned(), value.to_owned());
        input
    }

    // A valid form gives the normalised request, with every field carried over.
    #[test]
    fn valid_form_is_accepted() {
        let demande = schema().validate(&valid(), TODAY, SCHOOL).unwrap();
        assert_eq!(
            demande,
            Demande {
                charte: true,
                nom: "Dupré".to_owned(),
                prenom: "Léa".to_owned(),
                date_naissance: date!(2009 - 03 - 14),
                email: "lea.dupre@example.org".to_owned(),
                adresse: "12 rue des Écoles".to_owned(),
                code_postal: "63000".to_owned(),
                commune: "Clermont-Ferrand".to_owned(),
                telephone: None,
                etablissement: "Lycée Sidoine Apollinaire".to_owned(),
                filiere: "Seconde générale et technologique".to_owned(),
                envoi_etablissement: true,
                recadrage: None,
                submission_id: Some(SubmissionId::parse("0b8e6a52-3f1c-4d0e-9a57-2f9c1d7e4b60").unwrap()),
            }
        );
    }

    // An empty form gets the `required` message of every required field, all at once.
    #[test]
    fn empty_form_reports_every_required_field() {
        let schema = schema();
        let errors = schema.validate(&Input::default(), TODAY, SCHOOL).unwrap_err();
        let expected: BTreeMap<String, String> = schema
            .fields()
            .iter()
            .filter(|field| field.required)
            .map(|field| (field.name.clone(), field.messages.required.clone()))
            .collect();
        assert_eq!(expected.len(), 11);
        assert_eq!(errors.0, expected);
    }

    // Several wrong fields are reported together, each with its own message.
    #[test]
    fn every_error_is_reported_at_once() {
        let schema = schema();
        let mut input = valid();
        input.text.insert("nom".into(), "R2D2".into());
        input.text.insert("email".into(), "lea@".into());
        input.text.insert("date_naissance".into(), "2030-01-01".into());
        input.text.insert("telephone".into(), "12".into());
        input.text.remove("charte");
        input.photo_present = false;
        let errors = schema.validate(&input, TODAY, SCHOOL).unwrap_err();
        let message = |field: &str, kind| schema.field(field).unwrap().messages.get(kind).to_owned();
        let expected = BTreeMap::from([
            ("charte".to_owned(), message("charte", Message::Required)),
            ("date_naissance".to_owned(), message("date_naissance", Message::Future)),
            ("email".to_owned(), message("email", Message::Invalid)),
            ("nom".to_owned(), message("nom", Message::Invalid)),
            ("photo".to_owned(), message("photo", Message::Required)),
            ("telephone".to_owned(), message("telephone", Message::Invalid)),
        ]);
        assert_eq!(errors.0, expected);
        // The summary names fields, never values.
        assert_eq!(
            errors.to_string(),
            "invalid fields: charte, date_naissance, email, nom, photo, telephone"
        );
    }

    // The look-alikes are letters to `char::is_alphabetic`: only the NFKC rule refuses them,
    // and it spares the letters of real names, the Thai and Lao AM included.
    #[test]
    fn compatibility_variants_are_told_from_letters() {
        for name in [
            "𝐃𝐮𝐩𝐫𝐞",
            "𝔇𝔲𝔭𝔯𝔢",
            "𝒟𝓊𝓅𝓇ℯ",
            "Ｄｕｐｒé",
            "ﬁlippi",
            "Ĳsbrand",
            "ǅuro",
            "Léaᵉ",
            "ⓓupré",
            "Moſes",
            "ｶﾀｶﾅ",
        ] {
            assert!(name.chars().all(char::is_alphabetic), "{name}");
            assert!(name.chars().any(is_compatibility_variant), "{name}");
            assert!(!is_name(name), "{name}");
        }
        for name in ["Lætitia Cœur", "Weiß", "Nguyễn", "คำแก้ว", "ສົມຄຳໜ້າ", "김민준", "Kaʻiulani"]
        {
            assert!(!name.chars().any(is_compatibility_variant), "{name}");
            assert!(is_name(name), "{name}");
        }
    }

    // The category data and the normalisation data are of the same Unicode version: no code
    // point that NFKD changes is unassigned for `icu_properties`.
    #[test]
    fn unicode_data_agree() {
        assert_eq!(unicode_normalization::UNICODE_VERSION, (18, 0, 0));
        let categories = CodePointMapData::<GeneralCategory>::new();
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            if !std::iter::once(c).nfkd().eq(std::iter::once(c)) {
                assert_ne!(categories.get(c), GeneralCategory::Unassigned, "U+{:04X}", u32::from(c));
            }
        }
    }

    // Names the schema does not know are ignored, the honeypot included.
    #[test]
    fn unknown_fields_are_ignored() {
        let schema = schema();
        let mut input = valid();
        input.text.insert("pays".into(), "France".into());
        input.text.insert(schema.honeypot().into(), "https://spam.example".into());
        assert_eq!(schema.validate(&input, TODAY, SCHOOL), schema.validate(&valid(), TODAY, SCHOOL));
    }

    // The honeypot marks a request as spam only when it holds something.
    #[test]
    fn is_spam() {
        let schema = schema();
        let honeypot = schema.honeypot();
        let cases =
            [(None, false), (Some(""), false), (Some("  "), false), (Some("https://spam.example"), true)];
        for (value, spam) in cases {
            let mut input = valid();
            if let Some(value) = value {
                input.text.insert(honeypot.to_owned(), value.to_owned());
            }
            assert_eq!(schema.is_spam(&input), spam, "{value:?}");
        }
    }

    // The request serialises with the date as YYYY-MM-DD and without the crop or submission id.
    #[test]
    fn demande_serialises() {
        let mut input = with("recadrage", "1,2,3,4");
        input.text.insert("telephone".into(), "06 12 34 56 78".into());
        let demande = schema().validate(&input, TODAY, SCHOOL).unwrap();
        let json = serde_json::to_value(&demande).unwrap();
        assert_eq!(json["date_naissance"], "2009-03-14");
        assert_eq!(json["telephone"], "+33612345678");
        assert_eq!(json["charte"], true);
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 12);
        assert!(!keys.contains(&"recadrage") && !keys.contains(&"submission_id"));
        let errors = schema().validate(&with("nom", "R2D2"), TODAY, SCHOOL).unwrap_err();
        let json = serde_json::to_value(&errors).unwrap();
        assert!(json["nom"].as_str().unwrap().starts_with("Le nom ne peut contenir"));
    }
}
