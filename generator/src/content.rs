//! Reads the content folder: `site.toml`, the Markdown pages with their TOML front matter, and
//! the other files (pictures, documents). Guides are folders with an `_index.md`; each other
//! page in such a folder is a numbered step.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;
use walkdir::WalkDir;

use crate::config::SiteConfig;
use crate::error::{Error, Result, line_of};
use crate::paths::to_site_path;
use crate::typography::french;

/// What a page is, which decides its template and its place in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// The root `index.md`.
    Home,
    /// A guide's `_index.md`: its overview.
    Guide,
    /// A numbered step of a guide.
    Step,
    /// Any other page.
    Plain,
}

/// The front matter of a page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    /// The page's title, its only `<h1>`.
    title: String,
    /// One sentence for the `<meta name="description">` and for lists of pages.
    #[serde(default)]
    description: Option<String>,
    /// The step's number in its guide (steps only).
    #[serde(default)]
    step: Option<u32>,
    /// A template of the templates folder to use instead of the kind's own (e.g. `form.html`).
    #[serde(default)]
    template: Option<String>,
}

/// One Markdown page, parsed but not yet rendered.
#[derive(Debug, Clone)]
pub struct Page {
    /// The source, relative to the content folder (`premiere-demande/01-faire-ma-demande.md`).
    pub source: PathBuf,
    /// The source as the author sees it, for error messages (`content/premiere-demande/...`).
    pub display_path: PathBuf,
    /// The output's site path (`premiere-demande/01-faire-ma-demande.html`).
    pub output: String,
    /// What the page is.
    pub kind: PageKind,
    /// The title, placeholders replaced and French typography applied.
    pub title: String,
    /// The description, likewise.
    pub description: Option<String>,
    /// The step number, for steps.
    pub step: Option<u32>,
    /// The template chosen in the front matter, if any.
    pub template: Option<String>,
    /// The Markdown body with placeholders replaced.
    pub body: String,
    /// The line of the file on which the body starts.
    pub body_line: usize,
}

/// A guide: an overview page and its steps in order.
#[derive(Debug, Clone)]
pub struct Guide {
    /// Index of the `_index.md` page in [`Content::pages`].
    pub index: usize,
    /// Indexes of the steps in [`Content::pages`], ordered by step number.
    pub steps: Vec<usize>,
}

/// Everything read from the content folder.
#[derive(Debug)]
pub struct Content {
    /// The content folder.
    pub root: PathBuf,
    /// The school's settings.
    pub config: SiteConfig,
    /// The request form of `form.toml`, when the content has one.
    pub form: Option<form::Schema>,
    /// Every page, sorted by source path.
    pub pages: Vec<Page>,
    /// The guides, sorted by folder.
    pub guides: Vec<Guide>,
    /// Files other than pages and settings, relative to the root, sorted.
    pub assets: Vec<PathBuf>,
    by_source: HashMap<PathBuf, usize>,
    asset_set: HashSet<PathBuf>,
    /// The guide of each page, as index in [`Content::guides`]: every page asks for its own and
    /// the menu's, and a search of the guides' steps cost O(pages) each time.
    guide_by_page: Vec<Option<usize>>,
    /// The pages of the menu in its order: the home page, the guides, the other top-level pages.
    /// Made once, for every page shows it; picking them out on each page read all the pages.
    pub menu: Vec<usize>,
}

/// Files at the root of the content folder that are settings, not pages or assets.
const SETTINGS_FILES: &[&str] = &["site.toml", "form.toml"];

