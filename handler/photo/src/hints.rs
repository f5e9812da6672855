//! Hints: what may be wrong with the ID photo, said in plain French beside the photo (the preview)
//! and on the receipt. A hint never refuses anything: a refusal is a [`super::PhotoError`], for a
//! file that cannot make an ID photo at all; a hint is advice that the student may ignore, since a
//! detector misses faces and a measure can be fooled.
//!
//! Each hint has one threshold, in [`THRESHOLDS`], and a test on either side of it. The light and
//! the sharpness are measured on the photo as it will be stored (413×531, upright), on the face
//! when there is one, so a dark background behind a lit face is not "too dark".

use serde::Serialize;

use super::face::{Face, RULE, main_face};
use super::geometry::Rect;
use super::{OUTPUT_HEIGHT, OUTPUT_WIDTH};

/// A hint, in the order the page lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hint {
    /// No face found in the frame.
    NoFace,
    /// More than one face in the frame.
    SeveralFaces,
    /// The face has too few pixels in the original for a sharp ID photo.
    FaceTooSmall,
    /// The frame cuts the head.
    HeadCut,
    /// The face is too dark.
    TooDark,
    /// The face is washed out.
    TooBright,
    /// The face is blurred.
    Blurred,
    /// The face is far from where the rule puts it in the frame the student chose.
    OffCentre,
}

impl Hint {
    /// Every hint, in order.
    pub const ALL: [Hint; 8] = [
        Hint::NoFace,
        Hint::SeveralFaces,
        Hint::FaceTooSmall,
        Hint::HeadCut,
        Hint::TooDark,
        Hint::TooBright,
        Hint::Blurred,
        Hint::OffCentre,
    ];

    /// The wire name, as the JSON answers carry it.
    pub fn code(self) -> &'static str {
        match self {
            Hint::NoFace => "no_face",
            Hint::SeveralFaces => "several_faces",
            Hint::FaceTooSmall => "face_too_small",
            Hint::HeadCut => "head_cut",
            Hint::TooDark => "too_dark",
            Hint::TooBright => "too_bright",
            Hint::Blurred => "blurred",
            Hint::OffCentre => "off_centre",
        }
    }

    /// The French text: the contract's `[messages.hint]` (`texts`).
    pub fn message_fr(self, texts: &form::HintTexts) -> &str {
        match self {
            Hint::NoFace => &texts.no_face,
            Hint::SeveralFaces => &texts.several_faces,
            Hint::FaceTooSmall => &texts.face_too_small,
            Hint::HeadCut => &texts.head_cut,
            Hint::TooDark => &texts.too_dark,
            Hint::TooBright => &texts.too_bright,
            Hint::Blurred => &texts.blurred,
            Hint::OffCentre => &texts.off_centre,
        }
    }
}

/// Where each hint starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Another face counts when its box is at least this share of the main face's height and
    /// it overlaps the frame: a poster or a passer-by far behind does not.
    pub other_face: f64,
    /// Least head height, crown to chin, in pixels of the original: the stored photo shows the
    /// head about 400 px high (three quarters of 531), so below 200 it is enlarged more than
    /// twice and looks soft.
    pub min_head_pixels: f64,
    /// How far the head may pass the frame's edge before it counts as cut, as a share of its
    /// height: the estimate of the crown is itself a few percent off.
    pub head_cut: f64,
    /// Mean luma (0–255) of the face below which it is too dark: the evaluation set's portraits
    /// are at 98 or more, their dark variants at 39 or less.
    pub dark: f64,
    /// Share of the face's pixels at 250 or more above which it is washed out: none of the
    /// evaluation set's portraits has 1 %, its over-exposed variants 10 to 45 %.
    pub washed_out: f64,
    /// Least sharpness of the face: the mean absolute Laplacian of its luma on the stored photo,
    /// per 128 of its mean luma.
    /// On the evaluation set (`handler/tests/faces.rs`) every sharp portrait scores 2.6 or more (most 4
    /// to 20), every blurred variant 2.1 or less.
    pub sharpness: f64,
    /// How far the face's centre may be from the frame's vertical axis, as a share of the frame's
    /// width, and the crown from where the rule puts it, as a share of the frame's height.
    pub off_centre: f64,
}

