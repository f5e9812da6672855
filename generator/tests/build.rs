//! Builds fixture sites (a valid one, and one for each kind of mistake) into temporary folders
//! with the project's real templates, through the library and through the command line.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use generator::{Paths, build, check};
use support::SITE_TOML;

/// A valid content folder in a temporary folder, to be spoiled one way per test.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture { dir: tempfile::tempdir().unwrap() };
        fixture.write("content/site.toml", SITE_TOML);
        fixture.write(
            "content/index.md",
            "+++\ntitle = \"Accueil\"\n+++\n\nBienvenue au {{ etablissement }} ! Voir [le guide](guide/_index.md) et [la carte](autre.md#perte).\n",
        );
        fixture.write(
            "content/autre.md",
            "+++\ntitle = \"Autre page\"\ndescription = \"Une page simple.\"\n+++\n\n## Perte\n\nTexte.\n",
        );
        fixture.write("content/guide/_index.md", "+++\ntitle = \"Le guide\"\n+++\n\nDeux étapes.\n");
        fixture.write(
            "content/guide/01-a.md",
            "+++\ntitle = \"Premier pas\"\nstep = 1\n+++\n\n## Faire\n\nCliquez sur « Valider » : c'est tout.\n\n![Appuyez sur « Valider » : c'est le bouton entouré.](images/a.svg \"Le bouton\")\n\n> [!IMPORTANT]\n> **Attention** : gardez le numéro.\n\n```\nx : y\n```\n",
        );
        fixture.write("content/guide/02-b.md", "+++\ntitle = \"Second pas\"\nstep = 2\n+++\n\nRetour à [l'étape 1](01-a.md) ou [l'accueil](../index.md).\n");
        fixture.write(
            "content/guide/images/a.svg",
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="360" height="600"><rect width="360" height="600" fill="#fff"/></svg>"##,
        );
        fixture
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn paths(&self) -> Paths {
        Paths { content: self.path("content"), templates: templates() }
    }

    /// Copies the project's templates into the fixture, each file's text through `edit` (given
    /// its path under the templates folder), and returns the paths that use the copy.
    fn copy_templates(&self, edit: impl Fn(&Path, String) -> String) -> Paths {
        for entry in walkdir::WalkDir::new(templates())
            .into_iter()
            .map(Result::unwrap)
            .filter(|e| e.file_type().is_file())
        {
            let relative = entry.path().strip_prefix(templates()).unwrap();
            let text = std::fs::read_to_string(entry.path()).unwrap();
            self.write(&format!("templates/{}", relative.display()), &edit(relative, text));
        }
        Paths { content: self.path("content"), templates: self.path("templates") }
    }

    /// Copies the project's templates with [`SCRIPTS`] in place of the project's scripts, so
    /// that tests of the join do not change whenever a part does.
    fn own_scripts(&self) -> Paths {
        let paths = self.copy_templates(|_, text| text);
        std::fs::remove_dir_all(paths.templates.join("scripts")).unwrap();
        for (path, text) in SCRIPTS {
            self.write(path, text);
        }
        paths
    }

    fn out(&self) -> PathBuf {
        self.path("site")
    }

    fn read_out(&self, relative: &str) -> String {
        std::fs::read_to_string(self.out().join(relative)).unwrap()
    }
}

/// The scripts' folder of [`Fixture::own_scripts`]: its manifest and parts.
const SCRIPTS: &[(&str, &str)] = &[
    (
        "templates/scripts/bundles.toml",
        "# Scripts.\n[bundles]\n\"form.js\" = [\"image.js\", \"form.js\"]\n\"photo-tool.js\" = [\"image.js\", \"photo-tool.js\"]\n",
    ),
    ("templates/scripts/image.js", "image();\n"),
    ("templates/scripts/form.js", "form();"),
    ("templates/scripts/photo-tool.js", "tool();\n"),
];

fn templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates")
}

/// Every file under `dir` with its bytes, for comparing whole builds.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().to_owned(), std::fs::read(e.path()).unwrap()))
        .collect()
}

