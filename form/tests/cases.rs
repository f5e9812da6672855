//! Runs the shared case table, `cases.toml`, against the `form` crate: every field case through
//! [`Schema::validate`] (from the table's valid form, with the case's one change), the text
//! hygiene's characters in every text field, the photo formats through [`format::sniff`], the
//! whole-photo frames through [`framing::default_frame`] and [`Rect::is_large_enough`], the
//! fitted frames through [`framing::fit`], and the placeholders through [`form::fill`].
//!
//! tests/site/rules.test.mjs runs the same file against the page's copy of the rules
//! (templates/scripts/rules.js): the two runners read one table, so they cannot drift apart as
//! two hand-written lists of cases would (the rejected alternative: tables in each language). A
//! failure names the case by its line in `cases.toml`.

use std::collections::BTreeMap;
use std::fmt::Display;

use form::format::{self, PhotoFormat, Sniffed};
use form::framing::{self, FRAMING, Rect};
use form::{Demande, FieldErrors, Input, Schema};
use serde::Deserialize;
use serde_json::Value;
use time::{Date, Month};
use toml::Spanned;

/// The shared cases.
const CASES: &str = include_str!("cases.toml");

/// The real `content/form.toml`, whose messages the error cases expect.
const FORM_TOML: &str = include_str!("../../content/form.toml");

/// How close two frame coordinates must be: the page and the function compute them with the same
/// formula, but the table writes them with a few decimals.
const TOLERANCE: f64 = 1e-6;

/// `cases.toml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Cases {
    today: toml::value::Datetime,
    school: String,
    valid: BTreeMap<String, String>,
    field: Vec<FieldGroup>,
    hygiene: Hygiene,
    sniff: Table<SniffCase>,
    frame: Table<FrameCase>,
    fit: Table<FitCase>,
    fill: Table<FillCase>,
}

/// A table of cases, each with its place in the file for the failure messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table<T> {
    cases: Vec<Spanned<T>>,
}

/// The cases of one field, or of several that follow the same rule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldGroup {
    name: Option<String>,
    #[serde(default)]
    names: Vec<String>,
    /// Every option of the field's list is also tried, and must be recorded as written.
    #[serde(default)]
    each_option: bool,
    cases: Vec<Spanned<FieldCase>>,
}

/// What the form sends (`value` or `absent`) and what must come of it (`ok`, `ok_null` or
/// `error`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldCase {
    value: Option<Text>,
    #[serde(default)]
    absent: bool,
    ok: Option<Recorded>,
    #[serde(default)]
    ok_null: bool,
    error: Option<String>,
}

/// A value: a string, or pieces joined together.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    Plain(String),
    Pieces(Vec<Piece>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Piece {
    Plain(String),
    Repeat { repeat: String, times: usize },
}

/// A recorded value as the table writes it: a checkbox's boolean, or a text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Recorded {
    Flag(bool),
    Text(Text),
}

/// The `[hygiene]` table: see `cases.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hygiene {
    fields: Vec<HygieneField>,
    refused: Vec<Spanned<Characters>>,
    accepted_in: String,
    accepted: Vec<Spanned<Characters>>,
}

/// A field and a valid value cut in two, where a character is tried.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HygieneField {
    name: String,
    before: String,
    after: String,
    error: String,
}

/// One character, a range `from` … `to`, or a string of `chars`, with the class it stands for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Characters {
    class: String,
    char: Option<char>,
    from: Option<char>,
    to: Option<char>,
    chars: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SniffCase {
    name: String,
    hex: Text,
    format: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameCase {
    name: String,
    photo: [u32; 2],
    frame: Option<[f64; 4]>,
    #[serde(default)]
    too_small: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FitCase {
    name: String,
    area: [f64; 4],
    bias: String,
    frame: [f64; 4],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FillCase {
    template: String,
    values: BTreeMap<String, String>,
    result: String,
}

impl Text {
    /// The value the pieces make.
    fn expand(&self) -> String {
        match self {
            Text::Plain(text) => text.clone(),
            Text::Pieces(pieces) => pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Plain(text) => text.clone(),
                    Piece::Repeat { repeat, times } => repeat.repeat(*times),
                })
                .collect(),
        }
    }

    /// The value as a failure message shows it: escaped, long runs as `"a" × 64`.
    fn describe(&self) -> String {
        match self {
            Text::Plain(text) => format!("{text:?}"),
            Text::Pieces(pieces) => pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Plain(text) => format!("{text:?}"),
                    Piece::Repeat { repeat, times } => format!("{repeat:?} × {times}"),
                })
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }
}

