//! Box reduction on the fly, for decoders that hand rows over one at a time (the png crate, and
//! the VP8 planes turned to RGB a row at a time): only the rows and columns of a window (the
//! frame) are kept, each `factor`×`factor` block of them averaged into one pixel, and
//! transparency laid on white on the way. So a 13-megapixel PNG framed for 413×531 never exists
//! at full size: the window is at most about 1062×826 pixels once reduced, a few megabytes.
//!
//! Averaging blocks is what jpeg-decoder's scaled IDCT does for JPEG (its 1/2, 1/4 and 1/8
//! outputs are block means of the coefficients), so every format reaches the Lanczos3 resize
//! with the same kind of input. Rejected: decoding the whole image and cropping it (a full-size
//! buffer, up to 8 bytes per pixel for 16-bit RGBA), and resizing strips as they arrive
//! (Lanczos3 needs rows on both sides of a strip's edges).

use super::colour::Model;
use super::decode::Pixels;

/// How the samples of an incoming row are laid out, 8 bits each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Samples {
    Grey,
    GreyAlpha,
    Rgb,
    Rgba,
}

impl Samples {
    fn channels_in(self) -> usize {
        match self {
            Samples::Grey => 1,
            Samples::GreyAlpha => 2,
            Samples::Rgb => 3,
            Samples::Rgba => 4,
        }
    }

    /// Transparency is laid on white, so grey stays one channel and colour three.
    pub fn channels_out(self) -> usize {
        match self {
            Samples::Grey | Samples::GreyAlpha => 1,
            Samples::Rgb | Samples::Rgba => 3,
        }
    }

    fn has_alpha(self) -> bool {
        matches!(self, Samples::GreyAlpha | Samples::Rgba)
    }
}

/// The rectangle of stored pixels to keep: columns `x..x + width`, rows `y..y + height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Window {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl Window {
    /// Size of the window once reduced by `factor`, partial blocks at the right and bottom
    /// edges counting as whole pixels.
    pub fn reduced(self, factor: u32) -> (u32, u32) {
        (self.width.div_ceil(factor), self.height.div_ceil(factor))
    }
}

/// Lays one sample on white with coverage `alpha`.
pub(super) fn over_white(value: u8, alpha: u8) -> u8 {
    let (value, alpha) = (u32::from(value), u32::from(alpha));
    ((value * alpha + 255 * (255 - alpha) + 127) / 255) as u8
}

/// Accumulates the pixels of a window, reduced by `factor`.
pub(super) struct Shrinker {
    window: Window,
    factor: u32,
    samples: Samples,
    out_width: u32,
    out_height: u32,
    /// Sums of the samples of each reduced pixel: at most 8 × 8 × 255, well inside a u16.
    sums: Vec<u16>,
}

impl Shrinker {
    /// `factor` is one of [`super::budget::REDUCTIONS`].
    pub fn new(window: Window, factor: u32, samples: Samples) -> Shrinker {
        debug_assert!((1..=8).contains(&factor));
        let (out_width, out_height) = window.reduced(factor);
        let len = out_width as usize * out_height as usize * samples.channels_out();
        Shrinker { window, factor, samples, out_width, out_height, sums: vec![0; len] }
    }

    /// The last stored row this shrinker needs.
    pub fn last_row(&self) -> u32 {
        self.window.y + self.window.height - 1
    }

    /// Adds source row `y`, whose `i`-th pixel (of `row`, laid out as `samples`) sits at
    /// column `x_start + i × x_step`: every column for a plain row, one in 2, 4 or 8 for a row of
    /// an Adam7 pass.
    pub fn add_row(&mut self, y: u32, x_start: u32, x_step: u32, row: &[u8]) {
        let Window { x: x0, y: y0, width, height } = self.window;
        if y < y0 || y - y0 >= height {
            return;
        }
        let out_row = ((y - y0) / self.factor) as usize * self.out_width as usize;
        let (cin, cout) = (self.samples.channels_in(), self.samples.channels_out());
        // The first pixel of the row at or right of the window's left edge.
        let first = if x_start >= x0 { 0 } else { (x0 - x_start).div_ceil(x_step) };
        let end = x0 + width;
        let mut x = x_start + first * x_step;
        for pixel in row.chunks_exact(cin).skip(first as usize) {
            if x >= end {
                break;
            }
            let at = (out_row + ((x - x0) / self.factor) as usize) * cout;
            let sums = &mut self.sums[at..at + cout];
            if self.samples.has_alpha() {
                let alpha = pixel[cin - 1];
                for (sum, &value) in sums.iter_mut().zip(pixel) {
                    *sum += u16::from(over_white(value, alpha));
                }
            } else {
                for (sum, &value) in sums.iter_mut().zip(pixel) {
                    *sum += u16::from(value);
                }
            }
            x += x_step;
        }
    }

