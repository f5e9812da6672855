//! The build: content and templates in, a complete site out. Pages are rendered in parallel in
//! memory, written to a folder beside the target, and swapped in only when everything worked,
//! so a failed build leaves the previous site as it was.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use tera::Tera;
use walkdir::WalkDir;

use crate::config::SiteConfig;
use crate::content::{Content, Page, PageKind};
use crate::error::{Error, Result};
use crate::images::{Pictures, is_raster};
use crate::markdown::{Renderer, Target};
use crate::paths::{dir_of, relative, root_from, to_site_path};
use crate::templates::{self, STATIC_DIR};

/// A file that marks a folder as a site this generator wrote, so a build never replaces a
/// folder it did not make.
pub const MARKER: &str = ".generator-site";

/// Site paths of the pages the generator adds to the content's own.
pub const PRINT_PAGE: &str = "imprimer.html";
const NOT_FOUND_PAGE: &str = "404.html";
const SITEMAP: &str = "sitemap.xml";

/// Where to read and where to write.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The content folder.
    pub content: PathBuf,
    /// The templates folder.
    pub templates: PathBuf,
}

/// A loaded site, ready to render.
pub struct Site {
    content: Content,
    /// The form's schema as JSON, made once for the pages that embed it.
    form_json: Option<String>,
    tera: Tera,
    pictures: Pictures,
    templates_dir: PathBuf,
}

/// One rendered file of the site.
#[derive(Debug)]
pub struct Output {
    /// Its site path.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// What a build did, for the command line.
#[derive(Debug)]
pub struct Report {
    /// Pages written.
    pub pages: usize,
    /// Other files written (pictures, styles, scripts).
    pub files: usize,
    /// Time from start to swap.
    pub elapsed: Duration,
}

#[derive(Serialize)]
struct Link {
    title: String,
    url: String,
    /// The `aria-current` value: `page` for the page itself, `true` for the guide it is part of.
    current: Option<&'static str>,
}

#[derive(Serialize)]
struct StepLink {
    number: u32,
    title: String,
    url: String,
    current: bool,
}

#[derive(Serialize)]
struct GuideView {
    title: String,
    url: String,
    total: usize,
    steps: Vec<StepLink>,
}

#[derive(Serialize)]
struct StepView {
    number: u32,
    total: usize,
    /// How far the step is through the guide, for the progress bar.
    percent: usize,
    prev: Option<Link>,
    next: Option<Link>,
}

#[derive(Serialize)]
struct PageView<'a> {
    title: &'a str,
    description: Option<&'a str>,
    content: String,
    kind: &'static str,
    canonical: Option<String>,
}

#[derive(Serialize)]
struct PrintSection {
    id: String,
    title: String,
    content: String,
    steps: Vec<PrintStep>,
}

#[derive(Serialize)]
struct PrintStep {
    id: String,
    number: u32,
    title: String,
    content: String,
}

/// What the form page needs: the schema to render its fields, and the same schema as JSON for
/// the script that checks them live.
#[derive(Serialize)]
struct FormView<'a> {
    schema: &'a form::Schema,
    json: &'a str,
}

#[derive(Serialize)]
struct Context<'a> {
    site: &'a SiteConfig,
    form: Option<FormView<'a>>,
    root: String,
    page: PageView<'a>,
    nav: Vec<Link>,
    guide: Option<GuideView>,
    step: Option<StepView>,
    sections: Vec<PrintSection>,
}

#[derive(Serialize)]
struct SitemapContext {
    urls: Vec<String>,
}

impl Site {
    /// Reads the content and the templates; reports every content mistake at once.
    pub fn load(paths: &Paths) -> Result<Site> {
        let (content, tera) =
            rayon::join(|| Content::load(&paths.content), || templates::load(&paths.templates));
        let content = content?;
        let tera = tera?;
        let pictures = Pictures::new(&content.root);
        let form_json = content
            .form
            .as_ref()
            .map(|schema| serde_json::to_string(schema).expect("the schema serialises"))
            // Inside <script>, `</` would end the element early.
            .map(|json| json.replace("</", "<\\/"));
        Ok(Site { content, form_json, tera, pictures, templates_dir: paths.templates.clone() })
    }

    /// The content read.
    pub fn content(&self) -> &Content {
        &self.content
    }

