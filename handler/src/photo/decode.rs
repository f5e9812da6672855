//! Decoding in two steps: the header first (dimensions and coding, so bombs are refused before
//! any pixel buffer exists), then the pixels, at reduced size when the format allows it.
//!
//! JPEG goes through `jpeg-decoder`, whose scaled inverse DCT decodes at 1/2, 1/4 or 1/8 size
//! straight from the coefficients (libjpeg's scaled decoding, libvips's shrink-on-load): a 12 MP
//! photo framed for 413×531 is decoded at 1/4, about 0.8 MP, and never exists in full. PNG and
//! WebP have no such shortcut and go through the `image` crate at full size.

use std::io::Cursor;

use fast_image_resize::PixelType;
use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::{DynamicImage, ImageDecoder};
use jpeg_decoder::{CodingProcess, PixelFormat};

use super::{OUTPUT_HEIGHT, PhotoError, SourceFormat};

/// After the DCT-domain reduction, the frame keeps at least this many times the output's pixels,
/// so the Lanczos3 resize still has real detail to work from.
const MIN_RESIZE_FACTOR: f64 = 1.0;

/// A decoder that has read the header and not yet the pixels.
pub(super) struct Decoder<'a> {
    header: Header,
    codec: Codec<'a>,
}

/// The PNG decoder is boxed: it is several times larger than the others.
enum Codec<'a> {
    Jpeg(jpeg_decoder::Decoder<&'a [u8]>, jpeg_decoder::ImageInfo),
    Png(Box<PngDecoder<Cursor<&'a [u8]>>>),
    WebP(WebPDecoder<Cursor<&'a [u8]>>),
}

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    /// Stored width, before any EXIF orientation.
    pub width: u32,
    /// Stored height, before any EXIF orientation.
    pub height: u32,
    /// True when decoding holds a full-size buffer (PNG, WebP, or a progressive JPEG's
    /// coefficients), which calls for a lower pixel bound.
    pub full_decode: bool,
}

/// Decoded pixels, tightly packed rows of `pixel_type`.
pub(super) struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// `U8` (grey), `U8x3` (RGB) or `U8x4` (RGBA, alpha not premultiplied).
    pub pixel_type: PixelType,
    /// Decoded pixels per stored pixel: 1, 1/2, 1/4 or 1/8.
    pub scale: f64,
}

/// The largest DCT-domain reduction (8, 4, 2 or 1) that leaves a frame `frame_height` upright
/// pixels high at least [`MIN_RESIZE_FACTOR`] × the output height.
pub(super) fn reduction_for(frame_height: f64) -> u32 {
    let needed = f64::from(OUTPUT_HEIGHT) * MIN_RESIZE_FACTOR;
    [8, 4, 2].into_iter().find(|&d| frame_height / f64::from(d) >= needed).unwrap_or(1)
}

fn corrupt(e: impl std::fmt::Display) -> PhotoError {
    PhotoError::Corrupt(e.to_string())
}

