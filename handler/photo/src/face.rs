//! Faces: found on a small grey copy of the decoded pixels by `rustface` (SeetaFace's frontal
//! cascade, the model vendored in `handler/model/`), the head estimated around each, and the
//! ID photo's frame placed on the main one by the photographers' rule.
//!
//! The copy is at most [`DETECTION`]`.max_side` pixels on its longer side, so the detector's time
//! and memory are bounded whatever the photo: its cascade walks a fixed window over a pyramid of
//! that copy, and its buffers are a few times the copy's pixels ([`DETECTION_BYTES`]). A face
//! smaller than the detector's 40-pixel window in that copy is not found: under a seventh of the
//! photo's longer side, a photo taken from further than arm's length. The frame is then the
//! default one, and the hint says that no face was found.

use std::sync::OnceLock;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use serde::Serialize;

use super::colour::{Model, naive_cmyk};
use super::decode::Pixels;
use super::geometry::{Orientation, Rect};
use super::{OUTPUT_HEIGHT, OUTPUT_WIDTH, PhotoError};

/// The SeetaFace frontal detection model as `rustface` 0.1.7 ships it (`model/` of the crate,
/// BSD-2-Clause, `handler/model/LICENSE`). The crate reads it from a path only; embedding it keeps
/// the function one file and its start-up free of any file read.
static MODEL_BYTES: &[u8] = include_bytes!("../../model/seeta_fd_frontal_v1.0.bin");

static MODEL: OnceLock<rustface::Model> = OnceLock::new();

/// Reads the model once: `main` calls it at start-up, so that no photo pays for it; later calls
/// return the same model.
pub fn load_model() -> &'static rustface::Model {
    // The bytes are the crate's own file, read by its own reader: a test proves it reads, so a
    // failure here is a broken build, not an input.
    MODEL.get_or_init(|| rustface::read_model(MODEL_BYTES).expect("the vendored SeetaFace model reads"))
}

/// How the detector is run: the one copy of its parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Longer side of the grey copy the detector walks, in pixels: bounds its time and memory.
    pub max_side: u32,
    /// The cascade's window, which is also the smallest face it finds in the copy (rustface's
    /// fixed `K_WND_SIZE`): a copy narrower than this holds no face.
    pub window: u32,
    /// Least score of a face: rustface's own examples use 2.0; lower finds more faces and more
    /// false ones.
    pub min_score: f64,
    /// Scale from one level of the detector's pyramid to the next.
    pub pyramid_step: f32,
    /// Pixels between two positions of the window.
    pub slide_step: u32,
}

/// The detector's parameters, chosen on `bench/run`'s detection figures and the evaluation set:
/// at 280 px a face a seventh of the photo's longer side still fills the window (a selfie's is two
/// to four times that), and a window step of 5 instead of SeetaFace's 4 keeps one detection under
/// 30 ms with the same faces found.
pub const DETECTION: Detection =
    Detection { max_side: 280, window: 40, min_score: 2.0, pyramid_step: 0.8, slide_step: 5 };

/// What one detection may allocate at most: the grey copy and its resize (under 1 MiB at 280 px),
/// the detector's pyramid, feature maps and proposals, and its copy of the model (3.8 MiB measured
/// on a square copy tiled with faces, `handler/tests/photo_bounds.rs`, which also measures the pipeline's
/// peak with the detection included).
pub const DETECTION_BYTES: usize = 6 << 20;

/// Where the head lies around the detector's box, from the evaluation set (`handler/tests/faces/`,
/// `handler/tests/faces.rs` measures both on its hand-marked heads): SeetaFace's square box starts near
/// the eyebrows and ends near the chin.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeadModel {
    /// The crown, above the box's top, as a share of the box's height.
    pub crown_above: f64,
    /// The chin, below the box's top, as a share of the box's height.
    pub chin_below: f64,
}

/// The head around a detected box.
pub const HEAD: HeadModel = HeadModel { crown_above: 0.43, chin_below: 1.10 };

/// The ID-photo rule the automatic frame follows: the head, chin to crown, fills 32 to 36 mm of
/// the 45 mm height, centred horizontally, eyes in the upper half.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameRule {
    /// Least share of the frame's height the head fills (32 / 45).
    pub min_head: f64,
    /// Largest share of the frame's height the head fills (36 / 45).
    pub max_head: f64,
    /// The share the automatic frame aims at, the middle of the two.
    pub target_head: f64,
    /// Space above the crown, as a share of the frame's height: what is left under the chin is
    /// the larger part (shoulders), and the eyes, half-way down the head, land above the middle.
    pub above_crown: f64,
}

/// The rule's one copy.
pub const RULE: FrameRule =
    FrameRule { min_head: 32.0 / 45.0, max_head: 36.0 / 45.0, target_head: 34.0 / 45.0, above_crown: 0.09 };

