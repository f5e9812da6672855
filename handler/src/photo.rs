//! The ID-photo pipeline: turns the bytes a student uploaded into a compliant ID photo, a
//! 413×531 baseline JPEG (35×45 mm at 300 dpi) of at most 200 KB with no metadata at all.
//!
//! A pure function on bytes, so the handler can call it on a worker thread and the tests and the
//! `photo` benchmark CLI can call it without any HTTP or S3 around. The steps, in order, each
//! refusing as early and as cheaply as possible:
//!
//! 1. recognise the format from the magic bytes only ([`sniff`]): JPEG, PNG and WebP are
//!    accepted, HEIC gets its own error so the student learns how to send a JPEG;
//! 2. walk the file's structure and read its header only ([`container`]), refusing files of
//!    too many scans or chunks, animations, decompression bombs and images too small for an ID
//!    photo;
//! 3. read the EXIF orientation and choose the 35:45 frame in upright full-resolution pixels,
//!    either inside the student's crop or by default ([`geometry`]);
//! 4. choose how much to reduce while decoding, from what the frame needs and what the memory
//!    budget allows ([`budget`]), or refuse: [`MEMORY_BUDGET`] holds by construction;
//! 5. decode only what the frame needs: a JPEG at 1/2, 1/4 or 1/8 scale in the DCT domain, a PNG
//!    or lossy WebP row by row, box-reduced ([`shrink`]), so a 12-megapixel photo is never
//!    decoded in full ([`decode`]);
//! 6. crop and resize with a Lanczos3 filter in the stored orientation, then turn the small result
//!    upright (cheaper than rotating the big decoded image) ([`resize`]);
//! 7. encode a baseline 4:2:0 JPEG at the best quality that fits the size budget ([`encode`]).
//!
//! CPU is bounded by the pixel bounds below (every decoder's work grows with the pixels it
//! walks), the scan and chunk counts ([`container`]) and, for lossless WebP, the symbols its
//! header may take to read ([`vp8l`]): any file up to the request body limit is answered within
//! two seconds of CPU (`tests/photo_bounds.rs`).

mod budget;
mod container;
mod decode;
mod encode;
mod geometry;
mod resize;
mod shrink;
mod sniff;
#[cfg(test)]
mod tests;
mod vp8l;

pub use container::{MAX_PARTS, MAX_SCANS};

use form::Crop;
use serde::Serialize;

/// Width of the ID photo: 35 mm at 300 dpi.
pub const OUTPUT_WIDTH: u32 = 413;
/// Height of the ID photo: 45 mm at 300 dpi.
pub const OUTPUT_HEIGHT: u32 = 531;
/// Size budget of the JPEG, far under the Region's 2 MB limit so uploads stay quick on mobile data.
pub const MAX_OUTPUT_BYTES: usize = 200 * 1024;

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

/// Smallest acceptable height of the 35:45 frame, in source pixels. Below 300 px the photo would
/// be enlarged more than 1.77 times and the face becomes a blur of pixels; a 640×480 webcam frame
/// (frame 373×480) still passes. Applies both to the whole photo and to a student's crop.
pub const MIN_FRAME_HEIGHT: u32 = 300;
/// The width that goes with [`MIN_FRAME_HEIGHT`] at 35:45, rounded up (300 × 35 / 45 = 233.3).
pub const MIN_FRAME_WIDTH: u32 = 234;

