//! Reads a lossless WebP (VP8L) bitstream up to its pixel data, to count what image-webp will
//! allocate for it beyond the output buffer: transform data, color caches, the entropy image and,
//! above all, the Huffman tables.
//!
//! A VP8L image may declare up to 65,536 groups of 5 Huffman codes (one pixel of its entropy
//! image names the largest group), and image-webp builds every table, up to 4 KiB each, from
//! about 14 bytes of bitstream: a 3 MB file can make it allocate over a gigabyte whatever the
//! image's size. Nothing in the header says how many groups there are: the entropy image and
//! the transforms before it must be entropy-decoded to know, which is what this module does,
//! following image-webp 0.2's `lossless.rs` and `huffman.rs` step for step (the same bits read
//! in the same order, the same errors). Rejected: bounding the tables by the chunk's size
//! (hundreds of bytes of tables per byte of input) and refusing entropy images (libwebp's
//! encoder writes one for nearly every photo).
//!
//! It allocates what image-webp allocates for the same sub-images, and frees it on return.

use super::PhotoError;

const CODE_LENGTH_CODE_ORDER: [usize; 19] =
    [17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

#[rustfmt::skip]
const DISTANCE_MAP: [(i8, i8); 120] = [
    (0, 1),  (1, 0),  (1, 1),  (-1, 1), (0, 2),  (2, 0),  (1, 2),  (-1, 2),
    (2, 1),  (-2, 1), (2, 2),  (-2, 2), (0, 3),  (3, 0),  (1, 3),  (-1, 3),
    (3, 1),  (-3, 1), (2, 3),  (-2, 3), (3, 2),  (-3, 2), (0, 4),  (4, 0),
    (1, 4),  (-1, 4), (4, 1),  (-4, 1), (3, 3),  (-3, 3), (2, 4),  (-2, 4),
    (4, 2),  (-4, 2), (0, 5),  (3, 4),  (-3, 4), (4, 3),  (-4, 3), (5, 0),
    (1, 5),  (-1, 5), (5, 1),  (-5, 1), (2, 5),  (-2, 5), (5, 2),  (-5, 2),
    (4, 4),  (-4, 4), (3, 5),  (-3, 5), (5, 3),  (-5, 3), (0, 6),  (6, 0),
    (1, 6),  (-1, 6), (6, 1),  (-6, 1), (2, 6),  (-2, 6), (6, 2),  (-6, 2),
    (4, 5),  (-4, 5), (5, 4),  (-5, 4), (3, 6),  (-3, 6), (6, 3),  (-6, 3),
    (0, 7),  (7, 0),  (1, 7),  (-1, 7), (5, 5),  (-5, 5), (7, 1),  (-7, 1),
    (4, 6),  (-4, 6), (6, 4),  (-6, 4), (2, 7),  (-2, 7), (7, 2),  (-7, 2),
    (3, 7),  (-3, 7), (7, 3),  (-7, 3), (5, 6),  (-5, 6), (6, 5),  (-6, 5),
    (8, 0),  (4, 7),  (-4, 7), (7, 4),  (-7, 4), (8, 1),  (8, 2),  (6, 6),
    (-6, 6), (8, 3),  (5, 7),  (-5, 7), (7, 5),  (-7, 5), (8, 4),  (6, 7),
    (-6, 7), (7, 6),  (-7, 6), (8, 5),  (7, 7),  (-7, 7), (8, 6),  (8, 7),
];

/// Alphabet sizes of the 5 codes of a group: green (and lengths, and cache indices), red,
/// blue, alpha, distance.
const ALPHABET: [u16; 5] = [256 + 24, 256, 256, 256, 40];

/// image-webp's primary table covers codes up to this many bits; longer ones go to a tree.
const MAX_TABLE_BITS: u16 = 10;
/// Bytes of one `HuffmanTree` (an enum holding two `Vec`s) and of one tree node (an enum
/// holding a `usize`).
const TREE_STRUCT: usize = 56;
const TREE_NODE: usize = 16;
/// Transform lookup tables and row buffers (`lossless_transform.rs`), a few kilobytes.
const TRANSFORM_TEMP: usize = 64 << 10;

/// Most prefix-code symbols the walk reads (code lengths and sub-image pixels) before giving
/// up. A real file needs a few million at most: libwebp writes at most 2,600 groups of 5 codes
/// of a few hundred lengths, and sub-images of a sixteenth of the image (about 800,000 pixels
/// for 13 megapixels). Without a cap, a file of single-bit codes would have the walk read one
/// symbol per bit of its 4.6 MB.
const MAX_SYMBOLS: usize = 8 << 20;

fn corrupt(what: &str) -> PhotoError {
    PhotoError::Corrupt(format!("lossless webp: {what}"))
}

/// Why a walk stopped early.
enum Stop {
    /// The stream is malformed where image-webp would also refuse it.
    Corrupt(&'static str),
    /// More than the caller's limit would be allocated, or more than [`MAX_SYMBOLS`] read.
    TooHeavy,
}

type Walked<T> = Result<T, Stop>;

/// The bytes image-webp's lossless decoder allocates for `stream` beyond its output buffer:
/// the whole VP8L chunk (`implicit` false), or the payload of a compressed `ALPH` chunk, whose
/// stream has no header and the image's size (`implicit` true). `None` as soon as it is known to
/// exceed `limit` (or the stream to be too costly to read).
pub(super) fn decoder_bytes(
    stream: &[u8],
    implicit: bool,
    width: u32,
    height: u32,
    limit: usize,
) -> Result<Option<usize>, PhotoError> {
    let (Ok(width), Ok(height)) = (u16::try_from(width), u16::try_from(height)) else {
        return Err(corrupt("too large"));
    };
    let mut walk = Walk { bits: Bits { bytes: stream, position: 0 }, heap: 0, symbols: 0, limit };
    match walk.image(implicit, width, height) {
        Ok(()) => Ok(Some(walk.heap)),
        Err(Stop::TooHeavy) => Ok(None),
        Err(Stop::Corrupt(what)) => Err(corrupt(what)),
    }
}

fn subsample(size: u16, bits: u8) -> u16 {
    ((u32::from(size) + (1 << bits) - 1) >> bits) as u16
}

/// The bitstream, least significant bit first.
struct Bits<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl Bits<'_> {
    /// The next `n` bits (at most 24) without consuming them; zeros past the end, as
    /// image-webp's bit buffer holds.
    fn peek(&self, n: u16) -> u32 {
        let mut word = [0u8; 8];
        let rest = self.bytes.get(self.position / 8..).unwrap_or(&[]);
        let take = rest.len().min(8);
        word[..take].copy_from_slice(&rest[..take]);
        ((u64::from_le_bytes(word) >> (self.position % 8)) & ((1 << n) - 1)) as u32
    }

    fn consume(&mut self, n: u16) -> Walked<()> {
        if self.position + usize::from(n) > self.bytes.len() * 8 {
            return Err(Stop::Corrupt("truncated"));
        }
        self.position += usize::from(n);
        Ok(())
    }

    fn read(&mut self, n: u16) -> Walked<u32> {
        let value = self.peek(n);
        self.consume(n)?;
        Ok(value)
    }
}

/// A prefix code: one symbol (no bits), a table indexed by the next `max_length` bits
/// (rejected: image-webp's 10-bit table and tree, since only the bits consumed need to agree),
/// or, for the main image's codes, which are never read from here, nothing.
enum Code {
    Single(u16),
    Table { max_length: u16, entries: Vec<(u16, u16)> },
    Unread,
}

impl Code {
    fn is_single(&self) -> bool {
        matches!(self, Code::Single(_))
    }
}

/// What a code is read for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The code-length code, read from here and freed at once by image-webp.
    Lengths,
    /// A sub-image's code, read from here and kept by image-webp while it decodes the sub-image.
    Pixels,
    /// The main image's code, kept by image-webp and never read from here.
    Unread,
}

