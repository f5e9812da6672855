//! Helpers shared by the unit tests: the configuration, a valid request, small generated photos,
//! a multipart body builder and a capture of the log lines.

use std::cell::RefCell;
use std::future::Future;
use std::io::{self, Cursor};
use std::sync::{Once, OnceLock};

use form::Demande;
use image::{ImageFormat, Rgb, RgbImage};

use crate::account::token::TokenSecret;
use crate::config::Config;
use crate::http::cors::AllowedOrigins;
use crate::storage::idempotency::DossierSecret;

pub const ORIGIN: &str = "https://lycee.example.fr";
/// The school the unit tests' function is configured for, as `valid_fields` names it.
pub const SCHOOL: &str = "Lycée Sidoine Apollinaire";

pub fn secret() -> DossierSecret {
    DossierSecret::new(b"unit-test-secret-unit-test-secret".to_vec()).unwrap()
}

/// The site's origin and `null` (pages opened from a file).
pub fn config() -> Config {
    let allowed_origins = AllowedOrigins::parse(&format!("{ORIGIN},null")).unwrap().unwrap();
    Config {
        bucket: "demandes-test".to_owned(),
        allowed_origins,
        dossier_secret: secret(),
        school: SCHOOL.to_owned(),
        token_secret: TokenSecret::new(b"test-token-secret-0123456789abcdef".to_vec()).unwrap(),
        mail: None,
    }
}

/// A validated request as the schema would produce it.
pub fn demande() -> Demande {
    Demande {
        charte: true,
        nom: "Dupré".to_owned(),
        prenom: "Léa".to_owned(),
        date_naissance: time::macros::date!(2009 - 03 - 14),
        email: "lea.dupre@example.org".to_owned(),
        adresse: "12 rue des Écoles".to_owned(),
        code_postal: "63000".to_owned(),
        commune: "Clermont-Ferrand".to_owned(),
        telephone: None,
        etablissement: "Lycée Sidoine Apollinaire".to_owned(),
        filiere: "Seconde générale et technologique".to_owned(),
        envoi_etablissement: true,
        recadrage: None,
        submission_id: None,
    }
}

/// A receipt of [`demande`], stored (`replay` false) or replayed, without an e-mail.
pub fn receipt(replay: bool) -> crate::http::response::Receipt {
    crate::http::response::Receipt {
        dossier: form::Dossier::from_seed(&[5; 32]),
        received_at: time::macros::datetime!(2025-09-01 08:30:00 UTC),
        replay,
        summary: crate::http::response::Summary::of(&demande()),
        mail: None,
        hints: Vec::new(),
    }
}

/// A JPEG of the given size: a gradient, so that the encoder has something to compress.
pub fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
    bytes.into_inner()
}

/// A small upload that makes a valid ID photo.
pub fn photo_upload() -> &'static [u8] {
    static UPLOAD: OnceLock<Vec<u8>> = OnceLock::new();
    UPLOAD.get_or_init(|| jpeg(480, 640))
}

/// A `multipart/form-data` body, written part by part.
#[derive(Clone, Default)]
pub struct Multipart {
    body: Vec<u8>,
}

const BOUNDARY: &str = "----unit-test-boundary-7MA4YWxkTrZu0gW";

impl Multipart {
    pub fn new() -> Multipart {
        Multipart::default()
    }

    fn part(mut self, disposition: &str, content_type: Option<&str>, value: &[u8]) -> Multipart {
        self.body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        self.body.extend_from_slice(format!("Content-Disposition: form-data; {disposition}\r\n").as_bytes());
        if let Some(content_type) = content_type {
            self.body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        self.body.extend_from_slice(b"\r\n");
        self.body.extend_from_slice(value);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    pub fn text(self, name: &str, value: &str) -> Multipart {
        self.raw_text(name, value.as_bytes())
    }

    pub fn raw_text(self, name: &str, value: &[u8]) -> Multipart {
        self.part(&format!("name=\"{name}\""), None, value)
    }

    pub fn file(self, name: &str, file_name: &str, bytes: &[u8]) -> Multipart {
        let disposition = format!("name=\"{name}\"; filename=\"{file_name}\"");
        self.part(&disposition, Some("application/octet-stream"), bytes)
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut body = self.body.clone();
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        body
    }

    pub fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }
}

/// Runs `future` on this thread, as a `#[tokio::test]` does, and gives back its output and the
/// lines it logged, in JSON as production writes them.
///
/// The subscriber is the process's global one, writing into a buffer of the thread that asked,
/// rather than a subscriber scoped to the future (`WithSubscriber`): tracing caches whether a
/// callsite is wanted the first time any thread reaches it, and while a single scoped subscriber
/// exists it asks only the reaching thread's, so a request line first logged by another test,
/// on a thread without one, would stay off for good.
pub async fn logged<F: Future>(future: F) -> (F::Output, Vec<serde_json::Value>) {
    static SUBSCRIBER: Once = Once::new();
    SUBSCRIBER.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::INFO)
            .with_writer(|| ThreadBuffer)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other test sets a subscriber");
    });
    CAPTURED.with(|captured| *captured.borrow_mut() = Some(Vec::new()));
    let output = future.await;
    let bytes = CAPTURED.with(|captured| captured.borrow_mut().take()).unwrap_or_default();
    let lines =
        String::from_utf8(bytes).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    (output, lines)
}

thread_local! {
    /// What this thread logged since [`logged`] started, if it is running.
    static CAPTURED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// The global subscriber's output: the buffer of the thread that logs, or nowhere.
struct ThreadBuffer;

impl io::Write for ThreadBuffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        CAPTURED.with(|captured| {
            if let Some(buffer) = captured.borrow_mut().as_mut() {
                buffer.extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A mailer for the unit tests: keeps what it was given, or fails while `failing` is set.
#[derive(Default)]
pub struct FakeMailer {
    pub sent: std::sync::Mutex<Vec<crate::mail::Message>>,
    pub failing: std::sync::atomic::AtomicBool,
}

impl crate::mail::Mailer for &FakeMailer {
    async fn send(&self, message: &crate::mail::Message) -> Result<(), crate::mail::MailError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(crate::mail::MailError("refused on purpose".to_owned()));
        }
        self.sent.lock().unwrap().push(message.clone());
        Ok(())
    }
}
