//! A hostile corpus: requests an outsider would try (broken bodies and headers, wrong methods and
//! origins, fields with look-alike, invisible or out-of-range values, photos that are not photos)
//! sent through the function's real code to a real S3-compatible server (moto_server). For each:
//! the expected status, the expected French message, and not one object written.
//!
//! Run alone with `cargo test -p handler --test hostile`.

mod support;

use std::io::Cursor;

use handler::account::token::TokenSecret;
use handler::cors::AllowedOrigins;
use handler::idempotency::DossierSecret;
use handler::photo::{self, PhotoError};
use handler::response::Failure;
use handler::{App, Config, S3Store};
use image::{ImageFormat, Rgb, RgbImage};
use lambda_http::http::header;
use lambda_http::{Body, Request};
use support::{Moto, listing, valid_fields};
use time::OffsetDateTime;

const BUCKET: &str = "demandes-hostile";
const ORIGIN: &str = "https://lycee.example.fr";
const SCHOOL: &str = "Lycée Sidoine Apollinaire";
const BOUNDARY: &str = "hostile-boundary-4f1a9c";
const NOW: OffsetDateTime = time::macros::datetime!(2025-09-01 08:30:00 UTC);

fn config() -> Config {
    Config {
        bucket: BUCKET.to_owned(),
        allowed_origins: AllowedOrigins::parse(&format!("{ORIGIN},null")).unwrap().unwrap(),
        dossier_secret: DossierSecret::new(b"hostile-corpus-secret-0123456789abcdef".to_vec()).unwrap(),
        school: SCHOOL.to_owned(),
        token_secret: TokenSecret::new(b"test-token-secret-0123456789abcdef".to_vec()).unwrap(),
        mail: None,
    }
}

/// A generated JPEG of the given size.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    encode(width, height, ImageFormat::Jpeg)
}

fn encode(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 251) as u8, (y % 241) as u8, 100]));
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// A JPEG whose frame header claims `width`×`height` with hardly any data behind it.
fn lying_jpeg(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = jpeg(16, 16);
    // SOF0: FF C0, length, precision, then height and width.
    let at = bytes.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    bytes[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
    bytes[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A PNG whose header claims `width`×`height` (the CRC is left wrong on purpose for one case).
fn lying_png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = encode(16, 16, ImageFormat::Png);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    bytes
}

/// The iPhone's HEIC of the shared test photos.
fn heic() -> Vec<u8> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/photos/phone-iphone13.heic");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the shared test photos are needed: `{}`: {e}", path.display()))
}

/// A multipart body, part by part.
#[derive(Clone, Default)]
struct Parts(Vec<u8>);

impl Parts {
    fn raw(mut self, headers: &str, value: &[u8]) -> Parts {
        self.0.extend_from_slice(format!("--{BOUNDARY}\r\n{headers}\r\n\r\n").as_bytes());
        self.0.extend_from_slice(value);
        self.0.extend_from_slice(b"\r\n");
        self
    }

    fn text(self, name: &str, value: &str) -> Parts {
        self.raw(&format!("Content-Disposition: form-data; name=\"{name}\""), value.as_bytes())
    }

    fn file(self, name: &str, bytes: &[u8]) -> Parts {
        let headers = format!(
            "Content-Disposition: form-data; name=\"{name}\"; filename=\"p.jpg\"\r\nContent-Type: image/jpeg"
        );
        self.raw(&headers, bytes)
    }

    fn close(mut self) -> Vec<u8> {
        self.0.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.0
    }
}

/// The valid form's text fields with `changes` applied (`None` removes the field), no photo.
fn fields(schema: &form::Schema, changes: &[(&str, Option<&str>)]) -> Parts {
    let mut parts = Parts::default();
    for (name, value) in valid_fields(schema) {
        if !changes.iter().any(|(changed, _)| *changed == name) {
            parts = parts.text(&name, &value);
        }
    }
    for (name, value) in changes {
        if let Some(value) = value {
            parts = parts.text(name, value);
        }
    }
    parts
}

/// The valid form with `changes` and a good photo.
fn form_with(schema: &form::Schema, changes: &[(&str, Option<&str>)]) -> Vec<u8> {
    fields(schema, changes).file("photo", &jpeg(480, 640)).close()
}

