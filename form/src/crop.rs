//! The crop rectangle a student chose in the browser (`recadrage`), in pixels of the upright photo.
//!
//! The wire format is `x,y,w,h`: four non-negative decimal integers, the top-left corner then the
//! size, measured on the photo at full resolution once its EXIF orientation has been applied (what
//! the browser shows). Whether the rectangle fits inside a given photo is the photo pipeline's
//! business: this type only knows the syntax.

use std::fmt;
use std::str::FromStr;

/// A rectangle in pixels of the upright, full-resolution photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crop {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// Why a `recadrage` value could not be read. The messages are for developers; the form maps each
/// variant to French text for students.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CropError {
    #[error("expected four comma-separated integers `x,y,w,h`, found {0} fields")]
    FieldCount(usize),
    #[error("field `{field}` is not a non-negative integer")]
    NotAnInteger { field: &'static str },
    #[error("the crop width and height must be positive")]
    Empty,
}

/// Field names in wire order, used in error messages.
const FIELDS: [&str; 4] = ["x", "y", "w", "h"];

impl Crop {
    /// Reads `x,y,w,h`. Spaces around each number are tolerated (hand-typed values); signs, decimals
    /// and anything else are not, so that `-0` or `1e3` never sneak in through a lenient parser.
    pub fn parse(s: &str) -> Result<Crop, CropError> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if parts.len() != FIELDS.len() {
            return Err(CropError::FieldCount(parts.len()));
        }
        let mut values = [0u32; 4];
        for ((value, part), field) in values.iter_mut().zip(&parts).zip(FIELDS) {
            // `u32::from_str` accepts a leading `+`: insist on digits only.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(CropError::NotAnInteger { field });
            }
            *value = part.parse().map_err(|_| CropError::NotAnInteger { field })?;
        }
        let [x, y, width, height] = values;
        if width == 0 || height == 0 {
            return Err(CropError::Empty);
        }
        Ok(Crop { x, y, width, height })
    }
}

impl FromStr for Crop {
    type Err = CropError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Crop::parse(s)
    }
}

impl fmt::Display for Crop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{},{},{},{}", self.x, self.y, self.width, self.height)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crop(x: u32, y: u32, width: u32, height: u32) -> Crop {
        Crop { x, y, width, height }
    }

    // Well-formed values parse to the expected rectangle.
    #[test]
    fn parses_valid_values() {
        let cases = [
            ("0,0,1,1", crop(0, 0, 1, 1)),
            ("10,20,350,450", crop(10, 20, 350, 450)),
            (" 10 , 20 , 350 , 450 ", crop(10, 20, 350, 450)),
            ("007,0,8,9", crop(7, 0, 8, 9)),
            ("4294967295,4294967295,4294967295,4294967295", crop(u32::MAX, u32::MAX, u32::MAX, u32::MAX)),
        ];
        for (input, expected) in cases {
            assert_eq!(Crop::parse(input), Ok(expected), "input `{input}`");
        }
    }

    // Malformed values are refused with the variant that names the problem.
    #[test]
    fn refuses_invalid_values() {
        let not_int = |field| CropError::NotAnInteger { field };
        let cases = [
            ("", CropError::FieldCount(1)),
            ("1,2,3", CropError::FieldCount(3)),
            ("1,2,3,4,5", CropError::FieldCount(5)),
            ("1;2;3;4", CropError::FieldCount(1)),
            (",2,3,4", not_int("x")),
            ("-1,2,3,4", not_int("x")),
            ("1,+2,3,4", not_int("y")),
            ("1,2,3.5,4", not_int("w")),
            ("1,2,3,1e3", not_int("h")),
            ("1,2,3,4294967296", not_int("h")),
            ("1,2,3 4,5", not_int("w")),
            ("1,2,0,5", CropError::Empty),
            ("1,2,5,0", CropError::Empty),
        ];
        for (input, expected) in cases {
            assert_eq!(Crop::parse(input), Err(expected), "input `{input}`");
        }
    }

    // Display writes the wire format back, and FromStr reads it again unchanged.
    #[test]
    fn display_round_trips() {
        for c in [crop(0, 0, 1, 1), crop(12, 34, 350, 450)] {
            let text = c.to_string();
            assert_eq!(text.parse::<Crop>(), Ok(c), "text `{text}`");
        }
        assert_eq!(crop(1, 2, 3, 4).to_string(), "1,2,3,4");
    }
}