impl Content {
    /// Reads and checks the whole content folder. All content mistakes are reported together.
    pub fn load(root: &Path) -> Result<Content> {
        if !root.is_dir() {
            return Err(Error::at(root, None, "the content folder does not exist"));
        }
        let config = SiteConfig::from_file(&root.join("site.toml"))?;
        let form = load_form(&root.join("form.toml"))?;

        let mut sources = Vec::new();
        let mut assets = Vec::new();
        let walker = WalkDir::new(root)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walker {
            let entry = entry.map_err(|e| Error::walk(root, e))?;
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry.path().strip_prefix(root).expect("walkdir stays under its root").to_owned();
            if relative.extension().is_some_and(|e| e == "md") {
                sources.push(relative);
            } else if !(relative.parent() == Some(Path::new(""))
                && SETTINGS_FILES.iter().any(|f| relative == Path::new(f)))
            {
                assets.push(relative);
            }
        }

        let guide_dirs: HashSet<PathBuf> = sources
            .iter()
            .filter(|s| s.file_name().is_some_and(|n| n == "_index.md"))
            .filter_map(|s| s.parent().map(Path::to_owned))
            .collect();

        let results: Vec<Result<Page>> = sources
            .par_iter()
            .map(|source| {
                let display_path = root.join(source);
                let text = std::fs::read_to_string(&display_path).map_err(|e| Error::io(&display_path, e))?;
                Page::parse(source, &display_path, &text, &config, &guide_dirs)
            })
            .collect();
        let mut pages = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(page) => pages.push(page),
                Err(e) => errors.push(e),
            }
        }

        let mut outputs: HashMap<&str, &Page> = HashMap::new();
        for page in &pages {
            if let Some(other) = outputs.insert(&page.output, page) {
                errors.push(Error::at(
                    &page.display_path,
                    None,
                    format!(
                        "writes the same page `{}` as `{}`: rename one of them",
                        page.output,
                        other.display_path.display()
                    ),
                ));
            }
        }
        if !pages.iter().any(|p| p.kind == PageKind::Home) && errors.is_empty() {
            errors.push(Error::at(
                &root.join("index.md"),
                None,
                "the home page is missing: create `index.md`",
            ));
        }

        let by_source: HashMap<PathBuf, usize> =
            pages.iter().enumerate().map(|(i, p)| (p.source.clone(), i)).collect();
        // Step numbers are only checked once every page reads: a page that failed to parse
        // would otherwise also show up as a missing step.
        Error::collect(errors)?;
        let mut errors = Vec::new();
        let guides = collect_guides(&pages, &guide_dirs, &by_source, root, &mut errors);
        Error::collect(errors)?;

        let asset_set = assets.iter().cloned().collect();
        let mut guide_by_page = vec![None; pages.len()];
        for (g, guide) in guides.iter().enumerate() {
            for &i in std::iter::once(&guide.index).chain(&guide.steps) {
                guide_by_page[i] = Some(g);
            }
        }
        let menu = menu(&pages);
        Ok(Content {
            root: root.to_owned(),
            config,
            form,
            pages,
            guides,
            assets,
            by_source,
            asset_set,
            guide_by_page,
            menu,
        })
    }

    /// The page read from `source` (relative to the content root), if there is one.
    pub fn page_by_source(&self, source: &Path) -> Option<&Page> {
        self.by_source.get(source).map(|&i| &self.pages[i])
    }

    /// Whether `path` (relative to the content root) is a non-page file of the content.
    pub fn has_asset(&self, path: &Path) -> bool {
        self.asset_set.contains(path)
    }

    /// Reads the page at `source` again after its file changed. When only its body changed, it
    /// is replaced and its index returned; `None` means the change reaches other pages (a new
    /// title, step number or template, a deleted page) and calls for a full build.
    pub fn reload_body(&mut self, source: &Path) -> Result<Option<usize>> {
        let Some(&index) = self.by_source.get(source) else { return Ok(None) };
        let display_path = self.root.join(source);
        let Ok(text) = std::fs::read_to_string(&display_path) else { return Ok(None) };
        let guide_dirs: HashSet<PathBuf> = self
            .guides
            .iter()
            .filter_map(|g| self.pages[g.index].source.parent().map(Path::to_owned))
            .collect();
        let page = Page::parse(source, &display_path, &text, &self.config, &guide_dirs)?;
        let old = &self.pages[index];
        let same_place = (&page.title, &page.description, page.step, &page.template, page.kind)
            == (&old.title, &old.description, old.step, &old.template, old.kind);
        if !same_place {
            return Ok(None);
        }
        self.pages[index] = page;
        Ok(Some(index))
    }

    /// The guide a page belongs to (as overview or step), if any.
    pub fn guide_of(&self, page_index: usize) -> Option<&Guide> {
        self.guide_by_page[page_index].map(|g| &self.guides[g])
    }
}

/// The pages of the menu, in its order: the home page, then the guides, then the other pages
/// at the top of the content folder, each group in the pages' order.
fn menu(pages: &[Page]) -> Vec<usize> {
    let rank = |page: &Page| match page.kind {
        PageKind::Home => Some(0),
        PageKind::Guide => Some(1),
        PageKind::Plain if !page.output.contains('/') => Some(2),
        PageKind::Plain | PageKind::Step => None,
    };
    let mut menu: Vec<(u8, usize)> =
        pages.iter().enumerate().filter_map(|(i, page)| rank(page).map(|r| (r, i))).collect();
    menu.sort();
    menu.into_iter().map(|(_, i)| i).collect()
}

