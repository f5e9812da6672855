//! Colours: the resized pixels, in whatever colour space the upload's embedded ICC profile says
//! (Display P3 from iPhones, Adobe RGB from cameras, CMYK from print shops), turned to sRGB with
//! `moxcms` (pure Rust), so that the stored photo, which carries no profile, shows the colours the
//! student saw: a viewer reads an untagged JPEG as sRGB.
//!
//! The conversion runs on the 413×531 output of the crop and resize, not on the decoded pixels:
//! 219,000 pixels whatever the photo, where the decoded buffer of a 12 MP phone photo at 1/4
//! scale holds 760,000 (and a PNG or WebP decoded in full up to 13 million). Rejected: converting
//! the decoded pixels before the resize, as littleCMS-based tools do: three to sixty times the
//! work, for a difference of 0.18 mean ΔE2000 on the CMYK photo of `handler/tests/colours.rs` (littleCMS
//! on both orders), since the Lanczos resize mixes neighbouring pixels of similar colour; and
//! converting in the decoder's row loop (jpeg-decoder has no hook there). A CMYK photo is
//! resized as its four inks and converted afterwards likewise, so no RGB copy of the decoded
//! image exists.
//!
//! Which profiles are read ([`Profile`], found by the container walk before any decoding):
//! - JPEG: the `ICC_PROFILE` APP2 chunks, joined in their sequence order (ICC.1 Annex B.4);
//! - WebP: the `ICCP` chunk of an extended file;
//! - PNG: the `iCCP` chunk is not read (the png crate inflates it only within its 32 MiB
//!   allocation limit, far above what the memory budget can give a profile, and no other inflate
//!   is declared in the workspace): a PNG's colours are taken as sRGB, as its `sRGB`, `gAMA` and
//!   `cHRM` chunks are ignored;
//! - HEIC is refused before any of this.
//!
//! A profile that is too large ([`MAX_PROFILE_BYTES`], checked by the walk before any parsing),
//! malformed, of another colour space than the pixels, or that `moxcms` cannot build a transform
//! from, is not an error for the student: the photo is made as if the file had no profile (RGB and
//! grey taken as sRGB, CMYK inks by the naive formula) and a warning is logged. Refusing the photo
//! would stop a request over a few tenths of ΔE on most files; guessing another space would be
//! worse than sRGB, the space nearly every untagged or mis-tagged photo is in.

use std::borrow::Cow;

use moxcms::{ColorProfile, DataColorSpace, Layout, ParsingOptions, RenderingIntent, TransformOptions};

/// Largest embedded profile used, in bytes: a CMYK press profile with its lookup tables is
/// 0.2–0.6 MB (FOGRA39 and SWOP about 0.55 MB), a display profile a few kilobytes. Checked by the
/// container walk on the chunks' declared sizes, before anything is joined or parsed; above it the
/// photo is made as if it had no profile.
pub(super) const MAX_PROFILE_BYTES: usize = 1 << 20;

/// Largest lookup table `moxcms` may read from a profile (its `max_allowed_clut_size`, in bytes),
/// far under its own default of 10 MB: a 17-point four-ink table of 16-bit samples to three
/// outputs is 0.5 MB.
const MAX_CLUT_BYTES: usize = 2 << 20;

/// An embedded ICC profile as the container walk found it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) enum Profile<'a> {
    /// The file has none: its colours are sRGB.
    #[default]
    Absent,
    /// The profile's bytes, in parts to join in order (a JPEG's APP2 chunks; one for WebP).
    Found(Vec<&'a [u8]>),
    /// The file has one the pipeline will not read, and why.
    Unusable(&'static str),
}

/// What the resized pixels hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Model {
    /// One byte of grey per pixel.
    Grey,
    /// RGB.
    Rgb,
    /// RGB and a byte to ignore (any transparency is already laid on white).
    Rgbx,
    /// CMYK ink amounts, 255 for full ink, as jpeg-decoder gives them.
    Cmyk,
}

impl Model {
    fn channels(self) -> usize {
        match self {
            Model::Grey => 1,
            Model::Rgb => 3,
            Model::Rgbx | Model::Cmyk => 4,
        }
    }
}

/// Turns `pixels` (tightly packed `model` samples) into sRGB, three bytes per pixel, through
/// `profile` when it can be used.
pub(super) fn to_srgb(pixels: &[u8], model: Model, profile: &Profile) -> Vec<u8> {
    let converted = match profile {
        Profile::Absent => None,
        Profile::Unusable(reason) => {
            tracing::warn!(reason, "embedded colour profile not used; colours taken as srgb");
            None
        }
        Profile::Found(parts) => match convert(pixels, model, &join(parts)) {
            Ok(rgb) => Some(rgb),
            Err(reason) => {
                tracing::warn!(%reason, "embedded colour profile not used; colours taken as srgb");
                None
            }
        },
    };
    converted.unwrap_or_else(|| without_profile(pixels, model))
}

