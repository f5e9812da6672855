//! The build, stage by stage: load the content, its pictures, the templates and the scripts
//! (every file read here); render every page in parallel ([`crate::markdown`], then
//! [`crate::view`] and the templates), each written as soon as it is rendered into the folder
//! [`crate::output`] swaps in only when everything worked.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use tera::Tera;

use crate::content::{Content, Page};
use crate::error::{Error, Result};
use crate::images::{Pictures, is_raster};
use crate::markdown::{Fragment, Renderer, Target};
use crate::output::{self, Destination, Output};
use crate::paths::{dir_of, to_site_path};
use crate::{scripts, templates, view};

/// Site paths of the pages the generator adds to the content's own, each made only when the
/// templates folder has its template: the print page `print.html`, the 404 page `404.html`, the
/// sitemap `sitemap.xml` (with a `base_url` too).
pub const PRINT_PAGE: &str = "imprimer.html";
const PRINT_TEMPLATE: &str = "print.html";
const NOT_FOUND_PAGE: &str = "404.html";
const SITEMAP: &str = "sitemap.xml";

/// How many pieces of the print page are rendered in parallel before they are written in order:
/// enough to keep every core busy, few enough (about 1 MB of HTML) that the page, 46 MB on
/// 10,000 pages, is never held whole.
const PRINT_CHUNK: usize = 256;

/// Marks, in the print page's skeleton, the place of a page's body: the template gets
/// `\u{1}N\u{1}` for the N-th body, which the writer replaces with the body rendered then. A
/// control character, because no template text or title has one.
const BODY_MARK: char = '\u{1}';

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
    form_json: Option<BTreeMap<&'static str, String>>,
    pictures: Pictures,
    tera: Tera,
    /// The templates that list a guide's steps (see [`templates::Templates`]).
    listing_steps: HashSet<String>,
    /// The files of the templates' `static/`, relative to the templates folder.
    statics: Vec<PathBuf>,
    /// The scripts joined from the templates' `scripts/`, ready to write.
    scripts: Vec<Output>,
    templates_dir: PathBuf,
    /// The raster pictures whose variants the last build wrote: a page rendered again alone
    /// that shows another one calls for a full build.
    written_rasters: BTreeSet<PathBuf>,
}

