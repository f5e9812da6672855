//! The photo pipeline's memory and CPU bounds, measured: a counting global allocator (current and
//! peak bytes, over every thread, since jpeg-decoder hands rows to rayon) and the process's CPU
//! time (`getrusage`, every thread) around `photo::process`, over a worst-case corpus generated
//! here (every accepted format and coding, the largest dimensions each allows under the body
//! limit, extreme shapes, tiny crops, and the files that must be refused), then over mutations of
//! real photos (proptest).
//!
//! Each case must give the expected outcome within [`MEMORY_BUDGET`] and [`CPU_BOUND`]. The
//! cases run one at a time (a lock), so the counters measure one case. The corpus prints a table,
//! `cargo test -p handler --test photo_bounds -- --nocapture` (add `--release` for the figures
//! of production). The fuzz run takes `PROPTEST_CASES` cases (64 by default).
//!
//! Files are built by hand where no encoder fits: flat images compress to almost nothing once
//! written directly (a JPEG block of one DC code and one end-of-block code, a deflate stream of
//! copies, a VP8L image of single-symbol codes, VP8 partitions of zeros), so a 50-megapixel JPEG
//! takes a few hundred kilobytes to generate and the test stays quick.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use form::Crop;
use handler::multipart::MAX_BODY_BYTES;
// `CPU_BOUND` is asserted in debug builds too: the decoders' generic code
// (`jpeg_decoder::Decoder<&[u8]>`, png's and image-webp's decoders over a `Cursor`,
// fast_image_resize's pixel loops) is instantiated, so compiled, in the photo crate
// (`handler/photo`), which the workspace builds at `opt-level = 2` in the dev profile for that
// reason (unoptimised, they run 10 to 60 times slower).
use handler::photo::{self, CPU_BOUND, MAX_PARTS, MAX_SCANS, MEMORY_BUDGET, PhotoError};
use image::ImageEncoder;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grow(bytes: usize) {
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; only counters are updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grow(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // Counted as if the old block were still there: a moving realloc holds both.
            grow(new_size);
            CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One case at a time: the counters are global.
static SERIAL: Mutex<()> = Mutex::new(());

/// CPU time of the whole process (user and system, every thread).
fn cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `getrusage` fills the struct it is given; RUSAGE_SELF always exists.
    let usage = unsafe {
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()), 0);
        usage.assume_init()
    };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// What one call of `process` cost.
struct Measure {
    outcome: Result<(), String>,
    kind: &'static str,
    peak: usize,
    cpu: Duration,
}

fn measure(bytes: &[u8], crop: Option<Crop>) -> Measure {
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = cpu_time();
    let result = photo::process(bytes, crop);
    let cpu = cpu_time() - start;
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    let kind = match &result {
        Ok(_) => "accepted",
        Err(e) => kind(e),
    };
    Measure { outcome: result.map(drop).map_err(|e| e.to_string()), kind, peak, cpu }
}

fn kind(e: &PhotoError) -> &'static str {
    match e {
        PhotoError::Heic => "heic",
        PhotoError::Unsupported => "unsupported",
        PhotoError::TooManyPixels { .. } => "too many pixels",
        PhotoError::TooSmall { .. } => "too small",
        PhotoError::Corrupt(_) => "corrupt",
        PhotoError::CropOutside { .. } => "crop outside",
        PhotoError::CropTooSmall { .. } => "crop too small",
        PhotoError::TooHeavy { .. } => "too heavy",
        PhotoError::TooManyScans { .. } => "too many scans",
        PhotoError::TooManyParts { .. } => "too many parts",
        PhotoError::Animated => "animated",
        PhotoError::TooComplex { .. } => "too complex",
        PhotoError::Internal(_) => "internal",
    }
}

fn crop(x: u32, y: u32, width: u32, height: u32) -> Option<Crop> {
    Some(Crop { x, y, width, height })
}

// ---------------------------------------------------------------------------------------------
// JPEG, written by hand: one quantisation table, a DC code with category 0 only and an AC code
// with an end-of-block only, 1 bit each, so every block of a flat image costs 2 bits.

/// Bits, most significant first, with JPEG's 0xFF stuffing.
#[derive(Default)]
struct JpegBits {
    out: Vec<u8>,
    byte: u8,
    used: u8,
}

impl JpegBits {
    fn put(&mut self, value: u32, n: u8) {
        for i in (0..n).rev() {
            self.byte = self.byte << 1 | ((value >> i) & 1) as u8;
            self.used += 1;
            if self.used == 8 {
                self.flush_byte();
            }
        }
    }

    fn flush_byte(&mut self) {
        self.out.push(self.byte);
        if self.byte == 0xFF {
            self.out.push(0);
        }
        self.byte = 0;
        self.used = 0;
    }

    fn finish(mut self) -> Vec<u8> {
        while self.used != 0 {
            self.put(1, 1);
        }
        self.out
    }
}

fn segment(out: &mut Vec<u8>, marker: u8, payload: &[u8]) {
    out.extend([0xFF, marker]);
    out.extend(((payload.len() + 2) as u16).to_be_bytes());
    out.extend(payload);
}

#[derive(Clone)]
struct JpegSpec {
    width: u16,
    height: u16,
    /// Sampling factors (h, v) per component.
    sampling: Vec<(u8, u8)>,
    progressive: bool,
    /// Progressive: AC refinement scans after the first ones (each walks every luma block).
    refinements: usize,
    /// Progressive: the first AC scans at reduced precision and never refined, so that no
    /// component is ever complete.
    incomplete: bool,
    /// The Adobe APP14 colour transform (0 CMYK, 2 YCCK).
    adobe: Option<u8>,
    /// Empty comment segments.
    comments: usize,
}

