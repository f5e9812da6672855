//! The [`Store`] on S3 or an S3-compatible server. Every write carries `If-None-Match: *`, so the
//! server itself refuses to overwrite: a refusal (412, or 409 while a concurrent conditional write
//! to the same key is in flight) is an answer, [`PutOutcome::AlreadyExists`], not an error. Every
//! other failure, timeouts included, becomes [`StoreError`], which the flow turns into a 503.

use std::collections::HashMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use crate::config::ConfigError;
use crate::store::{Metadata, ObjectKey, PutOutcome, Store, StoreError, StoredObject};

/// How long one connection may take to open. Short: S3 answers in milliseconds or not at all.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long one try of a request may take, the upload of a 200 KB photo included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one operation may take, retries included; a request makes at most a few of them, well
/// inside the function's timeout, so the student gets a 503 rather than a gateway error.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(12);
/// Tries per operation (the first one included).
const MAX_ATTEMPTS: u32 = 3;

/// The environment variables through which aws-config points the client at another server.
const ENDPOINT_VARIABLES: [&str; 2] = ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"];

/// The request store in one bucket.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
}

impl S3Store {
    pub fn new(client: Client, bucket: impl Into<String>) -> S3Store {
        S3Store { client, bucket: bucket.into() }
    }

    /// Builds the client from the standard AWS environment (region, credentials, endpoint), with
    /// this function's timeouts and retries.
    pub async fn from_env(bucket: impl Into<String>) -> Result<S3Store, ConfigError> {
        let endpoint = ENDPOINT_VARIABLES.iter().find_map(|variable| {
            std::env::var(variable).ok().filter(|value| !value.is_empty()).map(|value| (*variable, value))
        });
        if let Some((variable, value)) = &endpoint {
            let scheme = url::Url::parse(value).ok().map(|url| url.scheme().to_owned());
            if !matches!(scheme.as_deref(), Some("http" | "https")) {
                return Err(ConfigError::Endpoint { variable, value: value.clone() });
            }
        }
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(timeouts())
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .load()
            .await;
        if shared.region().is_none() {
            return Err(ConfigError::Region);
        }
        // S3-compatible servers on a plain host name or address cannot serve virtual-hosted
        // buckets (`bucket.127.0.0.1`), so a custom endpoint is addressed path-style.
        let config = aws_sdk_s3::config::Builder::from(&shared).force_path_style(endpoint.is_some()).build();
        Ok(S3Store::new(Client::from_conf(config), bucket))
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
        let result = self.client.get_object().bucket(&self.bucket).key(key.as_str()).send().await;
        let output = match result {
            Ok(output) => output,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                return Ok(None);
            }
            Err(error) => return Err(describe("reading", key, &error)),
        };
        let metadata = output.metadata().cloned().unwrap_or_default().into_iter().collect();
        let body = output
            .body
            .collect()
            .await
            .map_err(|error| StoreError(format!("reading `{key}` failed: {error}")))?;
        Ok(Some(StoredObject { bytes: body.into_bytes().to_vec(), metadata }))
    }
}