/// The thresholds' one copy.
pub const THRESHOLDS: Thresholds = Thresholds {
    other_face: 0.5,
    min_head_pixels: 200.0,
    head_cut: 0.04,
    dark: 70.0,
    washed_out: 0.08,
    sharpness: 2.3,
    off_centre: 0.12,
};

/// The light and the sharpness of the stored photo, on the face or, without one, on its middle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Mean luma, 0 to 255.
    pub luma: f64,
    /// Share of pixels at 250 or more.
    pub clipped: f64,
    /// Mean absolute Laplacian of the luma, per 128 of mean luma.
    pub sharpness: f64,
}

impl Quality {
    /// Measures `area` (pixels of the photo) of an upright RGB photo of the output's size.
    pub fn measure(rgb: &[u8], area: Rect) -> Quality {
        let (width, height) = (OUTPUT_WIDTH as usize, OUTPUT_HEIGHT as usize);
        let clamp = |v: f64, max: usize| (v.max(0.0) as usize).min(max);
        let (x0, y0) = (clamp(area.x, width), clamp(area.y, height));
        let (x1, y1) = (clamp(area.x + area.width, width), clamp(area.y + area.height, height));
        let luma = |x: usize, y: usize| f64::from(super::face::luma(&rgb[(y * width + x) * 3..]));
        let (mut sum, mut clipped, mut count) = (0.0, 0usize, 0usize);
        let (mut laplacian, mut inner) = (0.0, 0usize);
        for y in y0..y1 {
            for x in x0..x1 {
                let l = luma(x, y);
                sum += l;
                clipped += usize::from(l >= 250.0);
                count += 1;
                if x > 0 && y > 0 && x + 1 < width && y + 1 < height {
                    let around = luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1);
                    laplacian += (around - 4.0 * l).abs();
                    inner += 1;
                }
            }
        }
        let share = |n: f64, of: usize| if of == 0 { 0.0 } else { n / of as f64 };
        let mean = share(sum, count);
        // Per unit of light: a dark photo has weaker edges everywhere, a blurred one weaker edges
        // than its light accounts for.
        let sharpness = share(laplacian, inner) * 128.0 / mean.max(16.0);
        Quality { luma: mean, clipped: share(clipped as f64, count), sharpness }
    }
}

/// What the hints are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct Seen<'a> {
    /// The faces found, in pixels of the upright original.
    pub faces: &'a [Face],
    /// The frame of the ID photo, in the same pixels.
    pub frame: Rect,
    /// Whether the student chose the frame (the off-centre hint is about that frame only).
    pub chosen: bool,
    /// The stored photo's light and sharpness.
    pub quality: Quality,
    /// Pixels of the original for one pixel of the photo looked at: 1, or more for the preview's
    /// reduced copy.
    pub scale: f64,
}

/// The face the photo is about: the largest of those the frame holds.
pub fn subject(faces: &[Face], frame: Rect) -> Option<Face> {
    let in_frame: Vec<Face> = faces.iter().filter(|f| overlaps(f.bounds, frame)).copied().collect();
    main_face(&in_frame).copied()
}

