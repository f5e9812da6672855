//! Walks the structure of a file before any decoder sees it: the segments of a JPEG, the chunks
//! of a PNG, the RIFF chunks of a WebP. One linear pass over the bytes, no allocation but a few
//! small vectors, and it learns everything the memory and CPU bounds need: the frame (size,
//! coding, components and their sampling), how many scans and chunks the decoder will walk, how
//! big the metadata it copies is, whether the image is animated, and where the EXIF block and the
//! ICC profile are (the profile's size bounded here, before anything parses it).
//!
//! The walkers are lenient where the decoders are strict: a truncated or malformed file is
//! described as far as it goes and left for the decoder to refuse as corrupt, so that a file is
//! refused for the first thing wrong with it (a pixel bomb before a missing scan, say). They
//! only refuse what no decoder bounds: too many scans or chunks. Rejected: bounding the work by
//! the file's size (a scan or a chunk can take a few bytes) or inside the decoders (jpeg-decoder,
//! png and image-webp have no hook between their segments).

use std::ops::Range;

use super::PhotoError;
use super::colour::{MAX_PROFILE_BYTES, Profile};

/// Most scans (SOS segments) a JPEG may hold. A progressive scan walks every block of its
/// components even when it carries almost no data (an end-of-band run covers thousands of blocks
/// in a few bits), so the scan count, not the file size, bounds the decoder's work. Phones and
/// libjpeg write 10 scans at most (6 for greyscale), mozjpeg's optimised scripts a dozen;
/// 40 × a 13-megapixel progressive frame is still decoded within the CPU bound.
pub const MAX_SCANS: usize = 40;

/// Most segments (JPEG) or chunks (PNG, WebP) a file may hold before its image data ends. Every
/// part costs the decoder a fixed amount of work and sometimes a small allocation whatever its
/// size, so a file of tiny parts costs far more than its size suggests. An encoder writing one
/// PNG `IDAT` chunk per row of a 13-megapixel image writes a few thousand.
pub const MAX_PARTS: usize = 16_384;

/// A JPEG frame component: its sampling factors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Component {
    pub id: u8,
    pub h: u8,
    pub v: u8,
}

/// What a JPEG holds, as far as it could be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Jpeg<'a> {
    /// The first frame header (SOF), if any: jpeg-decoder refuses a second one.
    pub frame: Option<Frame>,
    /// Scans (SOS segments) before the end of the image.
    pub scans: usize,
    /// Per frame component, whether some scan completes it (every coefficient with full
    /// precision): jpeg-decoder makes a component's plane as soon as it is complete, and copies
    /// the coefficients of the others once more at the end of a progressive image.
    pub complete: Vec<bool>,
    /// Bytes of the APP1, APP2 and APP13 payloads, which jpeg-decoder copies (EXIF, XMP, ICC
    /// profile chunks, Photoshop resources); the ICC chunks accumulate.
    pub metadata_bytes: usize,
    /// The TIFF block of the first APP1 `Exif` segment.
    pub exif: Option<&'a [u8]>,
    /// The ICC profile of the APP2 `ICC_PROFILE` chunks.
    pub profile: Profile<'a>,
}

/// A JPEG frame header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame {
    /// The SOF marker's low nibble: 0 and 1 sequential, 2 progressive, 3 lossless, 9 and up
    /// arithmetic coding.
    pub process: u8,
    pub precision: u8,
    pub width: u16,
    pub height: u16,
    pub components: Vec<Component>,
}

impl Frame {
    pub fn is_progressive(&self) -> bool {
        self.process == 2
    }
}