/// Reads the request form's schema, if the content has a `form.toml`.
fn load_form(path: &Path) -> Result<Option<form::Schema>> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    form::Schema::parse(&text).map(Some).map_err(|e| match e {
        form::SchemaError::Toml(e) => Error::toml(path, &text, 0, &e),
        other => Error::at(path, other.line(), other.to_string()),
    })
}

/// Groups the steps of each guide and checks their numbers run 1..=N once each.
fn collect_guides(
    pages: &[Page],
    guide_dirs: &HashSet<PathBuf>,
    by_source: &HashMap<PathBuf, usize>,
    root: &Path,
    errors: &mut Vec<Error>,
) -> Vec<Guide> {
    let mut sorted_dirs: Vec<&PathBuf> = guide_dirs.iter().collect();
    sorted_dirs.sort();
    let mut guides = Vec::new();
    for dir in sorted_dirs {
        let index = by_source[&dir.join("_index.md")];
        let mut numbered: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, page) in pages.iter().enumerate() {
            if page.kind == PageKind::Step && page.source.parent() == Some(dir.as_path()) {
                let step = page.step.expect("steps are checked to have a number");
                numbered.entry(step).or_default().push(i);
            }
        }
        let guide_path = root.join(dir).join("_index.md");
        if numbered.is_empty() {
            errors.push(Error::at(
                &guide_path,
                None,
                "this guide has no step: add pages with `step = 1`, `step = 2`...",
            ));
            continue;
        }
        for (step, files) in &numbered {
            if files.len() > 1 {
                let names: Vec<String> =
                    files.iter().map(|&i| format!("`{}`", pages[i].display_path.display())).collect();
                errors.push(Error::at(
                    &pages[files[1]].display_path,
                    None,
                    format!("step {step} is used by {}: give each step its own number", names.join(" and ")),
                ));
            }
        }
        let count = numbered.len() as u32;
        let missing: Vec<String> = (1..=*numbered.keys().last().unwrap())
            .filter(|n| !numbered.contains_key(n))
            .map(|n| n.to_string())
            .collect();
        if !missing.is_empty() {
            errors.push(Error::at(
                &guide_path,
                None,
                format!(
                    "step {} is missing: the {count} steps of this guide must be numbered 1 to {count} with no gap",
                    missing.join(", ")
                ),
            ));
        }
        guides.push(Guide { index, steps: numbered.values().map(|files| files[0]).collect() });
    }
    guides
}

impl Page {
    /// Parses one page's text. `guide_dirs` are the folders that hold an `_index.md`.
    fn parse(
        source: &Path,
        display_path: &Path,
        text: &str,
        config: &SiteConfig,
        guide_dirs: &HashSet<PathBuf>,
    ) -> Result<Page> {
        let (front, body, body_line) =
            split_front_matter(text).map_err(|m| Error::at(display_path, Some(1), m))?;
        let meta: FrontMatter = toml::from_str(front).map_err(|e| Error::toml(display_path, front, 1, &e))?;

        let dir = source.parent().unwrap_or(Path::new(""));
        let file_name = source.file_name().unwrap_or_default();
        let in_guide = guide_dirs.contains(dir);
        let kind = if file_name == "_index.md" {
            if dir.as_os_str().is_empty() {
                return Err(Error::at(
                    display_path,
                    None,
                    "the home page is `index.md`; `_index.md` only makes a folder a guide",
                ));
            }
            PageKind::Guide
        } else if source == Path::new("index.md") {
            PageKind::Home
        } else if in_guide {
            PageKind::Step
        } else {
            PageKind::Plain
        };
        match (kind, meta.step) {
            (PageKind::Step, None) => {
                return Err(Error::at(
                    display_path,
                    Some(1),
                    "this page is in a guide folder and needs its step number in the front matter, e.g. `step = 3`",
                ));
            }
            (PageKind::Step, Some(0)) => {
                return Err(Error::at(display_path, Some(1), "step numbers start at 1"));
            }
            (PageKind::Step, Some(_)) | (_, None) => {}
            (_, Some(_)) => {
                return Err(Error::at(
                    display_path,
                    Some(1),
                    "`step` only belongs in the pages of a guide folder (a folder with an `_index.md`); remove it",
                ));
            }
        }

        let title = substitute(&meta.title, config).map_err(|(_, m)| Error::at(display_path, Some(1), m))?;
        if title.trim().is_empty() {
            return Err(Error::at(display_path, Some(1), "the `title` is empty"));
        }
        let description = match meta.description {
            Some(d) => {
                Some(french(&substitute(&d, config).map_err(|(_, m)| Error::at(display_path, Some(1), m))?))
            }
            None => None,
        };
        let body = substitute(body, config)
            .map_err(|(offset, m)| Error::at(display_path, Some(body_line - 1 + line_of(body, offset)), m))?;

        let mut output = to_site_path(&source.with_extension("html"));
        if file_name == "_index.md" {
            output = format!("{}/index.html", to_site_path(dir));
        }
        Ok(Page {
            source: source.to_owned(),
            display_path: display_path.to_owned(),
            output,
            kind,
            title: french(title.trim()),
            description,
            step: meta.step,
            template: meta.template,
            body,
            body_line,
        })
    }
}

