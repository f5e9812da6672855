//! The build, stage by stage: load the content, its pictures, the templates and the scripts
//! (every file read here); render every page in parallel in memory ([`crate::markdown`], then
//! [`crate::view`] and the templates); write it all through [`crate::output`], which swaps the
//! finished folder in only when everything worked.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tera::Tera;

use crate::content::Content;
use crate::error::{Error, Result};
use crate::images::{Pictures, is_raster};
use crate::markdown::{Renderer, Target};
use crate::output::{self, Destination, Output};
use crate::paths::{dir_of, to_site_path};
use crate::{scripts, templates, view};

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

/// A loaded site, ready to render: everything the build reads, read.
pub struct Site {
    content: Content,
    /// The form's contract as JSON, made once for the pages that embed it.
    form_json: Option<String>,
    pictures: Pictures,
    tera: Tera,
    /// The files of the templates' `static/`, relative to the templates folder.
    statics: Vec<PathBuf>,
    /// The scripts joined from the templates' `scripts/`, ready to write.
    scripts: Vec<Output>,
    templates_dir: PathBuf,
    /// The raster pictures whose variants the last build wrote: a page rendered again alone
    /// that shows another one calls for a full build.
    written_rasters: BTreeSet<PathBuf>,
}

/// The rendered pages of a site.
#[derive(Debug)]
pub struct Rendered {
    /// The pages (and the sitemap), by site path.
    pub files: Vec<Output>,
    /// The raster pictures they show, whose variants must be written.
    pub rasters: BTreeSet<PathBuf>,
}

/// What a build did, for the command line.
#[derive(Debug)]
pub struct Report {
    /// Pages written.
    pub pages: usize,
    /// Other files written (styles, scripts, the content's own files; not the picture variants).
    pub files: usize,
    /// Time from start to swap.
    pub elapsed: Duration,
}

impl Site {
    /// Reads the content with its pictures, the templates and the scripts; reports every
    /// content mistake at once.
    pub fn load(paths: &Paths) -> Result<Site> {
        let (content, templates) = rayon::join(
            || {
                let content = Content::load(&paths.content)?;
                let pictures = Pictures::load(&content.root, &content.assets);
                Ok::<_, Error>((content, pictures))
            },
            || {
                let tera = templates::load(&paths.templates)?;
                let statics = templates::static_files(&paths.templates)?;
                let scripts = scripts::load(&paths.templates, &statics)?;
                Ok::<_, Error>((tera, statics, scripts))
            },
        );
        let (content, pictures) = content?;
        let (tera, statics, scripts) = templates?;
        let form_json = content
            .form
            .as_ref()
            .map(form::Schema::contract_json)
            // Inside <script>, `</` would end the element early.
            .map(|json| json.replace("</", "<\\/"));
        Ok(Site {
            content,
            form_json,
            pictures,
            tera,
            statics,
            scripts,
            templates_dir: paths.templates.clone(),
            written_rasters: BTreeSet::new(),
        })
    }

    /// The content read.
    pub fn content(&self) -> &Content {
        &self.content
    }