/// The format of the uploaded file, recorded with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Jpeg,
    Png,
    WebP,
}

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

    /// The French message for the student, saying what to do next.
    pub fn message_fr(&self) -> String {
        match self {
            PhotoError::Heic => "Votre photo est au format HEIC, celui des iPhone, que nous ne \
                 savons pas lire. Envoyez-la en JPEG\u{202f}: sur l’iPhone, ouvrez Réglages > \
                 Appareil photo > Formats et choisissez «\u{202f}Le plus compatible\u{202f}» avant \
                 de reprendre la photo, ou partagez la photo déjà prise en l’exportant au format \
                 JPEG (par exemple en l’envoyant par e-mail), puis choisissez ce fichier."
                .to_owned(),
            PhotoError::Unsupported => "Ce fichier n’est pas une photo que nous savons lire. \
                 Envoyez une photo au format JPEG (celui des appareils photo et de la plupart \
                 des téléphones), PNG ou WebP."
                .to_owned(),
            PhotoError::TooManyPixels { width, height, max_pixels } => format!(
                "Cette image est trop grande ({width} × {height} pixels, la limite est de {} \
                 millions de pixels). Envoyez la photo telle que le téléphone l’a prise, ou une \
                 copie réduite.",
                max_pixels / 1_000_000
            ),
            PhotoError::TooSmall { width, height } => format!(
                "Cette photo est trop petite ({width} × {height} pixels)\u{202f}: une photo \
                 d’identité nette demande au moins {MIN_FRAME_WIDTH} × {MIN_FRAME_HEIGHT} pixels \
                 autour du visage. Envoyez la photo d’origine plutôt qu’une miniature ou une \
                 image reçue par messagerie."
            ),
            PhotoError::Corrupt(_) => "Cette photo est abîmée ou incomplète et nous ne pouvons \
                 pas la lire. Recommencez l’envoi ou choisissez une autre photo."
                .to_owned(),
            PhotoError::CropOutside { .. } => "Le cadrage choisi dépasse les bords de la photo. \
                 Recadrez la photo, ou envoyez le formulaire sans cadrage\u{202f}: nous \
                 centrerons la photo nous-mêmes."
                .to_owned(),
            PhotoError::CropTooSmall { crop } => format!(
                "Le cadre choisi est trop petit ({} × {} pixels)\u{202f}: agrandissez-le autour \
                 du visage pour qu’il mesure au moins {MIN_FRAME_WIDTH} × {MIN_FRAME_HEIGHT} \
                 pixels.",
                crop.width, crop.height
            ),
            PhotoError::TooHeavy { width, height } => format!(
                "Cette photo est trop lourde à préparer ({width} × {height} pixels)\u{202f}: \
                 envoyez-la telle que le téléphone l’a prise, ou une copie réduite. Si vous \
                 l’avez recadrée, agrandissez aussi le cadre autour du visage."
            ),
            PhotoError::TooManyScans { .. } => "Cette photo JPEG est enregistrée en trop de passes \
                 successives pour que nous la lisions. Envoyez la photo telle que le téléphone \
                 l’a prise, ou enregistrez-la de nouveau en JPEG ordinaire."
                .to_owned(),
            PhotoError::TooManyParts { .. } => "Ce fichier est découpé en trop de morceaux pour \
                 une photo. Envoyez la photo telle que le téléphone l’a prise, ou enregistrez-la \
                 de nouveau en JPEG."
                .to_owned(),
            PhotoError::Animated => "Cette image est animée. Envoyez une photo fixe, de \
                 préférence au format JPEG."
                .to_owned(),
            PhotoError::TooComplex { .. } => "Nous n’arrivons pas à faire tenir cette photo \
                 dans 200\u{202f}Ko. Reprenez-la devant un fond uni et clair, comme le demande \
                 une photo d’identité."
                .to_owned(),
            PhotoError::Internal(_) => "Une erreur de notre côté a empêché de préparer la photo. \
                 Réessayez dans quelques minutes."
                .to_owned(),
        }
    }
}

/// Makes the ID photo from the uploaded bytes, cropped to `crop` (pixels of the upright photo at
/// full resolution) or to a default frame: the largest 35:45 rectangle, centred horizontally, with
/// a quarter of any spare height above it and three quarters below, since faces sit in the upper
/// part of portrait photos.
pub fn process(bytes: &[u8], crop: Option<Crop>) -> Result<IdPhoto, PhotoError> {
    let source_format = sniff::sniff(bytes)?;
    let decoder = decode::Decoder::open(source_format, bytes)?;
    let header = decoder.header();
    let pixels = u64::from(header.width) * u64::from(header.height);
    if pixels > header.max_pixels {
        let max_pixels = header.max_pixels;
        return Err(PhotoError::TooManyPixels { width: header.width, height: header.height, max_pixels });
    }

    let orientation = geometry::Orientation::from_exif(decoder.exif().unwrap_or_default());
    let (upright_width, upright_height) = orientation.upright_size(header.width, header.height);
    let frame = geometry::frame(upright_width, upright_height, crop)?;
    let stored_frame = orientation.to_stored(frame, header.width, header.height);
    let stored_out = orientation.stored_size(OUTPUT_WIDTH, OUTPUT_HEIGHT);

    let plan = decoder.plan(stored_frame, frame.height, stored_out)?;
    let decoded = decoder.decode(stored_frame, plan)?;
    let rgb = resize::crop_resize_rgb(&decoded, decoded.map(stored_frame), stored_out.0, stored_out.1)?;
    drop(decoded);
    let upright = orientation.apply_rgb(&rgb, stored_out.0, stored_out.1);
    let (jpeg, _quality) = encode::encode_within(&upright, OUTPUT_WIDTH, OUTPUT_HEIGHT, MAX_OUTPUT_BYTES)?;
    Ok(IdPhoto { jpeg, source_format, source_width: upright_width, source_height: upright_height })
}
