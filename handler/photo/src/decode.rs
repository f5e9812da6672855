//! Decoding in three steps: the structure and header first ([`Decoder::open`]: dimensions,
//! coding, scans and chunks, so bombs are refused before any pixel buffer exists), then the plan
//! ([`Decoder::plan`]: the reduction that fits the memory budget, computed by [`budget`]), then
//! the pixels, only as many as the frame needs.
//!
//! - JPEG goes through `jpeg-decoder`, whose scaled inverse DCT decodes at 1/2, 1/4 or 1/8 size
//!   straight from the coefficients (libjpeg's scaled decoding, libvips's shrink-on-load): a
//!   12 MP photo framed for 413×531 is decoded at 1/4, about 0.8 MP, and never exists in full.
//! - PNG goes through the `png` crate row by row, keeping only the frame's rows and columns,
//!   box-reduced as they arrive ([`shrink`]); `image`'s PNG path decodes the whole image (and a
//!   16-bit one twice, once more to convert it to 8 bits).
//! - Lossy WebP goes through image-webp's VP8 decoder, which yields the YUV planes (1.5 bytes per
//!   pixel); the frame is turned to RGB and box-reduced row by row, rather than `image`'s full
//!   RGB buffer on top of the planes.
//! - Lossless WebP, and lossy WebP with an alpha plane, go through `image` (image-webp) at full
//!   size, RGBA: the format has no scaled decoding. Their bound comes from the budget alone.

use std::io::{self, BufRead, Cursor, Read, Seek, SeekFrom};

use fast_image_resize::PixelType;
use image::ImageDecoder;
use image::codecs::webp::WebPDecoder;
use jpeg_decoder::{CodingProcess, PixelFormat};

use super::budget::{self, JpegShape};
use super::colour::{Model, Profile};
use super::container::{self, WebPImage};
use super::geometry::Rect;
use super::shrink::{Samples, Shrinker, Window, over_white};
use super::{MAX_FULL_DECODE_PIXELS, MAX_PIXELS, OUTPUT_HEIGHT, PhotoError, SourceFormat, vp8l};

/// After the DCT-domain reduction, the frame keeps at least this many times the output's pixels,
/// so the Lanczos3 resize still has real detail to work from.
const MIN_RESIZE_FACTOR: f64 = 1.0;

/// A decoder that has read the structure and the header, and not yet the pixels.
pub(super) struct Decoder<'a> {
    bytes: &'a [u8],
    header: Header,
    exif: Option<&'a [u8]>,
    profile: Profile<'a>,
    codec: Codec<'a>,
}

enum Codec<'a> {
    Jpeg { walk: container::Jpeg<'a>, pixel_format: PixelFormat },
    Png { walk: container::Png<'a> },
    WebP { image: WebPImage, alpha_flag: Option<(usize, u8)> },
}

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    /// Stored width, before any EXIF orientation.
    pub width: u32,
    /// Stored height, before any EXIF orientation.
    pub height: u32,
    /// The pixel bound: [`MAX_PIXELS`] for a baseline JPEG, decoded at reduced size,
    /// [`MAX_FULL_DECODE_PIXELS`] for the formats whose decoder walks or holds every pixel.
    pub max_pixels: u64,
}

/// Decoded pixels, tightly packed rows of `model` samples.
pub(super) struct Pixels {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// Grey, RGB, RGB and a byte to ignore (any transparency has already been laid on white), or
    /// CMYK inks, in the colour space of the file's profile ([`Decoder::profile`]).
    pub model: Model,
    /// Decoded pixels per stored pixel: 1, 1/2, 1/4 or 1/8.
    pub scale: f64,
    /// The stored pixel at the buffer's top-left corner.
    pub origin: (f64, f64),
}

impl Pixels {
    /// The samples as the resizer sees them: one, three or four bytes a pixel.
    pub fn pixel_type(&self) -> PixelType {
        match self.model {
            Model::Grey => PixelType::U8,
            Model::Rgb => PixelType::U8x3,
            Model::Rgbx | Model::Cmyk => PixelType::U8x4,
        }
    }

