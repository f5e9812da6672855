//! Property-based test of the page reader: a content folder whose home page has an arbitrary
//! `+++` front matter and body (or no front matter at all) never makes [`Content::load`] panic,
//! and every error it reports names the page and a line of it.
//!
//! 32 cases by default, since each writes a folder; `PROPTEST_CASES=5000 cargo test -p generator
//! --test fuzz_front_matter` runs a longer fuzz.

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use generator::{Content, Error};
use proptest::prelude::*;
use support::SITE_TOML;

/// What one case may take at most, far above the milliseconds it takes.
const CASE_TIME: Duration = Duration::from_secs(2);

/// Few cases unless `PROPTEST_CASES` asks for more (or fewer).
fn config() -> ProptestConfig {
    let from_environment = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_some() {
        from_environment
    } else {
        ProptestConfig { cases: 32, ..from_environment }
    }
}

/// Text biased towards what the reader cares about: TOML punctuation, the `+++` fence, the
/// `{{ }}` placeholders and the markers of passages, line ends, a BOM, and any character now and then.
fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        6 => prop::sample::select(
            " \t\n\r=\"'[]{}.,#+-_0123456789aé".chars().map(String::from).collect::<Vec<_>>()
        ),
        2 => prop::sample::select(
            [
                "+++",
                "\n+++\n",
                "{{",
                "}}",
                "{{ etablissement }}",
                "{{ ecole }}",
                "\n{{ avec_courriel }}\n",
                "> {{ sans_courriel }}",
                "{{ fin }}\n",
                "\r\n",
                "\u{feff}",
                "\"\"\"",
            ]
            .map(str::to_owned)
            .to_vec()
        ),
        1 => any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..=max).prop_map(|pieces| pieces.concat())
}

/// A TOML basic string: any characters but the quote, the backslash and the controls, quoted.
fn toml_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^\"\\\\\\x00-\\x1f\\x7f]{0,20}".prop_map(|text| format!("\"{text}\"")),
        Just("\"{{ etablissement }}, {{ ville }}\"".to_owned()),
        Just("\"  \"".to_owned()),
    ]
}

/// One line of front matter: mostly the known keys with good or bad values, sometimes anything.
fn front_matter_line() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        3 => toml_string(),
        1 => tricky_text(12),
        1 => any::<i64>().prop_map(|n| n.to_string()),
    ];
    let key = prop_oneof![
        3 => prop::sample::select(["title", "description", "step", "template"].map(str::to_owned).to_vec()),
        1 => "[a-z_]{1,8}",
    ];
    prop_oneof![
        4 => (key, value).prop_map(|(key, value)| format!("{key} = {value}")),
        1 => tricky_text(16),
    ]
}

/// A page: a front matter block (most often with a title) and a body, with LF or CRLF line
/// ends, or any text at all.
fn page() -> impl Strategy<Value = String> {
    let title = prop::option::weighted(0.8, toml_string().prop_map(|value| format!("title = {value}")));
    let lines = (title, prop::collection::vec(front_matter_line(), 0..4))
        .prop_map(|(title, lines)| title.into_iter().chain(lines).collect::<Vec<_>>());
    let fenced = (lines, tricky_text(40), any::<bool>()).prop_map(|(lines, body, crlf)| {
        let eol = if crlf { "\r\n" } else { "\n" };
        format!("+++{eol}{}{eol}+++{eol}{body}", lines.join(eol))
    });
    prop_oneof![4 => fenced, 1 => tricky_text(60)]
}

/// The located mistakes of an error, `Many` flattened.
fn located(error: &Error) -> Vec<&Error> {
    match error {
        Error::Many(errors) => errors.iter().flat_map(located).collect(),
        other => vec![other],
    }
}

/// Checks every error names `page` and a line within its text, and says what is wrong.
fn check_errors(error: &Error, page: &Path, text: &str) -> Result<(), TestCaseError> {
    let last_line = text.split('\n').count();
    for error in located(error) {
        match error {
            Error::At { path, line, message } => {
                prop_assert_eq!(path.as_path(), page, "{}", error);
                // The toml crate describes a stray control character (`#\0`, a bare `\r`) with an
                // empty message, which `Error::toml` passes on: tolerated there only, until it
                // supplies its own text.
                prop_assert!(!message.trim().is_empty(), "{}", error);
                prop_assert!(line.is_some_and(|line| (1..=last_line).contains(&line)), "{}", error);
            }
            other => prop_assert!(false, "not a located mistake: {}", other),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    // Arbitrary front matter and body never panic; errors carry the file and a line of it; a
    // page that reads has a title and a body starting within the file.
    #[test]
    fn page_reader_survives_arbitrary_pages(text in page()) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.toml"), SITE_TOML).unwrap();
        let page = dir.path().join("index.md");
        std::fs::write(&page, &text).unwrap();

        let start = Instant::now();
        let result = Content::load(dir.path());
        prop_assert!(start.elapsed() < CASE_TIME, "took {:?}", start.elapsed());
        match result {
            Ok(content) => {
                prop_assert_eq!(content.pages.len(), 1);
                let home = &content.pages[0];
                prop_assert!(!home.title.trim().is_empty());
                prop_assert!(home.body_line <= text.split('\n').count() + 1);
            }
            Err(error) => check_errors(&error, &page, &text)?,
        }
    }
}
