//! The form schema read from `content/form.toml`: the fields in display order with their French
//! texts, the honeypot's name and the rules (age range, length bounds) shared by the page and the
//! handler.
//!
//! What a field *is* (its wire name, kind, whether it is required, which messages it can show) is
//! fixed by the validation code and listed in [`SPECS`]; the file gives the texts and the tunable
//! rules, and [`Schema::parse`] checks that both agree, so a bad edit stops the build or the start
//! of the function instead of reaching a student.

use serde::{Deserialize, Serialize};
use time::{Date, Duration};
use toml::Spanned;

use crate::messages::{Texts, TextsFile};

use Message::{Future, Invalid, Invisible, Required, TooLong, TooOld, TooYoung};

/// The form, ready to render and to validate with.
#[derive(Debug, Clone, Serialize)]
pub struct Schema {
    honeypot: String,
    rules: Rules,
    fields: Vec<Field>,
    messages: Texts,
    /// The contract's hash: see [`Schema::version`].
    #[serde(skip)]
    version: String,
}

/// The rules of `[rules]` that are not tied to one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Youngest age accepted on the day of the request.
    pub age_min: u8,
    /// Oldest age accepted on the day of the request.
    pub age_max: u8,
    /// Any text value longer than this, in bytes as sent, is refused before any processing.
    pub max_field_bytes: usize,
}

/// One input of the form: everything the page needs to render it and check it live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The wire name (the `name` attribute), a public API.
    pub name: String,
    pub label: String,
    #[serde(default)]
    pub hint: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    /// The `autocomplete` attribute, e.g. `family-name`.
    #[serde(default)]
    pub autocomplete: Option<String>,
    /// The `inputmode` attribute, e.g. `numeric`.
    #[serde(default)]
    pub inputmode: Option<String>,
    /// Longest value in characters, after normalisation (also the `maxlength` attribute).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// An HTML `pattern` (matched with the `v` flag, anchored) mirroring the server's rule, where
    /// one fits. Set by the code, never by the file, so that it cannot drift from the rule.
    #[serde(skip_deserializing)]
    pub pattern: Option<String>,
    /// The choices of a `select` (the filières), in display order.
    #[serde(default)]
    pub options: Vec<String>,
    /// Whether a checkbox starts checked.
    #[serde(default)]
    pub default_checked: bool,
    #[serde(default)]
    pub messages: Messages,
}

/// How a field is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Email,
    Tel,
    Date,
    Select,
    Checkbox,
    File,
    Hidden,
}

/// The French error texts of a field. A message is empty exactly when the field can never be in
/// that state (checked by [`Schema::parse`]), and left out of the serialised form then.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Messages {
    /// The field is required and was left empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub required: String,
    /// The value does not follow the field's rule.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub invalid: String,
    /// The value holds a character that cannot be seen or is not a character at all (a control or
    /// format character, a private-use or unassigned code point: see `validate`), usually pasted
    /// from another document. Fields that a student does not type (the hidden ones, the read-only
    /// establishment, the select) show `invalid` instead.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub invisible: String,
    /// The value is longer than `max_length`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub too_long: String,
    /// The birth date is after today.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub future: String,
    /// The age is below `age_min`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub too_young: String,
    /// The age is above `age_max`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub too_old: String,
}

/// The kinds of message, to name them in errors and to pick one when validating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Message {
    Required,
    Invalid,
    Invisible,
    TooLong,
    Future,
    TooYoung,
    TooOld,
}

const ALL_MESSAGES: [Message; 7] = [
    Message::Required,
    Message::Invalid,
    Message::Invisible,
    Message::TooLong,
    Message::Future,
    Message::TooYoung,
    Message::TooOld,
];

impl Message {
    fn key(self) -> &'static str {
        match self {
            Message::Required => "required",
            Message::Invalid => "invalid",
            Message::Invisible => "invisible",
            Message::TooLong => "too_long",
            Message::Future => "future",
            Message::TooYoung => "too_young",
            Message::TooOld => "too_old",
        }
    }
}

impl Messages {
    pub(crate) fn get(&self, message: Message) -> &str {
        match message {
            Message::Required => &self.required,
            Message::Invalid => &self.invalid,
            Message::Invisible => &self.invisible,
            Message::TooLong => &self.too_long,
            Message::Future => &self.future,
            Message::TooYoung => &self.too_young,
            Message::TooOld => &self.too_old,
        }
    }