fn jpeg_spec(width: u16, height: u16, sampling: &[(u8, u8)]) -> JpegSpec {
    JpegSpec {
        width,
        height,
        sampling: sampling.to_vec(),
        progressive: false,
        refinements: 0,
        incomplete: false,
        adobe: None,
        comments: 0,
    }
}

const S420: &[(u8, u8)] = &[(2, 2), (1, 1), (1, 1)];
const S444: &[(u8, u8)] = &[(1, 1), (1, 1), (1, 1)];
const S422: &[(u8, u8)] = &[(2, 1), (1, 1), (1, 1)];
const S_ODD: &[(u8, u8)] = &[(4, 2), (1, 1), (1, 1)];
const GREY: &[(u8, u8)] = &[(1, 1)];
const FOUR: &[(u8, u8)] = &[(1, 1), (1, 1), (1, 1), (1, 1)];

/// The frame header alone: enough for anything refused from the header.
fn jpeg_header_only(width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    segment(&mut out, 0xC0, &sof_payload(width, height, S420));
    out
}

fn sof_payload(width: u16, height: u16, sampling: &[(u8, u8)]) -> Vec<u8> {
    let mut sof = vec![8];
    sof.extend(height.to_be_bytes());
    sof.extend(width.to_be_bytes());
    sof.push(sampling.len() as u8);
    for (i, &(h, v)) in sampling.iter().enumerate() {
        sof.extend([i as u8 + 1, h << 4 | v, 0]);
    }
    sof
}

fn jpeg(spec: &JpegSpec) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    if let Some(transform) = spec.adobe {
        segment(&mut out, 0xEE, &[b"Adobe".as_slice(), &[0, 100, 0, 0, 0, 0, transform]].concat());
    }
    for _ in 0..spec.comments {
        segment(&mut out, 0xFE, &[]);
    }
    segment(&mut out, 0xDB, &[[0].as_slice(), &[1; 64]].concat());
    let sof = if spec.progressive { 0xC2 } else { 0xC0 };
    segment(&mut out, sof, &sof_payload(spec.width, spec.height, &spec.sampling));
    // DC: category 0 is code `0`. AC: baseline end-of-block is `0`; progressive, a run of
    // 2^14 + n end-of-bands is `0` and the plain end-of-band `10`.
    let mut dht = vec![0x00, 1];
    dht.extend([0; 15]);
    dht.push(0);
    let ac: &[u8] = if spec.progressive { &[0x10, 1, 1] } else { &[0x10, 1, 0] };
    dht.extend(ac);
    dht.extend([0; 14]);
    dht.extend(if spec.progressive { &[0xE0, 0x00][..] } else { &[0x00][..] });
    segment(&mut out, 0xC4, &dht);

    let (h_max, v_max) = spec.sampling.iter().fold((1, 1), |(h, v), &(a, b)| (h.max(a), v.max(b)));
    let mcus_x = u64::from(spec.width).div_ceil(8 * u64::from(h_max));
    let mcus_y = u64::from(spec.height).div_ceil(8 * u64::from(v_max));
    let blocks_per_mcu: u64 = spec.sampling.iter().map(|&(h, v)| u64::from(h) * u64::from(v)).sum();
    let blocks = |c: usize| {
        let (h, v) = spec.sampling[c];
        mcus_x * u64::from(h) * mcus_y * u64::from(v)
    };
    let scan = |out: &mut Vec<u8>, components: &[usize], ss: u8, se: u8, ahal: u8, data: Vec<u8>| {
        let mut sos = vec![components.len() as u8];
        for &c in components {
            sos.extend([c as u8 + 1, 0x00]);
        }
        sos.extend([ss, se, ahal]);
        segment(out, 0xDA, &sos);
        out.extend(data);
    };
    let all: Vec<usize> = (0..spec.sampling.len()).collect();
    let zeros = |bits: u64| vec![0u8; bits.div_ceil(8) as usize + 1];
    if !spec.progressive {
        scan(&mut out, &all, 0, 63, 0, zeros(mcus_x * mcus_y * blocks_per_mcu * 2));
    } else {
        // Runs of 32,767 end-of-bands: `0` then 14 one bits (2^14 - 1 + 16,383 more blocks).
        let runs = |blocks: u64| {
            let mut bits = JpegBits::default();
            for _ in 0..blocks.div_ceil(32_767) {
                bits.put(0, 1);
                bits.put(0x3FFF, 14);
            }
            bits.finish()
        };
        let dc: Vec<Vec<usize>> =
            if blocks_per_mcu <= 10 { vec![all.clone()] } else { all.iter().map(|&c| vec![c]).collect() };
        for components in dc {
            scan(&mut out, &components, 0, 0, 0, zeros(mcus_x * mcus_y * blocks_per_mcu));
        }
        let first_ahal = if spec.incomplete { 0x01 } else { 0x00 };
        for &c in &all {
            scan(&mut out, &[c], 1, 63, first_ahal, runs(blocks(c)));
        }
        for _ in 0..spec.refinements {
            scan(&mut out, &[0], 1, 63, 0x10, runs(blocks(0)));
        }
    }
    out.extend([0xFF, 0xD9]);
    out
}