/// The walk's state: the bits, what image-webp would have allocated so far, the symbols read.
struct Walk<'a> {
    bits: Bits<'a>,
    heap: usize,
    symbols: usize,
    limit: usize,
}

impl Walk<'_> {
    fn allocate(&mut self, bytes: usize) -> Walked<()> {
        self.heap = self.heap.saturating_add(bytes);
        if self.heap > self.limit { Err(Stop::TooHeavy) } else { Ok(()) }
    }

    fn symbol(&mut self, code: &Code) -> Walked<u16> {
        self.symbols += 1;
        if self.symbols > MAX_SYMBOLS {
            return Err(Stop::TooHeavy);
        }
        match code {
            Code::Single(symbol) => Ok(*symbol),
            Code::Table { max_length, entries } => {
                let (length, symbol) = entries[self.bits.peek(*max_length) as usize];
                self.bits.consume(length)?;
                Ok(symbol)
            }
            Code::Unread => Err(Stop::Corrupt("code not built")),
        }
    }

    /// `decode_frame` up to the main image's pixels: header, transforms, main stream.
    fn image(&mut self, implicit: bool, width: u16, height: u16) -> Walked<()> {
        if !implicit {
            if self.bits.read(8)? != 0x2F {
                return Err(Stop::Corrupt("signature"));
            }
            let (w, h) = (self.bits.read(14)? + 1, self.bits.read(14)? + 1);
            if (w, h) != (u32::from(width), u32::from(height)) {
                return Err(Stop::Corrupt("header size"));
            }
            self.bits.read(1)?;
            if self.bits.read(3)? != 0 {
                return Err(Stop::Corrupt("version"));
            }
        }
        self.allocate(TRANSFORM_TEMP + usize::from(width) * 8)?;
        let mut xsize = width;
        let mut seen = [false; 4];
        while self.bits.read(1)? == 1 {
            let kind = self.bits.read(2)? as usize;
            if std::mem::replace(&mut seen[kind], true) {
                return Err(Stop::Corrupt("transform repeated"));
            }
            match kind {
                0 | 1 => {
                    let size_bits = self.bits.read(3)? as u8 + 2;
                    let (w, h) = (subsample(xsize, size_bits), subsample(height, size_bits));
                    self.allocate(usize::from(w) * usize::from(h) * 4)?;
                    self.sub_image(w, h)?;
                }
                2 => {}
                _ => {
                    let table_size = self.bits.read(8)? as u16 + 1;
                    self.allocate(usize::from(table_size) * 4)?;
                    self.sub_image(table_size, 1)?;
                    let packing = match table_size {
                        0..=2 => 3,
                        3..=4 => 2,
                        5..=16 => 1,
                        _ => 0,
                    };
                    xsize = subsample(xsize, packing);
                }
            }
        }
        self.main_stream(xsize, height)
    }

    /// Builds the code of `lengths` as image-webp's `build_implicit` does (refused when empty
    /// or not complete, a Kraft sum other than 1; one symbol when only one has a length) and
    /// counts what its `HuffmanTree` allocates: a table of `2^min(longest, 10)` u32 entries and
    /// two tree nodes per code longer than that, except for the code-length code, freed as soon
    /// as it has been read. The decoding table only when it will be read from here.
    fn build(&mut self, lengths: &[u16], role: Role) -> Walked<Code> {
        let mut histogram = [0u16; 16];
        let mut count = 0;
        for &length in lengths.iter().filter(|&&l| l != 0) {
            histogram[usize::from(length)] += 1;
            count += 1;
        }
        if count == 0 {
            return Err(Stop::Corrupt("empty code"));
        }
        if count == 1 {
            return Ok(Code::Single(lengths.iter().position(|&l| l != 0).unwrap_or(0) as u16));
        }
        let max_length = histogram.iter().rposition(|&n| n != 0).unwrap_or(0) as u16;
        let mut next = [0u32; 16];
        let mut code = 0u32;
        for length in 1..=usize::from(max_length) {
            next[length] = code;
            code = (code + u32::from(histogram[length])) << 1;
        }
        if code != 2 << max_length {
            return Err(Stop::Corrupt("incomplete code"));
        }
        let table_bits = max_length.min(MAX_TABLE_BITS);
        let long: usize = histogram[usize::from(table_bits) + 1..].iter().map(|&n| usize::from(n)).sum();
        if role != Role::Lengths {
            self.allocate((4 << table_bits) + 2 * long * TREE_NODE)?;
        }
        if role == Role::Unread {
            return Ok(Code::Unread);
        }
        let mut entries = vec![(0, 0); 1 << max_length];
        for (symbol, &length) in lengths.iter().enumerate().filter(|(_, l)| **l != 0) {
            let canonical = next[usize::from(length)];
            next[usize::from(length)] += 1;
            // Codes are read least significant bit first: the table is indexed by the reversed
            // code, every index that starts with it.
            let reversed = (canonical.reverse_bits() >> (32 - length)) as usize;
            for index in (reversed..entries.len()).step_by(1 << length) {
                entries[index] = (length, symbol as u16);
            }
        }
        Ok(Code::Table { max_length, entries })
    }

    /// Reads one prefix code of `alphabet` symbols (`read_huffman_code`).
    fn code(&mut self, alphabet: u16, role: Role) -> Walked<Code> {
        if self.bits.read(1)? == 1 {
            let two = self.bits.read(1)? == 1;
            let first_bits = if self.bits.read(1)? == 1 { 8 } else { 1 };
            let zero = self.bits.read(first_bits)? as u16;
            if zero >= alphabet {
                return Err(Stop::Corrupt("symbol"));
            }
            if !two {
                return Ok(Code::Single(zero));
            }
            let one = self.bits.read(8)? as u16;
            if one >= alphabet {
                return Err(Stop::Corrupt("symbol"));
            }
            // image-webp's two-node tree: 3 nodes and a 2-entry table.
            self.allocate(3 * TREE_NODE + 8)?;
            return Ok(Code::Table { max_length: 1, entries: vec![(1, zero), (1, one)] });
        }
        let mut code_length_lengths = [0u16; 19];
        let count = 4 + self.bits.read(4)? as usize;
        for &symbol in &CODE_LENGTH_CODE_ORDER[..count] {
            code_length_lengths[symbol] = self.bits.read(3)? as u16;
        }
        let length_code = self.build(&code_length_lengths, Role::Lengths)?;
        let mut max_symbol = if self.bits.read(1)? == 1 {
            let length_bits = 2 + 2 * self.bits.read(3)? as u16;
            let max_minus_two = self.bits.read(length_bits)? as u16;
            if max_minus_two > alphabet - 2 {
                return Err(Stop::Corrupt("max symbol"));
            }
            2 + max_minus_two
        } else {
            alphabet
        };
        let mut lengths = vec![0u16; usize::from(alphabet)];
        let mut previous = 8;
        let mut symbol = 0;
        while symbol < alphabet && max_symbol > 0 {
            max_symbol -= 1;
            let length = self.symbol(&length_code)?;
            if length < 16 {
                lengths[usize::from(symbol)] = length;
                symbol += 1;
                if length != 0 {
                    previous = length;
                }
                continue;
            }
            let (extra, offset) = match length {
                16 => (2, 3),
                17 => (3, 3),
                _ => (7, 11),
            };
            let repeat = self.bits.read(extra)? as u16 + offset;
            if symbol + repeat > alphabet {
                return Err(Stop::Corrupt("repeat"));
            }
            let value = if length == 16 { previous } else { 0 };
            lengths[usize::from(symbol)..usize::from(symbol + repeat)].fill(value);
            symbol += repeat;
        }
        self.build(&lengths, role)
    }

    /// The color cache's size in bits, if the stream has one (`read_color_cache`), allocated.
    fn color_cache(&mut self) -> Walked<Option<u8>> {
        if self.bits.read(1)? == 0 {
            return Ok(None);
        }
        match self.bits.read(4)? as u8 {
            size @ 1..=11 => {
                self.allocate(4 << size)?;
                Ok(Some(size))
            }
            _ => Err(Stop::Corrupt("color cache size")),
        }
    }

    /// Reads the 5 codes of a group: green (and lengths, and cache indices), red, blue, alpha,
    /// distance.
    fn group(&mut self, cache: Option<u8>, role: Role) -> Walked<[Code; 5]> {
        let green = ALPHABET[0] + cache.map_or(0, |b| 1 << b);
        Ok([
            self.code(green, role)?,
            self.code(ALPHABET[1], role)?,
            self.code(ALPHABET[2], role)?,
            self.code(ALPHABET[3], role)?,
            self.code(ALPHABET[4], role)?,
        ])
    }

    /// Decodes a sub-image of `xsize`×`ysize` (transform data, color map, entropy image:
    /// `decode_image_stream` without meta codes, then `decode_image_data`).
    fn sub_image(&mut self, xsize: u16, ysize: u16) -> Walked<Vec<[u8; 4]>> {
        let cache_bits = self.color_cache()?;
        self.allocate(5 * TREE_STRUCT)?;
        let group = self.group(cache_bits, Role::Pixels)?;
        self.pixels(xsize, ysize, &group, cache_bits)
    }

    /// The main image's stream: color cache, entropy image and groups; its pixels are not read.
    fn main_stream(&mut self, xsize: u16, ysize: u16) -> Walked<()> {
        let cache_bits = self.color_cache()?;
        let mut groups = 1usize;
        if self.bits.read(1)? == 1 {
            let huffman_bits = self.bits.read(3)? as u8 + 2;
            let (w, h) = (subsample(xsize, huffman_bits), subsample(ysize, huffman_bits));
            // The entropy image as decoded (4 bytes a pixel), then as group numbers (2 bytes).
            self.allocate(usize::from(w) * usize::from(h) * 6)?;
            let entropy = self.sub_image(w, h)?;
            let largest = entropy.iter().map(|p| usize::from(p[0]) << 8 | usize::from(p[1])).max();
            groups = largest.unwrap_or(0) + 1;
        }
        // The groups' vector grows by doubling: up to three times its length while it does.
        self.allocate(3 * groups * 5 * TREE_STRUCT)?;
        for _ in 0..groups {
            self.group(cache_bits, Role::Unread)?;
        }
        Ok(())
    }

    /// The pixels of a sub-image (`decode_image_data` with a single group), as RGBA.
    fn pixels(
        &mut self,
        xsize: u16,
        ysize: u16,
        group: &[Code; 5],
        cache_bits: Option<u8>,
    ) -> Walked<Vec<[u8; 4]>> {
        let total = usize::from(xsize) * usize::from(ysize);
        let mut pixels = vec![[0u8; 4]; total];
        let mut cache = vec![[0u8; 4]; cache_bits.map_or(0, |b| 1 << b)];
        let [green_code, red_code, blue_code, alpha_code, distance_code] = group;
        let insert = |cache: &mut Vec<[u8; 4]>, color: [u8; 4]| {
            if let Some(b) = cache_bits {
                cache[cache_index(color, b)] = color;
            }
        };
        // With a single group and no literal bits, image-webp fills the image at once.
        if group[..4].iter().all(Code::is_single) {
            let green = self.symbol(green_code)?;
            if green < 256 {
                let red = self.symbol(red_code)? as u8;
                let blue = self.symbol(blue_code)? as u8;
                let alpha = self.symbol(alpha_code)? as u8;
                pixels.fill([red, green as u8, blue, alpha]);
                return Ok(pixels);
            }
        }
        let mut index = 0;
        while index < total {
            let green = self.symbol(green_code)?;
            if green < 256 {
                let red = self.symbol(red_code)? as u8;
                let blue = self.symbol(blue_code)? as u8;
                let alpha = self.symbol(alpha_code)? as u8;
                let color = [red, green as u8, blue, alpha];
                pixels[index] = color;
                insert(&mut cache, color);
                index += 1;
            } else if green < 256 + 24 {
                let length = self.prefix_value(green - 256)?;
                let distance_symbol = self.symbol(distance_code)?;
                let dist = distance(xsize, self.prefix_value(distance_symbol)?);
                if index < dist || total - index < length {
                    return Err(Stop::Corrupt("backward reference"));
                }
                for i in index..index + length {
                    pixels[i] = pixels[i - dist];
                }
                // image-webp leaves the cache alone for runs of the previous pixel.
                if dist != 1 {
                    for &color in &pixels[index..index + length] {
                        insert(&mut cache, color);
                    }
                }
                index += length;
            } else {
                let Some(&color) = cache.get(usize::from(green - 280)) else {
                    return Err(Stop::Corrupt("color cache index"));
                };
                pixels[index] = color;
                index += 1;
            }
        }
        Ok(pixels)
    }

    /// `get_copy_distance`: a length or distance from its prefix symbol and extra bits.
    fn prefix_value(&mut self, prefix: u16) -> Walked<usize> {
        if prefix < 4 {
            return Ok(usize::from(prefix) + 1);
        }
        let extra = (prefix - 2) >> 1;
        let offset = (2 + (usize::from(prefix) & 1)) << extra;
        Ok(offset + self.bits.read(extra)? as usize + 1)
    }
}

