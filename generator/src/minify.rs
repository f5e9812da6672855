//! Build-time minification of the site's scripts and stylesheets (pure: text in, text out). The
//! sources stay commented and readable in `templates/`; what a phone downloads is the minified
//! copy, and the end-to-end tests run on it.
//!
//! - Scripts: `oxc_minifier` (compress, then mangle the local names), printed by `oxc_codegen`
//!   without comments. Its target is ES2019, the syntax the sources already need (async
//!   functions, object spread, `catch {}` without a binding): with no target it would write
//!   `??`, `?.` or `||=`, which the sources avoid so that older school computers still run them.
//!   Rejected: `minify-js`, known to produce broken code; a minifier from npm, a second toolchain
//!   in the build.
//! - Stylesheets: the `minifier` crate's CSS tokenizer (comments and spaces out, nothing
//!   rewritten): about a thousand lines with no dependency, where `lightningcss` (parser, selector
//!   engine, browserslist) would add a minute of compile time to the CI for the same few
//!   kilobytes on a stylesheet that uses no syntax worth rewriting.
//!
//! A source that does not parse is a build error, at the offset the caller turns into its file
//! and line, rather than a page shipped with a broken script.

use oxc_allocator::Allocator;
use oxc_codegen::{Codegen, CodegenOptions};
use oxc_compat::EngineTargets;
use oxc_minifier::{CompressOptions, Minifier, MinifierOptions};
use oxc_parser::Parser;
use oxc_semantic::SemanticBuilder;
use oxc_span::SourceType;

/// What keeps a source from being minified: the message, and the byte offset in the source
/// when the tool knows it.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where in the source, in bytes.
    pub offset: Option<usize>,
    /// What is wrong, as the tool says it.
    pub message: String,
}

/// The syntax the minified scripts may use: see the module's header.
const SCRIPT_TARGET: &str = "es2019";

/// The classic script `text` minified. Refuses a script that does not parse or that a browser
/// would refuse before running it (a name declared twice in one scope, as two parts of a bundle
/// could do), with the first problem.
pub fn script(text: &str) -> Result<String, Problem> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, text, SourceType::script()).parse();
    let mut program = parsed.program;
    let first = |diagnostics: oxc_diagnostics::Diagnostics| {
        diagnostics.errors().next().map(|error| Problem {
            // The primary label when there is one: for a name declared twice, the second place.
            offset: error
                .labels
                .iter()
                .find(|label| label.primary())
                .or(error.labels.last())
                .map(|label| label.offset() as usize),
            message: error.message.to_string(),
        })
    };
    if let Some(problem) = first(parsed.diagnostics) {
        return Err(problem);
    }
    if let Some(problem) =
        first(SemanticBuilder::new().with_check_syntax_error(true).build(&program).diagnostics)
    {
        return Err(problem);
    }
    let target = EngineTargets::from_target(SCRIPT_TARGET).expect("a target oxc knows");
    let options = MinifierOptions {
        compress: Some(CompressOptions { target, ..CompressOptions::smallest() }),
        ..MinifierOptions::default()
    };
    let minified = Minifier::new(options).minify(&allocator, &mut program);
    let code = Codegen::new()
        .with_options(CodegenOptions::minify())
        .with_scoping(minified.scoping)
        .with_private_member_mappings(minified.class_private_mappings)
        .build(&program)
        .code;
    Ok(code)
}

/// The stylesheet `text` minified; refuses one the tokenizer cannot read (an unclosed comment or
/// string).
pub fn stylesheet(text: &str) -> Result<String, Problem> {
    minifier::css::minify(text)
        // A comment before the first rule leaves a space.
        .map(|minified| minified.to_string().trim().to_owned())
        .map_err(|message| Problem { offset: None, message: message.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Scripts lose comments, spaces and local names, keep their meaning and gain no syntax newer
    // than the target.
    #[test]
    fn minifies_scripts_within_the_target() {
        for (source, expected) in [
            (
                "(() => {\n  'use strict';\n  // A comment.\n  function double(value) { return value * 2; }\n  window.answer = double(21);\n})();\n",
                "(()=>{\"use strict\";function e(e){return e*2}window.answer=e(21)})();",
            ),
            // Not `??`, `?.` nor `||=` (ES2020 and later).
            (
                "(() => { const o = window.o; window.p = o !== null && o !== undefined ? o : {}; window.q = o && o.x; let a = window.a; if (!a) a = 2; window.a = a; })();",
                "(()=>{let e=window.o;window.p=e==null?{}:e,window.q=e&&e.x;let t=window.a;t||(t=2),window.a=t})();",
            ),
        ] {
            assert_eq!(script(source).unwrap(), expected, "{source}");
        }
    }

    // A script that does not parse, or that declares a name twice, is refused at its place.
    #[test]
    fn refuses_broken_scripts() {
        for (source, offset) in
            [("const a = ;\n", 10), ("const done = 1;\nfunction f() {}\nconst done = 2;\n", 38)]
        {
            let problem = script(source).unwrap_err();
            assert_eq!(problem.offset, Some(offset), "{source}: {problem:?}");
            assert!(!problem.message.is_empty(), "{source}");
        }
    }

    // Stylesheets lose comments and spaces, and keep those that carry meaning.
    #[test]
    fn minifies_stylesheets() {
        for (source, expected) in [
            (
                "/* The page. */\nbody {\n  margin: 0 auto;\n  color: var(--ink);\n}\n",
                "body{margin:0 auto;color:var(--ink);}",
            ),
            (
                ".a:focus-visible + label { width: calc(100% - 2rem); }",
                ".a:focus-visible+label{width:calc(100% - 2rem);}",
            ),
            (
                "@media (min-width: 40rem) { .b { grid-template-columns: 22rem minmax(0, 1fr); } }",
                "@media (min-width:40rem){.b{grid-template-columns:22rem minmax(0,1fr);}}",
            ),
        ] {
            assert_eq!(stylesheet(source).unwrap(), expected, "{source}");
        }
        assert!(stylesheet("body { color: red; } /* unclosed").is_err());
    }
}
