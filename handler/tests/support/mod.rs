//! Shared by the integration tests: a real S3-compatible server (moto_server) started on a free
//! loopback port and stopped when dropped, an S3 client pointed at such a server, and a valid form.
//! (The end-to-end test gets its server, with the function, from `scripts/stack` instead.)

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

// The fault-injecting proxy of `s3_faults`; the other test crates that include this module leave
// it unused.
#[allow(dead_code)]
pub mod proxy;

/// How long moto_server may take to answer after being spawned (Python start-up).
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(60);

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

/// A client for the S3-compatible server at `endpoint` (moto takes any key), with the handler's
/// own timeouts.
pub fn client(endpoint: &str) -> Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests"))
        .force_path_style(true)
        .timeout_config(handler::s3::timeouts())
        .build();
    Client::from_conf(config)
}

/// A moto_server process serving S3 on loopback, killed on drop (the end-to-end test, whose moto
/// comes from `scripts/stack`, leaves it unused).
#[allow(dead_code)]
pub struct Moto {
    child: Child,
    log: PathBuf,
    pub endpoint: String,
}

#[allow(dead_code)]
impl Moto {
    /// Starts moto_server and waits until it answers HTTP; fails with the end of its log if it
    /// exits or does not answer in time.
    pub async fn start() -> Moto {
        // A loopback port free right now.
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("moto-{port}.log"));
        let output = std::fs::File::create(&log).unwrap();
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "`moto_server` is not on PATH: these tests need a real S3-compatible server; \
                 `scripts/test` installs it (`pip install 'moto[server]'`, the version in scripts/tools.env)"
            ),
            Err(error) => panic!("cannot start `moto_server`: {error}"),
        };
        let mut moto = Moto { child, log, endpoint: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if http.get(&moto.endpoint).send().await.is_ok() {
                return moto;
            }
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("`moto_server` exited before answering: {status}\n{}", moto.log_tail());
            }
            assert!(
                started.elapsed() < MOTO_START_TIMEOUT,
                "`moto_server` did not answer within {} s:\n{}",
                MOTO_START_TIMEOUT.as_secs(),
                moto.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The end of moto_server's log.
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// A client for this server, with the handler's own timeouts.
    pub fn client(&self) -> Client {
        client(&self.endpoint)
    }

    /// A client with a new, empty bucket.
    pub async fn bucket(&self, name: &str) -> Client {
        let client = self.client();
        client.create_bucket().bucket(name).send().await.unwrap();
        client
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Every key in `bucket`, sorted, with its ETag, to compare before and after.
#[allow(dead_code)]
pub async fn listing(client: &Client, bucket: &str) -> Vec<(String, String)> {
    let listed = client.list_objects_v2().bucket(bucket).send().await.unwrap();
    let mut keys: Vec<(String, String)> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap_or_default().to_owned(), o.e_tag().unwrap_or_default().to_owned()))
        .collect();
    keys.sort();
    keys
}

/// The e-mails moto's SES kept, oldest first, as (to, subject, body): moto keeps the HTML body
/// when a message has one. Read from moto's own `/moto-api/data.json`.
#[allow(dead_code)]
pub async fn sent_mails(moto: &str) -> Vec<(String, String, String)> {
    let text = reqwest::get(format!("{moto}/moto-api/data.json")).await.unwrap().text().await.unwrap();
    let data: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut found = Vec::new();
    collect_messages(&data["ses"]["Message"], &mut found);
    found
}

/// Walks moto's nesting (a list of messages, in its version; objects by account and region in
/// others) down to the messages.
fn collect_messages(value: &serde_json::Value, found: &mut Vec<(String, String, String)>) {
    if let (Some(subject), Some(body)) = (value["subject"].as_str(), value["body"].as_str()) {
        let to = value["destinations"]["ToAddresses"][0].as_str().unwrap_or_default().to_owned();
        found.push((to, subject.to_owned(), body.to_owned()));
    } else if let Some(children) = value.as_object() {
        for child in children.values() {
            collect_messages(child, found);
        }
    } else if let Some(children) = value.as_array() {
        for child in children {
            collect_messages(child, found);
        }
    }
}

/// The first link of an e-mail's HTML body (the activation link), its entities undone.
#[allow(dead_code)]
pub fn activation_link(body: &str) -> String {
    let start = body.find("href=\"").expect("a link in the e-mail") + 6;
    let end = start + body[start..].find('"').unwrap();
    body[start..end].replace("&amp;", "&")
}

include!("fields.rs");

/// A form posted through the function's own code ([`handler::App::handle`]) against moto, for the
/// fault and load tests (the other test crates that include this module leave it unused).
#[allow(dead_code)]
pub mod post {
    use aws_sdk_s3::Client;
    use aws_sdk_s3::config::Credentials;
    use handler::account::token::TokenSecret;
    use handler::cors::AllowedOrigins;
    use handler::idempotency::{DossierSecret, IdempotencyKey};
    use handler::{App, Config, S3Store, Store};
    use lambda_http::http::header;
    use lambda_http::{Body, Request};
    use sha2::{Digest, Sha256};
    use time::OffsetDateTime;

    use super::{ACCESS_KEY, REGION, SECRET_KEY};

    /// The site's origin, the one the function allows.
    pub const ORIGIN: &str = "http://localhost:8000";

    pub fn secret() -> DossierSecret {
        DossierSecret::new(b"fault-and-load-test-secret-0123456789".to_vec()).unwrap()
    }

