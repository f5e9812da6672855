//! The function's own settings, read once at start-up from the environment. The AWS settings
//! (`AWS_REGION`, credentials, `AWS_ENDPOINT_URL_S3`) are read by aws-config's standard loader in
//! [`crate::storage::s3`], whose setup errors become this module's ([`ConfigError::Storage`]); this
//! module reads the rest and refuses anything missing or malformed, so that a wrong deployment
//! fails at start-up with a clear message instead of at the first student.

use std::ffi::OsString;

use crate::account::token::{MIN_TOKEN_SECRET_BYTES, TokenSecret};
use crate::http::cors::AllowedOrigins;
use crate::storage::idempotency::{DossierSecret, MIN_SECRET_BYTES};
use crate::storage::s3::{S3Store, SetupError};

/// The bucket that receives photos and records.
pub const BUCKET_NAME: &str = "BUCKET_NAME";
/// The origins allowed to post with `fetch`, comma-separated: the site's (`https://lycee.example.fr`)
/// and `null` for pages opened from a file (`file://`, a school's offline copy).
pub const ALLOWED_ORIGIN: &str = "ALLOWED_ORIGIN";
/// The secret that turns an idempotency key into a dossier number.
pub const DOSSIER_SECRET: &str = "DOSSIER_SECRET";
/// The establishment the function takes requests for, exactly as the site shows it
/// (`school_name` in `content/site.toml`): a request naming another school is refused.
pub const ETABLISSEMENT: &str = "ETABLISSEMENT";

/// The secret behind the tokens of links and pages (the e-mail's activation link, the receipt's
/// « Renvoyer l’e-mail »); another than `DOSSIER_SECRET`, so that either can change alone.
pub const TOKEN_SECRET: &str = "TOKEN_SECRET";
/// The address e-mails are sent from, verified in SES. Optional: without it, nothing is sent.
pub const MAIL_FROM: &str = "MAIL_FROM";
/// The function's own public address (its Function URL), which the e-mail's links point to;
/// required with `MAIL_FROM`. Configured rather than read from the request's `Host`, which a
/// client chooses.
pub const FUNCTION_URL: &str = "FUNCTION_URL";

/// What the function needs to send e-mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSettings {
    /// The sender, as SES takes it: `passregion@lycee.example.fr` or `Nom <adresse>`.
    pub from: String,
    /// [`FUNCTION_URL`] without its final `/`.
    pub function_url: String,
}

/// The function's settings, valid by construction.
#[derive(Debug, Clone)]
pub struct Config {
    pub bucket: String,
    pub allowed_origins: AllowedOrigins,
    pub dossier_secret: DossierSecret,
    /// The establishment's name, trimmed.
    pub school: String,
    pub token_secret: TokenSecret,
    /// `None` when no sender is configured.
    pub mail: Option<MailSettings>,
}

/// Why the configuration was refused. Each message names the variable and what it should hold.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("environment variable `{0}` is not set")]
    Missing(&'static str),
    #[error("environment variable `{0}` is not valid UTF-8")]
    NotUnicode(&'static str),
    #[error(
        "`BUCKET_NAME` must be an S3 bucket name (3 to 63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or digit), found `{0}`"
    )]
    Bucket(String),
    #[error(
        "`ALLOWED_ORIGIN` must be a comma-separated list of origins such as `https://lycee.example.fr` (scheme, host, optional port, nothing else) or `null` (pages opened from a file), found `{0}`"
    )]
    Origin(String),
    #[error(
        "`DOSSIER_SECRET` must hold at least {MIN_SECRET_BYTES} bytes (for instance `openssl rand -hex 32`), found {0}"
    )]
    SecretTooShort(usize),
    #[error(
        "`TOKEN_SECRET` must hold at least {MIN_TOKEN_SECRET_BYTES} bytes (for instance `openssl rand -hex 32`), found {0}"
    )]
    TokenSecretTooShort(usize),
    #[error("`MAIL_FROM` must be one e-mail address, such as `passregion@lycee.example.fr`, found `{0}`")]
    MailFrom(String),
    #[error(
        "`FUNCTION_URL` must be the function's https URL, such as `https://abc.lambda-url.eu-west-3.on.aws/` (http only on 127.0.0.1 or localhost), found `{0}`"
    )]
    FunctionUrl(String),
    /// The AWS environment does not give an S3 client.
    #[error(transparent)]
    Storage(#[from] SetupError),
}

