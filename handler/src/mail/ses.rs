//! [`Mailer`] over Amazon SES v2 (`SendEmail`, simple content: subject, text and HTML in UTF-8).
//! The client comes from the same AWS environment as the store's (`AWS_ENDPOINT_URL` points both
//! at moto in the tests) and has the same kind of time bounds, so that a slow SES cannot hold the
//! student's answer past the function's timeout.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message as SesMessage};

use super::{MailError, Mailer, Message};

/// One try may take this long, connecting included; SES answers in well under a second.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);
/// Every try of one send together: the answer waits for it (see `app::ACCOUNT_DEADLINE`).
const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);

/// Sends from one verified address.
#[derive(Clone)]
pub struct SesMailer {
    client: Client,
    from: String,
}

/// The time bounds of every SES call.
fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(1))
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

impl SesMailer {
    /// A mailer sending from `from` with a client from the AWS environment.
    pub async fn from_env(from: String) -> SesMailer {
        let shared = aws_config::load_defaults(BehaviorVersion::latest()).await;
        let config = aws_sdk_sesv2::config::Builder::from(&shared).timeout_config(timeouts()).build();
        SesMailer { client: Client::from_conf(config), from }
    }

    /// A mailer on the SES-compatible server at `endpoint` (moto in the tests).
    pub fn for_endpoint(endpoint: &str, region: &str, credentials: Credentials, from: String) -> SesMailer {
        let config = aws_sdk_sesv2::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .timeout_config(timeouts())
            .build();
        SesMailer { client: Client::from_conf(config), from }
    }
}

fn utf8(data: &str) -> Result<Content, MailError> {
    Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError(e.to_string()))
}

impl Mailer for SesMailer {
    async fn send(&self, message: &Message) -> Result<(), MailError> {
        let body = Body::builder().text(utf8(&message.text)?).html(utf8(&message.html)?).build();
        let simple = SesMessage::builder().subject(utf8(&message.subject)?).body(body).build();
        self.client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&message.to).build())
            .content(EmailContent::builder().simple(simple).build())
            .send()
            .await
            // The SDK's error names the operation and the service's code, not the recipient.
            .map_err(|error| MailError(aws_sdk_sesv2::error::DisplayErrorContext(error).to_string()))?;
        Ok(())
    }
}
