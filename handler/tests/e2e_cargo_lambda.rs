//! End to end: the real `handler` binary under `cargo lambda watch` (the Lambda emulator and its
//! Function URL), a real S3-compatible server (moto_server), a real phone photo posted as
//! multipart over HTTP; then both objects are read back from the server, the e-mail from moto's
//! SES, and its activation link is followed through the emulator. The servers are the local
//! stack of `scripts/stack`, the one the browser tests and developers use, running the binary this
//! test was built with (`CARGO_BIN_EXE_handler`): nothing is compiled while the test runs.
//!
//! Run alone with `cargo test --workspace --test e2e_cargo_lambda`: `--workspace` resolves the
//! dependencies' features as `cargo test --workspace` does and so reuses its build, where
//! `-p handler` would rebuild much of the tree with the handler's features alone.

mod support;

use std::fs::File;
use std::io::{BufRead, BufReader, Cursor};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use sha2::{Digest, Sha256};
use support::{listing, valid_fields};

const ORIGIN: &str = "http://localhost:8000";
const SUBMISSION_ID: &str = "e2e-7c1d5b9a-2f44-4e0b-a8d3-61f0c7e29b15";
/// How long `scripts/stack` may take to be ready: it bounds each of its servers to 60 s and
/// builds nothing here.
const START_TIMEOUT: Duration = Duration::from_secs(240);

/// The workspace root, where `scripts/stack` lives.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The local stack (`scripts/stack --json`) serving this test's `handler` binary, in a process
/// group of its own (the script, moto_server, cargo lambda, the function), stopped on drop.
struct Stack {
    child: Child,
    /// Where the stack writes its servers' logs, and this test the script's own output.
    logs: PathBuf,
    /// The ready line: `handler` (the Function URL), `moto`, `bucket`, `school`...
    ready: serde_json::Value,
}

