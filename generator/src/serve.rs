//! The preview server: builds the site into a temporary folder, serves it on 127.0.0.1, watches
//! the content and templates, rebuilds on change and tells open pages to reload. A failed
//! rebuild prints its errors and keeps serving the last good site.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};

use crate::error::{Error, Result, chain};
use crate::output::write_file;
use crate::site::{PRINT_PAGE, Paths, Site, build_site};

/// How long the reload endpoint holds a request before answering "nothing new".
const LONG_POLL: Duration = Duration::from_secs(25);

/// Events closer than this are one change (editors write files in several steps).
const DEBOUNCE: Duration = Duration::from_millis(10);

/// After a page alone was rewritten, the print page (which holds every page, and takes long to
/// render on a large site) is brought up to date once the author has paused this long.
const PRINT_AFTER: Duration = Duration::from_secs(1);

/// Reading files is reported too (inotify's open and close): only changes rebuild, or each build
/// would set off the next.
fn is_change(event: &notify::Result<notify::Event>) -> bool {
    event.as_ref().is_ok_and(|e| !matches!(e.kind, notify::EventKind::Access(_)))
}

/// The script added to served pages: it waits for the next build of what the page shows (`OF`:
/// `site`, or `print` on the print page) and reloads.
const RELOAD_SCRIPT: &str = r#"<script>(function(){var g=GENERATION;function p(){fetch("/__livereload?of=OF&since="+g).then(function(r){return r.text()}).then(function(t){if(t!==String(g)){location.reload()}else{p()}}).catch(function(){setTimeout(p,1000)})}p()})();</script>"#;

/// The numbers of the last good build and of the print page's last rewrite, and a way to wait
/// for the next change of either. Two numbers because the print page is rewritten on its own,
/// a second after a page: one number would reload every open page twice for one edit, and
/// none would leave an open print page showing the text from before the pause.
struct Generation {
    numbers: Mutex<Numbers>,
    changed: Condvar,
}

#[derive(Clone, Copy)]
struct Numbers {
    /// Bumped by every good build, full or of a page alone.
    site: u64,
    /// Bumped when the print page was written anew: by a full build, or once the author paused.
    print: u64,
}

impl Generation {
    fn bump(&self, site: bool, print: bool) {
        let mut numbers = self.numbers.lock().expect("no panic while locked");
        numbers.site += u64::from(site);
        numbers.print += u64::from(print);
        self.changed.notify_all();
    }
}

