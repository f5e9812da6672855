//! Tests of the whole pipeline: the real photos of `../shared/photos/` and generated images, each
//! result decoded again and checked for size, dimensions, orientation and the absence of metadata.

use std::path::PathBuf;

use form::Crop;
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};

use super::geometry::Orientation;
use super::*;

/// Path of a file of the shared test photos (`/work/shared/photos` beside the repository).
/// Panics, failing the test, when the folder is missing: these photos are the point of the tests.
pub(super) fn shared_photo(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/photos");
    assert!(
        dir.is_dir(),
        "the shared test photos are missing: expected the folder `{}` beside the repository",
        dir.display()
    );
    dir.join(name)
}

fn read_shared(name: &str) -> Vec<u8> {
    let path = shared_photo(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()))
}

/// Decodes a result back to RGB after checking everything the Region and the students' privacy
/// ask of it: JPEG, 413×531, within budget, baseline, 3 components, and no segment but JFIF.
fn check_output(jpeg: &[u8], context: &str) -> Vec<u8> {
    assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]), "{context}: not a jpeg");
    assert!(jpeg.len() <= MAX_OUTPUT_BYTES, "{context}: {} bytes", jpeg.len());
    let segments = segment_markers(jpeg);
    assert!(segments.contains(&0xC0), "{context}: no baseline SOF0 in {segments:x?}");
    for marker in &segments {
        let allowed = [0xE0, 0xDB, 0xC0, 0xC4, 0xDA].contains(marker);
        assert!(allowed, "{context}: unexpected segment {marker:#x} in {segments:x?}");
    }
    for needle in [&b"Exif"[..], b"GPS", b"ICC_PROFILE", b"http://ns.adobe.com"] {
        assert!(
            !jpeg.windows(needle.len()).any(|w| w == needle),
            "{context}: `{}` found in the output",
            String::from_utf8_lossy(needle)
        );
    }
    let mut decoder = jpeg_decoder::Decoder::new(jpeg);
    let rgb = decoder.decode().unwrap_or_else(|e| panic!("{context}: {e}"));
    let info = decoder.info().unwrap();
    assert_eq!((u32::from(info.width), u32::from(info.height)), (OUTPUT_WIDTH, OUTPUT_HEIGHT), "{context}");
    assert_eq!(info.pixel_format, jpeg_decoder::PixelFormat::RGB24, "{context}");
    assert_eq!(info.coding_process, jpeg_decoder::CodingProcess::DctSequential, "{context}");
    rgb
}

/// The markers of the segments before the image data, in order.
fn segment_markers(jpeg: &[u8]) -> Vec<u8> {
    let mut markers = Vec::new();
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        markers.push(marker);
        if marker == 0xDA {
            break;
        }
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    markers
}

/// Mean absolute difference of two images of the same size, 0 to 255.
fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let total: u64 = a.iter().zip(b).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
    total as f64 / a.len() as f64
}

/// The output image turned by half a turn, to measure what a wrong orientation would cost.
fn half_turn(rgb: &[u8]) -> Vec<u8> {
    rgb.chunks(3).rev().flatten().copied().collect()
}

/// The mean colour of a rectangle of an output image.
fn mean_colour(rgb: &[u8], x: u32, y: u32, width: u32, height: u32) -> [f64; 3] {
    let mut sum = [0.0; 3];
    for v in y..y + height {
        for u in x..x + width {
            let at = ((v * OUTPUT_WIDTH + u) * 3) as usize;
            for (c, s) in sum.iter_mut().enumerate() {
                *s += f64::from(rgb[at + c]);
            }
        }
    }
    sum.map(|s| s / f64::from(width * height))
}

fn assert_colour(got: [f64; 3], expected: [u8; 3], context: &str) {
    let far = got.iter().zip(expected).any(|(g, e)| (g - f64::from(e)).abs() > 12.0);
    assert!(!far, "{context}: mean colour {got:?}, expected {expected:?}");
}

fn encode_jpeg(rgb: &[u8], width: u32, height: u32, exif: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = jpeg_encoder::Encoder::new(&mut out, 92);
    if let Some(exif) = exif {
        encoder.add_app_segment(1, exif).unwrap();
    }
    encoder.encode(rgb, width as u16, height as u16, jpeg_encoder::ColorType::Rgb).unwrap();
    out
}