    fn get_mut(&mut self, message: Message) -> &mut String {
        match message {
            Message::Required => &mut self.required,
            Message::Invalid => &mut self.invalid,
            Message::Invisible => &mut self.invisible,
            Message::TooLong => &mut self.too_long,
            Message::Future => &mut self.future,
            Message::TooYoung => &mut self.too_young,
            Message::TooOld => &mut self.too_old,
        }
    }
}

/// The earliest and latest birth dates the age range accepts on a given day: the `min` and `max`
/// attributes of the date input. Serialised as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    #[serde(serialize_with = "crate::serialize_date")]
    pub min: Date,
    #[serde(serialize_with = "crate::serialize_date")]
    pub max: Date,
}

/// Why `form.toml` was refused: what is wrong, and where ([`SchemaError::line`]).
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// Not TOML, or not the file's shape: the error carries its own position.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A field's entry is wrong (`line`: its `name`), or a field is missing (no line).
    #[error("field `{field}`: {problem}")]
    Field { line: Option<usize>, field: String, problem: String },
    #[error("`honeypot`: {problem}")]
    Honeypot { line: usize, problem: String },
    #[error("`[rules]`: {problem}")]
    Rules { line: usize, problem: String },
    #[error("`[messages.{table}]` `{key}`: {problem}")]
    Message { line: usize, table: &'static str, key: &'static str, problem: String },
}

impl SchemaError {
    /// The 1-based line of `form.toml` the error is about, when there is one. A
    /// [`SchemaError::Toml`] carries a byte span instead (`toml::de::Error::span`).
    pub fn line(&self) -> Option<usize> {
        match self {
            SchemaError::Toml(_) => None,
            SchemaError::Field { line, .. } => *line,
            SchemaError::Honeypot { line, .. }
            | SchemaError::Rules { line, .. }
            | SchemaError::Message { line, .. } => Some(*line),
        }
    }
}