/// What rendering every page found.
struct Rendered {
    /// How many pages (and sitemap) were rendered.
    pages: usize,
    /// The raster pictures they show, whose variants must be written.
    rasters: BTreeSet<PathBuf>,
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
                let loaded = templates::load(&paths.templates)?;
                let statics = templates::static_files(&paths.templates)?;
                let mut scripts = scripts::load(&paths.templates, &statics)?;
                let (statics, styles) = scripts::stylesheets(&paths.templates, statics)?;
                scripts.extend(styles);
                Ok::<_, Error>((loaded, statics, scripts))
            },
        );
        let (content, pictures) = content?;
        let (templates::Templates { tera, listing_steps }, statics, scripts) = templates?;
        let form_json = content.form.as_ref().map(|schema| {
            let contracts = schema.page_contracts().into_iter();
            // Inside <script>, `</` would end the element early.
            contracts.map(|(page, json)| (page, json.replace("</", "<\\/"))).collect()
        });
        Ok(Site {
            content,
            form_json,
            pictures,
            tera,
            listing_steps,
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

    fn has_template(&self, name: &str) -> bool {
        self.tera.get_template_names().any(|n| n == name)
    }

    /// Renders every page, checking every link and picture, and writes each into `dir` as soon
    /// as it is rendered (nowhere when `dir` is `None`, to check). So a 10,000-page build holds
    /// a page per thread and a slice of the print page, not the 430 MB of the whole site: the
    /// rejected alternative, rendering everything into memory before writing, peaked at 600 MB.
    /// A mistake anywhere still fails the build, whose half-written folder is then thrown away.
    fn render(&self, dir: Option<&Path>) -> Result<Rendered> {
        let renderer = self.renderer();
        let write = |output: &Output| match dir {
            Some(dir) => output::write_file(&dir.join(&output.path), &output.bytes),
            None => Ok(()),
        };
        let has_print = self.has_template(PRINT_TEMPLATE);
        let has_not_found = self.has_template(NOT_FOUND_PAGE);
        // The print page and the 404 page beside the pages, each spreading its own work over
        // the threads the pages leave.
        let (pages, (print, not_found)) = rayon::join(
            || {
                (0..self.content.pages.len())
                    .into_par_iter()
                    .map(|i| {
                        let (output, shown) = self.render_page(&renderer, i)?;
                        write(&output)?;
                        Ok(shown)
                    })
                    .collect::<Vec<Result<BTreeSet<PathBuf>>>>()
            },
            || {
                rayon::join(
                    || has_print.then(|| self.write_print(&renderer, dir, &|| false)),
                    || {
                        has_not_found.then(|| {
                            let output = self.render_not_found()?;
                            write(&output).map(|()| BTreeSet::new())
                        })
                    },
                )
            },
        );
        let mut count = 0;
        let mut rasters = BTreeSet::new();
        let mut errors = Vec::new();
        // The print page renders every page again: report each of its mistakes once.
        let mut seen = HashSet::new();
        for result in pages.into_iter().chain(print).chain(not_found) {
            let new = match result {
                Ok(shown) => {
                    count += 1;
                    rasters.extend(shown);
                    continue;
                }
                Err(Error::Many(many)) => many,
                Err(e) => vec![e],
            };
            errors.extend(new.into_iter().filter(|e| seen.insert(e.to_string())));
        }
        Error::collect(errors)?;
        if let Some(base) = self.content.config.base_url.as_ref().filter(|_| self.has_template(SITEMAP)) {
            let print = has_print.then_some(PRINT_PAGE);
            let pages = self.content.pages.iter().map(|p| p.output.as_str()).chain(print);
            let xml = templates::render(&self.tera, SITEMAP, &view::sitemap(base, pages))?;
            write(&Output { path: SITEMAP.to_owned(), bytes: xml.into_bytes() })?;
            count += 1;
        }
        Ok(Rendered { pages: count, rasters })
    }

    /// Re-renders the page read from `source` after only its body changed; `None` when the
    /// change calls for a full build (see [`Content::reload_body`]) or shows a raster picture
    /// whose variants the last build did not write.
    pub fn render_changed(&mut self, source: &Path) -> Result<Option<Output>> {
        let Some(index) = self.content.reload_body(source)? else { return Ok(None) };
        let (output, rasters) = self.render_page(&self.renderer(), index)?;
        Ok(rasters.is_subset(&self.written_rasters).then_some(output))
    }

    /// Writes the print page alone into the built site `dir`, when the templates have one; it
    /// holds every page's text. The page is replaced whole, so a reader never gets half of it.
    /// `give_way` is asked between chunks of pages: once it says yes, the page is left as it was
    /// and `Ok(false)` returned (the preview's next change comes first; it writes the page later).
    pub fn write_print_page(&self, dir: &Path, give_way: &(dyn Fn() -> bool + Sync)) -> Result<bool> {
        if !self.has_template(PRINT_TEMPLATE) {
            return Ok(true);
        }
        match self.write_print(&self.renderer(), Some(dir), give_way) {
            Ok(_) => Ok(true),
            Err(Error::GaveWay) => Ok(false),
            Err(error) => Err(error),
        }
    }

    fn render_page(&self, renderer: &Renderer, index: usize) -> Result<(Output, BTreeSet<PathBuf>)> {
        let page = &self.content.pages[index];
        let target = Target { from_dir: dir_of(&page.output), id_prefix: "", heading_shift: 0 };
        let fragment = renderer.render(page, target)?;
        let template = page.template.as_deref().unwrap_or(view::template_of(page.kind).0);
        if !self.has_template(template) {
            return Err(Error::at(
                &page.display_path,
                Some(1),
                format!("the template `{template}` does not exist in `{}`", self.templates_dir.display()),
            ));
        }
        let context = view::page(
            &self.content,
            index,
            fragment.html,
            self.form_json.as_ref(),
            self.listing_steps.contains(template),
        );
        let html = templates::render(&self.tera, template, &context)?;
        Ok((Output { path: page.output.clone(), bytes: html.into_bytes() }, fragment.rasters))
    }

    /// Writes the whole guide on one page, for paper (see [`view::print`]), into `dir` (nowhere
    /// when `None`); returns the raster pictures it shows. The template renders a skeleton in
    /// which each body is a [`BODY_MARK`]ed number; the bodies are then rendered a chunk at a
    /// time in parallel and written in order between the skeleton's pieces. The rejected
    /// alternative, the bodies in the template's context, held every page's HTML twice more
    /// (the context, Tera's copy of it) besides the 46 MB page itself. Fails with
    /// [`Error::GaveWay`] before a chunk once `give_way` says so.
    fn write_print(
        &self,
        renderer: &Renderer,
        dir: Option<&Path>,
        give_way: &(dyn Fn() -> bool + Sync),
    ) -> Result<BTreeSet<PathBuf>> {
        let mut bodies: Vec<(&Page, String, String, u8)> = Vec::new();
        let context = view::print(&self.content, |page, target| {
            bodies.push((
                page,
                target.from_dir.to_owned(),
                target.id_prefix.to_owned(),
                target.heading_shift,
            ));
            format!("{BODY_MARK}{}{BODY_MARK}", bodies.len() - 1)
        });
        let skeleton = templates::render(&self.tera, PRINT_TEMPLATE, &context)?;
        let pieces = split_marks(&skeleton, bodies.len());
        let render = |&(page, ref from_dir, ref id_prefix, heading_shift): &(&Page, String, String, u8)| {
            renderer.render(page, Target { from_dir, id_prefix, heading_shift })
        };
        let write = |out: &mut dyn Write, path: &Path| {
            let mut rasters = BTreeSet::new();
            let mut errors = Vec::new();
            for chunk in pieces.chunks(PRINT_CHUNK) {
                if give_way() {
                    return Err(Error::GaveWay);
                }
                let fragments: Vec<Option<Result<Fragment>>> =
                    chunk.par_iter().map(|(_, body)| body.map(|b| render(&bodies[b]))).collect();
                for ((text, _), fragment) in chunk.iter().zip(fragments) {
                    out.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))?;
                    match fragment {
                        Some(Ok(fragment)) => {
                            out.write_all(fragment.html.as_bytes()).map_err(|e| Error::io(path, e))?;
                            rasters.extend(fragment.rasters);
                        }
                        Some(Err(e)) => errors.push(e),
                        None => {}
                    }
                }
            }
            Error::collect(errors).map(|()| rasters)
        };
        match dir {
            Some(dir) => output::write_with(&dir.join(PRINT_PAGE), write),
            None => write(&mut std::io::sink(), Path::new(PRINT_PAGE)),
        }
    }

    /// The page servers show for a missing address.
    fn render_not_found(&self) -> Result<Output> {
        let html = templates::render(&self.tera, NOT_FOUND_PAGE, &view::not_found(&self.content))?;
        Ok(Output { path: NOT_FOUND_PAGE.to_owned(), bytes: html.into_bytes() })
    }

    /// Renders and writes the pages, then writes the scripts, the content's files, the static
    /// assets and the pictures shown into the empty folder `dir`. `previous` is the last build,
    /// whose encoded pictures are reused. Returns what rendering found and how many files other
    /// than pages and pictures it wrote.
    fn write(&self, dir: &Path, previous: Option<&Path>) -> Result<(Rendered, usize)> {
        let rendered = self.render(Some(dir))?;
        self.scripts
            .par_iter()
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
        Ok((rendered, count))
    }
}

