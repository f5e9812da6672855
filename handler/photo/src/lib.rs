//! The ID-photo pipeline: turns the bytes a student uploaded into a compliant ID photo, a
//! 413×531 baseline JPEG (35×45 mm at 300 dpi) of at most 200 KB with no metadata at all.
//!
//! A pure function on bytes, so the handler can call it on a worker thread and the tests and the
//! `photo` benchmark CLI can call it without any HTTP or S3 around; a crate of its own rather
//! than a module of the handler for its build profile (the workspace's `Cargo.toml` says why).
//! The steps, in order, each refusing as early and as cheaply as possible:
//!
//! 1. recognise the format from the magic bytes only (the contract's [`form::format::sniff`],
//!    which the page runs too): JPEG, PNG and WebP are accepted, HEIC gets its own error so the
//!    student learns how to send a JPEG;
//! 2. walk the file's structure and read its header only ([`container`]), refusing files of
//!    too many scans or chunks, animations, decompression bombs and images too small for an ID
//!    photo;
//! 3. read the EXIF orientation and choose the 35:45 frame in upright full-resolution pixels,
//!    either inside the student's crop or by default ([`geometry`]);
//! 4. choose how much to reduce while decoding, from what the frame needs and what the memory
//!    budget allows ([`budget`]), or refuse: [`MEMORY_BUDGET`] holds by construction;
//! 5. decode only what the face detection and the frame need (the whole photo, or the student's
//!    crop with a margin): a JPEG at 1/2, 1/4 or 1/8 scale in the DCT domain, a PNG or lossy WebP
//!    row by row, box-reduced ([`shrink`]), so a 12-megapixel photo is never decoded in full
//!    ([`decode`]);
//! 6. find the faces on a small grey copy of those pixels and, without a crop, put the frame on
//!    the main face by the ID-photo rule ([`face`]);
//! 7. crop and resize with a Lanczos3 filter in the stored orientation, in the decoded colour
//!    space, turn the small result to sRGB through the file's ICC profile ([`colour`]), then
//!    upright (both cheaper on the small result than on the big decoded image) ([`resize`]);
//! 8. measure the light and sharpness of the face on that result and draw the hints ([`hints`]);
//! 9. encode a baseline 4:2:0 JPEG at the best quality that fits the size budget, with no
//!    profile: it is sRGB ([`encode`]).
//!
//! CPU is bounded by the pixel bounds below (every decoder's work grows with the pixels it
//! walks), the scan and chunk counts ([`container`]) and, for lossless WebP, the symbols its
//! header may take to read ([`vp8l`]): any file up to the request body limit is answered within
//! two seconds of CPU ([`CPU_BOUND`], `handler/tests/photo_bounds.rs`).

mod budget;
mod colour;
mod container;
mod decode;
mod encode;
pub mod face;
mod geometry;
pub mod hints;
mod resize;
mod shrink;
#[cfg(test)]
mod tests;
mod vp8l;

/// The CPU any file up to the body limit may take, which `handler/tests/photo_bounds.rs` proves and the
/// function's timeout counts on (the handler's `app::FUNCTION_TIMEOUT`).
pub const CPU_BOUND: std::time::Duration = std::time::Duration::from_secs(2);

pub use container::{MAX_PARTS, MAX_SCANS};

use form::Crop;
use form::format::Sniffed;
use serde::Serialize;

pub use form::framing::Rect;
pub use hints::Hint;

// The output's size and budget and the least frame are the contract's: the page checks and
// names the same ones.
pub use form::limits::{MAX_OUTPUT_BYTES, MIN_FRAME_HEIGHT, MIN_FRAME_WIDTH, OUTPUT_HEIGHT, OUTPUT_WIDTH};

/// Pixel bound for images decoded at reduced size (baseline JPEG): 50 MP is above any phone or
/// camera a student owns (a 48 MP phone sensor is binned to 12 MP). A bound on work (every block
/// is still entropy-decoded); memory is [`MEMORY_BUDGET`]'s, which chooses the reduction.
pub const MAX_PIXELS: u64 = 50_000_000;
/// Pixel bound for images whose decoder walks or keeps every pixel (PNG, WebP, progressive JPEG,
/// whose decoder keeps every coefficient): a 12 MP phone photo (4032×3024) still passes. A bound
/// on work as much as on memory, which [`MEMORY_BUDGET`] bounds on its own: a progressive 4:4:4
/// or CMYK JPEG, or a WebP with transparency, is refused below it when it would not fit.
pub const MAX_FULL_DECODE_PIXELS: u64 = 13_000_000;

