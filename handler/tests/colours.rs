//! Colours kept: photos made with embedded ICC profiles (Display P3, Adobe RGB, a CMYK press
//! profile, in JPEG and WebP) go through the real `handler::photo::process`, and its output must
//! be within a mean ΔE2000 of 2 of littleCMS's conversion of the same upload (Pillow's ImageCms,
//! `tests/colours/colours.py`, which also makes the photos and measures ΔE2000). The profiles are
//! in `tests/colours/` (`LICENSE.md` says where each comes from).
//!
//! Needs `python3` with Pillow and numpy (the pins of `scripts/tools.env`, installed by
//! `scripts/test`); without them the test fails, naming what is missing.
//! `cargo test -p handler --test colours -- --nocapture` prints the figures.

use std::path::{Path, PathBuf};
use std::process::Command;

use form::Crop;
use handler::photo;

/// The bound of issue 13: a mean CIEDE2000 of 2 is at the edge of what a trained eye sees
/// side by side.
const MAX_MEAN_DELTA_E: f64 = 2.0;

/// The uploads' size (`colours.py`'s `SIZE`), sent whole as the crop so both sides frame alike.
const WHOLE: Crop = Crop { x: 0, y: 0, width: 826, height: 1062 };

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/colours/colours.py")
}

fn python(args: &[&str]) -> String {
    let out = Command::new("python3").arg(script()).args(args).output().unwrap_or_else(|e| {
        panic!("missing tool: python3 ({e}); scripts/test installs what this test needs")
    });
    assert!(out.status.success(), "colours.py {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("colours.py prints text")
}

/// Fails, naming the tool, when Pillow (with littleCMS) or numpy is missing.
fn require_pillow() {
    let probe = Command::new("python3")
        .args(["-c", "import numpy; from PIL import ImageCms; ImageCms.createProfile('sRGB')"])
        .output();
    match probe {
        Ok(out) if out.status.success() => {}
        _ => panic!(
            "missing tool: Pillow with ImageCms (littleCMS) and numpy for python3 \
             (PILLOW_VERSION and NUMPY_VERSION of scripts/tools.env; scripts/test installs them)"
        ),
    }
}

fn work_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("passregion-colours-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    dir
}

fn upload(dir: &Path, case: &str) -> Vec<u8> {
    let ext = if case.ends_with("webp") { "webp" } else { "jpg" };
    std::fs::read(dir.join(format!("{case}.{ext}"))).expect("colours.py wrote the upload")
}

/// The JPEG's segments before its first scan, as (marker, whole segment) pairs, and the rest.
fn segments(jpeg: &[u8]) -> (Vec<(u8, &[u8])>, &[u8]) {
    let mut at = 2;
    let mut found = Vec::new();
    while jpeg[at] == 0xFF && jpeg[at + 1] != 0xDA {
        let length = usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
        found.push((jpeg[at + 1], &jpeg[at..at + 2 + length]));
        at += 2 + length;
    }
    (found, &jpeg[at..])
}

/// `jpeg` with its ICC chunks replaced by `profile` in one APP2 chunk (none when empty).
fn with_profile(jpeg: &[u8], profile: &[u8]) -> Vec<u8> {
    let (parts, rest) = segments(jpeg);
    let mut out = vec![0xFF, 0xD8];
    if !profile.is_empty() {
        let payload = [&b"ICC_PROFILE\0\x01\x01"[..], profile].concat();
        out.extend([0xFF, 0xE2]);
        out.extend(u16::try_from(payload.len() + 2).expect("one chunk").to_be_bytes());
        out.extend(payload);
    }
    for (marker, segment) in parts {
        if !(marker == 0xE2 && segment[4..].starts_with(b"ICC_PROFILE\0")) {
            out.extend(segment);
        }
    }
    out.extend(rest);
    out
}

fn make(bytes: &[u8]) -> Vec<u8> {
    photo::process(bytes, Some(WHOLE)).expect("the photo is made").jpeg
}

// Every profiled upload comes out within the bound of littleCMS's sRGB conversion, where the same
// pixels taken as sRGB would not be; and the output carries no profile.
#[test]
fn profiled_photos_match_littlecms() {
    require_pillow();
    let dir = work_dir("match");
    let cases: Vec<String> =
        python(&["make", dir.to_str().expect("utf-8 path")]).lines().map(String::from).collect();
    let expected = ["display-p3", "adobe-rgb", "display-p3-webp", "cmyk-swop", "cmyk-swop-no-app14"];
    assert_eq!(cases, expected, "the cases colours.py makes");
    for case in &cases {
        let jpeg = make(&upload(&dir, case));
        let (parts, _) = segments(&jpeg);
        assert!(
            // JFIF's APP0 only: no EXIF, ICC profile, Adobe segment or comment.
            parts.iter().all(|(marker, _)| !(0xE1..=0xEF).contains(marker) && *marker != 0xFE),
            "{case}: the output has metadata segments {:?}",
            parts.iter().map(|p| p.0).collect::<Vec<_>>()
        );
        std::fs::write(dir.join(format!("{case}.out.jpg")), jpeg).expect("write the output");
    }
    let report = python(&["compare", dir.to_str().expect("utf-8 path")]);
    let mut measured = 0;
    for line in report.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [case, ours, untagged] = fields[..] else { panic!("colours.py compare printed `{line}`") };
        let (ours, untagged): (f64, f64) =
            (ours.parse().expect("a number"), untagged.parse().expect("a number"));
        println!("{case}: mean dE2000 {ours:.3} against littleCMS (the pixels taken as sRGB: {untagged:.3})");
        assert!(ours <= MAX_MEAN_DELTA_E, "{case}: mean dE2000 {ours:.3} above {MAX_MEAN_DELTA_E}");
        assert!(
            untagged > MAX_MEAN_DELTA_E,
            "{case}: the profile changes too little ({untagged:.3}) to test anything"
        );
        measured += 1;
    }
    assert_eq!(measured, cases.len(), "colours.py compared every case:\n{report}");
    std::fs::remove_dir_all(&dir).expect("remove the temporary folder");
}

// A profile that cannot be used makes the same photo as no profile at all (RGB taken as sRGB,
// CMYK by the naive formula), rather than a refusal.
#[test]
fn unusable_profiles_fall_back_to_no_profile() {
    require_pillow();
    let dir = work_dir("fallback");
    python(&["make", dir.to_str().expect("utf-8 path")]);
    let p3 = std::fs::read(script().with_file_name("DisplayP3.icm")).expect("the Display P3 profile");
    let cases: [(&str, &str, &[u8]); 4] = [
        ("garbage", "display-p3", b"this is not an icc profile, whatever its marker says"),
        ("truncated", "display-p3", &p3[..300]),
        ("header only", "display-p3", &p3[..128]),
        ("rgb profile on a cmyk photo", "cmyk-swop", &p3),
    ];
    for (name, case, profile) in cases {
        let tagged = upload(&dir, case);
        let untagged = make(&with_profile(&tagged, b""));
        assert_ne!(make(&tagged), untagged, "{name}: the real profile changes the photo");
        assert_eq!(make(&with_profile(&tagged, profile)), untagged, "{name}");
    }
    std::fs::remove_dir_all(&dir).expect("remove the temporary folder");
}