fn jpeg_encoded(width: u16, height: u16, progressive: bool) -> Vec<u8> {
    let rgb: Vec<u8> = (0..u32::from(width) * u32::from(height))
        .flat_map(|i| [(i % 251) as u8, (i / 97 % 256) as u8, 90])
        .collect();
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 85);
    encoder.set_progressive(progressive);
    encoder.encode(&rgb, width, height, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

// ---------------------------------------------------------------------------------------------
// PNG, written by hand: flat rows with the Sub filter (the first pixel, then zeros), deflated as
// literals and copies of the previous byte in fixed Huffman codes.

fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut table = [0u32; 256];
        for (n, entry) in table.iter_mut().enumerate() {
            let mut c = n as u32;
            for _ in 0..8 {
                c = if c & 1 == 1 { 0xEDB8_8320 ^ (c >> 1) } else { c >> 1 };
            }
            *entry = c;
        }
        table
    });
    !data.iter().fold(!0u32, |c, &b| table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8))
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(kind);
    out.extend(data);
    out.extend(crc32(&[kind.as_slice(), data].concat()).to_be_bytes());
}

/// A zlib stream of one fixed-Huffman deflate block, written from literals and runs.
struct Deflate {
    out: Vec<u8>,
    acc: u64,
    n: u32,
    adler: (u32, u32),
}

impl Deflate {
    fn new() -> Deflate {
        let mut d = Deflate { out: vec![0x78, 0x01], acc: 0, n: 0, adler: (1, 0) };
        d.bits(1, 1); // final block
        d.bits(1, 2); // fixed codes
        d
    }