    /// Renders every page in memory, checking every link and picture.
    pub fn render(&self) -> Result<Vec<Output>> {
        let renderer = Renderer { content: &self.content, pictures: &self.pictures };
        let results: Vec<Result<Output>> = (0..self.content.pages.len())
            .into_par_iter()
            .map(|i| self.render_page(&renderer, i))
            .chain(rayon::iter::once(self.render_print(&renderer)))
            .chain(rayon::iter::once(self.render_not_found()))
            .collect();
        let mut outputs = Vec::with_capacity(results.len() + 1);
        let mut errors = Vec::new();
        // The print page renders every page again: report each of its mistakes once.
        let mut seen = std::collections::HashSet::new();
        for result in results {
            let new = match result {
                Ok(output) => {
                    outputs.push(output);
                    continue;
                }
                Err(Error::Many(many)) => many,
                Err(e) => vec![e],
            };
            errors.extend(new.into_iter().filter(|e| seen.insert(e.to_string())));
        }
        Error::collect(errors)?;
        if let Some(base) = &self.content.config.base_url {
            let mut urls: Vec<String> = outputs
                .iter()
                .filter(|o| o.path != NOT_FOUND_PAGE)
                .map(|o| format!("{base}{}", o.path.strip_suffix("index.html").unwrap_or(&o.path)))
                .collect();
            urls.sort();
            let xml = templates::render(&self.tera, SITEMAP, &SitemapContext { urls })?;
            outputs.push(Output { path: SITEMAP.to_owned(), bytes: xml.into_bytes() });
        }
        Ok(outputs)
    }

    /// Re-renders the page read from `source` after only its body changed; `None` when the
    /// change calls for a full build (see [`Content::reload_body`]) or adds a raster picture.
    pub fn render_changed(&mut self, source: &Path) -> Result<Option<Output>> {
        let Some(index) = self.content.reload_body(source)? else { return Ok(None) };
        let rasters = self.pictures.raster_count();
        let renderer = Renderer { content: &self.content, pictures: &self.pictures };
        let output = self.render_page(&renderer, index)?;
        Ok((self.pictures.raster_count() == rasters).then_some(output))
    }

    /// Renders the print page alone, which holds every page's text.
    pub fn render_print_page(&self) -> Result<Output> {
        self.render_print(&Renderer { content: &self.content, pictures: &self.pictures })
    }

    fn nav(&self, from_dir: &str, current: Option<usize>) -> Vec<Link> {
        let content = &self.content;
        let current_guide = current.and_then(|i| content.guide_of(i)).map(|g| g.index);
        let mut nav = Vec::new();
        for (i, page) in content.pages.iter().enumerate() {
            // The menu: the home page, then the guides, then the other top-level pages.
            let (rank, title) = match page.kind {
                PageKind::Home => (0, "Accueil".to_owned()),
                PageKind::Guide => (1, page.title.clone()),
                PageKind::Plain if dir_of(&page.output).is_empty() => (2, page.title.clone()),
                PageKind::Plain | PageKind::Step => continue,
            };
            let is_current = if current == Some(i) {
                Some("page")
            } else if current_guide == Some(i) {
                Some("true")
            } else {
                None
            };
            nav.push((rank, Link { title, url: relative(from_dir, &page.output), current: is_current }));
        }
        nav.sort_by_key(|(rank, _)| *rank);
        // The print page is linked from every page's footer rather than the menu.
        nav.into_iter().map(|(_, link)| link).collect()
    }

    fn render_page(&self, renderer: &Renderer, index: usize) -> Result<Output> {
        let content = &self.content;
        let page = &content.pages[index];
        let from_dir = dir_of(&page.output);
        let html = renderer.render(page, Target { from_dir, id_prefix: "", heading_shift: 0 })?;
        let guide = content.guide_of(index).map(|g| {
            let overview = &content.pages[g.index];
            GuideView {
                title: overview.title.clone(),
                url: relative(from_dir, &overview.output),
                total: g.steps.len(),
                steps: g
                    .steps
                    .iter()
                    .map(|&s| {
                        let step = &content.pages[s];
                        StepLink {
                            number: step.step.expect("steps have numbers"),
                            title: step.title.clone(),
                            url: relative(from_dir, &step.output),
                            current: s == index,
                        }
                    })
                    .collect(),
            }
        });
        let step = match (page.kind, content.guide_of(index)) {
            (PageKind::Step, Some(g)) => {
                let position = g.steps.iter().position(|&s| s == index).expect("a step is in its guide");
                let link = |i: usize| {
                    let p = &content.pages[i];
                    Link { title: p.title.clone(), url: relative(from_dir, &p.output), current: None }
                };
                Some(StepView {
                    number: page.step.expect("steps have numbers"),
                    total: g.steps.len(),
                    percent: (position + 1) * 100 / g.steps.len(),
                    prev: position.checked_sub(1).map(|p| link(g.steps[p])),
                    next: g.steps.get(position + 1).map(|&n| link(n)),
                })
            }
            _ => None,
        };
        let (template, kind) = match page.kind {
            PageKind::Home => ("home.html", "home"),
            PageKind::Guide => ("guide.html", "guide"),
            PageKind::Step => ("step.html", "step"),
            PageKind::Plain => ("page.html", "page"),
        };
        let template = page.template.as_deref().unwrap_or(template);
        if !self.tera.get_template_names().any(|n| n == template) {
            return Err(Error::at(
                &page.display_path,
                Some(1),
                format!("the template `{template}` does not exist in `{}`", self.templates_dir.display()),
            ));
        }
        // Pages with a template of their own (the form, the photo tool) get the form's schema.
        let form = match (&page.template, &content.form, &self.form_json) {
            (Some(_), Some(schema), Some(json)) => Some(FormView { schema, json }),
            _ => None,
        };
        let context = Context {
            site: &content.config,
            form,
            root: root_from(from_dir),
            page: self.page_view(page, html, kind),
            nav: self.nav(from_dir, Some(index)),
            guide,
            step,
            sections: Vec::new(),
        };
        let html = templates::render(&self.tera, template, &context)?;
        Ok(Output { path: page.output.clone(), bytes: html.into_bytes() })
    }