/// Most bytes the pipeline may allocate for one photo, whatever the file (up to the request body
/// limit): half of a 128 MB Lambda, the rest being the runtime, the request and the response.
pub const MEMORY_BUDGET: usize = 64 << 20;

/// The format of the uploaded file, recorded with the request: the contract's, under the name
/// the pipeline has always used for it.
pub use form::format::PhotoFormat as SourceFormat;

/// The finished ID photo and what the record keeps about the original.
#[derive(Debug, Clone)]
pub struct IdPhoto {
    /// The baseline JPEG, 413×531, without any metadata.
    pub jpeg: Vec<u8>,
    pub source_format: SourceFormat,
    /// Width of the original once upright (EXIF orientation applied).
    pub source_width: u32,
    /// Height of the original once upright (EXIF orientation applied).
    pub source_height: u32,
    /// The face, the frame and the hints.
    pub look: Look,
}

/// What the pipeline saw in a photo: the preview's answer, and what the receipt says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Look {
    /// The face the photo is about, in pixels of the upright photo; `None` when none was found.
    pub face: Option<Rect>,
    /// The 35:45 frame of the ID photo, in the same pixels.
    pub frame: Rect,
    /// What may be wrong, in [`Hint::ALL`]'s order.
    pub hints: Vec<Hint>,
    /// Every face found where the pipeline looked, the subject's included (for the evaluation;
    /// the answers name the subject only).
    #[serde(skip)]
    pub faces: Vec<face::Face>,
    /// The light and sharpness the hints were drawn from (for the evaluation).
    #[serde(skip)]
    pub quality: hints::Quality,
}

/// Why a photo could not be made. `Display` is for developers and logs (no personal data in it);
/// [`PhotoError::message_fr`] is for the student.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("heic/heif image, not decoded")]
    Heic,
    #[error("unsupported file format")]
    Unsupported,
    #[error("image of {width}x{height} pixels is above the bound of {max_pixels} pixels")]
    TooManyPixels { width: u32, height: u32, max_pixels: u64 },
    #[error("image of {width}x{height} pixels cannot hold a {MIN_FRAME_WIDTH}x{MIN_FRAME_HEIGHT} frame")]
    TooSmall { width: u32, height: u32 },
    #[error("corrupt image: {0}")]
    Corrupt(String),
    #[error("crop `{crop}` lies outside the upright {width}x{height} image")]
    CropOutside { crop: Crop, width: u32, height: u32 },
    #[error("crop `{crop}` holds a 35:45 frame smaller than {MIN_FRAME_WIDTH}x{MIN_FRAME_HEIGHT}")]
    CropTooSmall { crop: Crop },
    #[error("decoding the {width}x{height} image for this frame would exceed the memory budget")]
    TooHeavy { width: u32, height: u32 },
    #[error("jpeg with {scans} scans, above the bound of {max}")]
    TooManyScans { scans: usize, max: usize },
    #[error("image file with {count} segments or chunks, above the bound of {max}")]
    TooManyParts { count: usize, max: usize },
    #[error("animated image")]
    Animated,
    #[error("no jpeg quality down to {min_quality} fits in {max_bytes} bytes")]
    TooComplex { min_quality: u8, max_bytes: usize },
    /// The resizer or the encoder refused buffers we built: a bug on our side, never the photo.
    #[error("internal photo pipeline error: {0}")]
    Internal(String),
}

impl PhotoError {
    /// True when the fault is ours, not the student's: the handler answers 5xx rather than 422.
    pub fn is_server_error(&self) -> bool {
        matches!(self, PhotoError::Internal(_))
    }