impl Config {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var_os(name))
    }

    /// Reads the settings through `lookup`, so that tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Config, ConfigError> {
        let read = |name: &'static str| -> Result<String, ConfigError> {
            let value = lookup(name).ok_or(ConfigError::Missing(name))?;
            let value = value.into_string().map_err(|_| ConfigError::NotUnicode(name))?;
            if value.trim().is_empty() {
                return Err(ConfigError::Missing(name));
            }
            Ok(value)
        };
        let bucket = read(BUCKET_NAME)?;
        if !is_bucket_name(&bucket) {
            return Err(ConfigError::Bucket(bucket));
        }
        let allowed_origins = AllowedOrigins::parse(&read(ALLOWED_ORIGIN)?)
            .ok_or(ConfigError::Missing(ALLOWED_ORIGIN))?
            .map_err(ConfigError::Origin)?;
        let secret = read(DOSSIER_SECRET)?;
        let dossier_secret =
            DossierSecret::new(secret.into_bytes()).map_err(|short| ConfigError::SecretTooShort(short.0))?;
        let school = read(ETABLISSEMENT)?.trim().to_owned();
        let token_secret = TokenSecret::new(read(TOKEN_SECRET)?.into_bytes())
            .map_err(|short| ConfigError::TokenSecretTooShort(short.0))?;
        let mail = match read(MAIL_FROM) {
            Err(ConfigError::Missing(_)) => None,
            Err(other) => return Err(other),
            Ok(from) => {
                let from = from.trim().to_owned();
                if !is_sender(&from) {
                    return Err(ConfigError::MailFrom(from));
                }
                let url = read(FUNCTION_URL)?;
                let function_url = function_url(&url).ok_or(ConfigError::FunctionUrl(url))?;
                Some(MailSettings { from, function_url })
            }
        };
        Ok(Config { bucket, allowed_origins, dossier_secret, school, token_secret, mail })
    }

    /// The request store in the configured bucket, its client built from the AWS environment.
    pub async fn s3_store(&self) -> Result<S3Store, ConfigError> {
        Ok(S3Store::from_env(self.bucket.clone()).await?)
    }
}

/// One address, bare or after a display name (`Nom <adresse>`), on one line: enough to catch a
/// list, a typo or a pasted header; SES refuses an unverified one at the first send.
fn is_sender(from: &str) -> bool {
    let address = match from.rsplit_once('<') {
        Some((_, rest)) => match rest.strip_suffix('>') {
            Some(address) => address,
            None => return false,
        },
        None => from,
    };
    let Some((local, domain)) = address.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.contains('@')
        && !from.chars().any(|c| c.is_control() || c == ',')
        && !address.contains(char::is_whitespace)
}

/// The function's URL without its final `/`: https, or http on the loopback (the local stack);
/// no query, fragment or credentials.
fn function_url(value: &str) -> Option<String> {
    let url = url::Url::parse(value.trim()).ok()?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    (scheme_ok
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none())
    .then(|| url.as_str().trim_end_matches('/').to_owned())
}

