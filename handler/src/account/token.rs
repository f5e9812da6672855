//! Signed, expiring tokens: what stands for a dossier in a link or a page once the student has
//! proved who they are (the e-mail's activation link, a receipt's « Renvoyer l’e-mail », a
//! signed-in personal space). A token
//! is `<dossier>.<expiry>.<tag>`: the dossier's compact form, the expiry in Unix seconds, and a
//! 128-bit HMAC-SHA256 of both under a key of its own purpose, so that a token made for one use is
//! refused for any other, and nobody without `TOKEN_SECRET` can make or alter one.
//!
//! Rejected: the bare dossier number in links (anyone who saw a slip could act for the student);
//! random tokens kept in the bucket (a write and a read per link, and a table of live secrets to
//! erase); JWTs (a format, an algorithm field and a library for what three fields and one HMAC do).

use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use form::Dossier;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

/// The shortest secret accepted: a full SHA-256 block of key material.
pub const MIN_TOKEN_SECRET_BYTES: usize = 32;
/// The tag's length: 128 bits, beyond guessing within any number of requests.
const TAG_BYTES: usize = 16;

/// What a token lets its holder do; each purpose signs with its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The e-mail's link: open the activation page and apply its setting.
    Activation,
    /// The receipt's « Renvoyer l’e-mail »: send the e-mail again, to the stored address only.
    Resend,
    /// A signed-in personal space: read the request's summary.
    Space,
}

impl Purpose {
    /// How long a token of this purpose stays valid.
    pub fn lifetime(self) -> Duration {
        match self {
            // Long enough for a student who reads their mail at the weekend, short enough that
            // an old mailbox does not open the account years later.
            Purpose::Activation => Duration::from_secs(30 * 24 * 3600),
            // As long as the receipt stays on a shared screen, and a sign-in as long.
            Purpose::Resend | Purpose::Space => Duration::from_secs(form::limits::KEEP_MINUTES as u64 * 60),
        }
    }

    fn domain(self) -> &'static [u8] {
        match self {
            Purpose::Activation => b"pass-region/token/activation",
            Purpose::Resend => b"pass-region/token/resend",
            Purpose::Space => b"pass-region/token/space",
        }
    }
}

/// Why a token was refused. The student sees one message for all three (the page cannot tell a
/// typo in a link from a forgery); the log line names which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token malformed")]
    Malformed,
    #[error("token tag does not match")]
    Forged,
    #[error("token expired")]
    Expired,
}

/// The key behind every token. Never printed.
#[derive(Clone)]
pub struct TokenSecret(Vec<u8>);

/// The secret was shorter than [`MIN_TOKEN_SECRET_BYTES`]; holds its length.
#[derive(Debug, PartialEq, Eq)]
pub struct TokenSecretTooShort(pub usize);

impl TokenSecret {
    pub fn new(bytes: Vec<u8>) -> Result<TokenSecret, TokenSecretTooShort> {
        if bytes.len() < MIN_TOKEN_SECRET_BYTES {
            return Err(TokenSecretTooShort(bytes.len()));
        }
        Ok(TokenSecret(bytes))
    }

    /// The HMAC of a token's body under the purpose's key (itself an HMAC of the secret).
    fn mac(&self, purpose: Purpose, body: &str) -> Hmac<Sha256> {
        let mut derive = Hmac::<Sha256>::new_from_slice(&self.0).expect("hmac takes keys of any length");
        derive.update(purpose.domain());
        let key = derive.finalize().into_bytes();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("hmac takes keys of any length");
        mac.update(body.as_bytes());
        mac
    }