/// An APP1 payload holding a big-endian EXIF block with only the orientation tag.
fn exif_orientation(value: u16) -> Vec<u8> {
    let mut exif = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
    exif.extend_from_slice(&1u16.to_be_bytes()); // one entry
    exif.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    exif.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    exif.extend_from_slice(&1u32.to_be_bytes()); // one value
    exif.extend_from_slice(&value.to_be_bytes());
    exif.extend_from_slice(&[0, 0, 0, 0, 0, 0]); // padding, then no next IFD
    exif
}

fn png(image: &RgbaImage) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(image.as_raw(), image.width(), image.height(), image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn crop(x: u32, y: u32, width: u32, height: u32) -> Option<Crop> {
    Some(Crop { x, y, width, height })
}

/// What each shared file must give: the format and upright size, or the error.
enum Expected {
    Photo(SourceFormat, u32, u32),
    Heic,
}

// Every photo of the shared folder gives a compliant ID photo (or, for HEIC, the HEIC error), and
// every image file of the folder is listed here, so a new one cannot be silently skipped.
#[test]
fn every_shared_photo() {
    use Expected::*;
    use SourceFormat::Jpeg;
    let cases = [
        ("phone-iphone-8mp-gps.jpg", Photo(Jpeg, 3264, 2448)),
        ("phone-jolla-8mp.jpg", Photo(Jpeg, 3264, 2448)),
        ("camera-canon-orient6-gps.jpg", Photo(Jpeg, 1536, 2048)),
        ("camera-nikon-gps.jpg", Photo(Jpeg, 640, 480)),
        ("phone-iphone13.heic", Heic),
        ("orientation-Landscape_0.jpg", Photo(Jpeg, 1800, 1200)),
        ("orientation-Landscape_1.jpg", Photo(Jpeg, 1800, 1200)),
        ("orientation-Landscape_3.jpg", Photo(Jpeg, 1800, 1200)),
        ("orientation-Landscape_6.jpg", Photo(Jpeg, 1800, 1200)),
        ("orientation-Landscape_8.jpg", Photo(Jpeg, 1800, 1200)),
        ("orientation-Portrait_0.jpg", Photo(Jpeg, 1200, 1800)),
        ("orientation-Portrait_2.jpg", Photo(Jpeg, 1200, 1800)),
        ("orientation-Portrait_5.jpg", Photo(Jpeg, 1200, 1800)),
        ("orientation-Portrait_6.jpg", Photo(Jpeg, 1200, 1800)),
        ("orientation-Portrait_7.jpg", Photo(Jpeg, 1200, 1800)),
    ];
    let dir = shared_photo("");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| [".jpg", ".jpeg", ".heic", ".png", ".webp"].iter().any(|e| name.ends_with(e)))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = cases.iter().map(|(name, _)| name.to_string()).collect();
    listed.sort();
    assert_eq!(on_disk, listed, "the shared photos and this table differ");

    for (name, expected) in cases {
        let result = process(&read_shared(name), None);
        match (result, expected) {
            (Ok(photo), Photo(format, width, height)) => {
                check_output(&photo.jpeg, name);
                assert_eq!(photo.source_format, format, "{name}");
                assert_eq!((photo.source_width, photo.source_height), (width, height), "{name}");
            }
            (Err(PhotoError::Heic), Heic) => {}
            (other, _) => panic!("{name}: unexpected {other:?}"),
        }
    }
}

// Each orientation-*.jpg, whatever its EXIF orientation, comes out the same way up as the
// reference stored upright; a half-turned result would be far from it.
#[test]
fn shared_orientation_files_come_out_upright() {
    let sets = [("Landscape", "_1", ["_0", "_3", "_6", "_8"]), ("Portrait", "_0", ["_2", "_5", "_6", "_7"])];
    for (kind, reference_suffix, variants) in sets {
        let reference_name = format!("orientation-{kind}{reference_suffix}.jpg");
        let reference = process(&read_shared(&reference_name), None).unwrap();
        let reference = check_output(&reference.jpeg, &reference_name);
        let upside_down = mean_abs_diff(&reference, &half_turn(&reference));
        assert!(upside_down > 20.0, "{reference_name}: the scene is too symmetric to test");
        for suffix in variants {
            let name = format!("orientation-{kind}{suffix}.jpg");
            let output = process(&read_shared(&name), None).unwrap();
            let output = check_output(&output.jpeg, &name);
            let diff = mean_abs_diff(&reference, &output);
            assert!(diff < 6.0, "{name}: differs from {reference_name} by {diff:.1}");
        }
    }
}