/// `plane_code_to_distance`.
fn distance(xsize: u16, code: usize) -> usize {
    if code > 120 {
        return code - 120;
    }
    let (dx, dy) = DISTANCE_MAP[code - 1];
    let d = i32::from(dx) + i32::from(dy) * i32::from(xsize);
    d.max(1) as usize
}

fn cache_index(color: [u8; 4], cache_bits: u8) -> usize {
    let [r, g, b, a] = color;
    let argb = u32::from(a) << 24 | u32::from(r) << 16 | u32::from(g) << 8 | u32::from(b);
    (0x1e35_a7bd_u32.wrapping_mul(argb) >> (32 - cache_bits)) as usize
}

#[cfg(test)]
mod tests {
    use image::ImageEncoder;

    use super::*;

    /// Writes values least significant bit first, as VP8L does.
    #[derive(Default)]
    struct Writer {
        bytes: Vec<u8>,
        bits: usize,
    }

    impl Writer {
        fn put(&mut self, value: u32, n: usize) -> &mut Self {
            for i in 0..n {
                if self.bits.is_multiple_of(8) {
                    self.bytes.push(0);
                }
                let last = self.bytes.len() - 1;
                self.bytes[last] |= (((value >> i) & 1) as u8) << (self.bits % 8);
                self.bits += 1;
            }
            self
        }

