//! How many bytes each stage of the pipeline allocates, computed from the header before any
//! pixel buffer exists, so the reduction can be chosen to fit [`MEMORY_BUDGET`] or the photo
//! refused. One function per decoder, each an upper bound read from that crate's source (the
//! versions in `Cargo.lock`), each term named after the buffer it counts; `handler/tests/photo_bounds.rs`
//! measures the real peak with a counting allocator over a worst-case corpus.
//!
//! The pipeline's peak is `max(decode, decoded pixels + resize) + output`: the decoder's own
//! buffers are freed when it returns, the decoded pixels after the resize, and what follows
//! (the 413×531 RGB, its upright copy, the JPEG encoder) is small and fixed.

use super::{MEMORY_BUDGET, MIN_FRAME_HEIGHT};

/// Everything after the resize, measured on the pipeline's output stage: the resized image,
/// its RGB and upright copies (413×531×3 each), jpeg-encoder's 4:2:0 planes and optimised
/// Huffman pass, and the encoded outputs of the quality search; plus the walkers' and decoders'
/// small fixed structures (Huffman and quantisation tables, chunk maps).
pub(super) const OUTPUT_STAGE: usize = 6 << 20;

/// The JPEG reductions jpeg-decoder's scaled IDCT offers, and the integer box reductions the
/// other decoders use for the same purpose.
pub(super) const REDUCTIONS: [u32; 4] = [1, 2, 4, 8];

/// Chooses the reduction: the one the frame needs (`wanted`, from the frame's height) if its
/// peak fits the budget, else the next larger ones as long as the frame keeps at least
/// [`MIN_FRAME_HEIGHT`] pixels, the same floor as for a photo decoded in full. `peak` gives the
/// pipeline's peak for a reduction. `None` when no reduction fits.
pub(super) fn choose(wanted: u32, frame_height: f64, peak: impl Fn(u32) -> usize) -> Option<u32> {
    REDUCTIONS
        .into_iter()
        .filter(|&r| r >= wanted)
        .take_while(|&r| r == wanted || frame_height / f64::from(r) >= f64::from(MIN_FRAME_HEIGHT))
        .find(|&r| peak(r) <= MEMORY_BUDGET)
}

/// The pipeline's peak from the decoder's peak, the decoded buffer it hands over and the
/// resize's temporary buffers. The face detection runs on the decoded buffer before the resize,
/// and is done with when the resize starts.
pub(super) fn pipeline(decode: usize, decoded: usize, resize: usize) -> usize {
    decode.max(decoded + resize.max(super::face::DETECTION_BYTES)) + OUTPUT_STAGE
}

fn ceil_div(a: u64, b: u64) -> u64 {
    a.div_ceil(b)
}

/// What jpeg-decoder 0.3 allocates for a frame, from `decoder.rs`, `parser.rs`, `upsampler.rs`
/// and `worker/`.
#[derive(Debug, Clone)]
pub(super) struct JpegShape<'a> {
    pub width: u32,
    pub height: u32,
    /// Sampling factors (h, v) of each component.
    pub sampling: &'a [(u8, u8)],
    pub progressive: bool,
    /// Per component, whether a scan completes it (see `container::Jpeg::complete`).
    pub complete: &'a [bool],
    /// Bytes of the APP1/APP2/APP13 payloads it copies.
    pub metadata: usize,
    /// Threads that may upsample rows at once (rayon's pool plus the caller).
    pub threads: usize,
}

/// Huffman (8 tables of a few kilobytes of lookup) and quantisation tables, segment buffers.
const JPEG_TABLES: u64 = 128 << 10;

