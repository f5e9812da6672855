//! What each page's template gets: the view models, made from the loaded content and the
//! rendered Markdown. Pure: nothing here reads or writes a file or renders a template, so the
//! shape of every page's context is decided in one place and can be tested without a site.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::SiteConfig;
use crate::content::{Content, Page, PageKind};
use crate::markdown::Target;
use crate::paths::{dir_of, relative, root_from};

/// A link of the menu or of a step's neighbours.
#[derive(Serialize)]
struct Link {
    title: String,
    url: String,
    /// The `aria-current` value: `page` for the page itself, `true` for the guide it is part of.
    current: Option<&'static str>,
}

/// A step in a guide's list of steps.
#[derive(Serialize)]
struct StepLink {
    number: u32,
    title: String,
    url: String,
    current: bool,
}

/// The guide a page belongs to, as overview or step.
#[derive(Serialize)]
struct GuideView {
    title: String,
    url: String,
    total: usize,
    /// Left out for templates that never list the steps (see [`crate::templates::Templates`]):
    /// on a 10,000-page corpus of 200-step guides, making and converting every page's list was
    /// a fifth of the light build.
    #[serde(skip_serializing_if = "Option::is_none")]
    steps: Option<Vec<StepLink>>,
}

/// Where a step is in its guide.
#[derive(Serialize)]
struct StepView {
    number: u32,
    total: usize,
    /// How far the step is through the guide, for the progress bar.
    percent: usize,
    prev: Option<Link>,
    next: Option<Link>,
}

/// The page itself.
#[derive(Serialize)]
struct PageView<'a> {
    title: &'a str,
    description: Option<&'a str>,
    content: String,
    kind: &'static str,
    canonical: Option<String>,
}

/// A section of the print page: a page, and a guide's steps under it.
#[derive(Serialize)]
struct PrintSection {
    id: String,
    title: String,
    content: String,
    steps: Vec<PrintStep>,
}

/// A step on the print page.
#[derive(Serialize)]
struct PrintStep {
    id: String,
    number: u32,
    title: String,
    content: String,
}

/// What the form page needs: the schema to render its fields, the contract as JSON for the
/// script that checks them live, and the contract's version with the name of the hidden input
/// that sends it back to the function.
#[derive(Serialize)]
struct FormView<'a> {
    schema: &'a form::Schema,
    /// Each page's part of the contract as JSON, by page (form::Schema::page_contracts).
    json: &'a BTreeMap<&'static str, String>,
    version: &'a str,
    version_field: &'static str,
}

/// What a page template gets.
#[derive(Serialize)]
pub struct Context<'a> {
    site: &'a SiteConfig,
    form: Option<FormView<'a>>,
    root: String,
    page: PageView<'a>,
    nav: Vec<Link>,
    guide: Option<GuideView>,
    step: Option<StepView>,
    sections: Vec<PrintSection>,
}

/// What the sitemap template gets.
#[derive(Serialize)]
pub struct SitemapContext {
    urls: Vec<String>,
}

/// The template a content page is rendered with by default, and its `page.kind`.
pub fn template_of(kind: PageKind) -> (&'static str, &'static str) {
    match kind {
        PageKind::Home => ("home.html", "home"),
        PageKind::Guide => ("guide.html", "guide"),
        PageKind::Step => ("step.html", "step"),
        PageKind::Plain => ("page.html", "page"),
    }
}

