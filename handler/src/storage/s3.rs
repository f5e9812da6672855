//! The [`Store`] on S3 or an S3-compatible server. Every write carries `If-None-Match: *`, so the
//! server itself refuses to overwrite: a refusal (412, or 409 while a concurrent conditional write
//! to the same key is in flight) is an answer, [`PutOutcome::AlreadyExists`], not an error. Every
//! other failure, timeouts included, becomes [`StoreError`], which the flow turns into a 503.
//!
//! The time budget of one operation, from the bottom up (`tests/s3_faults.rs` checks that it adds
//! up with the request flow's own bounds, and runs each fault through a proxy to see it happen):
//! - one attempt of a request is bounded by [`ATTEMPT_TIMEOUT`], its connection by
//!   [`CONNECT_TIMEOUT`];
//! - one operation makes at most [`MAX_ATTEMPTS`] attempts with the SDK's jittered exponential
//!   backoff in between ([`INITIAL_BACKOFF`], doubling), and is cut at [`OPERATION_TIMEOUT`];
//!   a read's body, which the SDK streams after its operation has ended, is bounded here too.
//!
//! How long a whole request may spend in the store, and in the function, is the request flow's to
//! say (`STORE_DEADLINE` and `FUNCTION_TIMEOUT` in `app.rs`): this module knows nothing of the
//! function's settings, and reports its own setup errors ([`SetupError`]).

use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryPartition;
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use form::Dossier;

use crate::storage::store::{Kind, Metadata, ObjectKey, PutOutcome, Store, StoreError, StoredObject};

/// How long one connection may take to open. In the region a TCP and TLS handshake with S3 takes
/// tens of milliseconds: past a second the endpoint is not answering and a new try is worth more.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one try of a request may take, its connection and the upload of a 200 KB photo
/// included. S3 answers such a request in well under a second from the same region; three seconds
/// mean a stuck connection, which a fresh try on a new connection usually gets past.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Tries per operation, the first one included (the SDK's standard retry mode).
pub const MAX_ATTEMPTS: u32 = 3;
/// The SDK's backoff before the n-th retry is random in `0..INITIAL_BACKOFF × 2^(n-1)` (at most
/// 1 s then 2 s with three attempts), throttling (`SlowDown`) included.
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);
/// How long one operation may take, retries and backoff included. Three attempts at their limit
/// and both backoffs would take 12 s; the operation is cut at 9 s instead so that the two
/// operations of a request (photo, record) each fit at their worst within the deadline the request
/// flow gives the store: a never-answering S3 then ends with the SDK's own timeout error, logged as
/// such, after 9 s, and that deadline is only the backstop for the rarer paths that make more
/// operations.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(9);

/// The environment variables through which aws-config points the client at another server.
const ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"];

/// Why the client could not be set up from the AWS environment. Each message names the variable
/// to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SetupError {
    #[error("no AWS region: set `AWS_REGION`")]
    Region,
    #[error("`{variable}` must be an http or https URL, found `{value}`")]
    Endpoint { variable: &'static str, value: String },
}

/// The request store in one bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    /// A store over a client configured elsewhere, as it is: prefer [`S3Store::from_env`] or
    /// [`S3Store::for_endpoint`], which give it this function's timeouts and retries.
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Store {
        S3Store { client, bucket: bucket.into() }
    }

    /// Builds the client from the standard AWS environment (region, credentials, endpoint), with
    /// this function's timeouts and retries.
    pub async fn from_env(bucket: impl Into<String>) -> Result<S3Store, SetupError> {
        let endpoint = ENDPOINT_VARIABLES.iter().find_map(|variable| {
            std::env::var(variable).ok().filter(|value| !value.is_empty()).map(|value| (*variable, value))
        });
        if let Some((variable, value)) = &endpoint {
            let scheme = url::Url::parse(value).ok().map(|url| url.scheme().to_owned());
            if !matches!(scheme.as_deref(), Some("http" | "https")) {
                return Err(SetupError::Endpoint { variable, value: value.clone() });
            }
        }
        // The shared settings also govern the credential providers aws-config may call.
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts())
            .retry_config(retries())
            .load()
            .await;
        if shared.region().is_none() {
            return Err(SetupError::Region);
        }
        // S3-compatible servers on a plain host name or address cannot serve virtual-hosted
        // buckets (`bucket.127.0.0.1`), so a custom endpoint is addressed path-style.
        let builder = aws_sdk_s3::config::Builder::from(&shared).force_path_style(endpoint.is_some());
        Ok(S3Store::new(Client::from_conf(with_policy(builder).build()), bucket))
    }

    /// A store on the S3-compatible server at `endpoint` (path-style, as [`S3Store::from_env`]
    /// addresses a custom endpoint), with fixed credentials and none of the environment read: what
    /// tests use to get production's timeouts and retries rather than their own.
    pub fn for_endpoint(
        endpoint: &str,
        region: &str,
        credentials: Credentials,
        bucket: impl Into<String>,
    ) -> S3Store {
        let builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .force_path_style(true);
        S3Store::new(Client::from_conf(with_policy(builder).build()), bucket)
    }

    /// The same store with a retry quota of its own, as a separate Lambda instance would have it.
    /// The SDK keeps one retry token bucket per partition name for the whole process (one
    /// instance, in production); tests that run many "instances" in one process, each failing on
    /// purpose, would otherwise drain a shared bucket and stop each other's retries.
    pub fn with_own_retry_quota(&self, instance: &str) -> S3Store {
        let config = self
            .client
            .config()
            .to_builder()
            .retry_partition(RetryPartition::new(format!("s3-{instance}")))
            .build();
        S3Store::new(Client::from_conf(config), self.bucket.clone())
    }
}

