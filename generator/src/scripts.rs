//! The pages' scripts, joined and minified at build, and the stylesheets, minified. The scripts'
//! sources are small files of `templates/scripts/`, one per concern; `templates/scripts/bundles.toml`
//! names each script of the site's `static/` and the parts it joins, in order:
//!
//! ```toml
//! [bundles]
//! "form.js" = ["image.js", "form.js"]
//! ```
//!
//! Each bundle is one classic script: the parts, each after a banner comment, inside one
//! `(() => { 'use strict'; … })();`, minified as a whole ([`crate::minify`]) under a one-line
//! header naming its parts. A part's top-level declarations are thus visible to the later parts of
//! its bundle and hidden from the page. Rejected alternatives: ES modules, which Chromium refuses
//! to load from `file://` (schools open the site from a USB key); one `<script>` per part, which
//! would put every part's declarations in the page's global scope; a bundler from npm, a second
//! toolchain for what is a join.
//!
//! The stylesheets of `static/` (`.css`) are written minified rather than copied; the other static
//! files are copied as they are.
//!
//! The join is reproducible: the parts are read as they are and joined in the manifest's order,
//! with nothing from the clock or the machine, so the same sources give the same bytes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use walkdir::WalkDir;

use crate::error::{Error, Result, line_of};
use crate::minify;
use crate::output::Output;
use crate::paths::{join_normalised, to_site_path};
use crate::templates::STATIC_DIR;

/// The folder of the templates folder that holds the scripts' parts and their manifest.
pub const SCRIPTS_DIR: &str = "scripts";

/// The manifest's file name, in [`SCRIPTS_DIR`].
pub const MANIFEST: &str = "bundles.toml";

/// A bundle's parts as written: the list, and each path, with their places in the manifest.
type PartsFile = Spanned<Vec<Spanned<String>>>;

/// `bundles.toml` as written, with the place of each name, for messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    /// Each script of the site's `static/`, by file name, with its parts in the order they are
    /// joined, each a path under the manifest's folder.
    bundles: Spanned<BTreeMap<Spanned<String>, PartsFile>>,
}

/// A checked manifest: every bundle has a `.js` name and at least one part, each a `.js` file
/// under the manifest's folder, listed once.
#[derive(Debug)]
pub struct Manifest {
    /// The manifest file, as the author knows it.
    path: PathBuf,
    /// The line of the `bundles` table, for problems that have no line of their own.
    line: usize,
    /// The bundles, in the manifest's order.
    bundles: Vec<Bundle>,
}

/// One script of `static/` and its parts.
#[derive(Debug)]
struct Bundle {
    /// Its file name in `static/`.
    name: String,
    /// The line of its name in the manifest.
    line: usize,
    /// Its parts in order: the path under the manifest's folder, with `/`, and the line.
    parts: Vec<(String, usize)>,
}

