//! Every limit of a submission, shared by the function (which enforces them) and the site (whose
//! pages name them and whose script checks them before sending), so that no page states or checks
//! a limit the function does not apply. The generator serialises [`Limits`] into the page's
//! contract; the function reads these constants.
//!
//! They are constants rather than entries of `content/form.toml`: they follow from AWS's payload
//! limit, the Region's photo format and the pipeline's memory budget, not from a school's choice.

use serde::Serialize;

/// The largest payload a Lambda function takes in one synchronous invocation: 6 MiB for the whole
/// event, JSON, headers and body together.
pub const LAMBDA_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;

/// What the event around the body may take at most: the Function URL's JSON with every header
/// (cookies, user agent, the request context). 64 KiB is several times what a browser sends.
pub const EVENT_OVERHEAD_BYTES: usize = 64 * 1024;

/// The largest request body accepted: a Function URL hands a multipart body to the function
/// base64-encoded (`isBase64Encoded`), which takes 4 bytes for every 3, inside the payload limit.
/// Above this, AWS itself would refuse the request with an English error before the function runs,
/// so the function and the page refuse first, in French. 4,669,440 bytes (4.45 MiB).
pub const MAX_BODY_BYTES: usize = (LAMBDA_PAYLOAD_BYTES - EVENT_OVERHEAD_BYTES) / 4 * 3;

/// The photo file size the pages promise to accept, in megabytes (10^6 bytes, the « Mo » that
/// phones and file managers show): with every text field at its bound, the body stays under
/// [`MAX_BODY_BYTES`] (a test proves it).
pub const MAX_PHOTO_MEGABYTES: usize = 4;

/// [`MAX_PHOTO_MEGABYTES`] in bytes.
pub const MAX_PHOTO_BYTES: usize = MAX_PHOTO_MEGABYTES * 1_000_000;

/// Width of the ID photo: 35 mm at 300 dpi.
pub const OUTPUT_WIDTH: u32 = 413;
/// Height of the ID photo: 45 mm at 300 dpi. 413:531 is exactly 35:45.
pub const OUTPUT_HEIGHT: u32 = 531;
/// Size budget of the stored JPEG, far under the Region's 2 MB limit so uploads stay quick on
/// mobile data.
pub const MAX_OUTPUT_BYTES: usize = 200 * 1024;

/// Smallest acceptable height of the 35:45 frame, in source pixels. Below 300 px the photo would
/// be enlarged more than 1.77 times and the face becomes a blur of pixels; a 640×480 webcam frame
/// (frame 373×480) still passes. Applies both to the whole photo and to a student's crop.
pub const MIN_FRAME_HEIGHT: u32 = 300;
/// The width that goes with [`MIN_FRAME_HEIGHT`] at 35:45, rounded up (300 × 35 / 45 = 233.3).
pub const MIN_FRAME_WIDTH: u32 = 234;

/// How a page lightens a whole photo: longest side, size budget, JPEG qualities tried in turn,
/// then rounds at a smaller scale. The photo tool makes this copy for students who send the form
/// without JavaScript; the form makes it as its working copy, the one its crop frame shows and
/// counts in, and sends it only when [`FRAME_UPLOAD`] cannot be made (the chosen file no longer
/// readable). The text fields weigh a few kilobytes, so 1 MB leaves a wide margin under
/// [`MAX_BODY_BYTES`]; the page still weighs the whole body before it goes.
pub const UPLOAD: Upload = Upload {
    max_side: 1600,
    max_bytes: 1_000_000,
    qualities: [0.9, 0.82, 0.74, 0.66],
    rounds: 5,
    shrink: 0.8,
};

/// What the form sends with JavaScript: the student's frame, cut from the photo as it was chosen
/// (not from the working copy, whose 1,600 px would leave a tight frame fewer rows than the stored
/// photo has), in whole pixels as they are when it fits in `width`×`height`, else reduced to fit,
/// never enlarged. About twice the stored photo (826×1061) rather than 413×531 itself: sent at the
/// stored size, the browser's JPEG artefacts and resampling would reach the stored photo at full
/// strength, where the function's Lanczos reduction by two averages them away. One row under
/// twice: from twice the output height the function first reduces a JPEG by two in the DCT domain
/// (`reduction_for` in `handler/photo/src/decode.rs`), a coarser filter than its Lanczos, which
/// cost 0.005 to 0.008 of SSIM against the photo made from the original
/// (orientation-Landscape_0.jpg: 0.9754 at 1,062 rows, 0.9833 at 1,061). The qualities are tried in turn until the JPEG fits `max_bytes`,
/// so that a request weighs at most about 300 KB on mobile data instead of the [`UPLOAD`] copy's
/// megabyte; the last is sent even when it does not fit, still far under [`MAX_BODY_BYTES`]. The
/// function trusts none of it: it checks this photo's format, size and frame like any other.
pub const FRAME_UPLOAD: FrameUpload = FrameUpload {
    width: 2 * OUTPUT_WIDTH,
    height: 2 * OUTPUT_HEIGHT - 1,
    qualities: [0.92, 0.85, 0.78],
    max_bytes: 280_000,
};