    /// A token for `dossier`, valid for `purpose` until `now` plus the purpose's lifetime.
    pub fn issue(&self, purpose: Purpose, dossier: &Dossier, now: OffsetDateTime) -> String {
        let expires = now.unix_timestamp().saturating_add(purpose.lifetime().as_secs() as i64);
        let body = format!("{}.{expires}", dossier.compact());
        let tag = self.mac(purpose, &body).finalize().into_bytes();
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(&tag[..TAG_BYTES]))
    }

    /// The dossier a token stands for, if it was made here for `purpose` and has not expired at
    /// `now`. The tag is compared in constant time.
    pub fn verify(&self, purpose: Purpose, token: &str, now: OffsetDateTime) -> Result<Dossier, TokenError> {
        let token = token.trim();
        let (body, tag) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let (compact, expires) = body.split_once('.').ok_or(TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
        if tag.len() != TAG_BYTES || !expires.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::Malformed);
        }
        let expires: i64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let dossier = Dossier::parse(compact).map_err(|_| TokenError::Malformed)?;
        // The parse is forgiving (O for 0...); a token is exact.
        if dossier.compact() != compact {
            return Err(TokenError::Malformed);
        }
        self.mac(purpose, body).verify_truncated_left(&tag).map_err(|_| TokenError::Forged)?;
        if now.unix_timestamp() >= expires {
            return Err(TokenError::Expired);
        }
        Ok(dossier)
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenSecret(<{} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-09-01 08:30:00 UTC);

    fn secret(byte: u8) -> TokenSecret {
        TokenSecret::new(vec![byte; 32]).unwrap()
    }

    fn dossier() -> Dossier {
        Dossier::from_seed(&[7; 32])
    }

    // A token opens what it was made for, until it expires; nothing else.
    #[test]
    fn a_token_is_bound_to_its_purpose_secret_and_time() {
        let token = secret(1).issue(Purpose::Activation, &dossier(), NOW);
        let later = |seconds: i64| NOW + time::Duration::seconds(seconds);
        let month = Purpose::Activation.lifetime().as_secs() as i64;
        let cases = [
            (secret(1), Purpose::Activation, NOW, Ok(dossier())),
            (secret(1), Purpose::Activation, later(month - 1), Ok(dossier())),
            (secret(1), Purpose::Activation, later(month), Err(TokenError::Expired)),
            (secret(1), Purpose::Resend, NOW, Err(TokenError::Forged)),
            (secret(1), Purpose::Space, NOW, Err(TokenError::Forged)),
            (secret(2), Purpose::Activation, NOW, Err(TokenError::Forged)),
        ];
        for (key, purpose, at, expected) in cases {
            assert_eq!(key.verify(purpose, &token, at), expected, "{purpose:?} at {at}");
        }
    }

    // Every edit of a token is refused, and says which kind of refusal it was.
    #[test]
    fn altered_tokens_are_refused() {
        let key = secret(1);
        let token = key.issue(Purpose::Resend, &dossier(), NOW);
        let (body, tag) = token.rsplit_once('.').unwrap();
        let (compact, expires) = body.split_once('.').unwrap();
        let other = Dossier::from_seed(&[8; 32]);
        let longer = (expires.parse::<i64>().unwrap() + 3600).to_string();
        let cases = [
            (String::new(), TokenError::Malformed),
            ("abc".to_owned(), TokenError::Malformed),
            (format!("{body}.{tag}="), TokenError::Malformed),
            (format!("{body}.{}", &tag[1..]), TokenError::Malformed),
            (format!("{}.{expires}.{tag}", compact.to_lowercase()), TokenError::Malformed),
            (format!("{compact}.+{expires}.{tag}"), TokenError::Malformed),
            (format!("{compact}.{longer}.{tag}"), TokenError::Forged),
            (format!("{}.{expires}.{tag}", other.compact()), TokenError::Forged),
            (format!("{body}.{}", URL_SAFE_NO_PAD.encode([0u8; TAG_BYTES])), TokenError::Forged),
        ];
        for (altered, expected) in cases {
            assert_eq!(key.verify(Purpose::Resend, &altered, NOW), Err(expected), "{altered:?}");
        }
        assert_eq!(
            key.verify(Purpose::Resend, &format!(" {token}\n"), NOW),
            Ok(dossier()),
            "copied with spaces"
        );
    }

    // The token's characters need no escaping in a URL or an HTML attribute.
    #[test]
    fn tokens_are_url_safe() {
        let token = secret(3).issue(Purpose::Activation, &dossier(), NOW);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{token}");
        assert_eq!(format!("{:?}", secret(3)), "TokenSecret(<32 bytes>)");
        assert_eq!(TokenSecret::new(vec![0; 31]).err(), Some(TokenSecretTooShort(31)));
    }
}