    /// A rectangle of stored pixels measured on this buffer.
    pub fn map(&self, r: Rect) -> Rect {
        Rect { x: r.x - self.origin.0, y: r.y - self.origin.1, ..r }.scaled(self.scale)
    }
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

/// The stored pixels a frame touches, whole pixels, inside the image.
fn window(frame: Rect, width: u32, height: u32) -> Window {
    let clamp = |v: f64, max: u32| v.clamp(0.0, f64::from(max)) as u32;
    let (x0, y0) = (clamp(frame.x.floor(), width), clamp(frame.y.floor(), height));
    let (x1, y1) =
        (clamp((frame.x + frame.width).ceil(), width), clamp((frame.y + frame.height).ceil(), height));
    Window { x: x0, y: y0, width: (x1 - x0).max(1), height: (y1 - y0).max(1) }
}

impl<'a> Decoder<'a> {
    /// Walks the structure of `bytes`, already recognised as `format`, and reads its header.
    pub fn open(format: SourceFormat, bytes: &'a [u8]) -> Result<Decoder<'a>, PhotoError> {
        let (header, exif, profile, codec) = match format {
            SourceFormat::Jpeg => open_jpeg(bytes)?,
            SourceFormat::Png => open_png(bytes)?,
            SourceFormat::WebP => open_webp(bytes)?,
        };
        Ok(Decoder { bytes, header, exif, profile, codec })
    }

    pub fn header(&self) -> Header {
        self.header
    }

    /// The EXIF block (a TIFF header and its directories), if the file has one.
    pub fn exif(&self) -> Option<&'a [u8]> {
        self.exif
    }

    /// The embedded ICC profile the decoded pixels are in (see [`super::colour`]).
    pub fn profile(&self) -> Profile<'a> {
        self.profile.clone()
    }

    /// Chooses the reduction for decoding `area` (stored pixels: what the face detection looks
    /// at, which holds the frame) and resizing `frame` (stored pixels; `upright_height` its height
    /// once upright) to `out` (stored orientation), so that the pipeline's peak fits the memory
    /// budget; refuses with [`PhotoError::TooHeavy`] when none does.
    pub fn plan(
        &self,
        area: Rect,
        frame: Rect,
        upright_height: f64,
        out: (u32, u32),
    ) -> Result<u32, PhotoError> {
        let Header { width, height, .. } = self.header;
        let wanted = reduction_for(upright_height);
        let win = window(area, width, height);
        let peak: Box<dyn Fn(u32) -> usize> = match &self.codec {
            Codec::Jpeg { walk, .. } => {
                let Some(frame_header) = &walk.frame else { return Err(corrupt("jpeg without a frame")) };
                let sampling: Vec<(u8, u8)> = frame_header.components.iter().map(|c| (c.h, c.v)).collect();
                let threads = std::thread::available_parallelism().map_or(1, usize::from);
                let (progressive, complete, metadata) =
                    (frame_header.is_progressive(), walk.complete.clone(), walk.metadata_bytes);
                Box::new(move |r| {
                    let shape = JpegShape {
                        width,
                        height,
                        sampling: &sampling,
                        progressive,
                        complete: &complete,
                        metadata,
                        threads,
                    };
                    let (decode, decoded) = budget::jpeg(&shape, r);
                    // Grey, YCbCr decoded to RGB, CMYK kept as its four inks.
                    let bytes_per_pixel = sampling.len().min(4) as u32;
                    let scale = 1.0 / f64::from(r);
                    let resize = budget::resize(
                        width.div_ceil(r),
                        (frame.width * scale, frame.height * scale),
                        bytes_per_pixel,
                        out,
                    );
                    budget::pipeline(decode, decoded, resize)
                })
            }
            Codec::Png { walk } => {
                let decode = budget::png(width, walk.bits_per_pixel(), walk.exif_chunk_bytes);
                let channels = if walk.is_grey() { 1 } else { 3 };
                Box::new(move |r| shrunk_peak(decode, win, r, channels, frame, out))
            }
            Codec::WebP { image: WebPImage::Lossy { vp8, alpha: None }, .. } => {
                let decode = budget::vp8(width, height, vp8.len());
                Box::new(move |r| shrunk_peak(decode, win, r, 3, frame, out))
            }
            Codec::WebP { image: WebPImage::Lossy { vp8, alpha: Some(alpha) }, .. } => {
                let chunk = &self.bytes[alpha.clone()];
                // The first byte: pre-processing, filtering, and the compression in the low 2
                // bits, 1 for lossless.
                let lossless = match chunk.first() {
                    Some(info) if info & 0x03 == 1 => Some(self.lossless_bytes(&chunk[1..], true)?),
                    _ => None,
                };
                return self.full_size(
                    budget::webp_lossy_alpha(width, height, vp8.len(), lossless),
                    frame,
                    out,
                );
            }
            Codec::WebP { image: WebPImage::Lossless { vp8l, .. }, .. } => {
                let lossless = self.lossless_bytes(&self.bytes[vp8l.clone()], false)?;
                return self.full_size(budget::webp_lossless(width, height, lossless), frame, out);
            }
        };
        budget::choose(wanted, upright_height, peak).ok_or_else(|| self.too_heavy())
    }