fn join<'a>(parts: &[&'a [u8]]) -> Cow<'a, [u8]> {
    match parts {
        [one] => Cow::Borrowed(one),
        _ => Cow::Owned(parts.concat()),
    }
}

/// Why a found profile was not used.
#[derive(Debug, thiserror::Error)]
enum Refused {
    #[error("profile unreadable: {0}")]
    Parse(moxcms::CmsError),
    #[error("profile of colour space {profile:?} for {model:?} pixels")]
    Mismatch { profile: DataColorSpace, model: Model },
    #[error("no transform to srgb: {0}")]
    Transform(moxcms::CmsError),
}

fn convert(pixels: &[u8], model: Model, bytes: &[u8]) -> Result<Vec<u8>, Refused> {
    let options = ParsingOptions {
        max_profile_size: MAX_PROFILE_BYTES + 1,
        max_allowed_clut_size: MAX_CLUT_BYTES,
        ..ParsingOptions::default()
    };
    let source = ColorProfile::new_from_slice_with_options(bytes, options).map_err(Refused::Parse)?;
    let layout = match (source.color_space, model) {
        (DataColorSpace::Rgb, Model::Rgb) => Layout::Rgb,
        // The fourth byte rides along as alpha and is dropped with it.
        (DataColorSpace::Rgb, Model::Rgbx) => Layout::Rgba,
        (DataColorSpace::Gray, Model::Grey) => Layout::Gray,
        (DataColorSpace::Cmyk, Model::Cmyk) => Layout::Rgba,
        (profile, model) => return Err(Refused::Mismatch { profile, model }),
    };
    // Relative colorimetric: the source's white becomes sRGB's, every colour sRGB holds is kept
    // exactly, the others clipped. For a display profile (matrix and curves: Display P3, Adobe
    // RGB) every intent is that one anyway. A press profile's gamut lies inside sRGB's, so its
    // perceptual table has nothing to compress; rejected because it also moves the colours sRGB
    // holds, and the engines disagree on it: on the SWOP profile of `handler/tests/colours.rs` moxcms's
    // perceptual result is 2.2 mean ΔE2000 from littleCMS's (which adjusts the black point of
    // version 2 perceptual tables), its relative colorimetric one within 1.3.
    let options = TransformOptions {
        rendering_intent: RenderingIntent::RelativeColorimetric,
        ..TransformOptions::default()
    };
    let transform = source
        .create_transform_8bit(layout, &ColorProfile::new_srgb(), Layout::Rgb, options)
        .map_err(Refused::Transform)?;
    let count = pixels.len() / model.channels();
    let mut rgb = vec![0; count * 3];
    transform.transform(pixels, &mut rgb).map_err(Refused::Transform)?;
    Ok(rgb)
}

/// The colours of a file without a (usable) profile: grey spread to three channels, the fourth
/// byte dropped, CMYK by [`naive_cmyk`].
fn without_profile(pixels: &[u8], model: Model) -> Vec<u8> {
    match model {
        Model::Grey => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        Model::Rgb => pixels.to_vec(),
        Model::Rgbx => pixels.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect(),
        Model::Cmyk => pixels.chunks_exact(4).flat_map(naive_cmyk).collect(),
    }
}