/// The copy of the photo the page sends to the function's preview (`apercu`) once a photo is
/// chosen, for the face, the frame and the hints: small enough to go in a second on mobile data
/// (about 60 KB), large enough for the face detector, which looks at 480 px anyway.
pub const PREVIEW: Preview = Preview { max_side: 800, quality: 0.8 };

/// How long the page waits for the function's answer before saying the connection failed: above
/// the function's own 30 s timeout and a slow upload of [`MAX_BODY_BYTES`].
pub const SEND_TIMEOUT_MS: u32 = 90_000;

/// How long the receipt (name, dossier number) and the answers kept for a retry may stay in the
/// browser tab: enough to take the screenshot, print the slip or reload by mistake, short enough
/// that on a shared computer (CDI, computer room) the next student does not find them.
pub const KEEP_MINUTES: u32 = 30;

/// The e-mails one request may get: the first, and two sent again at the student's request
/// (« Renvoyer l’e-mail »).
pub const MAX_MAILS: u8 = 3;

/// The failed sign-ins a dossier takes before its personal space refuses every other, the right
/// date included (the e-mail's link still opens it; the secretariat can help).
pub const MAX_FAILED_SIGNINS: u8 = 5;

/// The changes of the send-to-school setting a personal space takes after the activation; the
/// secretariat makes any later one.
pub const MAX_SETTING_CHANGES: u8 = 5;

/// The statuses the staff may set on one request (`demandes statut`): a request goes through four
/// at most, with room for corrections; the bound keeps reading the latest a few reads.
pub const MAX_STATUSES: u8 = 12;

/// How often an open page compares the clock with those expiry times: a single long timer would
/// be late after the computer slept.
pub const EXPIRY_CHECK_MS: u32 = 15_000;

/// The page's photo reduction: see [`UPLOAD`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Upload {
    /// Longest side of the uploaded photo, in pixels.
    pub max_side: u32,
    /// Size the uploaded JPEG aims at, in bytes.
    pub max_bytes: usize,
    /// The JPEG qualities tried in turn at each scale.
    pub qualities: [f32; 4],
    /// How many scales are tried.
    pub rounds: u8,
    /// The factor from one scale to the next.
    pub shrink: f32,
}

/// The form's upload of the frame: see [`FRAME_UPLOAD`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FrameUpload {
    /// Largest width sent, in pixels.
    pub width: u32,
    /// Largest height sent, in pixels.
    pub height: u32,
    /// The JPEG qualities tried in turn, 0 to 1 (the browser's `toBlob` scale).
    pub qualities: [f32; 3],
    /// Size the JPEG aims at, in bytes.
    pub max_bytes: usize,
}

/// The preview's copy: see [`PREVIEW`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Preview {
    /// Longest side of the copy, in pixels.
    pub max_side: u32,
    /// Its JPEG quality, 0 to 1 (the browser's `toBlob` scale).
    pub quality: f64,
}

/// Every limit, as the page's contract carries them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limits {
    /// [`MAX_BODY_BYTES`].
    pub max_body_bytes: usize,
    /// [`MAX_PHOTO_BYTES`].
    pub max_photo_bytes: usize,
    /// [`OUTPUT_WIDTH`].
    pub output_width: u32,
    /// [`OUTPUT_HEIGHT`].
    pub output_height: u32,
    /// [`MAX_OUTPUT_BYTES`].
    pub max_output_bytes: usize,
    /// [`MIN_FRAME_WIDTH`].
    pub min_frame_width: u32,
    /// [`MIN_FRAME_HEIGHT`].
    pub min_frame_height: u32,
    /// [`UPLOAD`].
    pub upload: Upload,
    /// [`FRAME_UPLOAD`].
    pub frame_upload: FrameUpload,
    /// [`PREVIEW`].
    pub preview: Preview,
    /// [`SEND_TIMEOUT_MS`].
    pub send_timeout_ms: u32,
    /// [`KEEP_MINUTES`] in milliseconds, as the page's clock counts.
    pub keep_ms: u64,
    /// [`EXPIRY_CHECK_MS`].
    pub expiry_check_ms: u32,
}