// The Canon photo (stored landscape, EXIF orientation 6) matches the same pixels turned upright
// by hand and sent without EXIF.
#[test]
fn canon_orientation_6_matches_a_hand_turned_copy() {
    let bytes = read_shared("camera-canon-orient6-gps.jpg");
    let mut decoder = jpeg_decoder::Decoder::new(&bytes[..]);
    let (width, height) = decoder.scale(512, 384).unwrap();
    let stored = decoder.decode().unwrap();
    let (width, height) = (u32::from(width), u32::from(height));
    // A quarter turn clockwise: the stored first row becomes the right-hand column.
    let turned = RgbImage::from_fn(height, width, |u, v| {
        let at = ((height - 1 - u) * width + v) as usize * 3;
        Rgb([stored[at], stored[at + 1], stored[at + 2]])
    });
    let by_hand = encode_jpeg(turned.as_raw(), height, width, None);

    let expected = check_output(&process(&by_hand, None).unwrap().jpeg, "hand-turned");
    let got = check_output(&process(&bytes, None).unwrap().jpeg, "canon");
    let diff = mean_abs_diff(&expected, &got);
    assert!(diff < 6.0, "differs from the hand-turned copy by {diff:.1}");
    assert!(mean_abs_diff(&expected, &half_turn(&got)) > 20.0, "scene too symmetric to test");
}

/// An upright 700×900 test card in four coloured quadrants.
const RED: [u8; 3] = [220, 30, 30];
const GREEN: [u8; 3] = [30, 200, 60];
const BLUE: [u8; 3] = [30, 60, 220];
const WHITE: [u8; 3] = [250, 250, 250];

fn quadrant_card() -> RgbImage {
    RgbImage::from_fn(700, 900, |x, y| match (x < 350, y < 450) {
        (true, true) => Rgb(RED),
        (false, true) => Rgb(GREEN),
        (true, false) => Rgb(BLUE),
        (false, false) => Rgb(WHITE),
    })
}

// For all eight EXIF orientations, a card stored turned comes out upright, and a crop given in
// upright pixels selects the same quadrant.
#[test]
fn every_exif_orientation_with_and_without_crop() {
    let card = quadrant_card();
    for value in 1..=8u16 {
        let o = Orientation::from_value(u32::from(value));
        let (sw, sh) = o.stored_size(700, 900);
        let mut stored = RgbImage::new(sw, sh);
        for (u, v, pixel) in card.enumerate_pixels() {
            let (x, y) = o.stored_pixel(u, v, sw, sh);
            stored.put_pixel(x, y, *pixel);
        }
        let jpeg = encode_jpeg(stored.as_raw(), sw, sh, Some(&exif_orientation(value)));
        let context = format!("orientation {value}");

        let photo = process(&jpeg, None).unwrap();
        assert_eq!((photo.source_width, photo.source_height), (700, 900), "{context}");
        let rgb = check_output(&photo.jpeg, &context);
        let quarter = (OUTPUT_WIDTH / 4, OUTPUT_HEIGHT / 4);
        let (right, bottom) = (OUTPUT_WIDTH / 2 + 40, OUTPUT_HEIGHT / 2 + 40);
        assert_colour(mean_colour(&rgb, 40, 40, quarter.0, quarter.1), RED, &context);
        assert_colour(mean_colour(&rgb, right, 40, quarter.0, quarter.1), GREEN, &context);
        assert_colour(mean_colour(&rgb, 40, bottom, quarter.0, quarter.1), BLUE, &context);
        assert_colour(mean_colour(&rgb, right, bottom, quarter.0, quarter.1), WHITE, &context);

        let green = process(&jpeg, crop(350, 0, 350, 450)).unwrap();
        let rgb = check_output(&green.jpeg, &context);
        assert_colour(
            mean_colour(&rgb, 10, 10, OUTPUT_WIDTH - 20, OUTPUT_HEIGHT - 20),
            GREEN,
            &format!("{context}, green quadrant crop"),
        );
    }
}