/// The hints for what was seen, in [`Hint::ALL`]'s order.
pub fn assess(seen: &Seen) -> Vec<Hint> {
    let t = THRESHOLDS;
    let frame = seen.frame;
    let mut hints = Vec::new();
    let quality = seen.quality;
    let Some(face) = subject(seen.faces, frame) else {
        hints.push(Hint::NoFace);
        if quality.luma < t.dark {
            hints.push(Hint::TooDark);
        }
        if quality.clipped > t.washed_out {
            hints.push(Hint::TooBright);
        }
        return hints;
    };
    let other = |f: &&Face| **f != face && overlaps(f.bounds, frame);
    if seen.faces.iter().filter(other).any(|f| f.bounds.height >= t.other_face * face.bounds.height) {
        hints.push(Hint::SeveralFaces);
    }
    let head = face.head();
    if head.height * seen.scale < t.min_head_pixels {
        hints.push(Hint::FaceTooSmall);
    }
    let reach = t.head_cut * head.height;
    let cut = head.y < frame.y - reach
        || head.y + head.height > frame.y + frame.height + reach
        || head.x < frame.x - reach
        || head.x + head.width > frame.x + frame.width + reach;
    if cut {
        hints.push(Hint::HeadCut);
    }
    if quality.luma < t.dark {
        hints.push(Hint::TooDark);
    }
    if quality.clipped > t.washed_out {
        hints.push(Hint::TooBright);
    }
    if quality.sharpness < t.sharpness {
        hints.push(Hint::Blurred);
    }
    if seen.chosen && !cut {
        let across = (face.bounds.x + face.bounds.width / 2.0 - (frame.x + frame.width / 2.0)).abs();
        let crown = frame.y + RULE.above_crown * frame.height;
        let down = (head.y - crown).abs();
        if across > t.off_centre * frame.width || down > t.off_centre * frame.height {
            hints.push(Hint::OffCentre);
        }
    }
    hints
}

fn overlaps(a: Rect, b: Rect) -> bool {
    a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
}

#[cfg(test)]
mod tests {
    use super::super::face::frame_on;
    use super::*;

    const GOOD: Quality = Quality { luma: 140.0, clipped: 0.0, sharpness: 8.0 };

    fn face(x: f64, y: f64, side: f64) -> Face {
        Face { bounds: Rect { x, y, width: side, height: side }, score: 10.0 }
    }

    fn seen(faces: &[Face], frame: Rect, chosen: bool, quality: Quality) -> Vec<Hint> {
        assess(&Seen { faces, frame, chosen, quality, scale: 1.0 })
    }

    /// A frame of the rule around a 400 px face in a 3000×4000 photo.
    fn ruled(f: &Face) -> Rect {
        frame_on(f, 3000, 4000)
    }

