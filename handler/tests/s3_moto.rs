//! The store and the whole request flow against a real S3-compatible server (moto_server, started
//! by each test on a free loopback port): the server's own refusal of a conditional write is what
//! keeps a dossier from being overwritten, so it is tested for real, never with a fake.
//!
//! Slow-ish (a Python server per test, a few seconds each); run alone with
//! `cargo test -p handler --test s3_moto`.

mod support;

use std::io::Cursor;

use handler::account::token::TokenSecret;
use handler::cors::AllowedOrigins;
use handler::idempotency::{DossierSecret, IdempotencyKey};
use handler::{App, Config, ObjectKey, PutOutcome, S3Store, Store};
use image::{ImageFormat, Rgb, RgbImage};
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request};
use support::post::{self, ORIGIN};
use support::{Moto, listing};
use time::OffsetDateTime;

const BUCKET: &str = "demandes-integration";
const SUBMISSION_ID: &str = "3f0b9c2e-8d4a-4f61-b7e5-0c2d9a1e6b53";

fn config() -> Config {
    let allowed_origins = AllowedOrigins::parse(ORIGIN).unwrap().unwrap();
    Config {
        bucket: BUCKET.to_owned(),
        allowed_origins,
        dossier_secret: secret(),
        school: "Lycée Sidoine Apollinaire".to_owned(),
        token_secret: TokenSecret::new(b"test-token-secret-0123456789abcdef".to_vec()).unwrap(),
        mail: None,
    }
}

fn secret() -> DossierSecret {
    DossierSecret::new(b"integration-test-secret-0123456789".to_vec()).unwrap()
}

/// A generated 480x640 JPEG, enough for an ID photo.
fn upload() -> Vec<u8> {
    let image = RgbImage::from_fn(480, 640, |x, y| Rgb([(x / 2) as u8, (y / 3) as u8, 90]));
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
    bytes.into_inner()
}

/// A valid multipart request, as the form posts it.
fn request(schema: &form::Schema) -> Request {
    post::request(&post::fields(schema, SUBMISSION_ID, &[]), &upload())
}

fn json(response: &lambda_http::Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap()
}

// The server itself refuses a second conditional write to a key; the store reports it as
// "already exists", leaves the first object as it was, and reads objects and metadata back.
#[tokio::test]
async fn conditional_writes_against_moto() {
    let moto = Moto::start().await;
    let store = S3Store::new(moto.bucket(BUCKET).await, BUCKET);
    let key = ObjectKey::record(&form::Dossier::from_seed(&[1; 32]));
    let metadata = [("sha256".to_owned(), "abc".to_owned())].into();
    let first = store.put_if_absent(&key, b"first", "application/json", &metadata).await;
    assert_eq!(first.unwrap(), PutOutcome::Created);
    let second = store.put_if_absent(&key, b"second", "application/json", &Default::default()).await;
    assert_eq!(second.unwrap(), PutOutcome::AlreadyExists);
    let stored = store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.bytes, b"first");
    assert_eq!(stored.metadata, metadata);
    let missing = ObjectKey::photo(&form::Dossier::from_seed(&[2; 32]));
    assert_eq!(store.get(&missing).await.unwrap(), None);
}

// A dossier number whose photo another writer already stored is skipped: the server refuses our
// write, the request lands on the next number, the other object is untouched; sending the same
// submission again returns the same number and writes nothing.
#[tokio::test]
async fn taken_number_and_replay_against_moto() {
    let moto = Moto::start().await;
    let client = moto.bucket(BUCKET).await;
    let schema = handler::schema().unwrap();
    let id = form::SubmissionId::parse(SUBMISSION_ID).unwrap();
    let key = IdempotencyKey::from_submission_id(&id);
    let taken = secret().dossier(&key, 0);
    let taken_key = ObjectKey::photo(&taken).to_string();
    client
        .put_object()
        .bucket(BUCKET)
        .key(&taken_key)
        .body(b"someone else's photo".to_vec().into())
        .send()
        .await
        .unwrap();

    let app = App::new(schema, S3Store::new(client.clone(), BUCKET), &config());
    let now = OffsetDateTime::now_utc();
    let response = app.handle(request(&handler::schema().unwrap()), now).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", json(&response));
    let receipt = json(&response);
    let expected = secret().dossier(&key, 1);
    assert_eq!(receipt["dossier"], expected.to_string());
    assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);

    let other = client.get_object().bucket(BUCKET).key(&taken_key).send().await.unwrap();
    let other = other.body.collect().await.unwrap().into_bytes();
    assert_eq!(other.as_ref(), b"someone else's photo");
    let after_first = listing(&client, BUCKET).await;
    let keys: Vec<&str> = after_first.iter().map(|(key, _)| key.as_str()).collect();
    let record_key = ObjectKey::record(&expected).to_string();
    let photo_key = ObjectKey::photo(&expected).to_string();
    assert_eq!(keys, [record_key.as_str(), photo_key.as_str(), taken_key.as_str()]);

    let replay = app.handle(request(&handler::schema().unwrap()), now).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(json(&replay)["dossier"], expected.to_string());
    assert_eq!(json(&replay)["replay"], true);
    assert_eq!(listing(&client, BUCKET).await, after_first);
}

// When S3 cannot be reached, the student gets a 503 with Retry-After, not a crash or a hang.
#[tokio::test]
async fn unreachable_store_gives_503() {
    let moto = Moto::start().await;
    let client = moto.bucket(BUCKET).await;
    drop(moto);
    let app = App::new(handler::schema().unwrap(), S3Store::new(client, BUCKET), &config());
    let response = app.handle(request(&handler::schema().unwrap()), OffsetDateTime::now_utc()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()[header::RETRY_AFTER], "10");
    assert!(json(&response)["error"].as_str().unwrap().contains("Réessayez"));
}