/// Splits `+++` front matter from the body; returns (front matter, body, line of the body).
fn split_front_matter(text: &str) -> Result<(&str, &str, usize), String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let missing = "the page must start with a front matter block between two `+++` lines, holding at least `title = \"...\"`";
    let rest = text.strip_prefix("+++").ok_or(missing)?;
    let rest = rest.strip_prefix("\r\n").or_else(|| rest.strip_prefix('\n')).ok_or(missing)?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            let body_line = 2 + front.matches('\n').count() + 1;
            return Ok((front, body, body_line));
        }
        offset += line.len();
    }
    Err("the front matter is not closed: add a line with `+++` after it".to_owned())
}

/// The markers of a passage kept only when the deployment sends the activation e-mail
/// (`activation_email` in `site.toml`), of one kept only when it does not, and the end of either.
const WITH_EMAIL: &str = "avec_courriel";
const WITHOUT_EMAIL: &str = "sans_courriel";
const END: &str = "fin";

/// Error of a placeholder substitution: the byte offset in the input and the message.
type SubstituteError = (usize, String);

/// A passage opened by a marker and not yet closed.
struct Passage {
    marker: &'static str,
    /// Where its marker starts, to locate a passage never closed.
    offset: usize,
    /// Whether its text is kept in this deployment.
    kept: bool,
}

/// Replaces `{{ name }}` placeholders with the school's settings, and keeps or drops the passages
/// between `{{ avec_courriel }}` or `{{ sans_courriel }}` and `{{ fin }}` by whether the deployment
/// sends the activation e-mail.
///
/// A marker alone on its line (a callout's `>` before it allowed) goes with its line, so that a
/// passage of whole lines (list items, paragraphs, a callout's lines) leaves no blank line behind:
/// a blank line would split a list in two. Passages do not nest: each says what holds in one of
/// the two deployments, and a passage inside one of the other kind would never be shown. A
/// placeholder in a dropped passage is checked by name but needs no value, since a school may
/// leave out a setting that only the other deployment's text names.
fn substitute(text: &str, config: &SiteConfig) -> Result<String, SubstituteError> {
    let mut out = String::with_capacity(text.len());
    let mut open: Option<Passage> = None;
    // The bytes of `text` dealt with so far.
    let mut done = 0;
    while let Some(found) = text[done..].find("{{") {
        let start = done + found;
        let Some(len) = text[start..].find("}}") else {
            return Err((
                start,
                "`{{` is never closed: write placeholders as `{{ etablissement }}`".to_owned(),
            ));
        };
        let end = start + len + 2;
        let name = text[start + 2..start + len].trim();
        let kept = open.as_ref().is_none_or(|passage| passage.kept);
        if kept {
            out.push_str(&text[done..start]);
        }
        done = end;
        let Some(marker) = [WITH_EMAIL, WITHOUT_EMAIL, END].into_iter().find(|marker| *marker == name) else {
            match config.placeholder(name) {
                Some(value) if kept => out.push_str(value),
                Some(_) => {}
                None if !SiteConfig::PLACEHOLDERS.contains(&name) => {
                    return Err((start, unknown_placeholder(name)));
                }
                None if kept => {
                    return Err((
                        start,
                        format!(
                            "`{{{{ {name} }}}}` has no value: `site.toml` leaves out its setting; add it there, or remove the placeholder"
                        ),
                    ));
                }
                None => {}
            }
            continue;
        };
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        let alone = text[line_start..start].chars().all(|c| c.is_whitespace() || c == '>')
            && text[end..line_end].trim().is_empty();
        if alone {
            if kept {
                out.truncate(out.len() - (start - line_start));
            }
            done = line_end;
        }
        open = match (marker, open) {
            (END, None) => {
                return Err((
                    start,
                    format!(
                        "`{{{{ {END} }}}}` closes no passage: remove it, or open the passage before it with `{{{{ {WITH_EMAIL} }}}}` or `{{{{ {WITHOUT_EMAIL} }}}}`"
                    ),
                ));
            }
            (END, Some(_)) => None,
            (_, Some(outer)) => {
                return Err((
                    start,
                    format!(
                        "`{{{{ {marker} }}}}` opens a passage inside the one `{{{{ {} }}}}` opened: passages do not nest; close that one with `{{{{ {END} }}}}` first",
                        outer.marker
                    ),
                ));
            }
            (_, None) => Some(Passage {
                marker,
                offset: start,
                kept: (marker == WITH_EMAIL) == config.activation_email,
            }),
        };
    }
    if let Some(passage) = open {
        return Err((
            passage.offset,
            format!("`{{{{ {} }}}}` is never closed: end its passage with `{{{{ {END} }}}}`", passage.marker),
        ));
    }
    out.push_str(&text[done..]);
    Ok(out)
}

