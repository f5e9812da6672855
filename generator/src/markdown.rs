//! Markdown to HTML with pulldown-cmark, plus what the guide needs on top: French typography in
//! text, GitHub alerts as accessible callouts, pictures checked and sized, internal links
//! checked and made relative, and heading ids. Every mistake is reported with its line.
//!
//! A pure stage: rendering reads no file. Pages, assets and picture sizes were all read when the
//! content was loaded; the renderer only looks them up, so a page renders the same wherever and
//! however often it is rendered (in parallel, or again for the print page).

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};
use pulldown_cmark::{
    BlockQuoteKind, CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd, TextMergeWithOffset,
};

use crate::content::{Content, Page};
use crate::error::{Error, Result, line_of};
use crate::images::{Picture, Pictures, is_raster};
use crate::paths::{join_normalised, relative, to_site_path};
use crate::typography::french;

/// The CommonMark extensions the guide's authors may use.
fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_GFM
}

/// Where a rendered fragment is shown.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// The output folder of the page that will hold the HTML; URLs are made relative to it.
    pub from_dir: &'a str,
    /// Prepended to heading ids, so several pages can share one document (the print page).
    pub id_prefix: &'a str,
    /// Levels added to every heading, so a page nested in a larger document keeps its outline.
    pub heading_shift: u8,
}

/// Renders pages of one content folder.
pub struct Renderer<'a> {
    /// The content, to resolve links between pages.
    pub content: &'a Content,
    /// The pictures read with the content, to size each `<img>`.
    pub pictures: &'a Pictures,
}

/// The HTML of one page's body, and what the site must hold for it.
#[derive(Debug)]
pub struct Fragment {
    /// The HTML.
    pub html: String,
    /// The raster pictures it shows (relative to the content root), whose variants must be
    /// written: the renderer says which rather than writing them, since it does no I/O.
    pub rasters: BTreeSet<PathBuf>,
}

/// The French heading a kind of callout gets.
pub fn callout_title(kind: BlockQuoteKind) -> (&'static str, &'static str) {
    match kind {
        BlockQuoteKind::Note => ("note", "Remarque"),
        BlockQuoteKind::Tip => ("tip", "Astuce"),
        BlockQuoteKind::Important => ("important", "À retenir"),
        BlockQuoteKind::Warning => ("warning", "Attention"),
        BlockQuoteKind::Caution => ("caution", "Prudence"),
    }
}

/// URL schemes a page may link to.
const SCHEMES: &[&str] = &["https:", "http:", "mailto:", "tel:"];

/// The `sizes` attribute of raster pictures: the text column's width, capped on wide screens.
const SIZES: &str = "(min-width: 48rem) 44rem, calc(100vw - 2rem)";

impl Renderer<'_> {
    /// Renders the body of `page` for display at `target`.
    pub fn render(&self, page: &Page, target: Target<'_>) -> Result<Fragment> {
        let mut state = State {
            renderer: self,
            page,
            target,
            errors: Vec::new(),
            ids: HashMap::new(),
            pictures_seen: 0,
            rasters: BTreeSet::new(),
        };
        let events: Vec<(Event, Range<usize>)> =
            TextMergeWithOffset::new(Parser::new_ext(&page.body, options()).into_offset_iter()).collect();
        let out = state.transform(events);
        Error::collect(state.errors)?;
        let mut html = String::with_capacity(page.body.len() * 3 / 2);
        pulldown_cmark::html::push_html(&mut html, out.into_iter());
        Ok(Fragment { html, rasters: state.rasters })
    }
}

struct State<'r, 'a> {
    renderer: &'r Renderer<'a>,
    page: &'r Page,
    target: Target<'r>,
    errors: Vec<Error>,
    ids: HashMap<String, usize>,
    pictures_seen: usize,
    rasters: BTreeSet<PathBuf>,
}

impl<'r, 'a> State<'r, 'a> {
    fn error(&mut self, range: &Range<usize>, message: String) {
        let line = self.page.body_line - 1 + line_of(&self.page.body, range.start);
        self.errors.push(Error::at(&self.page.display_path, Some(line), message));
    }