/// The print page's skeleton cut at its body marks: each piece of text, followed by the index of
/// the body that comes after it (`None` after the last piece). A mark that names no body is
/// left as text.
fn split_marks(skeleton: &str, bodies: usize) -> Vec<(&str, Option<usize>)> {
    let mut pieces = Vec::with_capacity(bodies + 1);
    let (mut start, mut from) = (0, 0);
    while let Some(found) = skeleton[from..].find(BODY_MARK) {
        let open = from + found;
        let digits = open + BODY_MARK.len_utf8();
        let body = skeleton[digits..].find(BODY_MARK).and_then(|len| {
            skeleton[digits..digits + len]
                .parse::<usize>()
                .ok()
                .filter(|&b| b < bodies)
                .map(|b| (b, digits + len))
        });
        match body {
            Some((body, close)) => {
                pieces.push((&skeleton[start..open], Some(body)));
                start = close + BODY_MARK.len_utf8();
                from = start;
            }
            None => from = digits,
        }
    }
    pieces.push((&skeleton[start..], None));
    pieces
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
    let (rendered, files) = destination.replace(|dir, previous| site.write(dir, previous))?;
    site.written_rasters = rendered.rasters;
    Ok((site, Report { pages: rendered.pages, files, elapsed: start.elapsed() }))
}

/// Loads and renders everything, writing nothing: the content's mistakes, or the page count.
pub fn check(paths: &Paths) -> Result<usize> {
    let site = Site::load(paths)?;
    Ok(site.render(None)?.pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The print page's skeleton is cut at each mark that names a body; anything else stays text.
    #[test]
    fn skeleton_cut_at_body_marks() {
        for (skeleton, bodies, expected) in [
            ("", 0, vec![("", None)]),
            ("a\u{1}0\u{1}b\u{1}1\u{1}c", 2, vec![("a", Some(0)), ("b", Some(1)), ("c", None)]),
            ("\u{1}1\u{1}\u{1}0\u{1}", 2, vec![("", Some(1)), ("", Some(0)), ("", None)]),
            ("a\u{1}7\u{1}b", 2, vec![("a\u{1}7\u{1}b", None)]),
            ("a\u{1}x\u{1}0", 1, vec![("a\u{1}x\u{1}0", None)]),
            ("a\u{1}\u{1}0\u{1}b", 1, vec![("a\u{1}", Some(0)), ("b", None)]),
        ] {
            assert_eq!(split_marks(skeleton, bodies), expected, "{skeleton:?}");
        }
    }
}