    fn page_view<'a>(&self, page: &'a Page, content: String, kind: &'static str) -> PageView<'a> {
        PageView {
            title: &page.title,
            description: page.description.as_deref(),
            content,
            kind,
            canonical: self
                .content
                .config
                .base_url
                .as_ref()
                .map(|b| format!("{b}{}", page.output.strip_suffix("index.html").unwrap_or(&page.output))),
        }
    }

    /// The whole guide on one page, for paper: the home page, each guide with its steps, then
    /// the other pages. Heading ids are prefixed per page so they stay unique.
    fn render_print(&self, renderer: &Renderer) -> Result<Output> {
        let content = &self.content;
        let mut sections = Vec::new();
        let mut errors = Vec::new();
        let section_id = |page: &Page| page.output.trim_end_matches(".html").replace('/', "-");
        // Print headings: h1 the page, h2 each section, h3 each step; the pages' own `##`
        // headings move down under them.
        let mut render = |page: &Page, heading_shift: u8| {
            let prefix = format!("{}-", section_id(page));
            renderer.render(page, Target { from_dir: "", id_prefix: &prefix, heading_shift }).unwrap_or_else(
                |e| {
                    errors.push(e);
                    String::new()
                },
            )
        };
        let in_guide = |i: usize| content.guide_of(i).is_some();
        for (i, page) in content.pages.iter().enumerate() {
            // Pages with a template of their own (the form, the photo tool) are for screens.
            if page.template.is_some() {
                continue;
            }
            let section = match page.kind {
                PageKind::Home => Some(Vec::new()),
                PageKind::Guide => {
                    Some(content.guide_of(i).expect("a guide page has its guide").steps.clone())
                }
                PageKind::Plain if !in_guide(i) => Some(Vec::new()),
                _ => None,
            };
            let Some(steps) = section else { continue };
            let html = render(page, 1);
            let steps = steps
                .into_iter()
                .map(|s| {
                    let step = &content.pages[s];
                    PrintStep {
                        id: section_id(step),
                        number: step.step.expect("steps have numbers"),
                        title: step.title.clone(),
                        content: render(step, 2),
                    }
                })
                .collect();
            sections.push((
                page.kind != PageKind::Home,
                PrintSection { id: section_id(page), title: page.title.clone(), content: html, steps },
            ));
        }
        Error::collect(errors)?;
        sections.sort_by_key(|(not_home, _)| *not_home);
        let context = Context {
            site: &content.config,
            form: None,
            root: String::new(),
            page: PageView {
                title: "Tout le guide à imprimer",
                description: None,
                content: String::new(),
                kind: "print",
                canonical: None,
            },
            nav: self.nav("", None),
            guide: None,
            step: None,
            sections: sections.into_iter().map(|(_, s)| s).collect(),
        };
        let html = templates::render(&self.tera, "print.html", &context)?;
        Ok(Output { path: PRINT_PAGE.to_owned(), bytes: html.into_bytes() })
    }

