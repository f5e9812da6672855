//! Crop and resize in one pass with `fast_image_resize` (SIMD convolution, Lanczos3 filter),
//! then conversion to plain RGB: grey is spread to three channels, and the fourth byte of an RGBA
//! buffer dropped. The decoders have already laid any transparency on a white background (the
//! colour an ID photo's background should have anyway): resizing with alpha would make the
//! resizer premultiply a copy of the whole source first.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::PhotoError;
use super::decode::Pixels;
use super::geometry::Rect;

fn internal(e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Internal(e.to_string())
}

/// Resizes the `area` of `pixels` (fractional coordinates allowed) to `width`×`height` and returns
/// tightly packed RGB.
pub(super) fn crop_resize_rgb(
    pixels: &Pixels,
    area: Rect,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, PhotoError> {
    let src =
        ImageRef::new(pixels.width, pixels.height, &pixels.data, pixels.pixel_type).map_err(internal)?;
    // Scaling the frame to a reduced decode can overshoot the last pixel by a rounding error.
    let (src_width, src_height) = (f64::from(pixels.width), f64::from(pixels.height));
    let left = area.x.clamp(0.0, src_width);
    let top = area.y.clamp(0.0, src_height);
    let crop_width = area.width.min(src_width - left);
    let crop_height = area.height.min(src_height - top);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
        .use_alpha(false)
        .crop(left, top, crop_width, crop_height);
    let mut dst = Image::new(width, height, pixels.pixel_type);
    Resizer::new().resize(&src, &mut dst, &options).map_err(internal)?;
    let data = dst.into_vec();
    Ok(match pixels.pixel_type {
        PixelType::U8 => data.iter().flat_map(|&l| [l, l, l]).collect(),
        PixelType::U8x4 => data.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        _ => data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(pixel: &[u8], pixel_type: PixelType, width: u32, height: u32) -> Pixels {
        let data = pixel.repeat((width * height) as usize);
        Pixels { data, width, height, pixel_type, scale: 1.0, origin: (0.0, 0.0) }
    }

    // Each decoded pixel type comes out as the expected RGB colour at the requested size.
    #[test]
    fn converts_every_pixel_type_to_rgb() {
        let cases: [(&str, &[u8], PixelType, [u8; 3]); 4] = [
            ("grey", &[90], PixelType::U8, [90, 90, 90]),
            ("rgb", &[10, 20, 30], PixelType::U8x3, [10, 20, 30]),
            ("opaque rgba", &[10, 20, 30, 255], PixelType::U8x4, [10, 20, 30]),
            // Transparency is the decoders' to lay on white: the fourth byte is ignored.
            ("rgbx", &[10, 20, 30, 0], PixelType::U8x4, [10, 20, 30]),
        ];
        for (name, pixel, pixel_type, expected) in cases {
            let src = uniform(pixel, pixel_type, 40, 50);
            let area = Rect { x: 5.5, y: 3.0, width: 20.0, height: 30.0 };
            let rgb = crop_resize_rgb(&src, area, 7, 9).unwrap();
            assert_eq!(rgb.len(), 7 * 9 * 3, "{name}");
            for p in rgb.chunks(3) {
                assert_eq!(p, expected, "{name}");
            }
        }
    }

    // An area overshooting the image by a rounding error is clamped rather than refused.
    #[test]
    fn clamps_overshooting_area() {
        let src = uniform(&[1, 2, 3], PixelType::U8x3, 10, 10);
        let area = Rect { x: -1e-9, y: 2.0, width: 10.000001, height: 8.000001 };
        assert_eq!(crop_resize_rgb(&src, area, 4, 4).unwrap(), [1, 2, 3].repeat(16));
    }
}