/// The client timeouts; exposed so that tests can build a client that behaves like production.
pub fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// The SDK's standard retries (5xx, throttling, timeouts and connection errors), with the attempts
/// and backoff the budget above counts on, written out rather than left to the SDK's defaults.
pub fn retries() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS).with_initial_backoff(INITIAL_BACKOFF)
}

/// This function's timeouts and retries on an S3 client's settings, wherever they come from.
fn with_policy(builder: aws_sdk_s3::config::Builder) -> aws_sdk_s3::config::Builder {
    builder.timeout_config(timeouts()).retry_config(retries())
}

/// Whether a failed conditional write means "an object is already there".
fn refused_as_existing<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>, status: Option<u16>) -> bool {
    let code = error.as_service_error().and_then(|e| e.code());
    matches!(status, Some(412 | 409))
        || matches!(code, Some("PreconditionFailed" | "ConditionalRequestConflict"))
}

/// The error text for the logs: the SDK's display is terse ("service error"), its code is not.
fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    action: &str,
    key: &ObjectKey,
    error: &SdkError<E, R>,
) -> StoreError {
    let detail = match error.as_service_error() {
        Some(service) => format!(
            "{}: {}",
            service.code().unwrap_or("unknown code"),
            service.message().unwrap_or("no message")
        ),
        None => aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
    };
    StoreError(format!("{action} `{key}` failed: {detail}"))
}

impl Store for S3Store {
    async fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: &[u8],
        content_type: &str,
        metadata: &Metadata,
    ) -> Result<PutOutcome, StoreError> {
        let metadata: HashMap<String, String> = metadata.clone().into_iter().collect();
        let result = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .if_none_match("*")
            .content_type(content_type)
            .set_metadata(Some(metadata))
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Created),
            Err(error) => {
                let status = error.raw_response().map(|r| r.status().as_u16());
                if refused_as_existing(&error, status) {
                    Ok(PutOutcome::AlreadyExists)
                } else {
                    Err(describe("writing", key, &error))
                }
            }
        }
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        // The SDK's operation timeout ends when the headers arrive: the body it then streams has
        // no limit of its own, so the whole read is bounded here like any other operation.
        tokio::time::timeout(OPERATION_TIMEOUT, self.read(key)).await.unwrap_or_else(|_| {
            Err(StoreError(format!("reading `{key}` timed out after {OPERATION_TIMEOUT:?}")))
        })
    }
}

impl S3Store {
    /// Reads an object, its body included. The SDK retries a request that fails before its
    /// headers, not a body cut afterwards (a reset, a stall): that read is tried again here, up to
    /// [`MAX_ATTEMPTS`] in all, as the SDK would have, each body bounded by [`ATTEMPT_TIMEOUT`].
    async fn read(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let result = self.client.get_object().bucket(&self.bucket).key(key.as_str()).send().await;
            let output = match result {
                Ok(output) => output,
                Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                    return Ok(None);
                }
                Err(error) => return Err(describe("reading", key, &error)),
            };
            let metadata = output.metadata().cloned().unwrap_or_default().into_iter().collect();
            let failure = match tokio::time::timeout(ATTEMPT_TIMEOUT, output.body.collect()).await {
                Ok(Ok(body)) => {
                    return Ok(Some(StoredObject { bytes: body.into_bytes().to_vec(), metadata }));
                }
                Ok(Err(error)) => error.to_string(),
                Err(_) => format!("the body took more than {ATTEMPT_TIMEOUT:?}"),
            };
            if tries >= MAX_ATTEMPTS {
                return Err(StoreError(format!("reading `{key}` failed {tries} times, last: {failure}")));
            }
            tracing::warn!(key = %key, tries, "reading the body failed, trying again: {failure}");
        }
    }
}

/// One object of a listing: its key, if it is one of the layout's (see [`ObjectKey::parse`]), else
/// the raw key, which the staff's command reports and never acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: Result<(Dossier, Kind, ObjectKey), String>,
    pub size: u64,
    pub last_modified: Option<time::OffsetDateTime>,
}

/// The most objects a listing reads: about 8,000 requests of a dozen objects each, far more than a
/// school's year, and a bound on the staff's command's memory and time.
pub const MAX_LISTED: usize = 100_000;

/// What the school's staff need beyond the function's [`Store`]: listing and erasing. The
/// function's role may not call them (its policy grants put and get only).
impl S3Store {
    /// Every object under `demandes/`, page after page. Fails past [`MAX_LISTED`] rather than
    /// return part of the bucket as if it were the whole.
    pub async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let mut listed = Vec::new();
        let mut pages =
            self.client.list_objects_v2().bucket(&self.bucket).prefix("demandes/").into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| {
                StoreError(format!("listing `demandes/` failed: {}", DisplayErrorContext(&error)))
            })?;
            for object in page.contents() {
                let raw = object.key().unwrap_or_default();
                listed.push(Listed {
                    key: ObjectKey::parse(raw).ok_or_else(|| raw.to_owned()),
                    size: u64::try_from(object.size().unwrap_or_default()).unwrap_or_default(),
                    last_modified: object
                        .last_modified()
                        .and_then(|at| time::OffsetDateTime::from_unix_timestamp(at.secs()).ok()),
                });
            }
            if listed.len() > MAX_LISTED {
                return Err(StoreError(format!("more than {MAX_LISTED} objects under `demandes/`")));
            }
        }
        Ok(listed)
    }

    /// Erases one object.
    pub async fn delete(&self, key: &ObjectKey) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key.as_str())
            .send()
            .await
            .map(|_| ())
            .map_err(|error| describe("erasing", key, &error))
    }
}