/// What a field case expects.
enum Expected {
    /// Accepted, and recorded as this JSON value.
    Recorded(Value),
    /// Accepted, whatever is recorded.
    Accepted,
    /// Refused with the field's message of this kind, the only error of the form.
    Error(String),
}

impl Expected {
    /// The expectation of a case, which must give exactly one of `ok`, `ok_null` and `error`.
    fn of(case: &FieldCase) -> Result<Expected, String> {
        match (&case.ok, case.ok_null, &case.error) {
            (Some(Recorded::Flag(flag)), false, None) => Ok(Expected::Recorded(Value::Bool(*flag))),
            (Some(Recorded::Text(text)), false, None) => Ok(Expected::Recorded(Value::String(text.expand()))),
            (None, true, None) => Ok(Expected::Recorded(Value::Null)),
            (None, false, Some(kind)) => Ok(Expected::Error(kind.clone())),
            _ => Err("a case needs exactly one of `ok`, `ok_null = true` and `error`".to_owned()),
        }
    }
}

/// What a field case sends: `Some(value)`, or `None` for `absent = true`.
fn sent(case: &FieldCase) -> Result<Option<&Text>, String> {
    match (&case.value, case.absent) {
        (Some(value), false) => Ok(Some(value)),
        (None, true) => Ok(None),
        _ => Err("a case needs exactly one of `value` and `absent = true`".to_owned()),
    }
}

/// The table read, with the schema its cases are checked against.
struct Context {
    cases: Cases,
    schema: Schema,
    today: Date,
}

impl Context {
    fn load() -> Context {
        let cases: Cases = toml::from_str(CASES).unwrap_or_else(|e| panic!("cases.toml: {e}"));
        let schema = Schema::parse(FORM_TOML).expect("content/form.toml parses");
        let date = cases.today.date.expect("`today` is a date");
        let month = Month::try_from(date.month).expect("`today` has a real month");
        let today =
            Date::from_calendar_date(i32::from(date.year), month, date.day).expect("`today` is a real day");
        Context { cases, schema, today }
    }

    /// The table's valid form, `[valid]`: its `photo` is the photo part, the rest text parts.
    fn baseline(&self) -> Input {
        let mut text = self.cases.valid.clone();
        let photo_present = text.remove("photo").is_some();
        Input { text, photo_present }
    }

    /// The valid form with `name` set to `value`, or left out for `None`.
    fn input(&self, name: &str, value: Option<String>) -> Input {
        let mut input = self.baseline();
        match (name, value) {
            ("photo", value) => input.photo_present = value.is_some(),
            (_, Some(value)) => {
                input.text.insert(name.to_owned(), value);
            }
            (_, None) => {
                input.text.remove(name);
            }
        }
        input
    }

    /// Validates the valid form with the one change, and compares with what is expected; `Err`
    /// says how the outcome differs.
    fn check(&self, name: &str, value: Option<String>, expected: &Expected) -> Result<(), String> {
        let input = self.input(name, value);
        match (self.schema.validate(&input, self.today, &self.cases.school), expected) {
            (Ok(_), Expected::Accepted) => Ok(()),
            (Ok(demande), Expected::Recorded(want)) => {
                let got = recorded(&demande, name)?;
                if got == *want { Ok(()) } else { Err(format!("recorded {got}, expected {want}")) }
            }
            (Ok(demande), Expected::Error(kind)) => {
                Err(format!("accepted as {}, expected the `{kind}` error", recorded(&demande, name)?))
            }
            (Err(errors), Expected::Recorded(_) | Expected::Accepted) => {
                Err(format!("refused ({}), expected it accepted", self.describe(&errors)))
            }
            (Err(errors), Expected::Error(kind)) => {
                let want = self.message(name, kind)?;
                if errors.0.len() == 1 && errors.0.get(name).is_some_and(|got| got == want) {
                    Ok(())
                } else {
                    Err(format!("refused ({}), expected only `{name}: {kind}`", self.describe(&errors)))
                }
            }
        }
    }