impl Stack {
    /// Starts the stack and waits for its ready line.
    fn start() -> Stack {
        let logs = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-stack");
        std::fs::create_dir_all(&logs).unwrap();
        let script = workspace().join("scripts/stack");
        let mut child = Command::new(&script)
            .args(["--json", "--origin", ORIGIN, "--handler-bin", env!("CARGO_BIN_EXE_handler")])
            .arg("--log-dir")
            .arg(&logs)
            // The stack stops when its stdin closes: when this process ends, however it ends.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(File::create(logs.join("stack.log")).unwrap())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run `{}`: {error}", script.display()));
        let stdout = child.stdout.take().unwrap();
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = line_tx.send(line);
        });
        let mut stack = Stack { child, logs, ready: serde_json::Value::Null };
        match line_rx.recv_timeout(START_TIMEOUT) {
            Ok(line) if !line.is_empty() => {
                stack.ready = serde_json::from_str(&line)
                    .unwrap_or_else(|error| panic!("`scripts/stack --json` printed {line:?}: {error}"));
            }
            Ok(_) => panic!("`scripts/stack` stopped before it was ready:\n{}", stack.log_tail("stack.log")),
            Err(_) => panic!(
                "`scripts/stack` was not ready within {} s:\n{}",
                START_TIMEOUT.as_secs(),
                stack.log_tail("stack.log")
            ),
        }
        stack
    }

    /// A string of the ready line.
    fn get(&self, name: &str) -> &str {
        self.ready[name].as_str().unwrap_or_else(|| panic!("no `{name}` in the ready line {}", self.ready))
    }

    /// The end of one of the stack's logs (`handler.log` is the function's).
    fn log_tail(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.logs.join(name)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!("{name}:\n{}", lines[lines.len().saturating_sub(40)..].join("\n"))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SIGTERM to the group; the script stops its servers and exits. SIGKILL then, to the
        // group again, for whatever a script that did not get to stop them left behind.
        let group = -i32::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(group, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        // SAFETY: as above.
        unsafe { libc::kill(group, libc::SIGKILL) };
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

    let stack = Stack::start();
    let client = support::client(stack.get("moto"));
    let bucket = stack.get("bucket");
    let handler_log = || stack.log_tail("handler.log");

    let schema = handler::schema().unwrap();
    let form = || {
        let mut form = Form::new();
        for (name, value) in valid_fields(&schema) {
            // The function takes requests for the school the stack gave it, the site's.
            let value = if name == "etablissement" { stack.get("school").to_owned() } else { value };
            form = form.text(name, value);
        }
        let photo = Part::bytes(original.clone()).file_name("IMG_0042.JPG");
        form.text("submission_id", SUBMISSION_ID).part("photo", photo.mime_str("image/jpeg").unwrap())
    };
    let http = reqwest::Client::new();
    let post = || {
        http.post(stack.get("handler"))
            .header("accept", "application/json")
            .header("origin", ORIGIN)
            .multipart(form())
            .send()
    };

    let response = post().await.unwrap();
    let status = response.status();
    let cors = response.headers().get("access-control-allow-origin").cloned();
    let receipt: serde_json::Value = serde_json::from_str(&response.text().await.unwrap())
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", handler_log()));
    assert_eq!(status, 201, "{receipt}\n{}", handler_log());
    assert_eq!(cors.unwrap(), ORIGIN);
    let compact = receipt["compact"].as_str().unwrap().to_owned();
    let dossier = form::Dossier::parse(&compact).unwrap();
    assert_eq!(receipt["dossier"], dossier.to_string());

    let photo_key = format!("demandes/{compact}/photo.jpg");
    let record_key = format!("demandes/{compact}/demande.json");
    let photo = client.get_object().bucket(bucket).key(&photo_key).send().await.unwrap();
    assert_eq!(photo.content_type(), Some("image/jpeg"));
    let photo_sha = photo.metadata().unwrap()["sha256"].clone();
    let jpeg = photo.body.collect().await.unwrap().into_bytes().to_vec();
    assert!(jpeg.len() <= 200 * 1024, "{} bytes", jpeg.len());
    assert_eq!(photo_sha, hex::encode(Sha256::digest(&jpeg)));
    let decoded = image::load_from_memory_with_format(&jpeg, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (413, 531));
    assert!(!has_app1(&jpeg), "EXIF or XMP left in the stored photo");
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&jpeg)).is_err());

    let record = client.get_object().bucket(bucket).key(&record_key).send().await.unwrap();
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
    // The e-mail left through SES (moto's), to the stored address, with the activation link.
    assert_eq!(receipt["courriel"]["envoye"], true, "{receipt}\n{}", handler_log());
    let mails = support::sent_mails(stack.get("moto")).await;
    let [(to, _, body)] = mails.as_slice() else { panic!("{mails:?}\n{}", handler_log()) };
    assert_eq!(to, "lea.dupre@example.org");
    let before = listing(&client, bucket).await;
    assert_eq!(before.len(), 3, "photo, record and the e-mail's note: {before:?}");

    // The link, through the emulator: the activation page, which changes nothing; then
    // « Appliquer » as the page posts it, which activates.
    let link = support::activation_link(body);
    assert!(link.starts_with(&format!("{}/activation?jeton=", stack.get("function"))), "{link}");
    let page = http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200, "{}", handler_log());
    assert!(page.text().await.unwrap().contains("Appliquer"));
    assert_eq!(listing(&client, bucket).await, before, "opening the link wrote something");
    let token = link.split("jeton=").nth(1).unwrap().to_owned();
    let apply = Form::new().text("jeton", token).text("envoi_etablissement", "oui");
    let applied =
        http.post(format!("{}/activation", stack.get("function"))).multipart(apply).send().await.unwrap();
    assert_eq!(applied.status(), 200, "{}", handler_log());
    assert!(applied.text().await.unwrap().contains("Compte activé"));
    let before = listing(&client, bucket).await;
    assert_eq!(before.len(), 4, "the activation noted: {before:?}");

    let again = post().await.unwrap();
    assert_eq!(again.status(), 200);
    let replay: serde_json::Value = serde_json::from_str(&again.text().await.unwrap()).unwrap();
    assert_eq!(replay["dossier"], dossier.to_string());
    assert_eq!(replay["replay"], true);
    assert_eq!(listing(&client, bucket).await, before, "the replay wrote something");
}