fn be16(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le32(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn le24(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at + 3)?;
    Some(u32::from(b[0]) | u32::from(b[1]) << 8 | u32::from(b[2]) << 16)
}

fn too_many_parts(count: usize) -> PhotoError {
    PhotoError::TooManyParts { count, max: MAX_PARTS }
}

/// The position of the next marker at or after `at`: an 0xFF followed, after any fill bytes,
/// by neither 0x00 (a stuffed byte) nor a restart marker. This is how jpeg-decoder finds the end
/// of entropy-coded data and skips stray bytes between segments.
fn next_marker(bytes: &[u8], mut at: usize) -> Option<(usize, u8)> {
    loop {
        at += bytes.get(at..)?.iter().position(|&b| b == 0xFF)?;
        let mut code_at = at + 1;
        while *bytes.get(code_at)? == 0xFF {
            code_at += 1;
        }
        match bytes[code_at] {
            0x00 | 0xD0..=0xD7 => at = code_at + 1,
            code => return Some((code_at + 1, code)),
        }
    }
}

/// Walks a JPEG's segments up to its end-of-image marker, refusing more than [`MAX_SCANS`] scans
/// or [`MAX_PARTS`] segments.
pub(super) fn jpeg(bytes: &[u8]) -> Result<Jpeg<'_>, PhotoError> {
    let mut walk = Jpeg::default();
    let mut icc_chunks = Vec::new();
    let mut completed_bits: Vec<u64> = Vec::new();
    let mut segments = 0;
    let mut at = 2; // after SOI
    while let Some((after, code)) = next_marker(bytes, at) {
        if code == 0xD9 {
            break;
        }
        // SOI, TEM and the reserved markers stand alone; jpeg-decoder refuses them.
        if code == 0xD8 || code == 0x01 {
            at = after;
            continue;
        }
        segments += 1;
        if segments > MAX_PARTS {
            return Err(too_many_parts(segments));
        }
        let Some(length) = be16(bytes, after).map(usize::from) else { break };
        let end = (after + length).min(bytes.len());
        let payload = &bytes[(after + 2).min(end)..end];
        match code {
            0xC0..=0xCF if ![0xC4, 0xC8, 0xCC].contains(&code) && walk.frame.is_none() => {
                walk.frame = parse_sof(code & 0x0F, payload);
                let count = walk.frame.as_ref().map_or(0, |f| f.components.len());
                completed_bits = vec![0; count];
            }
            0xDA => {
                walk.scans += 1;
                if walk.scans > MAX_SCANS {
                    return Err(PhotoError::TooManyScans { scans: walk.scans, max: MAX_SCANS });
                }
                if let Some(frame) = &walk.frame {
                    mark_completed(frame, payload, &mut completed_bits);
                }
            }
            0xE1 | 0xE2 | 0xED => {
                walk.metadata_bytes += payload.len();
                if code == 0xE1 && walk.exif.is_none() {
                    walk.exif = payload.strip_prefix(b"Exif\0\0");
                }
                if code == 0xE2
                    && let Some(chunk) = payload.strip_prefix(b"ICC_PROFILE\0")
                {
                    icc_chunks.push(chunk);
                }
            }
            _ => {}
        }
        at = end;
    }
    walk.complete = completed_bits.iter().map(|&bits| bits == u64::MAX).collect();
    walk.profile = jpeg_profile(&icc_chunks);
    Ok(walk)
}

/// Joins the `ICC_PROFILE` chunks (each a sequence number from 1, the chunk count, then its part
/// of the profile) as ICC.1 Annex B.4 and jpeg-decoder's `icc_profile` do: every number from 1 to
/// the count exactly once, the count the same in every chunk. The size is checked on the parts'
/// lengths, before any byte is copied.
fn jpeg_profile<'a>(chunks: &[&'a [u8]]) -> Profile<'a> {
    if chunks.is_empty() {
        return Profile::Absent;
    }
    let mut parts: Vec<Option<&[u8]>> = vec![None; chunks.len()];
    for chunk in chunks {
        let (Some(&sequence), Some(&count)) = (chunk.first(), chunk.get(1)) else {
            return Profile::Unusable("icc chunk without its numbers");
        };
        let slot = usize::from(sequence).checked_sub(1).and_then(|i| parts.get_mut(i));
        match slot {
            Some(slot @ None) if usize::from(count) == chunks.len() => *slot = Some(&chunk[2..]),
            _ => return Profile::Unusable("icc chunks misnumbered"),
        }
    }
    let parts: Vec<&[u8]> = parts.into_iter().flatten().collect();
    if parts.iter().map(|p| p.len()).sum::<usize>() > MAX_PROFILE_BYTES {
        return Profile::Unusable("icc profile above the size bound");
    }
    Profile::Found(parts)
}

