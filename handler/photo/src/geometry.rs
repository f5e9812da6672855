//! Geometry of the photo: the EXIF orientation (how the stored pixels must be turned to be
//! upright) and the 35:45 frame, chosen in upright full-resolution pixels and mapped back to
//! stored pixels so the big decoded image never has to be rotated, only the small result.

use form::Crop;
pub(super) use form::framing::Rect;
use form::framing::{FRAMING, fit};

use super::PhotoError;

/// The EXIF orientation, 1 to 8, named after the TIFF specification: the value says which side
/// of the scene the stored first row and first column show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Orientation(u8);

impl Orientation {
    /// Stored pixels are already upright.
    pub const UPRIGHT: Orientation = Orientation(1);

    /// Builds an orientation from its EXIF value; anything outside 1..=8 (0 is common in the wild)
    /// means "as stored".
    pub fn from_value(value: u32) -> Orientation {
        match value {
            1..=8 => Orientation(value as u8),
            _ => Orientation::UPRIGHT,
        }
    }

    /// Reads the orientation from an EXIF block (a TIFF header and its directories, as the
    /// container walkers find it in a JPEG, PNG or WebP file). Missing or broken EXIF is not a
    /// reason to refuse a photo: it then counts as upright.
    ///
    /// Only the first directory is read, in place: kamadak-exif, used before, parses every
    /// directory and copies every entry, which a 4 MB `eXIf` chunk turns into tens of megabytes.
    pub fn from_exif(tiff: &[u8]) -> Orientation {
        Orientation::read_tiff(tiff).map_or(Orientation::UPRIGHT, Orientation::from_value)
    }