    /// The plan of a decoder that only decodes in full, RGBA, `decode` bytes at its peak: no
    /// reduction, since a larger one would save nothing.
    fn full_size(&self, decode: usize, frame: Rect, out: (u32, u32)) -> Result<u32, PhotoError> {
        let (width, height) = (self.header.width, self.header.height);
        let decoded = width as usize * height as usize * 4;
        let resize = budget::resize(width, (frame.width, frame.height), 4, out);
        let peak = budget::pipeline(decode, decoded, resize);
        if peak <= super::MEMORY_BUDGET { Ok(1) } else { Err(self.too_heavy()) }
    }

    fn too_heavy(&self) -> PhotoError {
        PhotoError::TooHeavy { width: self.header.width, height: self.header.height }
    }

    /// What image-webp's lossless decoder allocates for `stream` (see [`vp8l`]).
    fn lossless_bytes(&self, stream: &[u8], implicit: bool) -> Result<usize, PhotoError> {
        let (width, height) = (self.header.width, self.header.height);
        vp8l::decoder_bytes(stream, implicit, width, height, super::MEMORY_BUDGET)?
            .ok_or_else(|| self.too_heavy())
    }

    /// Decodes the pixels of `area` (stored pixels) at 1/`reduction` (see [`Decoder::plan`]).
    pub fn decode(self, area: Rect, reduction: u32) -> Result<Pixels, PhotoError> {
        let Header { width, height, .. } = self.header;
        let win = window(area, width, height);
        match self.codec {
            Codec::Jpeg { pixel_format, .. } => {
                decode_jpeg(self.bytes, pixel_format, width, height, reduction)
            }
            Codec::Png { .. } => decode_png(self.bytes, win, reduction),
            Codec::WebP { image: WebPImage::Lossy { vp8, alpha: None }, .. } => {
                decode_vp8(&self.bytes[vp8], (width, height), win, reduction)
            }
            Codec::WebP { image, alpha_flag } => {
                let has_alpha = match image {
                    WebPImage::Lossy { .. } => true,
                    WebPImage::Lossless { alpha, .. } => alpha,
                };
                decode_webp_rgba(self.bytes, alpha_flag, has_alpha, (width, height), win)
            }
        }
    }
}

/// The peak of a decoder feeding the shrinker: its own buffers and the reduced window while it
/// runs, then the window and the resize.
fn shrunk_peak(decode: usize, win: Window, r: u32, channels: u32, frame: Rect, out: (u32, u32)) -> usize {
    let (out_w, out_h) = win.reduced(r);
    let window = budget::shrinker(out_w, out_h, channels);
    let decoded = out_w as usize * out_h as usize * channels as usize;
    let scale = 1.0 / f64::from(r);
    let resize = budget::resize(out_w, (frame.width * scale, frame.height * scale), channels, out);
    budget::pipeline(decode + window, decoded, resize)
}

type Opened<'a> = (Header, Option<&'a [u8]>, Profile<'a>, Codec<'a>);