/// The limits above, gathered for the contract.
pub const LIMITS: Limits = Limits {
    max_body_bytes: MAX_BODY_BYTES,
    max_photo_bytes: MAX_PHOTO_BYTES,
    output_width: OUTPUT_WIDTH,
    output_height: OUTPUT_HEIGHT,
    max_output_bytes: MAX_OUTPUT_BYTES,
    min_frame_width: MIN_FRAME_WIDTH,
    min_frame_height: MIN_FRAME_HEIGHT,
    upload: UPLOAD,
    frame_upload: FRAME_UPLOAD,
    preview: PREVIEW,
    send_timeout_ms: SEND_TIMEOUT_MS,
    keep_ms: KEEP_MINUTES as u64 * 60_000,
    expiry_check_ms: EXPIRY_CHECK_MS,
};

// Checked when the crate compiles rather than in a test, so that no build can hold limits that
// contradict each other: the page's upload stays under the promised photo size, keeps enough rows
// for the least frame, and waits longer than the function's 30 s timeout. The frame's upload
// holds a 35:45 frame of its full height, no smaller than the stored photo and under twice its
// height (see [`FRAME_UPLOAD`]), and is lighter than the whole photo's copy.
const _: () = {
    assert!(UPLOAD.max_bytes < MAX_PHOTO_BYTES);
    assert!(UPLOAD.max_side >= MIN_FRAME_HEIGHT);
    assert!(FRAME_UPLOAD.width * OUTPUT_HEIGHT >= FRAME_UPLOAD.height * OUTPUT_WIDTH);
    assert!(FRAME_UPLOAD.width >= OUTPUT_WIDTH && FRAME_UPLOAD.height >= OUTPUT_HEIGHT);
    assert!(FRAME_UPLOAD.height < 2 * OUTPUT_HEIGHT);
    assert!(FRAME_UPLOAD.max_bytes < UPLOAD.max_bytes);
    assert!(PREVIEW.max_side <= UPLOAD.max_side);
    assert!(SEND_TIMEOUT_MS > 30_000);
};

/// [`MAX_PHOTO_MEGABYTES`] as French text shows it: `4 Mo`, with a narrow no-break space.
pub fn max_photo_fr() -> String {
    format!("{MAX_PHOTO_MEGABYTES}\u{202f}Mo")
}

/// [`MAX_OUTPUT_BYTES`] as French text shows it: `200 Ko` (kibibytes, as the budget is).
pub fn max_output_fr() -> String {
    format!("{}\u{202f}Ko", MAX_OUTPUT_BYTES / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The body limit is what a 6 MiB payload holds once base64-encoded, less the event's envelope.
    #[test]
    fn body_limit_fits_the_lambda_payload() {
        assert_eq!(MAX_BODY_BYTES, 4_669_440);
        let encoded = MAX_BODY_BYTES.div_ceil(3) * 4;
        assert!(encoded + EVENT_OVERHEAD_BYTES <= LAMBDA_PAYLOAD_BYTES);
        assert_eq!(max_photo_fr(), "4\u{202f}Mo");
        assert_eq!(max_output_fr(), "200\u{202f}Ko");
    }

    // The output is exactly 35:45, and the minimum frame is that shape rounded up.
    #[test]
    fn frame_shapes_are_35_45() {
        assert_eq!(OUTPUT_WIDTH * 45, OUTPUT_HEIGHT * 35);
        assert_eq!(MIN_FRAME_WIDTH, (MIN_FRAME_HEIGHT * 35).div_ceil(45));
    }

    // The page tries its JPEG qualities from the best down, for the whole photo and the frame.
    #[test]
    fn upload_qualities_decrease() {
        assert!(UPLOAD.qualities.windows(2).all(|w| w[0] > w[1]));
        assert!(FRAME_UPLOAD.qualities.windows(2).all(|w| w[0] > w[1]));
        assert!(FRAME_UPLOAD.qualities.iter().all(|q| (0.0..=1.0).contains(q)));
    }
}