/// The context of the content page `index`, whose body rendered as `html`. `form_json` is each
/// page's part of the form's contract as JSON, when the content has a form; `steps` whether the
/// page's template lists its guide's steps.
pub fn page<'a>(
    content: &'a Content,
    index: usize,
    html: String,
    form_json: Option<&'a BTreeMap<&'static str, String>>,
    steps: bool,
) -> Context<'a> {
    let page = &content.pages[index];
    let from_dir = dir_of(&page.output);
    let guide = content.guide_of(index).map(|g| {
        let overview = &content.pages[g.index];
        GuideView {
            title: overview.title.clone(),
            url: relative(from_dir, &overview.output),
            total: g.steps.len(),
            steps: steps.then(|| {
                g.steps
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
                    .collect()
            }),
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
    // Pages with a template of their own (the form, the photo tool) get the form's schema.
    let form = match (&page.template, &content.form, form_json) {
        (Some(_), Some(schema), Some(json)) => {
            Some(FormView { schema, json, version: schema.version(), version_field: form::VERSION_FIELD })
        }
        _ => None,
    };
    Context {
        site: &content.config,
        form,
        root: root_from(from_dir),
        page: PageView {
            title: &page.title,
            description: page.description.as_deref(),
            content: html,
            kind: template_of(page.kind).1,
            canonical: content
                .config
                .base_url
                .as_ref()
                .map(|b| format!("{b}{}", page.output.strip_suffix("index.html").unwrap_or(&page.output))),
        },
        nav: nav(content, from_dir, Some(index)),
        guide,
        step,
        sections: Vec::new(),
    }
}

/// The context of the print page: the whole guide on one page, for paper. The home page first,
/// then the other pages in the content's order, each guide followed by its steps (pages with a
/// template of their own are left out); `render` gives each page's body for the place it takes.
/// Heading ids are prefixed per page so they stay unique.
pub fn print<'a>(
    content: &'a Content,
    mut render: impl FnMut(&'a Page, Target<'_>) -> String,
) -> Context<'a> {
    let section_id = |page: &Page| page.output.trim_end_matches(".html").replace('/', "-");
    // Print headings: h1 the page, h2 each section, h3 each step; the pages' own `##`
    // headings move down under them.
    let mut body = |page: &'a Page, heading_shift: u8| {
        let prefix = format!("{}-", section_id(page));
        render(page, Target { from_dir: "", id_prefix: &prefix, heading_shift })
    };
    let in_guide = |i: usize| content.guide_of(i).is_some();
    let mut sections = Vec::new();
    for (i, page) in content.pages.iter().enumerate() {
        // Pages with a template of their own (the form, the photo tool) are for screens.
        if page.template.is_some() {
            continue;
        }
        let section = match page.kind {
            PageKind::Home => Some(Vec::new()),
            PageKind::Guide => Some(content.guide_of(i).expect("a guide page has its guide").steps.clone()),
            PageKind::Plain if !in_guide(i) => Some(Vec::new()),
            _ => None,
        };
        let Some(steps) = section else { continue };
        let html = body(page, 1);
        let steps = steps
            .into_iter()
            .map(|s| {
                let step = &content.pages[s];
                PrintStep {
                    id: section_id(step),
                    number: step.step.expect("steps have numbers"),
                    title: step.title.clone(),
                    content: body(step, 2),
                }
            })
            .collect();
        sections.push((
            page.kind != PageKind::Home,
            PrintSection { id: section_id(page), title: page.title.clone(), content: html, steps },
        ));
    }
    sections.sort_by_key(|(not_home, _)| *not_home);
    Context {
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
        nav: nav(content, "", None),
        guide: None,
        step: None,
        sections: sections.into_iter().map(|(_, s)| s).collect(),
    }
}

/// The context of the page servers show for a missing address. With a base URL its links are
/// absolute, because it is shown at whatever depth the missing address had.
pub fn not_found(content: &Content) -> Context<'_> {
    let root = content.config.base_url.clone().unwrap_or_default();
    let mut nav = nav(content, "", None);
    for link in &mut nav {
        link.url = format!("{root}{}", link.url);
    }
    Context {
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
    }
}

/// The context of the sitemap: the address under `base` of each site path, sorted, folders'
/// `index.html` left implicit (a server shows it for the folder).
pub fn sitemap<'p>(base: &str, site_paths: impl Iterator<Item = &'p str>) -> SitemapContext {
    let mut urls: Vec<String> =
        site_paths.map(|p| format!("{base}{}", p.strip_suffix("index.html").unwrap_or(p))).collect();
    urls.sort();
    SitemapContext { urls }
}

