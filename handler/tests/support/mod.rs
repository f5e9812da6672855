//! Shared by the integration tests: a real S3-compatible server (moto_server) started on a free
//! loopback port and stopped when dropped, an S3 client pointed at it, and a valid form.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

/// How long moto_server may take to answer after being spawned (Python start-up).
const MOTO_START_TIMEOUT: Duration = Duration::from_secs(60);

pub const REGION: &str = "us-east-1";
pub const ACCESS_KEY: &str = "testing";
pub const SECRET_KEY: &str = "testing";

/// A loopback port free right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A moto_server process serving S3 on loopback, killed on drop.
pub struct Moto {
    child: Child,
    pub endpoint: String,
}

impl Moto {
    /// Starts moto_server and waits until it answers HTTP.
    pub async fn start() -> Moto {
        let port = free_port();
        let spawned = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => panic!(
                "`moto_server` is not on PATH: these tests need a real S3-compatible server; \
                 `scripts/test` installs it (`pip install 'moto[server]'`)"
            ),
            Err(error) => panic!("cannot start `moto_server`: {error}"),
        };
        let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if http.get(&moto.endpoint).send().await.is_ok() {
                return moto;
            }
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("`moto_server` exited before answering: {status}");
            }
            assert!(started.elapsed() < MOTO_START_TIMEOUT, "`moto_server` did not answer in time");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A client for this server, with the handler's own timeouts.
    pub fn client(&self) -> Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "tests"))
            .force_path_style(true)
            .timeout_config(handler::s3::timeouts())
            .build();
        Client::from_conf(config)
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
    }
}

/// Every key in `bucket`, sorted, with its ETag, to compare before and after.
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

include!("fields.rs");