fn parse_sof(process: u8, payload: &[u8]) -> Option<Frame> {
    let count = usize::from(*payload.get(5)?);
    let components = (0..count)
        .map(|i| {
            let c = payload.get(6 + 3 * i..9 + 3 * i)?;
            Some(Component { id: c[0], h: c[1] >> 4, v: c[1] & 0x0F })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Frame {
        process,
        precision: payload[0],
        height: be16(payload, 1)?,
        width: be16(payload, 3)?,
        components,
    })
}

/// Records which coefficients of which components a scan completes, the way jpeg-decoder
/// counts them: a sequential scan completes its components, a progressive one the bands it
/// carries at full precision (successive approximation low bit 0).
fn mark_completed(frame: &Frame, payload: &[u8], completed: &mut [u64]) {
    let Some(&count) = payload.first() else { return };
    let count = usize::from(count);
    let Some(tail) = payload.get(1 + 2 * count..4 + 2 * count) else { return };
    let (start, end, low) = (tail[0], tail[1], tail[2] & 0x0F);
    let bands = if frame.is_progressive() {
        if low != 0 || start > end || end > 63 {
            return;
        }
        (start..=end).fold(0u64, |bits, j| bits | 1 << j)
    } else {
        u64::MAX
    };
    for i in 0..count {
        let id = payload[1 + 2 * i];
        if let Some(index) = frame.components.iter().position(|c| c.id == id) {
            completed[index] |= bands;
        }
    }
}

/// What a PNG holds, up to the end of its first image's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Png<'a> {
    pub width: u32,
    pub height: u32,
    pub bit_depth: u8,
    pub color_type: u8,
    pub interlaced: bool,
    /// Bytes of the `eXIf` chunk before the image data, which the png crate copies (it cannot
    /// skip it).
    pub exif_chunk_bytes: usize,
    /// The TIFF block of the `eXIf` chunk.
    pub exif: Option<&'a [u8]>,
}

impl Png<'_> {
    /// Bits per pixel of the stored rows: the depth times the channels of the colour type
    /// (grey, RGB, palette index, grey and alpha, RGBA).
    pub fn bits_per_pixel(&self) -> u32 {
        let channels = match self.color_type {
            0 | 3 => 1,
            2 => 3,
            4 => 2,
            _ => 4,
        };
        u32::from(self.bit_depth) * channels
    }

    /// Grey, with or without alpha: decoded as one channel.
    pub fn is_grey(&self) -> bool {
        matches!(self.color_type, 0 | 4)
    }
}

/// Walks a PNG's chunks up to the end of its first image's data (the default image of an APNG,
/// the only one decoded), refusing more than [`MAX_PARTS`] chunks, then on to the end for an
/// `eXIf` chunk only. `None` when the header chunk is missing or malformed: the decoder then
/// says why.
pub(super) fn png(bytes: &[u8]) -> Result<Option<Png<'_>>, PhotoError> {
    const IHDR_AT: usize = 8;
    if bytes.get(IHDR_AT + 4..IHDR_AT + 8) != Some(b"IHDR") || be32(bytes, IHDR_AT) != Some(13) {
        return Ok(None);
    }
    let ihdr = &bytes[IHDR_AT + 8..(IHDR_AT + 21).min(bytes.len())];
    if ihdr.len() < 13 {
        return Ok(None);
    }
    let mut walk = Png {
        width: be32(ihdr, 0).unwrap_or(0),
        height: be32(ihdr, 4).unwrap_or(0),
        bit_depth: ihdr[8],
        color_type: ihdr[9],
        interlaced: ihdr[12] != 0,
        exif_chunk_bytes: 0,
        exif: None,
    };
    let mut at = IHDR_AT;
    let mut chunks = 0;
    let (mut in_image_data, mut after_image_data) = (false, false);
    while let (Some(length), Some(kind)) = (be32(bytes, at), bytes.get(at + 4..at + 8)) {
        let is_idat = kind == b"IDAT";
        after_image_data |= in_image_data && !is_idat;
        in_image_data = is_idat;
        let data_at = at + 8;
        let end = data_at.saturating_add(length as usize);
        let data = &bytes[data_at.min(bytes.len())..end.min(bytes.len())];
        if kind == b"eXIf" && walk.exif.is_none() {
            walk.exif = Some(data.strip_prefix(b"Exif\0\0").unwrap_or(data));
            if !after_image_data {
                walk.exif_chunk_bytes = data.len();
            }
        }
        if kind == b"IEND" {
            break;
        }
        at = end.saturating_add(4);
        // Past the image data only an `eXIf` chunk is looked for (some writers put it there):
        // the decoder never reads that far.
        if after_image_data {
            continue;
        }
        chunks += 1;
        if chunks > MAX_PARTS {
            return Err(too_many_parts(chunks));
        }
        // An APNG frame control before the image data makes the default image a frame of its
        // own size: it must be the whole image, as the APNG specification requires.
        if kind == b"fcTL" && (data.get(4..12) != ihdr.get(0..8) || data.get(12..20) != Some(&[0; 8][..])) {
            return Err(PhotoError::Corrupt("apng frame control not covering the image".into()));
        }
    }
    Ok(Some(walk))
}