/// What an unknown `{{ name }}` is told: every placeholder and marker there is.
fn unknown_placeholder(name: &str) -> String {
    let list =
        |names: &[&str]| names.iter().map(|p| format!("`{{{{ {p} }}}}`")).collect::<Vec<_>>().join(", ");
    format!(
        "unknown placeholder `{{{{ {name} }}}}`; known ones are {}, and the markers of a passage shown only with or only without the activation e-mail, {}",
        list(SiteConfig::PLACEHOLDERS),
        list(&[WITH_EMAIL, WITHOUT_EMAIL, END])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Settings for a deployment that sends the activation e-mail, or not.
    fn settings(activation_email: bool) -> SiteConfig {
        SiteConfig::parse(
            &format!(
                "school_name = \"X\"\nschool_display_name = \"Lycée X\"\nschool_town = \"Riom\"\nregion_url = \"https://r.fr/pass\"\nlanguage = \"fr\"\nform_endpoint = \"http://127.0.0.1/demande\"\nactivation_email = {activation_email}\n"
            ),
            Path::new("site.toml"),
        )
        .unwrap()
    }

    fn config() -> SiteConfig {
        settings(true)
    }

    // Front matter is found between `+++` lines, with the body's first line counted.
    #[test]
    fn splits_front_matter() {
        let (front, body, line) = split_front_matter("+++\ntitle = \"A\"\n+++\nBody\n").unwrap();
        assert_eq!((front, body, line), ("title = \"A\"\n", "Body\n", 4));
        let (front, body, line) = split_front_matter("\u{feff}+++\r\na = 1\r\nb = 2\r\n+++\r\nX").unwrap();
        assert_eq!((front, body, line), ("a = 1\r\nb = 2\r\n", "X", 5));
        for bad in ["title = 1", "+++ title", "+++\ntitle = 1\n", ""] {
            assert!(split_front_matter(bad).is_err(), "{bad:?}");
        }
    }

    // Placeholders are replaced; unknown or unclosed ones are located.
    #[test]
    fn substitutes_placeholders() {
        let c = config();
        assert_eq!(substitute("Au {{ etablissement }} de {{ville}}.", &c).unwrap(), "Au Lycée X de Riom.");
        assert_eq!(substitute("[R]({{ url_region }})", &c).unwrap(), "[R](https://r.fr/pass)");
        assert_eq!(substitute("({{ poids_photo_max }} au plus)", &c).unwrap(), "(4\u{202f}Mo au plus)");
        let (offset, message) = substitute("ab\n{{ ecole }}", &c).unwrap_err();
        assert_eq!(offset, 3);
        assert!(
            message.contains("unknown placeholder `{{ ecole }}`")
                && message.contains("`{{ etablissement }}`"),
            "{message}"
        );
        let (offset, message) = substitute("x {{ etablissement", &c).unwrap_err();
        assert_eq!(offset, 2);
        assert!(message.contains("never closed"), "{message}");
        assert_eq!(substitute("{{ etablissement_formulaire }}", &c).unwrap(), "X");
        assert_eq!(substitute("[E]({{ url_espace }})", &c).unwrap(), "[E](http://127.0.0.1/espace)");
        let (offset, message) = substitute("Voir {{ contact_dpd }}.", &c).unwrap_err();
        assert_eq!(offset, 5);
        assert!(message.contains("`{{ contact_dpd }}` has no value"), "{message}");
    }

    // Each passage is kept in its own deployment only, inline or as whole lines; a marker alone on
    // its line takes its line along, so a list stays one list. A placeholder in the dropped
    // passage needs no value, but a known name.
    #[test]
    fn passages_follow_the_activation_email() {
        let cases = [
            ("a{{ avec_courriel }}b{{ fin }}c", "abc", "ac"),
            ("a{{ sans_courriel }}b{{ fin }}c", "ac", "abc"),
            (
                "Vous {{ avec_courriel }}recevrez un e-mail{{ fin }}{{ sans_courriel }}verrez le numéro{{ fin }}.",
                "Vous recevrez un e-mail.",
                "Vous verrez le numéro.",
            ),
            (
                "- un\n{{ avec_courriel }}\n- deux\n{{ fin }}\n{{ sans_courriel }}\n- trois\n{{ fin }}\n- quatre\n",
                "- un\n- deux\n- quatre\n",
                "- un\n- trois\n- quatre\n",
            ),
            ("> x\n>  {{ avec_courriel }}  \r\n> y\n  {{ fin }}\n", "> x\n> y\n", "> x\n"),
            ("{{ avec_courriel }}\nfin\n{{ fin }}", "fin\n", ""),
        ];
        for (text, with, without) in cases {
            assert_eq!(substitute(text, &settings(true)).as_deref(), Ok(with), "{text:?} with the e-mail");
            assert_eq!(substitute(text, &settings(false)).as_deref(), Ok(without), "{text:?} without");
        }
        let unset = "{{ sans_courriel }}{{ contact_dpd }}{{ fin }}{{ etablissement }}";
        assert_eq!(substitute(unset, &settings(true)).as_deref(), Ok("Lycée X"));
        let (offset, message) = substitute(unset, &settings(false)).unwrap_err();
        assert_eq!(offset, 19);
        assert!(message.contains("`{{ contact_dpd }}` has no value"), "{message}");
    }

    // An unbalanced, nested or misspelt marker is refused where it stands, whichever deployment
    // builds, saying what to write instead.
    #[test]
    fn passage_mistakes_are_located() {
        let cases = [
            (
                "ab\n{{ avec_courriel }}\nc\n",
                3,
                "`{{ avec_courriel }}` is never closed: end its passage with `{{ fin }}`",
            ),
            (
                "a {{ fin }}",
                2,
                "`{{ fin }}` closes no passage: remove it, or open the passage before it with `{{ avec_courriel }}` or `{{ sans_courriel }}`",
            ),
            (
                "{{ sans_courriel }} x {{ avec_courriel }} y {{ fin }}",
                22,
                "`{{ avec_courriel }}` opens a passage inside the one `{{ sans_courriel }}` opened: passages do not nest; close that one with `{{ fin }}` first",
            ),
            ("{{ avec_courriel }}a{{ fin }}{{ fin }}", 29, "`{{ fin }}` closes no passage"),
            ("x\n{{ sans_mail }}b{{ fin }}", 2, "unknown placeholder `{{ sans_mail }}`"),
            ("{{ sans_courriel }}{{ lycee }}{{ fin }}", 19, "unknown placeholder `{{ lycee }}`"),
        ];
        for (text, offset, expected) in cases {
            for activation_email in [true, false] {
                let (found, message) = substitute(text, &settings(activation_email)).unwrap_err();
                assert_eq!(found, offset, "{text:?} ({activation_email})");
                assert!(message.starts_with(expected), "{text:?} ({activation_email}): {message}");
            }
        }
        let (_, message) = substitute("{{ sans_mail }}", &config()).unwrap_err();
        assert!(message.ends_with("`{{ avec_courriel }}`, `{{ sans_courriel }}`, `{{ fin }}`"), "{message}");
    }
}