/// jpeg-decoder's peak and the decoded buffer's size, decoding at 1/`reduction`:
///
/// - planes: each component's samples, `blocks_w × blocks_h × s²` bytes with `s = 8 /
///   reduction` and the block counts padded to whole MCUs (`update_component_sizes`);
/// - coefficients: a progressive frame keeps every coefficient of every component at full
///   size, `blocks × 64 × 2` bytes (i16), and at the end copies once more those of a component
///   no scan completed (`decode_planes` hands them row by row to rayon, all at once); a
///   sequential frame only holds one MCU row per component, twice (`mem::replace`);
/// - output: `ceil(width × s / 8) × ceil(height × s / 8) × components` bytes, interleaved;
/// - upsampling line buffers: `components × widest component row × h_max` per row in flight;
/// - metadata copies and tables.
pub(super) fn jpeg(shape: &JpegShape, reduction: u32) -> (usize, usize) {
    let s = u64::from(8 / reduction);
    let (width, height) = (u64::from(shape.width), u64::from(shape.height));
    let h_max = u64::from(shape.sampling.iter().map(|c| c.0).max().unwrap_or(1));
    let v_max = u64::from(shape.sampling.iter().map(|c| c.1).max().unwrap_or(1));
    let (mcu_w, mcu_h) = (ceil_div(width, 8 * h_max), ceil_div(height, 8 * v_max));
    let n = shape.sampling.len() as u64;
    let (mut planes, mut coefficients, mut rows, mut incomplete, mut widest) = (0, 0, 0, 0, 0);
    for (i, &(h, v)) in shape.sampling.iter().enumerate() {
        let (h, v) = (u64::from(h), u64::from(v));
        let (blocks_w, blocks_h) = (mcu_w * h, mcu_h * v);
        planes += blocks_w * blocks_h * s * s;
        let component_coefficients = blocks_w * blocks_h * 64 * 2;
        coefficients += component_coefficients;
        if !shape.complete.get(i).copied().unwrap_or(false) {
            incomplete = incomplete.max(component_coefficients);
        }
        rows += blocks_w * v * 64 * 2 * 2;
        widest = widest.max(ceil_div(width * h * s, h_max * 8));
    }
    // `update_idct_size` rounds with f32 `ceil`, which for 16-bit sizes is exact.
    let output = ceil_div(width * s, 8) * ceil_div(height * s, 8) * n;
    let lines = n * widest * h_max * (shape.threads as u64 + 1);
    let held = if shape.progressive { coefficients + incomplete } else { rows };
    let peak = planes + output + held + lines + shape.metadata as u64 + JPEG_TABLES;
    (saturate(peak), saturate(output))
}

fn saturate(bytes: u64) -> usize {
    usize::try_from(bytes).unwrap_or(usize::MAX)
}

/// The reduced window the box shrinker fills (see `shrink.rs`): its accumulators (u16 per
/// sample) and its output (u8 per sample).
pub(super) fn shrinker(out_width: u32, out_height: u32, channels: u32) -> usize {
    saturate(u64::from(out_width) * u64::from(out_height) * u64::from(channels) * 3)
}

/// What the png crate 0.18 allocates while rows are read one at a time, with the shrinker's
/// window added by the caller:
///
/// - the unfiltering buffer (`unfiltering_buffer.rs`): decompressed rows waiting to be
///   unfiltered, shifted back once `max(4 × row, 128 KiB)` are consumed, plus the 32 KiB inflate
///   window and 8 KiB of growth; bounded here by twice that, for `Vec`'s doubling;
/// - the previous-row scratch buffer and the transformed output row (at most 8 bytes per pixel
///   before `STRIP_16`, 4 after);
/// - the `eXIf` chunk, which it buffers (doubling from 128 bytes) and then clones;
/// - fixed: the inflate state (fdeflate's tables), palette, transparency, chunk buffers.
pub(super) fn png(width: u32, bits_per_pixel: u32, exif_chunk: usize) -> usize {
    let row = ceil_div(u64::from(width) * u64::from(bits_per_pixel), 8) + 1;
    let shift_back = (4 * row).next_multiple_of(64).max(128 << 10);
    let unfiltering = 2 * (2 * shift_back + 2 * row + (32 << 10) + (8 << 10));
    let rows = row + u64::from(width) * 4;
    let exif = 3 * exif_chunk as u64;
    saturate(unfiltering + rows + exif + PNG_FIXED)
}

const PNG_FIXED: u64 = 256 << 10;

/// Bytes of image-webp's `MacroBlock` (16 intra modes, 9 complexity bytes, 5 mode and flag
/// bytes), rounded up.
const VP8_MACROBLOCK: u64 = 32;

