//! Reads the `multipart/form-data` body the form posts, with multer and hard bounds: the whole
//! body, each text field and the number of parts are limited, so a hostile or broken client cannot
//! make the function hold more than one Lambda payload in memory. Fields the form does not have are
//! read (within the bounds) and dropped.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;

use multer::{Constraints, Multipart, SizeLimit};

/// The largest body accepted: what a Function URL can deliver (see [`form::limits`]).
pub const MAX_BODY_BYTES: usize = form::limits::MAX_BODY_BYTES;
/// The largest text field: the longest field of the form is a postal address line.
pub const MAX_TEXT_FIELD_BYTES: usize = 4 * 1024;
/// The most parts a body may hold: the form has about fifteen fields.
pub const MAX_PARTS: usize = 40;

/// The body's fields: text by wire name, and the photo's bytes as uploaded.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FormData {
    pub text: BTreeMap<String, String>,
    pub photo: Option<Vec<u8>>,
}

/// Why a body could not be read. Messages name fields of the form only, never a value.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    /// A text part above [`MAX_TEXT_FIELD_BYTES`]. Unnamed: the part's name may be anything the
    /// client chose, and error texts reach the logs.
    #[error("a text part is larger than {MAX_TEXT_FIELD_BYTES} bytes")]
    FieldTooLong,
    #[error("the request is not `multipart/form-data` with a boundary")]
    NotMultipart,
    #[error("more than {MAX_PARTS} parts")]
    TooManyParts,
    #[error("field `{0}` appears more than once")]
    Duplicate(String),
    #[error("field `{0}` is not valid UTF-8")]
    NotUtf8(String),
    #[error("malformed multipart body: {0}")]
    Malformed(String),
}

impl From<multer::Error> for MultipartError {
    fn from(error: multer::Error) -> MultipartError {
        match error {
            // The photo's own limit is the whole body's, so only a text part can exceed its limit
            // before the stream does.
            multer::Error::FieldSizeExceeded { .. } => MultipartError::FieldTooLong,
            multer::Error::StreamSizeExceeded { .. } => MultipartError::TooLarge,
            multer::Error::NoMultipart | multer::Error::NoBoundary | multer::Error::DecodeContentType(_) => {
                MultipartError::NotMultipart
            }
            other => MultipartError::Malformed(other.to_string()),
        }
    }
}

