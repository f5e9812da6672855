//! Property-based tests of the `form` crate's readers, on arbitrary and near-miss inputs: the
//! `form.toml` reader, the dossier number, the validation of a submitted form, the submission id
//! and the crop. None may panic, every error must say something, and what is accepted must read
//! back to itself.
//!
//! Each property runs 256 cases; `PROPTEST_CASES=100000 cargo test -p form --release --test
//! properties` runs a longer fuzz.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use form::{Crop, Demande, Dossier, DossierError, Input, Schema, SchemaError, SubmissionId};
use proptest::prelude::*;
use proptest::sample::Index;

/// The real `content/form.toml`.
const FORM_TOML: &str = include_str!("../../content/form.toml");

/// The school the tests validate for.
const SCHOOL: &str = "Lycée Sidoine Apollinaire";

/// What one case may take at most, far above the milliseconds it takes: a reader that goes
/// quadratic or loops on some input fails here instead of hanging the suite.
const CASE_TIME: Duration = Duration::from_secs(2);

/// The dossier alphabet, as the README documents it.
const DOSSIER_ALPHABET: &str = "0123456789ACDEFGHJKMNPQRTVWXY";

/// 256 cases, unless `PROPTEST_CASES` says otherwise (proptest reads it, and its other
/// variables, into its default configuration).
fn config() -> ProptestConfig {
    let from_environment = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        from_environment
    } else {
        ProptestConfig { cases: 256, ..from_environment }
    }
}

/// `f(input)`, failing the case when it takes longer than [`CASE_TIME`].
fn timed<T>(what: &str, f: impl FnOnce() -> T) -> Result<T, TestCaseError> {
    let start = Instant::now();
    let result = f();
    let elapsed = start.elapsed();
    prop_assert!(elapsed < CASE_TIME, "{what} took {elapsed:?}");
    Ok(result)
}

/// Strings of any characters, up to `max` of them.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..=max).prop_map(String::from_iter)
}

/// Strings biased towards what a parser cares about: ASCII punctuation, digits, letters,
/// separators, some accented and invisible characters, and anything now and then.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    let char = prop_oneof![
        6 => prop::sample::select(
            " \t\n\r=\"'[]{}.,:;#@+-_/\\0123456789aAzZ".chars().collect::<Vec<_>>()
        ),
        2 => prop::sample::select(
            "éÉèàçœ’«»\u{202f}\u{a0}\u{301}\u{200b}\u{feff}\u{ad}\u{202e}\u{e000}\u{fffd}𝐃Ｄﬁ"
                .chars()
                .collect::<Vec<_>>()
        ),
        1 => any::<char>(),
    ];
    prop::collection::vec(char, 0..=max).prop_map(String::from_iter)
}

/// Checks what `Schema::parse` gives back: a schema, or an error whose message says something,
/// with a line when the TOML itself is at fault.
fn check_schema_result(src: &str) -> Result<(), TestCaseError> {
    let result = timed("Schema::parse", || Schema::parse(src))?;
    if let Err(error) = result {
        let message = error.to_string();
        prop_assert!(!message.trim().is_empty(), "empty message for {error:?}");
        if let SchemaError::Toml(toml) = &error {
            prop_assert!(toml.span().is_some(), "no span: {message}");
            prop_assert!(message.contains("line "), "no line: {message}");
        }
    }
    Ok(())
}

/// One edit of a TOML file, by lines.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    SwapLines(Index, Index),
    /// The values of two `key = value` lines exchanged: a string where a number was, a field's
    /// name in another field, a message in another field.
    SwapValues(Index, Index),
    Insert(Index, String),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        1 => any::<Index>().prop_map(Mutation::Delete),
        1 => any::<Index>().prop_map(Mutation::Duplicate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        3 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapValues(a, b)),
        2 => (any::<Index>(), tricky_text(8)).prop_map(|(at, text)| Mutation::Insert(at, text)),
    ]
}

