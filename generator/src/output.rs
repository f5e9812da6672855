//! Writing the site: every file goes into a new folder beside the destination, which is swapped
//! in only once everything is written, so a failed build leaves the previous site as it was.
//! The rejected alternative, writing over the previous site in place, would leave a mix of old
//! and new pages after a failure half-way, on a USB key a school then hands out.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::error::{Error, Result};

/// A file that marks a folder as a site this generator wrote, so a build never replaces a
/// folder it did not make.
pub const MARKER: &str = ".generator-site";

/// One file of the site made in memory (a page, a joined script).
#[derive(Debug)]
pub struct Output {
    /// Its site path.
    pub path: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// Where a build goes, checked before any work so that a refused `--out` costs nothing.
pub struct Destination {
    out: PathBuf,
}

impl Destination {
    /// Refuses a folder that is neither absent, empty, nor a site this generator built.
    pub fn check(out: &Path) -> Result<Destination> {
        if out.exists() && !out.join(MARKER).exists() {
            let mut entries = std::fs::read_dir(out).map_err(|e| Error::io(out, e))?;
            if entries.next().is_some() {
                return Err(Error::at(
                    out,
                    None,
                    "this folder is not a site built by the generator and is not empty; refusing to replace it (choose another `--out`)",
                ));
            }
        }
        Ok(Destination { out: out.to_owned() })
    }

    /// Has `write` fill a new folder beside the destination, marks it as built here, and swaps
    /// it in. `write` gets the folder and the previous build, whose files it may reuse; when it
    /// fails, the new folder is deleted and the destination is not touched.
    pub fn replace<T>(self, write: impl FnOnce(&Path, Option<&Path>) -> Result<T>) -> Result<T> {
        let out = &self.out;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        let staging = tempfile::Builder::new()
            .prefix(".site-build-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?;
        let previous = out.join(MARKER).exists().then_some(out.as_path());
        let written = write(staging.path(), previous)?;
        write_file(&staging.path().join(MARKER), b"")?;
        swap(staging, out)?;
        Ok(written)
    }
}

/// Writes one file of the site, creating its folder if it is missing. Most pages go into a
/// folder an earlier page made, so the write is tried first and the folder made only when it
/// fails for want of it: the rejected alternative, `create_dir_all` before every file, cost two
/// system calls more per page (10,000 failing `mkdir`s and their `stat`s on the benchmark).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    match std::fs::write(path, bytes) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
        }
        written => written.map_err(|e| Error::io(path, e)),
    }
}

/// Writes the file `path` through `write`, which gets a buffered writer and `path` for its
/// errors: a file too large to be made in memory first (the print page). It is written beside
/// `path` and renamed over it once complete, so a server showing the folder (the preview) never
/// sends half of it.
pub fn write_with<T>(path: &Path, write: impl FnOnce(&mut dyn Write, &Path) -> Result<T>) -> Result<T> {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let part = path.with_file_name(format!(".{name}.part"));
    let file = std::fs::File::create(&part).map_err(|e| Error::io(&part, e))?;
    let mut out = BufWriter::new(file);
    let written = write(&mut out, path).and_then(|written| {
        out.flush().map_err(|e| Error::io(path, e))?;
        Ok(written)
    });
    drop(out);
    match written {
        Ok(written) => std::fs::rename(&part, path).map(|()| written).map_err(|e| Error::io(path, e)),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

/// Copies each `(from, to)` file, in parallel, creating the folders.
pub fn copy_files(copies: Vec<(PathBuf, PathBuf)>) -> Result<()> {
    copies.into_par_iter().try_for_each(|(from, to)| {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::copy(&from, &to).map(|_| ()).map_err(|e| Error::io(&from, e))
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    // A destination is refused only when it holds files the generator did not write.
    #[test]
    fn destinations_that_may_be_replaced() {
        for (name, files, allowed) in [
            ("absent", &[][..], true),
            ("empty", &[], true),
            ("built here", &[MARKER, "index.html"], true),
            ("foreign", &["notes.txt"], false),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("site");
            if name != "absent" {
                std::fs::create_dir(&out).unwrap();
            }
            for file in files {
                std::fs::write(out.join(file), "").unwrap();
            }
            assert_eq!(Destination::check(&out).is_ok(), allowed, "{name}");
        }
    }

    // A failed write leaves the previous site and no staging folder; a good one replaces it.
    #[test]
    fn replaces_only_after_a_complete_write() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("site");
        let write = |text: &'static str| {
            move |staging: &Path, _: Option<&Path>| write_file(&staging.join("index.html"), text.as_bytes())
        };
        Destination::check(&out).unwrap().replace(write("one")).unwrap();
        let failed = Destination::check(&out).unwrap().replace(|staging, previous| {
            assert_eq!(previous, Some(out.as_path()), "the previous build is offered for reuse");
            write("two")(staging, previous)?;
            Err::<(), _>(Error::at(Path::new("x.md"), None, "broken"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(out.join("index.html")).unwrap(), "one");
        Destination::check(&out).unwrap().replace(write("three")).unwrap();
        assert_eq!(std::fs::read_to_string(out.join("index.html")).unwrap(), "three");
        assert!(out.join(MARKER).is_file());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["site"], "no staging or old folder left behind");
    }
}