// A crop on a large photo (reduced decode) selects exactly the square drawn there.
#[test]
fn crop_is_applied_on_a_reduced_decode() {
    // 4000×3000 grey with a red 35:45 patch at 2000,600 of 1400×1800: decoded at 1/2.
    let image = RgbImage::from_fn(4000, 3000, |x, y| {
        if (2000..3400).contains(&x) && (600..2400).contains(&y) { Rgb(RED) } else { Rgb([128, 128, 128]) }
    });
    let jpeg = encode_jpeg(image.as_raw(), 4000, 3000, None);
    let rgb = check_output(&process(&jpeg, crop(2000, 600, 1400, 1800)).unwrap().jpeg, "crop");
    assert_colour(mean_colour(&rgb, 4, 4, OUTPUT_WIDTH - 8, OUTPUT_HEIGHT - 8), RED, "inside");
    // Half a patch to the left: grey on the left half, red on the right half.
    let shifted = process(&jpeg, crop(1300, 600, 1400, 1800)).unwrap();
    let rgb = check_output(&shifted.jpeg, "shifted crop");
    assert_colour(mean_colour(&rgb, 4, 4, 190, OUTPUT_HEIGHT - 8), [128; 3], "left half");
    assert_colour(mean_colour(&rgb, 219, 4, 190, OUTPUT_HEIGHT - 8), RED, "right half");
}

// Crops outside the upright photo, or too small for a sharp photo, are refused with their error.
#[test]
fn bad_crops_are_refused() {
    let card = quadrant_card();
    // Stored turned a quarter (orientation 6): 900×700 stored, 700×900 upright.
    let o = Orientation::from_value(6);
    let mut stored = RgbImage::new(900, 700);
    for (u, v, pixel) in card.enumerate_pixels() {
        let (x, y) = o.stored_pixel(u, v, 900, 700);
        stored.put_pixel(x, y, *pixel);
    }
    let jpeg = encode_jpeg(stored.as_raw(), 900, 700, Some(&exif_orientation(6)));
    // Fits the stored size but not the upright one.
    match process(&jpeg, crop(0, 0, 800, 600)) {
        Err(PhotoError::CropOutside { width, height, .. }) => assert_eq!((width, height), (700, 900)),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(process(&jpeg, crop(600, 0, 101, 300)), Err(PhotoError::CropOutside { .. })));
    assert!(matches!(process(&jpeg, crop(0, 0, 200, 260)), Err(PhotoError::CropTooSmall { .. })));
}

// Generated PNG (with transparency) and WebP images are accepted; transparency turns white.
#[test]
fn png_and_webp_are_accepted() {
    let rgba =
        RgbaImage::from_fn(
            600,
            800,
            |x, _| {
                if x < 300 { Rgba([0, 0, 0, 0]) } else { Rgba([30, 60, 220, 255]) }
            },
        );
    let photo = process(&png(&rgba), None).unwrap();
    assert_eq!(photo.source_format, SourceFormat::Png);
    assert_eq!((photo.source_width, photo.source_height), (600, 800));
    let rgb = check_output(&photo.jpeg, "png");
    assert_colour(mean_colour(&rgb, 10, 10, 180, 500), WHITE, "png transparent half");
    assert_colour(mean_colour(&rgb, 230, 10, 170, 500), BLUE, "png opaque half");

    let card = quadrant_card();
    let mut webp = Vec::new();
    image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
        .write_image(card.as_raw(), 700, 900, image::ExtendedColorType::Rgb8)
        .unwrap();
    let photo = process(&webp, None).unwrap();
    assert_eq!(photo.source_format, SourceFormat::WebP);
    let rgb = check_output(&photo.jpeg, "webp");
    assert_colour(mean_colour(&rgb, 40, 40, 100, 100), RED, "webp");
}