/// What image-webp 0.2's VP8 decoder (`vp8.rs`) allocates for a `width`×`height` key frame
/// carried in `chunk` bytes:
///
/// - the Y, U and V planes, padded to whole 16×16 macroblocks: 384 bytes per macroblock;
/// - the macroblock headers, pushed one by one (`Vec` doubling: up to 3 × their size while it
///   grows), and one row of them for the top context;
/// - the partitions: the first is read into a buffer of its declared size, the others too, and
///   the last with `read_to_end` (growing to twice its size through a reader that gives no size
///   hint) then copied once more: at most 3 × the chunk;
/// - borders and probability tables (fixed).
pub(super) fn vp8(width: u32, height: u32, chunk: usize) -> usize {
    let (mb_w, mb_h) = (ceil_div(u64::from(width), 16), ceil_div(u64::from(height), 16));
    let planes = mb_w * mb_h * 384;
    let macroblocks = 3 * mb_w * mb_h * VP8_MACROBLOCK + mb_w * VP8_MACROBLOCK;
    let partitions = 3 * chunk as u64;
    let borders = 3 * (u64::from(width) + 64);
    saturate(planes + macroblocks + partitions + borders + WEBP_FIXED)
}

const WEBP_FIXED: u64 = 256 << 10;

/// What image-webp's `read_image` allocates around the VP8 decoder for a lossy image with an
/// `ALPH` chunk: the RGBA output (4 bytes per pixel) and the alpha plane, read raw (1 byte per
/// pixel) or, when compressed, decoded as a lossless image (4 bytes per pixel, `lossless`
/// bytes of decoder state) before its green channel is kept (1 more).
pub(super) fn webp_lossy_alpha(width: u32, height: u32, chunk: usize, alpha: Option<usize>) -> usize {
    let pixels = u64::from(width) * u64::from(height);
    let alpha = match alpha {
        None => pixels,
        Some(lossless) => pixels * 5 + lossless as u64,
    };
    saturate(pixels * 4 + alpha).saturating_add(vp8(width, height, chunk))
}

/// What image-webp's `read_image` allocates for a lossless image whose transparency flag is set
/// (`decode.rs` sets it, see there): the RGBA output and `lossless` bytes of decoder state
/// (transform data, entropy image, Huffman tables: see `vp8l.rs`).
pub(super) fn webp_lossless(width: u32, height: u32, lossless: usize) -> usize {
    saturate(u64::from(width) * u64::from(height) * 4 + lossless as u64 + WEBP_FIXED)
}