    /// The French message for the student, saying what to do next: the contract's
    /// `[messages.photo]` (`texts`), which the page shows for the refusals it can tell before
    /// sending.
    pub fn message_fr(&self, texts: &form::PhotoTexts) -> String {
        let size = |template: &str, width: u32, height: u32| {
            form::fill(template, &[("width", &width), ("height", &height)])
        };
        match self {
            PhotoError::Heic => texts.heic.clone(),
            PhotoError::Unsupported => texts.unsupported.clone(),
            PhotoError::TooManyPixels { width, height, max_pixels } => form::fill(
                &texts.too_many_pixels,
                &[("width", width), ("height", height), ("max_megapixels", &(max_pixels / 1_000_000))],
            ),
            PhotoError::TooSmall { width, height } => size(&texts.too_small, *width, *height),
            PhotoError::Corrupt(_) => texts.corrupt.clone(),
            PhotoError::CropOutside { .. } => texts.crop_outside.clone(),
            PhotoError::CropTooSmall { crop } => size(&texts.crop_too_small, crop.width, crop.height),
            PhotoError::TooHeavy { width, height } => size(&texts.too_heavy, *width, *height),
            PhotoError::TooManyScans { .. } => texts.too_many_scans.clone(),
            PhotoError::TooManyParts { .. } => texts.too_many_parts.clone(),
            PhotoError::Animated => texts.animated.clone(),
            PhotoError::TooComplex { .. } => texts.too_complex.clone(),
            PhotoError::Internal(_) => texts.internal.clone(),
        }
    }
}

/// Makes the ID photo from the uploaded bytes, cropped to `crop` (pixels of the upright photo at
/// full resolution) or, without one, to the frame the ID-photo rule puts around the main face
/// ([`face::frame_on`]); with no face found, to the default frame: the largest 35:45 rectangle,
/// centred horizontally, with a quarter of any spare height above it and three quarters below,
/// since faces sit in the upper part of portrait photos.
pub fn process(bytes: &[u8], crop: Option<Crop>) -> Result<IdPhoto, PhotoError> {
    let prepared = prepare(bytes, crop, 1.0)?;
    let (jpeg, _quality) =
        encode::encode_within(&prepared.rgb, OUTPUT_WIDTH, OUTPUT_HEIGHT, MAX_OUTPUT_BYTES)?;
    Ok(IdPhoto {
        jpeg,
        source_format: prepared.source_format,
        source_width: prepared.upright.0,
        source_height: prepared.upright.1,
        look: prepared.look,
    })
}

/// What [`process`] would see in the photo, without encoding it: the preview. `scale` is how many
/// pixels of the photo the page will send one pixel of `bytes` stands for (the page sends a
/// reduced copy), so that sizes are judged on what the request will carry.
pub fn preview(bytes: &[u8], crop: Option<Crop>, scale: f64) -> Result<Look, PhotoError> {
    prepare(bytes, crop, scale).map(|prepared| prepared.look)
}

/// The photo as it will be stored, before encoding.
struct Prepared {
    /// Upright RGB, the output's size.
    rgb: Vec<u8>,
    look: Look,
    source_format: SourceFormat,
    upright: (u32, u32),
}

/// The decoded pixels the faces are looked for in, and what they are measured against.
struct Decoded<'a> {
    pixels: decode::Pixels,
    /// The colour space of `pixels`.
    profile: colour::Profile<'a>,
    orientation: geometry::Orientation,
    /// The upright photo's size.
    upright: (u32, u32),
    /// Where the faces are looked for, in pixels of the upright photo.
    area: Rect,
    /// The frame without a face: the student's, or the default one.
    default: Rect,
    source_format: SourceFormat,
}