/// A face found, in pixels of the upright photo at full resolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Face {
    /// The detector's box.
    pub bounds: Rect,
    /// The detector's score.
    #[serde(skip)]
    pub score: f64,
}

impl Face {
    /// The head, crown to chin and as wide as the box, estimated by [`HEAD`].
    pub fn head(&self) -> Rect {
        let b = self.bounds;
        let top = b.y - HEAD.crown_above * b.height;
        let bottom = b.y + HEAD.chin_below * b.height;
        Rect { x: b.x, y: top, width: b.width, height: bottom - top }
    }

    fn centre_x(&self) -> f64 {
        self.bounds.x + self.bounds.width / 2.0
    }
}

/// The face the ID photo is about: the largest.
pub fn main_face(faces: &[Face]) -> Option<&Face> {
    faces.iter().max_by(|a, b| a.bounds.height.total_cmp(&b.bounds.height))
}

/// The 35:45 frame the rule puts around `face` in an upright `width`×`height` photo: the head at
/// [`RULE`]`.target_head` of the height, centred, [`RULE`]`.above_crown` above the crown; no
/// larger than the photo, then moved inside it (a head close to an edge is then off the rule,
/// which the hints say).
pub fn frame_on(face: &Face, width: u32, height: u32) -> Rect {
    let (photo_width, photo_height) = (f64::from(width), f64::from(height));
    let ratio = f64::from(OUTPUT_WIDTH) / f64::from(OUTPUT_HEIGHT);
    let head = face.head();
    let frame_height = (head.height / RULE.target_head).min(photo_height).min(photo_width / ratio);
    let frame_width = frame_height * ratio;
    let x = (face.centre_x() - frame_width / 2.0).clamp(0.0, photo_width - frame_width);
    let y = (head.y - RULE.above_crown * frame_height).clamp(0.0, photo_height - frame_height);
    Rect { x, y, width: frame_width, height: frame_height }
}

/// Finds the faces in `area` (pixels of the upright photo at full resolution, `upright` its size)
/// of the decoded `pixels`, stored in `orientation`.
pub(super) fn find(
    pixels: &Pixels,
    orientation: Orientation,
    upright: (u32, u32),
    area: Rect,
) -> Result<Vec<Face>, PhotoError> {
    let (grey, width, height) = upright_grey(pixels, orientation, upright, area)?;
    let (to_x, to_y) = (area.width / f64::from(width), area.height / f64::from(height));
    Ok(detect(&grey, width, height)
        .into_iter()
        .map(|(b, score)| Face {
            bounds: Rect {
                x: area.x + b.x * to_x,
                y: area.y + b.y * to_y,
                width: b.width * to_x,
                height: b.height * to_y,
            },
            score,
        })
        .collect())
}

/// The detector's input: an upright grey copy of `area` (as for [`find`]), its width and height.
pub(super) fn upright_grey(
    pixels: &Pixels,
    orientation: Orientation,
    upright: (u32, u32),
    area: Rect,
) -> Result<(Vec<u8>, u32, u32), PhotoError> {
    let stored = orientation.stored_size(upright.0, upright.1);
    let on_buffer = pixels.map(orientation.to_stored(area, stored.0, stored.1));
    let (grey, stored_width, stored_height) = grey_copy(pixels, on_buffer)?;
    let (width, height) = orientation.upright_size(stored_width, stored_height);
    Ok((orientation.apply(&grey, 1, stored_width, stored_height), width, height))
}

/// A grey copy of `area` (pixels of the buffer) at most [`DETECTION`]`.max_side` on its longer
/// side: resized from the decoded pixels in their own type, then turned to luma, so that no grey
/// copy of the whole decoded image ever exists.
fn grey_copy(pixels: &Pixels, area: Rect) -> Result<(Vec<u8>, u32, u32), PhotoError> {
    let internal = |e: fast_image_resize::ResizeError| PhotoError::Internal(e.to_string());
    let (src_width, src_height) = (f64::from(pixels.width), f64::from(pixels.height));
    let left = area.x.clamp(0.0, src_width);
    let top = area.y.clamp(0.0, src_height);
    let area_width = area.width.min(src_width - left).max(1.0);
    let area_height = area.height.min(src_height - top).max(1.0);
    let scale = (f64::from(DETECTION.max_side) / area_width.max(area_height)).min(1.0);
    let width = ((area_width * scale).round() as u32).max(1);
    let height = ((area_height * scale).round() as u32).max(1);
    let src = ImageRef::new(pixels.width, pixels.height, &pixels.data, pixels.pixel_type())
        .map_err(|e| PhotoError::Internal(e.to_string()))?;
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .use_alpha(false)
        .crop(left, top, area_width, area_height);
    let mut dst = Image::new(width, height, pixels.pixel_type());
    Resizer::new().resize(&src, &mut dst, &options).map_err(internal)?;
    let data = dst.into_vec();
    // The detector needs contrast, not exact colour: the pixels' own space serves, and CMYK
    // inks are turned to RGB without their profile.
    let grey = match pixels.model {
        Model::Grey => data,
        Model::Rgb => data.chunks_exact(3).map(luma).collect(),
        Model::Rgbx => data.chunks_exact(4).map(luma).collect(),
        Model::Cmyk => data.chunks_exact(4).map(|inks| luma(&naive_cmyk(inks))).collect(),
    };
    Ok((grey, width, height))
}

