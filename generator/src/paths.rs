//! Site paths and the relative URLs between them. Every URL the site emits is relative, so the
//! site works opened from disk, from a USB key, or under any sub-path of a server.

use std::path::{Component, Path, PathBuf};

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

/// Characters escaped in a URL path: everything but unreserved characters and `/`.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'|')
    .add(b'\'');

/// The folder part of a site path (`a/b.html` -> `a`, `b.html` -> ``).
pub fn dir_of(site_path: &str) -> &str {
    site_path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The relative URL from a page in folder `from_dir` to the site path `to`, percent-encoded.
pub fn relative(from_dir: &str, to: &str) -> String {
    let from: Vec<&str> = from_dir.split('/').filter(|s| !s.is_empty()).collect();
    let target: Vec<&str> = to.split('/').collect();
    let common = from
        .iter()
        .zip(&target)
        .take_while(|(a, b)| a == b)
        .count()
        // The last component of `to` is a file name, never a shared folder.
        .min(target.len() - 1);
    let mut url = "../".repeat(from.len() - common);
    url.push_str(&target[common..].join("/"));
    utf8_percent_encode(&url, PATH).to_string()
}

/// The prefix that leads from a page in `from_dir` back to the site's root (`""` or `"../"`...).
pub fn root_from(from_dir: &str) -> String {
    "../".repeat(from_dir.split('/').filter(|s| !s.is_empty()).count())
}

/// Joins a relative `link` to the folder `base` (both relative to the content root) and
/// normalises `.` and `..`; `None` when the link climbs above the root.
pub fn join_normalised(base: &Path, link: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = Vec::new();
    for component in base.join(link).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// A content-relative path as a site path with `/` separators, whatever the platform.
pub fn to_site_path(path: &Path) -> String {
    path.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    // Relative URLs between folders of different depths.
    #[test]
    fn relative_urls() {
        for (from, to, expected) in [
            ("", "index.html", "index.html"),
            ("", "a/b.html", "a/b.html"),
            ("a", "index.html", "../index.html"),
            ("a", "a/b.html", "b.html"),
            ("a", "a/img/x.svg", "img/x.svg"),
            ("a/b", "c/d.html", "../../c/d.html"),
            ("a", "a", "../a"),
            ("", "images/mon image.png", "images/mon%20image.png"),
            ("", "é.html", "%C3%A9.html"),
        ] {
            assert_eq!(relative(from, to), expected, "from {from:?} to {to:?}");
        }
    }

    // Roots, folders and normalised joins.
    #[test]
    fn folders_and_joins() {
        assert_eq!(root_from(""), "");
        assert_eq!(root_from("a/b"), "../../");
        assert_eq!(dir_of("a/b.html"), "a");
        assert_eq!(dir_of("b.html"), "");
        assert_eq!(join_normalised(Path::new("a"), "../b.md"), Some(PathBuf::from("b.md")));
        assert_eq!(join_normalised(Path::new("a"), "./c/../d.md"), Some(PathBuf::from("a/d.md")));
        assert_eq!(join_normalised(Path::new(""), "../x.md"), None);
        assert_eq!(to_site_path(Path::new("a/b/c.md")), "a/b/c.md");
    }
}