impl Manifest {
    /// Parses and checks the manifest `text` read from `path` (which only names the file in
    /// messages); every mistake is reported with its line.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest> {
        let file: ManifestFile = toml::from_str(text).map_err(|e| Error::toml(path, text, 0, &e))?;
        let dir = path.parent().unwrap_or(Path::new("")).display();
        let line = |span: std::ops::Range<usize>| line_of(text, span.start);
        let mut errors = Vec::new();
        let mut bundles = Vec::new();
        let table_line = line(file.bundles.span());
        // In the manifest's order, so the bundles and the mistakes come as the author wrote them.
        let mut entries: Vec<_> = file.bundles.into_inner().into_iter().collect();
        entries.sort_by_key(|(name, _)| name.span().start);
        for (name, parts) in entries {
            let (name_line, name) = (line(name.span()), name.into_inner());
            let at = |line: usize, message: String| Error::at(path, Some(line), message);
            let plain_name = !name.contains(['/', '\\']) && name.len() > ".js".len() && name.ends_with(".js");
            if !plain_name {
                errors.push(at(
                    name_line,
                    format!("the bundle `{name}` must be named as a script of `{STATIC_DIR}/`: a file name ending in `.js`, such as `form.js`"),
                ));
            }
            if parts.get_ref().is_empty() {
                errors.push(at(
                    line(parts.span()),
                    format!("the bundle `{name}` joins nothing: list its parts in order, such as `[\"image.js\", \"form.js\"]`"),
                ));
            }
            let mut checked = Vec::new();
            for part in parts.into_inner() {
                let (part_line, part) = (line(part.span()), part.into_inner());
                let Some(normalised) =
                    join_normalised(Path::new(""), &part).filter(|p| !p.as_os_str().is_empty())
                else {
                    errors.push(at(
                        part_line,
                        format!("the bundle `{name}` joins `{part}`, which is outside `{dir}`: name each part by its path in that folder, such as `image.js`"),
                    ));
                    continue;
                };
                let normalised = to_site_path(&normalised);
                if !normalised.ends_with(".js") {
                    errors.push(at(
                        part_line,
                        format!(
                            "the bundle `{name}` joins `{part}`, which is not a script: parts are `.js` files"
                        ),
                    ));
                } else if checked.iter().any(|(p, _)| *p == normalised) {
                    errors.push(at(
                        part_line,
                        format!("the bundle `{name}` joins `{part}` twice: list each part once"),
                    ));
                } else {
                    checked.push((normalised, part_line));
                }
            }
            bundles.push(Bundle { name, line: name_line, parts: checked });
        }
        Error::collect(errors)?;
        Ok(Manifest { path: path.to_owned(), line: table_line, bundles })
    }

    /// Joins and minifies each bundle from `sources` (every `.js` file of the manifest's folder,
    /// by its path under it, with its text). Refuses a part that does not parse, at its line; a
    /// part that is not among them; a source that no bundle joins (a script the pages would silently lack), and a bundle that would overwrite one of
    /// `statics` (the files of the templates' `static/`, relative to the templates folder).
    pub fn join(&self, sources: &BTreeMap<String, String>, statics: &[PathBuf]) -> Result<Vec<Output>> {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        let templates = dir.parent().unwrap_or(Path::new(""));
        let used: BTreeSet<&str> =
            self.bundles.iter().flat_map(|b| b.parts.iter().map(|(part, _)| part.as_str())).collect();
        // First the scripts left out, reported at `[bundles]`, which comes before every bundle.
        let mut errors: Vec<Error> = sources
            .keys()
            .filter(|s| !used.contains(s.as_str()))
            .map(|source| {
                Error::at(
                    &self.path,
                    Some(self.line),
                    format!(
                        "`{}` is in no bundle: add it to the bundle of the page that needs it, or delete it",
                        dir.join(source).display()
                    ),
                )
            })
            .collect();
        for bundle in &self.bundles {
            let site_path = format!("{STATIC_DIR}/{}", bundle.name);
            if let Some(file) = statics.iter().find(|s| to_site_path(s) == site_path) {
                errors.push(Error::at(
                    &self.path,
                    Some(bundle.line),
                    format!(
                        "the bundle `{}` and `{}` would both be the site's `{site_path}`: move that file into `{}`, or rename the bundle",
                        bundle.name,
                        templates.join(file).display(),
                        dir.display()
                    ),
                ));
            }
            for (part, line) in &bundle.parts {
                if !sources.contains_key(part) {
                    errors.push(Error::at(
                        &self.path,
                        Some(*line),
                        format!(
                            "the bundle `{}` joins `{part}`, which does not exist: create `{}`, or remove it from the list",
                            bundle.name,
                            dir.join(part).display()
                        ),
                    ));
                }
            }
        }
        Error::collect(errors)?;
        let mut errors = Vec::new();
        let mut outputs = Vec::new();
        for bundle in &self.bundles {
            let parts: Vec<(&str, &str)> =
                bundle.parts.iter().map(|(part, _)| (part.as_str(), sources[part].as_str())).collect();
            let joined = join(&parts);
            match minify::script(&joined.text) {
                Ok(minified) => outputs.push(Output {
                    path: format!("{STATIC_DIR}/{}", bundle.name),
                    bytes: format!("{}\n{minified}\n", header(&bundle.name, &parts)).into_bytes(),
                }),
                Err(problem) => {
                    // The problem's place in the part it falls in, as the author knows it; the
                    // wrapper and banners are the generator's own, so a problem there is the
                    // bundle's.
                    let place = problem.offset.and_then(|offset| {
                        joined
                            .starts
                            .iter()
                            .rev()
                            .find(|(_, start)| *start <= offset)
                            .map(|(i, start)| (*i, offset - start))
                    });
                    errors.push(match place {
                        Some((i, offset)) => Error::at(
                            &dir.join(parts[i].0),
                            Some(line_of(parts[i].1, offset)),
                            problem.message,
                        ),
                        None => Error::at(
                            &self.path,
                            Some(bundle.line),
                            format!("the bundle `{}` does not parse: {}", bundle.name, problem.message),
                        ),
                    });
                }
            }
        }
        Error::collect(errors)?;
        Ok(outputs)
    }
}