/// The image data of a still WebP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum WebPImage {
    /// A `VP8 ` chunk (lossy), with an `ALPH` chunk when the image has transparency.
    Lossy { vp8: Range<usize>, alpha: Option<Range<usize>> },
    /// A `VP8L` chunk (lossless); `alpha` is the header's or `VP8X`'s transparency flag.
    Lossless { vp8l: Range<usize>, alpha: bool },
}

/// What a WebP holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WebP<'a> {
    pub width: u32,
    pub height: u32,
    pub animated: bool,
    /// `None` when the chunks needed are missing or inconsistent: the decoder then says why.
    pub image: Option<WebPImage>,
    /// Where the transparency flag image-webp reads lives, for a lossless image: the `VP8X`
    /// flags byte or the `VP8L` header byte, and the bit.
    pub alpha_flag: Option<(usize, u8)>,
    /// The TIFF block of the `EXIF` chunk.
    pub exif: Option<&'a [u8]>,
    /// The `ICCP` chunk's profile (extended files only).
    pub profile: Profile<'a>,
}

/// Dimensions of a `VP8 ` key frame: after the 3-byte frame tag, the start code and two 14-bit
/// sizes.
fn vp8_size(data: &[u8]) -> Option<(u32, u32)> {
    if data.get(3..6)? != [0x9D, 0x01, 0x2A] || data[0] & 1 != 0 {
        return None;
    }
    let size = |at| Some(u32::from(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?) & 0x3FFF));
    Some((size(6)?, size(8)?))
}

/// Dimensions and transparency hint of a `VP8L` header: a signature byte, then 14 bits of width
/// minus one, 14 of height minus one and the alpha bit, little-endian.
fn vp8l_header(data: &[u8]) -> Option<(u32, u32, bool)> {
    if *data.first()? != 0x2F {
        return None;
    }
    let bits = le32(data, 1)?;
    // Kept as image-webp reads it: the format's 16384 maximum wraps to 0 there.
    Some(((1 + bits) & 0x3FFF, (1 + (bits >> 14)) & 0x3FFF, bits >> 28 & 1 == 1))
}