/// Rec. 601 luma of an RGB pixel (any fourth byte ignored), in integers.
pub(super) fn luma(rgb: &[u8]) -> u8 {
    let [r, g, b] = [rgb[0], rgb[1], rgb[2]].map(u32::from);
    ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8
}

/// Runs the detector on an upright grey image; boxes in its pixels, with their scores.
pub fn detect(grey: &[u8], width: u32, height: u32) -> Vec<(Rect, f64)> {
    // rustface walks its window from 0 to `side - window` in unsigned arithmetic.
    if width < DETECTION.window || height < DETECTION.window {
        return Vec::new();
    }
    // One detector per call, from a copy of the model: `Detector::detect` takes `&mut self` and the
    // boxed detector is not `Send`, so a shared one would need a lock around every photo; the copy
    // costs a fraction of a millisecond (a thread-local detector, the alternative, would keep a
    // model per blocking thread alive for the process's life).
    let mut detector = rustface::create_detector_with_model(load_model().clone());
    detector.set_min_face_size(DETECTION.window);
    detector.set_score_thresh(DETECTION.min_score);
    detector.set_pyramid_scale_factor(DETECTION.pyramid_step);
    detector.set_slide_window_step(DETECTION.slide_step, DETECTION.slide_step);
    let image = rustface::ImageData::new(grey, width, height);
    detector
        .detect(&image)
        .into_iter()
        .map(|face| {
            let b = face.bbox();
            let rect = Rect {
                x: f64::from(b.x()),
                y: f64::from(b.y()),
                width: f64::from(b.width()),
                height: f64::from(b.height()),
            };
            (rect, face.score())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f64, y: f64, side: f64) -> Face {
        Face { bounds: Rect { x, y, width: side, height: side }, score: 10.0 }
    }

    // The vendored model reads, and reading it twice gives the same model.
    #[test]
    fn model_reads_once() {
        let first = load_model() as *const rustface::Model;
        assert_eq!(first, load_model() as *const rustface::Model);
    }

    // A grey image without a face, and one narrower than the window, give no face.
    #[test]
    fn no_face_in_flat_or_tiny_images() {
        assert!(detect(&vec![128; 200 * 150], 200, 150).is_empty());
        assert!(detect(&vec![128; 39 * 400], 39, 400).is_empty());
    }

    // In a large photo the frame puts the head at the target share, centred, the crown margin above.
    #[test]
    fn frame_follows_the_rule() {
        let f = face(1000.0, 900.0, 600.0);
        let frame = frame_on(&f, 3024, 4032);
        let head = f.head();
        assert!((head.height / frame.height - RULE.target_head).abs() < 1e-9, "{frame:?}");
        assert!((frame.x + frame.width / 2.0 - 1300.0).abs() < 1e-9, "{frame:?}");
        assert!((head.y - frame.y - RULE.above_crown * frame.height).abs() < 1e-9, "{frame:?}");
        assert!((frame.width / frame.height - 413.0 / 531.0).abs() < 1e-9);
        let eyes = f.bounds.y + 0.3 * f.bounds.height;
        assert!(eyes < frame.y + frame.height / 2.0, "eyes in the upper half");
    }

    // A head near an edge, or too large for the photo, gives a frame inside the photo.
    #[test]
    fn frame_stays_inside_the_photo() {
        let cases = [
            ("top left", face(0.0, 0.0, 400.0), (3000, 4000)),
            ("bottom right", face(2700.0, 3800.0, 300.0), (3000, 4000)),
            ("larger than the photo", face(100.0, 100.0, 900.0), (1000, 1000)),
        ];
        for (name, f, (w, h)) in cases {
            let frame = frame_on(&f, w, h);
            assert!(frame.x >= 0.0 && frame.y >= 0.0, "{name}: {frame:?}");
            assert!(frame.x + frame.width <= f64::from(w) + 1e-9, "{name}: {frame:?}");
            assert!(frame.y + frame.height <= f64::from(h) + 1e-9, "{name}: {frame:?}");
        }
    }

    // The largest face is the main one.
    #[test]
    fn main_face_is_the_largest() {
        let faces = [face(0.0, 0.0, 50.0), face(100.0, 0.0, 80.0), face(200.0, 0.0, 60.0)];
        assert_eq!(main_face(&faces).map(|f| f.bounds.x), Some(100.0));
        assert!(main_face(&[]).is_none());
    }
}