    fn transform<'e>(&mut self, events: Vec<(Event<'e>, Range<usize>)>) -> Vec<Event<'e>> {
        let mut out: Vec<Event<'e>> = Vec::with_capacity(events.len());
        let mut in_code = false;
        let mut i = 0;
        while i < events.len() {
            let (event, range) = &events[i];
            match event {
                Event::Start(Tag::CodeBlock(_)) => {
                    in_code = true;
                    out.push(event.clone());
                }
                Event::End(TagEnd::CodeBlock) => {
                    in_code = false;
                    out.push(event.clone());
                }
                Event::Text(t) if !in_code => out.push(Event::Text(CowStr::from(french(t)))),
                Event::Start(Tag::Heading { level, id, classes, attrs }) => {
                    if *level == HeadingLevel::H1 {
                        self.error(
                            range,
                            "a `#` heading would be a second page title: start the page's headings at `##`"
                                .to_owned(),
                        );
                    }
                    let end = find_end(&events, i);
                    let heading_text = plain_text(&events[i + 1..end]);
                    let base = id.as_ref().map_or_else(|| slug(&heading_text), |id| id.to_string());
                    let unique = self.unique_id(base);
                    out.push(Event::Start(Tag::Heading {
                        level: shift(*level, self.target.heading_shift),
                        id: Some(CowStr::from(format!("{}{unique}", self.target.id_prefix))),
                        classes: classes.clone(),
                        attrs: attrs.clone(),
                    }));
                }
                Event::Start(Tag::BlockQuote(Some(kind))) => {
                    let (class, title) = callout_title(*kind);
                    out.push(Event::Html(CowStr::from(format!(
                        "<div class=\"callout callout-{class}\" role=\"note\">\n<p class=\"callout-title\">{title}</p>\n"
                    ))));
                }
                Event::End(TagEnd::Heading(level)) => {
                    out.push(Event::End(TagEnd::Heading(shift(*level, self.target.heading_shift))))
                }
                Event::End(TagEnd::BlockQuote(Some(_))) => out.push(Event::Html(CowStr::from("</div>\n"))),
                Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
                    let url = self.link(dest_url, range).unwrap_or_default();
                    out.push(Event::Start(Tag::Link {
                        link_type: *link_type,
                        dest_url: CowStr::from(url),
                        title: title.clone(),
                        id: id.clone(),
                    }));
                }
                Event::Start(Tag::Image { dest_url, title, .. }) => {
                    let end = find_end(&events, i);
                    // The alternative is read out in place of the picture: the same typography as the text.
                    let alt = french(&plain_text(&events[i + 1..end]));
                    let alone = matches!(out.last(), Some(Event::Start(Tag::Paragraph)))
                        && matches!(events.get(end + 1), Some((Event::End(TagEnd::Paragraph), _)));
                    let img = self.image(dest_url, alt.trim(), range).unwrap_or_default();
                    if alone {
                        out.pop();
                        let caption = if title.is_empty() {
                            String::new()
                        } else {
                            format!("<figcaption>{}</figcaption>", text(&french(title)))
                        };
                        out.push(Event::Html(CowStr::from(format!("<figure>{img}{caption}</figure>\n"))));
                        i = end + 2;
                    } else {
                        out.push(Event::InlineHtml(CowStr::from(img)));
                        i = end + 1;
                    }
                    continue;
                }
                _ => out.push(event.clone()),
            }
            i += 1;
        }
        out
    }

    fn unique_id(&mut self, base: String) -> String {
        let base = if base.is_empty() { "section".to_owned() } else { base };
        let count = self.ids.entry(base.clone()).or_insert(0);
        *count += 1;
        if *count == 1 { base } else { format!("{base}-{count}") }
    }

    /// The content path a relative, possibly percent-encoded, URL of this page names; `None`
    /// when it climbs out of the content folder.
    fn resolve(&self, url_path: &str) -> Option<PathBuf> {
        let source_dir = self.page.source.parent().unwrap_or(Path::new(""));
        join_normalised(source_dir, &percent_encoding::percent_decode_str(url_path).decode_utf8_lossy())
    }

    /// The URL a link points at, checked; `None` after reporting an error.
    fn link(&mut self, dest: &str, range: &Range<usize>) -> Option<String> {
        if let Some(fragment) = dest.strip_prefix('#') {
            return Some(format!("#{}{fragment}", self.target.id_prefix));
        }
        if dest.is_empty() {
            self.error(range, "this link has no address".to_owned());
            return None;
        }
        if let Some(scheme) = scheme_of(dest) {
            if SCHEMES.contains(&scheme.as_str()) {
                return Some(dest.to_owned());
            }
            self.error(
                range,
                format!("links to `{dest}`: only https:, http:, mailto: and tel: addresses are allowed"),
            );
            return None;
        }
        if dest.starts_with('/') {
            self.error(
                range,
                format!("links to `{dest}` from the site's root, which breaks when the site is opened from a USB key: write the path relative to this file, e.g. `../index.md`"),
            );
            return None;
        }
        let (path, fragment) = dest.split_once('#').map_or((dest, None), |(p, f)| (p, Some(f)));
        let Some(target) = self.resolve(path) else {
            self.error(range, format!("links to `{dest}`, which is outside the content folder"));
            return None;
        };
        let content = self.renderer.content;
        let site_path = if target.extension().is_some_and(|e| e == "md") {
            match content.page_by_source(&target) {
                Some(page) => page.output.clone(),
                None => {
                    self.error(
                        range,
                        format!(
                            "links to `{dest}`, but there is no page `{}`",
                            content.root.join(&target).display()
                        ),
                    );
                    return None;
                }
            }
        } else if content.has_asset(&target) && !is_raster(&target) {
            to_site_path(&target)
        } else if content.has_asset(&target) {
            self.error(
                range,
                format!("links to the picture `{dest}`: show pictures with `![description]({dest})`"),
            );
            return None;
        } else {
            self.error(
                range,
                format!("links to `{dest}`, but `{}` does not exist", content.root.join(&target).display()),
            );
            return None;
        };
        let mut url = relative(self.target.from_dir, &site_path);
        if let Some(fragment) = fragment {
            url.push('#');
            url.push_str(fragment);
        }
        Some(url)
    }

    /// The `<img>` element for a picture, checked; `None` after reporting an error.
    fn image(&mut self, dest: &str, alt: &str, range: &Range<usize>) -> Option<String> {
        if alt.is_empty() {
            self.error(
                range,
                format!("the picture `{dest}` has no text alternative: write what it shows between the brackets, `![what matters here]({dest})`"),
            );
        }
        if scheme_of(dest).is_some() || dest.starts_with('/') {
            self.error(
                range,
                format!("the picture `{dest}` must be a file of the content folder, given relative to this page (the site loads nothing from elsewhere)"),
            );
            return None;
        }
        let Some(target) = self.resolve(dest) else {
            self.error(range, format!("the picture `{dest}` is outside the content folder"));
            return None;
        };
        if !self.renderer.content.has_asset(&target) {
            self.error(
                range,
                format!(
                    "the picture `{dest}` does not exist (looked for `{}`)",
                    self.renderer.content.root.join(&target).display()
                ),
            );
            return None;
        }
        let picture = match self.renderer.pictures.get(&target) {
            Ok(picture) => picture,
            Err(message) => {
                self.error(range, message);
                return None;
            }
        };
        if matches!(picture, Picture::Raster { .. }) {
            self.rasters.insert(target);
        }
        // The first picture is usually in view when the page opens: only the later ones wait.
        let loading = if self.pictures_seen == 0 { "" } else { " loading=\"lazy\"" };
        self.pictures_seen += 1;
        let from = self.target.from_dir;
        Some(match picture {
            Picture::Svg { site_path, width, height } => format!(
                "<img src=\"{}\" width=\"{width}\" height=\"{height}\" alt=\"{}\"{loading} decoding=\"async\">",
                attr(&relative(from, site_path)),
                attr(alt),
            ),
            Picture::Raster { variants } => {
                let largest = variants.last().expect("a picture has at least one variant");
                let srcset: Vec<String> = variants
                    .iter()
                    .map(|v| format!("{} {}w", relative(from, &v.site_path), v.width))
                    .collect();
                format!(
                    "<img src=\"{}\" srcset=\"{}\" sizes=\"{SIZES}\" width=\"{}\" height=\"{}\" alt=\"{}\"{loading} decoding=\"async\">",
                    attr(&relative(from, &variants[0].site_path)),
                    attr(&srcset.join(", ")),
                    largest.width,
                    largest.height,
                    attr(alt),
                )
            }
        })
    }
}