/// Walks a WebP's RIFF chunks, refusing more than [`MAX_PARTS`]. `None` when the file does not
/// start with a known image chunk: the decoder then says why.
pub(super) fn webp(bytes: &[u8]) -> Result<Option<WebP<'_>>, PhotoError> {
    const FIRST: usize = 12;
    let (Some(kind), Some(length)) = (bytes.get(FIRST..FIRST + 4), le32(bytes, FIRST + 4)) else {
        return Ok(None);
    };
    let data_at = FIRST + 8;
    let chunk = |at: usize, length: u32| at..(at.saturating_add(length as usize)).min(bytes.len());
    let first = chunk(data_at, length);
    let data = &bytes[first.clone()];
    match kind {
        b"VP8 " => {
            let Some((width, height)) = vp8_size(data) else { return Ok(None) };
            let image = Some(WebPImage::Lossy { vp8: first, alpha: None });
            let profile = Profile::Absent;
            Ok(Some(WebP { width, height, animated: false, image, alpha_flag: None, exif: None, profile }))
        }
        b"VP8L" => {
            let Some((width, height, alpha)) = vp8l_header(data) else { return Ok(None) };
            let image = Some(WebPImage::Lossless { vp8l: first, alpha });
            let alpha_flag = Some((data_at + 4, 0x10));
            let profile = Profile::Absent;
            Ok(Some(WebP { width, height, animated: false, image, alpha_flag, exif: None, profile }))
        }
        b"VP8X" => webp_extended(bytes, data, first.end),
        _ => Ok(None),
    }
}

/// Walks the chunks after a `VP8X` header (`header` is its payload, `at` where the next chunk
/// starts).
fn webp_extended<'a>(bytes: &'a [u8], header: &[u8], mut at: usize) -> Result<Option<WebP<'a>>, PhotoError> {
    if header.len() < 10 {
        return Ok(None);
    }
    let flags = header[0];
    let mut walk = WebP {
        width: le24(header, 4).unwrap_or(0) + 1,
        height: le24(header, 7).unwrap_or(0) + 1,
        animated: flags & 0x02 != 0,
        image: None,
        alpha_flag: None,
        exif: None,
        profile: Profile::Absent,
    };
    let (mut alph, mut vp8, mut vp8l) = (None, None, None);
    let mut chunks = 1;
    at += at % 2;
    while let (Some(kind), Some(length)) = (bytes.get(at..at + 4), le32(bytes, at + 4)) {
        chunks += 1;
        if chunks > MAX_PARTS {
            return Err(too_many_parts(chunks));
        }
        let range = at + 8..(at + 8).saturating_add(length as usize).min(bytes.len());
        match kind {
            b"ANIM" | b"ANMF" => walk.animated = true,
            b"ALPH" => alph = alph.or(Some(range.clone())),
            b"VP8 " => vp8 = vp8.or(Some(range.clone())),
            b"VP8L" => vp8l = vp8l.or(Some(range.clone())),
            b"EXIF" => {
                let data = &bytes[range.clone()];
                walk.exif = walk.exif.or(Some(data.strip_prefix(b"Exif\0\0").unwrap_or(data)));
            }
            // The specification puts it right after `VP8X`; the first one is read wherever it is.
            b"ICCP" if walk.profile == Profile::Absent => {
                walk.profile = if length as usize > MAX_PROFILE_BYTES {
                    Profile::Unusable("icc profile above the size bound")
                } else {
                    Profile::Found(vec![&bytes[range.clone()]])
                };
            }
            _ => {}
        }
        at = (at + 8).saturating_add(length as usize).saturating_add(length as usize % 2);
    }
    let size = (walk.width, walk.height);
    walk.image = match (vp8, vp8l) {
        (Some(vp8), None) if vp8_size(&bytes[vp8.clone()]) == Some(size) => {
            Some(WebPImage::Lossy { vp8, alpha: if flags & 0x10 != 0 { alph } else { None } })
        }
        (None, Some(vp8l)) => match vp8l_header(&bytes[vp8l.clone()]) {
            Some((width, height, _)) if (width, height) == size => {
                walk.alpha_flag = Some((FIRST_VP8X_FLAGS, 0x10));
                Some(WebPImage::Lossless { vp8l, alpha: flags & 0x10 != 0 })
            }
            _ => None,
        },
        _ => None,
    };
    Ok(Some(walk))
}