/// Steps 1 to 5: the format, the structure, the orientation, the plan and the pixels.
fn decode_photo(bytes: &[u8], crop: Option<Crop>, scale: f64) -> Result<Decoded<'_>, PhotoError> {
    let source_format = match form::format::sniff(bytes) {
        Sniffed::Accepted(format) => format,
        Sniffed::Heic => return Err(PhotoError::Heic),
        Sniffed::Unsupported => return Err(PhotoError::Unsupported),
    };
    let decoder = decode::Decoder::open(source_format, bytes)?;
    let header = decoder.header();
    let pixels = u64::from(header.width) * u64::from(header.height);
    if pixels > header.max_pixels {
        let max_pixels = header.max_pixels;
        return Err(PhotoError::TooManyPixels { width: header.width, height: header.height, max_pixels });
    }

    let orientation = geometry::Orientation::from_exif(decoder.exif().unwrap_or_default());
    let (upright_width, upright_height) = orientation.upright_size(header.width, header.height);
    let to_stored = |r: Rect| orientation.to_stored(r, header.width, header.height);
    let default = geometry::frame(upright_width, upright_height, crop, scale)?;
    let mut area = match crop {
        None => Rect::whole(upright_width, upright_height),
        Some(_) => geometry::widen(default, CROP_MARGIN, upright_width, upright_height),
    };
    let stored_out = orientation.stored_size(OUTPUT_WIDTH, OUTPUT_HEIGHT);
    let plan = match decoder.plan(to_stored(area), to_stored(default), default.height, stored_out) {
        Ok(plan) => plan,
        // A photo whose rows or columns would not all fit (a PNG strip tens of thousands of pixels
        // long) is looked at inside the frame only, as it was decoded before faces were looked for.
        Err(PhotoError::TooHeavy { .. }) if area != default => {
            area = default;
            decoder.plan(to_stored(area), to_stored(default), default.height, stored_out)?
        }
        Err(error) => return Err(error),
    };
    let profile = decoder.profile();
    let pixels = decoder.decode(to_stored(area), plan)?;
    Ok(Decoded {
        pixels,
        profile,
        orientation,
        upright: (upright_width, upright_height),
        area,
        default,
        source_format,
    })
}

/// The grey copy of the whole photo that the face detector walks, its width and height: for the
/// benchmark of the detection alone (`photo --detections`).
pub fn detector_input(bytes: &[u8]) -> Result<(Vec<u8>, u32, u32), PhotoError> {
    let decoded = decode_photo(bytes, None, 1.0)?;
    face::upright_grey(&decoded.pixels, decoded.orientation, decoded.upright, decoded.area)
}

fn prepare(bytes: &[u8], crop: Option<Crop>, scale: f64) -> Result<Prepared, PhotoError> {
    let Decoded { pixels: decoded, profile, orientation, upright, area, default, source_format } =
        decode_photo(bytes, crop, scale)?;
    let (upright_width, upright_height) = upright;
    let stored = orientation.stored_size(upright_width, upright_height);
    let to_stored = |r: Rect| orientation.to_stored(r, stored.0, stored.1);
    let stored_out = orientation.stored_size(OUTPUT_WIDTH, OUTPUT_HEIGHT);
    let faces = face::find(&decoded, orientation, (upright_width, upright_height), area)?;
    // The rule's frame, unless the student chose one or the face is too small for a frame of the
    // least size (the default frame then keeps the photo's own framing; the hint says why).
    let frame = match (crop, face::main_face(&faces)) {
        (None, Some(main)) => Some(face::frame_on(main, upright_width, upright_height))
            .filter(|frame| frame.scaled(scale).is_large_enough())
            .unwrap_or(default),
        _ => default,
    };
    let resized = resize::crop_resize(&decoded, decoded.map(to_stored(frame)), stored_out.0, stored_out.1)?;
    let model = decoded.model;
    drop(decoded);
    let rgb = colour::to_srgb(&resized, model, &profile);
    drop(resized);
    let rgb = orientation.apply(&rgb, 3, stored_out.0, stored_out.1);

    let subject = hints::subject(&faces, frame);
    let to_output = f64::from(OUTPUT_HEIGHT) / frame.height;
    let measured = match subject {
        Some(face) => Rect {
            x: (face.bounds.x - frame.x) * to_output,
            y: (face.bounds.y - frame.y) * to_output,
            width: face.bounds.width * to_output,
            height: face.bounds.height * to_output,
        },
        // Without a face, the middle of the photo, where it should be.
        None => geometry::widen(Rect::whole(OUTPUT_WIDTH, OUTPUT_HEIGHT), -0.25, OUTPUT_WIDTH, OUTPUT_HEIGHT),
    };
    let quality = hints::Quality::measure(&rgb, measured);
    let seen = hints::Seen { faces: &faces, frame, chosen: crop.is_some(), quality, scale };
    let hints = hints::assess(&seen);
    let look = Look { face: subject.map(|face| face.bounds), frame, hints, faces, quality };
    Ok(Prepared { rgb, look, source_format, upright: (upright_width, upright_height) })
}

/// How far around the student's crop the faces are looked for, as a share of its size on each
/// side: enough to find a head the crop cuts.
const CROP_MARGIN: f64 = 0.25;
