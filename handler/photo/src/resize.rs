//! Crop and resize in one pass with `fast_image_resize` (SIMD convolution, Lanczos3 filter), in
//! the decoded samples (grey, RGB, RGB and a byte, CMYK inks): the small result is then turned to
//! sRGB ([`super::colour`]). The decoders have already laid any transparency on a white
//! background (the colour an ID photo's background should have anyway): resizing with alpha
//! would make the resizer premultiply a copy of the whole source first.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};

use super::PhotoError;
use super::decode::Pixels;
use super::geometry::Rect;

fn internal(e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Internal(e.to_string())
}

/// Resizes the `area` of `pixels` (fractional coordinates allowed) to `width`×`height`, in the
/// same samples (`pixels.model`), tightly packed.
pub(super) fn crop_resize(
    pixels: &Pixels,
    area: Rect,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, PhotoError> {
    let src =
        ImageRef::new(pixels.width, pixels.height, &pixels.data, pixels.pixel_type()).map_err(internal)?;
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
    let mut dst = Image::new(width, height, pixels.pixel_type());
    Resizer::new().resize(&src, &mut dst, &options).map_err(internal)?;
    Ok(dst.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::Model;

    fn uniform(pixel: &[u8], model: Model, width: u32, height: u32) -> Pixels {
        let data = pixel.repeat((width * height) as usize);
        Pixels { data, width, height, model, scale: 1.0, origin: (0.0, 0.0) }
    }

    // Each decoded model keeps its samples, unchanged on a flat image, at the requested size.
    #[test]
    fn keeps_every_model_samples() {
        let cases: [(&str, &[u8], Model); 4] = [
            ("grey", &[90], Model::Grey),
            ("rgb", &[10, 20, 30], Model::Rgb),
            // Transparency is the decoders' to lay on white: the fourth byte is resized alike.
            ("rgbx", &[10, 20, 30, 0], Model::Rgbx),
            ("cmyk", &[200, 10, 0, 40], Model::Cmyk),
        ];
        for (name, pixel, model) in cases {
            let src = uniform(pixel, model, 40, 50);
            let area = Rect { x: 5.5, y: 3.0, width: 20.0, height: 30.0 };
            let resized = crop_resize(&src, area, 7, 9).unwrap();
            assert_eq!(resized, pixel.repeat(7 * 9), "{name}");
        }
    }

    // An area overshooting the image by a rounding error is clamped rather than refused.
    #[test]
    fn clamps_overshooting_area() {
        let src = uniform(&[1, 2, 3], Model::Rgb, 10, 10);
        let area = Rect { x: -1e-9, y: 2.0, width: 10.000001, height: 8.000001 };
        assert_eq!(crop_resize(&src, area, 4, 4).unwrap(), [1, 2, 3].repeat(16));
    }
}