    fn bits(&mut self, value: u32, n: u32) {
        self.acc |= u64::from(value) << self.n;
        self.n += n;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// A Huffman code, most significant bit first.
    fn code(&mut self, code: u32, length: u32) {
        self.bits(code.reverse_bits() >> (32 - length), length);
    }

    fn symbol(&mut self, symbol: u32) {
        match symbol {
            0..=143 => self.code(0x30 + symbol, 8),
            144..=255 => self.code(0x190 + symbol - 144, 9),
            256..=279 => self.code(symbol - 256, 7),
            _ => self.code(0xC0 + symbol - 280, 8),
        }
    }

    fn literal(&mut self, byte: u8) {
        self.symbol(u32::from(byte));
        let (a, b) = self.adler;
        let a = (a + u32::from(byte)) % 65521;
        self.adler = (a, (b + a) % 65521);
    }

    /// `count` more copies of the last byte.
    fn repeat(&mut self, last: u8, mut count: u64) {
        const BASES: [u32; 29] = [
            3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
            163, 195, 227, 258,
        ];
        const EXTRA: [u32; 29] =
            [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
        while count > 0 {
            let take = if count > 258 && count - 258 < 3 { count - 3 } else { count.min(258) };
            if take < 3 {
                for _ in 0..take {
                    self.literal(last);
                }
            } else {
                let index = BASES.iter().rposition(|&b| u64::from(b) <= take).unwrap();
                self.symbol(257 + index as u32);
                self.bits(take as u32 - BASES[index], EXTRA[index]);
                self.bits(0, 5); // distance 1
                let (a, b) = self.adler;
                let b = ((u64::from(b) + u64::from(a) * take) % 65521) as u32;
                let a = ((u64::from(a) + u64::from(last) * take) % 65521) as u32;
                // Exact for the zero runs used here; others only need the decoder not to check.
                self.adler = (a, b);
            }
            count -= take;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.symbol(256);
        if self.n > 0 {
            self.bits(0, 8 - self.n);
        }
        let (a, b) = self.adler;
        self.out.extend((b << 16 | a).to_be_bytes());
        self.out
    }
}

#[derive(Clone)]
struct PngSpec {
    width: u32,
    height: u32,
    bit_depth: u8,
    color_type: u8,
    interlaced: bool,
    /// The first pixel's bytes (the rest of each row repeats it through the Sub filter).
    pixel: Vec<u8>,
    /// Chunks before the image data, written as given.
    before: Vec<([u8; 4], Vec<u8>)>,
    /// The image data split in this many `IDAT` chunks.
    idat_chunks: usize,
    /// An APNG: `acTL` and `fcTL` before the data, one more frame after.
    animated: bool,
}

fn png_spec(width: u32, height: u32, bit_depth: u8, color_type: u8) -> PngSpec {
    let channels = match color_type {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        _ => 4,
    };
    let bytes = (usize::from(bit_depth) * channels).div_ceil(8);
    PngSpec {
        width,
        height,
        bit_depth,
        color_type,
        interlaced: false,
        // A palette index inside the 2-entry palette written for colour type 3.
        pixel: if color_type == 3 { vec![1] } else { (0..bytes).map(|i| (0x40 + 0x20 * i) as u8).collect() },
        before: Vec::new(),
        idat_chunks: 1,
        animated: false,
    }
}

fn fctl(sequence: u32, width: u32, height: u32) -> Vec<u8> {
    let mut data = sequence.to_be_bytes().to_vec();
    data.extend(width.to_be_bytes());
    data.extend(height.to_be_bytes());
    data.extend([0; 8]); // offsets
    data.extend([0, 1, 0, 10, 0, 0]); // delay 1/10, dispose none, blend source
    data
}

fn png(spec: &PngSpec) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = spec.width.to_be_bytes().to_vec();
    ihdr.extend(spec.height.to_be_bytes());
    ihdr.extend([spec.bit_depth, spec.color_type, 0, 0, u8::from(spec.interlaced)]);
    chunk(&mut out, b"IHDR", &ihdr);
    if spec.color_type == 3 {
        chunk(&mut out, b"PLTE", &[200, 100, 50, 10, 20, 30]);
        chunk(&mut out, b"tRNS", &[128]);
    }
    for (kind, data) in &spec.before {
        chunk(&mut out, kind, data);
    }
    if spec.animated {
        chunk(&mut out, b"acTL", &[0, 0, 0, 2, 0, 0, 0, 0]);
        chunk(&mut out, b"fcTL", &fctl(0, spec.width, spec.height));
    }
    let passes: Vec<(u32, u32)> = if spec.interlaced {
        [(0, 8, 0, 8), (4, 8, 0, 8), (0, 4, 4, 8), (2, 4, 0, 4), (0, 2, 2, 4), (1, 2, 0, 2), (0, 1, 1, 2)]
            .into_iter()
            .filter(|&(x0, _, y0, _)| spec.width > x0 && spec.height > y0)
            .map(|(x0, dx, y0, dy)| ((spec.width - x0).div_ceil(dx), (spec.height - y0).div_ceil(dy)))
            .collect()
    } else {
        vec![(spec.width, spec.height)]
    };
    let mut deflate = Deflate::new();
    for (width, rows) in passes {
        let row_bytes = (u64::from(width) * u64::from(spec.bit_depth) * channels(spec) as u64).div_ceil(8);
        for _ in 0..rows {
            deflate.literal(1); // Sub
            let first = (spec.pixel.len() as u64).min(row_bytes);
            for &byte in &spec.pixel[..first as usize] {
                deflate.literal(byte);
            }
            if row_bytes > first {
                deflate.literal(0);
                deflate.repeat(0, row_bytes - first - 1);
            }
        }
    }
    let data = deflate.finish();
    let size = data.len().div_ceil(spec.idat_chunks).max(1);
    for part in data.chunks(size) {
        chunk(&mut out, b"IDAT", part);
    }
    if spec.animated {
        chunk(&mut out, b"fcTL", &fctl(1, spec.width, spec.height));
        chunk(&mut out, b"fdAT", &[&[0, 0, 0, 2][..], &data].concat());
    }
    chunk(&mut out, b"IEND", &[]);
    out
}

fn channels(spec: &PngSpec) -> u32 {
    match spec.color_type {
        0 | 3 => 1,
        2 => 3,
        4 => 2,
        _ => 4,
    }
}

/// A PNG whose header claims `width`×`height`, with no image data to speak of.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x01, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

// ---------------------------------------------------------------------------------------------
// WebP: lossless images of single-symbol codes (any size in a few bytes), lossy VP8 frames whose
// partitions are zeros (every boolean decodes as 0: no segmentation, one partition, 4×4 DC
// prediction, end of block at once: a flat grey image), and the RIFF chunks around them.

/// Bits, least significant first, as VP8L writes them.
#[derive(Default)]
struct LsbBits {
    out: Vec<u8>,
    n: usize,
}

impl LsbBits {
    fn put(&mut self, value: u32, bits: usize) -> &mut Self {
        for i in 0..bits {
            if self.n.is_multiple_of(8) {
                self.out.push(0);
            }
            let last = self.out.len() - 1;
            self.out[last] |= (((value >> i) & 1) as u8) << (self.n % 8);
            self.n += 1;
        }
        self
    }

    /// A prefix code of one 8-bit symbol.
    fn single(&mut self, symbol: u32) -> &mut Self {
        self.put(1, 1).put(0, 1).put(1, 1).put(symbol, 8)
    }

    /// A prefix code of lengths 1, 2, …, 10, 10: a 1,024-entry table in image-webp.
    fn deep(&mut self) -> &mut Self {
        const ORDER: [u32; 19] = [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        self.put(0, 1).put(15, 4);
        for symbol in ORDER {
            self.put(if symbol <= 15 { 4 } else { 0 }, 3);
        }
        self.put(1, 1).put(1, 3).put(9, 4);
        for length in [1u32, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10] {
            self.put(length.reverse_bits() >> 28, 4);
        }
        self
    }
}

/// A VP8L stream after its header: no transform, no cache, no meta codes, one colour.
fn vp8l_flat_body(bits: &mut LsbBits, rgba: [u8; 4]) {
    bits.put(0, 1).put(0, 1).put(0, 1);
    let [r, g, b, a] = rgba.map(u32::from);
    bits.single(g).single(r).single(b).single(a).single(0);
}

fn vp8l_header(bits: &mut LsbBits, width: u32, height: u32, alpha: bool) {
    bits.put(0x2F, 8).put(width - 1, 14).put(height - 1, 14).put(u32::from(alpha), 1).put(0, 3);
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
    let mut out = b"RIFF".to_vec();
    out.extend((body.len() as u32).to_le_bytes());
    out.extend(body);
    out
}

fn webp_lossless(width: u32, height: u32, rgba: Option<[u8; 4]>) -> Vec<u8> {
    let mut bits = LsbBits::default();
    vp8l_header(&mut bits, width, height, rgba.is_some());
    vp8l_flat_body(&mut bits, rgba.unwrap_or([200, 120, 60, 255]));
    riff(&[(b"VP8L", bits.out)])
}

/// A lossless 600×800 image whose entropy image (150×200, one colour) names `groups` Huffman
/// groups of 1,024-entry tables.
fn webp_huffman_bomb(groups: u32) -> Vec<u8> {
    let top = groups - 1;
    let mut bits = LsbBits::default();
    vp8l_header(&mut bits, 600, 800, false);
    bits.put(0, 1).put(0, 1).put(1, 1).put(0, 3).put(0, 1);
    bits.single(top & 0xFF).single(top >> 8).single(0).single(0).single(0);
    for _ in 0..groups {
        bits.deep().deep().deep().deep().deep();
    }
    riff(&[(b"VP8L", bits.out)])
}

/// A lossy key frame of `width`×`height` whose partitions are zeros.
fn vp8_flat(width: u32, height: u32) -> Vec<u8> {
    let macroblocks = (width.div_ceil(16) * height.div_ceil(16)) as usize;
    let first = (macroblocks * 8 + 2048).min((1 << 19) - 1);
    let tag = (first as u32) << 5 | 1 << 4; // key frame, version 0, shown
    let mut data = tag.to_le_bytes()[..3].to_vec();
    data.extend([0x9D, 0x01, 0x2A]);
    data.extend((width as u16).to_le_bytes());
    data.extend((height as u16).to_le_bytes());
    data.resize(data.len() + first + macroblocks * 8 + 2048, 0);
    data
}

fn webp_lossy(width: u32, height: u32) -> Vec<u8> {
    riff(&[(b"VP8 ", vp8_flat(width, height))])
}

/// A lossy frame header claiming `width`×`height`, and a few bytes of partitions.
fn webp_lossy_header(width: u32, height: u32) -> Vec<u8> {
    let mut frame = vp8_flat(16, 16);
    frame[6..8].copy_from_slice(&(width as u16).to_le_bytes());
    frame[8..10].copy_from_slice(&(height as u16).to_le_bytes());
    riff(&[(b"VP8 ", frame)])
}

fn vp8x(flags: u8, width: u32, height: u32) -> Vec<u8> {
    let mut data = vec![flags, 0, 0, 0];
    data.extend(&(width - 1).to_le_bytes()[..3]);
    data.extend(&(height - 1).to_le_bytes()[..3]);
    data
}

/// A lossy image with an alpha plane, raw or lossless-compressed.
fn webp_lossy_alpha(width: u32, height: u32, compressed: bool) -> Vec<u8> {
    let alph = if compressed {
        let mut bits = LsbBits::default();
        vp8l_flat_body(&mut bits, [0, 128, 0, 255]);
        [vec![0x01], bits.out].concat()
    } else {
        let mut raw = vec![0x00];
        raw.resize(1 + (width * height) as usize, 128);
        raw
    };
    riff(&[(b"VP8X", vp8x(0x10, width, height)), (b"ALPH", alph), (b"VP8 ", vp8_flat(width, height))])
}

fn webp_animated(width: u32, height: u32) -> Vec<u8> {
    let mut frame = vec![0; 6];
    frame.extend(&(width - 1).to_le_bytes()[..3]);
    frame.extend(&(height - 1).to_le_bytes()[..3]);
    frame.extend([100, 0, 0, 0]);
    let still = webp_lossless(width, height, None);
    frame.extend(&still[12..]);
    riff(&[
        (b"VP8X", vp8x(0x02, width, height)),
        (b"ANIM", vec![0; 6]),
        (b"ANMF", frame.clone()),
        (b"ANMF", frame),
    ])
}

fn webp_many_chunks(count: usize) -> Vec<u8> {
    let mut chunks: Vec<(&[u8; 4], Vec<u8>)> = vec![(b"VP8X", vp8x(0, 600, 800))];
    chunks.extend(std::iter::repeat_n((b"XTRA", Vec::new()), count));
    let still = webp_lossless(600, 800, None);
    chunks.push((b"VP8L", still[20..].to_vec()));
    riff(&chunks)
}

// ---------------------------------------------------------------------------------------------

fn shared(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/photos");
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

struct Case {
    name: String,
    bytes: Vec<u8>,
    crop: Option<Crop>,
    expected: &'static str,
}

fn case(name: impl Into<String>, bytes: Vec<u8>, crop: Option<Crop>, expected: &'static str) -> Case {
    Case { name: name.into(), bytes, crop, expected }
}

fn corpus() -> Vec<Case> {
    let mut cases = Vec::new();
    for name in ["phone-iphone-8mp-gps.jpg", "camera-canon-orient6-gps.jpg", "orientation-Portrait_5.jpg"] {
        cases.push(case(format!("shared {name}"), shared(name), None, "accepted"));
    }
    cases.push(case("jpeg-encoder progressive 3000×2000", jpeg_encoded(3000, 2000, true), None, "accepted"));

    // JPEG: the pixel bound is 50 MP for sequential frames, decoded at 1/8 by default.
    let big = |sampling| jpeg(&jpeg_spec(8160, 6120, sampling));
    cases.push(case("jpeg 8160×6120 4:2:0", big(S420), None, "accepted"));
    cases.push(case(
        "jpeg 8160×6120 4:2:0, crop 934×1200",
        big(S420),
        crop(3000, 2000, 934, 1200),
        "accepted",
    ));
    cases.push(case(
        "jpeg 8160×6120 4:2:0, crop 234×300",
        big(S420),
        crop(4000, 3000, 234, 300),
        "too heavy",
    ));
    cases.push(case("jpeg 8160×6120 4:4:4", big(S444), None, "accepted"));
    cases.push(case("jpeg 8160×6120 4:4:4, crop 934×1200", big(S444), crop(10, 10, 934, 1200), "accepted"));
    cases.push(case("jpeg 8160×6120 4:2:2", big(S422), None, "accepted"));
    cases.push(case("jpeg 8160×6120 h4v2", big(S_ODD), None, "accepted"));
    cases.push(case("jpeg 8160×6120 grey", big(GREY), None, "accepted"));
    let cmyk = |transform| jpeg(&JpegSpec { adobe: Some(transform), ..jpeg_spec(7000, 7000, FOUR) });
    cases.push(case("jpeg 7000×7000 cmyk", cmyk(0), None, "accepted"));
    cases.push(case("jpeg 7000×7000 ycck, crop 1400×1800", cmyk(2), crop(100, 100, 1400, 1800), "accepted"));
    cases.push(case("jpeg 7000×7000 ycck, crop 700×900", cmyk(2), crop(100, 100, 700, 900), "too heavy"));
    cases.push(case("jpeg 65500×300", jpeg(&jpeg_spec(65500, 300, S420)), None, "too heavy"));
    cases.push(case("jpeg 300×65500", jpeg(&jpeg_spec(300, 65500, S420)), None, "too heavy"));
    cases.push(case("jpeg 65535×65535 header", jpeg_header_only(65535, 65535), None, "too many pixels"));
    cases.push(case("jpeg 9000×6000 header", jpeg_header_only(9000, 6000), None, "too many pixels"));
    let comments = JpegSpec { comments: MAX_PARTS, ..jpeg_spec(600, 800, S420) };
    cases.push(case(format!("jpeg {MAX_PARTS} comments"), jpeg(&comments), None, "too many parts"));

    // Progressive: every coefficient held, 13 MP at most, and at most MAX_SCANS scans.
    let progressive = |width, height, sampling, refinements| JpegSpec {
        progressive: true,
        refinements,
        ..jpeg_spec(width, height, sampling)
    };
    let max_refinements = MAX_SCANS - 4;
    let most_scans = progressive(4160, 3120, S420, max_refinements);
    cases.push(case(
        format!("progressive 4160×3120 4:2:0, {MAX_SCANS} scans"),
        jpeg(&most_scans),
        None,
        "accepted",
    ));
    // A small crop needs the full scale, which does not fit on top of the coefficients; half
    // the scale does as long as the frame keeps 300 pixels.
    let crop_small = crop(2000, 1000, 234, 300);
    cases.push(case("progressive 4160×3120 4:2:0, crop 234×300", jpeg(&most_scans), crop_small, "too heavy"));
    let crop_600 = crop(2000, 1000, 467, 600);
    let few_scans = progressive(4160, 3120, S420, 0);
    cases.push(case("progressive 4160×3120 4:2:0, crop 467×600", jpeg(&few_scans), crop_600, "accepted"));
    let too_many = progressive(600, 800, S420, 5000);
    cases.push(case("progressive 600×800, 5004 scans", jpeg(&too_many), None, "too many scans"));
    cases.push(case(
        "progressive 4160×3120 4:4:4",
        jpeg(&progressive(4160, 3120, S444, 0)),
        None,
        "too heavy",
    ));
    cases.push(case(
        "progressive 2800×2800 4:4:4",
        jpeg(&progressive(2800, 2800, S444, 0)),
        None,
        "accepted",
    ));
    cases.push(case("progressive 4160×3120 grey", jpeg(&progressive(4160, 3120, GREY, 0)), None, "accepted"));
    let cmyk = |size| JpegSpec { adobe: Some(0), ..progressive(size, size, FOUR, 0) };
    cases.push(case("progressive 3000×3000 cmyk", jpeg(&cmyk(3000)), None, "too heavy"));
    cases.push(case("progressive 2400×2400 cmyk", jpeg(&cmyk(2400)), None, "accepted"));
    let open = JpegSpec { incomplete: true, ..progressive(4160, 3120, S420, 0) };
    cases.push(case("progressive 4160×3120, no component complete", jpeg(&open), None, "too heavy"));
    let open = JpegSpec { incomplete: true, ..progressive(3000, 3000, S420, 0) };
    cases.push(case("progressive 3000×3000, no component complete", jpeg(&open), None, "accepted"));

    // PNG: 13 MP, row by row.
    cases.push(case("png 3600×3600 rgba16", png(&png_spec(3600, 3600, 16, 6)), None, "accepted"));
    cases.push(case("png 3600×3600 rgb16", png(&png_spec(3600, 3600, 16, 2)), None, "accepted"));
    cases.push(case("png 3600×3600 grey16", png(&png_spec(3600, 3600, 16, 0)), None, "accepted"));
    // The other layouts at a third of that: the rows' sizes, not the pixel count, differ.
    cases.push(case("png 2000×2000 grey-alpha8", png(&png_spec(2000, 2000, 8, 4)), None, "accepted"));
    cases.push(case("png 2000×2000 palette", png(&png_spec(2000, 2000, 8, 3)), None, "accepted"));
    cases.push(case("png 2000×2000 grey1", png(&png_spec(2000, 2000, 1, 0)), None, "accepted"));
    let interlaced = PngSpec { interlaced: true, ..png_spec(3600, 3600, 16, 6) };
    cases.push(case("png 3600×3600 rgba16 adam7", png(&interlaced), None, "accepted"));
    cases.push(case(
        "png 3600×3600 rgba16 adam7, crop 234×300",
        png(&interlaced),
        crop(3000, 3000, 234, 300),
        "accepted",
    ));
    cases.push(case("png 43000×300 rgba16", png(&png_spec(43_000, 300, 16, 6)), None, "accepted"));
    cases.push(case("png 300×43000 rgba16", png(&png_spec(300, 43_000, 16, 6)), None, "accepted"));
    let apng = PngSpec { animated: true, ..png_spec(2000, 2000, 8, 6) };
    cases.push(case("apng 2000×2000", png(&apng), None, "accepted"));
    let idats = PngSpec { idat_chunks: MAX_PARTS - 8, ..png_spec(2000, 2000, 8, 2) };
    cases.push(case(format!("png {} idat chunks", MAX_PARTS - 8), png(&idats), None, "accepted"));
    let text = (*b"tEXt", b"Comment\0x".to_vec());
    let texts = PngSpec { before: vec![text; MAX_PARTS], ..png_spec(600, 800, 8, 2) };
    cases.push(case(format!("png {MAX_PARTS} text chunks"), png(&texts), None, "too many parts"));
    let mut exif = b"MM\0\x2a\0\0\0\x08\0\0".to_vec();
    exif.resize(MAX_BODY_BYTES - (64 << 10), 0);
    let big_exif = PngSpec { before: vec![(*b"eXIf", exif)], ..png_spec(600, 800, 8, 2) };
    cases.push(case("png 600×800, 4.6 MB eXIf", png(&big_exif), None, "accepted"));
    cases.push(case("png 65535×65535 header", png_header_only(65535, 65535), None, "too many pixels"));
    cases.push(case("png 30000×30000 header", png_header_only(30000, 30000), None, "too many pixels"));

    // WebP.
    cases.push(case("webp lossless 3600×3600", webp_lossless(3600, 3600, None), None, "accepted"));
    let alpha = Some([30, 60, 220, 100]);
    cases.push(case("webp lossless 3600×3600 alpha", webp_lossless(3600, 3600, alpha), None, "accepted"));
    let small = webp_lossless(2000, 2000, None);
    cases.push(case("webp lossless 2000×2000, crop 234×300", small, crop(0, 0, 234, 300), "accepted"));
    cases.push(case("webp lossless 16383×16383", webp_lossless(16383, 16383, None), None, "too many pixels"));
    cases.push(case("webp lossless 60000 groups", webp_huffman_bomb(60_000), None, "too heavy"));
    cases.push(case("webp lossy 4160×3120", webp_lossy(4160, 3120), None, "accepted"));
    cases.push(case(
        "webp lossy 2000×2000, crop 234×300",
        webp_lossy(2000, 2000),
        crop(10, 10, 234, 300),
        "accepted",
    ));
    cases.push(case(
        "webp lossy 16383×16383 header",
        webp_lossy_header(16383, 16383),
        None,
        "too many pixels",
    ));
    cases.push(case("webp lossy 2000×2000 raw alpha", webp_lossy_alpha(2000, 2000, false), None, "accepted"));
    cases.push(case(
        "webp lossy 2000×2000 lossless alpha",
        webp_lossy_alpha(2000, 2000, true),
        None,
        "accepted",
    ));
    cases.push(case(
        "webp lossy 3600×3600 lossless alpha",
        webp_lossy_alpha(3600, 3600, true),
        None,
        "too heavy",
    ));
    cases.push(case("webp animated 600×800", webp_animated(600, 800), None, "animated"));
    cases.push(case(format!("webp {MAX_PARTS} chunks"), webp_many_chunks(MAX_PARTS), None, "too many parts"));
    cases
}

// The worst-case corpus: each file gives its expected outcome within the memory and CPU bounds.
#[test]
fn worst_case_corpus() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Start rayon's pool and the resizer's CPU detection outside the measures.
    photo::process(&shared("camera-nikon-gps.jpg"), None).unwrap();
    let mut failures = Vec::new();
    println!("\n{:<58} {:>16} {:>9} {:>8} {:>8}", "case", "outcome", "peak MiB", "CPU ms", "KiB");
    for Case { name, bytes, crop, expected } in corpus() {
        assert!(bytes.len() <= MAX_BODY_BYTES, "{name}: {} bytes, above the body limit", bytes.len());
        let m = measure(&bytes, crop);
        let peak = m.peak as f64 / f64::from(1 << 20);
        let size = bytes.len() / 1024;
        println!("{name:<58} {:>16} {peak:>9.1} {:>8} {size:>8}", m.kind, m.cpu.as_millis());
        if m.kind != expected {
            failures.push(format!("{name}: expected {expected}, got {:?}", m.outcome));
        }
        if m.peak > MEMORY_BUDGET {
            failures.push(format!("{name}: peak {peak:.1} MiB above the budget"));
        }
        if m.cpu > CPU_BOUND {
            failures.push(format!("{name}: {} ms of CPU", m.cpu.as_millis()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Small generated images in every format, the fuzzer's seeds beside the real photos.
fn generated_seeds() -> Vec<Vec<u8>> {
    let rgba: Vec<u8> =
        (0..300u32 * 400).flat_map(|i| [(i % 300) as u8, (i / 300) as u8, 128, (i % 7 * 40) as u8]).collect();
    let mut png_rgba = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png_rgba)
        .write_image(&rgba, 300, 400, image::ExtendedColorType::Rgba8)
        .unwrap();
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(&rgba, 300, 400, image::ExtendedColorType::Rgba8)
        .unwrap();
    let interlaced = png(&PngSpec { interlaced: true, ..png_spec(300, 400, 16, 6) });
    vec![
        png_rgba,
        webp,
        interlaced,
        png(&png_spec(300, 400, 8, 3)),
        webp_lossy(300, 400),
        webp_lossy_alpha(300, 400, true),
        jpeg(&JpegSpec { progressive: true, refinements: 2, ..jpeg_spec(300, 400, S420) }),
        jpeg_encoded(320, 400, true),
    ]
}

/// A change to a file: what a damaged upload or a hostile one does.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit {
        at: usize,
        bit: u8,
    },
    Truncate {
        at: usize,
    },
    Insert {
        at: usize,
        bytes: Vec<u8>,
    },
    Delete {
        at: usize,
        len: usize,
    },
    /// A 16- or 32-bit field near the start (dimensions, lengths, counts) set to an extreme.
    Field {
        at: usize,
        wide: bool,
        value: u32,
    },
}

fn apply(bytes: &mut Vec<u8>, mutation: &Mutation) {
    let position = |at: usize, len: usize| if len == 0 { 0 } else { at % len };
    match mutation {
        Mutation::FlipBit { at, bit } => {
            let at = position(*at, bytes.len());
            if let Some(byte) = bytes.get_mut(at) {
                *byte ^= 1 << bit;
            }
        }
        Mutation::Truncate { at } => bytes.truncate(position(*at, bytes.len())),
        Mutation::Insert { at, bytes: inserted } => {
            let at = position(*at, bytes.len() + 1);
            bytes.splice(at..at, inserted.iter().copied());
        }
        Mutation::Delete { at, len } => {
            let at = position(*at, bytes.len());
            let end = (at + len).min(bytes.len());
            bytes.drain(at..end);
        }
        Mutation::Field { at, wide, value } => {
            let width = if *wide { 4 } else { 2 };
            let at = position(*at, bytes.len().min(256).saturating_sub(width).max(1));
            if bytes.len() >= at + width {
                let field =
                    if *wide { value.to_be_bytes().to_vec() } else { (*value as u16).to_be_bytes().to_vec() };
                bytes[at..at + width].copy_from_slice(&field);
            }
        }
    }
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let extreme =
        prop_oneof![Just(0u32), Just(1), Just(0xFFFF), Just(0x7FFF_FFFF), Just(u32::MAX), any::<u32>()];
    prop_oneof![
        4 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        1 => any::<usize>().prop_map(|at| Mutation::Truncate { at }),
        1 => (any::<usize>(), prop::collection::vec(any::<u8>(), 1..64)).prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..256).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (any::<usize>(), any::<bool>(), extreme).prop_map(|(at, wide, value)| Mutation::Field { at, wide, value }),
    ]
}

fn fuzz_crop() -> impl Strategy<Value = Option<Crop>> {
    let side = prop_oneof![0u32..64, 200u32..4000, Just(u32::MAX)];
    prop_oneof![
        2 => Just(None),
        1 => (0u32..4000, 0u32..4000, side.clone(), side)
            .prop_map(|(x, y, width, height)| Some(Crop { x, y, width, height })),
    ]
}

// Mutations of real photos and generated files, with and without crops: no panic, and each
// case within the memory and CPU bounds.
#[test]
fn fuzz_mutations() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut seeds: Vec<Vec<u8>> =
        ["phone-iphone-8mp-gps.jpg", "phone-jolla-8mp.jpg", "camera-canon-orient6-gps.jpg"]
            .into_iter()
            .chain(["camera-nikon-gps.jpg", "orientation-Landscape_6.jpg"])
            .map(shared)
            .collect();
    seeds.extend(generated_seeds());
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64);
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let strategy = (0..seeds.len(), prop::collection::vec(mutation(), 1..6), fuzz_crop());
    let (worst_cpu, worst_peak, count) = (Cell::new(Duration::ZERO), Cell::new(0), Cell::new(0));
    let result = runner.run(&strategy, |(seed, mutations, crop)| {
        let mut bytes = seeds[seed].clone();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let m = measure(&bytes, crop);
        worst_cpu.set(worst_cpu.get().max(m.cpu));
        worst_peak.set(worst_peak.get().max(m.peak));
        count.set(count.get() + 1);
        prop_assert!(m.cpu <= CPU_BOUND, "{} ms of CPU ({})", m.cpu.as_millis(), m.kind);
        prop_assert!(m.peak <= MEMORY_BUDGET, "peak {} bytes ({})", m.peak, m.kind);
        Ok(())
    });
    let peak = worst_peak.get() as f64 / f64::from(1 << 20);
    let cpu = worst_cpu.get().as_millis();
    println!("fuzz: {} runs, worst CPU {cpu} ms, worst peak {peak:.1} MiB", count.get());
    result.unwrap();
}

// The face detection's own peak, on the largest grey copy it is given (a square one, the detector's
// `max_side` on both sides) tiled with faces so that its cascade keeps as many windows as it can,
// stays within the share of the budget the pipeline counts for it.
#[test]
fn face_detection_peak() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let side = photo::face::DETECTION.max_side;
    let tile = image::load_from_memory(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/faces/portraits/solvay-three.jpg"),
        )
        .unwrap(),
    )
    .unwrap()
    .to_luma8();
    let grey: Vec<u8> = (0..side * side)
        .map(|i| tile.get_pixel((i % side) % tile.width(), (i / side) % tile.height())[0])
        .collect();
    photo::face::load_model();
    let base = CURRENT.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let faces = photo::face::detect(&grey, side, side);
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    println!("{} faces, peak {:.1} MiB", faces.len(), peak as f64 / f64::from(1 << 20));
    assert!(!faces.is_empty(), "the tiled faces are found");
    assert!(peak <= photo::face::DETECTION_BYTES, "peak {peak} bytes");
}
