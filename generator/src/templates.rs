//! The Tera templates of the site, loaded from the templates folder. Pages are `.html` files,
//! `sitemap.xml` is the sitemap; the `static/` folder holds the styles and drawings that are
//! copied as they are (the scripts, joined at build, are in `scripts/`: see [`crate::scripts`]).

use std::path::{Path, PathBuf};

use serde::Serialize;
use tera::Tera;
use walkdir::WalkDir;

use crate::error::{Error, Result};

/// The folder of the templates folder whose files are copied, not rendered.
pub const STATIC_DIR: &str = "static";

/// Templates every site needs.
const REQUIRED: &[&str] =
    &["home.html", "guide.html", "step.html", "page.html", "print.html", "404.html", "sitemap.xml"];

/// Loads every template of `dir`; a template that does not parse is reported with its name and
/// Tera's position.
pub fn load(dir: &Path) -> Result<Tera> {
    if !dir.is_dir() {
        return Err(Error::at(dir, None, "the templates folder does not exist"));
    }
    let mut sources = Vec::new();
    let walker = WalkDir::new(dir).sort_by_file_name().into_iter().filter_entry(|e| {
        let hidden = e.file_name().to_string_lossy().starts_with('.');
        let assets = e.depth() == 1 && e.file_name() == STATIC_DIR;
        e.depth() == 0 || !(hidden || assets)
    });
    for entry in walker {
        let entry = entry.map_err(|e| Error::walk(dir, e))?;
        let is_template = entry.path().extension().is_some_and(|e| e == "html" || e == "xml");
        if entry.file_type().is_file() && is_template {
            let name =
                crate::paths::to_site_path(entry.path().strip_prefix(dir).expect("under the walked folder"));
            let text = std::fs::read_to_string(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
            sources.push((name, text));
        }
    }
    let mut tera = Tera::default();
    // Tera's default escaping also turns `/` into `&#x2F;`, which bloats every URL; templates
    // quote attributes with `"`, so escaping `& < > "` is enough in text and attributes alike.
    tera.set_escape_fn(|text| html_escape::encode_double_quoted_attribute(text).into_owned());
    // Tera checks inheritance only once all templates are in, so add them together; the error
    // names the template at fault.
    tera.add_raw_templates(sources)
        .map_err(|source| Error::Template { name: dir.display().to_string(), source })?;
    for name in REQUIRED {
        if !tera.get_template_names().any(|n| n == *name) {
            return Err(Error::at(&dir.join(name), None, "this template is missing"));
        }
    }
    Ok(tera)
}

/// The files of the `static/` folder of the templates folder `dir`, relative to `dir` and sorted:
/// listed when the templates are loaded, copied when the site is written.
pub fn static_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let root = dir.join(STATIC_DIR);
    if !root.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in WalkDir::new(&root).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::walk(&root, e))?;
        if entry.file_type().is_file() {
            files.push(entry.path().strip_prefix(dir).expect("under the templates folder").to_owned());
        }
    }
    Ok(files)
}

/// Renders the template `name` with `context`.
pub fn render(tera: &Tera, name: &str, context: &impl Serialize) -> Result<String> {
    let context = tera::Context::from_serialize(context)
        .map_err(|source| Error::Template { name: name.to_owned(), source })?;
    tera.render(name, &context).map_err(|source| Error::Template { name: name.to_owned(), source })
}