        /// A simple code of one 8-bit symbol.
        fn single(&mut self, symbol: u32) -> &mut Self {
            self.put(1, 1).put(0, 1).put(1, 1).put(symbol, 8)
        }

        /// A normal code whose lengths are 1, 2, …, 10, 10 for symbols 0 to 10: a 1024-entry
        /// table in image-webp. The code-length code gives lengths 1 to 10 lengths of 4 bits
        /// (16 codes of 4 bits: complete), zero elsewhere.
        fn deep(&mut self) -> &mut Self {
            self.put(0, 1).put(19 - 4, 4);
            // Code-length code lengths in the order 17, 18, 0, 1, 2, 3, 4, 5, 16, 6..15.
            for symbol in CODE_LENGTH_CODE_ORDER {
                self.put(if symbol <= 15 { 4 } else { 0 }, 3);
            }
            // 0..=15 have 4-bit codes: symbol s is canonical code s, written reversed.
            self.put(1, 1).put(1, 3).put(9, 4); // max_symbol: 4 bits of 2 + 9 = 11 symbols
            for length in [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10] {
                let reversed = (length as u32).reverse_bits() >> 28;
                self.put(reversed, 4);
            }
            self
        }
    }

    /// A VP8L stream header for `width`×`height`.
    fn header(w: &mut Writer, width: u32, height: u32) {
        w.put(0x2F, 8).put(width - 1, 14).put(height - 1, 14).put(0, 1).put(0, 3);
    }