    /// The page servers show for a missing address. With a base URL its links are absolute,
    /// because it is shown at whatever depth the missing address had.
    fn render_not_found(&self) -> Result<Output> {
        let content = &self.content;
        let root = content.config.base_url.clone().unwrap_or_default();
        let mut nav = self.nav("", None);
        for link in &mut nav {
            link.url = format!("{root}{}", link.url);
        }
        let context = Context {
            site: &content.config,
            form: None,
            root,
            page: PageView {
                title: "Page introuvable",
                description: None,
                content: String::new(),
                kind: "404",
                canonical: None,
            },
            nav,
            guide: None,
            step: None,
            sections: Vec::new(),
        };
        let html = templates::render(&self.tera, NOT_FOUND_PAGE, &context)?;
        Ok(Output { path: NOT_FOUND_PAGE.to_owned(), bytes: html.into_bytes() })
    }

    /// Writes the rendered pages, the content's files, the pictures and the static assets into
    /// the empty folder `dir`. `previous` is the last build, whose encoded pictures are reused.
    pub fn write(&self, outputs: &[Output], dir: &Path, previous: Option<&Path>) -> Result<usize> {
        outputs.par_iter().try_for_each(|output| write_file(&dir.join(&output.path), &output.bytes))?;
        let content_files: Vec<(PathBuf, PathBuf)> = self
            .content
            .assets
            .iter()
            .filter(|a| !is_raster(a))
            .map(|a| (self.content.root.join(a), dir.join(a)))
            .collect();
        let static_root = self.templates_dir.join(STATIC_DIR);
        let mut static_files = Vec::new();
        if static_root.is_dir() {
            for entry in WalkDir::new(&static_root).sort_by_file_name() {
                let entry = entry.map_err(|e| {
                    Error::io(
                        &static_root,
                        e.into_io_error().unwrap_or_else(|| std::io::Error::other("loop in folder links")),
                    )
                })?;
                if entry.file_type().is_file() {
                    let relative =
                        entry.path().strip_prefix(&self.templates_dir).expect("under the templates folder");
                    static_files.push((entry.path().to_owned(), dir.join(to_site_path(relative))));
                }
            }
        }
        let copies = content_files.len() + static_files.len();
        content_files.into_par_iter().chain(static_files).try_for_each(|(from, to)| {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::copy(&from, &to).map(|_| ()).map_err(|e| Error::io(&from, e))
        })?;
        self.pictures.write(dir, previous)?;
        write_file(&dir.join(MARKER), b"")?;
        Ok(copies)
    }
}

/// Writes one file of the site, creating its folder.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

/// Builds the site of `paths` into `out`: everything is made in a folder beside `out` and
/// swapped in at the end, so a failed build leaves `out` untouched.
pub fn build(paths: &Paths, out: &Path) -> Result<Report> {
    build_site(paths, out).map(|(_, report)| report)
}

/// Builds like [`build`] and keeps the loaded site, for later partial rebuilds.
pub fn build_site(paths: &Paths, out: &Path) -> Result<(Site, Report)> {
    let start = Instant::now();
    check_replaceable(out)?;
    let site = Site::load(paths)?;
    let outputs = site.render()?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let staging = tempfile::Builder::new()
        .prefix(".site-build-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let previous = out.join(MARKER).exists().then_some(out);
    let files = site.write(&outputs, staging.path(), previous)?;
    swap(staging, out)?;
    Ok((site, Report { pages: outputs.len(), files, elapsed: start.elapsed() }))
}

/// Loads and renders everything, writing nothing: the content's mistakes, or the page count.
pub fn check(paths: &Paths) -> Result<usize> {
    let site = Site::load(paths)?;
    Ok(site.render()?.len())
}

/// Refuses to replace a folder that is neither empty nor a site this generator built.
fn check_replaceable(out: &Path) -> Result<()> {
    if !out.exists() || out.join(MARKER).exists() {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
    if entries.next().is_some() {
        return Err(Error::at(
            out,
            None,
            "this folder is not a site built by the generator and is not empty; refusing to replace it (choose another `--out`)",
        ));
    }
    Ok(())
}

/// Moves the finished build into place: the old site is renamed aside, the new one renamed in,
/// the old one deleted. Both renames stay on one file system, so each is atomic.
fn swap(staging: tempfile::TempDir, out: &Path) -> Result<()> {
    let built = staging.keep();
    if out.exists() {
        let aside = out.with_file_name(format!(".site-old-{}", std::process::id()));
        std::fs::rename(out, &aside).map_err(|e| Error::io(out, e))?;
        if let Err(e) = std::fs::rename(&built, out) {
            // Put the previous site back before reporting.
            let _ = std::fs::rename(&aside, out);
            let _ = std::fs::remove_dir_all(&built);
            return Err(Error::io(out, e));
        }
        std::fs::remove_dir_all(&aside).map_err(|e| Error::io(&aside, e))?;
    } else {
        std::fs::rename(&built, out).map_err(|e| Error::io(out, e))?;
    }
    Ok(())
}