fn open_jpeg(bytes: &[u8]) -> Result<Opened<'_>, PhotoError> {
    let walk = container::jpeg(bytes)?;
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    decoder.read_info().map_err(jpeg_error)?;
    let Some(info) = decoder.info() else {
        return Err(PhotoError::Corrupt("jpeg without a frame header".into()));
    };
    // Lossless JPEG (medical imaging, never a phone or camera) has no DCT to scale and may hold
    // 16-bit samples: not worth a code path.
    if info.coding_process == CodingProcess::Lossless {
        return Err(PhotoError::Unsupported);
    }
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    // Both read the first frame header; they can only disagree on a file jpeg-decoder reads
    // differently from the specification, which is better refused.
    if walk.frame.as_ref().map(|f| (u32::from(f.width), u32::from(f.height))) != Some((width, height)) {
        return Err(PhotoError::Corrupt("jpeg frame header unreadable".into()));
    }
    let progressive = info.coding_process == CodingProcess::DctProgressive;
    let max_pixels = if progressive { MAX_FULL_DECODE_PIXELS } else { MAX_PIXELS };
    let (exif, profile) = (walk.exif, walk.profile.clone());
    let codec = Codec::Jpeg { walk, pixel_format: info.pixel_format };
    Ok((Header { width, height, max_pixels }, exif, profile, codec))
}

fn open_png(bytes: &[u8]) -> Result<Opened<'_>, PhotoError> {
    let Some(walk) = container::png(bytes)? else {
        return Err(PhotoError::Corrupt("png without a header chunk".into()));
    };
    // The png crate checks the header's fields (depth and colour type, sizes).
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.read_header_info().map_err(corrupt)?;
    let header = Header { width: walk.width, height: walk.height, max_pixels: MAX_FULL_DECODE_PIXELS };
    Ok((header, walk.exif, Profile::Absent, Codec::Png { walk }))
}

fn open_webp(bytes: &[u8]) -> Result<Opened<'_>, PhotoError> {
    let Some(walk) = container::webp(bytes)? else {
        return Err(PhotoError::Corrupt("webp without an image chunk".into()));
    };
    // An ID photo is never animated, and decoding a frame means compositing it on a canvas
    // of its own (image-webp's `read_frame`): refused rather than bounded.
    if walk.animated {
        return Err(PhotoError::Animated);
    }
    let header = Header { width: walk.width, height: walk.height, max_pixels: MAX_FULL_DECODE_PIXELS };
    let Some(image) = walk.image else {
        return Err(PhotoError::Corrupt("webp image chunks missing or inconsistent".into()));
    };
    // image-webp reads the chunk layout once more; it must agree.
    let decoder = WebPDecoder::new(Cursor::new(bytes)).map_err(corrupt)?;
    if decoder.dimensions() != (walk.width, walk.height) {
        return Err(PhotoError::Corrupt("webp canvas and image sizes differ".into()));
    }
    Ok((header, walk.exif, walk.profile, Codec::WebP { image, alpha_flag: walk.alpha_flag }))
}

fn jpeg_error(e: jpeg_decoder::Error) -> PhotoError {
    match e {
        // Arithmetic coding, hierarchical mode, 12-bit samples: legal JPEG that no phone writes.
        jpeg_decoder::Error::Unsupported(_) => PhotoError::Unsupported,
        other => corrupt(other),
    }
}