/// CMYK inks (255 = full ink) to RGB without a profile: each ink removes its complement, black
/// removes all. Print-shop CMYK files without a profile are rare uploads, and an approximate
/// colour beats a refusal.
pub(super) fn naive_cmyk(inks: &[u8]) -> [u8; 3] {
    let [c, m, y, k] = [inks[0], inks[1], inks[2], inks[3]].map(u32::from);
    let white = 255 - k;
    [c, m, y].map(|ink| ((255 - ink) * white / 255) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal matrix-and-curves RGB profile (ICC v2): the given primaries' XYZ (D50), one
    /// gamma for the three curves.
    fn rgb_profile(primaries: [[f64; 3]; 3], gamma: f64) -> Vec<u8> {
        let s15 = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
        let xyz = |v: [f64; 3]| [&b"XYZ \0\0\0\0"[..], &s15(v[0]), &s15(v[1]), &s15(v[2])].concat();
        let curve =
            [&b"curv\0\0\0\0\0\0\0\x01"[..], &((gamma * 256.0).round() as u16).to_be_bytes(), &[0, 0]]
                .concat();
        let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
            (b"wtpt", xyz([0.9642, 1.0, 0.8249])),
            (b"rXYZ", xyz(primaries[0])),
            (b"gXYZ", xyz(primaries[1])),
            (b"bXYZ", xyz(primaries[2])),
            (b"rTRC", curve.clone()),
            (b"gTRC", curve.clone()),
            (b"bTRC", curve),
        ];
        let mut table = (tags.len() as u32).to_be_bytes().to_vec();
        let mut data = Vec::new();
        let start = 128 + 4 + 12 * tags.len();
        for (signature, body) in &tags {
            table.extend(*signature);
            table.extend(((start + data.len()) as u32).to_be_bytes());
            table.extend((body.len() as u32).to_be_bytes());
            data.extend(body);
        }
        let mut header = vec![0; 128];
        header[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
        header[12..24].copy_from_slice(b"mntrRGB XYZ ");
        header[36..40].copy_from_slice(b"acsp");
        header[68..80].copy_from_slice(&[&s15(0.9642)[..], &s15(1.0), &s15(0.8249)].concat());
        let mut profile = [header, table, data].concat();
        let size = (profile.len() as u32).to_be_bytes();
        profile[..4].copy_from_slice(&size);
        profile
    }

    /// sRGB's primaries adapted to D50 (the ICC's own sRGB profile), with gamma 2.2.
    const SRGB_D50: [[f64; 3]; 3] =
        [[0.4361, 0.2225, 0.0139], [0.3851, 0.7169, 0.0971], [0.1431, 0.0606, 0.7141]];
    /// Red and green swapped: a profile whose conversion moves every colour.
    const SWAPPED: [[f64; 3]; 3] = [SRGB_D50[1], SRGB_D50[0], SRGB_D50[2]];

    // Each model without a profile comes out as the plain RGB a viewer would show.
    #[test]
    fn without_a_profile() {
        let cases: [(&str, &[u8], Model, [u8; 3]); 5] = [
            ("grey", &[90], Model::Grey, [90, 90, 90]),
            ("rgb", &[10, 20, 30], Model::Rgb, [10, 20, 30]),
            ("rgbx", &[10, 20, 30, 0], Model::Rgbx, [10, 20, 30]),
            ("no ink", &[0, 0, 0, 0], Model::Cmyk, [255, 255, 255]),
            ("cyan ink", &[255, 0, 0, 0], Model::Cmyk, [0, 255, 255]),
        ];
        for (name, pixel, model, expected) in cases {
            let two = pixel.repeat(2);
            assert_eq!(to_srgb(&two, model, &Profile::Absent), expected.repeat(2), "{name}");
        }
    }

    // The naive CMYK formula: no ink is white, full black is black, a half black is mid grey.
    #[test]
    fn naive_cmyk_inks() {
        let cases = [
            ([0, 0, 0, 0], [255, 255, 255]),
            ([0, 0, 0, 255], [0, 0, 0]),
            ([255, 0, 0, 0], [0, 255, 255]),
            ([0, 255, 255, 0], [255, 0, 0]),
            ([0, 0, 0, 128], [127, 127, 127]),
        ];
        for (inks, rgb) in cases {
            assert_eq!(naive_cmyk(&inks), rgb, "inks {inks:?}");
        }
    }

    // A usable profile converts; every unusable one falls back to the colours without a profile.
    #[test]
    fn profiles_used_or_set_aside() {
        let pixel = [200, 40, 10];
        let swapped = rgb_profile(SWAPPED, 2.2);
        let converted = to_srgb(&pixel, Model::Rgb, &Profile::Found(vec![&swapped]));
        // Red and green trade places: the same as the colour with them swapped through the
        // profile of the plain primaries, within the 8-bit transform's rounding.
        let plain = rgb_profile(SRGB_D50, 2.2);
        let expected = to_srgb(&[40, 200, 10], Model::Rgb, &Profile::Found(vec![&plain]));
        assert_ne!(converted, pixel, "the swapped profile moves the colour");
        for (got, want) in converted.iter().zip(&expected) {
            assert!(got.abs_diff(*want) <= 1, "swapped profile: {converted:?}, expected {expected:?}");
        }
        let halves = swapped.split_at(100);
        let joined = to_srgb(&pixel, Model::Rgb, &Profile::Found(vec![halves.0, halves.1]));
        assert_eq!(joined, converted, "a profile in parts is joined in order");

        let cases: [(&str, Profile, Model); 5] = [
            ("garbage", Profile::Found(vec![b"not an icc profile at all".as_slice()]), Model::Rgb),
            ("truncated", Profile::Found(vec![&swapped[..150]]), Model::Rgb),
            ("rgb profile on grey pixels", Profile::Found(vec![&swapped]), Model::Grey),
            ("rgb profile on cmyk pixels", Profile::Found(vec![&swapped]), Model::Cmyk),
            ("set aside by the walk", Profile::Unusable("too large"), Model::Rgb),
        ];
        for (name, profile, model) in cases {
            let pixels = [10, 20, 30, 40].repeat(3)[..3 * model.channels()].to_vec();
            assert_eq!(to_srgb(&pixels, model, &profile), without_profile(&pixels, model), "{name}");
        }
    }
}