/// Serves the site of `paths` on 127.0.0.1:`port` until interrupted.
pub fn run(paths: &Paths, port: u16) -> Result<()> {
    let workdir = tempfile::tempdir().map_err(|e| Error::io(Path::new("(temporary folder)"), e))?;
    let out = workdir.path().join("site");
    let (site, report) = build_site(paths, &out)?;
    println!("built {} pages in {} ms", report.pages, report.elapsed.as_millis());

    let generation =
        Arc::new(Generation { numbers: Mutex::new(Numbers { site: 1, print: 1 }), changed: Condvar::new() });
    let (tx, rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    // Changes announced by the watcher and changes read by the loop: while the first is ahead,
    // a change waits in the channel, and the print page's deferred rewrite gives way to it. The
    // rejected alternative, rewriting the print page on a thread of its own, would need a copy
    // of the whole site's content for it, or a lock the next change would wait on anyway.
    let announced = Arc::new(AtomicU64::new(0));
    let handler = {
        let announced = announced.clone();
        move |event: notify::Result<notify::Event>| {
            if is_change(&event) {
                announced.fetch_add(1, Ordering::SeqCst);
            }
            let _ = tx.send(event);
        }
    };
    let mut watcher = notify::recommended_watcher(handler)
        .map_err(|e| Error::io(&paths.content, std::io::Error::other(e)))?;
    for dir in [&paths.content, &paths.templates] {
        watcher.watch(dir, RecursiveMode::Recursive).map_err(|e| Error::io(dir, std::io::Error::other(e)))?;
    }
    {
        let (paths, out, generation) = (paths.clone(), out.clone(), generation.clone());
        let mut site = site;
        std::thread::spawn(move || {
            // The watcher must live as long as the loop that reads its events.
            let _watcher = watcher;
            // Set when a page alone was rewritten: the print page, which holds every page's text
            // and renders all of them again (seconds on 10,000 pages), waits for the author's
            // pause rather than delay the next change's event, and gives way to a change that
            // comes while it is being written.
            let mut print_stale = false;
            let mut read = 0;
            loop {
                let event = if print_stale {
                    match rx.recv_timeout(PRINT_AFTER) {
                        Ok(event) => event,
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                            let give_way = || announced.load(Ordering::SeqCst) > read;
                            match site.write_print_page(&out, &give_way) {
                                Ok(true) => {
                                    print_stale = false;
                                    generation.bump(false, true);
                                }
                                Ok(false) => {}
                                Err(error) => {
                                    print_stale = false;
                                    eprintln!("error: {}", chain(&error));
                                }
                            }
                            continue;
                        }
                        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                } else {
                    match rx.recv() {
                        Ok(event) => event,
                        Err(_) => break,
                    }
                };
                if !is_change(&event) {
                    continue;
                }
                read += 1;
                let mut changed: Vec<PathBuf> = event.map(|e| e.paths).unwrap_or_default();
                while let Ok(event) = rx.recv_timeout(DEBOUNCE) {
                    if is_change(&event) {
                        read += 1;
                        changed.extend(event.map(|e| e.paths).unwrap_or_default());
                    }
                }
                let start = std::time::Instant::now();
                match rebuild_pages(&mut site, &paths, &out, &changed) {
                    Ok(true) => {
                        println!("rewrote the changed page in {} ms", start.elapsed().as_millis());
                        generation.bump(true, false);
                        print_stale = true;
                        continue;
                    }
                    Ok(false) => {}
                    Err(error) => {
                        eprintln!("error: {}\n(still serving the last good build)", chain(&error));
                        continue;
                    }
                }
                match build_site(&paths, &out) {
                    Ok((new_site, report)) => {
                        site = new_site;
                        print_stale = false;
                        println!("rebuilt {} pages in {} ms", report.pages, report.elapsed.as_millis());
                        generation.bump(true, true);
                    }
                    Err(error) => eprintln!("error: {}\n(still serving the last good build)", chain(&error)),
                }
            }
        });
    }

    let server = tiny_http::Server::http(("127.0.0.1", port)).map_err(|e| {
        Error::io(Path::new(&format!("127.0.0.1:{port}")), std::io::Error::other(e.to_string()))
    })?;
    println!("serving on http://127.0.0.1:{port}/ (Ctrl+C to stop)");
    for request in server.incoming_requests() {
        let (out, generation) = (out.clone(), generation.clone());
        std::thread::spawn(move || respond(request, &out, &generation));
    }
    Ok(())
}

/// Rewrites only the pages whose Markdown body changed, when that is all that changed;
/// `Ok(false)` when a full build is needed.
fn rebuild_pages(site: &mut Site, paths: &Paths, out: &Path, changed: &[PathBuf]) -> Result<bool> {
    let root = std::fs::canonicalize(&paths.content).map_err(|e| Error::io(&paths.content, e))?;
    let mut sources = Vec::new();
    for path in changed {
        let source = path.strip_prefix(&root).or_else(|_| path.strip_prefix(&paths.content));
        match source {
            Ok(source) if source.extension().is_some_and(|e| e == "md") => sources.push(source.to_owned()),
            _ => return Ok(false),
        }
    }
    sources.sort();
    sources.dedup();
    let mut outputs = Vec::new();
    for source in &sources {
        match site.render_changed(source)? {
            Some(output) => outputs.push(output),
            None => return Ok(false),
        }
    }
    for output in &outputs {
        write_file(&out.join(&output.path), &output.bytes)?;
    }
    Ok(!outputs.is_empty())
}

fn respond(request: tiny_http::Request, out: &Path, generation: &Generation) {
    let url = request.url().to_owned();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if path == "/__livereload" {
        let (mut since, mut print) = (0, false);
        for (key, value) in query.split('&').filter_map(|pair| pair.split_once('=')) {
            match key {
                "since" => since = value.parse().unwrap_or(0),
                "of" => print = value == "print",
                _ => {}
            }
        }
        let of = move |numbers: &Numbers| if print { numbers.print } else { numbers.site };
        let numbers = generation.numbers.lock().expect("no panic while locked");
        let (numbers, _) = generation
            .changed
            .wait_timeout_while(numbers, LONG_POLL, |numbers| of(numbers) == since)
            .expect("no panic while locked");
        let _ = request.respond(tiny_http::Response::from_string(of(&numbers).to_string()));
        return;
    }
    let numbers = *generation.numbers.lock().expect("no panic while locked");
    let (status, file) = match resolve(out, path) {
        Some(file) => (200, file),
        None => (404, out.join("404.html")),
    };
    let Ok(mut bytes) = std::fs::read(&file) else {
        let _ = request.respond(tiny_http::Response::empty(404));
        return;
    };
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or("");
    if extension == "html" {
        let (of, number) =
            if file == out.join(PRINT_PAGE) { ("print", numbers.print) } else { ("site", numbers.site) };
        let script = RELOAD_SCRIPT.replace("OF", of).replace("GENERATION", &number.to_string());
        let text = String::from_utf8_lossy(&bytes);
        bytes = match text.rfind("</body>") {
            Some(at) => format!("{}{script}{}", &text[..at], &text[at..]).into_bytes(),
            None => format!("{text}{script}").into_bytes(),
        };
    }
    let header =
        tiny_http::Header::from_bytes("Content-Type", content_type(extension)).expect("valid header");
    let _ =
        request.respond(tiny_http::Response::from_data(bytes).with_status_code(status).with_header(header));
}

/// The file a URL path names inside `root`, refusing anything that climbs out of it.
fn resolve(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_encoding::percent_decode_str(url_path).decode_utf8().ok()?;
    let mut path = root.to_owned();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    if path.is_dir() {
        path.push("index.html");
    }
    path.is_file().then_some(path)
}

fn content_type(extension: &str) -> &'static str {
    match extension {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "xml" => "application/xml",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // URL paths map to files under the root and never climb out of it.
    #[test]
    fn resolves_inside_root_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a/index.html"), "x").unwrap();
        std::fs::write(dir.path().join("a/b c.html"), "x").unwrap();
        assert_eq!(resolve(dir.path(), "/a/"), Some(dir.path().join("a/index.html")));
        assert_eq!(resolve(dir.path(), "/a/b%20c.html"), Some(dir.path().join("a/b c.html")));
        assert_eq!(resolve(dir.path(), "/a/../../etc/passwd"), None);
        assert_eq!(resolve(dir.path(), "/nothing.html"), None);
    }
}