// Greyscale and CMYK JPEGs come out as ordinary colour JPEGs with the right tones.
#[test]
fn grey_and_cmyk_jpegs_are_accepted() {
    let cases: [(&str, jpeg_encoder::ColorType, Vec<u8>, [u8; 3]); 2] = [
        ("grey", jpeg_encoder::ColorType::Luma, vec![90], [90, 90, 90]),
        // Pure cyan ink.
        ("cmyk", jpeg_encoder::ColorType::Cmyk, vec![255, 0, 0, 0], [0, 255, 255]),
    ];
    for (name, color_type, pixel, expected) in cases {
        let mut jpeg = Vec::new();
        let data = pixel.repeat(500 * 700);
        jpeg_encoder::Encoder::new(&mut jpeg, 95).encode(&data, 500, 700, color_type).unwrap();
        let rgb = check_output(&process(&jpeg, None).unwrap().jpeg, name);
        assert_colour(mean_colour(&rgb, 0, 0, OUTPUT_WIDTH, OUTPUT_HEIGHT), expected, name);
    }
}

// Images too small for an ID photo are refused, whatever their format.
#[test]
fn tiny_images_are_too_small() {
    let grey = |w, h| RgbImage::from_pixel(w, h, Rgb([128, 128, 128]));
    let cases: [(&str, Vec<u8>, (u32, u32)); 3] = [
        ("jpeg 100x120", encode_jpeg(grey(100, 120).as_raw(), 100, 120, None), (100, 120)),
        ("jpeg 640x299", encode_jpeg(grey(640, 299).as_raw(), 640, 299, None), (640, 299)),
        ("png 50x50", png(&RgbaImage::from_pixel(50, 50, Rgba([1, 2, 3, 255]))), (50, 50)),
    ];
    for (name, bytes, size) in cases {
        match process(&bytes, None) {
            Err(PhotoError::TooSmall { width, height }) => assert_eq!((width, height), size, "{name}"),
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
}

/// A PNG whose header claims `width`×`height` RGB pixels, followed by a token IDAT.
fn png_header(width: u32, height: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// CRC-32 as PNG chunks use it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A JPEG made of a start marker and a frame header claiming `width`×`height`: `sof` is 0xC0
/// (baseline), 0xC2 (progressive) or 0xC3 (lossless).
fn jpeg_header(sof: u8, width: u16, height: u16) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8, 0xFF, sof, 0, 17, 8];
    out.extend_from_slice(&height.to_be_bytes());
    out.extend_from_slice(&width.to_be_bytes());
    // Three components sharing quantisation table 0, as lossless coding requires.
    out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 0, 3, 0x11, 0]);
    out
}