fn decode_jpeg(
    bytes: &[u8],
    pixel_format: PixelFormat,
    width: u32,
    height: u32,
    reduction: u32,
) -> Result<Pixels, PhotoError> {
    let mut decoder = jpeg_decoder::Decoder::new(bytes);
    // jpeg-decoder picks the smallest scale giving at least the requested size on one axis;
    // asking for exactly the 1/`reduction` size therefore selects that scale.
    let requested = (width.div_ceil(reduction), height.div_ceil(reduction));
    let (w, h) = decoder.scale(requested.0 as u16, requested.1 as u16).map_err(jpeg_error)?;
    let (w, h) = (u32::from(w), u32::from(h));
    if (w, h) != requested {
        return Err(PhotoError::Internal(format!(
            "jpeg decoder scaled to {w}x{h} instead of {}x{}",
            requested.0, requested.1
        )));
    }
    let data = decoder.decode().map_err(jpeg_error)?;
    drop(decoder);
    let model = match pixel_format {
        PixelFormat::L8 => Model::Grey,
        PixelFormat::RGB24 => Model::Rgb,
        // jpeg-decoder gives ink amounts (255 = full ink), inverting the stored values as Adobe's
        // APP14 convention has them, the one every CMYK writer follows (Photoshop, libjpeg);
        // Pillow and Skia read them the same way. They stay inks until the output is converted.
        PixelFormat::CMYK32 => Model::Cmyk,
        // 16-bit samples only exist in lossless JPEG, refused in `open`.
        PixelFormat::L16 => return Err(PhotoError::Unsupported),
    };
    let pixels =
        Pixels { data, width: w, height: h, model, scale: 1.0 / f64::from(reduction), origin: (0.0, 0.0) };
    if pixels.data.len() != w as usize * h as usize * pixels.pixel_type().size() {
        return Err(corrupt("jpeg decoded to an unexpected size"));
    }
    Ok(pixels)
}

/// The png crate's own allocation limit: far above what it buffers for any file under the body
/// limit (rows, the `eXIf` chunk), which `budget::png` counts; it only guards its own arithmetic.
const PNG_DECODER_LIMIT: usize = 32 << 20;

/// The Adam7 passes: (first column, column step, first row, row step).
const ADAM7: [(u32, u32, u32, u32); 7] =
    [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)];

/// Where each row the png crate yields lies: (row, first column, column step). The crate's
/// own interlace information is private, so its order (passes in turn, empty ones skipped)
/// is replayed here.
fn png_rows(width: u32, height: u32, interlaced: bool) -> impl Iterator<Item = (u32, u32, u32)> {
    let passes: &[(u32, u32, u32, u32)] = if interlaced { &ADAM7 } else { &[(0, 1, 0, 1)] };
    passes
        .iter()
        .filter(move |&&(x0, _, y0, _)| width > x0 && height > y0)
        .flat_map(move |&(x0, dx, y0, dy)| (y0..height).step_by(dy as usize).map(move |y| (y, x0, dx)))
}

fn decode_png(bytes: &[u8], win: Window, reduction: u32) -> Result<Pixels, PhotoError> {
    let limits = png::Limits { bytes: PNG_DECODER_LIMIT };
    let mut decoder = png::Decoder::new_with_limits(Cursor::new(bytes), limits);
    // Palette and low bit depths expanded, transparency chunks made an alpha channel, 16 bits
    // cut to 8: rows of 8-bit grey, grey and alpha, RGB or RGBA.
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    decoder.set_ignore_text_chunk(true);
    decoder.set_ignore_iccp_chunk(true);
    let mut reader = decoder.read_info().map_err(corrupt)?;
    let samples = match reader.output_color_type() {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => Samples::Grey,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => Samples::GreyAlpha,
        (png::ColorType::Rgb, png::BitDepth::Eight) => Samples::Rgb,
        (png::ColorType::Rgba, png::BitDepth::Eight) => Samples::Rgba,
        other => return Err(PhotoError::Internal(format!("png rows as {other:?}"))),
    };
    let info = reader.info();
    let (width, height, interlaced) = (info.width, info.height, info.interlaced);
    let mut shrinker = Shrinker::new(win, reduction, samples);
    let last_row = shrinker.last_row();
    for (y, x_start, x_step) in png_rows(width, height, interlaced) {
        let row = reader.next_row().map_err(corrupt)?.ok_or_else(|| corrupt("png rows missing"))?;
        shrinker.add_row(y, x_start, x_step, row.data());
        // The last pass (every row, or Adam7's seventh) goes down the image in order: the rest
        // of the file is never inflated once the window's last row is in.
        if y >= last_row && x_step == 1 {
            break;
        }
    }
    Ok(shrinker.finish())
}