    fn renderer(&self) -> Renderer<'_> {
        Renderer { content: &self.content, pictures: &self.pictures }
    }

    /// Renders every page in memory, checking every link and picture.
    pub fn render(&self) -> Result<Rendered> {
        let renderer = self.renderer();
        let results: Vec<Result<(Output, BTreeSet<PathBuf>)>> = (0..self.content.pages.len())
            .into_par_iter()
            .map(|i| self.render_page(&renderer, i))
            .chain(rayon::iter::once(self.render_print(&renderer)))
            .chain(rayon::iter::once(self.render_not_found().map(|output| (output, BTreeSet::new()))))
            .collect();
        let mut files = Vec::with_capacity(results.len() + 1);
        let mut rasters = BTreeSet::new();
        let mut errors = Vec::new();
        // The print page renders every page again: report each of its mistakes once.
        let mut seen = HashSet::new();
        for result in results {
            let new = match result {
                Ok((output, shown)) => {
                    files.push(output);
                    rasters.extend(shown);
                    continue;
                }
                Err(Error::Many(many)) => many,
                Err(e) => vec![e],
            };
            errors.extend(new.into_iter().filter(|e| seen.insert(e.to_string())));
        }
        Error::collect(errors)?;
        if let Some(base) = &self.content.config.base_url {
            let pages = files.iter().map(|o| o.path.as_str()).filter(|p| *p != NOT_FOUND_PAGE);
            let xml = templates::render(&self.tera, SITEMAP, &view::sitemap(base, pages))?;
            files.push(Output { path: SITEMAP.to_owned(), bytes: xml.into_bytes() });
        }
        Ok(Rendered { files, rasters })
    }

    /// Re-renders the page read from `source` after only its body changed; `None` when the
    /// change calls for a full build (see [`Content::reload_body`]) or shows a raster picture
    /// whose variants the last build did not write.
    pub fn render_changed(&mut self, source: &Path) -> Result<Option<Output>> {
        let Some(index) = self.content.reload_body(source)? else { return Ok(None) };
        let (output, rasters) = self.render_page(&self.renderer(), index)?;
        Ok(rasters.is_subset(&self.written_rasters).then_some(output))
    }

    /// Renders the print page alone, which holds every page's text.
    pub fn render_print_page(&self) -> Result<Output> {
        self.render_print(&self.renderer()).map(|(output, _)| output)
    }

    fn render_page(&self, renderer: &Renderer, index: usize) -> Result<(Output, BTreeSet<PathBuf>)> {
        let page = &self.content.pages[index];
        let target = Target { from_dir: dir_of(&page.output), id_prefix: "", heading_shift: 0 };
        let fragment = renderer.render(page, target)?;
        let template = page.template.as_deref().unwrap_or(view::template_of(page.kind).0);
        if !self.tera.get_template_names().any(|n| n == template) {
            return Err(Error::at(
                &page.display_path,
                Some(1),
                format!("the template `{template}` does not exist in `{}`", self.templates_dir.display()),
            ));
        }
        let context = view::page(&self.content, index, fragment.html, self.form_json.as_deref());
        let html = templates::render(&self.tera, template, &context)?;
        Ok((Output { path: page.output.clone(), bytes: html.into_bytes() }, fragment.rasters))
    }

    /// The whole guide on one page, for paper (see [`view::print`]).
    fn render_print(&self, renderer: &Renderer) -> Result<(Output, BTreeSet<PathBuf>)> {
        let mut errors = Vec::new();
        let mut rasters = BTreeSet::new();
        let context = view::print(&self.content, |page, target| match renderer.render(page, target) {
            Ok(fragment) => {
                rasters.extend(fragment.rasters);
                fragment.html
            }
            Err(e) => {
                errors.push(e);
                String::new()
            }
        });
        Error::collect(errors)?;
        let html = templates::render(&self.tera, "print.html", &context)?;
        Ok((Output { path: PRINT_PAGE.to_owned(), bytes: html.into_bytes() }, rasters))
    }

    /// The page servers show for a missing address.
    fn render_not_found(&self) -> Result<Output> {
        let html = templates::render(&self.tera, NOT_FOUND_PAGE, &view::not_found(&self.content))?;
        Ok(Output { path: NOT_FOUND_PAGE.to_owned(), bytes: html.into_bytes() })
    }

    /// Writes the rendered pages, the scripts, the content's files, the static assets and the
    /// pictures shown into the empty folder `dir`. `previous` is the last build, whose encoded
    /// pictures are reused. Returns how many files other than pages and pictures it wrote.
    fn write(&self, rendered: &Rendered, dir: &Path, previous: Option<&Path>) -> Result<usize> {
        rendered
            .files
            .par_iter()
            .chain(self.scripts.par_iter())
            .try_for_each(|file| output::write_file(&dir.join(&file.path), &file.bytes))?;
        let content_files = self
            .content
            .assets
            .iter()
            .filter(|a| !is_raster(a))
            .map(|a| (self.content.root.join(a), dir.join(a)));
        let static_files =
            self.statics.iter().map(|s| (self.templates_dir.join(s), dir.join(to_site_path(s))));
        let copies: Vec<(PathBuf, PathBuf)> = content_files.chain(static_files).collect();
        let count = copies.len() + self.scripts.len();
        output::copy_files(copies)?;
        self.pictures.write(dir, &rendered.rasters, previous)?;
        Ok(count)
    }
}

/// Builds the site of `paths` into `out`: everything is made in a folder beside `out` and
/// swapped in at the end, so a failed build leaves `out` untouched.
pub fn build(paths: &Paths, out: &Path) -> Result<Report> {
    build_site(paths, out).map(|(_, report)| report)
}

/// Builds like [`build`] and keeps the loaded site, for later partial rebuilds.
pub fn build_site(paths: &Paths, out: &Path) -> Result<(Site, Report)> {
    let start = Instant::now();
    let destination = Destination::check(out)?;
    let mut site = Site::load(paths)?;
    let rendered = site.render()?;
    let files = destination.replace(|dir, previous| site.write(&rendered, dir, previous))?;
    let pages = rendered.files.len();
    site.written_rasters = rendered.rasters;
    Ok((site, Report { pages, files, elapsed: start.elapsed() }))
}

/// Loads and renders everything, writing nothing: the content's mistakes, or the page count.
pub fn check(paths: &Paths) -> Result<usize> {
    let site = Site::load(paths)?;
    Ok(site.render()?.files.len())
}
