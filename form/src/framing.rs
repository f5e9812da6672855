//! The 35:45 frame of the ID photo: the largest rectangle of the output's shape inside an area,
//! placed as the function places it. The function frames the whole photo this way when the
//! student sent no crop and it finds no face (with a face, it frames the face: the handler's
//! `photo::face`); the page opens its crop tool on the same frame, then moves it to the frame the
//! function's preview proposes, so that what the student sees is what would be stored. The contract carries [`FRAMING`] and
//! the page's script runs the same formula, proven equal by the shared case table.

use serde::Serialize;

use crate::limits::{MIN_FRAME_HEIGHT, OUTPUT_HEIGHT, OUTPUT_WIDTH};

/// A rectangle with fractional coordinates, so that scaling to a reduced decode loses nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
}

impl Rect {
    /// The rectangle at the origin covering a `width`×`height` image.
    pub fn whole(width: u32, height: u32) -> Rect {
        Rect { x: 0.0, y: 0.0, width: f64::from(width), height: f64::from(height) }
    }

    /// The same rectangle measured on an image scaled by `factor`.
    pub fn scaled(self, factor: f64) -> Rect {
        Rect {
            x: self.x * factor,
            y: self.y * factor,
            width: self.width * factor,
            height: self.height * factor,
        }
    }

    /// Whether a frame is at least [`MIN_FRAME_HEIGHT`] high (the shape is fixed, so its height
    /// alone decides); the tolerance absorbs the rounding of `width / ratio` when the width is
    /// the limit.
    pub fn is_large_enough(self) -> bool {
        self.height + 1e-6 >= f64::from(MIN_FRAME_HEIGHT)
    }
}

/// Where the frame sits vertically in the spare height of an area taller than 35:45.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Framing {
    /// In a whole photo: a quarter of the spare height above the frame, since faces sit in the
    /// upper part of portrait photos.
    pub whole_photo_bias: f64,
    /// In the student's crop: centred, since the student chose it around the face.
    pub crop_bias: f64,
}

/// The one copy of the framing's parameters.
pub const FRAMING: Framing = Framing { whole_photo_bias: 0.25, crop_bias: 0.5 };

/// The largest rectangle of the output's shape inside `area`: centred horizontally, and placed
/// vertically with `vertical_bias` of the spare height above it (0.5 centres it).
pub fn fit(area: Rect, vertical_bias: f64) -> Rect {
    let ratio = f64::from(OUTPUT_WIDTH) / f64::from(OUTPUT_HEIGHT);
    if area.width > area.height * ratio {
        let width = area.height * ratio;
        Rect { x: area.x + (area.width - width) / 2.0, y: area.y, width, height: area.height }
    } else {
        let height = area.width / ratio;
        Rect { x: area.x, y: area.y + (area.height - height) * vertical_bias, width: area.width, height }
    }
}

/// The frame chosen in a whole upright `width`×`height` photo when the student sent no crop and
/// no face is found.
pub fn default_frame(width: u32, height: u32) -> Rect {
    fit(Rect::whole(width, height), FRAMING.whole_photo_bias)
}