/// S3's bucket naming rules, enough to catch a typo or a pasted ARN or URL.
fn is_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "fedcba9876543210fedcba9876543210";

    fn lookup<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| vars.iter().find(|(key, _)| *key == name).map(|(_, value)| OsString::from(value))
    }

    // A complete environment gives a configuration with the origins normalised, `null` included.
    #[test]
    fn reads_a_complete_environment() {
        let vars = [
            (BUCKET_NAME, "pass-region-demandes"),
            (ALLOWED_ORIGIN, "https://Lycee.example.fr/, null"),
            (DOSSIER_SECRET, SECRET),
            (ETABLISSEMENT, "  Lycée Sidoine Apollinaire "),
            (TOKEN_SECRET, TOKEN),
        ];
        let config = Config::from_lookup(lookup(&vars)).unwrap();
        assert_eq!(config.mail, None, "no sender, no e-mail");
        assert_eq!(config.bucket, "pass-region-demandes");
        assert_eq!(config.school, "Lycée Sidoine Apollinaire");
        for origin in ["https://lycee.example.fr", "null"] {
            assert!(config.allowed_origins.contains(origin), "{origin}");
        }
        assert!(!config.allowed_origins.contains("https://Lycee.example.fr/"));
    }

    // Each missing or malformed setting is refused with the error that names it.
    #[test]
    fn refuses_missing_or_wrong_settings() {
        let cases: [(&[(&str, &str)], ConfigError); 13] = [
            (
                &[(ALLOWED_ORIGIN, "https://a.fr"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Missing(BUCKET_NAME),
            ),
            (
                &[(BUCKET_NAME, " "), (ALLOWED_ORIGIN, "https://a.fr"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Missing(BUCKET_NAME),
            ),
            (
                &[(BUCKET_NAME, "My_Bucket"), (ALLOWED_ORIGIN, "https://a.fr"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Bucket("My_Bucket".into()),
            ),
            (
                &[
                    (BUCKET_NAME, "arn:aws:s3:::b"),
                    (ALLOWED_ORIGIN, "https://a.fr"),
                    (DOSSIER_SECRET, SECRET),
                ],
                ConfigError::Bucket("arn:aws:s3:::b".into()),
            ),
            (&[(BUCKET_NAME, "bucket"), (DOSSIER_SECRET, SECRET)], ConfigError::Missing(ALLOWED_ORIGIN)),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, "https://a.fr/form"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Origin("https://a.fr/form".into()),
            ),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, "*"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Origin("*".into()),
            ),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, "ftp://a.fr"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Origin("ftp://a.fr".into()),
            ),
            (
                &[
                    (BUCKET_NAME, "bucket"),
                    (ALLOWED_ORIGIN, "https://a.fr, file://"),
                    (DOSSIER_SECRET, SECRET),
                ],
                ConfigError::Origin("file://".into()),
            ),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, " , "), (DOSSIER_SECRET, SECRET)],
                ConfigError::Missing(ALLOWED_ORIGIN),
            ),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, "https://a.fr")],
                ConfigError::Missing(DOSSIER_SECRET),
            ),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, "https://a.fr"), (DOSSIER_SECRET, "short")],
                ConfigError::SecretTooShort(5),
            ),
            (
                &[(BUCKET_NAME, "bucket"), (ALLOWED_ORIGIN, "https://a.fr"), (DOSSIER_SECRET, SECRET)],
                ConfigError::Missing(ETABLISSEMENT),
            ),
        ];
        for (vars, expected) in cases {
            assert_eq!(Config::from_lookup(lookup(vars)).unwrap_err(), expected, "{vars:?}");
        }
    }

    // The token secret is required; the mail settings come as a pair, each checked.
    #[test]
    fn token_and_mail_settings() {
        let base = [
            (BUCKET_NAME, "bucket"),
            (ALLOWED_ORIGIN, "https://a.fr"),
            (DOSSIER_SECRET, SECRET),
            (ETABLISSEMENT, "Lycée"),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let vars: Vec<(&str, &str)> = base.iter().chain(extra).copied().collect();
            Config::from_lookup(lookup(&vars)).map(|config| config.mail)
        };
        let mail =
            |from: &str, url: &str| Ok(Some(MailSettings { from: from.into(), function_url: url.into() }));
        const URL: &str = "https://abc.lambda-url.eu-west-3.on.aws/";
        type Vars = &'static [(&'static str, &'static str)];
        let cases: [(Vars, Result<Option<MailSettings>, ConfigError>); 14] = [
            (&[], Err(ConfigError::Missing(TOKEN_SECRET))),
            (&[(TOKEN_SECRET, "short")], Err(ConfigError::TokenSecretTooShort(5))),
            (&[(TOKEN_SECRET, TOKEN)], Ok(None)),
            (&[(TOKEN_SECRET, TOKEN), (MAIL_FROM, " ")], Ok(None)),
            (&[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "pass@lycee.fr")], Err(ConfigError::Missing(FUNCTION_URL))),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, " pass@lycee.fr "), (FUNCTION_URL, URL)],
                mail("pass@lycee.fr", "https://abc.lambda-url.eu-west-3.on.aws"),
            ),
            (
                &[
                    (TOKEN_SECRET, TOKEN),
                    (MAIL_FROM, "Lycée <pass@lycee.fr>"),
                    (FUNCTION_URL, "http://127.0.0.1:9000/lambda-url/handler/"),
                ],
                mail("Lycée <pass@lycee.fr>", "http://127.0.0.1:9000/lambda-url/handler"),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "lycee.fr"), (FUNCTION_URL, URL)],
                Err(ConfigError::MailFrom("lycee.fr".into())),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "a@b.fr, c@d.fr"), (FUNCTION_URL, URL)],
                Err(ConfigError::MailFrom("a@b.fr, c@d.fr".into())),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "a@b.fr\r\nBcc: x@y.fr"), (FUNCTION_URL, URL)],
                Err(ConfigError::MailFrom("a@b.fr\r\nBcc: x@y.fr".into())),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "a@b.fr"), (FUNCTION_URL, "http://abc.on.aws/")],
                Err(ConfigError::FunctionUrl("http://abc.on.aws/".into())),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "a@b.fr"), (FUNCTION_URL, "https://abc.on.aws/?x=1")],
                Err(ConfigError::FunctionUrl("https://abc.on.aws/?x=1".into())),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "a@b.fr"), (FUNCTION_URL, "abc.on.aws")],
                Err(ConfigError::FunctionUrl("abc.on.aws".into())),
            ),
            (
                &[(TOKEN_SECRET, TOKEN), (MAIL_FROM, "a@b.fr"), (FUNCTION_URL, "https://user@abc.on.aws/")],
                Err(ConfigError::FunctionUrl("https://user@abc.on.aws/".into())),
            ),
        ];
        for (extra, expected) in cases {
            assert_eq!(with(extra), expected, "{extra:?}");
        }
    }

    // The messages name the variable, so that whoever deploys knows what to fix, the AWS
    // environment's included.
    #[test]
    fn messages_name_the_variable() {
        let endpoint =
            SetupError::Endpoint { variable: "AWS_ENDPOINT_URL_S3", value: "localhost:5000".into() };
        let cases = [
            (ConfigError::Missing(DOSSIER_SECRET), "environment variable `DOSSIER_SECRET` is not set"),
            (ConfigError::from(SetupError::Region), "no AWS region: set `AWS_REGION`"),
            (
                ConfigError::from(endpoint),
                "`AWS_ENDPOINT_URL_S3` must be an http or https URL, found `localhost:5000`",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
        assert!(ConfigError::SecretTooShort(3).to_string().contains("at least 32 bytes"));
    }
}
