//! The pictures of the shipped content, read as a phone shows them: every SVG of `content/` is
//! parsed, and each of its texts must be legible on a 320-pixel-wide phone, and each dossier
//! number it draws must be one the function could give.
//!
//! Content pictures are shown at most as wide as the text column and never beyond their own width
//! (`.prose img { max-width: 100% }` in `templates/static/style.css`): on a 320-pixel phone, a
//! drawing is scaled to at most 320 CSS pixels, so a text of `font-size` f in a viewBox w wide is
//! seen at f × min(320, width) / w pixels.

use std::path::{Path, PathBuf};

/// The phone width the pictures are checked at, in CSS pixels.
const PHONE_WIDTH: f64 = 320.0;
/// The least size a text may be seen at on that phone, in CSS pixels: the body text's own.
const LEAST_TEXT: f64 = 16.0;
/// SVG's initial `font-size` (`medium`), for a text with none on it or its ancestors.
const DEFAULT_FONT_SIZE: f64 = 16.0;

/// Every `.svg` file under `dir`, sorted.
fn svgs(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "svg"))
        .map(|e| e.into_path())
        .collect();
    found.sort();
    found
}

/// The `viewBox` width and the `width` attribute of the root, in user units and pixels.
fn widths(root: roxmltree::Node) -> Result<(f64, f64), String> {
    let view_box = root.attribute("viewBox").ok_or("has no viewBox: its texts' size cannot be known")?;
    let numbers: Vec<f64> =
        view_box.split([' ', ',']).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
    let [_, _, view_width, _] = numbers[..] else {
        return Err(format!("has a viewBox `{view_box}` that is not four numbers"));
    };
    let width = match root.attribute("width") {
        Some(width) => pixels(width).ok_or_else(|| format!("has a width `{width}` that is not in pixels"))?,
        None => view_width,
    };
    Ok((view_width, width))
}

/// A length in pixels: a number, or a number followed by `px`.
fn pixels(value: &str) -> Option<f64> {
    value.trim().trim_end_matches("px").trim().parse().ok().filter(|v: &f64| *v > 0.0)
}

/// The `font-size` a node gets, from itself or its nearest ancestor that sets it; an error for a
/// size this check cannot read (a unit other than pixels, a size in a `style`) or a transform
/// that would scale the text.
fn font_size(node: roxmltree::Node) -> Result<f64, String> {
    for ancestor in node.ancestors().filter(|n| n.is_element()) {
        if ancestor.attribute("transform").is_some() {
            return Err(
                "is transformed, which this check cannot size: draw it without `transform`".to_owned()
            );
        }
        if ancestor.attribute("style").is_some_and(|style| style.contains("font")) {
            return Err(
                "takes its font from a `style` attribute: give it a `font-size` attribute instead".to_owned()
            );
        }
    }
    match node.ancestors().find_map(|n| n.attribute("font-size")) {
        Some(size) => pixels(size).ok_or_else(|| format!("has the font-size `{size}`: write it in pixels")),
        None => Ok(DEFAULT_FONT_SIZE),
    }
}

/// What is wrong with the texts of one SVG's source, one sentence each: a text seen below
/// [`LEAST_TEXT`] on the phone, or one whose size cannot be known.
fn illegible(svg: &str) -> Vec<String> {
    let document = match roxmltree::Document::parse(svg) {
        Ok(document) => document,
        Err(error) => return vec![format!("is not well-formed: {error}")],
    };
    let (view_width, width) = match widths(document.root_element()) {
        Ok(widths) => widths,
        Err(message) => return vec![message],
    };
    let scale = PHONE_WIDTH.min(width) / view_width;
    let mut problems = Vec::new();
    for node in
        document.descendants().filter(|n| matches!(n.tag_name().name(), "text" | "tspan" | "textPath"))
    {
        let own: String = node.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect();
        if own.trim().is_empty() {
            continue;
        }
        match font_size(node) {
            Ok(size) if size * scale + 1e-9 < LEAST_TEXT => problems.push(format!(
                "« {} » is seen at {:.1} px on a {PHONE_WIDTH} px phone (font-size {size} in a viewBox {view_width} wide shown at {:.0} px): it needs a font-size of at least {:.1}",
                own.trim(),
                size * scale,
                PHONE_WIDTH.min(width),
                LEAST_TEXT / scale
            )),
            Ok(_) => {}
            Err(message) => problems.push(format!("« {} » {message}", own.trim())),
        }
    }
    problems
}

/// The dossier numbers a text shows (three groups of three of the number's own symbols), and why
/// each that is not a valid number is refused.
fn invalid_dossiers(svg: &str) -> Vec<String> {
    let document = roxmltree::Document::parse(svg).expect("checked by the legibility test");
    let mut problems = Vec::new();
    for text in document.descendants().filter(|n| n.is_text()).filter_map(|n| n.text()) {
        for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-')) {
            let groups: Vec<&str> = word.split('-').collect();
            let shaped = groups.len() == 3
                && groups
                    .iter()
                    .all(|g| g.len() == 3 && g.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
            if !shaped {
                continue;
            }
            match form::Dossier::parse(word) {
                Ok(dossier) if dossier.to_string() == word => {}
                Ok(dossier) => {
                    problems.push(format!("`{word}` is shown as the function writes it, `{dossier}`"))
                }
                Err(error) => {
                    problems.push(format!("`{word}` is not a dossier number the function gives: {error}"))
                }
            }
        }
    }
    problems
}

fn content() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../content")
}