/// fast_image_resize 5's temporary buffers for resizing a `crop_width`×`crop_height` area of a
/// `src_width`-wide image of `pixel_bytes` per pixel to `out_width`×`out_height` with Lanczos3
/// (`resizer.rs`, `convolution/mod.rs`): u8 images take the vertical pass first, into a buffer
/// `out_height` rows high and as wide as the columns the horizontal pass reads (the crop plus
/// the filter's reach on each side); each pass precomputes `2 × ceil(3 × scale) + 1`
/// coefficients (f64, then fixed point) per output pixel. Alpha is never premultiplied: the
/// decoders lay transparency on white before (which would otherwise copy the whole source).
pub(super) fn resize(
    src_width: u32,
    (crop_width, crop_height): (f64, f64),
    pixel_bytes: u32,
    (out_width, out_height): (u32, u32),
) -> usize {
    let (out_w, out_h) = (f64::from(out_width), f64::from(out_height));
    let reach = 2.0 * (3.0 * (crop_width / out_w).max(1.0)).ceil() + 2.0;
    let columns = (crop_width + reach).min(f64::from(src_width));
    let temp = (columns + 1.0) * out_h * f64::from(pixel_bytes);
    let coefficients = |crop: f64, out: f64| {
        let window = 2.0 * (3.0 * (crop / out).max(1.0)).ceil() + 1.0;
        window * out * 16.0 + out * 64.0
    };
    let bytes = temp + coefficients(crop_width, out_w) + coefficients(crop_height, out_h);
    bytes.ceil() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    fn shape<'a>(
        (width, height): (u32, u32),
        sampling: &'a [(u8, u8)],
        progressive: bool,
        complete: &'a [bool],
    ) -> JpegShape<'a> {
        JpegShape { width, height, sampling, progressive, complete, metadata: 0, threads: 2 }
    }

    const S420: &[(u8, u8)] = &[(2, 2), (1, 1), (1, 1)];
    const S444: &[(u8, u8)] = &[(1, 1), (1, 1), (1, 1)];
    const CMYK: &[(u8, u8)] = &[(1, 1), (1, 1), (1, 1), (1, 1)];
    const DONE: &[bool] = &[true; 4];
    const OPEN: &[bool] = &[false; 4];

    // The JPEG formula on the shapes that matter, in bytes (peak, decoded buffer). Worked out
    // for the first: 3264×2448 4:2:0 is 204×153 MCUs, so luma 408×306 blocks and chroma 204×153;
    // at 1/4 (s = 2) planes (124,848 + 2 × 31,212) × 4 = 749,088; output 816×612×3 = 1,498,176;
    // MCU rows (408×2 + 2 × 204) × 256 = 313,344; lines 3 × 816 × 2 × 3 threads = 14,688; and
    // 128 KiB of tables: 2,706,368.
    #[test]
    fn jpeg_table() {
        let cases = [
            ("iphone 1/4", shape((3264, 2448), S420, false, DONE), 4, (2_706_368, 816 * 612 * 3)),
            ("iphone full", shape((3264, 2448), S420, false, DONE), 1, (36_459_392, 3264 * 2448 * 3)),
            ("50 MP 1/8", shape((8160, 6120), S420, false, DONE), 8, (4_445_672, 1020 * 765 * 3)),
            ("50 MP 1/2", shape((8160, 6120), S420, false, DONE), 2, (57_193_952, 4080 * 3060 * 3)),
            // Progressive: 1.5 coefficients per pixel at 2 bytes whatever the reduction, 3 for
            // 4:4:4.
            ("prog 12 MP 1/4", shape((4032, 3024), S420, true, DONE), 4, (40_156_736, 1008 * 756 * 3)),
            ("prog 444 1/8", shape((4032, 3024), S444, true, DONE), 8, (74_435_288, 504 * 378 * 3)),
            // No scan completes a component: one more copy of the largest (the luma).
            ("prog open 1/8", shape((4032, 3024), S420, true, OPEN), 8, (61_961_288, 504 * 378 * 3)),
            ("cmyk 1/1", shape((2000, 2000), CMYK, false, DONE), 1, (32_411_072, 2000 * 2000 * 4)),
        ];
        for (name, shape, reduction, expected) in cases {
            assert_eq!(jpeg(&shape, reduction), expected, "{name}");
        }
        assert!(jpeg(&shape((4032, 3024), S444, true, DONE), 8).0 > MEMORY_BUDGET, "refused at any scale");
    }

    // The other formulas on the shapes that matter, in bytes.
    #[test]
    fn other_formulas_table() {
        let cases = [
            // 4032-pixel RGBA16 rows are 32,257 bytes: the shift-back limit is its 128 KiB floor.
            ("png 4032 rgba16", png(4032, 64, 0), 1_045_765),
            // 43,000-pixel rows shift back at 1.3 MB; a 1 MiB eXIf is held three times.
            ("png wide, eXIf", png(43_000, 64, 1 << 20), 10_886_053),
            // 252×189 macroblocks: 18.3 MB of planes, 4.6 MB of headers, 3 × 3 MiB of partitions.
            ("vp8 4032×3024", vp8(4032, 3024, 3 << 20), 32_581_120),
            ("lossless 9 MP", webp_lossless(3000, 3000, MIB), 37_310_720),
            ("lossy, raw alpha", webp_lossy_alpha(1000, 1000, 100_000, None), 7_472_472),
            ("lossy, lossless alpha", webp_lossy_alpha(1000, 1000, 100_000, Some(MIB)), 12_521_048),
            // 602 columns × 531 rows × 3 bytes, and 11 coefficients per output pixel each way.
            ("resize 1/4 frame", resize(1008, (589.0, 756.0), 3, (413, 531)), 1_185_546),
            ("resize wide crop", resize(65_000, (10_000.0, 12_857.0), 3, (413, 531)), 18_448_061),
        ];
        for (name, got, expected) in cases {
            assert_eq!(got, expected, "{name}");
        }
    }

    // The reduction grows past what the frame needs only while the frame keeps its floor.
    #[test]
    fn choice_follows_budget_and_floor() {
        let fits_from = |min: u32| move |r: u32| if r >= min { 0 } else { usize::MAX };
        assert_eq!(choose(1, 1000.0, fits_from(1)), Some(1));
        assert_eq!(choose(2, 1500.0, fits_from(1)), Some(2));
        assert_eq!(choose(1, 1000.0, fits_from(2)), Some(2));
        assert_eq!(choose(1, 1000.0, fits_from(4)), None, "250 px would be left");
        assert_eq!(choose(1, 1200.0, fits_from(4)), Some(4));
        assert_eq!(choose(8, 5000.0, fits_from(16)), None);
        assert_eq!(choose(1, 300.0, fits_from(2)), None);
    }
}