/// A bundle's parts joined: the text, and where each part's own text starts in it (the part's
/// index in the list, and the byte offset).
struct Joined {
    text: String,
    starts: Vec<(usize, usize)>,
}

/// The minified script `name`'s first line: where it comes from, since its comments are gone.
/// It names the parts by their place in the repository rather than on this machine, so the bytes
/// do not depend on where the templates folder is.
fn header(name: &str, parts: &[(&str, &str)]) -> String {
    let names: Vec<&str> = parts.iter().map(|(part, _)| *part).collect();
    format!(
        "// {STATIC_DIR}/{name}, joined and minified by the generator from templates/{SCRIPTS_DIR}/ ({MANIFEST}): {}.",
        names.join(", ")
    )
}

/// The parts (path under `templates/scripts/`, text) joined in order, each after a banner naming
/// it, inside one strict arrow function.
fn join(parts: &[(&str, &str)]) -> Joined {
    let mut text = String::from("(() => {\n'use strict';\n");
    let mut starts = Vec::with_capacity(parts.len());
    for (i, (part, part_text)) in parts.iter().enumerate() {
        text.push_str(&format!("// templates/{SCRIPTS_DIR}/{part}\n"));
        starts.push((i, text.len()));
        text.push_str(part_text);
        // A part whose last line is a `//` comment would otherwise swallow what follows.
        if !part_text.ends_with('\n') {
            text.push('\n');
        }
    }
    text.push_str("})();\n");
    Joined { text, starts }
}

/// The stylesheets of `statics` (the files of the templates folder `templates`' `static/`,
/// relative to it), read and minified; returns the other static files, to copy, and the
/// stylesheets, to write.
pub fn stylesheets(templates: &Path, statics: Vec<PathBuf>) -> Result<(Vec<PathBuf>, Vec<Output>)> {
    let (styles, others): (Vec<PathBuf>, Vec<PathBuf>) =
        statics.into_iter().partition(|s| s.extension().is_some_and(|e| e == "css"));
    let mut errors = Vec::new();
    let mut outputs = Vec::new();
    for style in styles {
        let path = templates.join(&style);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        match minify::stylesheet(&text) {
            Ok(minified) => outputs.push(Output { path: to_site_path(&style), bytes: minified.into_bytes() }),
            Err(problem) => errors.push(Error::at(
                &path,
                problem.offset.map(|offset| line_of(&text, offset)),
                format!("the stylesheet cannot be minified: {}", problem.message),
            )),
        }
    }
    Error::collect(errors)?;
    Ok((others, outputs))
}