// A valid fixture builds every page with relative links, pictures, callouts and typography.
#[test]
fn valid_fixture_builds_complete_site() {
    let f = Fixture::new();
    let report = build(&f.paths(), &f.out()).unwrap();
    assert_eq!(report.pages, 7, "5 content pages, the print page and the 404 page");
    for page in [
        "index.html",
        "autre.html",
        "guide/index.html",
        "guide/01-a.html",
        "guide/02-b.html",
        "imprimer.html",
        "404.html",
    ] {
        assert!(f.out().join(page).is_file(), "{page} missing");
    }
    assert!(f.out().join("guide/images/a.svg").is_file());
    assert!(f.out().join("static/style.css").is_file());
    assert!(!f.out().join("sitemap.xml").exists(), "no sitemap without a base URL");

    let home = f.read_out("index.html");
    assert!(home.contains("Bienvenue au Lycée Blaise Pascal\u{202F}!"), "placeholder and typography: {home}");
    assert!(home.contains(r#"href="guide/index.html""#) && home.contains(r#"href="autre.html#perte""#));

    let step = f.read_out("guide/01-a.html");
    assert!(step.contains("Étape 1 sur 2"));
    assert!(step.contains(r#"<a href="01-a.html" aria-current="step">"#), "current step marked");
    assert!(step.contains(r#"rel="next" href="02-b.html""#));
    assert!(step.contains(r#"href="../static/style.css""#), "assets relative to the page");
    assert!(step.contains("«\u{202F}Valider\u{202F}»\u{202F}: c’est tout"), "French typography in text");
    assert!(step.contains("x : y"), "code left untouched");
    assert!(step.contains("<figure><img src=\"images/a.svg\" width=\"360\" height=\"600\" alt=\"Appuyez sur «\u{202F}Valider\u{202F}»\u{202F}: c’est le bouton entouré.\" decoding=\"async\"><figcaption>Le bouton</figcaption></figure>"), "alternatives get French typography too: {step}");
    assert!(
        step.contains(r#"<div class="callout callout-important" role="note">"#) && step.contains("À retenir")
    );
    assert!(step.contains(r#"<h2 id="faire">"#));

    let second = f.read_out("guide/02-b.html");
    assert!(second.contains(r#"href="01-a.html""#) && second.contains(r#"href="../index.html""#));

    let print = f.read_out("imprimer.html");
    assert!(print.contains(r#"src="guide/images/a.svg""#), "print page pictures relative to the root");
    assert!(print.contains(r#"<h4 id="guide-01-a-faire">"#), "step headings nested and prefixed: {print}");
}

// A base URL adds a sitemap with absolute addresses and canonical links.
#[test]
fn base_url_adds_sitemap() {
    let f = Fixture::new();
    f.write("content/site.toml", &format!("{SITE_TOML}base_url = \"https://pass.example.fr/guide\"\n"));
    build(&f.paths(), &f.out()).unwrap();
    let sitemap = f.read_out("sitemap.xml");
    assert!(sitemap.contains("<loc>https://pass.example.fr/guide/</loc>"));
    assert!(sitemap.contains("<loc>https://pass.example.fr/guide/guide/01-a.html</loc>"));
    assert!(!sitemap.contains("404"));
    assert!(
        f.read_out("autre.html")
            .contains(r#"<link rel="canonical" href="https://pass.example.fr/guide/autre.html">"#)
    );
}

// The print page, the 404 page and the sitemap are each made only when the templates have
// theirs, so a set without them (like the benchmark's light set) builds the content's pages.
#[test]
fn pages_the_generator_adds_follow_their_templates() {
    let added = ["imprimer.html", "404.html", "sitemap.xml"];
    let light = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/light");
    for (name, removed, absent) in [
        ("the site's templates", &[][..], &[][..]),
        ("no print page", &["print.html"], &["imprimer.html"]),
        ("no 404 page", &["404.html"], &["404.html"]),
        ("no sitemap", &["sitemap.xml"], &["sitemap.xml"]),
        ("the benchmark's light set", &[], &added[..]),
    ] {
        let f = Fixture::new();
        f.write("content/site.toml", &format!("{SITE_TOML}base_url = \"https://pass.example.fr/\"\n"));
        let mut paths = f.copy_templates(|_, text| text);
        if name == "the benchmark's light set" {
            paths.templates = light.clone();
        }
        for template in removed {
            std::fs::remove_file(paths.templates.join(template)).unwrap();
        }
        let report = build(&paths, &f.out()).unwrap();
        assert_eq!(report.pages, 5 + added.len() - absent.len(), "{name}");
        assert!(f.out().join("guide/01-a.html").is_file(), "{name}");
        for page in added {
            assert_eq!(f.out().join(page).exists(), !absent.contains(&page), "{name}: {page}");
        }
        if !absent.contains(&"sitemap.xml") {
            let listed = f.read_out("sitemap.xml").contains("imprimer.html");
            assert_eq!(
                listed,
                !absent.contains(&"imprimer.html"),
                "{name}: the sitemap lists the print page"
            );
        }
        assert_eq!(check(&paths).unwrap(), report.pages, "{name}: `check` counts the same pages");
    }
}

// Two builds of the same input give byte-identical sites.
#[test]
fn builds_are_reproducible() {
    let f = Fixture::new();
    let image = image::RgbImage::from_fn(1600, 900, |x, y| image::Rgb([(x / 7) as u8, (y / 5) as u8, 120]));
    image.save(f.path("content/guide/images/capture.png")).unwrap();
    f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\n![Une capture d’écran du formulaire rempli.](guide/images/capture.png)\n");
    build(&f.paths(), &f.path("one")).unwrap();
    build(&f.paths(), &f.path("two")).unwrap();
    let (one, two) = (tree(&f.path("one")), tree(&f.path("two")));
    assert_eq!(one.keys().collect::<Vec<_>>(), two.keys().collect::<Vec<_>>());
    assert!(one == two, "the two builds differ");
    assert!(!one.keys().any(|k| k.ends_with("capture.png")), "the original picture never ships as is");
    let html = String::from_utf8(one[Path::new("autre.html")].clone()).unwrap();
    assert!(html.contains("srcset=\"guide/images/capture-480."), "{html}");
    assert!(html.contains(r#"width="1440" height="810""#), "{html}");
    for bundle in ["static/form.js", "static/photo-tool.js"] {
        let bytes = &one[Path::new(bundle)];
        assert_eq!(bytes, &two[Path::new(bundle)], "{bundle} differs between builds");
        let header = format!("// {bundle}, joined and minified by the generator from templates/scripts/");
        assert!(String::from_utf8_lossy(bytes).starts_with(&header), "{bundle}");
    }
}

// Each script of `static/` is its parts of `templates/scripts/`, in the manifest's order, minified
// (the wrapper of parts that declare nothing goes); the parts themselves are not shipped, and
// each page loads its one script.
#[test]
fn scripts_are_joined_from_their_parts() {
    let f = Fixture::new();
    let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/form.toml");
    f.write("content/form.toml", &std::fs::read_to_string(form).unwrap());
    f.write("content/demande.md", "+++\ntitle = \"Demande\"\ntemplate = \"form.html\"\n+++\n");
    f.write("content/reduire.md", "+++\ntitle = \"Réduire\"\ntemplate = \"photo-tool.html\"\n+++\n");
    let paths = f.own_scripts();
    build(&paths, &f.out()).unwrap();
    for (bundle, expected) in [
        (
            "static/form.js",
            "// static/form.js, joined and minified by the generator from templates/scripts/ (bundles.toml): image.js, form.js.\n\
             image(),form();\n",
        ),
        (
            "static/photo-tool.js",
            "// static/photo-tool.js, joined and minified by the generator from templates/scripts/ (bundles.toml): image.js, photo-tool.js.\n\
             image(),tool();\n",
        ),
    ] {
        assert_eq!(f.read_out(bundle), expected, "{bundle}");
    }
    let shipped: Vec<PathBuf> = tree(&f.out().join("static")).into_keys().collect();
    assert_eq!(
        shipped,
        ["form.css", "form.js", "icon.svg", "photo-tool.js", "print.css", "style.css"].map(PathBuf::from)
    );
    for (page, script) in [("demande.html", "form.js"), ("reduire.html", "photo-tool.js")] {
        let html = f.read_out(page);
        let scripts: Vec<&str> = html.match_indices("<script src=").map(|(at, _)| &html[at..]).collect();
        assert_eq!(scripts.len(), 1, "{page} loads one script");
        assert!(
            scripts[0].starts_with(&format!("<script src=\"static/{script}\" defer></script>")),
            "{page}"
        );
    }
}

/// A way of spoiling the scripts' manifest: its name, the files to write under the fixture's
/// templates folder, and the whole message, where `{dir}` is that templates folder.
type ScriptCase = (&'static str, &'static [(&'static str, &'static str)], &'static str);

// Each mistake between the manifest and the scripts' folder fails the build and the check with
// the manifest's path, the line and what to do; the previous site survives.
#[test]
fn script_manifest_mistakes_are_located() {
    const MANIFEST: &str = "templates/scripts/bundles.toml";
    let cases: &[ScriptCase] = &[
        (
            "missing part",
            &[(
                MANIFEST,
                "[bundles]\n\"form.js\" = [\"image.js\", \"absent.js\", \"form.js\"]\n\"photo-tool.js\" = [\"image.js\", \"photo-tool.js\"]\n",
            )],
            "`{dir}/scripts/bundles.toml`, line 2: the bundle `form.js` joins `absent.js`, which does not exist: create `{dir}/scripts/absent.js`, or remove it from the list",
        ),
        (
            "part outside the folder",
            &[(
                MANIFEST,
                "[bundles]\n\"form.js\" = [\n  \"image.js\",\n  \"../static/style.js\",\n  \"form.js\",\n]\n\"photo-tool.js\" = [\"image.js\", \"photo-tool.js\"]\n",
            )],
            "`{dir}/scripts/bundles.toml`, line 4: the bundle `form.js` joins `../static/style.js`, which is outside `{dir}/scripts`: name each part by its path in that folder, such as `image.js`",
        ),
        (
            "empty bundle",
            &[(
                MANIFEST,
                "# Scripts.\n[bundles]\n\"form.js\" = [\"image.js\", \"form.js\", \"photo-tool.js\"]\n\"photo-tool.js\" = []\n",
            )],
            "`{dir}/scripts/bundles.toml`, line 4: the bundle `photo-tool.js` joins nothing: list its parts in order, such as `[\"image.js\", \"form.js\"]`",
        ),
        (
            "script in no bundle",
            &[("templates/scripts/ancien.js", "old();\n")],
            "`{dir}/scripts/bundles.toml`, line 2: `{dir}/scripts/ancien.js` is in no bundle: add it to the bundle of the page that needs it, or delete it",
        ),
        (
            "bundle over a static file",
            &[("templates/static/form.js", "old();\n")],
            "`{dir}/scripts/bundles.toml`, line 3: the bundle `form.js` and `{dir}/static/form.js` would both be the site's `static/form.js`: move that file into `{dir}/scripts`, or rename the bundle",
        ),
        (
            "bundle that is not a list",
            &[(
                MANIFEST,
                "[bundles]\n\"form.js\" = [\"image.js\", \"form.js\"]\n\"photo-tool.js\" = [\"image.js\", \"photo-tool.js\"]\nminify = true\n",
            )],
            "`{dir}/scripts/bundles.toml`, line 4: invalid type: boolean `true`, expected a sequence",
        ),
        (
            "several mistakes",
            &[(
                MANIFEST,
                "[bundles]\n\"form.js\" = [\"image.js\", \"formulaire.js\"]\n\"photo-tool.js\" = [\"image.js\", \"photo-tool.js\"]\n",
            )],
            "2 problems found\n  - `{dir}/scripts/bundles.toml`, line 1: `{dir}/scripts/form.js` is in no bundle: add it to the bundle of the page that needs it, or delete it\n  - `{dir}/scripts/bundles.toml`, line 2: the bundle `form.js` joins `formulaire.js`, which does not exist: create `{dir}/scripts/formulaire.js`, or remove it from the list",
        ),
    ];
    for (name, files, expected) in cases {
        let f = Fixture::new();
        let paths = f.own_scripts();
        build(&paths, &f.out()).unwrap();
        let before = tree(&f.out());
        for (path, text) in *files {
            f.write(path, text);
        }
        let expected = expected.replace("{dir}", &paths.templates.display().to_string());
        let message = generator::error::chain(&build(&paths, &f.out()).expect_err(name));
        assert_eq!(message, expected, "{name}");
        assert_eq!(generator::error::chain(&check(&paths).unwrap_err()), expected, "{name}: check");
        assert!(tree(&f.out()) == before, "{name}: the previous site changed");
    }
}

/// A way of spoiling the fixture: its name, what it changes, what the error must say.
type InvalidCase = (&'static str, Box<dyn Fn(&Fixture)>, Vec<&'static str>);

/// Each way of spoiling the fixture.
fn invalid_cases() -> Vec<InvalidCase> {
    vec![
        (
            "malformed front matter",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\ndescription = 3\n+++\nx\n")
            }),
            vec!["content/autre.md`, line 2"],
        ),
        (
            "unknown front-matter key",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\"\nauteur = \"moi\"\n+++\nx\n")
            }),
            vec!["content/autre.md`, line 3", "unknown field `auteur`"],
        ),
        (
            "no front matter",
            Box::new(|f: &Fixture| f.write("content/autre.md", "# Autre\n")),
            vec!["content/autre.md`, line 1", "`+++`"],
        ),
        (
            "missing image",
            Box::new(|f: &Fixture| {
                f.write(
                    "content/autre.md",
                    "+++\ntitle = \"Autre\"\n+++\n\nTexte.\n\n![Un écran](images/absente.svg)\n",
                )
            }),
            vec!["content/autre.md`, line 7", "images/absente.svg` does not exist"],
        ),
        (
            "image without alt text",
            Box::new(|f: &Fixture| {
                f.write("content/guide/02-b.md", "+++\ntitle = \"B\"\nstep = 2\n+++\n![](images/a.svg)\n")
            }),
            vec!["content/guide/02-b.md`, line 5", "no text alternative"],
        ),
        (
            "broken internal link",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\nVoir [ici](guide/03-c.md).\n")
            }),
            vec!["content/autre.md`, line 5", "there is no page"],
        ),
        (
            "root-absolute link",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\nVoir [ici](/index.html).\n")
            }),
            vec!["content/autre.md`, line 5", "relative to this file"],
        ),
        (
            "missing step number",
            Box::new(|f: &Fixture| {
                f.write("content/guide/02-b.md", "+++\ntitle = \"B\"\nstep = 3\n+++\nx\n")
            }),
            vec!["content/guide/_index.md`", "step 2 is missing"],
        ),
        (
            "step without number",
            Box::new(|f: &Fixture| f.write("content/guide/02-b.md", "+++\ntitle = \"B\"\n+++\nx\n")),
            vec!["content/guide/02-b.md`, line 1", "needs its step number"],
        ),
        (
            "duplicated step number",
            Box::new(|f: &Fixture| {
                f.write("content/guide/02-b.md", "+++\ntitle = \"B\"\nstep = 1\n+++\nx\n")
            }),
            vec!["step 1 is used by", "01-a.md", "02-b.md"],
        ),
        (
            "unknown placeholder",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\nLe {{ lycee }}.\n")
            }),
            vec!["content/autre.md`, line 5", "unknown placeholder `{{ lycee }}`"],
        ),
        (
            "passage never closed",
            Box::new(|f: &Fixture| {
                f.write(
                    "content/autre.md",
                    "+++\ntitle = \"Autre\"\n+++\n\nTexte.\n\n{{ avec_courriel }}\nUn e-mail part.\n",
                )
            }),
            vec![
                "content/autre.md`, line 7: `{{ avec_courriel }}` is never closed: end its passage with `{{ fin }}`",
            ],
        ),
        (
            "end of no passage",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\nTexte.\n{{ fin }}\n")
            }),
            vec!["content/autre.md`, line 6: `{{ fin }}` closes no passage"],
        ),
        (
            "nested passages",
            Box::new(|f: &Fixture| {
                f.write(
                    "content/autre.md",
                    "+++\ntitle = \"Autre\"\n+++\n\n{{ sans_courriel }}\nA\n{{ avec_courriel }}\nB\n{{ fin }}\n",
                )
            }),
            vec![
                "content/autre.md`, line 7: `{{ avec_courriel }}` opens a passage inside the one `{{ sans_courriel }}` opened",
            ],
        ),
        (
            "unknown marker",
            Box::new(|f: &Fixture| {
                f.write(
                    "content/autre.md",
                    "+++\ntitle = \"Autre\"\n+++\n\n{{ si_courriel }}\nA\n{{ fin }}\n",
                )
            }),
            vec![
                "content/autre.md`, line 5: unknown placeholder `{{ si_courriel }}`",
                "`{{ avec_courriel }}`",
            ],
        ),
        (
            "marker in a title",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre {{ sans_courriel }}\"\n+++\nx\n")
            }),
            vec!["content/autre.md`, line 1: `{{ sans_courriel }}` is never closed"],
        ),
        (
            "unknown setting",
            Box::new(|f: &Fixture| f.write("content/site.toml", &format!("{SITE_TOML}couleur = \"bleu\"\n"))),
            vec!["content/site.toml`, line 8", "unknown field `couleur`"],
        ),
        (
            "unknown page template",
            Box::new(|f: &Fixture| {
                f.write("content/autre.md", "+++\ntitle = \"Autre\"\ntemplate = \"absent.html\"\n+++\nx\n")
            }),
            vec!["content/autre.md`, line 1", "the template `absent.html` does not exist"],
        ),
        (
            "malformed form schema",
            Box::new(|f: &Fixture| {
                f.write("content/form.toml", "honeypot = \"site_web\"\n[rules]\nage_min = \"quatorze\"\n")
            }),
            vec!["content/form.toml`, line 3"],
        ),
        (
            "template error",
            Box::new(|f: &Fixture| {
                f.copy_templates(|relative, text| {
                    if relative == Path::new("page.html") {
                        text.replace("{{ page.title }}", "{{ page.title ")
                    } else {
                        text
                    }
                });
            }),
            vec!["page.html", "--> 3:"],
        ),
    ]
}

// Each invalid fixture fails with the file (and line) at fault, and the previous site survives.
#[test]
fn invalid_fixtures_fail_and_keep_previous_site() {
    for (name, spoil, expected) in invalid_cases() {
        let f = Fixture::new();
        build(&f.paths(), &f.out()).unwrap();
        let before = tree(&f.out());
        spoil(&f);
        let mut paths = f.paths();
        if f.path("templates").exists() {
            paths.templates = f.path("templates");
        }
        let error = build(&paths, &f.out()).expect_err(name);
        let message = generator::error::chain(&error);
        for fragment in expected {
            assert!(message.contains(fragment), "{name}: {message:?} should contain {fragment:?}");
        }
        assert!(check(&paths).is_err(), "{name}: check must fail too");
        assert!(tree(&f.out()) == before, "{name}: the previous site changed");
        let leftovers: Vec<_> = std::fs::read_dir(f.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with(".site-"))
            .collect();
        assert!(leftovers.is_empty(), "{name}: staging folders left behind: {leftovers:?}");
    }
}

// A mistake in a text of `form.toml` names the file and the text's own line.
#[test]
fn form_text_mistake_names_its_line() {
    let real =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/form.toml")).unwrap();
    let line = 1 + real.lines().position(|l| l.starts_with("copied = ")).expect("the page's `copied` text");
    let f = Fixture::new();
    f.write(
        "content/form.toml",
        &real.replacen("copied = \"Numéro copié.\"", "copied = \"{numero} copié.\"", 1),
    );
    let message = generator::error::chain(&build(&f.paths(), &f.out()).unwrap_err());
    let expected = format!("content/form.toml`, line {line}");
    assert!(message.contains(&expected), "{message:?} should contain {expected:?}");
    assert!(message.contains("`[messages.page]` `copied`: unknown placeholder `{numero}`"), "{message:?}");
}

// Several mistakes are all reported by one build, each once: first those of reading the pages,
// then, once every page reads, those of rendering them.
#[test]
fn reports_all_mistakes_at_once() {
    let f = Fixture::new();
    f.write("content/autre.md", "+++\ntitle = \"Autre\"\ndate = 1\n+++\n");
    f.write("content/guide/02-b.md", "+++\ntitle = \"B\"\nstep = 2\nx = 1\n+++\n");
    let message = generator::error::chain(&check(&f.paths()).unwrap_err());
    assert!(message.starts_with("2 problems found"), "{message}");

    let f = Fixture::new();
    f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\n![](x.svg) et [lien](rien.md)\n");
    let message = generator::error::chain(&check(&f.paths()).unwrap_err());
    assert!(message.starts_with("3 problems found"), "{message}");
    assert_eq!(message.matches("rien.md").count(), 2, "each mistake once: {message}");
}

// A folder the generator did not make is never replaced.
#[test]
fn refuses_to_replace_a_foreign_folder() {
    let f = Fixture::new();
    f.write("site/notes.txt", "précieux");
    let message = build(&f.paths(), &f.out()).unwrap_err().to_string();
    assert!(message.contains("refusing to replace"), "{message}");
    assert_eq!(f.read_out("notes.txt"), "précieux");
}

// The command line exits non-zero and prints the file at fault; `check` writes nothing.
#[test]
fn command_line_reports_errors() {
    let f = Fixture::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_generator"))
            .args(args)
            .arg("--content")
            .arg(f.path("content"))
            .arg("--templates")
            .arg(templates())
            .output()
            .unwrap()
    };
    let ok = run(&["check"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(!f.out().exists(), "check writes nothing");

    f.write("content/autre.md", "+++\ntitle = \"Autre\"\n+++\n\n[x](perdu.md)\n");
    let failed = run(&["check"]);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.starts_with("error: `") && stderr.contains("autre.md`, line 5"), "{stderr}");
}

// The real content of the repository builds, with the school's name in place of every placeholder.
#[test]
fn real_content_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = tempfile::tempdir().unwrap();
    let paths = Paths { content: root.join("content"), templates: templates() };
    let report = build(&paths, &out.path().join("site")).unwrap();
    assert!(report.pages >= 12, "home, guide overview, 7 steps, duplicate guide, print, 404");
    let site = out.path().join("site");
    for step in 1..=7 {
        let found = std::fs::read_dir(site.join("premiere-demande"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "html"))
            .any(|p| std::fs::read_to_string(p).unwrap().contains(&format!("Étape {step} sur 7")));
        assert!(found, "no page says Étape {step} sur 7");
    }
    for (path, bytes) in tree(&site) {
        if path.extension().is_some_and(|e| e == "html") {
            let html = String::from_utf8(bytes).unwrap();
            assert!(!html.contains("{{"), "{} keeps a placeholder", path.display());
            assert!(
                !html.contains("src=\"http") && !html.contains("href=\"/"),
                "{} loads from elsewhere",
                path.display()
            );
        }
    }
}

/// What would promise the activation e-mail: no page of a deployment without a sender may say it.
const EMAIL_PROMISES: &[&str] = &[
    "lien d’activation",
    "lien qui active",
    "l’e-mail",
    "un e-mail",
    "boîte de réception",
    "boîte mail",
    "courriers indésirables",
    "Renvoyer l’e-mail",
    "Amazon SES",
    "Activer votre compte",
    // As the pages write it, with narrow no-break spaces.
    "«\u{202F}Appliquer\u{202F}»",
];

/// A copy of the repository's `content/` in `dir`, with `activation_email` set to `value`.
fn content_copy(dir: &Path, activation_email: bool) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    let copy = dir.join("content");
    for entry in walkdir::WalkDir::new(&source).into_iter().map(Result::unwrap) {
        let target = copy.join(entry.path().strip_prefix(&source).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
    let settings = std::fs::read_to_string(copy.join("site.toml")).unwrap();
    let set = settings.replace("activation_email = true", &format!("activation_email = {activation_email}"));
    assert!(
        set.contains(&format!("activation_email = {activation_email}\n")),
        "content/site.toml sets activation_email"
    );
    std::fs::write(copy.join("site.toml"), set).unwrap();
    copy
}

/// A page's HTML without what `content/form.toml` and the function's answers put in it (the
/// form's fields, the receipt its script fills, the contract): those show what the function
/// says, e-mail or not, and are not the guide's words.
fn guide_words(html: &str) -> String {
    let mut text = html.to_owned();
    for (start, end) in [
        ("<form id=\"form-demande\"", "</form>"),
        ("<section class=\"receipt\"", "</section>"),
        ("<script type=\"application/json\"", "</script>"),
    ] {
        if let Some(from) = text.find(start) {
            let to = from + text[from..].find(end).expect("the element is closed") + end.len();
            text.replace_range(from..to, "");
        }
    }
    text
}

// The default content builds for both deployments. Without a sender, no page promises an e-mail:
// not the activation link, nor a mailbox to open, nor the activation page; with one, the guide
// does tell of each, so the passages really follow the setting.
#[test]
fn real_content_builds_with_and_without_the_email() {
    for activation_email in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths { content: content_copy(dir.path(), activation_email), templates: templates() };
        let site = dir.path().join("site");
        build(&paths, &site).unwrap_or_else(|e| {
            panic!("activation_email = {activation_email}: {}", generator::error::chain(&e))
        });
        let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (path, bytes) in tree(&site) {
            if path.extension().is_some_and(|e| e == "html") {
                let words = guide_words(&String::from_utf8(bytes).unwrap());
                for promise in EMAIL_PROMISES {
                    if words.contains(promise) {
                        found.entry(promise).or_default().push(path.display().to_string());
                    }
                }
            }
        }
        if activation_email {
            let missing: Vec<&&str> = EMAIL_PROMISES.iter().filter(|p| !found.contains_key(**p)).collect();
            assert!(missing.is_empty(), "with the e-mail, no page says {missing:?}");
        } else {
            assert!(found.is_empty(), "without the e-mail, pages still promise one: {found:#?}");
        }
    }
}

// The school has two names: the one the pages show (titles, header, footer, prose), and the
// Region's spelling that the form's establishment field sends, which the function's
// `ETABLISSEMENT` must equal. The footer says where the request is made and links the personal
// space, made from the form's endpoint.
#[test]
fn display_name_and_form_name_stay_apart() {
    let f = Fixture::new();
    let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content/form.toml");
    f.write("content/form.toml", &std::fs::read_to_string(form).unwrap());
    f.write(
        "content/demande.md",
        "+++\ntitle = \"Faire ma demande\"\ntemplate = \"form.html\"\n+++\n\nVotre lycée, {{ etablissement }}, s’appelle « {{ etablissement_formulaire }} » dans la liste.\n",
    );
    build(&f.paths(), &f.out()).unwrap();
    let page = f.read_out("demande.html");
    assert!(
        page.contains(r#"id="etablissement" name="etablissement" value="Blaise Pascal" readonly"#),
        "{page}"
    );
    assert!(page.contains("<title>Faire ma demande · Pass’Région · Lycée Blaise Pascal</title>"), "{page}");
    assert!(page.contains(r#"<span class="brand-school">Lycée Blaise Pascal, Ambert</span>"#), "{page}");
    assert!(page.contains(
        "Votre lycée, Lycée Blaise Pascal, s’appelle «\u{202F}Blaise Pascal\u{202F}» dans la liste."
    ));
    for (name, page) in [("demande.html", page), ("guide/01-a.html", f.read_out("guide/01-a.html"))] {
        let footer = &page[page.find("<footer").expect("a footer")..];
        for link in [
            r#"<a href="../demande.html">Faire ma demande</a>"#,
            r#"<a href="http://127.0.0.1:9000/lambda-url/handler/espace">Mon espace personnel</a>"#,
            ">Données personnelles</a>",
            ">Questions fréquentes</a>",
        ] {
            let link = if name == "demande.html" { link.replace("../", "") } else { link.to_owned() };
            assert!(footer.contains(&link), "{name}: the footer lacks {link}: {footer}");
        }
        assert!(
            footer.contains("Lycée Blaise Pascal (Ambert)") && !footer.contains("officielle"),
            "{name}: {footer}"
        );
    }
}

// The print page's rewrite that gives way leaves the last one whole and no part file; one that
// runs to its end holds the changed page.
#[test]
fn print_rewrite_gives_way_or_completes() {
    let f = Fixture::new();
    let (mut site, _) = generator::site::build_site(&f.paths(), &f.out()).unwrap();
    let before = f.read_out("imprimer.html");
    f.write(
        "content/autre.md",
        "+++\ntitle = \"Autre page\"\ndescription = \"Une page simple.\"\n+++\n\n## Perte\n\nTexte changé.\n",
    );
    site.render_changed(Path::new("autre.md")).unwrap().expect("a body change alone");
    assert!(!site.write_print_page(&f.out(), &|| true).unwrap(), "gave way before its first chunk");
    assert_eq!(f.read_out("imprimer.html"), before);
    let names: Vec<_> = std::fs::read_dir(f.out()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!names.iter().any(|n| n.to_string_lossy().ends_with(".part")), "{names:?}");
    assert!(site.write_print_page(&f.out(), &|| false).unwrap());
    let after = f.read_out("imprimer.html");
    assert!(after.contains("Texte changé.") && !before.contains("Texte changé."));
}
