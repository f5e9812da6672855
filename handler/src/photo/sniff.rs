//! Recognises the image format from its first bytes, never from the file name or the declared
//! type, which browsers and students get wrong (a `.jpg` that is really HEIC is common).

use super::{PhotoError, SourceFormat};

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";

/// ISO-BMFF brands of HEIF still images and sequences, HEVC-coded or generic (`mif1`, `msf1`):
/// what iPhones and many Android phones write.
const HEIF_BRANDS: [&[u8; 4]; 10] =
    [b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1"];
/// AVIF shares the HEIF container (and often lists `mif1`), but it is not what iPhones write, so
/// the HEIC advice would mislead: it is answered as an unsupported format.
const AVIF_BRANDS: [&[u8; 4]; 2] = [b"avif", b"avis"];

/// Returns the accepted format, [`PhotoError::Heic`] for HEIF/HEIC, or
/// [`PhotoError::Unsupported`] for anything else.
pub(super) fn sniff(bytes: &[u8]) -> Result<SourceFormat, PhotoError> {
    if bytes.starts_with(JPEG_MAGIC) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(PNG_MAGIC) {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(SourceFormat::WebP);
    }
    let brands = ftyp_brands(bytes);
    if brands.iter().any(|b| AVIF_BRANDS.contains(b)) {
        return Err(PhotoError::Unsupported);
    }
    if brands.iter().any(|b| HEIF_BRANDS.contains(b)) {
        return Err(PhotoError::Heic);
    }
    Err(PhotoError::Unsupported)
}

/// The major and compatible brands of a leading ISO-BMFF `ftyp` box, or nothing when the bytes
/// do not start with one.
fn ftyp_brands(bytes: &[u8]) -> Vec<&[u8; 4]> {
    if bytes.len() < 16 || &bytes[4..8] != b"ftyp" {
        return Vec::new();
    }
    let declared = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    let end = declared.clamp(16, bytes.len());
    // Layout: size, `ftyp`, major brand, minor version, then compatible brands to the box end.
    let major = bytes[8..12].try_into().ok();
    let compatible = bytes[16..end].chunks_exact(4).filter_map(|c| c.try_into().ok());
    major.into_iter().chain(compatible).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An `ftyp` box with the given major and compatible brands, followed by some payload.
    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len() as u32;
        let mut out = size.to_be_bytes().to_vec();
        out.extend_from_slice(b"ftyp");
        out.extend_from_slice(major);
        out.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            out.extend_from_slice(*brand);
        }
        out.extend_from_slice(b"\0\0\0\x08meta");
        out
    }

    // Each signature maps to its format or error, whatever follows it.
    #[test]
    fn recognises_magic_bytes() {
        let cases: Vec<(&str, Vec<u8>, Result<SourceFormat, &str>)> = vec![
            ("jpeg", b"\xFF\xD8\xFF\xE0rest".to_vec(), Ok(SourceFormat::Jpeg)),
            ("png", b"\x89PNG\r\n\x1a\n\0\0".to_vec(), Ok(SourceFormat::Png)),
            ("webp", b"RIFF\x10\0\0\0WEBPVP8 ".to_vec(), Ok(SourceFormat::WebP)),
            ("heic", ftyp(b"heic", &[b"mif1", b"heic"]), Err("heic")),
            ("heif generic", ftyp(b"mif1", &[b"heic"]), Err("heic")),
            ("heic compatible only", ftyp(b"xxxx", &[b"heix"]), Err("heic")),
            ("avif", ftyp(b"avif", &[b"mif1", b"avif"]), Err("unsupported")),
            ("avif under mif1", ftyp(b"mif1", &[b"avif"]), Err("unsupported")),
            ("mp4 video", ftyp(b"isom", &[b"mp42"]), Err("unsupported")),
            ("riff wave", b"RIFF\x10\0\0\0WAVEfmt ".to_vec(), Err("unsupported")),
            ("gif", b"GIF89a\x01\0\x01\0".to_vec(), Err("unsupported")),
            ("pdf", b"%PDF-1.7\n".to_vec(), Err("unsupported")),
            ("jpeg truncated", b"\xFF\xD8".to_vec(), Err("unsupported")),
            ("empty", Vec::new(), Err("unsupported")),
            ("text", b"hello world, not an image".to_vec(), Err("unsupported")),
        ];
        for (name, bytes, expected) in cases {
            let got = match sniff(&bytes) {
                Ok(format) => Ok(format),
                Err(PhotoError::Heic) => Err("heic"),
                Err(PhotoError::Unsupported) => Err("unsupported"),
                Err(other) => panic!("{name}: unexpected error {other}"),
            };
            assert_eq!(got, expected, "{name}");
        }
    }

    // The iPhone's own HEIC file is recognised as HEIC.
    #[test]
    fn recognises_the_shared_iphone_heic() {
        let path = super::super::tests::shared_photo("phone-iphone13.heic");
        let bytes = std::fs::read(&path).unwrap();
        assert!(matches!(sniff(&bytes), Err(PhotoError::Heic)));
    }

    // A box size pointing past the end of the data does not make the reader go out of bounds.
    #[test]
    fn tolerates_lying_ftyp_size() {
        let mut bytes = ftyp(b"isom", &[b"heic"]);
        bytes[0..4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(sniff(&bytes), Err(PhotoError::Heic)));
        bytes.truncate(16);
        assert!(matches!(sniff(&bytes), Err(PhotoError::Unsupported)));
    }
}
