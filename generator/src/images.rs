//! Pictures: SVG mock-ups are shipped as they are, after a check of their size and that they
//! load nothing from elsewhere; PNG and JPEG screenshots are resized to a few widths and
//! re-encoded, so an original of several megabytes never ships. Output names carry a hash of the
//! source, so identical inputs give identical files and a rebuild can reuse the previous ones.
//!
//! Two stages: [`Pictures::load`] reads every picture when the content is loaded (the sizes the
//! pages' `<img>` need), and [`Pictures::write`] encodes the variants of those the pages show.
//! Markdown rendering, between the two, only looks pictures up.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::paths::to_site_path;

/// Widths of the variants made of a raster picture, in CSS pixels of a 1x, 2x and 3x phone.
pub const WIDTHS: &[u32] = &[480, 960, 1440];

/// Pictures above this many pixels are refused rather than decoded.
const MAX_PIXELS: u64 = 60_000_000;

/// JPEG quality of the variants: screenshots stay legible, weight stays low.
const JPEG_QUALITY: u8 = 82;

/// One encoded size of a picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Where the variant is written, as a site path.
    pub site_path: String,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

/// What the pages need to know about a picture to show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picture {
    /// An SVG drawing, copied with the other files.
    Svg {
        /// Its site path.
        site_path: String,
        /// Its intrinsic width.
        width: u32,
        /// Its intrinsic height.
        height: u32,
    },
    /// A PNG or JPEG, served as variants from the smallest to the largest.
    Raster {
        /// The variants, by increasing width.
        variants: Vec<Variant>,
    },
}

/// A picture as read when the content is loaded.
struct Loaded {
    picture: Picture,
    /// The source bytes and format of a raster, kept until the variants are written.
    raster: Option<(Vec<u8>, ImageFormat)>,
}

/// Every picture of the content folder, read once when the content is loaded: what the pages
/// need to show each one, or why it cannot be shown. Rendering only looks pictures up here, so it
/// reads no file; a picture that no page shows is read but never written.
pub struct Pictures {
    root: PathBuf,
    loaded: BTreeMap<PathBuf, Result<Loaded, String>>,
}

/// What is wrong with a file shown as a picture that is not one, after its path.
const NOT_A_PICTURE: &str = "is neither PNG, JPEG nor SVG: save it in one of those formats";

impl Pictures {
    /// Reads, in parallel, the pictures among `assets` (relative to the content folder `root`):
    /// the files whose extension names a picture format. A picture that cannot be read or is not
    /// one is kept as its error, reported at the lines that show it; the rejected alternative,
    /// failing the load, would refuse a stray unused file that today's builds ignore.
    pub fn load(root: &Path, assets: &[PathBuf]) -> Pictures {
        let loaded = assets
            .par_iter()
            .filter(|a| is_raster(a) || has_extension(a, "svg"))
            .map(|source| (source.clone(), read(&root.join(source), source)))
            .collect();
        Pictures { root: root.to_owned(), loaded }
    }

    /// How to show the picture at `source` (relative to the content root); the error is a
    /// message for the author of the page that shows it.
    pub fn get(&self, source: &Path) -> Result<&Picture, String> {
        match self.loaded.get(source) {
            Some(Ok(loaded)) => Ok(&loaded.picture),
            Some(Err(message)) => Err(message.clone()),
            None => Err(format!("the picture `{}` {NOT_A_PICTURE}", self.root.join(source).display())),
        }
    }

    /// Encodes every variant of the raster pictures `shown` into `out`, in parallel; a variant
    /// already present in `previous` (the last build) under the same hashed name is copied
    /// instead of encoded again.
    pub fn write(&self, out: &Path, shown: &BTreeSet<PathBuf>, previous: Option<&Path>) -> Result<()> {
        let jobs: Vec<(&PathBuf, &Vec<Variant>, &[u8], ImageFormat)> = shown
            .iter()
            .filter_map(|source| match self.loaded.get(source) {
                Some(Ok(Loaded { picture: Picture::Raster { variants }, raster: Some((bytes, format)) })) => {
                    Some((source, variants, bytes.as_slice(), *format))
                }
                _ => None,
            })
            .collect();
        jobs.par_iter().try_for_each(|&(source, variants, bytes, format)| {
            let missing: Vec<&Variant> = variants
                .iter()
                .filter(|v| {
                    let Some(previous) = previous else { return true };
                    let target = out.join(&v.site_path);
                    !(create_parent(&target).is_ok()
                        && std::fs::copy(previous.join(&v.site_path), &target).is_ok())
                })
                .collect();
            if missing.is_empty() {
                return Ok(());
            }
            let display = self.root.join(source);
            let image = decode_upright(bytes, format).map_err(|m| Error::at(&display, None, m))?;
            missing.par_iter().try_for_each(|variant| {
                let encoded = encode(&image, variant, format).map_err(|m| Error::at(&display, None, m))?;
                let target = out.join(&variant.site_path);
                create_parent(&target)?;
                std::fs::write(&target, encoded).map_err(|e| Error::io(&target, e))
            })
        })
    }
}