/// The 1-based line of byte `offset` in `src`.
pub(crate) fn line_of(src: &str, offset: usize) -> usize {
    src.as_bytes()[..offset.min(src.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn field_error(field: &str, problem: impl Into<String>) -> SchemaError {
    SchemaError::Field { line: None, field: field.to_owned(), problem: problem.into() }
}

/// What the validation code expects of one wire field.
struct Spec {
    name: &'static str,
    kind: FieldKind,
    required: bool,
    /// Whether the field has a `max_length` (and so a `too_long` message).
    bounded: bool,
    /// The messages the field can show; the others must be absent.
    messages: &'static [Message],
    pattern: Option<&'static str>,
}

/// A name, a first name or a commune: optional separators, a letter, then letters (with their
/// combining marks), spaces, hyphens and apostrophes. Mirrors `validate::is_name`, less what a
/// pattern cannot say (the look-alike letters that NFKC changes, the default-ignorable ones),
/// which the server refuses with the same `invalid` or with `invisible`. A browser's `\s` lacks
/// NEL (U+0085), which the rules fold into a space like every White_Space character: it is added
/// so that the pattern never blocks a value the function accepts (the shared cases check it).
const NAME_PATTERN: &str = r"[\s\x85'’\-]*\p{L}[\p{L}\p{M}\s\x85'’\-]*";
/// Five digits, spaces allowed anywhere (`63 000`). Mirrors the postal-code check in `validate`.
const POSTAL_CODE_PATTERN: &str = r"[\s\x85]*(\d[\s\x85]*){5}";

/// The messages of a text field that a student types and that has a length bound.
const TYPED_BOUNDED: &[Message] = &[Required, Invalid, Invisible, TooLong];

/// Every wire field, in the contract's order (the display order is the file's). `Invisible` is for
/// the fields a student types or pastes into; the others show `Invalid` for the same characters.
const SPECS: [Spec; 15] = [
    spec("charte", FieldKind::Checkbox, true, false, &[Required], None),
    spec("nom", FieldKind::Text, true, true, TYPED_BOUNDED, Some(NAME_PATTERN)),
    spec("prenom", FieldKind::Text, true, true, TYPED_BOUNDED, Some(NAME_PATTERN)),
    spec(
        "date_naissance",
        FieldKind::Date,
        true,
        false,
        &[Required, Invalid, Invisible, Future, TooYoung, TooOld],
        None,
    ),
    spec("email", FieldKind::Email, true, true, TYPED_BOUNDED, None),
    spec("adresse", FieldKind::Text, true, true, TYPED_BOUNDED, None),
    spec(
        "code_postal",
        FieldKind::Text,
        true,
        false,
        &[Required, Invalid, Invisible],
        Some(POSTAL_CODE_PATTERN),
    ),
    spec("commune", FieldKind::Text, true, true, TYPED_BOUNDED, Some(NAME_PATTERN)),
    spec("telephone", FieldKind::Tel, false, false, &[Invalid, Invisible], None),
    // Read-only: the page fills it in with the school's name.
    spec("etablissement", FieldKind::Text, true, true, &[Required, Invalid, TooLong], None),
    spec("filiere", FieldKind::Select, true, false, &[Required, Invalid], None),
    spec("envoi_etablissement", FieldKind::Checkbox, false, false, &[], None),
    spec("photo", FieldKind::File, true, false, &[Required], None),
    spec("recadrage", FieldKind::Hidden, false, false, &[Invalid], None),
    spec("submission_id", FieldKind::Hidden, false, false, &[Invalid], None),
];

/// Whether the wire field `name` can show `message`.
pub(crate) fn can_show(name: &str, message: Message) -> bool {
    SPECS.iter().any(|spec| spec.name == name && spec.messages.contains(&message))
}

const fn spec(
    name: &'static str,
    kind: FieldKind,
    required: bool,
    bounded: bool,
    messages: &'static [Message],
    pattern: Option<&'static str>,
) -> Spec {
    Spec { name, kind, required, bounded, messages, pattern }
}

/// The longest e-mail address that can be delivered (RFC 5321 path limit minus the brackets).
const EMAIL_MAX_LENGTH: usize = 254;

/// The file as written, with the positions the errors need.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchemaFile {
    honeypot: Spanned<String>,
    rules: Spanned<Rules>,
    fields: Vec<Spanned<Field>>,
    messages: TextsFile,
}

impl Schema {
    /// Reads and checks `form.toml`: unknown keys, a missing, duplicate or unknown field, a kind or
    /// `required` flag that the code does not expect, a missing or unused message, an unknown
    /// placeholder, an empty text or an inconsistent rule are all errors.
    ///
    /// Labels, hints and messages may use `{age_min}`, `{age_max}` and, on a field with a
    /// `max_length`, `{max_length}`: they are replaced here, so texts follow the rules.
    pub fn parse(src: &str) -> Result<Schema, SchemaError> {
        let file: SchemaFile = toml::from_str(src)?;
        let line = |span: std::ops::Range<usize>| line_of(src, span.start);
        let rules_line = line(file.rules.span());
        let rules = file.rules.into_inner();
        let rules_error = |problem: String| SchemaError::Rules { line: rules_line, problem };
        if rules.age_min >= rules.age_max {
            return Err(rules_error(format!(
                "`age_min` ({}) must be below `age_max` ({})",
                rules.age_min, rules.age_max
            )));
        }
        if rules.max_field_bytes == 0 {
            return Err(rules_error("`max_field_bytes` must be positive".to_owned()));
        }
        let honeypot_line = line(file.honeypot.span());
        let honeypot = file.honeypot.into_inner();
        let honeypot_error = |problem: String| SchemaError::Honeypot { line: honeypot_line, problem };
        if honeypot.is_empty() || !honeypot.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            return Err(honeypot_error(format!("`{honeypot}` must be a name of lower-case letters and `_`")));
        }
        if SPECS.iter().any(|spec| spec.name == honeypot) {
            return Err(honeypot_error(format!("`{honeypot}` is already a field of the form")));
        }

        let mut fields = Vec::with_capacity(file.fields.len());
        for entry in file.fields {
            let field_line = line(entry.span());
            let at_line = |error: SchemaError| match error {
                SchemaError::Field { field, problem, .. } => {
                    SchemaError::Field { line: Some(field_line), field, problem }
                }
                other => other,
            };
            let mut field = entry.into_inner();
            let spec = SPECS
                .iter()
                .find(|spec| spec.name == field.name)
                .ok_or_else(|| at_line(field_error(&field.name, "is not a field of the form")))?;
            if fields.iter().any(|seen: &Field| seen.name == field.name) {
                return Err(at_line(field_error(&field.name, "appears twice")));
            }
            check_field(&field, spec, &rules).map_err(at_line)?;
            fill_placeholders(&mut field, &rules).map_err(at_line)?;
            field.pattern = spec.pattern.map(str::to_owned);
            fields.push(field);
        }
        if let Some(missing) = SPECS.iter().find(|spec| !fields.iter().any(|f| f.name == spec.name)) {
            return Err(field_error(missing.name, "is missing"));
        }
        let messages = file.messages.resolve(src)?;
        let mut schema = Schema { honeypot, rules, fields, messages, version: String::new() };
        schema.version = crate::contract::version(&schema);
        Ok(schema)
    }

    /// The texts of `[messages]`.
    pub fn messages(&self) -> &Texts {
        &self.messages
    }

    /// A short hash of the contract the page is built with (fields, rules, texts, limits,
    /// formats, framing): the page sends it with each request and the function compares it with
    /// its own, so that a site built from another `form.toml` than the deployed function's shows
    /// in the logs.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The fields in display order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// The name of the honeypot input: hidden from people, filled by bots.
    pub fn honeypot(&self) -> &str {
        &self.honeypot
    }

    /// The age range and the byte bound.
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The field with this wire name. Every wire field is present once `parse` succeeded.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The birth dates accepted on `today`: from the day after someone turned `age_max + 1` to
    /// the day someone turns `age_min`. Someone born on 29 February has a birthday on 1 March in
    /// other years, consistently with the validation.
    pub fn birth_date_range(&self, today: Date) -> DateRange {
        let max = years_before(today, self.rules.age_min);
        let min = years_before(today, self.rules.age_max + 1) + Duration::DAY;
        DateRange { min, max }
    }
}

/// The same day `years` years earlier; 29 February becomes 28 February in a common year.
fn years_before(date: Date, years: u8) -> Date {
    let year = date.year() - i32::from(years);
    let day = date.day().min(date.month().length(year));
    Date::from_calendar_date(year, date.month(), day).expect("the day is clamped to the month")
}

/// Checks one field against what the code expects of it.
fn check_field(field: &Field, spec: &Spec, rules: &Rules) -> Result<(), SchemaError> {
    let name = spec.name;
    if field.kind != spec.kind {
        return Err(field_error(name, format!("`kind` must be `{}`", kind_name(spec.kind))));
    }
    if field.required != spec.required {
        return Err(field_error(name, format!("`required` must be {}", spec.required)));
    }
    if field.label.trim().is_empty() {
        return Err(field_error(name, "`label` is empty"));
    }
    if field.hint.as_ref().is_some_and(|hint| hint.trim().is_empty()) {
        return Err(field_error(name, "`hint` is empty: remove it or write one"));
    }
    for (key, value) in [("autocomplete", &field.autocomplete), ("inputmode", &field.inputmode)] {
        let token = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b' ';
        if value.as_ref().is_some_and(|v| v.is_empty() || !v.bytes().all(token)) {
            return Err(field_error(name, format!("`{key}` must be lower-case words")));
        }
    }
    match (spec.bounded, field.max_length) {
        (true, None) => return Err(field_error(name, "`max_length` is missing")),
        (false, Some(_)) => return Err(field_error(name, "`max_length` does not apply here")),
        (true, Some(0)) => return Err(field_error(name, "`max_length` must be positive")),
        (true, Some(max)) if max.saturating_mul(4) > rules.max_field_bytes => {
            // A value within `max_length` characters of up to 4 bytes each must get past the
            // byte bound, or the student would see the wrong message.
            return Err(field_error(
                name,
                format!("`max_length` × 4 exceeds `max_field_bytes` ({})", rules.max_field_bytes),
            ));
        }
        (true, Some(max)) if spec.kind == FieldKind::Email && max > EMAIL_MAX_LENGTH => {
            return Err(field_error(name, format!("`max_length` must be at most {EMAIL_MAX_LENGTH}")));
        }
        _ => {}
    }
    if spec.kind == FieldKind::Select {
        check_options(field, rules)?;
    } else if !field.options.is_empty() {
        return Err(field_error(name, "`options` apply only to a select"));
    }
    if field.default_checked && spec.kind != FieldKind::Checkbox {
        return Err(field_error(name, "`default_checked` applies only to a checkbox"));
    }
    for message in ALL_MESSAGES {
        let text = field.messages.get(message);
        let expected = spec.messages.contains(&message);
        if expected && text.trim().is_empty() {
            return Err(field_error(name, format!("message `{}` is missing", message.key())));
        }
        if !expected && !text.is_empty() {
            return Err(field_error(
                name,
                format!("message `{}` can never be shown: remove it", message.key()),
            ));
        }
    }
    Ok(())
}

/// The options of a select: at least one, distinct, not blank, not padded, within the byte bound.
fn check_options(field: &Field, rules: &Rules) -> Result<(), SchemaError> {
    let name = &field.name;
    if field.options.is_empty() {
        return Err(field_error(name, "`options` is empty"));
    }
    for (i, option) in field.options.iter().enumerate() {
        if option.trim().is_empty() || option.trim() != option || option.contains("  ") {
            return Err(field_error(name, format!("option `{option}` is blank or badly spaced")));
        }
        if option.len() > rules.max_field_bytes {
            return Err(field_error(name, format!("option `{option}` exceeds `max_field_bytes`")));
        }
        if field.options[..i].contains(option) {
            return Err(field_error(name, format!("option `{option}` appears twice")));
        }
    }
    Ok(())
}

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Email => "email",
        FieldKind::Tel => "tel",
        FieldKind::Date => "date",
        FieldKind::Select => "select",
        FieldKind::Checkbox => "checkbox",
        FieldKind::File => "file",
        FieldKind::Hidden => "hidden",
    }
}

