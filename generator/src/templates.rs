//! The Tera templates of the site, loaded from the templates folder. Pages are `.html` files,
//! `sitemap.xml` is the sitemap; the `static/` folder holds the styles and drawings that are
//! copied as they are (the scripts, joined at build, are in `scripts/`: see [`crate::scripts`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use tera::Tera;
use walkdir::WalkDir;

use crate::error::{Error, Result};

/// The folder of the templates folder whose files are copied, not rendered.
pub const STATIC_DIR: &str = "static";

/// Templates every site needs: one per kind of content page. The pages the generator adds, the
/// print page (`print.html`), the 404 page (`404.html`) and the sitemap (`sitemap.xml`, with a
/// `base_url`), are each made only when their template is there, so a template set for another
/// use (the benchmark's light set) may do without them; the rejected alternative, requiring
/// them all, made such a set carry pages it never wanted.
const REQUIRED: &[&str] = &["home.html", "guide.html", "step.html", "page.html"];

/// The templates of a templates folder.
pub struct Templates {
    /// The templates, ready to render.
    pub tera: Tera,
    /// The templates that may list a guide's steps, `guide.steps`: those whose text (comments
    /// aside), or the text of a template they extend or import macros from, names `steps`, and,
    /// to be safe, any that includes another. Only their pages get the list (see [`crate::view::page`]). The
    /// rejected alternatives: a list made once per guide still had to be copied into each
    /// page's context, since Tera owns its context; and a function the templates would call
    /// for the list would change what every template set is written against.
    pub listing_steps: HashSet<String>,
}

/// Loads every template of `dir`; a template that does not parse is reported with its name and
/// Tera's position.
pub fn load(dir: &Path) -> Result<Templates> {
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
    let texts: HashMap<String, String> =
        sources.iter().map(|(name, text)| (name.clone(), without_comments(text))).collect();
    tera.add_raw_templates(sources)
        .map_err(|source| Error::Template { name: dir.display().to_string(), source })?;
    for name in REQUIRED {
        if !tera.get_template_names().any(|n| n == *name) {
            return Err(Error::at(&dir.join(name), None, "this template is missing"));
        }
    }
    let listing_steps = tera
        .get_template_names()
        .filter(|name| mentions(&tera, &texts, name, "steps"))
        .map(str::to_owned)
        .collect();
    Ok(Templates { tera, listing_steps })
}

/// A template's text without its `{# comments #}`, which name what the template does not use.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{#") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("#}").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Whether the template `name`, a template it extends or one it imports macros from (`texts`
/// holds each one's text) names `word`, or includes another template, whose text could.
fn mentions(tera: &Tera, texts: &HashMap<String, String>, name: &str, word: &str) -> bool {
    let mut seen = HashSet::new();
    let mut todo = vec![name.to_owned()];
    while let Some(name) = todo.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let text = texts.get(&name).map_or("", String::as_str);
        if text.contains(word) || text.contains("include") {
            return true;
        }
        if let Ok(template) = tera.get_template(&name) {
            todo.extend(template.parents.iter().cloned());
            todo.extend(template.imported_macro_files.iter().map(|(file, _)| file.clone()));
        }
    }
    false
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

#[cfg(test)]
mod tests {
    use super::*;

    // A template lists the steps when it, a parent or a macro file it imports names them; one
    // that includes another is counted in, since the included text could.
    #[test]
    fn templates_listing_the_steps() {
        let dir = tempfile::tempdir().unwrap();
        let parent = "<main>{% block main %}{% endblock main %}</main>";
        for (name, text) in [
            ("base.html", parent),
            ("commented.html", "{# no list of the steps here #}{{ page.title }}{#- nor here -#}"),
            ("home.html", "{% extends \"base.html\" %}"),
            ("page.html", "{% extends \"base.html\" %}{% block main %}{{ page.title }}{% endblock main %}"),
            ("guide.html", "{% for s in guide.steps %}{{ s.url }}{% endfor %}"),
            ("_list.html", "{% macro list(g) %}{{ g.steps | length }}{% endmacro list %}"),
            ("step.html", "{% import \"_list.html\" as m %}{{ m::list(g=guide) }}"),
            ("with-parent.html", "{% extends \"listing-base.html\" %}"),
            ("listing-base.html", "{{ guide.steps | length }}"),
            ("including.html", "{% include \"page.html\" %}"),
        ] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let loaded = load(dir.path()).unwrap();
        let mut listing: Vec<&str> = loaded.listing_steps.iter().map(String::as_str).collect();
        listing.sort();
        assert_eq!(
            listing,
            [
                "_list.html",
                "guide.html",
                "including.html",
                "listing-base.html",
                "step.html",
                "with-parent.html"
            ]
        );
    }
}