/// Reads the picture at `path` (`source` relative to the content root) and says how to show it.
fn read(path: &Path, source: &Path) -> Result<Loaded, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("cannot read the picture `{}`: {e}", path.display()))?;
    if has_extension(source, "svg") {
        let (width, height) =
            svg_size(&bytes).map_err(|m| format!("the picture `{}` {m}", path.display()))?;
        return Ok(Loaded {
            picture: Picture::Svg { site_path: to_site_path(source), width, height },
            raster: None,
        });
    }
    let (format, width, height) =
        raster_size(&bytes).map_err(|m| format!("the picture `{}` {m}", path.display()))?;
    let hash = hex::encode(&Sha256::digest(&bytes)[..5]);
    let stem = source.file_stem().unwrap_or_default().to_string_lossy();
    let dir = source.parent().map(to_site_path).unwrap_or_default();
    let extension = if format == ImageFormat::Jpeg { "jpg" } else { "png" };
    let variants = variant_widths(width)
        .into_iter()
        .map(|w| {
            let name = format!("{stem}-{w}.{hash}.{extension}");
            Variant {
                site_path: if dir.is_empty() { name } else { format!("{dir}/{name}") },
                width: w,
                height: scaled_height(width, height, w),
            }
        })
        .collect();
    Ok(Loaded { picture: Picture::Raster { variants }, raster: Some((bytes, format)) })
}

/// Whether `path`'s extension is `extension`, in any case.
fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| e.eq_ignore_ascii_case(extension))
}

/// Whether a content file is a raster picture by its extension: such files ship only as
/// resized variants, never as they are.
pub fn is_raster(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["png", "jpg", "jpeg", "webp", "gif"].contains(&e.to_ascii_lowercase().as_str()))
}

fn create_parent(path: &Path) -> Result<()> {
    let parent = path.parent().expect("site paths have a parent");
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))
}

/// The widths to make of a picture `width` pixels wide: the standard widths below it, and the
/// picture's own width when it is under the largest standard one. Never upscaled.
pub fn variant_widths(width: u32) -> Vec<u32> {
    let largest = *WIDTHS.last().expect("widths are listed");
    let mut widths: Vec<u32> = WIDTHS.iter().copied().filter(|&w| w < width).collect();
    if width <= largest {
        widths.push(width);
    } else if widths.last() != Some(&largest) {
        widths.push(largest);
    }
    widths
}

fn scaled_height(width: u32, height: u32, new_width: u32) -> u32 {
    ((u64::from(height) * u64::from(new_width) + u64::from(width) / 2) / u64::from(width)).max(1) as u32
}

/// The intrinsic size of an SVG drawing, from its `width`/`height` or its `viewBox`; refuses
/// drawings that run scripts or load anything from another site.
pub fn svg_size(bytes: &[u8]) -> Result<(u32, u32), String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
    let document = roxmltree::Document::parse(text).map_err(|e| format!("is not well-formed SVG: {e}"))?;
    let root = document.root_element();
    if root.tag_name().name() != "svg" {
        return Err("does not start with an <svg> element".to_owned());
    }
    for node in document.descendants().filter(|n| n.is_element()) {
        if node.tag_name().name() == "script" {
            return Err("contains a <script>: pictures must not run code".to_owned());
        }
        for attribute in node.attributes() {
            let value = attribute.value().trim_start();
            if attribute.name() == "href" && !(value.starts_with('#') || value.starts_with("data:")) {
                return Err(format!("links to `{value}`: a picture must not load anything from elsewhere"));
            }
        }
    }
    let length = |name: &str| {
        root.attribute(name)
            .and_then(|v| v.trim().trim_end_matches("px").parse::<f64>().ok())
            .filter(|v| *v > 0.0)
    };
    let view_box = root.attribute("viewBox").and_then(|v| {
        let numbers: Vec<f64> =
            v.split([' ', ',']).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
        (numbers.len() == 4 && numbers[2] > 0.0 && numbers[3] > 0.0).then(|| (numbers[2], numbers[3]))
    });
    let (width, height) = match (length("width"), length("height"), view_box) {
        (Some(w), Some(h), _) => (w, h),
        (_, _, Some(size)) => size,
        _ => {
            return Err("has no size: give the <svg> element `width` and `height` in pixels, or a `viewBox`"
                .to_owned());
        }
    };
    Ok((width.round() as u32, height.round() as u32))
}

/// The format and upright size of a PNG or JPEG, read from its header without decoding it.
fn raster_size(bytes: &[u8]) -> Result<(ImageFormat, u32, u32), String> {
    let reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    let format = match reader.format() {
        Some(f @ (ImageFormat::Png | ImageFormat::Jpeg)) => f,
        _ => return Err(NOT_A_PICTURE.to_owned()),
    };
    let mut decoder = reader.into_decoder().map_err(|e| format!("cannot be read: {e}"))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!(
            "is {width}×{height} pixels, too large to process: reduce it under 60 megapixels"
        ));
    }
    let orientation = decoder.orientation().map_err(|e| format!("cannot be read: {e}"))?;
    let quarter_turn = matches!(
        orientation,
        image::metadata::Orientation::Rotate90
            | image::metadata::Orientation::Rotate270
            | image::metadata::Orientation::Rotate90FlipH
            | image::metadata::Orientation::Rotate270FlipH
    );
    Ok(if quarter_turn { (format, height, width) } else { (format, width, height) })
}

