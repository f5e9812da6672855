//! The size limits of a submission, shared by the function (which enforces them) and the site
//! (whose pages name them), so that no page states a limit the function does not apply.

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

/// [`MAX_PHOTO_MEGABYTES`] as French text shows it: `4 Mo`, with a narrow no-break space.
pub fn max_photo_fr() -> String {
    format!("{MAX_PHOTO_MEGABYTES}\u{202f}Mo")
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
    }
}