    /// The reduced window, each pixel the mean of the source pixels it covers.
    pub fn finish(self) -> Pixels {
        let Window { x, y, width, height } = self.window;
        let f = self.factor;
        let cout = self.samples.channels_out();
        let mut data = Vec::with_capacity(self.sums.len());
        for (oy, sums) in self.sums.chunks_exact(self.out_width as usize * cout).enumerate() {
            let rows = f.min(height - oy as u32 * f);
            for (ox, pixel) in sums.chunks_exact(cout).enumerate() {
                let count = rows * f.min(width - ox as u32 * f);
                data.extend(pixel.iter().map(|&s| ((u32::from(s) + count / 2) / count) as u8));
            }
        }
        let model = if cout == 1 { Model::Grey } else { Model::Rgb };
        Pixels {
            data,
            width: self.out_width,
            height: self.out_height,
            model,
            scale: 1.0 / f64::from(f),
            origin: (f64::from(x), f64::from(y)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(x: u32, y: u32, width: u32, height: u32) -> Window {
        Window { x, y, width, height }
    }

    // Blocks are averaged, partial edge blocks over the pixels they hold, and rows and columns
    // outside the window ignored.
    #[test]
    fn averages_blocks_inside_the_window() {
        // A 6×3 grey image whose value is 10 × column + row.
        let mut shrinker = Shrinker::new(window(1, 0, 5, 3), 2, Samples::Grey);
        for y in 0..4 {
            let row: Vec<u8> = (0..6).map(|x| (10 * x + y) as u8).collect();
            shrinker.add_row(y, 0, 1, &row);
        }
        let pixels = shrinker.finish();
        assert_eq!((pixels.width, pixels.height, pixels.scale, pixels.origin), (3, 2, 0.5, (1.0, 0.0)));
        // Columns 1-2, 3-4, 5 alone; rows 0-1, then 2 alone.
        assert_eq!(pixels.data, vec![16, 36, 51, 17, 37, 52]);
    }

    // Interlaced rows (every other column) fill the same pixels as plain rows would.
    #[test]
    fn strided_rows_fill_their_columns() {
        let mut plain = Shrinker::new(window(0, 0, 4, 1), 1, Samples::Rgb);
        plain.add_row(0, 0, 1, &[1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
        let mut strided = Shrinker::new(window(0, 0, 4, 1), 1, Samples::Rgb);
        strided.add_row(0, 1, 2, &[2, 2, 2, 4, 4, 4]);
        strided.add_row(0, 0, 2, &[1, 1, 1, 3, 3, 3]);
        assert_eq!(plain.finish().data, strided.finish().data);
        // A window starting between two strided columns skips the one left of it.
        let mut shifted = Shrinker::new(window(2, 0, 2, 1), 1, Samples::Grey);
        shifted.add_row(0, 1, 2, &[10, 30]);
        shifted.add_row(0, 0, 2, &[0, 20]);
        assert_eq!(shifted.finish().data, vec![20, 30]);
    }

    // Transparency is laid on white before averaging, as premultiplied resizing would.
    #[test]
    fn transparency_turns_white() {
        let mut shrinker = Shrinker::new(window(0, 0, 2, 1), 2, Samples::Rgba);
        shrinker.add_row(0, 0, 1, &[0, 0, 0, 0, 0, 0, 0, 255]);
        assert_eq!(shrinker.finish().data, vec![128, 128, 128]);
        let cases = [(0, 0, 255), (0, 255, 0), (200, 255, 200), (0, 128, 127), (100, 51, 224)];
        for (value, alpha, expected) in cases {
            assert_eq!(over_white(value, alpha), expected, "{value} at {alpha}");
        }
        let mut grey = Shrinker::new(window(0, 0, 1, 1), 1, Samples::GreyAlpha);
        grey.add_row(0, 0, 1, &[0, 0]);
        assert_eq!(grey.finish().data, vec![255]);
    }
}