/// A heading level moved `by` levels down, stopping at `h6`.
fn shift(level: HeadingLevel, by: u8) -> HeadingLevel {
    HeadingLevel::try_from((level as usize + usize::from(by)).min(6)).expect("1 to 6 is a heading level")
}

/// The scheme of an absolute URL, lower-cased with its colon (`https:`), if it has one.
fn scheme_of(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let valid = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then(|| format!("{}:", scheme.to_ascii_lowercase()))
}

/// The index of the `End` event matching the `Start` at `start`.
fn find_end(events: &[(Event, Range<usize>)], start: usize) -> usize {
    let mut depth = 0usize;
    for (i, (event, _)) in events.iter().enumerate().skip(start) {
        match event {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    events.len() - 1
}

/// The text of a run of inline events, as a screen reader would read it.
fn plain_text(events: &[(Event, Range<usize>)]) -> String {
    let mut out = String::new();
    for (event, _) in events {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out
}

/// An id made from a heading's text: lower-case letters and digits joined by hyphens.
pub fn slug(heading: &str) -> String {
    let mut out = String::with_capacity(heading.len());
    for c in heading.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slugs keep accented letters and squeeze everything else into single hyphens.
    #[test]
    fn slugs() {
        for (heading, expected) in
            [("Ce qu’il faut", "ce-qu-il-faut"), ("  Étape 2 : l’espace ", "étape-2-l-espace"), ("???", "")]
        {
            assert_eq!(slug(heading), expected, "{heading:?}");
        }
    }

    // Pictures are shown from what was read with the content: deleted from disk after loading,
    // they still render with their sizes, and the rasters shown are reported for writing.
    #[test]
    fn pictures_come_from_the_loaded_lookup() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site.toml"), "school_name = \"L\"\nschool_display_name = \"Lycée L\"\nschool_town = \"T\"\nregion_url = \"https://r.fr/\"\nlanguage = \"fr\"\nform_endpoint = \"http://127.0.0.1/demande\"\nactivation_email = true\n").unwrap();
        std::fs::write(dir.path().join("index.md"), "+++\ntitle = \"A\"\n+++\n").unwrap();
        std::fs::write(
            dir.path().join("plan.svg"),
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"/>"#,
        )
        .unwrap();
        image::RgbImage::new(600, 300).save(dir.path().join("capture.png")).unwrap();
        let mut content = Content::load(dir.path()).unwrap();
        let pictures = Pictures::load(&content.root, &content.assets);
        for file in ["plan.svg", "capture.png"] {
            std::fs::remove_file(dir.path().join(file)).unwrap();
        }
        let render = |body: &str, content: &mut Content| {
            content.pages[0].body = body.to_owned();
            Renderer { content, pictures: &pictures }
                .render(&content.pages[0], Target { from_dir: "", id_prefix: "", heading_shift: 0 })
                .map(|f| (f.html, f.rasters.into_iter().collect::<Vec<_>>()))
        };
        for (body, html, rasters) in [
            (
                "Voir ![Le plan](plan.svg).",
                "<p>Voir <img src=\"plan.svg\" width=\"30\" height=\"20\" alt=\"Le plan\" decoding=\"async\">.</p>\n",
                vec![],
            ),
            (
                "Voir ![La capture](capture.png).",
                "<p>Voir <img src=\"capture-480.",
                vec![PathBuf::from("capture.png")],
            ),
        ] {
            let (found, shown) = render(body, &mut content).unwrap();
            assert!(found.starts_with(html), "{found}");
            assert_eq!(shown, rasters, "{body}");
        }
    }

    // Schemes are recognised only at the start of absolute URLs.
    #[test]
    fn schemes() {
        for (url, expected) in [
            ("https://a.fr", Some("https:")),
            ("MAILTO:x@y.fr", Some("mailto:")),
            ("javascript:alert(1)", Some("javascript:")),
            ("page.md", None),
            ("../a.md#x:y", None),
            ("dossier/fichier:1.md", None),
        ] {
            assert_eq!(scheme_of(url).as_deref(), expected, "{url}");
        }
    }
}