    /// The function's settings for `bucket`, for the school `valid_fields` names.
    pub fn config(bucket: &str) -> Config {
        Config {
            bucket: bucket.to_owned(),
            allowed_origins: AllowedOrigins::parse(ORIGIN).unwrap().unwrap(),
            dossier_secret: secret(),
            school: "Lycée Sidoine Apollinaire".to_owned(),
            token_secret: TokenSecret::new(b"test-token-secret-0123456789abcdef".to_vec()).unwrap(),
            mail: None,
        }
    }

    /// The store as production builds it (timeouts, retries), on the server at `endpoint`, with a
    /// retry quota of its own, as its own Lambda instance would have.
    pub fn store(endpoint: &str, bucket: &str, instance: &str) -> S3Store {
        let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests");
        S3Store::for_endpoint(endpoint, REGION, credentials, bucket).with_own_retry_quota(instance)
    }

    /// A generated JPEG, a gradient that `seed` shifts, so that photos differ. Encoded with
    /// `jpeg-encoder`, which is built optimised, rather than `image`'s generic encoder, which would
    /// be built here without optimisation and make the load test wait on its own fixtures.
    pub fn jpeg(width: u32, height: u32, seed: u32) -> Vec<u8> {
        let mut rgb = Vec::with_capacity((width * height * 3) as usize);
        for y in 0..height {
            for x in 0..width {
                rgb.extend([
                    ((x + seed) % 256) as u8,
                    ((y * 2 + seed / 3) % 256) as u8,
                    (seed * 7 % 256) as u8,
                ]);
            }
        }
        let mut out = Vec::new();
        let encoder = jpeg_encoder::Encoder::new(&mut out, 90);
        encoder.encode(&rgb, width as u16, height as u16, jpeg_encoder::ColorType::Rgb).unwrap();
        out
    }

    /// The valid form with `submission_id` and the `changes` on top.
    pub fn fields(
        schema: &form::Schema,
        submission_id: &str,
        changes: &[(&str, String)],
    ) -> Vec<(String, String)> {
        let mut fields = super::valid_fields(schema);
        for (name, value) in changes {
            match fields.iter_mut().find(|(field, _)| field == name) {
                Some((_, old)) => *old = value.clone(),
                None => fields.push(((*name).to_owned(), value.clone())),
            }
        }
        fields.push(("submission_id".to_owned(), submission_id.to_owned()));
        fields
    }

    /// The multipart request the page's `fetch` sends.
    pub fn request(fields: &[(String, String)], photo: &[u8]) -> Request {
        let boundary = "support-boundary-3c1f9a";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"p.jpg\"\r\n\
                 Content-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(photo);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://function.example/demande")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::ACCEPT, "application/json")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::Binary(body))
            .unwrap()
    }

    /// What the student got.
    #[derive(Debug, Clone)]
    pub struct Reply {
        pub status: u16,
        pub retry_after: Option<String>,
        pub json: serde_json::Value,
    }

    impl Reply {
        pub fn dossier(&self) -> Option<&str> {
            self.json["dossier"].as_str()
        }

        /// A 503 as the student must get it: `Retry-After` and the French advice to send again.
        pub fn is_retryable_503(&self) -> bool {
            self.status == 503
                && self.retry_after.is_some()
                && self.json["error"].as_str().is_some_and(|message| message.contains("Réessayez"))
        }
    }

    /// Posts the form through the function, now.
    pub async fn post<S: Store>(app: &App<S>, fields: &[(String, String)], photo: &[u8]) -> Reply {
        let response = app.handle(request(fields, photo), OffsetDateTime::now_utc()).await;
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Reply {
            status: response.status().as_u16(),
            retry_after: header(header::RETRY_AFTER),
            json: serde_json::from_slice(response.body()).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The dossier number a submission id gets at its first attempt.
    pub fn first_dossier(submission_id: &str) -> String {
        let id = form::SubmissionId::parse(submission_id).unwrap();
        secret().dossier(&IdempotencyKey::from_submission_id(&id), 0).to_string()
    }

    /// Every key in the bucket, all pages, sorted (read from moto directly, not through a proxy).
    pub async fn keys(client: &Client, bucket: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = client.list_objects_v2().bucket(bucket).into_paginator().send();
        while let Some(page) = pages.next().await {
            keys.extend(page.unwrap().contents().iter().filter_map(|o| o.key().map(str::to_owned)));
        }
        keys.sort();
        keys
    }

    pub async fn read(client: &Client, bucket: &str, key: &str) -> Vec<u8> {
        let object = client.get_object().bucket(bucket).key(key).send().await.unwrap();
        object.body.collect().await.unwrap().into_bytes().to_vec()
    }

    /// The records among `keys` that point elsewhere than their own dossier's photo, or at a photo
    /// missing or other than the one they describe (sha256), each with what is wrong: what must
    /// never happen.
    pub async fn broken_records(client: &Client, bucket: &str, keys: &[String]) -> Vec<String> {
        let mut broken = Vec::new();
        for key in keys.iter().filter(|key| key.ends_with("/demande.json")) {
            let record: serde_json::Value = serde_json::from_slice(&read(client, bucket, key).await).unwrap();
            let photo = record["photo"]["key"].as_str().unwrap_or_default().to_owned();
            let own = key.replace("/demande.json", "/photo.jpg");
            if photo != own {
                broken.push(format!("{key}: points at `{photo}`, not its own photo"));
                continue;
            }
            if keys.binary_search(&photo).is_err() {
                broken.push(format!("{key}: its photo `{photo}` is missing"));
                continue;
            }
            let sha256 = hex::encode(Sha256::digest(read(client, bucket, &photo).await));
            if record["photo"]["sha256"].as_str() != Some(sha256.as_str()) {
                broken.push(format!("{key}: `{photo}` does not match its sha256"));
            }
        }
        broken
    }
}
