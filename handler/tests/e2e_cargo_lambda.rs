//! End to end: the real `handler` binary under `cargo lambda watch` (the Lambda emulator and its
//! Function URL), a real S3-compatible server (moto_server), a real phone photo posted as
//! multipart over HTTP; then both objects are read back from the server.
//!
//! Slow (starts two servers; builds the binary if `cargo test` has not): run alone with
//! `cargo test -p handler --test e2e_cargo_lambda`.

mod support;

use std::fs::File;
use std::io::Cursor;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};
use support::{ACCESS_KEY, Moto, REGION, SECRET_KEY, free_port, listing, valid_fields};

const BUCKET: &str = "demandes-e2e";
const ORIGIN: &str = "http://localhost:8000";
const SUBMISSION_ID: &str = "e2e-7c1d5b9a-2f44-4e0b-a8d3-61f0c7e29b15";
/// How long the emulator may take to start and build the function (a cold build on two cores).
const START_TIMEOUT: Duration = Duration::from_secs(900);

/// The workspace root, where `cargo lambda` runs.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Whether `cargo test` set this variable for the test process. Passed on to the nested cargo,
/// such variables would make it see another environment than the outer one and rebuild every
/// crate whose build script watches them (ring watches `CARGO_PKG_NAME`), then the outer cargo
/// would rebuild them back.
fn is_set_by_cargo_test(name: &str) -> bool {
    const PREFIXES: [&str; 8] = [
        "CARGO_PKG_",
        "CARGO_MANIFEST_",
        "CARGO_BIN_",
        "CARGO_CRATE_",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

/// `cargo lambda watch` serving the handler, in its own process group so that the whole tree
/// (cargo, the function) is stopped on drop.
struct Emulator {
    child: Child,
    log: PathBuf,
    url: String,
}

impl Emulator {
    async fn start(moto: &Moto) -> Emulator {
        if let Err(error) = Command::new("cargo-lambda").arg("--version").output() {
            panic!(
                "`cargo-lambda` cannot run ({error}): the end-to-end test needs it; `scripts/test` \
                 installs it (`pip install cargo-lambda`)"
            );
        }
        let port = free_port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-cargo-lambda.log");
        let output = File::create(&log).unwrap();
        let mut command = Command::new("cargo");
        for (name, _) in std::env::vars_os() {
            if name.to_str().is_some_and(is_set_by_cargo_test) {
                command.env_remove(name);
            }
        }
        let spawned = command
            .args(["lambda", "watch", "--ignore-changes", "--disable-cors"])
            .args(["--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
            .args(["--package", "handler", "--bin", "handler"])
            .current_dir(workspace())
            .env("BUCKET_NAME", BUCKET)
            .env("ALLOWED_ORIGIN", ORIGIN)
            .env("DOSSIER_SECRET", "end-to-end-secret-end-to-end-secret")
            .env("ETABLISSEMENT", "Lycée Sidoine Apollinaire")
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_ENDPOINT_URL_S3", &moto.endpoint)
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .process_group(0)
            .spawn();
        let child = spawned.unwrap_or_else(|error| panic!("cannot run `cargo lambda`: {error}"));
        let mut emulator =
            Emulator { child, log, url: format!("http://127.0.0.1:{port}/lambda-url/handler/demande") };
        emulator.wait_until_ready().await;
        emulator
    }

    /// Sends a preflight until the function itself answers it (the emulator is up and the
    /// function built and started).
    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let answer = http.request(reqwest::Method::OPTIONS, &self.url).send().await;
            if answer.is_ok_and(|response| response.status() == 204) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("`cargo lambda watch` exited ({status}):\n{}", self.log_tail());
            }
            let log = self.log_tail();
            assert!(!log.contains("start-up failed"), "the function refused to start:\n{log}");
            assert!(
                started.elapsed() < START_TIMEOUT,
                "the function did not answer under `cargo lambda watch`:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // The group holds cargo-lambda, `cargo run` and the function.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// Whether a JPEG holds an APP1 segment (EXIF or XMP), walking the markers up to the scan.
fn has_app1(jpeg: &[u8]) -> bool {
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xFF {
        let marker = jpeg[at + 1];
        if marker == 0xDA {
            return false;
        }
        if marker == 0xE1 {
            return true;
        }
        at += 2 + usize::from(u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]));
    }
    false
}

// A real iPhone photo with GPS data posted through the Function URL comes back from S3 as a
// 413x531 JPEG under 200 KB without any EXIF, beside a record that describes it; sending the
// same submission again gives the same dossier and no new object.
#[tokio::test(flavor = "multi_thread")]
async fn phone_photo_through_cargo_lambda() {
    let photo_path = workspace().join("../shared/photos/phone-iphone-8mp-gps.jpg");
    let original =
        std::fs::read(&photo_path).unwrap_or_else(|e| panic!("cannot read `{}`: {e}", photo_path.display()));
    assert!(has_app1(&original), "the sample must carry EXIF for this test to mean anything");

    let moto = Moto::start().await;
    let client = moto.bucket(BUCKET).await;
    let emulator = Emulator::start(&moto).await;

    let schema = handler::schema().unwrap();
    let form = || {
        let mut form = Form::new();
        for (name, value) in valid_fields(&schema) {
            form = form.text(name, value);
        }
        let photo = Part::bytes(original.clone()).file_name("IMG_0042.JPG");
        form.text("submission_id", SUBMISSION_ID).part("photo", photo.mime_str("image/jpeg").unwrap())
    };
    let http = reqwest::Client::new();
    let post = || {
        http.post(&emulator.url)
            .header("accept", "application/json")
            .header("origin", ORIGIN)
            .multipart(form())
            .send()
    };

    let response = post().await.unwrap();
    let status = response.status();
    let cors = response.headers().get("access-control-allow-origin").cloned();
    let receipt: serde_json::Value = serde_json::from_str(&response.text().await.unwrap())
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", emulator.log_tail()));
    assert_eq!(status, 201, "{receipt}\n{}", emulator.log_tail());
    assert_eq!(cors.unwrap(), ORIGIN);
    let compact = receipt["compact"].as_str().unwrap().to_owned();
    let dossier = form::Dossier::parse(&compact).unwrap();
    assert_eq!(receipt["dossier"], dossier.to_string());

    let photo_key = format!("demandes/{compact}/photo.jpg");
    let record_key = format!("demandes/{compact}/demande.json");
    let photo = client.get_object().bucket(BUCKET).key(&photo_key).send().await.unwrap();
    assert_eq!(photo.content_type(), Some("image/jpeg"));
    let photo_sha = photo.metadata().unwrap()["sha256"].clone();
    let jpeg = photo.body.collect().await.unwrap().into_bytes().to_vec();
    assert!(jpeg.len() <= 200 * 1024, "{} bytes", jpeg.len());
    assert_eq!(photo_sha, hex::encode(Sha256::digest(&jpeg)));
    let decoded = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (413, 531));
    assert!(!has_app1(&jpeg), "EXIF or XMP left in the stored photo");
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&jpeg)).is_err());

    let record = client.get_object().bucket(BUCKET).key(&record_key).send().await.unwrap();
    assert_eq!(record.content_type(), Some("application/json"));
    let record: serde_json::Value =
        serde_json::from_slice(&record.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(record["schema_version"], 2);
    assert_eq!(record["content"].as_str().map(str::len), Some(64), "the content tag is stored");
    assert_eq!(record["dossier"], dossier.to_string());
    assert_eq!(record["demande"]["nom"], "Dupré");
    assert_eq!(record["demande"]["email"], "lea.dupre@example.org");
    assert_eq!(record["photo"]["key"], photo_key);
    assert_eq!(record["photo"]["sha256"], photo_sha);
    assert_eq!(record["photo"]["bytes"], jpeg.len());
    assert_eq!(
        (record["photo"]["width"].clone(), record["photo"]["height"].clone()),
        (413.into(), 531.into())
    );
    assert_eq!(record["original"]["format"], "jpeg");
    let original_pixels =
        record["original"]["width"].as_u64().unwrap() * record["original"]["height"].as_u64().unwrap();
    assert_eq!(original_pixels, 3264 * 2448);
    let received_at = record["received_at"].as_str().unwrap();
    assert!(time::OffsetDateTime::parse(received_at, &time::format_description::well_known::Rfc3339).is_ok());
    let submission = record["submission"].as_str().unwrap();
    assert_eq!(submission.len(), 64);
    assert!(!submission.contains(SUBMISSION_ID));
    let before = listing(&client, BUCKET).await;
    assert_eq!(before.len(), 2, "{before:?}");

    let again = post().await.unwrap();
    assert_eq!(again.status(), 200);
    let replay: serde_json::Value = serde_json::from_str(&again.text().await.unwrap()).unwrap();
    assert_eq!(replay["dossier"], dossier.to_string());
    assert_eq!(replay["replay"], true);
    assert_eq!(listing(&client, BUCKET).await, before, "the replay wrote something");
}