/// Offset of the `VP8X` flags byte: after `RIFF`, the size, `WEBP`, `VP8X` and its size.
const FIRST_VP8X_FLAGS: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
        out.extend([0xFF, marker]);
        out.extend(((payload.len() + 2) as u16).to_be_bytes());
        out.extend(payload);
    }

    /// A JPEG of the given segments after SOI, with entropy-coded bytes after each scan.
    fn jpeg_with(segments: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = vec![0xFF, 0xD8];
        for (marker, payload) in segments {
            segment(&mut out, *marker, payload);
            if *marker == 0xDA {
                // Stuffed 0xFF, a restart marker and fill bytes are all inside the scan.
                out.extend([0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD3, 0x56]);
            }
        }
        out.extend([0xFF, 0xFF, 0xD9]);
        out
    }

    const SOF_420: [u8; 15] = [8, 0, 16, 0, 32, 3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0];

    fn sos(ids: &[u8], ss: u8, se: u8, ahal: u8) -> Vec<u8> {
        let mut p = vec![ids.len() as u8];
        for &id in ids {
            p.extend([id, 0]);
        }
        p.extend([ss, se, ahal]);
        p
    }

    // The walk finds the frame, counts the scans through their entropy-coded data, knows which
    // components a progressive script completes, and finds the EXIF block.
    #[test]
    fn jpeg_walk() {
        let exif = [b"Exif\0\0".as_slice(), b"II*\0"].concat();
        let file = jpeg_with(&[
            (0xE1, exif),
            (0xE2, vec![0; 10]),
            (0xC2, SOF_420.to_vec()),
            (0xDA, sos(&[1, 2, 3], 0, 0, 0)),
            (0xDA, sos(&[1], 1, 63, 0)),
            (0xDA, sos(&[2], 1, 63, 0x01)),
            (0xDA, sos(&[3], 1, 5, 0)),
            (0xDA, sos(&[3], 6, 63, 0)),
        ]);
        let walk = jpeg(&file).unwrap();
        let frame = walk.frame.unwrap();
        assert_eq!((frame.width, frame.height, frame.is_progressive()), (32, 16, true));
        assert_eq!(frame.components.iter().map(|c| (c.h, c.v)).collect::<Vec<_>>(), [(2, 2), (1, 1), (1, 1)]);
        assert_eq!(walk.scans, 5);
        // Luma and Cr have every band at full precision; Cb's AC only at reduced precision.
        assert_eq!(walk.complete, [true, false, true]);
        assert_eq!(walk.metadata_bytes, 10 + 10);
        assert_eq!(walk.exif, Some(&b"II*\0"[..]));

        let sequential = jpeg_with(&[(0xC0, SOF_420.to_vec()), (0xDA, sos(&[1, 2, 3], 0, 63, 0))]);
        assert_eq!(jpeg(&sequential).unwrap().complete, [true, true, true]);
    }

    // Too many scans or segments are refused during the walk; a truncated file is described as
    // far as it goes.
    #[test]
    fn jpeg_limits() {
        let scans: Vec<(u8, Vec<u8>)> = std::iter::once((0xC2, SOF_420.to_vec()))
            .chain(std::iter::repeat_n((0xDA, sos(&[1], 1, 63, 0x10)), MAX_SCANS + 1))
            .collect();
        assert!(matches!(jpeg(&jpeg_with(&scans)), Err(PhotoError::TooManyScans { scans: 41, .. })));
        assert_eq!(jpeg(&jpeg_with(&scans[..MAX_SCANS + 1])).unwrap().scans, MAX_SCANS);
        let comments = vec![(0xFE, Vec::new()); MAX_PARTS + 1];
        assert!(matches!(jpeg(&jpeg_with(&comments)), Err(PhotoError::TooManyParts { .. })));
        let mut cut = jpeg_with(&[(0xC0, SOF_420.to_vec())]);
        cut.truncate(12);
        assert_eq!(jpeg(&cut).unwrap().frame, None);
    }

    /// JPEG segments after SOI: marker and payload.
    type Segments = Vec<(u8, Vec<u8>)>;

    fn icc(sequence: u8, count: u8, part: &[u8]) -> (u8, Vec<u8>) {
        (0xE2, [&b"ICC_PROFILE\0"[..], &[sequence, count], part].concat())
    }

    // The APP2 chunks are joined in their numbered order; misnumbered or oversized ones are set
    // aside, the size judged on the chunks' lengths before anything is copied.
    #[test]
    fn jpeg_icc_profile() {
        // A segment holds at most 64 KiB: 17 of 62,000 bytes are just above the bound.
        let part = vec![0; 62_000];
        let too_large: Vec<_> = (1..=17).map(|i| icc(i, 17, &part)).collect();
        assert!(17 * part.len() > MAX_PROFILE_BYTES && 16 * part.len() <= MAX_PROFILE_BYTES);
        let cases: [(&str, Segments, Profile); 7] = [
            ("none", vec![(0xE2, b"MPF\0".to_vec())], Profile::Absent),
            ("one", vec![icc(1, 1, b"abc")], Profile::Found(vec![b"abc"])),
            (
                "out of order",
                vec![icc(2, 2, b"def"), icc(1, 2, b"abc")],
                Profile::Found(vec![b"abc", b"def"]),
            ),
            (
                "missing one",
                vec![icc(1, 3, b"abc"), icc(2, 3, b"def")],
                Profile::Unusable("icc chunks misnumbered"),
            ),
            (
                "twice the same",
                vec![icc(1, 2, b"abc"), icc(1, 2, b"def")],
                Profile::Unusable("icc chunks misnumbered"),
            ),
            (
                "numbers cut",
                vec![(0xE2, b"ICC_PROFILE\0\x01".to_vec())],
                Profile::Unusable("icc chunk without its numbers"),
            ),
            ("too large", too_large, Profile::Unusable("icc profile above the size bound")),
        ];
        for (name, segments, expected) in cases {
            let file = jpeg_with(&[segments, vec![(0xC0, SOF_420.to_vec())]].concat());
            assert_eq!(jpeg(&file).unwrap().profile, expected, "{name}");
        }
    }

    fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        out.extend([0; 4]);
    }

    fn png_with(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        png_chunk(&mut out, b"IHDR", &[0, 0, 2, 0, 0, 0, 1, 0, 16, 6, 0, 0, 1]);
        for (kind, data) in chunks {
            png_chunk(&mut out, kind, data);
        }
        out
    }

    // The header, the EXIF block (with or without the `Exif` prefix, before or after the image
    // data) and the limits on chunks.
    #[test]
    fn png_walk() {
        let file = png_with(&[(b"eXIf", b"Exif\0\0MM\0*".to_vec()), (b"IDAT", vec![0; 3])]);
        let walk = png(&file).unwrap().unwrap();
        let header = (walk.width, walk.height, walk.bit_depth, walk.color_type, walk.interlaced);
        assert_eq!(header, (512, 256, 16, 6, true));
        assert_eq!((walk.exif, walk.exif_chunk_bytes), (Some(&b"MM\0*"[..]), 10));
        let file = png_with(&[(b"IDAT", vec![0; 3]), (b"eXIf", b"II*\0".to_vec())]);
        let late = png(&file).unwrap().unwrap();
        assert_eq!((late.exif, late.exif_chunk_bytes), (Some(&b"II*\0"[..]), 0));

        let many = vec![(b"IDAT", Vec::new()); MAX_PARTS];
        assert!(matches!(png(&png_with(&many)), Err(PhotoError::TooManyParts { .. })));
        // Chunks after the image data are not the decoder's concern.
        let after = [vec![(b"IDAT", Vec::new())], vec![(b"tEXt", Vec::new()); MAX_PARTS]].concat();
        assert!(png(&png_with(&after)).is_ok());
        let mut frame = 0u32.to_be_bytes().to_vec();
        frame.extend([0, 0, 1, 0, 0, 0, 0, 16]); // 256×16, not the image's size
        frame.extend([0; 14]);
        assert!(matches!(png(&png_with(&[(b"fcTL", frame)])), Err(PhotoError::Corrupt(_))));
        assert_eq!(png(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR").unwrap(), None);
    }

    fn riff(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        for (kind, data) in chunks {
            body.extend(*kind);
            body.extend((data.len() as u32).to_le_bytes());
            body.extend(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        [b"RIFF".as_slice(), &(body.len() as u32).to_le_bytes(), &body].concat()
    }

    fn vp8l(width: u32, height: u32, alpha: bool) -> Vec<u8> {
        let bits = (width - 1) | (height - 1) << 14 | u32::from(alpha) << 28;
        [&[0x2F][..], &bits.to_le_bytes(), &[0; 8]].concat()
    }

    fn vp8(width: u16, height: u16) -> Vec<u8> {
        [&[0x10, 0, 0, 0x9D, 0x01, 0x2A][..], &width.to_le_bytes(), &height.to_le_bytes(), &[0; 8]].concat()
    }

    fn vp8x(flags: u8, width: u32, height: u32) -> Vec<u8> {
        [&[flags, 0, 0, 0][..], &(width - 1).to_le_bytes()[..3], &(height - 1).to_le_bytes()[..3]].concat()
    }

    // Simple and extended files, lossy and lossless, with their alpha, animation and EXIF.
    #[test]
    fn webp_walk() {
        let file = riff(&[(b"VP8L", vp8l(300, 200, true))]);
        let simple = webp(&file).unwrap().unwrap();
        assert_eq!((simple.width, simple.height, simple.animated), (300, 200, false));
        assert!(matches!(simple.image, Some(WebPImage::Lossless { alpha: true, .. })));
        assert_eq!(simple.alpha_flag, Some((24, 0x10)));
        let file = riff(&[(b"VP8 ", vp8(640, 480))]);
        let lossy = webp(&file).unwrap().unwrap();
        assert!(matches!(lossy.image, Some(WebPImage::Lossy { alpha: None, .. })));

        let extended = riff(&[
            (b"VP8X", vp8x(0x18, 640, 480)),
            (b"ALPH", vec![0; 5]),
            (b"VP8 ", vp8(640, 480)),
            (b"EXIF", b"MM\0*x".to_vec()),
        ]);
        let walk = webp(&extended).unwrap().unwrap();
        assert!(matches!(walk.image, Some(WebPImage::Lossy { alpha: Some(_), .. })));
        assert_eq!(walk.exif, Some(&b"MM\0*x"[..]));
        assert_eq!(walk.profile, Profile::Absent);
        let tagged =
            riff(&[(b"VP8X", vp8x(0x20, 640, 480)), (b"ICCP", b"icc".to_vec()), (b"VP8 ", vp8(640, 480))]);
        assert_eq!(webp(&tagged).unwrap().unwrap().profile, Profile::Found(vec![b"icc"]));
        let huge = riff(&[(b"VP8X", vp8x(0x20, 640, 480)), (b"ICCP", vec![0; MAX_PROFILE_BYTES + 1])]);
        assert_eq!(
            webp(&huge).unwrap().unwrap().profile,
            Profile::Unusable("icc profile above the size bound")
        );
        let lossless = riff(&[(b"VP8X", vp8x(0x00, 640, 480)), (b"VP8L", vp8l(640, 480, true))]);
        let walk = webp(&lossless).unwrap().unwrap();
        assert!(matches!(walk.image, Some(WebPImage::Lossless { alpha: false, .. })));
        assert_eq!(walk.alpha_flag, Some((20, 0x10)));
        // The canvas and the image must agree.
        let inconsistent = riff(&[(b"VP8X", vp8x(0, 640, 480)), (b"VP8L", vp8l(64, 48, false))]);
        assert_eq!(webp(&inconsistent).unwrap().unwrap().image, None);
        let animated = riff(&[(b"VP8X", vp8x(0x02, 64, 48)), (b"ANIM", vec![0; 6]), (b"ANMF", vec![0; 16])]);
        assert!(webp(&animated).unwrap().unwrap().animated);
        let many = [vec![(b"VP8X", vp8x(0, 64, 48))], vec![(b"XYZW", Vec::new()); MAX_PARTS]].concat();
        assert!(matches!(webp(&riff(&many)), Err(PhotoError::TooManyParts { .. })));
        assert_eq!(webp(&riff(&[(b"VP8 ", vec![0; 4])])).unwrap(), None);
    }
}