    // Every hint on either side of its threshold.
    #[test]
    fn each_threshold_from_both_sides() {
        let t = THRESHOLDS;
        let main = face(1000.0, 1200.0, 400.0);
        let frame = ruled(&main);
        let just = |v: f64, below: bool| if below { v * 0.99 } else { v * 1.01 };
        // (name, faces, frame, chosen, quality, expected)
        let other = |share: f64| face(main.bounds.x + 150.0, main.bounds.y + 100.0, 400.0 * share);
        let small = |head: f64| {
            let side = head / (HEAD_SPAN);
            face(1000.0, 1200.0, side)
        };
        let q = |luma: f64, clipped: f64, sharpness: f64| Quality { luma, clipped, sharpness };
        let shifted = |dx: f64| Rect { x: frame.x + dx, ..frame };
        let cases: Vec<Case> = vec![
            ("good", vec![main], frame, false, GOOD, vec![]),
            ("no face", vec![], frame, false, GOOD, vec![Hint::NoFace]),
            (
                "other face just big enough",
                vec![main, other(just(t.other_face, false))],
                frame,
                false,
                GOOD,
                vec![Hint::SeveralFaces],
            ),
            (
                "other face just too small",
                vec![main, other(just(t.other_face, true))],
                frame,
                false,
                GOOD,
                vec![],
            ),
            (
                "head just too small",
                vec![small(just(t.min_head_pixels, true))],
                ruled(&small(just(t.min_head_pixels, true))),
                false,
                GOOD,
                vec![Hint::FaceTooSmall],
            ),
            (
                "head just large enough",
                vec![small(just(t.min_head_pixels, false))],
                ruled(&small(just(t.min_head_pixels, false))),
                false,
                GOOD,
                vec![],
            ),
            (
                "crown just past the tolerance",
                vec![main],
                Rect { y: main.head().y + just(t.head_cut, false) * main.head().height, ..frame },
                false,
                GOOD,
                vec![Hint::HeadCut],
            ),
            (
                "crown just within the tolerance",
                vec![main],
                Rect { y: main.head().y + just(t.head_cut, true) * main.head().height, ..frame },
                false,
                GOOD,
                vec![],
            ),
            ("just too dark", vec![main], frame, false, q(just(t.dark, true), 0.0, 8.0), vec![Hint::TooDark]),
            ("just light enough", vec![main], frame, false, q(just(t.dark, false), 0.0, 8.0), vec![]),
            (
                "just washed out",
                vec![main],
                frame,
                false,
                q(200.0, just(t.washed_out, false), 8.0),
                vec![Hint::TooBright],
            ),
            (
                "just not washed out",
                vec![main],
                frame,
                false,
                q(200.0, just(t.washed_out, true), 8.0),
                vec![],
            ),
            (
                "just blurred",
                vec![main],
                frame,
                false,
                q(140.0, 0.0, just(t.sharpness, true)),
                vec![Hint::Blurred],
            ),
            ("just sharp", vec![main], frame, false, q(140.0, 0.0, just(t.sharpness, false)), vec![]),
            (
                "chosen frame just off centre",
                vec![main],
                shifted(just(t.off_centre, false) * frame.width),
                true,
                GOOD,
                vec![Hint::OffCentre],
            ),
            (
                "chosen frame just centred enough",
                vec![main],
                shifted(just(t.off_centre, true) * frame.width),
                true,
                GOOD,
                vec![],
            ),
            (
                "automatic frame is never off centre",
                vec![main],
                shifted(just(t.off_centre, false) * frame.width),
                false,
                GOOD,
                vec![],
            ),
            (
                "dark without a face",
                vec![],
                frame,
                false,
                q(20.0, 0.0, 8.0),
                vec![Hint::NoFace, Hint::TooDark],
            ),
        ];
        for (name, faces, frame, chosen, quality, expected) in cases {
            assert_eq!(seen(&faces, frame, chosen, quality), expected, "{name}");
        }
    }

    /// A case: its name, the faces, the frame, whether the student chose it, the quality, the hints.
    type Case = (&'static str, Vec<Face>, Rect, bool, Quality, Vec<Hint>);

    /// The head's height for a box of side 1.
    const HEAD_SPAN: f64 = super::super::face::HEAD.crown_above + super::super::face::HEAD.chin_below;

    // A face outside the frame is not in the photo: no face, and not several.
    #[test]
    fn faces_outside_the_frame_do_not_count() {
        let main = face(1000.0, 1200.0, 400.0);
        let frame = ruled(&main);
        let far = face(2800.0, 100.0, 150.0);
        assert_eq!(seen(&[main, far], frame, false, GOOD), vec![]);
        assert_eq!(seen(&[far], frame, false, GOOD), vec![Hint::NoFace]);
    }

    // The measures on a uniform, a clipped and a striped photo.
    #[test]
    fn quality_measures() {
        let (w, h) = (OUTPUT_WIDTH as usize, OUTPUT_HEIGHT as usize);
        let whole = Rect::whole(OUTPUT_WIDTH, OUTPUT_HEIGHT);
        let grey = vec![100; w * h * 3];
        let q = Quality::measure(&grey, whole);
        assert_eq!((q.luma, q.clipped, q.sharpness), (100.0, 0.0, 0.0));
        let white = vec![255; w * h * 3];
        assert_eq!(Quality::measure(&white, whole).clipped, 1.0);
        let stripes: Vec<u8> =
            (0..w * h).flat_map(|i| if (i % w) % 2 == 0 { [0; 3] } else { [200; 3] }).collect();
        let q = Quality::measure(&stripes, Rect { x: 10.0, y: 10.0, width: 100.0, height: 100.0 });
        assert!((q.luma - 100.0).abs() < 1e-9 && q.sharpness > 100.0, "{q:?}");
        assert_eq!(Quality::measure(&grey, Rect { x: 500.0, y: 0.0, width: 10.0, height: 10.0 }).luma, 0.0);
    }
}