/// A lossless WebP whose VP8L header claims `width`×`height`, followed by a few bytes of pixel
/// data. At most 16383 each: image-webp reads the format's 16384 maximum as 0.
fn webp_header(width: u32, height: u32) -> Vec<u8> {
    // Signature byte, then 14 bits of width - 1 and 14 bits of height - 1, little-endian.
    let bits = (width - 1) | ((height - 1) << 14);
    let mut vp8l = vec![0x2F];
    vp8l.extend_from_slice(&bits.to_le_bytes());
    vp8l.extend_from_slice(&[0; 7]);
    let mut body = b"WEBPVP8L".to_vec();
    body.extend_from_slice(&(vp8l.len() as u32).to_le_bytes());
    body.extend_from_slice(&vp8l);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

// Headers claiming huge images are refused from the header alone, before any decoding (the files
// hold no pixel data, so reaching the decoder would give `Corrupt` instead).
#[test]
fn pixel_bombs_are_refused_before_decoding() {
    let cases: [(&str, Vec<u8>, u64); 6] = [
        ("png 100000x100000", png_header(100_000, 100_000), MAX_FULL_DECODE_PIXELS),
        ("png 4000x4000", png_header(4000, 4000), MAX_FULL_DECODE_PIXELS),
        ("webp 16383x16383", webp_header(16_383, 16_383), MAX_FULL_DECODE_PIXELS),
        ("jpeg 65000x65000", jpeg_header(0xC0, 65_000, 65_000), MAX_PIXELS),
        ("jpeg 9000x6000", jpeg_header(0xC0, 9000, 6000), MAX_PIXELS),
        ("progressive jpeg 4000x4000", jpeg_header(0xC2, 4000, 4000), MAX_FULL_DECODE_PIXELS),
    ];
    for (name, bytes, max) in cases {
        match process(&bytes, None) {
            Err(PhotoError::TooManyPixels { max_pixels, .. }) => assert_eq!(max_pixels, max, "{name}"),
            other => panic!("{name}: unexpected {other:?}"),
        }
    }
    // Just under the bounds, the same empty files reach the decoder and are found corrupt.
    for (name, bytes) in [
        ("png 3000x3000", png_header(3000, 3000)),
        ("webp 3000x3000", webp_header(3000, 3000)),
        ("jpeg 8000x6000", jpeg_header(0xC0, 8000, 6000)),
    ] {
        assert!(matches!(process(&bytes, None), Err(PhotoError::Corrupt(_))), "{name}");
    }
}

// Garbage, truncated files and formats we do not read get `Unsupported` or `Corrupt`.
#[test]
fn garbage_is_refused() {
    let iphone = read_shared("phone-iphone-8mp-gps.jpg");
    let cases: [(&str, Vec<u8>, &str); 6] = [
        ("random bytes", (0..5000u32).map(|i| (i * 7919 % 251) as u8).collect(), "unsupported"),
        ("empty", Vec::new(), "unsupported"),
        ("jpeg magic then garbage", b"\xFF\xD8\xFF\x00garbage garbage".to_vec(), "corrupt"),
        ("truncated jpeg", iphone[..iphone.len() / 2].to_vec(), "corrupt"),
        ("png magic then garbage", b"\x89PNG\r\n\x1a\ngarbage garbage".to_vec(), "corrupt"),
        ("lossless jpeg", jpeg_header(0xC3, 1000, 1000), "unsupported"),
    ];
    for (name, bytes, expected) in cases {
        let got = match process(&bytes, None) {
            Err(PhotoError::Unsupported) => "unsupported",
            Err(PhotoError::Corrupt(_)) => "corrupt",
            other => panic!("{name}: unexpected {other:?}"),
        };
        assert_eq!(got, expected, "{name}");
    }
}

// Every French message is non-empty and follows French typography: typographic apostrophe,
// narrow no-break space before `;:!?` and inside guillemets.
#[test]
fn french_messages_follow_typography() {
    let crop = Crop { x: 1, y: 2, width: 3, height: 4 };
    let errors = [
        PhotoError::Heic,
        PhotoError::Unsupported,
        PhotoError::TooManyPixels { width: 9000, height: 9000, max_pixels: MAX_PIXELS },
        PhotoError::TooSmall { width: 100, height: 120 },
        PhotoError::Corrupt("eof".into()),
        PhotoError::CropOutside { crop, width: 10, height: 10 },
        PhotoError::CropTooSmall { crop },
        PhotoError::TooComplex { min_quality: 50, max_bytes: MAX_OUTPUT_BYTES },
        PhotoError::TooHeavy { width: 65500, height: 300 },
        PhotoError::TooManyScans { scans: 41, max: MAX_SCANS },
        PhotoError::TooManyParts { count: 16385, max: MAX_PARTS },
        PhotoError::Animated,
        PhotoError::Internal("bug".into()),
    ];
    let schema = form::Schema::parse(include_str!("../../../content/form.toml")).unwrap();
    let texts = &schema.messages().photo;
    for error in errors {
        let message = error.message_fr(texts);
        assert!(message.len() > 40, "{error}: `{message}`");
        assert!(!message.contains('\''), "{error}: straight apostrophe in `{message}`");
        for bad in [" ;", " :", " !", " ?", "\u{a0};", "\u{a0}:", "« ", " »", "«\u{a0}", "\u{a0}»"] {
            assert!(!message.contains(bad), "{error}: `{bad}` in `{message}`");
        }
        for (i, c) in message.char_indices() {
            if matches!(c, ';' | '!' | '?' | '»') || (c == ':' && i > 0) {
                assert!(
                    message[..i].ends_with('\u{202f}'),
                    "{error}: no narrow space before `{c}` in `{message}`"
                );
            }
        }
        assert_eq!(error.is_server_error(), matches!(error, PhotoError::Internal(_)), "{error}");
    }
    assert!(PhotoError::Heic.message_fr(texts).contains("Réglages > Appareil photo > Formats"));
    assert!(PhotoError::Heic.message_fr(texts).contains("«\u{202f}Le plus compatible\u{202f}»"));
}