/// The menu as seen from a page in `from_dir`: the home page, then the guides, then the other
/// top-level pages, with `current` (and its guide) marked.
fn nav(content: &Content, from_dir: &str, current: Option<usize>) -> Vec<Link> {
    let current_guide = current.and_then(|i| content.guide_of(i)).map(|g| g.index);
    // The print page is linked from every page's footer rather than the menu.
    content
        .menu
        .iter()
        .map(|&i| {
            let page = &content.pages[i];
            let title = if page.kind == PageKind::Home { "Accueil".to_owned() } else { page.title.clone() };
            let is_current = if current == Some(i) {
                Some("page")
            } else if current_guide == Some(i) {
                Some("true")
            } else {
                None
            };
            Link { title, url: relative(from_dir, &page.output), current: is_current }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::{Value, json};

    use super::*;

    /// A content folder with a home page, a guide of three steps and a plain page, loaded.
    fn content(extra_settings: &str) -> (tempfile::TempDir, Content) {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            "site.toml",
            &format!(
                "school_name = \"X\"\nschool_display_name = \"Lycée X\"\nschool_town = \"Riom\"\nregion_url = \"https://r.fr/p\"\nlanguage = \"fr\"\nform_endpoint = \"http://127.0.0.1/demande\"\nactivation_email = true\n{extra_settings}"
            ),
        );
        write("index.md", "+++\ntitle = \"Bienvenue\"\n+++\n");
        write("autre.md", "+++\ntitle = \"Autre\"\n+++\n");
        write("guide/_index.md", "+++\ntitle = \"Le guide\"\n+++\n");
        for step in 1..=3 {
            write(
                &format!("guide/0{step}.md"),
                &format!("+++\ntitle = \"Pas {step}\"\nstep = {step}\n+++\n"),
            );
        }
        let content = Content::load(dir.path()).unwrap();
        (dir, content)
    }

    fn index(content: &Content, source: &str) -> usize {
        content.pages.iter().position(|p| p.source == Path::new(source)).unwrap()
    }

    // The menu: home, then guides, then top-level pages, seen from the page's folder, with the
    // page itself and the guide it belongs to marked.
    #[test]
    fn menu_marks_the_page_and_its_guide() {
        let (_dir, content) = content("");
        for (source, expected) in [
            (
                "index.md",
                json!([
                    {"title": "Accueil", "url": "index.html", "current": "page"},
                    {"title": "Le guide", "url": "guide/index.html", "current": null},
                    {"title": "Autre", "url": "autre.html", "current": null},
                ]),
            ),
            (
                "guide/02.md",
                json!([
                    {"title": "Accueil", "url": "../index.html", "current": null},
                    {"title": "Le guide", "url": "index.html", "current": "true"},
                    {"title": "Autre", "url": "../autre.html", "current": null},
                ]),
            ),
        ] {
            let context =
                serde_json::to_value(page(&content, index(&content, source), String::new(), None, true));
            assert_eq!(context.unwrap()["nav"], expected, "{source}");
        }
    }

    // Each step knows its place, its progress and its neighbours; other pages have no step.
    #[test]
    fn steps_know_their_neighbours() {
        let (_dir, content) = content("");
        for (source, expected) in [
            ("guide/01.md", json!({"number": 1, "total": 3, "percent": 33, "prev": null, "next": "02.html"})),
            (
                "guide/02.md",
                json!({"number": 2, "total": 3, "percent": 66, "prev": "01.html", "next": "03.html"}),
            ),
            (
                "guide/03.md",
                json!({"number": 3, "total": 3, "percent": 100, "prev": "02.html", "next": null}),
            ),
            ("guide/_index.md", Value::Null),
        ] {
            let context =
                serde_json::to_value(page(&content, index(&content, source), String::new(), None, true))
                    .unwrap();
            let step = &context["step"];
            let found = if step.is_null() {
                Value::Null
            } else {
                json!({
                    "number": step["number"], "total": step["total"], "percent": step["percent"],
                    "prev": step["prev"]["url"], "next": step["next"]["url"],
                })
            };
            assert_eq!(found, expected, "{source}");
        }
    }

    // A step's guide lists its steps, the page's own marked, only for a template that lists them.
    #[test]
    fn steps_listed_only_when_the_template_lists_them() {
        let (_dir, content) = content("");
        for (steps, expected) in
            [(true, json!([["01.html", false], ["02.html", true], ["03.html", false]])), (false, Value::Null)]
        {
            let context = page(&content, index(&content, "guide/02.md"), String::new(), None, steps);
            let guide = &serde_json::to_value(context).unwrap()["guide"];
            let found = guide["steps"]
                .as_array()
                .map(|list| list.iter().map(|s| json!([s["url"], s["current"]])).collect::<Vec<_>>());
            assert_eq!(found.map_or(Value::Null, Value::from), expected, "steps: {steps}");
            assert_eq!(guide["total"], 3, "the count is always there");
        }
    }

    // With a base URL, pages get a canonical address and the 404 page absolute links.
    #[test]
    fn base_url_makes_canonical_and_absolute_links() {
        for (settings, canonical, not_found_home) in [
            ("", Value::Null, "index.html"),
            ("base_url = \"https://p.fr/g\"\n", json!("https://p.fr/g/guide/"), "https://p.fr/g/index.html"),
        ] {
            let (_dir, content) = content(settings);
            let guide = serde_json::to_value(page(
                &content,
                index(&content, "guide/_index.md"),
                String::new(),
                None,
                true,
            ));
            assert_eq!(guide.unwrap()["page"]["canonical"], canonical, "{settings:?}");
            let missing = serde_json::to_value(not_found(&content)).unwrap();
            assert_eq!(missing["nav"][0]["url"], not_found_home, "{settings:?}");
        }
    }

    // The print page holds the home page first, then each guide with its steps, then the rest,
    // each body rendered for the root with ids prefixed by the page.
    #[test]
    fn print_page_order_and_prefixes() {
        let (_dir, content) = content("");
        let context = print(&content, |page, target| {
            format!("{}|{}|{}|{}", page.title, target.from_dir, target.id_prefix, target.heading_shift)
        });
        let sections = &serde_json::to_value(context).unwrap()["sections"];
        let found: Vec<(Value, Vec<Value>)> = sections
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["content"].clone(),
                    s["steps"].as_array().unwrap().iter().map(|t| t["content"].clone()).collect(),
                )
            })
            .collect();
        assert_eq!(
            found,
            [
                (json!("Bienvenue||index-|1"), vec![]),
                (json!("Autre||autre-|1"), vec![]),
                (
                    json!("Le guide||guide-index-|1"),
                    vec![
                        json!("Pas 1||guide-01-|2"),
                        json!("Pas 2||guide-02-|2"),
                        json!("Pas 3||guide-03-|2")
                    ]
                ),
            ]
        );
    }

    // Sitemap addresses are absolute, sorted, and leave a folder's `index.html` implicit.
    #[test]
    fn sitemap_addresses() {
        let context =
            sitemap("https://p.fr/", ["guide/01.html", "index.html", "guide/index.html"].into_iter());
        assert_eq!(
            serde_json::to_value(context).unwrap()["urls"],
            json!(["https://p.fr/", "https://p.fr/guide/", "https://p.fr/guide/01.html"])
        );
    }
}