/// Replaces the placeholders in the label, hint and messages of a field.
fn fill_placeholders(field: &mut Field, rules: &Rules) -> Result<(), SchemaError> {
    let mut values = vec![("{age_min}", rules.age_min.to_string()), ("{age_max}", rules.age_max.to_string())];
    if let Some(max) = field.max_length {
        values.push(("{max_length}", max.to_string()));
    }
    let name = field.name.clone();
    let fill = |where_: &str, text: &mut String| -> Result<(), SchemaError> {
        for (placeholder, value) in &values {
            *text = text.replace(placeholder, value);
        }
        match text.find('{') {
            Some(start) => {
                let rest = &text[start..];
                let end = rest.find('}').map_or(rest.len(), |end| end + 1);
                Err(field_error(&name, format!("{where_}: unknown placeholder `{}`", &rest[..end])))
            }
            None => Ok(()),
        }
    };
    fill("label", &mut field.label)?;
    if let Some(hint) = &mut field.hint {
        fill("hint", hint)?;
    }
    for message in ALL_MESSAGES {
        fill(&format!("message `{}`", message.key()), field.messages.get_mut(message))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FORM_TOML;
    use crate::validate::age_on;
    use time::macros::date;

    fn real() -> Schema {
        Schema::parse(FORM_TOML).expect("content/form.toml parses")
    }

    /// `FORM_TOML` with `from` replaced by `to` once; the pattern must be there, so that a test
    /// never passes because its edit silently did nothing.
    fn edited(from: &str, to: &str) -> String {
        assert_eq!(FORM_TOML.matches(from).count(), 1, "pattern `{from}` must occur once");
        FORM_TOML.replacen(from, to, 1)
    }

    /// `FORM_TOML` without the `[[fields]]` block of `name`.
    fn without_field(name: &str) -> String {
        let marker = format!("[[fields]]\nname = \"{name}\"\n");
        let start = FORM_TOML.find(&marker).expect("the field is in the file");
        let rest = &FORM_TOML[start + 1..];
        let next = ["[[fields]]", "\n# ----"].iter().filter_map(|marker| rest.find(marker)).min();
        let end = next.map_or(FORM_TOML.len(), |e| start + 1 + e);
        format!("{}{}", &FORM_TOML[..start], &FORM_TOML[end..])
    }

    // The real file parses, lists every wire field once in display order, and gets its patterns
    // and placeholders filled in.
    #[test]
    fn real_file_parses() {
        let schema = real();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "charte",
                "nom",
                "prenom",
                "date_naissance",
                "email",
                "adresse",
                "code_postal",
                "commune",
                "telephone",
                "etablissement",
                "filiere",
                "envoi_etablissement",
                "photo",
                "recadrage",
                "submission_id"
            ]
        );
        assert_eq!(schema.honeypot(), "site_web");
        assert_eq!(*schema.rules(), Rules { age_min: 14, age_max: 25, max_field_bytes: 1024 });
        let field = |name| schema.field(name).unwrap();
        assert_eq!(field("nom").pattern.as_deref(), Some(NAME_PATTERN));
        assert_eq!(field("code_postal").pattern.as_deref(), Some(POSTAL_CODE_PATTERN));
        assert_eq!(field("email").pattern, None);
        assert!(field("nom").messages.too_long.contains("50\u{202f}caractères"));
        assert!(field("date_naissance").messages.too_young.contains("14\u{202f}ans"));
        assert!(field("date_naissance").messages.too_old.contains("25\u{202f}ans"));
        assert!(field("envoi_etablissement").default_checked);
        assert!(field("filiere").options.contains(&"Seconde générale et technologique".to_owned()));
        for field in schema.fields() {
            for message in ALL_MESSAGES {
                assert!(!field.messages.get(message).contains('{'), "{}", field.name);
            }
        }
    }

    /// The problems of French typography in `text`, if any.
    fn typography_problem(text: &str) -> Option<&'static str> {
        let chars: Vec<char> = text.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let before = i.checked_sub(1).map(|j| chars[j]);
            let after = chars.get(i + 1).copied();
            match c {
                '\'' => return Some("straight apostrophe instead of ’"),
                '"' => return Some("straight quotes instead of « »"),
                ';' | ':' | '!' | '?' if before != Some('\u{202f}') => {
                    return Some("no narrow no-break space before ; : ! ?");
                }
                '«' if after != Some('\u{202f}') => return Some("no narrow no-break space after «"),
                '»' if before != Some('\u{202f}') => return Some("no narrow no-break space before »"),
                '\u{a0}' => return Some("no-break space where a narrow one belongs"),
                _ => {}
            }
        }
        None
    }

    // The checker itself spots each kind of mistake and accepts correct text.
    #[test]
    fn typography_checker_works() {
        let cases = [
            ("Indiquez votre nom\u{202f}: ici.", None),
            ("«\u{202f}Appliquer\u{202f}» puis l’envoi\u{202f}!", None),
            ("Indiquez votre nom : ici.", Some("no narrow no-break space before ; : ! ?")),
            ("l'envoi", Some("straight apostrophe instead of ’")),
            ("« Appliquer\u{202f}»", Some("no narrow no-break space after «")),
            ("«\u{202f}Appliquer »", Some("no narrow no-break space before »")),
        ];
        for (text, expected) in cases {
            assert_eq!(typography_problem(text), expected, "text `{text}`");
        }
    }

    // Every student-facing string of the real file follows French typography.
    #[test]
    fn real_file_follows_french_typography() {
        for field in real().fields() {
            let mut texts = vec![field.label.as_str()];
            texts.extend(field.hint.as_deref());
            texts.extend(field.options.iter().map(String::as_str));
            texts.extend(ALL_MESSAGES.iter().map(|&m| field.messages.get(m)).filter(|t| !t.is_empty()));
            for text in texts {
                assert_eq!(typography_problem(text), None, "field `{}`: `{text}`", field.name);
            }
        }
    }

    // Each kind of bad edit is refused with a message naming the key or field and the problem.
    #[test]
    fn bad_files_are_refused() {
        let honeypot_line = FORM_TOML.lines().position(|line| line.starts_with("honeypot =")).unwrap() + 1;
        let honeypot_line = format!("line {honeypot_line}");
        let cases = [
            (format!("colour = \"red\"\n{FORM_TOML}"), "unknown field `colour`"),
            (edited("name = \"nom\"\n", "name = \"nom\"\ncolor = 1\n"), "unknown field `color`"),
            (edited("name = \"nom\"\n", "name = \"nom\"\npattern = \"[a-z]+\"\n"), "unknown field `pattern`"),
            (edited("age_min = 14\n", "age_min = 14\nage_mini = 1\n"), "unknown field `age_mini`"),
            (
                edited(
                    "messages.required = \"Indiquez votre nom ",
                    "messages.requis = \"Indiquez votre nom ",
                ),
                "unknown field `requis`",
            ),
            (edited("kind = \"date\"", "kind = \"calendar\""), "unknown variant `calendar`"),
            (edited("honeypot = \"site_web\"\n", ""), "missing field `honeypot`"),
            (
                edited("name = \"nom\"\nkind = \"text\"", "name = \"nom\"\nkind = \"text\"\nlabel = \"Nom\""),
                "duplicate key",
            ),
            (without_field("photo"), "field `photo`: is missing"),
            (without_field("submission_id"), "field `submission_id`: is missing"),
            (edited("name = \"prenom\"", "name = \"nom\""), "field `nom`: appears twice"),
            (edited("name = \"prenom\"", "name = \"prénom\""), "field `prénom`: is not a field of the form"),
            (
                edited("name = \"nom\"\nkind = \"text\"", "name = \"nom\"\nkind = \"email\""),
                "field `nom`: `kind` must be `text`",
            ),
            (
                edited("kind = \"tel\"\nrequired = false", "kind = \"tel\"\nrequired = true"),
                "field `telephone`: `required` must be false",
            ),
            (
                edited("age_min = 14", "age_min = 25"),
                "`[rules]`: `age_min` (25) must be below `age_max` (25)",
            ),
            (edited("age_min = 14", "age_min = 30"), "`age_min` (30) must be below `age_max` (25)"),
            (edited("max_field_bytes = 1024", "max_field_bytes = 0"), "`max_field_bytes` must be positive"),
            (
                edited("max_field_bytes = 1024", "max_field_bytes = 199"),
                "field `nom`: `max_length` × 4 exceeds `max_field_bytes` (199)",
            ),
            (
                edited("honeypot = \"site_web\"", "honeypot = \"email\""),
                "`honeypot`: `email` is already a field",
            ),
            (
                edited("honeypot = \"site_web\"", "honeypot = \"Site Web\""),
                "`honeypot`: `Site Web` must be a name",
            ),
            (
                edited(
                    "max_length = 50\nmessages.required = \"Indiquez votre nom",
                    "messages.required = \"Indiquez votre nom",
                ),
                "field `nom`: `max_length` is missing",
            ),
            (
                edited("max_length = 254", "max_length = 255"),
                "field `email`: `max_length` must be at most 254",
            ),
            (edited("max_length = 254", "max_length = 0"), "field `email`: `max_length` must be positive"),
            (
                edited("inputmode = \"numeric\"", "inputmode = \"numeric\"\nmax_length = 5"),
                "field `code_postal`: `max_length` does not apply here",
            ),
            (
                edited("inputmode = \"numeric\"", "inputmode = \"Numeric\""),
                "field `code_postal`: `inputmode` must be lower-case words",
            ),
            (
                edited("messages.required = \"Indiquez votre commune.\"", "messages.required = \"  \""),
                "field `commune`: message `required` is missing",
            ),
            (
                edited("messages.required = \"Indiquez votre commune.\"\n", ""),
                "field `commune`: message `required` is missing",
            ),
            (
                edited(
                    "messages.required = \"Indiquez votre commune.\"",
                    "messages.required = \"Indiquez votre commune.\"\nmessages.future = \"Non.\"",
                ),
                "field `commune`: message `future` can never be shown",
            ),
            (
                edited("default_checked = true", "default_checked = true\nmessages.required = \"Cochez.\""),
                "field `envoi_etablissement`: message `required` can never be shown",
            ),
            (edited("label = \"Commune\"", "label = \"\""), "field `commune`: `label` is empty"),
            (
                edited("label = \"Cadrage de la photo\"", "label = \"Cadrage de la photo\"\nhint = \" \""),
                "field `recadrage`: `hint` is empty",
            ),
            (
                edited("{max_length}\u{202f}caractères\u{202f}: vérifiez-la", "{longueur}\u{202f}caractères"),
                "field `email`: message `too_long`: unknown placeholder `{longueur}`",
            ),
            (
                edited("label = \"Commune\"", "label = \"Commune {age\""),
                "field `commune`: label: unknown placeholder `{age`",
            ),
            (
                edited("label = \"Code postal\"", "label = \"Code postal {max_length}\""),
                "field `code_postal`: label: unknown placeholder `{max_length}`",
            ),
            (
                edited("label = \"Commune\"", "label = \"Commune\"\noptions = [\"A\"]"),
                "field `commune`: `options` apply only to a select",
            ),
            (
                edited("label = \"Commune\"", "label = \"Commune\"\ndefault_checked = true"),
                "field `commune`: `default_checked` applies only to a checkbox",
            ),
            (
                edited("    \"Première générale\",\n", "    \"Seconde générale et technologique\",\n"),
                "field `filiere`: option `Seconde générale et technologique` appears twice",
            ),
            (
                edited("    \"Première générale\",\n", "    \" Première générale\",\n"),
                "field `filiere`: option ` Première générale` is blank or badly spaced",
            ),
            (edited("honeypot = \"site_web\"", "honeypot = \"site_web"), &honeypot_line),
            (
                edited("messages.invisible = \"Le nom contient", "messages.too_short = \"Le nom contient"),
                "unknown field `too_short`",
            ),
            (
                edited("messages.invisible = \"Le prénom contient", "# messages.invisible = \"Le prénom"),
                "field `prenom`: message `invisible` is missing",
            ),
            (
                edited(
                    "messages.required = \"Indiquez le nom de votre établissement.\"",
                    "messages.required = \"Indiquez le nom de votre établissement.\"\n\
                     messages.invisible = \"Non.\"",
                ),
                "field `etablissement`: message `invisible` can never be shown",
            ),
            (
                edited(
                    "label = \"Cadrage de la photo\"",
                    "label = \"Cadrage de la photo\"\nmessages.invisible = \"Non.\"",
                ),
                "field `recadrage`: message `invisible` can never be shown",
            ),
        ];
        for (src, expected) in cases {
            let error = Schema::parse(&src).expect_err(expected).to_string();
            assert!(error.contains(expected), "expected `{expected}`, got `{error}`");
        }
    }

    // Each error names the line it is about: the field's entry, `[rules]`, the honeypot, the text.
    #[test]
    fn errors_carry_their_line() {
        let line_with = |src: &str, needle: &str| {
            let at = src.find(needle).unwrap_or_else(|| panic!("`{needle}` is in the file"));
            line_of(src, at)
        };
        let cases: Vec<(String, &str, &str)> = vec![
            (
                edited("label = \"Commune\"", "label = \"\""),
                "[[fields]]\nname = \"commune\"",
                "field `commune`: `label` is empty",
            ),
            (
                edited("age_min = 14", "age_min = 30"),
                "[rules]",
                "`[rules]`: `age_min` (30) must be below `age_max` (25)",
            ),
            (
                edited("honeypot = \"site_web\"", "honeypot = \"email\""),
                "honeypot = ",
                "`honeypot`: `email` is already a field of the form",
            ),
            (
                edited("camera_busy = \"La caméra", "camera_busy = \"{largeur} La caméra"),
                "camera_busy = ",
                "`[messages.page]` `camera_busy`: unknown placeholder `{largeur}`",
            ),
            (
                edited(
                    "too_small = \"Cette photo est trop petite ({width}",
                    "too_small = \"Cette photo est trop petite ({size}",
                ),
                "too_small = ",
                "`[messages.photo]` `too_small`: unknown placeholder `{size}` (this text may use `{width}`, `{height}`)",
            ),
            (
                edited("not_found_title = \"Page introuvable\"", "not_found_title = \" \""),
                "not_found_title",
                "`[messages.answer]` `not_found_title`: is empty",
            ),
        ];
        for (src, needle, expected) in cases {
            let error = Schema::parse(&src).expect_err(expected);
            assert_eq!(error.to_string(), expected);
            assert_eq!(error.line(), Some(line_with(&src, needle)), "{expected}");
        }
        let missing = Schema::parse(&without_field("photo")).unwrap_err();
        assert_eq!((missing.to_string().as_str(), missing.line()), ("field `photo`: is missing", None));
    }

    // A select with no option at all is refused.
    #[test]
    fn empty_options_are_refused() {
        let start = FORM_TOML.find("options = [").unwrap();
        let end = start + FORM_TOML[start..].find("]\n").unwrap() + 2;
        let src = format!("{}options = []\n{}", &FORM_TOML[..start], &FORM_TOML[end..]);
        let error = Schema::parse(&src).unwrap_err().to_string();
        assert_eq!(error, "field `filiere`: `options` is empty");
    }

    // The date input's bounds are exactly the birth dates whose age is in range, every day of
    // three years including a 29 February.
    #[test]
    fn birth_date_range_matches_the_age_rule() {
        let schema = real();
        let (age_min, age_max) = (14, 25);
        let mut today = date!(2027 - 01 - 01);
        while today <= date!(2029 - 12 - 31) {
            let DateRange { min, max } = schema.birth_date_range(today);
            assert_eq!(age_on(min, today), age_max, "min on {today}");
            assert_eq!(age_on(min - Duration::DAY, today), age_max + 1, "before min on {today}");
            assert_eq!(age_on(max, today), age_min, "max on {today}");
            assert_eq!(age_on(max + Duration::DAY, today), age_min - 1, "after max on {today}");
            today += Duration::DAY;
        }
        let range = schema.birth_date_range(date!(2025 - 09 - 01));
        assert_eq!(range, DateRange { min: date!(1999 - 09 - 02), max: date!(2011 - 09 - 01) });
    }

    // The schema serialises to the JSON the page embeds: fields with their kind, pattern and
    // messages (empty ones left out), the honeypot and the rules; dates as YYYY-MM-DD.
    #[test]
    fn serialises_for_the_page() {
        let schema = real();
        let json = serde_json::to_value(&schema).unwrap();
        assert_eq!(json["honeypot"], "site_web");
        assert_eq!(json["rules"]["age_min"], 14);
        let fields = json["fields"].as_array().unwrap();
        assert_eq!(fields.len(), 15);
        assert_eq!(fields[1]["name"], "nom");
        assert_eq!(fields[1]["kind"], "text");
        assert_eq!(fields[1]["pattern"], NAME_PATTERN);
        assert_eq!(fields[1]["max_length"], 50);
        assert!(fields[1]["messages"]["too_long"].as_str().unwrap().contains("50"));
        assert!(fields[1]["messages"]["invisible"].as_str().unwrap().contains("invisible"));
        let etablissement = &fields[9];
        assert_eq!(etablissement["name"], "etablissement");
        let mut keys: Vec<&str> =
            etablissement["messages"].as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["invalid", "required", "too_long"]);
        assert_eq!(fields[3]["kind"], "date");
        let envoi = &fields[11];
        assert_eq!(envoi["default_checked"], true);
        assert_eq!(envoi["messages"], serde_json::json!({}));
        let range = schema.birth_date_range(date!(2025 - 09 - 01));
        assert_eq!(
            serde_json::to_value(range).unwrap(),
            serde_json::json!({"min": "1999-09-02", "max": "2011-09-01"})
        );
    }
}