/// `text` with the mutations applied in order.
fn mutated(text: &str, mutations: &[Mutation]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for mutation in mutations {
        if lines.is_empty() {
            break;
        }
        match mutation {
            Mutation::Delete(at) => {
                lines.remove(at.index(lines.len()));
            }
            Mutation::Duplicate(at) => {
                let i = at.index(lines.len());
                lines.insert(i, lines[i].clone());
            }
            Mutation::SwapLines(a, b) => {
                let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                lines.swap(a, b);
            }
            Mutation::SwapValues(a, b) => {
                let assignments: Vec<usize> =
                    (0..lines.len()).filter(|&i| lines[i].contains(" = ")).collect();
                if assignments.is_empty() {
                    continue;
                }
                let (a, b) = (*a.get(&assignments), *b.get(&assignments));
                let (key_a, value_a) = lines[a].split_once(" = ").expect("an assignment");
                let (key_b, value_b) = lines[b].split_once(" = ").expect("an assignment");
                let (new_a, new_b) = (format!("{key_a} = {value_b}"), format!("{key_b} = {value_a}"));
                lines[a] = new_a;
                lines[b] = new_b;
            }
            Mutation::Insert(at, inserted) => {
                let joined = lines.join("\n");
                let mut at = at.index(joined.len() + 1);
                while !joined.is_char_boundary(at) {
                    at -= 1;
                }
                let text = format!("{}{inserted}{}", &joined[..at], &joined[at..]);
                lines = text.lines().map(str::to_owned).collect();
            }
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

proptest! {
    #![proptest_config(config())]

    // The reader never panics on arbitrary text, and explains every refusal.
    #[test]
    fn schema_parse_survives_arbitrary_text(src in prop_oneof![any_text(400), tricky_text(400)]) {
        check_schema_result(&src)?;
    }

    // The reader never panics on near-misses of the real file (lines deleted, duplicated or
    // swapped, values exchanged, characters inserted), and explains every refusal.
    #[test]
    fn schema_parse_survives_mutations_of_the_real_file(
        mutations in prop::collection::vec(mutation(), 1..=4),
    ) {
        check_schema_result(&mutated(FORM_TOML, &mutations))?;
    }

    // Dossier::parse never panics, and whatever it accepts reads back to itself in both forms.
    #[test]
    fn dossier_parse_survives_arbitrary_text(s in prop_oneof![any_text(40), tricky_text(40)]) {
        if let Ok(dossier) = timed("Dossier::parse", || Dossier::parse(&s))? {
            check_dossier(&dossier)?;
        }
    }

    // Every number made from a seed is valid, over the alphabet, and its display and compact
    // forms parse back to it.
    #[test]
    fn dossier_from_seed_round_trips(seed in any::<[u8; 32]>()) {
        check_dossier(&Dossier::from_seed(&seed))?;
    }

    // Near-misses of a valid number: any single wrong symbol and any swap of two different
    // neighbours is refused by the check character; added separators, lower case and the
    // look-alikes still read as the number; a missing or extra symbol is a length error.
    #[test]
    fn dossier_near_misses(seed in any::<[u8; 32]>(), at in any::<Index>(), other in any::<Index>()) {
        check_near_misses(&Dossier::from_seed(&seed), at, other)?;
    }

    // Near-misses of a valid number with an arbitrary character inserted never panic, and what
    // is accepted reads back to itself.
    #[test]
    fn dossier_with_a_foreign_character(
        seed in any::<[u8; 32]>(),
        at in any::<Index>(),
        c in any::<char>(),
    ) {
        let mut text: Vec<char> = Dossier::from_seed(&seed).to_string().chars().collect();
        text.insert(at.index(text.len() + 1), c);
        let text: String = text.into_iter().collect();
        if let Ok(dossier) = Dossier::parse(&text) {
            check_dossier(&dossier)?;
        }
    }

    // Validation never panics on arbitrary forms (known and unknown names, any characters, long
    // values); every error is on a field of the schema with one of that field's messages; and
    // what it accepts, sent again, gives the same request.
    #[test]
    fn validate_survives_arbitrary_forms(input in any_input(), day in 0..3650i64) {
        check_validation(&input, time::macros::date!(2020 - 01 - 01) + time::Duration::days(day))?;
    }

    // SubmissionId::parse never panics, and what it accepts is kept as sent.
    #[test]
    fn submission_id_parse_survives_arbitrary_text(
        s in prop_oneof![any_text(80), "[A-Za-z0-9_-]{0,70}"],
    ) {
        if let Ok(id) = SubmissionId::parse(&s) {
            prop_assert_eq!(id.as_str(), s.as_str());
            prop_assert_eq!(SubmissionId::parse(id.as_str()), Ok(id.clone()));
        }
    }

    // Every id of the documented shape is accepted unchanged.
    #[test]
    fn submission_id_accepts_its_shape(s in "[A-Za-z0-9_-]{8,64}") {
        prop_assert_eq!(SubmissionId::parse(&s).map(|id| id.as_str().to_owned()), Ok(s));
    }

    // Crop::parse never panics, and what it accepts writes back to a text that parses to it.
    #[test]
    fn crop_parse_survives_arbitrary_text(
        s in prop_oneof![any_text(60), "[0-9, +-]{0,50}", tricky_text(50)],
    ) {
        if let Ok(crop) = timed("Crop::parse", || Crop::parse(&s))? {
            prop_assert_eq!(Crop::parse(&crop.to_string()), Ok(crop));
        }
    }

    // Every rectangle with a positive size round-trips through its text, spaces around the
    // numbers included.
    #[test]
    fn crop_round_trips(
        x in any::<u32>(),
        y in any::<u32>(),
        width in 1..=u32::MAX,
        height in 1..=u32::MAX,
    ) {
        let crop = Crop { x, y, width, height };
        prop_assert_eq!(Crop::parse(&crop.to_string()), Ok(crop));
        prop_assert_eq!(Crop::parse(&format!(" {x} ,{y}, {width} , {height} ")), Ok(crop));
    }
}

fn schema() -> Schema {
    Schema::parse(FORM_TOML).expect("content/form.toml parses")
}

/// The near-misses of `dossier`, at the position `at` picks, with `other` picking the rest: a
/// wrong symbol, a swap, separators and look-alikes, a symbol less or more.
fn check_near_misses(dossier: &Dossier, at: Index, other: Index) -> Result<(), TestCaseError> {
    let compact: Vec<char> = dossier.compact().chars().collect();
    let alphabet: Vec<char> = DOSSIER_ALPHABET.chars().collect();
    let text = |chars: &[char]| chars.iter().collect::<String>();
    let i = at.index(compact.len());

    let mut substituted = compact.clone();
    let replacement = *other.get(&alphabet);
    substituted[i] =
        if replacement == compact[i] { alphabet[(other.index(29) + 1) % 29] } else { replacement };
    prop_assert_eq!(Dossier::parse(&text(&substituted)), Err(DossierError::Check), "{:?}", substituted);

    let j = at.index(compact.len() - 1);
    if compact[j] != compact[j + 1] {
        let mut swapped = compact.clone();
        swapped.swap(j, j + 1);
        prop_assert_eq!(Dossier::parse(&text(&swapped)), Err(DossierError::Check), "{:?}", swapped);
    }

    let separators = [" ", "-", "  ", "\u{a0}", "\u{2011}", "\t"];
    let mut spaced = String::new();
    for (k, c) in compact.iter().enumerate() {
        if k > 0 && other.index(3 + k) == 0 {
            spaced.push_str(separators[other.index(separators.len())]);
        }
        let c = match c {
            '0' if k % 2 == 0 => 'O',
            '1' if k % 2 == 0 => 'l',
            '5' => 'S',
            'V' => 'u',
            c => c.to_ascii_lowercase(),
        };
        spaced.push(c);
    }
    prop_assert_eq!(&Dossier::parse(&spaced), &Ok(dossier.clone()), "{}", spaced);

    let mut shorter = compact.clone();
    shorter.remove(i);
    prop_assert_eq!(Dossier::parse(&text(&shorter)), Err(DossierError::Length(8)));
    let mut longer = compact;
    longer.insert(i, *other.get(&alphabet));
    prop_assert_eq!(Dossier::parse(&text(&longer)), Err(DossierError::Length(10)));
    Ok(())
}

/// Validates `input` on `today`: an accepted form sent again gives the same request; a refused
/// one has errors on fields of the schema, each with one of that field's messages.
fn check_validation(input: &Input, today: time::Date) -> Result<(), TestCaseError> {
    let schema = schema();
    match timed("Schema::validate", || schema.validate(input, today, SCHOOL))? {
        Ok(demande) => {
            let again = schema.validate(&resubmitted(&demande), today, SCHOOL);
            prop_assert_eq!(again.as_ref(), Ok(&demande));
        }
        Err(errors) => {
            prop_assert!(!errors.0.is_empty());
            for (name, message) in &errors.0 {
                let field = schema.field(name);
                prop_assert!(field.is_some(), "error on unknown field `{}`", name);
                let m = &field.unwrap().messages;
                let known =
                    [&m.required, &m.invalid, &m.invisible, &m.too_long, &m.future, &m.too_young, &m.too_old];
                prop_assert!(
                    known.iter().any(|k| !k.is_empty() && *k == message),
                    "`{}`: `{}` is not one of its messages",
                    name,
                    message
                );
            }
        }
    }
    Ok(())
}

/// The number, its display form and its compact form agree and read back to it.
fn check_dossier(dossier: &Dossier) -> Result<(), TestCaseError> {
    let compact = dossier.compact();
    prop_assert_eq!(compact.len(), 9);
    prop_assert!(compact.chars().all(|c| DOSSIER_ALPHABET.contains(c)), "{}", compact);
    let shown = dossier.to_string();
    prop_assert_eq!(shown.replace('-', ""), compact);
    prop_assert_eq!(&Dossier::parse(&shown), &Ok(dossier.clone()));
    prop_assert_eq!(&Dossier::parse(compact), &Ok(dossier.clone()));
    Ok(())
}

/// A valid form, for the strategies to spoil.
fn valid_text() -> BTreeMap<String, String> {
    [
        ("charte", "on"),
        ("nom", "Dupré"),
        ("prenom", "Léa"),
        ("date_naissance", "2009-03-14"),
        ("email", "Léa.Dupré@Exämple.FR"),
        ("adresse", "12 rue des Écoles"),
        ("code_postal", "63 000"),
        ("commune", "Clermont-Ferrand"),
        ("telephone", "06 12 34 56 78"),
        ("etablissement", SCHOOL),
        ("filiere", "Première générale"),
        ("envoi_etablissement", "on"),
        ("recadrage", "10,20,350,450"),
        ("submission_id", "0b8e6a52-3f1c-4d0e-9a57-2f9c1d7e4b60"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// A field name: one of the form's, the honeypot, or anything.
fn field_name() -> impl Strategy<Value = String> {
    let mut names: Vec<String> = valid_text().into_keys().collect();
    names.extend(["photo".to_owned(), "site_web".to_owned()]);
    prop_oneof![4 => prop::sample::select(names), 1 => any_text(12)]
}

/// A value: random text, a long one (across the byte bound), or a valid value of some field
/// with a character inserted.
fn field_value() -> impl Strategy<Value = String> {
    let values: Vec<String> = valid_text().into_values().collect();
    prop_oneof![
        any_text(60),
        tricky_text(60),
        (tricky_text(4), 1000..1100usize).prop_map(|(unit, n)| unit.repeat(n / unit.len().max(1))),
        (prop::sample::select(values), any::<Index>(), tricky_text(2)).prop_map(|(value, at, inserted)| {
            let mut chars: Vec<char> = value.chars().collect();
            let at = at.index(chars.len() + 1);
            chars.splice(at..at, inserted.chars());
            chars.into_iter().collect()
        }),
    ]
}

/// A form: the valid one with some fields replaced or removed, or one made of random fields.
fn any_input() -> impl Strategy<Value = Input> {
    let edits = prop::collection::vec((field_name(), prop::option::weighted(0.9, field_value())), 0..6);
    let spoiled = edits.prop_map(|edits| {
        let mut text = valid_text();
        for (name, value) in edits {
            match value {
                Some(value) => text.insert(name, value),
                None => text.remove(&name),
            };
        }
        text
    });
    let random = prop::collection::btree_map(field_name(), field_value(), 0..16);
    (prop_oneof![3 => spoiled, 1 => random], any::<bool>())
        .prop_map(|(text, photo_present)| Input { text, photo_present })
}

/// The form that sends back what was accepted, as the page would.
fn resubmitted(demande: &Demande) -> Input {
    let mut text = BTreeMap::new();
    let mut put = |name: &str, value: String| {
        text.insert(name.to_owned(), value);
    };
    if demande.charte {
        put("charte", "oui".to_owned());
    }
    put("nom", demande.nom.clone());
    put("prenom", demande.prenom.clone());
    put("date_naissance", demande.date_naissance.to_string());
    put("email", demande.email.clone());
    put("adresse", demande.adresse.clone());
    put("code_postal", demande.code_postal.clone());
    put("commune", demande.commune.clone());
    put("telephone", demande.telephone.clone().unwrap_or_default());
    put("etablissement", demande.etablissement.clone());
    put("filiere", demande.filiere.clone());
    if demande.envoi_etablissement {
        put("envoi_etablissement", "oui".to_owned());
    }
    put("recadrage", demande.recadrage.map(|crop| crop.to_string()).unwrap_or_default());
    put("submission_id", demande.submission_id.as_ref().map(|id| id.as_str().to_owned()).unwrap_or_default());
    Input { text, photo_present: true }
}
