//! From a submission to its dossier numbers. A submission is named by an idempotency key: the
//! page's `submission_id` when it sent one, else a hash of what was sent, so that a double click
//! without JavaScript is recognised too. A keyed hash (HMAC with `DOSSIER_SECRET`) of that key and
//! an attempt number seeds the dossier number: the same submission always gets the same numbers, in
//! the same order, and nobody without the secret can predict or enumerate them.

use std::fmt;

use form::{Crop, Demande, Dossier, SubmissionId};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The shortest secret accepted: a full SHA-256 block of key material.
pub const MIN_SECRET_BYTES: usize = 32;

/// The HMAC key behind dossier numbers. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DossierSecret(Vec<u8>);

/// The secret was shorter than [`MIN_SECRET_BYTES`]; holds its length.
#[derive(Debug, PartialEq, Eq)]
pub struct SecretTooShort(pub usize);

impl DossierSecret {
    pub fn new(bytes: Vec<u8>) -> Result<DossierSecret, SecretTooShort> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretTooShort(bytes.len()));
        }
        Ok(DossierSecret(bytes))
    }

    fn mac(&self, domain: &[u8], key: &IdempotencyKey) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("hmac takes keys of any length");
        // The domain keeps the seeds and the stored tag apart even for the same key.
        mac.update(domain);
        mac.update(&key.0);
        mac
    }

    /// The dossier number tried at `attempt` for this submission.
    pub fn dossier(&self, key: &IdempotencyKey, attempt: u8) -> Dossier {
        let mut mac = self.mac(b"pass-region/dossier-seed\0", key);
        mac.update(&[0, attempt]);
        let seed: [u8; 32] = mac.finalize().into_bytes().into();
        Dossier::from_seed(&seed)
    }

    /// What the record stores to recognise a replay of this submission: a keyed hash, so the
    /// record never holds the raw key (which, without a `submission_id`, derives from the fields).
    pub fn tag(&self, key: &IdempotencyKey) -> String {
        hex::encode(self.mac(b"pass-region/submission-tag\0", key).finalize().into_bytes())
    }

    /// What the record stores of the submission's content, keyed like [`DossierSecret::tag`]: a
    /// bare hash of the fields could be checked against guesses of a student's details.
    pub fn content_tag(&self, key: &IdempotencyKey, digest: &ContentDigest) -> String {
        let mut mac = self.mac(b"pass-region/content-tag\0", key);
        mac.update(&digest.0);
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for DossierSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DossierSecret(<{} bytes>)", self.0.len())
    }
}

/// What names one submission, whatever the number of times it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(Vec<u8>);

impl IdempotencyKey {
    /// The key of a submission that carried the page's `submission_id`.
    pub fn from_submission_id(id: &SubmissionId) -> IdempotencyKey {
        IdempotencyKey([b"submission_id\0".as_slice(), id.as_str().as_bytes()].concat())
    }

    /// The key of a submission without `submission_id`: its content digest (a double click sends
    /// the very same content). The prefix keeps it apart from any `submission_id`, even one that
    /// happens to look like a hex digest.
    pub fn from_content(digest: &ContentDigest) -> IdempotencyKey {
        IdempotencyKey([b"content\0".as_slice(), &digest.0].concat())
    }
}

/// What a submission says: a hash of the validated fields, the crop and the photo as uploaded.
/// Stored (keyed, see [`DossierSecret::content_tag`]) beside the submission's tag, so that the
/// same `submission_id` sent again with other content is told apart from a replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDigest([u8; 32]);

impl ContentDigest {
    pub fn of(demande: &Demande, crop: Option<Crop>, photo: &[u8]) -> ContentDigest {
        // `Demande` serialises without its crop and submission id: the crop is hashed here, and
        // the id names the submission rather than saying what it contains.
        let fields = serde_json::to_vec(demande).expect("a demande always serialises");
        let mut hash = Sha256::new();
        for part in [fields.as_slice(), crop.map(|c| c.to_string()).unwrap_or_default().as_bytes()] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        hash.update(photo);
        ContentDigest(hash.finalize().into())
    }
}