/// Reads the manifest of the templates folder `templates` and every `.js` file beside it, and
/// joins the bundles; `statics` are the files of `static/`, which no bundle may overwrite. A
/// templates folder without `scripts/` has no scripts.
pub fn load(templates: &Path, statics: &[PathBuf]) -> Result<Vec<Output>> {
    let dir = templates.join(SCRIPTS_DIR);
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let manifest = Manifest::parse(&text, &path)?;
    let mut sources = BTreeMap::new();
    let walker = WalkDir::new(&dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
        let entry = entry.map_err(|e| Error::walk(&dir, e))?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "js") {
            let text = std::fs::read_to_string(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            sources.insert(
                to_site_path(entry.path().strip_prefix(&dir).expect("under the walked folder")),
                text,
            );
        }
    }
    manifest.join(&sources, statics)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "templates/scripts/bundles.toml";

    fn parse(text: &str) -> Result<Manifest> {
        Manifest::parse(text, Path::new(PATH))
    }

    fn sources(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files.iter().map(|(name, text)| (name.to_string(), text.to_string())).collect()
    }

    // A bundle joins its parts in order, each after its banner, inside one strict arrow function.
    #[test]
    fn joins_parts_in_order_inside_one_wrapper() {
        let joined = join(&[("lib/image.js", "const image = 1; // no newline"), ("form.js", "form();\n")]);
        let expected = "(() => {\n'use strict';\n\
                        // templates/scripts/lib/image.js\nconst image = 1; // no newline\n\
                        // templates/scripts/form.js\nform();\n\
                        })();\n";
        assert_eq!(joined.text, expected);
        let starts: Vec<&str> = joined.starts.iter().map(|(_, start)| &joined.text[*start..]).collect();
        assert!(starts[0].starts_with("const image") && starts[1].starts_with("form();"), "{starts:?}");
    }

    // Each bundle is written minified under a header naming its parts, whose declarations stay
    // out of the page's scope.
    #[test]
    fn writes_each_bundle_minified_under_its_header() {
        let manifest = parse(
            "[bundles]\n\"form.js\" = [\"lib/image.js\", \"form.js\"]\n\"tool.js\" = [\"lib/image.js\"]\n",
        )
        .unwrap();
        let outputs = manifest
            .join(
                &sources(&[
                    ("form.js", "window.shown = makeImage(2);\n"),
                    ("lib/image.js", "// The image.\nfunction makeImage(scale) {\n  return { scale };\n}\n"),
                ]),
                &[],
            )
            .unwrap();
        let texts: Vec<(&str, &str)> =
            outputs.iter().map(|o| (o.path.as_str(), std::str::from_utf8(&o.bytes).unwrap())).collect();
        assert_eq!(
            texts,
            [
                (
                    "static/form.js",
                    "// static/form.js, joined and minified by the generator from templates/scripts/ (bundles.toml): lib/image.js, form.js.\n\
                     (()=>{\"use strict\";function e(e){return{scale:e}}window.shown=e(2)})();\n"
                ),
                (
                    "static/tool.js",
                    // A part that declares what nothing uses is dropped whole.
                    "// static/tool.js, joined and minified by the generator from templates/scripts/ (bundles.toml): lib/image.js.\n\n"
                ),
            ]
        );
    }

    // The same sources give the same bytes, whatever order they were found in.
    #[test]
    fn joining_is_reproducible() {
        let manifest = parse("[bundles]\n\"a.js\" = [\"z.js\", \"b.js\", \"m.js\"]\n").unwrap();
        let files = [("b.js", "b();\n"), ("m.js", "m();\n"), ("z.js", "z();\n")];
        let mut reversed = files;
        reversed.reverse();
        let bytes = |files: &[(&str, &str)]| -> Vec<Vec<u8>> {
            manifest.join(&sources(files), &[]).unwrap().into_iter().map(|o| o.bytes).collect()
        };
        assert_eq!(bytes(&files), bytes(&reversed));
        let text = String::from_utf8(bytes(&files).remove(0)).unwrap();
        assert!(text.find("z()") < text.find("b()") && text.find("b()") < text.find("m()"), "{text}");
    }

    // A part that does not parse, or that declares a name another part of its bundle declares,
    // fails the build at its own file and line.
    #[test]
    fn refuses_parts_that_do_not_parse() {
        let manifest = parse("[bundles]\n\"form.js\" = [\"image.js\", \"form.js\"]\n").unwrap();
        for (image, form, expected) in [
            (
                "const image = 1;\n",
                "// The form.\nconst form = ;\n",
                "`templates/scripts/form.js`, line 2: Unexpected token",
            ),
            (
                "const shared = 1;\n",
                "\nconst shared = 2;\n",
                "`templates/scripts/form.js`, line 2: Identifier `shared` has already been declared",
            ),
        ] {
            let error = manifest.join(&sources(&[("image.js", image), ("form.js", form)]), &[]).unwrap_err();
            assert_eq!(crate::error::chain(&error), expected, "{form:?}");
        }
    }

    // The stylesheets of `static/` are written minified and left out of the files copied; one
    // the minifier cannot read fails the build at its path.
    #[test]
    fn minifies_the_stylesheets() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("static")).unwrap();
        std::fs::write(dir.path().join("static/style.css"), "/* Page. */\nbody {\n  margin: 0;\n}\n")
            .unwrap();
        let statics: Vec<PathBuf> =
            ["static/icon.svg", "static/style.css"].iter().map(PathBuf::from).collect();
        let (others, outputs) = stylesheets(dir.path(), statics.clone()).unwrap();
        assert_eq!(others, [PathBuf::from("static/icon.svg")]);
        let written: Vec<(&str, &[u8])> =
            outputs.iter().map(|o| (o.path.as_str(), o.bytes.as_slice())).collect();
        assert_eq!(written, [("static/style.css", &b"body{margin:0;}"[..])]);
        std::fs::write(dir.path().join("static/style.css"), "body { color: red; } /* unclosed").unwrap();
        let message = crate::error::chain(&stylesheets(dir.path(), statics).unwrap_err());
        let expected = format!("`{}`", dir.path().join("static/style.css").display());
        assert!(message.starts_with(&expected) && message.contains("cannot be minified"), "{message}");
    }

    // Each mistake of the manifest itself is refused with its line and what to do.
    #[test]
    fn refuses_malformed_manifests() {
        for (text, expected) in [
            (
                "[bundles]\n\"form.js\" = []\n",
                "`templates/scripts/bundles.toml`, line 2: the bundle `form.js` joins nothing: list its parts in order, such as `[\"image.js\", \"form.js\"]`",
            ),
            (
                "[bundles]\n\"form.js\" = [\n  \"image.js\",\n  \"../static/x.js\",\n]\n",
                "`templates/scripts/bundles.toml`, line 4: the bundle `form.js` joins `../static/x.js`, which is outside `templates/scripts`: name each part by its path in that folder, such as `image.js`",
            ),
            (
                "[bundles]\n\"form.js\" = [\"/etc/x.js\"]\n",
                "`templates/scripts/bundles.toml`, line 2: the bundle `form.js` joins `/etc/x.js`, which is outside `templates/scripts`: name each part by its path in that folder, such as `image.js`",
            ),
            (
                "[bundles]\n\"form.js\" = [\"notes.txt\"]\n",
                "`templates/scripts/bundles.toml`, line 2: the bundle `form.js` joins `notes.txt`, which is not a script: parts are `.js` files",
            ),
            (
                "[bundles]\n\"form.js\" = [\"image.js\", \"./image.js\"]\n",
                "`templates/scripts/bundles.toml`, line 2: the bundle `form.js` joins `./image.js` twice: list each part once",
            ),
            (
                "[bundles]\n\"js/form.js\" = [\"form.js\"]\n",
                "`templates/scripts/bundles.toml`, line 2: the bundle `js/form.js` must be named as a script of `static/`: a file name ending in `.js`, such as `form.js`",
            ),
            (
                "[bundles]\n\"form.js\" = [\"form.js\"]\n[options]\nminify = false\n",
                "`templates/scripts/bundles.toml`, line 3: unknown field `options`, expected `bundles`",
            ),
            ("", "`templates/scripts/bundles.toml`, line 1: missing field `bundles`"),
            (
                "[bundles]\n\"b.js\" = []\n\"a.js\" = [\"..\"]\n",
                "2 problems found\n  - `templates/scripts/bundles.toml`, line 2: the bundle `b.js` joins nothing: list its parts in order, such as `[\"image.js\", \"form.js\"]`\n  - `templates/scripts/bundles.toml`, line 3: the bundle `a.js` joins `..`, which is outside `templates/scripts`: name each part by its path in that folder, such as `image.js`",
            ),
        ] {
            let message = crate::error::chain(&parse(text).unwrap_err());
            assert_eq!(message, expected, "{text:?}");
        }
    }

    // Parts that do not exist, scripts that no bundle joins, and bundles that would overwrite a
    // static file are refused, each at the line to change.
    #[test]
    fn refuses_manifests_that_do_not_match_the_folder() {
        let manifest = parse("# Scripts.\n[bundles]\n\"form.js\" = [\"image.js\", \"form.js\"]\n").unwrap();
        for (files, statics, expected) in [
            (
                &[("form.js", "")][..],
                &[][..],
                "`templates/scripts/bundles.toml`, line 3: the bundle `form.js` joins `image.js`, which does not exist: create `templates/scripts/image.js`, or remove it from the list",
            ),
            (
                &[("form.js", ""), ("image.js", ""), ("old/photo.js", "")],
                &[],
                "`templates/scripts/bundles.toml`, line 2: `templates/scripts/old/photo.js` is in no bundle: add it to the bundle of the page that needs it, or delete it",
            ),
            (
                &[("form.js", ""), ("image.js", "")],
                &["static/style.css", "static/form.js"],
                "`templates/scripts/bundles.toml`, line 3: the bundle `form.js` and `templates/static/form.js` would both be the site's `static/form.js`: move that file into `templates/scripts`, or rename the bundle",
            ),
        ] {
            let statics: Vec<PathBuf> = statics.iter().map(PathBuf::from).collect();
            let message = crate::error::chain(&manifest.join(&sources(files), &statics).unwrap_err());
            assert_eq!(message, expected, "{files:?}");
        }
    }
}
