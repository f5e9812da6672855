//! Runs `generator serve` on a fixture and checks the preview: pages served with the reload
//! script, a change to a page rebuilt and announced, a broken page reported without losing the
//! last good build.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The serve process, killed when the test ends, pass or fail.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n")?.1.to_owned();
    Some((status, body))
}

fn wait_for<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// The preview serves pages, rebuilds on change, and keeps the last good build after a mistake.
#[test]
fn serve_rebuilds_and_reloads() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    std::fs::create_dir_all(&content).unwrap();
    std::fs::write(
        content.join("site.toml"),
        "school_name = \"A\"\nschool_display_name = \"Lycée A\"\nschool_town = \"Vichy\"\nregion_url = \"https://r.fr/p\"\nlanguage = \"fr\"\nform_endpoint = \"http://127.0.0.1:9/demande\"\nactivation_email = false\n",
    )
    .unwrap();
    std::fs::write(content.join("index.md"), "+++\ntitle = \"Accueil\"\n+++\n\nVersion une.\n").unwrap();
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let _server = Server(
        Command::new(env!("CARGO_BIN_EXE_generator"))
            .args(["serve", "--port", &port.to_string(), "--content"])
            .arg(&content)
            .arg("--templates")
            .arg(&templates)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );

    let (status, home) = wait_for("the server", || get(port, "/"));
    assert_eq!(status, 200);
    assert!(home.contains("Version une.") && home.contains("/__livereload?of=site&since="), "{home}");
    assert_eq!(get(port, "/nulle-part.html").unwrap().0, 404);
    assert_eq!(get(port, "/static/style.css").unwrap().0, 200);

    // The print page waits on its own number, which a page's rewrite alone does not change.
    let print = get(port, "/imprimer.html").unwrap().1;
    assert!(print.contains("/__livereload?of=print&since=") && print.contains("var g=1;"), "{print}");

    // A long poll at generation 1 answers once the change is rebuilt; the print page's answers
    // once it was written anew, after the author's pause, and then holds the change.
    let poll = std::thread::spawn(move || get(port, "/__livereload?of=site&since=1"));
    let print_poll = std::thread::spawn(move || get(port, "/__livereload?of=print&since=1"));
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(content.join("index.md"), "+++\ntitle = \"Accueil\"\n+++\n\nVersion deux.\n").unwrap();
    let (_, generation) = poll.join().unwrap().unwrap();
    assert_ne!(generation, "1", "the reload endpoint announces the new build");
    assert!(get(port, "/index.html").unwrap().1.contains("Version deux."));
    let (_, print_generation) = print_poll.join().unwrap().unwrap();
    assert_eq!(print_generation, "2", "the print page's rewrite is announced once");
    assert!(get(port, "/imprimer.html").unwrap().1.contains("Version deux."), "the print page follows");

    // A new title reaches other pages (the menu), which takes a full build.
    let poll = std::thread::spawn(move || get(port, &format!("/__livereload?of=site&since={generation}")));
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(content.join("index.md"), "+++\ntitle = \"Bienvenue\"\n+++\n\nVersion trois.\n").unwrap();
    poll.join().unwrap().unwrap();
    let home = get(port, "/index.html").unwrap().1;
    assert!(home.contains("<h1>Bienvenue</h1>") && home.contains("Version trois."), "{home}");
    let print = get(port, "/imprimer.html").unwrap().1;
    assert!(print.contains("Version trois."), "the print page follows");

    // A broken page is reported on the terminal; the preview keeps the last good build.
    std::fs::write(content.join("index.md"), "pas de front matter\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    assert!(get(port, "/index.html").unwrap().1.contains("Version trois."));
}