fn decode_upright(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage, String> {
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format)
        .into_decoder()
        .map_err(|e| format!("cannot be decoded: {e}"))?;
    let orientation = decoder.orientation().map_err(|e| format!("cannot be decoded: {e}"))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| format!("cannot be decoded: {e}"))?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn encode(image: &DynamicImage, variant: &Variant, format: ImageFormat) -> Result<Vec<u8>, String> {
    let resized = if image.width() == variant.width {
        image.clone()
    } else {
        image.resize_exact(variant.width, variant.height, image::imageops::FilterType::Lanczos3)
    };
    let mut out = Vec::new();
    let result = if format == ImageFormat::Jpeg {
        let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
        resized.to_rgb8().write_with_encoder(encoder)
    } else {
        let encoder = image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        );
        resized.write_with_encoder(encoder)
    };
    result.map_err(|e| format!("cannot be encoded at {} pixels wide: {e}", variant.width))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Variants never upscale and stop at the largest standard width.
    #[test]
    fn widths_by_source_size() {
        for (width, expected) in [
            (300, vec![300]),
            (480, vec![480]),
            (800, vec![480, 800]),
            (1440, vec![480, 960, 1440]),
            (4000, vec![480, 960, 1440]),
        ] {
            assert_eq!(variant_widths(width), expected, "{width}");
        }
    }

    // SVG sizes come from width/height or the viewBox; unsafe or sizeless drawings are refused.
    #[test]
    fn svg_sizes_and_refusals() {
        let ok = [
            (r#"<svg xmlns="http://www.w3.org/2000/svg" width="360" height="600"/>"#, (360, 600)),
            (r#"<svg xmlns="http://www.w3.org/2000/svg" width="360px" height="600.4px"/>"#, (360, 600)),
            (r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 450"/>"#, (800, 450)),
        ];
        for (svg, size) in ok {
            assert_eq!(svg_size(svg.as_bytes()), Ok(size), "{svg}");
        }
        let bad = [
            (r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#, "has no size"),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"><script>x</script></svg>"#,
                "<script>",
            ),
            (
                r#"<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink" viewBox="0 0 1 1"><image x:href="https://e.com/a.png"/></svg>"#,
                "https://e.com/a.png",
            ),
            ("<svg", "well-formed"),
            ("<html/>", "<svg>"),
        ];
        for (svg, expected) in bad {
            let message = svg_size(svg.as_bytes()).unwrap_err();
            assert!(message.contains(expected), "{message:?} should mention {expected:?}");
        }
    }

    // A large PNG becomes three smaller variants with the same aspect ratio, reproducibly.
    #[test]
    fn raster_variants_are_made_and_reproducible() {
        let dir = tempfile::tempdir().unwrap();
        let image =
            image::RgbImage::from_fn(2000, 1000, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        image.save(dir.path().join("capture.png")).unwrap();
        let source = PathBuf::from("capture.png");
        let pictures = Pictures::load(dir.path(), std::slice::from_ref(&source));
        let Picture::Raster { variants } = pictures.get(&source).unwrap() else {
            panic!("a PNG is a raster")
        };
        let sizes: Vec<(u32, u32)> = variants.iter().map(|v| (v.width, v.height)).collect();
        assert_eq!(sizes, [(480, 240), (960, 480), (1440, 720)]);

        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let shown = BTreeSet::from([source.clone()]);
        pictures.write(&a, &shown, None).unwrap();
        pictures.write(&b, &shown, None).unwrap();
        for variant in variants {
            let first = std::fs::read(a.join(&variant.site_path)).unwrap();
            assert_eq!(
                first,
                std::fs::read(b.join(&variant.site_path)).unwrap(),
                "{} differs",
                variant.site_path
            );
            let decoded = image::load_from_memory(&first).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (variant.width, variant.height));
        }
        pictures.write(&dir.path().join("c"), &BTreeSet::new(), None).unwrap();
        assert!(!dir.path().join("c").exists(), "a picture no page shows is not written");
    }

    // Files that are not pictures are refused with a message saying what to do.
    #[test]
    fn refuses_non_pictures() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.gif"), b"GIF89a\x01\x00\x01\x00").unwrap();
        std::fs::write(dir.path().join("notes.pdf"), b"%PDF-1.4").unwrap();
        let sources = ["x.gif", "absent.png", "notes.pdf"].map(PathBuf::from);
        let pictures = Pictures::load(dir.path(), &sources);
        for (source, expected) in [
            ("x.gif", "neither PNG, JPEG nor SVG"),
            ("absent.png", "cannot read the picture"),
            ("notes.pdf", "neither PNG, JPEG nor SVG"),
        ] {
            let message = pictures.get(Path::new(source)).unwrap_err();
            assert!(message.contains(expected), "{source}: {message}");
        }
    }
}