    fn read_tiff(tiff: &[u8]) -> Option<u32> {
        let little = match tiff.get(0..2)? {
            b"II" => true,
            b"MM" => false,
            _ => return None,
        };
        let u16_at = |at: usize| -> Option<u16> {
            let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
            Some(if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
        };
        let u32_at = |at: usize| -> Option<u32> {
            let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
            Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
        };
        if u16_at(2)? != 42 {
            return None;
        }
        let directory = u32_at(4)? as usize;
        let entries = u16_at(directory)?;
        // Entries of 12 bytes: tag, type, count, value (inline when it fits in 4 bytes).
        (0..usize::from(entries)).map(|i| directory + 2 + 12 * i).find_map(|entry| {
            if u16_at(entry)? != 0x0112 || u32_at(entry + 4)? == 0 {
                return None;
            }
            match u16_at(entry + 2)? {
                1 => tiff.get(entry + 8).copied().map(u32::from),
                3 => u16_at(entry + 8).map(u32::from),
                4 => u32_at(entry + 8),
                _ => None,
            }
        })
    }

    /// Orientations 5 to 8 store the image turned by a quarter: width and height swap.
    pub fn swaps_axes(self) -> bool {
        self.0 >= 5
    }

    /// Size of the upright image from the stored size.
    pub fn upright_size(self, stored_width: u32, stored_height: u32) -> (u32, u32) {
        if self.swaps_axes() { (stored_height, stored_width) } else { (stored_width, stored_height) }
    }

    /// Size of the stored image from the upright size (the same swap, its own inverse).
    pub fn stored_size(self, upright_width: u32, upright_height: u32) -> (u32, u32) {
        self.upright_size(upright_width, upright_height)
    }

    /// The stored pixel shown at upright position `(u, v)`, for a stored image of
    /// `stored_width`×`stored_height`.
    pub(super) fn stored_pixel(self, u: u32, v: u32, stored_width: u32, stored_height: u32) -> (u32, u32) {
        let (last_x, last_y) = (stored_width - 1, stored_height - 1);
        match self.0 {
            2 => (last_x - u, v),
            3 => (last_x - u, last_y - v),
            4 => (u, last_y - v),
            5 => (v, u),
            6 => (v, last_y - u),
            7 => (last_x - v, last_y - u),
            8 => (last_x - v, u),
            _ => (u, v),
        }
    }

    /// Maps a rectangle of the upright image to the stored image of `stored_width`×`stored_height`
    /// (the continuous version of [`Orientation::stored_pixel`], edges rather than pixel centres).
    pub fn to_stored(self, r: Rect, stored_width: u32, stored_height: u32) -> Rect {
        let (sw, sh) = (f64::from(stored_width), f64::from(stored_height));
        let (x, y) = match self.0 {
            2 => (sw - r.x - r.width, r.y),
            3 => (sw - r.x - r.width, sh - r.y - r.height),
            4 => (r.x, sh - r.y - r.height),
            5 => (r.y, r.x),
            6 => (r.y, sh - r.x - r.width),
            7 => (sw - r.y - r.height, sh - r.x - r.width),
            8 => (sw - r.y - r.height, r.x),
            _ => (r.x, r.y),
        };
        let (width, height) = if self.swaps_axes() { (r.height, r.width) } else { (r.width, r.height) };
        Rect { x, y, width, height }
    }

    /// Turns an image of `stored_width`×`stored_height` pixels of `channels` bytes upright.
    pub fn apply(self, pixels: &[u8], channels: usize, stored_width: u32, stored_height: u32) -> Vec<u8> {
        if self == Orientation::UPRIGHT {
            return pixels.to_vec();
        }
        let (upright_width, upright_height) = self.upright_size(stored_width, stored_height);
        let mut out = Vec::with_capacity(pixels.len());
        for v in 0..upright_height {
            for u in 0..upright_width {
                let (x, y) = self.stored_pixel(u, v, stored_width, stored_height);
                let at = (y as usize * stored_width as usize + x as usize) * channels;
                out.extend_from_slice(&pixels[at..at + channels]);
            }
        }
        out
    }
}

/// Chooses the 35:45 frame in upright full-resolution pixels: inside `crop` when the student sent
/// one, else the default frame described on [`super::process`].
///
/// A crop whose shape is not exactly 35:45 (browser rounding, a free-hand selection) is narrowed
/// to the largest 35:45 rectangle centred in it, so it is never stretched. The least size is
/// judged on the frame times `scale`: the pixels it will have in the photo sent (1, but for the
/// preview's reduced copy).
pub(super) fn frame(
    upright_width: u32,
    upright_height: u32,
    crop: Option<Crop>,
    scale: f64,
) -> Result<Rect, PhotoError> {
    let (area, vertical_bias) = match crop {
        None => (Rect::whole(upright_width, upright_height), FRAMING.whole_photo_bias),
        Some(crop) => {
            let inside = u64::from(crop.x) + u64::from(crop.width) <= u64::from(upright_width)
                && u64::from(crop.y) + u64::from(crop.height) <= u64::from(upright_height);
            if !inside {
                return Err(PhotoError::CropOutside { crop, width: upright_width, height: upright_height });
            }
            let area = Rect {
                x: f64::from(crop.x),
                y: f64::from(crop.y),
                width: f64::from(crop.width),
                height: f64::from(crop.height),
            };
            (area, FRAMING.crop_bias)
        }
    };
    // The framing itself is the contract's (`form::framing`), which the page's crop tool opens on.
    let framed = fit(area, vertical_bias);
    if !framed.scaled(scale).is_large_enough() {
        return Err(match crop {
            None => PhotoError::TooSmall { width: upright_width, height: upright_height },
            Some(crop) => PhotoError::CropTooSmall { crop },
        });
    }
    Ok(framed)
}

/// `r` grown by `share` of its width and height on each side (shrunk when `share` is negative),
/// then clamped to a `width`×`height` image.
pub(super) fn widen(r: Rect, share: f64, width: u32, height: u32) -> Rect {
    let (dx, dy) = (r.width * share, r.height * share);
    let x0 = (r.x - dx).max(0.0);
    let y0 = (r.y - dy).max(0.0);
    let x1 = (r.x + r.width + dx).min(f64::from(width));
    let y1 = (r.y + r.height + dy).min(f64::from(height));
    Rect { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: f64, y: f64, width: f64, height: f64) -> Rect {
        Rect { x, y, width, height }
    }

    fn crop(x: u32, y: u32, width: u32, height: u32) -> Option<Crop> {
        Some(Crop { x, y, width, height })
    }

    fn assert_close(got: Rect, expected: Rect, context: &str) {
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6;
        assert!(
            close(got.x, expected.x)
                && close(got.y, expected.y)
                && close(got.width, expected.width)
                && close(got.height, expected.height),
            "{context}: got {got:?}, expected {expected:?}"
        );
    }

    // Widening grows each side by the share and stops at the image's edges; a negative share shrinks.
    #[test]
    fn widen_grows_and_clamps() {
        let r = rect(100.0, 100.0, 200.0, 400.0);
        assert_close(widen(r, 0.25, 1000, 1000), rect(50.0, 0.0, 300.0, 600.0), "grown, clamped at the top");
        assert_close(widen(r, 0.25, 320, 2000), rect(50.0, 0.0, 270.0, 600.0), "clamped at the right");
        assert_close(widen(r, -0.25, 1000, 1000), rect(150.0, 200.0, 100.0, 200.0), "shrunk");
    }

    // A stored 3×2 image labelled 1..6 comes out upright as the EXIF specification draws it.
    #[test]
    fn apply_turns_each_orientation_upright() {
        // Stored:  1 2 3
        //          4 5 6
        let stored: Vec<u8> = (1..=6).flat_map(|n| [n, n, n]).collect();
        let cases: [(u32, &[u8]); 8] = [
            (1, &[1, 2, 3, 4, 5, 6]),
            (2, &[3, 2, 1, 6, 5, 4]),
            (3, &[6, 5, 4, 3, 2, 1]),
            (4, &[4, 5, 6, 1, 2, 3]),
            (5, &[1, 4, 2, 5, 3, 6]),
            (6, &[4, 1, 5, 2, 6, 3]),
            (7, &[6, 3, 5, 2, 4, 1]),
            (8, &[3, 6, 2, 5, 1, 4]),
        ];
        for (value, expected) in cases {
            let o = Orientation::from_value(value);
            let upright = o.apply(&stored, 3, 3, 2);
            let labels: Vec<u8> = upright.chunks(3).map(|p| p[0]).collect();
            assert_eq!(labels, expected, "orientation {value}");
            // One byte a pixel (the face detector's grey copy) moves the same way.
            let grey: Vec<u8> = (1..=6).collect();
            assert_eq!(o.apply(&grey, 1, 3, 2), expected, "grey, orientation {value}");
            let size = if o.swaps_axes() { (2, 3) } else { (3, 2) };
            assert_eq!(o.upright_size(3, 2), size, "orientation {value}");
        }
    }

    // Mapping a rectangle to stored pixels agrees with where `apply` takes each pixel from.
    #[test]
    fn to_stored_matches_pixel_mapping() {
        let (sw, sh) = (7, 5);
        for value in 1..=8 {
            let o = Orientation::from_value(value);
            let (uw, uh) = o.upright_size(sw, sh);
            for (u, v) in [(0, 0), (uw - 1, 0), (0, uh - 1), (2, 3), (uw - 1, uh - 1)] {
                let (x, y) = o.stored_pixel(u, v, sw, sh);
                let mapped = o.to_stored(rect(f64::from(u), f64::from(v), 1.0, 1.0), sw, sh);
                assert_close(
                    mapped,
                    rect(f64::from(x), f64::from(y), 1.0, 1.0),
                    &format!("orientation {value}, pixel ({u}, {v})"),
                );
            }
            let wide = o.to_stored(rect(1.0, 2.0, 3.0, 1.0), sw, sh);
            let swapped = if o.swaps_axes() { (1.0, 3.0) } else { (3.0, 1.0) };
            assert_eq!((wide.width, wide.height), swapped, "orientation {value}");
        }
    }

    // Out-of-range EXIF values count as upright.
    #[test]
    fn unknown_values_are_upright() {
        for value in [0, 9, 255, u32::MAX] {
            assert_eq!(Orientation::from_value(value), Orientation::UPRIGHT, "{value}");
        }
        assert_eq!(Orientation::from_exif(b"no exif here"), Orientation::UPRIGHT);
    }

    // The orientation tag is found in either byte order and with any integer type; broken
    // blocks count as upright.
    #[test]
    fn reads_the_orientation_tag() {
        fn tiff(little: bool, entries: &[(u16, u16, u32, [u8; 4])]) -> Vec<u8> {
            let u16b = |v: u16| if little { v.to_le_bytes() } else { v.to_be_bytes() };
            let u32b = |v: u32| if little { v.to_le_bytes() } else { v.to_be_bytes() };
            let mut out = if little { b"II".to_vec() } else { b"MM".to_vec() };
            out.extend(u16b(42));
            out.extend(u32b(8));
            out.extend(u16b(entries.len() as u16));
            for &(tag, kind, count, value) in entries {
                out.extend(u16b(tag));
                out.extend(u16b(kind));
                out.extend(u32b(count));
                out.extend(value);
            }
            out.extend([0; 4]);
            out
        }
        let short = |v: u16, little: bool| {
            let b = if little { v.to_le_bytes() } else { v.to_be_bytes() };
            [b[0], b[1], 0, 0]
        };
        let other = (0x010F, 2, 4, *b"Cam\0");
        let cases: Vec<(&str, Vec<u8>, u8)> = vec![
            ("big-endian short", tiff(false, &[other, (0x0112, 3, 1, short(6, false))]), 6),
            ("little-endian short", tiff(true, &[(0x0112, 3, 1, short(8, true))]), 8),
            ("long", tiff(true, &[(0x0112, 4, 1, 3u32.to_le_bytes())]), 3),
            ("byte", tiff(false, &[(0x0112, 1, 1, [5, 0, 0, 0])]), 5),
            ("no tag", tiff(true, &[other]), 1),
            ("zero count", tiff(true, &[(0x0112, 3, 0, short(6, true))]), 1),
            ("ascii type", tiff(true, &[(0x0112, 2, 1, *b"6\0\0\0")]), 1),
            ("out of range", tiff(true, &[(0x0112, 3, 1, short(9, true))]), 1),
        ];
        for (name, block, expected) in cases {
            assert_eq!(Orientation::from_exif(&block), Orientation(expected), "{name}");
            // Cut anywhere, it never reads out of bounds.
            for end in 0..block.len() {
                Orientation::from_exif(&block[..end]);
            }
        }
        let mut lying = tiff(true, &[(0x0112, 3, 1, short(6, true))]);
        lying[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
        assert_eq!(Orientation::from_exif(&lying), Orientation(6), "a count past the end");
        lying[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Orientation::from_exif(&lying), Orientation::UPRIGHT, "a directory past the end");
    }

    // The default and cropped frames have the expected place and the 35:45 shape.
    #[test]
    fn frames() {
        let w45 = |h: f64| h * 413.0 / 531.0;
        let cases = [
            // Landscape: full height, centred horizontally.
            ("landscape", 4032, 3024, None, rect((4032.0 - w45(3024.0)) / 2.0, 0.0, w45(3024.0), 3024.0)),
            // Exactly 35:45: the whole image.
            ("exact", 350, 450, None, rect(0.0, 0.0, 350.0, 450.0)),
            // Tall portrait: full width, a quarter of the spare height above.
            (
                "portrait",
                1080,
                1920,
                None,
                rect(0.0, (1920.0 - 1080.0 * 45.0 / 35.0) / 4.0, 1080.0, 1080.0 * 45.0 / 35.0),
            ),
            // The smallest accepted photo.
            ("minimum", 234, 300, None, rect((234.0 - w45(300.0)) / 2.0, 0.0, w45(300.0), 300.0)),
            // A 35:45 crop is kept as is.
            ("crop exact", 4032, 3024, crop(100, 200, 700, 900), rect(100.0, 200.0, 700.0, 900.0)),
            // A wide crop is narrowed around its centre.
            ("crop wide", 4032, 3024, crop(0, 0, 1000, 900), rect((1000.0 - 700.0) / 2.0, 0.0, 700.0, 900.0)),
            // A tall crop is shortened around its centre.
            ("crop tall", 4032, 3024, crop(0, 0, 700, 1000), rect(0.0, 50.0, 700.0, 900.0)),
            // A crop touching the far corner is inside.
            ("crop corner", 1000, 1000, crop(300, 100, 700, 900), rect(300.0, 100.0, 700.0, 900.0)),
        ];
        for (name, w, h, c, expected) in cases {
            let got = frame(w, h, c, 1.0).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_close(got, expected, name);
            assert!((got.width / got.height - 35.0 / 45.0).abs() < 1e-9, "{name}: shape");
        }
    }

    // Frames that cannot make a sharp ID photo, and crops outside the image, are refused.
    #[test]
    fn refused_frames() {
        let cases = [
            ("short image", 400, 299, None, "too small"),
            ("narrow image", 233, 1000, None, "too small"),
            ("tiny image", 1, 1, None, "too small"),
            ("crop past right edge", 1000, 1000, crop(301, 0, 700, 900), "outside"),
            ("crop past bottom edge", 1000, 1000, crop(0, 101, 700, 900), "outside"),
            ("crop overflowing u32", 1000, 1000, crop(u32::MAX, 0, 700, 900), "outside"),
            ("crop too small", 4000, 3000, crop(0, 0, 233, 300), "crop too small"),
            ("crop too flat", 4000, 3000, crop(0, 0, 2000, 299), "crop too small"),
            ("crop zero", 4000, 3000, crop(0, 0, 0, 0), "crop too small"),
        ];
        for (name, w, h, c, expected) in cases {
            let got = match frame(w, h, c, 1.0) {
                Err(PhotoError::TooSmall { width, height }) => {
                    assert_eq!((width, height), (w, h), "{name}");
                    "too small"
                }
                Err(PhotoError::CropOutside { width, height, .. }) => {
                    assert_eq!((width, height), (w, h), "{name}");
                    "outside"
                }
                Err(PhotoError::CropTooSmall { .. }) => "crop too small",
                other => panic!("{name}: unexpected {other:?}"),
            };
            assert_eq!(got, expected, "{name}");
        }
    }

    // The preview's reduced copy is judged at the size the request will send: a copy half as
    // large as a 400×600 photo passes, the same pixels sent as they are do not.
    #[test]
    fn least_size_at_the_sent_scale() {
        assert!(frame(200, 300, None, 2.0).is_ok());
        assert!(matches!(frame(200, 300, None, 1.0), Err(PhotoError::TooSmall { .. })));
        assert!(frame(200, 300, crop(0, 0, 120, 155), 2.0).is_ok());
        assert!(matches!(frame(200, 300, crop(0, 0, 120, 155), 1.0), Err(PhotoError::CropTooSmall { .. })));
    }
}