    /// The field's message of this kind, which the field must have.
    fn message(&self, name: &str, kind: &str) -> Result<&str, String> {
        let field = self.schema.field(name).ok_or_else(|| format!("`{name}` is not a field of the form"))?;
        let messages = &field.messages;
        let text = match kind {
            "required" => &messages.required,
            "invalid" => &messages.invalid,
            "invisible" => &messages.invisible,
            "too_long" => &messages.too_long,
            "future" => &messages.future,
            "too_young" => &messages.too_young,
            "too_old" => &messages.too_old,
            _ => return Err(format!("`{kind}` is not a kind of message")),
        };
        if text.is_empty() { Err(format!("`{name}` has no `{kind}` message")) } else { Ok(text) }
    }

    /// The errors as `field: kind`, the kind found back from the message's text.
    fn describe(&self, errors: &FieldErrors) -> String {
        let kinds = ["required", "invalid", "invisible", "too_long", "future", "too_young", "too_old"];
        errors
            .0
            .iter()
            .map(|(name, text)| {
                let kind = kinds.iter().find(|kind| self.message(name, kind).is_ok_and(|t| t == text));
                format!("{name}: {}", kind.unwrap_or(&"?"))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// What the request records for `name`, as its JSON has it. The crop and the submission id are
/// not in the JSON (they steer the photo and the retries): the crop as it displays, `x,y,w,h`.
/// The photo's bytes are the handler's: a request exists only with one, so it records `true`.
fn recorded(demande: &Demande, name: &str) -> Result<Value, String> {
    match name {
        "photo" => Ok(Value::Bool(true)),
        "recadrage" => Ok(demande.recadrage.map_or(Value::Null, |crop| crop.to_string().into())),
        "submission_id" => Ok(demande.submission_id.as_ref().map_or(Value::Null, |id| id.as_str().into())),
        _ => {
            let json = serde_json::to_value(demande).expect("the request serialises");
            json.get(name).cloned().ok_or_else(|| format!("the request records no `{name}`"))
        }
    }
}

/// The 1-based line of `cases.toml` where a case starts.
fn line<T>(case: &Spanned<T>) -> usize {
    CASES[..case.span().start].matches('\n').count() + 1
}

/// Fails with every failure listed, or when nothing was checked.
fn report(what: &str, checked: usize, failures: &[String]) {
    assert!(checked > 0, "{what}: no case at all");
    assert!(
        failures.is_empty(),
        "{what}: {} of {checked} cases failed:\n{}",
        failures.len(),
        failures.iter().map(|f| format!("  - {f}")).collect::<Vec<_>>().join("\n")
    );
    println!("{what}: {checked} cases");
}

// The table's valid form, the baseline of every field case, is accepted as it is.
#[test]
fn the_valid_form_is_valid() {
    let context = Context::load();
    let input = context.baseline();
    if let Err(errors) = context.schema.validate(&input, context.today, &context.cases.school) {
        panic!("[valid] is refused: {}", context.describe(&errors));
    }
}

// Every field case gets the answer the table writes: the recorded value, or its one message.
#[test]
fn fields_follow_the_rules() {
    let context = Context::load();
    let (mut checked, mut failures) = (0, Vec::new());
    assert!(!context.cases.field.is_empty(), "no [[field]] table");
    for group in &context.cases.field {
        let names: Vec<&str> = group.name.iter().chain(&group.names).map(String::as_str).collect();
        let place = group.cases.first().map_or(0, line);
        if names.is_empty() || (group.name.is_some() && !group.names.is_empty()) {
            failures.push(format!("line {place}: a [[field]] needs `name` or `names`"));
        }
        if group.cases.is_empty() {
            failures.push(format!("{}: no case", names.join(", ")));
        }
        for &name in &names {
            if group.each_option {
                let options = context.schema.field(name).map(|f| f.options.clone()).unwrap_or_default();
                if options.is_empty() {
                    failures.push(format!("{name}: `each_option`, but the field has no options"));
                }
                for option in options {
                    checked += 1;
                    let expected = Expected::Recorded(Value::String(option.clone()));
                    if let Err(problem) = context.check(name, Some(option.clone()), &expected) {
                        failures.push(format!("{name} = {option:?} (each_option): {problem}"));
                    }
                }
            }
            for case in &group.cases {
                checked += 1;
                let outcome = sent(case.get_ref()).and_then(|value| {
                    let expected = Expected::of(case.get_ref())?;
                    context.check(name, value.map(Text::expand), &expected)
                });
                if let Err(problem) = outcome {
                    let value = case.get_ref().value.as_ref().map_or("(absent)".to_owned(), Text::describe);
                    failures.push(format!("line {}: {name} = {value}: {problem}", line(case)));
                }
            }
        }
    }
    report("[[field]]", checked, &failures);
}

/// The characters an entry of `[hygiene]` stands for.
fn characters(entry: &Characters) -> Result<Vec<char>, String> {
    match (entry.char, entry.from, entry.to, &entry.chars) {
        (Some(c), None, None, None) => Ok(vec![c]),
        (None, Some(from), Some(to), None) if from <= to => Ok((from..=to).collect()),
        (None, None, None, Some(chars)) if !chars.is_empty() => Ok(chars.chars().collect()),
        _ => Err(format!("`{}` needs one `char`, `from` … `to` in order, or `chars`", entry.class)),
    }
}

// Each refused character is refused in every text field wherever it stands, with the field's
// message; each accepted one is accepted.
#[test]
fn hygiene_refuses_what_cannot_be_seen() {
    let context = Context::load();
    let hygiene = &context.cases.hygiene;
    let (mut checked, mut failures) = (0, Vec::new());
    assert!(!hygiene.fields.is_empty() && !hygiene.refused.is_empty() && !hygiene.accepted.is_empty());
    let mut run = |entry: &Spanned<Characters>, c: char, name: &str, value: String, expected: &Expected| {
        checked += 1;
        if let Err(problem) = context.check(name, Some(value.clone()), expected) {
            let class = &entry.get_ref().class;
            let code = u32::from(c);
            failures
                .push(format!("line {}: {class} U+{code:04X}: {name} = {value:?}: {problem}", line(entry)));
        }
    };
    let chars_of = |entry: &Spanned<Characters>| {
        characters(entry.get_ref()).unwrap_or_else(|e| panic!("line {}: {e}", line(entry)))
    };
    for entry in &hygiene.refused {
        for c in chars_of(entry) {
            for HygieneField { name, before, after, error } in &hygiene.fields {
                let expected = Expected::Error(error.clone());
                // Between the halves, before them, after them, and alone.
                let values = [
                    format!("{before}{c}{after}"),
                    format!("{c}{before}{after}"),
                    format!("{before}{after}{c}"),
                    c.to_string(),
                ];
                for value in values {
                    run(entry, c, name, value, &expected);
                }
            }
        }
    }
    let field = hygiene.fields.iter().find(|f| f.name == hygiene.accepted_in);
    let HygieneField { name, before, after, .. } = field.expect("`accepted_in` names one of `fields`");
    for entry in &hygiene.accepted {
        for c in chars_of(entry) {
            run(entry, c, name, format!("{before}{c}{after}"), &Expected::Accepted);
        }
    }
    report("[hygiene]", checked, &failures);
}

/// The table's name of a sniffed format.
fn format_name(sniffed: Sniffed) -> &'static str {
    match sniffed {
        Sniffed::Accepted(PhotoFormat::Jpeg) => "jpeg",
        Sniffed::Accepted(PhotoFormat::Png) => "png",
        Sniffed::Accepted(PhotoFormat::WebP) => "webp",
        Sniffed::Heic => "heic",
        Sniffed::Unsupported => "unsupported",
    }
}

// Each file's first bytes are recognised as the format the table writes.
#[test]
fn photo_formats_are_recognised() {
    let context = Context::load();
    let mut failures = Vec::new();
    let table = &context.cases.sniff.cases;
    for case in table {
        let SniffCase { name, hex, format } = case.get_ref();
        let digits: String = hex.expand().split_whitespace().collect();
        let got = match ::hex::decode(&digits) {
            Ok(bytes) => format_name(format::sniff(&bytes)).to_owned(),
            Err(e) => format!("unreadable hex ({e})"),
        };
        if got != *format {
            failures.push(format!("line {}: {name}: {got}, expected {format}", line(case)));
        }
    }
    report("[sniff]", table.len(), &failures);
}

/// Whether `got` is `[x, y, width, height]` to [`TOLERANCE`].
fn close(got: Rect, want: [f64; 4]) -> bool {
    [got.x, got.y, got.width, got.height].iter().zip(want).all(|(a, b)| (a - b).abs() < TOLERANCE)
}

// The whole photo's frame is where the table writes it, or too small when it says so.
#[test]
fn whole_photo_frames() {
    let context = Context::load();
    let mut failures = Vec::new();
    let table = &context.cases.frame.cases;
    for case in table {
        let FrameCase { name, photo: [width, height], frame, too_small } = case.get_ref();
        let got = framing::default_frame(*width, *height);
        let problem = match (frame, too_small) {
            (Some(want), false) if !got.is_large_enough() => {
                Some(format!("{got:?} is too small, expected {want:?}"))
            }
            (Some(want), false) if !close(got, *want) => Some(format!("{got:?}, expected {want:?}")),
            (None, true) if got.is_large_enough() => {
                Some(format!("{got:?} is large enough, expected too small"))
            }
            (Some(_), false) | (None, true) => None,
            _ => Some("a case needs exactly one of `frame` and `too_small = true`".to_owned()),
        };
        if let Some(problem) = problem {
            failures.push(format!("line {}: {name} ({width}×{height}): {problem}", line(case)));
        }
    }
    report("[frame]", table.len(), &failures);
}

// A frame fitted in any area, with the contract's bias, is where the table writes it.
#[test]
fn frames_fit_any_area() {
    let context = Context::load();
    let mut failures = Vec::new();
    let table = &context.cases.fit.cases;
    for case in table {
        let FitCase { name, area: [x, y, width, height], bias, frame } = case.get_ref();
        let area = Rect { x: *x, y: *y, width: *width, height: *height };
        let problem = match bias.as_str() {
            "crop_bias" => Some(FRAMING.crop_bias),
            "whole_photo_bias" => Some(FRAMING.whole_photo_bias),
            _ => None,
        }
        .map_or(Some(format!("`{bias}` is not a bias of the framing")), |bias| {
            let got = framing::fit(area, bias);
            (!close(got, *frame)).then(|| format!("{got:?}, expected {frame:?}"))
        });
        if let Some(problem) = problem {
            failures.push(format!("line {}: {name}: {problem}", line(case)));
        }
    }
    report("[fit]", table.len(), &failures);
}

// Each template's placeholders are filled as the table writes.
#[test]
fn placeholders_are_filled() {
    let context = Context::load();
    let mut failures = Vec::new();
    let table = &context.cases.fill.cases;
    for case in table {
        let FillCase { template, values, result } = case.get_ref();
        let values: Vec<(&str, &dyn Display)> =
            values.iter().map(|(name, value)| (name.as_str(), value as &dyn Display)).collect();
        let got = form::fill(template, &values);
        if got != *result {
            failures.push(format!("line {}: {template:?}: {got:?}, expected {result:?}", line(case)));
        }
    }
    report("[fill]", table.len(), &failures);
}