/// Hex SHA-256, as stored beside the photo and in the record.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(byte: u8) -> DossierSecret {
        DossierSecret::new(vec![byte; MIN_SECRET_BYTES]).unwrap()
    }

    fn key(id: &str) -> IdempotencyKey {
        IdempotencyKey::from_submission_id(&SubmissionId::parse(id).unwrap())
    }

    // Secrets shorter than 32 bytes are refused; the Debug output never shows the bytes.
    #[test]
    fn secret_length_and_debug() {
        assert_eq!(DossierSecret::new(vec![1; 31]).unwrap_err(), SecretTooShort(31));
        let secret = DossierSecret::new(b"abcdefghijklmnopqrstuvwxyz0123456789".to_vec()).unwrap();
        assert_eq!(format!("{secret:?}"), "DossierSecret(<36 bytes>)");
    }

    // The same key, secret and attempt always give the same dossier; any change gives another.
    #[test]
    fn dossiers_are_deterministic_and_spread() {
        let base = secret(7).dossier(&key("submission-0001"), 0);
        assert_eq!(secret(7).dossier(&key("submission-0001"), 0), base);
        let others = [
            secret(7).dossier(&key("submission-0001"), 1),
            secret(7).dossier(&key("submission-0002"), 0),
            secret(8).dossier(&key("submission-0001"), 0),
        ];
        for other in others {
            assert_ne!(other, base);
        }
    }

    // The tag is a 64-digit hex HMAC that depends on the key and the secret, never the raw key.
    #[test]
    fn tag_hides_the_key() {
        let tag = secret(7).tag(&key("submission-0001"));
        assert_eq!(tag.len(), 64);
        assert!(!tag.contains("submission"));
        assert_ne!(tag, secret(7).tag(&key("submission-0002")));
        assert_ne!(tag, secret(8).tag(&key("submission-0001")));
    }

    // The content digest follows every input that makes the submission, and the key made from it
    // never meets an id key.
    #[test]
    fn content_digest_follows_its_inputs() {
        let demande = crate::testing::demande();
        let crop = Some(Crop { x: 1, y: 2, width: 350, height: 450 });
        let base = ContentDigest::of(&demande, crop, b"photo");
        assert_eq!(ContentDigest::of(&demande, crop, b"photo"), base);
        let mut other_fields = crate::testing::demande();
        other_fields.commune = "Vichy".into();
        let others = [
            ContentDigest::of(&demande, crop, b"photo!"),
            ContentDigest::of(&demande, None, b"photo"),
            ContentDigest::of(&other_fields, crop, b"photo"),
        ];
        for other in others {
            assert_ne!(other, base);
        }
        let content_key = IdempotencyKey::from_content(&base);
        assert_ne!(content_key, key(&hex::encode(base.0)));
    }

    // The content tag depends on the secret, the submission and the content, and is not the digest.
    #[test]
    fn content_tag_is_keyed() {
        let demande = crate::testing::demande();
        let digest = ContentDigest::of(&demande, None, b"photo");
        let other = ContentDigest::of(&demande, None, b"other photo");
        let tag = secret(7).content_tag(&key("submission-0001"), &digest);
        assert_eq!(tag.len(), 64);
        assert_ne!(tag, hex::encode(digest.0));
        assert_ne!(tag, secret(8).content_tag(&key("submission-0001"), &digest));
        assert_ne!(tag, secret(7).content_tag(&key("submission-0002"), &digest));
        assert_ne!(tag, secret(7).content_tag(&key("submission-0001"), &other));
        assert_ne!(tag, secret(7).tag(&key("submission-0001")));
    }

    // The hex SHA-256 of a known input matches the published test vector.
    #[test]
    fn sha256_hex_matches_known_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
