//! The photo formats the function reads, recognised from the file's first bytes, never from its
//! name or declared type, which browsers and students get wrong (a `.jpg` that is really HEIC is
//! common).
//!
//! The signatures and brands are data ([`FORMATS`]), serialised into the page's contract: the
//! page's script runs the same tables through its own short reader, and the shared case table
//! (`form/tests/cases.toml`) proves that both readers agree.

use serde::Serialize;

/// How many leading bytes are read: the page reads a slice of this size from the chosen file, so
/// the function reads no more, and both see the same `ftyp` brands.
pub const SNIFF_BYTES: usize = 1024;

/// An accepted format, recorded with the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PhotoFormat {
    Jpeg,
    Png,
    WebP,
}

/// What the first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sniffed {
    /// A format the function decodes.
    Accepted(PhotoFormat),
    /// HEIF/HEIC, what iPhones write by default: refused with advice on how to send a JPEG.
    Heic,
    /// Anything else, AVIF included.
    Unsupported,
}

/// Bytes that must appear at an offset.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Magic {
    /// Where the bytes start.
    pub at: usize,
    /// The bytes, as numbers in JSON.
    pub bytes: &'static [u8],
}

/// A format and the magic bytes that all must match.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Signature {
    /// The format these bytes mean.
    pub format: PhotoFormat,
    /// Every one must match.
    pub magic: &'static [Magic],
}

/// The tables the contract carries.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Formats {
    /// See [`SNIFF_BYTES`].
    pub sniff_bytes: usize,
    /// The accepted formats, tried in order.
    pub signatures: &'static [Signature],
    /// ISO-BMFF brands of HEIF still images and sequences, HEVC-coded or generic (`mif1`,
    /// `msf1`): what iPhones and many Android phones write.
    pub heif_brands: &'static [&'static str],
    /// AVIF shares the HEIF container (and often lists `mif1`), but it is not what iPhones write,
    /// so the HEIC advice would mislead: a file with one of these is unsupported, whatever else
    /// it lists.
    pub avif_brands: &'static [&'static str],
}

/// The one copy of the formats' tables.
pub const FORMATS: Formats = Formats {
    sniff_bytes: SNIFF_BYTES,
    signatures: &[
        Signature { format: PhotoFormat::Jpeg, magic: &[Magic { at: 0, bytes: &[0xFF, 0xD8, 0xFF] }] },
        Signature { format: PhotoFormat::Png, magic: &[Magic { at: 0, bytes: b"\x89PNG\r\n\x1a\n" }] },
        Signature {
            format: PhotoFormat::WebP,
            magic: &[Magic { at: 0, bytes: b"RIFF" }, Magic { at: 8, bytes: b"WEBP" }],
        },
    ],
    heif_brands: &["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1"],
    avif_brands: &["avif", "avis"],
};

/// Recognises the format of a file from its first [`SNIFF_BYTES`] bytes.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    let matches = |m: &Magic| head.get(m.at..m.at + m.bytes.len()) == Some(m.bytes);
    if let Some(signature) = FORMATS.signatures.iter().find(|s| s.magic.iter().all(matches)) {
        return Sniffed::Accepted(signature.format);
    }
    let brands = ftyp_brands(head);
    let listed = |table: &[&str]| brands.iter().any(|brand| table.iter().any(|t| t.as_bytes() == *brand));
    if listed(FORMATS.avif_brands) {
        Sniffed::Unsupported
    } else if listed(FORMATS.heif_brands) {
        Sniffed::Heic
    } else {
        Sniffed::Unsupported
    }
}

/// The major and compatible brands of a leading ISO-BMFF `ftyp` box, or nothing when the bytes
/// do not start with one. A box size pointing past the bytes read is cut at their end.
fn ftyp_brands(bytes: &[u8]) -> Vec<&[u8]> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return Vec::new();
    }
    let declared = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = declared.clamp(16, bytes.len());
    // Layout: size, `ftyp`, major brand, minor version, then compatible brands to the box end.
    std::iter::once(&bytes[8..12]).chain(bytes[16..end].chunks_exact(4)).collect()
}
