//! The built site as one zip, for a USB key or an intranet upload: `generator build --zip
//! pass-region.zip` writes the site, then the archive of it. Reproducible: the same site gives the
//! same bytes, so a school can tell two copies apart by their checksum alone. Entries are sorted,
//! every time is the zip epoch (1980-01-01), every file mode 0644, every folder 0755, and the
//! build's own marker file is left out. They sit in one folder named after the archive, so that
//! unzipping makes one folder, not a heap of files.
//!
//! Written beside its destination and renamed once complete, like the site itself: a failed
//! archive leaves the previous one as it was.

use std::io::{BufWriter, Write};
use std::path::Path;

use walkdir::WalkDir;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::error::{Error, Result};
use crate::output::MARKER;

/// Writes the site in `site` to the zip `archive`, replacing it only once complete.
pub fn write(site: &Path, archive: &Path) -> Result<()> {
    let folder = archive
        .file_stem()
        .and_then(|stem| stem.to_str())
        .filter(|stem| !stem.is_empty())
        .ok_or_else(|| Error::at(archive, None, "the archive needs a file name, such as `pass-region.zip`"))?
        .to_owned();
    let parent = match archive.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".site-zip-");
    // A temporary file is private (0600); the archive is for others to read, as any file the
    // build writes (a web server's user, a colleague's copy).
    #[cfg(unix)]
    builder.permissions(<std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o644));
    let staging = builder.tempfile_in(parent).map_err(|error| Error::io(parent, error))?;
    let mut zip =
        ZipWriter::new(BufWriter::new(staging.as_file().try_clone().map_err(|e| Error::io(archive, e))?));
    let options = SimpleFileOptions::default()
        .last_modified_time(DateTime::default())
        .compression_method(CompressionMethod::Deflated);
    let zipped =
        |error: zip::result::ZipError| Error::at(archive, None, format!("cannot write the archive: {error}"));
    zip.add_directory(format!("{folder}/"), options.unix_permissions(0o755)).map_err(zipped)?;
    for entry in WalkDir::new(site).min_depth(1).sort_by_file_name() {
        let entry = entry.map_err(|error| Error::at(site, None, format!("cannot read the site: {error}")))?;
        let relative = entry.path().strip_prefix(site).expect("walkdir stays under its root");
        if relative == Path::new(MARKER) {
            continue;
        }
        // Zip paths use `/`, whatever the system.
        let name = relative
            .components()
            .map(|part| part.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if entry.file_type().is_dir() {
            zip.add_directory(format!("{folder}/{name}/"), options.unix_permissions(0o755))
                .map_err(zipped)?;
        } else {
            let bytes = std::fs::read(entry.path()).map_err(|error| Error::io(entry.path(), error))?;
            zip.start_file(format!("{folder}/{name}"), options.unix_permissions(0o644)).map_err(zipped)?;
            zip.write_all(&bytes).map_err(|error| Error::io(archive, error))?;
        }
    }
    let mut out = zip.finish().map_err(zipped)?;
    out.flush().map_err(|error| Error::io(archive, error))?;
    drop(out);
    staging.persist(archive).map_err(|error| Error::io(archive, error.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The same site gives the same bytes, whatever the files' times; the marker stays out; a
    // failed archive leaves the previous one.
    #[test]
    fn archives_are_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("images")).unwrap();
        std::fs::write(site.join("index.html"), "<!DOCTYPE html>").unwrap();
        std::fs::write(site.join("images/a.svg"), "<svg/>").unwrap();
        std::fs::write(site.join(MARKER), "").unwrap();
        let first = dir.path().join("pass-region.zip");
        write(&site, &first).unwrap();
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(site.join("index.html"))
            .unwrap()
            .set_modified(later)
            .unwrap();
        let second = dir.path().join("copie").join("pass-region.zip");
        std::fs::create_dir_all(second.parent().unwrap()).unwrap();
        write(&site, &second).unwrap();
        let bytes = std::fs::read(&first).unwrap();
        assert_eq!(bytes, std::fs::read(&second).unwrap());

        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
        assert_eq!(
            names,
            ["pass-region/", "pass-region/images/", "pass-region/images/a.svg", "pass-region/index.html"]
        );
        let mut index = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("pass-region/index.html").unwrap(), &mut index)
            .unwrap();
        assert_eq!(index, "<!DOCTYPE html>");

        // Readable as any new file is (the umask applied), not private like a temporary file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let reference = dir.path().join("reference");
            std::fs::write(&reference, "").unwrap();
            let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&first), mode(&reference));
        }

        let missing = write(&dir.path().join("absent"), &first);
        assert!(missing.is_err());
        assert_eq!(
            std::fs::read(&first).unwrap(),
            std::fs::read(&second).unwrap(),
            "the previous archive stays"
        );
    }
}
