//! JPEG encoding with `jpeg-encoder`: baseline (sequential, SOF0) so every viewer and the
//! Region's site read it, 4:2:0 chroma, optimised Huffman tables, a JFIF header giving 300 dpi,
//! and nothing else: no EXIF, no ICC profile, no comment.
//!
//! The quality is the highest in [`MIN_QUALITY`]..=[`MAX_QUALITY`] that fits the size budget:
//! [`MAX_QUALITY`] first, since a 413×531 photo nearly always fits (about 100 KB), then a binary
//! search, the size growing with the quality.

use jpeg_encoder::{ColorType, Density, Encoder, SamplingFactor};

use super::PhotoError;

/// Above 95 the file grows quickly for no visible gain.
pub(super) const MAX_QUALITY: u8 = 95;
/// Below 50 blocks show on skin and hair: better to ask for another photo.
pub(super) const MIN_QUALITY: u8 = 50;

/// Encodes tightly packed RGB of `width`×`height` at quality `quality`.
fn encode(rgb: &[u8], width: u16, height: u16, quality: u8) -> Result<Vec<u8>, PhotoError> {
    let mut out = Vec::with_capacity(rgb.len() / 4);
    let mut encoder = Encoder::new(&mut out, quality);
    // jpeg-encoder defaults to 4:4:4 from quality 90 up; 4:2:0 is what every camera writes.
    encoder.set_sampling_factor(SamplingFactor::R_4_2_0);
    encoder.set_optimized_huffman_tables(true);
    encoder.set_density(Density::Inch { x: 300, y: 300 });
    encoder.encode(rgb, width, height, ColorType::Rgb).map_err(|e| PhotoError::Internal(e.to_string()))?;
    Ok(out)
}

/// Encodes at the best quality whose result is at most `max_bytes`, returning the JPEG and the
/// quality used.
pub(super) fn encode_within(
    rgb: &[u8],
    width: u32,
    height: u32,
    max_bytes: usize,
) -> Result<(Vec<u8>, u8), PhotoError> {
    let (width, height) = (
        u16::try_from(width).map_err(|e| PhotoError::Internal(e.to_string()))?,
        u16::try_from(height).map_err(|e| PhotoError::Internal(e.to_string()))?,
    );
    let best = encode(rgb, width, height, MAX_QUALITY)?;
    if best.len() <= max_bytes {
        return Ok((best, MAX_QUALITY));
    }
    let (mut low, mut high) = (MIN_QUALITY, MAX_QUALITY - 1);
    let mut fitting = None;
    while low <= high {
        let quality = low + (high - low) / 2;
        let jpeg = encode(rgb, width, height, quality)?;
        if jpeg.len() <= max_bytes {
            fitting = Some((jpeg, quality));
            low = quality + 1;
        } else if quality == MIN_QUALITY {
            break;
        } else {
            high = quality - 1;
        }
    }
    fitting.ok_or(PhotoError::TooComplex { min_quality: MIN_QUALITY, max_bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u32 = 120;
    const H: u32 = 90;

    /// A smooth gradient: compresses well.
    fn gradient() -> Vec<u8> {
        (0..W * H)
            .flat_map(|i| {
                let (x, y) = (i % W, i / W);
                [(x * 2) as u8, (y * 2) as u8, 128]
            })
            .collect()
    }

    /// Deterministic noise (xorshift): compresses badly.
    fn noise() -> Vec<u8> {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        (0..W * H * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    }

    // An easy image is encoded at the top quality.
    #[test]
    fn easy_image_gets_top_quality() {
        let (jpeg, quality) = encode_within(&gradient(), W, H, 200 * 1024).unwrap();
        assert_eq!(quality, MAX_QUALITY);
        assert!(jpeg.starts_with(&[0xFF, 0xD8]));
    }

    // Under a tight budget the chosen quality fits and the next one up would not.
    #[test]
    fn tight_budget_gets_best_fitting_quality() {
        let rgb = noise();
        let at = |q| encode(&rgb, W as u16, H as u16, q).unwrap().len();
        for budget in [at(60) + 1, at(75), at(94) - 1] {
            let (jpeg, quality) = encode_within(&rgb, W, H, budget).unwrap();
            assert!(jpeg.len() <= budget, "budget {budget}");
            assert!((MIN_QUALITY..MAX_QUALITY).contains(&quality), "budget {budget}");
            assert!(at(quality + 1) > budget, "budget {budget}: quality {quality} not the best");
        }
    }

    // A budget that even the lowest quality cannot meet is refused.
    #[test]
    fn impossible_budget_is_refused() {
        let rgb = noise();
        let floor = encode(&rgb, W as u16, H as u16, MIN_QUALITY).unwrap().len();
        assert!(matches!(
            encode_within(&rgb, W, H, floor - 1),
            Err(PhotoError::TooComplex { min_quality: MIN_QUALITY, .. })
        ));
        let (_, quality) = encode_within(&rgb, W, H, floor).unwrap();
        assert_eq!(quality, MIN_QUALITY);
    }
}