/// The valid form with this photo (and an optional crop).
fn photo_form(schema: &form::Schema, photo: &[u8], crop: Option<&str>) -> Vec<u8> {
    let changes: Vec<(&str, Option<&str>)> = crop.map(|c| ("recadrage", Some(c))).into_iter().collect();
    fields(schema, &changes).file("photo", photo).close()
}

/// A request as a browser's `fetch` from the site sends it, with `method`, `path`, `headers`
/// (added, or replacing the defaults; an empty value removes the header) and `body`.
fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("https://abc.lambda-url.eu-west-3.on.aws{path}"));
    let defaults = [
        ("content-type", format!("multipart/form-data; boundary={BOUNDARY}")),
        ("accept", "application/json".to_owned()),
        ("origin", ORIGIN.to_owned()),
    ];
    for (name, value) in defaults {
        if !headers.iter().any(|(header, _)| header.eq_ignore_ascii_case(name)) {
            builder = builder.header(name, value);
        }
    }
    for (name, value) in headers {
        if !value.is_empty() {
            builder = builder.header(*name, *value);
        }
    }
    builder.body(Body::Binary(body)).unwrap()
}

fn post(body: Vec<u8>) -> Request {
    request("POST", "/demande", &[], body)
}

/// What the answer must say.
enum Expected {
    /// `{"error": message}` with this failure's message.
    Failure(Failure),
    /// `{"errors": …}` where `field` has this exact message.
    Field(&'static str, String),
    /// `{"errors": …}` where `field` has one of the schema's messages for it (the exact kind is
    /// the validation tables' business, in `form`).
    FieldAny(&'static str),
}

struct Case {
    name: &'static str,
    request: Request,
    status: u16,
    expected: Expected,
}

fn case(name: &'static str, request: Request, status: u16, expected: Expected) -> Case {
    Case { name, request, status, expected }
}

/// The schema's message of `kind` for `field`.
fn message(schema: &form::Schema, field: &str, kind: &str) -> String {
    let messages = serde_json::to_value(&schema.field(field).unwrap().messages).unwrap();
    messages[kind].as_str().unwrap_or_else(|| panic!("`{field}` has no `{kind}` message")).to_owned()
}

/// The photo pipeline's own French message for these bytes.
fn photo_message(bytes: &[u8], crop: Option<&str>) -> String {
    let crop = crop.map(|c| form::Crop::parse(c).unwrap());
    let error: PhotoError = photo::process(bytes, crop).expect_err("the photo is refused");
    assert!(!error.is_server_error(), "{error}");
    error.message_fr(&handler::texts().photo)
}

fn corpus(schema: &form::Schema) -> Vec<Case> {
    use Expected::{Failure as F, Field, FieldAny};
    let invalid = |field: &'static str| Field(field, message(schema, field, "invalid"));
    let required = |field: &'static str| Field(field, message(schema, field, "required"));
    let too_long = |field: &'static str| Field(field, message(schema, field, "too_long"));
    let with = |changes: &[(&str, Option<&str>)]| post(form_with(schema, changes));
    let one = |field: &str, value: &str| -> Request { post(form_with(schema, &[(field, Some(value))])) };
    let photo_case = |name: &'static str, bytes: Vec<u8>, crop: Option<&'static str>| {
        let expected = Field("photo", photo_message(&bytes, crop));
        case(name, post(photo_form(schema, &bytes, crop)), 422, expected)
    };
    let mut many_parts = fields(schema, &[]);
    for i in 0..handler::multipart::MAX_PARTS {
        many_parts = many_parts.text(&format!("extra{i}"), "x");
    }
    let long_part = "x".repeat(handler::multipart::MAX_TEXT_FIELD_BYTES + 1);
    let over_limit =
        fields(schema, &[]).file("photo", &vec![0xFF; handler::multipart::MAX_BODY_BYTES]).close();
    let mut truncated_jpeg = jpeg(480, 640);
    truncated_jpeg.truncate(600);

    vec![
        // Bodies and headers.
        case(
            "no content type",
            request("POST", "/demande", &[("content-type", "")], form_with(schema, &[])),
            415,
            F(Failure::NotMultipart),
        ),
        case(
            "urlencoded",
            request(
                "POST",
                "/demande",
                &[("content-type", "application/x-www-form-urlencoded")],
                b"nom=Dupr%C3%A9".to_vec(),
            ),
            415,
            F(Failure::NotMultipart),
        ),
        case(
            "json body",
            request("POST", "/demande", &[("content-type", "application/json")], br#"{"nom":"x"}"#.to_vec()),
            415,
            F(Failure::NotMultipart),
        ),
        case(
            "multipart/mixed",
            request(
                "POST",
                "/demande",
                &[("content-type", &format!("multipart/mixed; boundary={BOUNDARY}"))],
                form_with(schema, &[]),
            ),
            415,
            F(Failure::NotMultipart),
        ),
        case(
            "no boundary",
            request("POST", "/demande", &[("content-type", "multipart/form-data")], form_with(schema, &[])),
            415,
            F(Failure::NotMultipart),
        ),
        case(
            "garbled content type",
            request(
                "POST",
                "/demande",
                &[("content-type", "multipart/form-data; boundary=\"unclosed")],
                form_with(schema, &[]),
            ),
            415,
            F(Failure::NotMultipart),
        ),
        case("empty body", post(Vec::new()), 400, F(Failure::Malformed)),
        case(
            "other boundary",
            request(
                "POST",
                "/demande",
                &[("content-type", "multipart/form-data; boundary=autre")],
                form_with(schema, &[]),
            ),
            400,
            F(Failure::Malformed),
        ),
        case("truncated body", post(form_with(schema, &[])[..2000].to_vec()), 400, F(Failure::Malformed)),
        case(
            "random bytes",
            post((0..5000u32).map(|i| (i * 7919 % 251) as u8).collect()),
            400,
            F(Failure::Malformed),
        ),
        case("body over the limit", post(over_limit), 413, F(Failure::TooLarge)),
        case(
            "too many parts",
            post(many_parts.file("photo", &jpeg(480, 640)).close()),
            400,
            F(Failure::Malformed),
        ),
        case(
            "text part over its bound",
            post(fields(schema, &[]).text("inconnu", &long_part).file("photo", &jpeg(480, 640)).close()),
            400,
            F(Failure::Malformed),
        ),
        case(
            "duplicate field",
            post(fields(schema, &[]).text("nom", "Autre").file("photo", &jpeg(480, 640)).close()),
            400,
            F(Failure::Malformed),
        ),
        case(
            "duplicate photo",
            post(fields(schema, &[]).file("photo", &jpeg(480, 640)).file("photo", &jpeg(480, 640)).close()),
            400,
            F(Failure::Malformed),
        ),
        case(
            "text not utf-8",
            post(
                fields(schema, &[("nom", None)])
                    .raw("Content-Disposition: form-data; name=\"nom\"", b"Dupr\xe9")
                    .file("photo", &jpeg(480, 640))
                    .close(),
            ),
            400,
            F(Failure::Malformed),
        ),
        case(
            "honeypot filled",
            with(&[("site_web", Some("https://spam.example"))]),
            400,
            F(Failure::Refused),
        ),
        // Methods, paths, origins.
        case("get", request("GET", "/demande", &[], Vec::new()), 405, F(Failure::MethodNotAllowed)),
        case(
            "put",
            request("PUT", "/demande", &[], form_with(schema, &[])),
            405,
            F(Failure::MethodNotAllowed),
        ),
        case("delete", request("DELETE", "/demande", &[], Vec::new()), 405, F(Failure::MethodNotAllowed)),
        case(
            "patch",
            request("PATCH", "/demande", &[], form_with(schema, &[])),
            405,
            F(Failure::MethodNotAllowed),
        ),
        case("other path", request("POST", "/admin", &[], form_with(schema, &[])), 404, F(Failure::NotFound)),
        case(
            "path traversal",
            request("POST", "/demande/../../etc/passwd", &[], form_with(schema, &[])),
            404,
            F(Failure::NotFound),
        ),
        case(
            "foreign origin",
            request("POST", "/demande", &[("origin", "https://evil.example")], form_with(schema, &[])),
            403,
            F(Failure::ForbiddenOrigin),
        ),
        case(
            "look-alike origin",
            request(
                "POST",
                "/demande",
                &[("origin", "https://lycee.example.fr.evil.test")],
                form_with(schema, &[]),
            ),
            403,
            F(Failure::ForbiddenOrigin),
        ),
        case(
            "origin over http",
            request("POST", "/demande", &[("origin", "http://lycee.example.fr")], form_with(schema, &[])),
            403,
            F(Failure::ForbiddenOrigin),
        ),
        case(
            "origin with port",
            request(
                "POST",
                "/demande",
                &[("origin", "https://lycee.example.fr:8443")],
                form_with(schema, &[]),
            ),
            403,
            F(Failure::ForbiddenOrigin),
        ),
        // Fields.
        case("charte missing", with(&[("charte", None)]), 422, required("charte")),
        case("nom empty", one("nom", "   "), 422, required("nom")),
        case("nom with digits", one("nom", "R2D2"), 422, invalid("nom")),
        case("nom too long", one("nom", &"a".repeat(51)), 422, too_long("nom")),
        case("nom in mathematical bold", one("nom", "𝐃𝐮𝐩𝐫𝐞"), 422, FieldAny("nom")),
        case("nom in fraktur", one("nom", "𝔇𝔲𝔭𝔯𝔢"), 422, FieldAny("nom")),
        case("nom in fullwidth letters", one("nom", "Ｄｕｐｒｅ"), 422, FieldAny("nom")),
        case("nom with a zero-width space", one("nom", "Du\u{200b}pré"), 422, FieldAny("nom")),
        case("nom with a bidi override", one("nom", "\u{202e}érpuD"), 422, FieldAny("nom")),
        case("nom with a soft hyphen", one("nom", "Du\u{ad}pré"), 422, FieldAny("nom")),
        case("prenom with an emoji", one("prenom", "Léa 😀"), 422, invalid("prenom")),
        case("prenom with html", one("prenom", "<script>alert(1)</script>"), 422, invalid("prenom")),
        case("prenom with a private-use character", one("prenom", "L\u{e000}a"), 422, FieldAny("prenom")),
        case("date that does not exist", one("date_naissance", "2009-02-30"), 422, invalid("date_naissance")),
        case(
            "date in the future",
            one("date_naissance", "2030-01-01"),
            422,
            Field("date_naissance", message(schema, "date_naissance", "future")),
        ),
        case(
            "date too young",
            one("date_naissance", "2015-01-01"),
            422,
            Field("date_naissance", message(schema, "date_naissance", "too_young")),
        ),
        case(
            "date too old",
            one("date_naissance", "1970-01-01"),
            422,
            Field("date_naissance", message(schema, "date_naissance", "too_old")),
        ),
        case("date as text", one("date_naissance", "hier"), 422, invalid("date_naissance")),
        case("email without at", one("email", "lea.example.org"), 422, invalid("email")),
        case("email with a space", one("email", "lea dupre@example.org"), 422, invalid("email")),
        case("email with a bidi isolate", one("email", "lea\u{2066}@example.org"), 422, FieldAny("email")),
        case(
            "email with a header injection",
            one("email", "lea@example.org\r\nBcc: x@evil.test"),
            422,
            invalid("email"),
        ),
        case(
            "email too long",
            one("email", &format!("{}@example.org", "a".repeat(250))),
            422,
            too_long("email"),
        ),
        case("code postal of 4 digits", one("code_postal", "6300"), 422, invalid("code_postal")),
        case("code postal with letters", one("code_postal", "63OOO"), 422, invalid("code_postal")),
        case("code postal in arabic-indic digits", one("code_postal", "٦٣٠٠٠"), 422, invalid("code_postal")),
        case("telephone too short", one("telephone", "06 12"), 422, invalid("telephone")),
        case("telephone abroad", one("telephone", "+44 20 7946 0958"), 422, invalid("telephone")),
        case("adresse of punctuation", one("adresse", "--- ..."), 422, invalid("adresse")),
        case(
            "adresse with a control character",
            one("adresse", "12 rue\u{7}des Écoles"),
            422,
            FieldAny("adresse"),
        ),
        case(
            "adresse with an unassigned character",
            one("adresse", "12 rue \u{378} des Écoles"),
            422,
            FieldAny("adresse"),
        ),
        case("adresse too long", one("adresse", &"12 rue ".repeat(30)), 422, too_long("adresse")),
        case("commune with digits", one("commune", "Lyon 3"), 422, invalid("commune")),
        case("another school", one("etablissement", "Lycée Blaise Pascal"), 422, FieldAny("etablissement")),
        case(
            "school with a zero-width joiner",
            one("etablissement", "Lycée Sidoine\u{200d} Apollinaire"),
            422,
            FieldAny("etablissement"),
        ),
        case("school missing", with(&[("etablissement", None)]), 422, required("etablissement")),
        case("filiere not listed", one("filiere", "Terminale S"), 422, invalid("filiere")),
        case("crop of three numbers", one("recadrage", "1,2,3"), 422, invalid("recadrage")),
        case("crop negative", one("recadrage", "-1,0,300,400"), 422, invalid("recadrage")),
        case("submission id too short", one("submission_id", "abc"), 422, invalid("submission_id")),
        case(
            "submission id as a path",
            one("submission_id", "../../demandes/x"),
            422,
            invalid("submission_id"),
        ),
        case("everything empty", post(Parts::default().text("nom", "").close()), 422, required("charte")),
        // Photos.
        case("no photo", post(fields(schema, &[]).close()), 422, required("photo")),
        case(
            "empty photo part",
            post(fields(schema, &[]).file("photo", b"").close()),
            422,
            required("photo"),
        ),
        photo_case("heic", heic(), None),
        photo_case(
            "gif",
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04".to_vec(),
            None,
        ),
        photo_case("pdf", b"%PDF-1.7\n1 0 obj << >> endobj\n".to_vec(), None),
        photo_case("text renamed .jpg", b"ceci n'est pas une photo".to_vec(), None),
        photo_case("avif", [&[0, 0, 0, 0x1c][..], b"ftypavif\0\0\0\0avifmif1miaf"].concat(), None),
        photo_case("jpeg cut short", truncated_jpeg, None),
        photo_case("jpeg magic only", vec![0xFF, 0xD8, 0xFF], None),
        photo_case("jpeg too small", jpeg(100, 120), None),
        photo_case("png too small", encode(120, 100, ImageFormat::Png), None),
        photo_case("jpeg claiming 65535x65535", lying_jpeg(65535, 65535), None),
        photo_case("png claiming 100000x100000", lying_png(100_000, 100_000), None),
        photo_case("webp garbage", b"RIFF\x20\0\0\0WEBPVP8 \x14\0\0\0garbagegarbagegarbage".to_vec(), None),
        photo_case("crop outside the photo", jpeg(480, 640), Some("200,300,350,450")),
        photo_case("crop too small", jpeg(480, 640), Some("0,0,70,90")),
    ]
}

// Every hostile request gets its status and French message, and nothing reaches the bucket.
#[tokio::test]
async fn hostile_requests_store_nothing() {
    let moto = Moto::start().await;
    let client = moto.bucket(BUCKET).await;
    let schema = handler::schema().unwrap();
    let app = App::new(schema.clone(), S3Store::new(client.clone(), BUCKET), &config());
    let cases = corpus(&schema);
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for Case { name, request, status, expected } in cases {
        let response = app.handle(request, NOW).await;
        let got = response.status().as_u16();
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap_or_default();
        let said = match &expected {
            Expected::Failure(failure) => body["error"] == failure.message_fr(),
            Expected::Field(field, message) => body["errors"][field] == message.as_str(),
            Expected::FieldAny(field) => {
                let messages = serde_json::to_value(&schema.field(field).unwrap().messages).unwrap();
                let known = messages.as_object().unwrap();
                known.values().any(|m| body["errors"][field] == *m)
            }
        };
        if got != status || !said {
            failures.push(format!("{name}: expected {status}, got {got} with {body}"));
        }
        let stored = listing(&client, BUCKET).await;
        assert!(stored.is_empty(), "{name}: wrote {stored:?}");
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store", "{name}");
    }
    assert!(failures.is_empty(), "{} cases answered otherwise:\n{}", failures.len(), failures.join("\n"));
    // The same function still stores a good request: the corpus proved refusals, not a dead store.
    let response = app.handle(post(form_with(&schema, &[])), NOW).await;
    assert_eq!(response.status().as_u16(), 201, "{:?}", response.body());
    assert_eq!(listing(&client, BUCKET).await.len(), 2);
}
