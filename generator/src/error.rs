//! Build errors. Every error a content author can cause names the file, the line where there is
//! one, and what to fix; several content errors are reported together so one build shows them all.

use std::fmt;
use std::path::{Path, PathBuf};

/// The result type of the generator's library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What stopped a build.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A mistake in a content file, a setting or a template, located as precisely as possible.
    #[error("{}: {message}", Location { path, line: *line })]
    At {
        /// The file at fault, as the author knows it (relative to where the command runs).
        path: PathBuf,
        /// The 1-based line, when the mistake has one.
        line: Option<usize>,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A file or folder that could not be read or written.
    #[error("cannot access `{}`", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// A template that does not parse or render; Tera's chain of causes says where.
    #[error("template `{name}` failed")]
    Template {
        /// The template's name, relative to the templates folder.
        name: String,
        /// Tera's error, whose causes carry the line and the reason.
        #[source]
        source: tera::Error,
    },
    /// Several independent mistakes, reported at once.
    #[error("{}", ManyDisplay(.0))]
    Many(Vec<Error>),
    /// The preview's rewrite of the print page stopped for a newer change, which comes first
    /// (see `Site::write_print_page`); not a mistake, never shown to the author. An error rather
    /// than a flag in every `Ok`, because it must unwind through `output::write_with`, which then
    /// throws the half-written page away.
    #[error("the print page's rewrite gave way to a newer change")]
    GaveWay,
}

struct Location<'a> {
    path: &'a Path,
    line: Option<usize>,
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "`{}`, line {line}", self.path.display()),
            None => write!(f, "`{}`", self.path.display()),
        }
    }
}

/// How many of several errors are printed: a systematic mistake is clear from the first ones.
const MAX_LISTED: usize = 20;

struct ManyDisplay<'a>(&'a [Error]);

impl fmt::Display for ManyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} problems found", self.0.len())?;
        for error in self.0.iter().take(MAX_LISTED) {
            write!(f, "\n  - {}", crate::error::chain(error))?;
        }
        if self.0.len() > MAX_LISTED {
            write!(f, "\n  ... and {} more", self.0.len() - MAX_LISTED)?;
        }
        Ok(())
    }
}

impl Error {
    /// A mistake located in `path`, at `line` when known.
    pub fn at(path: &Path, line: Option<usize>, message: impl Into<String>) -> Error {
        Error::At { path: path.to_owned(), line, message: message.into() }
    }

    /// A read or write failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> Error {
        Error::Io { path: path.to_owned(), source }
    }

    /// A failure to walk the folder `root` (an unreadable folder, a loop of folder links), at
    /// the path where it happened when walkdir knows it.
    pub fn walk(root: &Path, error: walkdir::Error) -> Error {
        let path = error.path().unwrap_or(root).to_owned();
        let source = error.into_io_error().unwrap_or_else(|| std::io::Error::other("loop in folder links"));
        Error::io(&path, source)
    }

    /// A TOML error in `text` (which starts on line `first_line` + 1 of `path`), located by line.
    pub fn toml(path: &Path, text: &str, first_line: usize, error: &toml::de::Error) -> Error {
        let line = error.span().map(|span| first_line + line_of(text, span.start));
        let message = match error.message().trim_end() {
            // The toml crate says nothing of a stray control character (a bare carriage return, a
            // NUL in a comment): name what editors do not show, so the author can find it.
            "" => "a control character that editors do not show (a carriage return without a line \
                   feed, a NUL, a form feed): delete it, or retype the line"
                .to_owned(),
            message => message.to_owned(),
        };
        Error::at(path, line, message)
    }

    /// Folds a list of errors into one: nothing, the error itself, or `Many`.
    pub fn collect(mut errors: Vec<Error>) -> Result<()> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }
}

/// The 1-based line of the byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

/// An error and its causes on one line, separated by `: `, as the command line prints them.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        // Tera repeats its own message in the chain; skip exact repeats.
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    // Line numbers count from 1 and follow newlines.
    #[test]
    fn line_of_counts_newlines() {
        for (text, offset, line) in [("abc", 0, 1), ("a\nb\nc", 2, 2), ("a\nb\nc", 4, 3), ("a\n", 99, 2)] {
            assert_eq!(line_of(text, offset), line, "{text:?} at {offset}");
        }
    }

    // Located errors print the path in backticks and the line.
    #[test]
    fn located_error_format() {
        let e = Error::at(Path::new("content/a.md"), Some(4), "the image is missing");
        assert_eq!(e.to_string(), "`content/a.md`, line 4: the image is missing");
        let e = Error::at(Path::new("content/a.md"), None, "oops");
        assert_eq!(e.to_string(), "`content/a.md`: oops");
    }

    // A NUL in a comment, which the toml crate reports without a message, still gets one that
    // says what to look for, on its line (the front matter starts on line 2 of the file).
    #[test]
    fn toml_error_without_message_names_the_invisible_character() {
        let text = "title = \"Accueil\"\n#\0\n";
        let error = toml::from_str::<toml::Value>(text).unwrap_err();
        let e = Error::toml(Path::new("content/index.md"), text, 1, &error);
        assert_eq!(
            e.to_string(),
            "`content/index.md`, line 3: a control character that editors do not show (a carriage \
             return without a line feed, a NUL, a form feed): delete it, or retype the line"
        );
    }

    // Several errors are listed one per line under a count.
    #[test]
    fn many_errors_are_listed() {
        let e = Error::collect(vec![
            Error::at(Path::new("a.md"), Some(1), "one"),
            Error::at(Path::new("b.md"), None, "two"),
        ])
        .unwrap_err();
        assert_eq!(e.to_string(), "2 problems found\n  - `a.md`, line 1: one\n  - `b.md`: two");
        assert!(Error::collect(vec![]).is_ok());
        let many: Vec<Error> = (0..25).map(|i| Error::at(Path::new("a.md"), Some(i), "x")).collect();
        let text = Error::Many(many).to_string();
        assert_eq!(text.lines().count(), 22, "{text}");
        assert!(text.ends_with("... and 5 more"), "{text}");
    }
}