// The check itself: it measures what a phone shows, through inheritance and the picture's own
// width, and refuses what it cannot measure.
#[test]
fn legibility_check_measures_what_a_phone_shows() {
    let svg = |attributes: &str, body: &str| {
        format!(r#"<svg xmlns="http://www.w3.org/2000/svg" {attributes}><title>t</title>{body}</svg>"#)
    };
    let cases = [
        (svg(r#"viewBox="0 0 320 100""#, "<text>seize</text>"), vec![]),
        (
            svg(r#"viewBox="0 0 320 100" font-size="15""#, "<text>quinze</text>"),
            vec!["« quinze » is seen at 15.0 px"],
        ),
        (
            svg(r#"width="360" viewBox="0 0 360 600""#, r#"<text font-size="17">dix-sept</text>"#),
            vec!["« dix-sept » is seen at 15.1 px", "at least 18.0"],
        ),
        (svg(r#"width="360" viewBox="0 0 360 600""#, r#"<text font-size="18">dix-huit</text>"#), vec![]),
        (svg(r#"width="200" viewBox="0 0 400 100""#, r#"<g font-size="32"><text>petit</text></g>"#), vec![]),
        (
            svg(r#"width="200" viewBox="0 0 400 100""#, r#"<g font-size="30"><text>plus petit</text></g>"#),
            vec!["« plus petit » is seen at 15.0 px"],
        ),
        (
            svg(
                r#"viewBox="0 0 320 100""#,
                r#"<text font-size="20">A <tspan font-size="12">b</tspan></text>"#,
            ),
            vec!["« b » is seen at 12.0 px"],
        ),
        (
            svg(r#"viewBox="0 0 320 100""#, r#"<g transform="scale(0.5)"><text>x</text></g>"#),
            vec!["« x » is transformed"],
        ),
        (
            svg(r#"viewBox="0 0 320 100""#, r#"<text style="font-size: 8px">y</text>"#),
            vec!["« y » takes its font from a `style`"],
        ),
        (
            svg(r#"viewBox="0 0 320 100""#, r#"<text font-size="1em">z</text>"#),
            vec!["« z » has the font-size `1em`"],
        ),
        (svg(r#"width="320""#, "<text>w</text>"), vec!["has no viewBox"]),
    ];
    for (svg, expected) in cases {
        let problems = illegible(&svg);
        assert_eq!(problems.len(), usize::from(!expected.is_empty()), "{svg}: {problems:?}");
        for fragment in expected {
            assert!(problems[0].contains(fragment), "{svg}: {problems:?} should say {fragment:?}");
        }
    }
}

// Every text of every picture of the content is at least 16 px once the picture is scaled to a
// 320-pixel phone.
#[test]
fn every_picture_text_is_legible_on_a_phone() {
    let pictures = svgs(&content());
    assert!(pictures.len() >= 10, "the guide's pictures: found {}", pictures.len());
    let mut problems = Vec::new();
    for path in pictures {
        let svg = std::fs::read_to_string(&path).unwrap();
        problems.extend(illegible(&svg).into_iter().map(|p| format!("{}: {p}", path.display())));
    }
    assert!(problems.is_empty(), "texts too small on a phone:\n{}", problems.join("\n"));
}

// A dossier number drawn in a picture is a real one: the check character matches and it is
// written as the receipt writes it, so a student comparing the picture with the screen sees the
// same shape.
#[test]
fn pictures_show_real_dossier_numbers() {
    for (text, expected) in [
        ("<text>H4R-7N2-KPQ</text>", None),
        ("<text>K7M-4QX-9TC</text>", Some("the check character does not match")),
        ("<text>Dossier K7O-M4Q-X9E :</text>", Some("is shown as the function writes it, `K70-M4Q-X9E`")),
        ("<text>Le 2A5-012-T45</text>", Some("is not a dossier number the function gives")),
        ("<text>PR-2025-012345, 2025-012-345</text>", None),
    ] {
        let svg = format!(r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 320 10">{text}</svg>"#);
        let problems = invalid_dossiers(&svg);
        match expected {
            None => assert!(problems.is_empty(), "{text}: {problems:?}"),
            Some(fragment) => {
                assert!(problems.len() == 1 && problems[0].contains(fragment), "{text}: {problems:?}")
            }
        }
    }
    let mut problems = Vec::new();
    let mut shown = 0;
    for path in svgs(&content()) {
        let svg = std::fs::read_to_string(&path).unwrap();
        shown += usize::from(svg.contains("H4R-7N2-KPQ"));
        problems.extend(invalid_dossiers(&svg).into_iter().map(|p| format!("{}: {p}", path.display())));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(shown > 0, "no picture shows a dossier number");
}

// Each picture stands alone as an accessible image (`role="img"` and a `<title>` first, read when
// the file is opened by itself) and draws everything itself: no raster embedded, nothing linked.
#[test]
fn every_picture_is_a_self_contained_accessible_image() {
    let mut problems = Vec::new();
    for path in svgs(&content()) {
        let svg = std::fs::read_to_string(&path).unwrap();
        let document = roxmltree::Document::parse(&svg).unwrap();
        let root = document.root_element();
        if root.attribute("role") != Some("img") {
            problems.push(format!("{}: the <svg> has no role=\"img\"", path.display()));
        }
        let title = root.children().find(|n| n.is_element());
        if !title.is_some_and(|t| t.has_tag_name("title") && t.text().is_some_and(|t| !t.trim().is_empty())) {
            problems
                .push(format!("{}: its first element is not a <title> saying what it shows", path.display()));
        }
        for node in document.descendants().filter(|n| n.is_element()) {
            if matches!(node.tag_name().name(), "image" | "foreignObject" | "script" | "style") {
                problems.push(format!("{}: holds an <{}>", path.display(), node.tag_name().name()));
            }
            if node.attributes().any(|a| a.name() == "href" && !a.value().starts_with('#')) {
                problems.push(format!("{}: links outside itself", path.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