/// Reads `body` sent with `content_type`. `known` lists the form's text fields; `photo` names the
/// file field. An empty file part (a file input left empty) counts as no photo.
pub async fn parse(
    body: &[u8],
    content_type: Option<&str>,
    known: &BTreeSet<String>,
    photo: &str,
) -> Result<FormData, MultipartError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(MultipartError::TooLarge);
    }
    let content_type = content_type.ok_or(MultipartError::NotMultipart)?;
    // Checks the type is `multipart/form-data` and reads the boundary.
    let boundary = multer::parse_boundary(content_type)?;
    let limits = SizeLimit::new()
        .whole_stream(MAX_BODY_BYTES as u64)
        .per_field(MAX_TEXT_FIELD_BYTES as u64)
        .for_field(photo, MAX_BODY_BYTES as u64);
    let stream = futures_util::stream::iter([Ok::<_, Infallible>(body.to_vec())]);
    let mut multipart = Multipart::with_constraints(stream, boundary, Constraints::new().size_limit(limits));

    let mut form = FormData::default();
    let mut seen_photo = false;
    let mut parts = 0;
    while let Some(field) = multipart.next_field().await? {
        parts += 1;
        if parts > MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        let name = field.name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await?;
        if name == photo {
            if std::mem::replace(&mut seen_photo, true) {
                return Err(MultipartError::Duplicate(name));
            }
            form.photo = (!bytes.is_empty()).then(|| bytes.to_vec());
        } else if known.contains(&name) {
            let text =
                String::from_utf8(bytes.to_vec()).map_err(|_| MultipartError::NotUtf8(name.clone()))?;
            if form.text.contains_key(&name) {
                return Err(MultipartError::Duplicate(name));
            }
            form.text.insert(name, text);
        }
    }
    Ok(form)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Multipart as Body;

    fn known() -> BTreeSet<String> {
        ["nom", "prenom", "charte"].into_iter().map(String::from).collect()
    }

    async fn read(body: &Body) -> Result<FormData, MultipartError> {
        parse(&body.bytes(), Some(&body.content_type()), &known(), "photo").await
    }

    // Known text fields and the photo are read; unknown fields are dropped.
    #[tokio::test]
    async fn reads_text_and_photo() {
        let body = Body::new().text("nom", "Dupré").text("inconnu", "ignored").file(
            "photo",
            "moi.jpg",
            b"\xff\xd8 jpeg bytes",
        );
        let form = read(&body).await.unwrap();
        assert_eq!(form.text, BTreeMap::from([("nom".to_owned(), "Dupré".to_owned())]));
        assert_eq!(form.photo.as_deref(), Some(b"\xff\xd8 jpeg bytes".as_slice()));
    }

    // A file input left empty sends an empty part: that is no photo, not an empty one.
    #[tokio::test]
    async fn empty_file_part_is_no_photo() {
        let form = read(&Body::new().text("nom", "A").file("photo", "", b"")).await.unwrap();
        assert_eq!(form.photo, None);
    }

    // Each way a body can break the bounds or the format gives its own error.
    #[tokio::test]
    async fn refuses_bad_bodies() {
        let long = "x".repeat(MAX_TEXT_FIELD_BYTES + 1);
        let big_photo = vec![0u8; MAX_BODY_BYTES];
        let mut many = Body::new();
        for i in 0..=MAX_PARTS {
            many = many.text(&format!("f{i}"), "x");
        }
        let cases = [
            (Body::new().text("nom", &long), MultipartError::FieldTooLong),
            (Body::new().text("inconnu", &long), MultipartError::FieldTooLong),
            (Body::new().file("photo", "a.jpg", &big_photo), MultipartError::TooLarge),
            (Body::new().text("nom", "a").text("nom", "b"), MultipartError::Duplicate("nom".into())),
            (
                Body::new().file("photo", "a.jpg", b"1").file("photo", "b.jpg", b"2"),
                MultipartError::Duplicate("photo".into()),
            ),
            (Body::new().raw_text("prenom", b"\xff\xfe"), MultipartError::NotUtf8("prenom".into())),
            (many, MultipartError::TooManyParts),
        ];
        for (body, expected) in cases {
            assert_eq!(read(&body).await.unwrap_err(), expected);
        }
    }

    // Bodies that are not multipart with a boundary are refused before any field is read.
    #[tokio::test]
    async fn refuses_non_multipart() {
        let cases = [
            (b"nom=a".as_slice(), Some("application/x-www-form-urlencoded")),
            (b"", None),
            (b"", Some("multipart/form-data")),
            (b"", Some("not a type")),
        ];
        for (body, content_type) in cases {
            let error = parse(body, content_type, &known(), "photo").await.unwrap_err();
            assert_eq!(error, MultipartError::NotMultipart, "{content_type:?}");
        }
    }

    // A body cut short in the middle of a field is malformed.
    #[tokio::test]
    async fn refuses_truncated_body() {
        let body = b"--B\r\nContent-Disposition: form-data; name=\"nom\"\r\n\r\nDup";
        let error = parse(body, Some("multipart/form-data; boundary=B"), &known(), "photo").await;
        assert!(matches!(error, Err(MultipartError::Malformed(_))), "{error:?}");
    }

    /// A body made of parts with these names and values, some of them files, then `tail` raw.
    fn arbitrary_body(parts: &[(String, Vec<u8>, bool)], tail: &[u8]) -> Vec<u8> {
        let mut body = Body::new();
        for (name, value, file) in parts {
            body = if *file { body.file(name, "f.bin", value) } else { body.raw_text(name, value) };
        }
        let mut bytes = body.bytes();
        bytes.extend_from_slice(tail);
        bytes
    }

    proptest::proptest! {
        // Arbitrary bodies, names and boundaries never make the parser panic or go past its
        // bounds: it either reads within the limits or gives an error.
        #[test]
        fn never_panics_on_arbitrary_bodies(
            parts in proptest::collection::vec(
                ("(nom|prenom|charte|photo|[a-z\\\"\r\n;= ]{0,12})", proptest::collection::vec(proptest::num::u8::ANY, 0..300), proptest::bool::ANY),
                0..12,
            ),
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            cut in proptest::option::of(0usize..4000),
            content_type in "(multipart/form-data; boundary=----unit-test-boundary-7MA4YWxkTrZu0gW|multipart/form-data; boundary=[ -~]{0,20}|[ -~]{0,40})",
        ) {
            let mut body = arbitrary_body(&parts, &tail);
            if let Some(cut) = cut {
                body.truncate(cut);
            }
            let parsed = block_on(parse(&body, Some(&content_type), &known(), "photo"));
            if let Ok(form) = parsed {
                proptest::prop_assert!(form.text.len() <= MAX_PARTS);
                proptest::prop_assert!(form.text.values().all(|v| v.len() <= MAX_TEXT_FIELD_BYTES));
                proptest::prop_assert!(form.text.keys().all(|k| known().contains(k)));
            }
        }

        // Random bytes of any length under any content type are refused or read, never a panic.
        #[test]
        fn never_panics_on_random_bytes(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..2000),
            content_type in proptest::option::of("[ -~]{0,60}"),
        ) {
            let _ = block_on(parse(&body, content_type.as_deref(), &known(), "photo"));
        }
    }

    /// Runs the parser's future to completion: it never waits on anything but the given bytes.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
    }

    // A body above the Lambda limit is refused before multer sees it.
    #[tokio::test]
    async fn refuses_oversized_body_up_front() {
        let body = vec![b'x'; MAX_BODY_BYTES + 1];
        let error = parse(&body, Some("text/plain"), &known(), "photo").await.unwrap_err();
        assert_eq!(error, MultipartError::TooLarge);
    }
}