    // What a real encoder's file needs, as a bound of what image-webp allocates: transforms,
    // cache and a handful of groups, well under a megabyte for a small image.
    #[test]
    fn real_encoder_output() {
        let card: Vec<u8> = (0..300 * 200 * 3).map(|i| ((i / 3 % 300) ^ (i / 900)) as u8).collect();
        let mut webp = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
            .write_image(&card, 300, 200, image::ExtendedColorType::Rgb8)
            .unwrap();
        let chunk = &webp[20..];
        let bytes = decoder_bytes(chunk, false, 300, 200, usize::MAX).unwrap().unwrap();
        assert!((TRANSFORM_TEMP..1 << 20).contains(&bytes), "{bytes}");
        assert_eq!(decoder_bytes(chunk, false, 300, 200, bytes - 1).unwrap(), None);
        assert!(matches!(decoder_bytes(chunk, false, 301, 200, usize::MAX), Err(PhotoError::Corrupt(_))));
    }

    // The bomb: one entropy pixel naming a large group, every group's codes with 1024-entry
    // tables. The count is exact, and a limit stops the walk early.
    #[test]
    fn counts_every_group() {
        let groups_of = |top: u32| {
            let mut w = Writer::default();
            header(&mut w, 4, 4);
            w.put(0, 1); // no transform
            w.put(0, 1); // no color cache
            w.put(1, 1).put(0, 3); // meta codes, 4×4 blocks: a 1×1 entropy image
            w.put(0, 1); // its stream: no color cache, then 5 single codes
            w.single(top & 0xFF).single(top >> 8).single(0).single(0).single(0);
            for _ in 0..=top {
                w.deep().deep().deep().deep().deep();
            }
            w.bytes
        };
        let one = decoder_bytes(&groups_of(0), false, 4, 4, usize::MAX).unwrap().unwrap();
        let many = decoder_bytes(&groups_of(999), false, 4, 4, usize::MAX).unwrap().unwrap();
        let per_group = 5 * (4096 + 3 * TREE_STRUCT);
        assert_eq!(many - one, 999 * per_group);
        // Truncated: refused before anything is allocated.
        let mut short = groups_of(999);
        short.truncate(short.len() / 2);
        assert!(matches!(decoder_bytes(&short, false, 4, 4, usize::MAX), Err(PhotoError::Corrupt(_))));
        // Over a limit: stopped as soon as it is known, whatever follows.
        assert_eq!(decoder_bytes(&short, false, 4, 4, 100 * per_group).unwrap(), None);
    }

    // Garbage and empty streams are refused as image-webp refuses them.
    #[test]
    fn refuses_what_image_webp_refuses() {
        for stream in [&[][..], &[0x2F, 0, 0, 0, 0, 0, 0, 0], &[0x2E; 12], &[0xFF; 40]] {
            let got = decoder_bytes(stream, false, 1, 1, usize::MAX);
            assert!(matches!(got, Err(PhotoError::Corrupt(_))), "{stream:?}");
        }
    }
}