/// Decodes a lossy `VP8 ` chunk to its YUV planes and turns the window to RGB a row at a time,
/// with each chroma sample covering its 2×2 luma pixels (libwebp's "simple" upsampling; the
/// box reduction that follows averages them anyway).
fn decode_vp8(
    chunk: &[u8],
    (width, height): (u32, u32),
    win: Window,
    reduction: u32,
) -> Result<Pixels, PhotoError> {
    let frame = image_webp::vp8::Vp8Decoder::decode_frame(chunk).map_err(corrupt)?;
    if (u32::from(frame.width), u32::from(frame.height)) != (width, height) {
        return Err(corrupt("vp8 frame size differs from the header"));
    }
    let stride = width.div_ceil(16) as usize * 16;
    let chroma_stride = stride / 2;
    let rows = height.div_ceil(16) as usize * 16;
    if frame.ybuf.len() < stride * rows
        || [&frame.ubuf, &frame.vbuf].iter().any(|p| p.len() < stride * rows / 4)
    {
        return Err(PhotoError::Internal("vp8 planes smaller than their macroblocks".into()));
    }
    let mut shrinker = Shrinker::new(win, reduction, Samples::Rgb);
    let mut row = vec![0; win.width as usize * 3];
    for y in win.y..win.y + win.height {
        let luma = &frame.ybuf[y as usize * stride..][..stride];
        let chroma = (y as usize / 2) * chroma_stride;
        let (u, v) = (&frame.ubuf[chroma..][..chroma_stride], &frame.vbuf[chroma..][..chroma_stride]);
        for (i, rgb) in row.chunks_exact_mut(3).enumerate() {
            let x = win.x as usize + i;
            let (l, u, v) = (luma[x], u[x / 2], v[x / 2]);
            rgb.copy_from_slice(&yuv_to_rgb(l, u, v));
        }
        shrinker.add_row(y, win.x, 1, &row);
    }
    Ok(shrinker.finish())
}

/// VP8's BT.601 YUV to RGB, in libwebp's 14-bit fixed point (image-webp's `yuv.rs`, whose
/// conversion functions are private).
fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let mulhi = |value: u8, coeff: u32| ((u32::from(value) * coeff) >> 8) as i32;
    let clip = |value: i32| (value >> 6).clamp(0, 255) as u8;
    let luma = mulhi(y, 19077);
    [
        clip(luma + mulhi(v, 26149) - 14234),
        clip(luma - mulhi(u, 6419) - mulhi(v, 13320) + 8708),
        clip(luma + mulhi(u, 33050) - 17685),
    ]
}

/// Decodes a lossless WebP, or a lossy one with an alpha plane, to RGBA at full size through
/// `image`, then lays the window's transparency on white in place.
///
/// image-webp decodes a lossless image without the transparency flag into an RGBA buffer of its
/// own and then copies it to RGB, 7 bytes per pixel; with the flag set it decodes straight into
/// ours, 4. The flag is only a hint in the format (the decoded alpha does not depend on it), so
/// the file is read with the flag set, through a reader that changes that one byte rather than
/// through a copy of the whole upload, and the alpha is ignored when the real flag is clear.
fn decode_webp_rgba(
    bytes: &[u8],
    alpha_flag: Option<(usize, u8)>,
    has_alpha: bool,
    (width, height): (u32, u32),
    win: Window,
) -> Result<Pixels, PhotoError> {
    let patch = alpha_flag.map(|(at, bit)| (at, bytes.get(at).map_or(0, |b| b | bit)));
    let decoder = WebPDecoder::new(Patched::new(bytes, patch)).map_err(corrupt)?;
    let len = usize::try_from(decoder.total_bytes()).map_err(corrupt)?;
    if len != width as usize * height as usize * 4 {
        return Err(PhotoError::Internal(format!("webp decoder wants {len} bytes")));
    }
    let mut data = vec![0; len];
    decoder.read_image(&mut data).map_err(corrupt)?;
    if has_alpha {
        let (x, w) = (win.x as usize, win.width as usize);
        for row in data.chunks_exact_mut(width as usize * 4).skip(win.y as usize).take(win.height as usize) {
            for pixel in row[x * 4..(x + w) * 4].chunks_exact_mut(4) {
                let alpha = pixel[3];
                for value in &mut pixel[..3] {
                    *value = over_white(*value, alpha);
                }
            }
        }
    }
    Ok(Pixels { data, width, height, model: Model::Rgbx, scale: 1.0, origin: (0.0, 0.0) })
}