impl<'a> Decoder<'a> {
    /// Reads the header of `bytes`, already recognised as `format`.
    pub fn open(format: SourceFormat, bytes: &'a [u8]) -> Result<Decoder<'a>, PhotoError> {
        let full_size =
            |codec, (width, height)| Decoder { header: Header { width, height, full_decode: true }, codec };
        match format {
            SourceFormat::Jpeg => {
                let mut decoder = jpeg_decoder::Decoder::new(bytes);
                decoder.read_info().map_err(jpeg_error)?;
                let Some(info) = decoder.info() else {
                    return Err(PhotoError::Corrupt("jpeg without a frame header".into()));
                };
                // Lossless JPEG (medical imaging, never a phone or camera) has no DCT to scale
                // and may hold 16-bit samples: not worth a code path.
                if info.coding_process == CodingProcess::Lossless {
                    return Err(PhotoError::Unsupported);
                }
                Ok(Decoder {
                    header: Header {
                        width: u32::from(info.width),
                        height: u32::from(info.height),
                        full_decode: info.coding_process == CodingProcess::DctProgressive,
                    },
                    codec: Codec::Jpeg(decoder, info),
                })
            }
            SourceFormat::Png => {
                let decoder = PngDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
                let size = decoder.dimensions();
                Ok(full_size(Codec::Png(Box::new(decoder)), size))
            }
            SourceFormat::WebP => {
                let decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
                let size = decoder.dimensions();
                Ok(full_size(Codec::WebP(decoder), size))
            }
        }
    }

    pub fn header(&self) -> Header {
        self.header
    }

    /// Decodes the pixels, a JPEG at 1/`reduction` of its size (`reduction` is 1, 2, 4 or 8);
    /// other formats ignore `reduction`.
    pub fn decode(self, reduction: u32) -> Result<Pixels, PhotoError> {
        match self.codec {
            Codec::Jpeg(decoder, info) => decode_jpeg(decoder, info, reduction),
            Codec::Png(decoder) => decode_full(*decoder),
            Codec::WebP(decoder) => decode_full(decoder),
        }
    }
}

fn jpeg_error(e: jpeg_decoder::Error) -> PhotoError {
    match e {
        // Arithmetic coding, hierarchical mode, 12-bit samples: legal JPEG that no phone writes.
        jpeg_decoder::Error::Unsupported(_) => PhotoError::Unsupported,
        other => corrupt(other),
    }
}

fn decode_jpeg(
    mut decoder: jpeg_decoder::Decoder<&[u8]>,
    info: jpeg_decoder::ImageInfo,
    reduction: u32,
) -> Result<Pixels, PhotoError> {
    // jpeg-decoder picks the smallest scale giving at least the requested size on one axis;
    // asking for exactly the 1/`reduction` size therefore selects that scale.
    let reduced = |len: u16| u32::from(len).div_ceil(reduction);
    let requested = (reduced(info.width), reduced(info.height));
    let (width, height) = decoder.scale(requested.0 as u16, requested.1 as u16).map_err(jpeg_error)?;
    let (width, height) = (u32::from(width), u32::from(height));
    if (width, height) != requested {
        return Err(PhotoError::Internal(format!(
            "jpeg decoder scaled to {width}x{height} instead of {}x{}",
            requested.0, requested.1
        )));
    }
    let data = decoder.decode().map_err(jpeg_error)?;
    let (data, pixel_type) = match info.pixel_format {
        PixelFormat::L8 => (data, PixelType::U8),
        PixelFormat::RGB24 => (data, PixelType::U8x3),
        PixelFormat::CMYK32 => (cmyk_to_rgb(data), PixelType::U8x3),
        // 16-bit samples only exist in lossless JPEG, refused in `open`.
        PixelFormat::L16 => return Err(PhotoError::Unsupported),
    };
    Ok(Pixels { data, width, height, pixel_type, scale: 1.0 / f64::from(reduction) })
}

/// Converts jpeg-decoder's CMYK (ink amounts, 255 = full ink) to RGB in place, without a colour
/// profile: print-shop CMYK files are rare uploads and an approximate colour beats a refusal.
fn cmyk_to_rgb(mut data: Vec<u8>) -> Vec<u8> {
    let pixels = data.len() / 4;
    for i in 0..pixels {
        let [c, m, y, k] = [0, 1, 2, 3].map(|j| u32::from(data[i * 4 + j]));
        let white = 255 - k;
        for (j, ink) in [c, m, y].into_iter().enumerate() {
            data[i * 3 + j] = ((255 - ink) * white / 255) as u8;
        }
    }
    data.truncate(pixels * 3);
    data
}

/// Decodes a PNG or WebP at full size into 8-bit RGB, or RGBA when the image has transparency.
fn decode_full(decoder: impl ImageDecoder) -> Result<Pixels, PhotoError> {
    let image = DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    let (width, height) = (image.width(), image.height());
    let (data, pixel_type) = if image.color().has_alpha() {
        (image.into_rgba8().into_raw(), PixelType::U8x4)
    } else {
        (image.into_rgb8().into_raw(), PixelType::U8x3)
    };
    Ok(Pixels { data, width, height, pixel_type, scale: 1.0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The reduction keeps the frame at least as high as the output.
    #[test]
    fn reductions() {
        let cases = [
            (300.0, 1),
            (531.0, 1),
            (1061.9, 1),
            (1062.0, 2),
            (2123.0, 2),
            (2124.0, 4),
            (3024.0, 4),
            (4247.0, 4),
            (4248.0, 8),
            (100_000.0, 8),
        ];
        for (height, expected) in cases {
            assert_eq!(reduction_for(height), expected, "frame height {height}");
        }
    }

    // CMYK inks become the expected RGB, and the buffer shrinks to 3 bytes per pixel.
    #[test]
    fn cmyk_conversion() {
        let cases = [
            ([0, 0, 0, 0], [255, 255, 255]),
            ([0, 0, 0, 255], [0, 0, 0]),
            ([255, 0, 0, 0], [0, 255, 255]),
            ([0, 255, 255, 0], [255, 0, 0]),
            ([0, 0, 0, 128], [127, 127, 127]),
        ];
        for (cmyk, rgb) in cases {
            assert_eq!(cmyk_to_rgb(cmyk.to_vec()), rgb.to_vec(), "cmyk {cmyk:?}");
        }
        let two = cmyk_to_rgb(vec![0, 0, 0, 0, 0, 0, 0, 255]);
        assert_eq!(two, vec![255, 255, 255, 0, 0, 0]);
    }
}