/// The upload's bytes with at most one byte changed, read in place.
struct Patched<'a> {
    bytes: &'a [u8],
    position: usize,
    patch: Option<(usize, [u8; 1])>,
}

impl<'a> Patched<'a> {
    fn new(bytes: &'a [u8], patch: Option<(usize, u8)>) -> Patched<'a> {
        Patched { bytes, position: 0, patch: patch.map(|(at, byte)| (at, [byte])) }
    }
}

impl BufRead for Patched<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let rest = self.bytes.get(self.position..).unwrap_or(&[]);
        Ok(match &self.patch {
            Some((at, byte)) if *at == self.position => byte,
            Some((at, _)) if *at > self.position => &rest[..(*at - self.position).min(rest.len())],
            _ => rest,
        })
    }

    fn consume(&mut self, amount: usize) {
        self.position += amount;
    }
}

impl Read for Patched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl Seek for Patched<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => i128::from(n),
            SeekFrom::Current(d) => self.position as i128 + i128::from(d),
            SeekFrom::End(d) => self.bytes.len() as i128 + i128::from(d),
        };
        self.position = usize::try_from(target)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.position as u64)
    }
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

    // The rows the png crate yields, plain and interlaced, each pixel exactly once.
    #[test]
    fn png_row_order() {
        assert_eq!(png_rows(3, 2, false).collect::<Vec<_>>(), vec![(0, 0, 1), (1, 0, 1)]);
        // 3×3 Adam7: pass 1 (0,0); pass 2 empty (column 4); pass 3 empty (row 4); pass 4 row 0
        // from column 2; pass 5 row 2; pass 6 rows 0 and 2 from column 1; pass 7 row 1.
        let rows: Vec<_> = png_rows(3, 3, true).collect();
        assert_eq!(rows, vec![(0, 0, 8), (0, 2, 4), (2, 0, 2), (0, 1, 2), (2, 1, 2), (1, 0, 1)]);
        for (width, height) in [(1, 1), (7, 5), (9, 17), (16, 16)] {
            let mut seen = vec![0; (width * height) as usize];
            for (y, x0, dx) in png_rows(width, height, true) {
                for x in (x0..width).step_by(dx as usize) {
                    seen[(y * width + x) as usize] += 1;
                }
            }
            assert!(seen.iter().all(|&n| n == 1), "{width}x{height}: {seen:?}");
        }
    }

    // Black, white and red land where BT.601 puts them, and image-webp's own case agrees.
    #[test]
    fn yuv_conversion() {
        assert_eq!(yuv_to_rgb(16, 128, 128), [0, 0, 0]);
        assert_eq!(yuv_to_rgb(235, 128, 128), [255, 255, 255]);
        assert_eq!(yuv_to_rgb(81, 90, 240), [254, 0, 0]);
        assert_eq!(yuv_to_rgb(203, 40, 42), [80, 255, 40], "image-webp's own test");
    }

    // The patched reader serves the changed byte in place, in every kind of read.
    #[test]
    fn patched_reader() {
        let bytes = b"abcdef";
        let mut r = Patched::new(bytes, Some((2, b'X')));
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"abXdef");
        r.seek(SeekFrom::Start(1)).unwrap();
        let mut two = [0; 2];
        r.read_exact(&mut two).unwrap();
        assert_eq!(&two, b"bX");
        r.seek(SeekFrom::End(-1)).unwrap();
        assert_eq!(r.fill_buf().unwrap(), b"f");
        assert!(r.seek(SeekFrom::Current(-10)).is_err());
        let mut plain = Patched::new(bytes, None);
        let mut all = Vec::new();
        plain.read_to_end(&mut all).unwrap();
        assert_eq!(all, bytes);
    }
}
