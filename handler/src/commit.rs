//! Stores one request so that it is never lost, never overwritten and never stored twice.
//!
//! For attempt 0, 1, … the submission's idempotency key gives a dossier number (see
//! [`crate::idempotency`]). At that number the photo is written first, then the record; both
//! writes are conditional, so the store itself says whether the number is free:
//! - the photo already exists and carries this submission's tag: an earlier try of ours stopped
//!   half-way; it is kept and the record is written now;
//! - the photo or the record exists with another tag: a collision, the next attempt is tried;
//! - the record exists with this submission's tag: a replay (double click, refresh, retry), its
//!   dossier number is returned and nothing is written.
//!
//! The record is the commit: it is written last and points only to a photo already stored. A
//! store failure stops the flow (503); whatever it left is a photo without record, which the retry
//! of the same submission adopts.

use form::{Demande, Dossier};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::idempotency::{DossierSecret, IdempotencyKey, sha256_hex};
use crate::photo::{self, IdPhoto};
use crate::store::{Metadata, ObjectKey, PutOutcome, Store, StoreError, StoredObject};

/// How many dossier numbers a submission may try. With 29^8 numbers, a second attempt is already
/// a rarity; eight consecutive collisions mean something is wrong, not that the space is full.
pub const ATTEMPTS: u8 = 8;
/// The version of `demande.json`; bumped when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

const PHOTO_CONTENT_TYPE: &str = "image/jpeg";
const RECORD_CONTENT_TYPE: &str = "application/json";

/// Names of the photo's metadata (`x-amz-meta-*` on S3).
const META_SHA256: &str = "sha256";
const META_SUBMISSION: &str = "submission";
const META_SOURCE_FORMAT: &str = "source-format";
const META_SOURCE_WIDTH: &str = "source-width";
const META_SOURCE_HEIGHT: &str = "source-height";

/// One request ready to be stored.
pub struct Submission<'a> {
    pub demande: &'a Demande,
    pub photo: &'a IdPhoto,
    pub key: &'a IdempotencyKey,
    pub received_at: OffsetDateTime,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub dossier: Dossier,
    /// When the request was first received (the stored time, for a replay).
    pub received_at: OffsetDateTime,
    /// True when an earlier send had already stored it and nothing was written.
    pub replay: bool,
    /// Which attempt found the dossier number (0 almost always).
    pub attempt: u8,
}

#[derive(Debug, thiserror::Error)]
pub enum CommitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("every one of the {ATTEMPTS} dossier numbers tried was taken")]
    Exhausted,
}

/// What the record says about the stored photo and the file it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PhotoFacts {
    sha256: String,
    bytes: usize,
    source_format: String,
    source_width: u32,
    source_height: u32,
}

impl PhotoFacts {
    fn of(photo: &IdPhoto) -> PhotoFacts {
        let source_format = serde_json::to_value(photo.source_format)
            .ok()
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        PhotoFacts {
            sha256: sha256_hex(&photo.jpeg),
            bytes: photo.jpeg.len(),
            source_format,
            source_width: photo.source_width,
            source_height: photo.source_height,
        }
    }

    fn metadata(&self, tag: &str) -> Metadata {
        Metadata::from([
            (META_SHA256.to_owned(), self.sha256.clone()),
            (META_SUBMISSION.to_owned(), tag.to_owned()),
            (META_SOURCE_FORMAT.to_owned(), self.source_format.clone()),
            (META_SOURCE_WIDTH.to_owned(), self.source_width.to_string()),
            (META_SOURCE_HEIGHT.to_owned(), self.source_height.to_string()),
        ])
    }

    /// The facts of a photo stored by an earlier try: the hash is recomputed from the bytes, the
    /// source is read from the metadata written with them.
    fn of_stored(object: &StoredObject) -> Option<PhotoFacts> {
        let meta = |name: &str| object.metadata.get(name);
        Some(PhotoFacts {
            sha256: sha256_hex(&object.bytes),
            bytes: object.bytes.len(),
            source_format: meta(META_SOURCE_FORMAT)?.clone(),
            source_width: meta(META_SOURCE_WIDTH)?.parse().ok()?,
            source_height: meta(META_SOURCE_HEIGHT)?.parse().ok()?,
        })
    }
}

/// `demande.json` as written.
#[derive(Serialize)]
struct Record<'a> {
    schema_version: u32,
    dossier: String,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
    demande: &'a Demande,
    photo: PhotoEntry,
    original: OriginalEntry,
    /// The keyed hash of the idempotency key: recognises a replay without keeping the key.
    submission: String,
}

#[derive(Serialize)]
struct PhotoEntry {
    key: String,
    sha256: String,
    bytes: usize,
    width: u32,
    height: u32,
}

#[derive(Serialize)]
struct OriginalEntry {
    format: String,
    width: u32,
    height: u32,
}

/// The part of a stored record needed to recognise a replay.
#[derive(Deserialize)]
struct StoredRecord {
    submission: String,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

/// Stores the submission under the first dossier number that is free or already its own.
pub async fn commit<S: Store>(
    store: &S,
    secret: &DossierSecret,
    submission: &Submission<'_>,
) -> Result<Committed, CommitError> {
    let tag = secret.tag(submission.key);
    let fresh = PhotoFacts::of(submission.photo);
    for attempt in 0..ATTEMPTS {
        let dossier = secret.dossier(submission.key, attempt);
        let Some(facts) = claim_photo(store, &dossier, &tag, &fresh, &submission.photo.jpeg).await? else {
            continue;
        };
        let record_key = ObjectKey::record(&dossier);
        let record = Record {
            schema_version: SCHEMA_VERSION,
            dossier: dossier.to_string(),
            received_at: submission.received_at,
            demande: submission.demande,
            photo: PhotoEntry {
                key: ObjectKey::photo(&dossier).to_string(),
                sha256: facts.sha256,
                bytes: facts.bytes,
                width: photo::OUTPUT_WIDTH,
                height: photo::OUTPUT_HEIGHT,
            },
            original: OriginalEntry {
                format: facts.source_format,
                width: facts.source_width,
                height: facts.source_height,
            },
            submission: tag.clone(),
        };
        let json = serde_json::to_vec_pretty(&record).expect("a record always serialises");
        let outcome = store.put_if_absent(&record_key, &json, RECORD_CONTENT_TYPE, &Metadata::new()).await?;
        if outcome == PutOutcome::Created {
            let received_at = submission.received_at;
            return Ok(Committed { dossier, received_at, replay: false, attempt });
        }
        let stored = existing(store, &record_key).await?;
        match serde_json::from_slice::<StoredRecord>(&stored.bytes) {
            Ok(stored) if stored.submission == tag => {
                let received_at = stored.received_at;
                return Ok(Committed { dossier, received_at, replay: true, attempt });
            }
            // Another submission's record, or one this version cannot read: either way not ours.
            _ => continue,
        }
    }
    Err(CommitError::Exhausted)
}

/// Writes the photo at `dossier`, or adopts the one an earlier try of this submission left there.
/// `None` means the number belongs to another submission.
async fn claim_photo<S: Store>(
    store: &S,
    dossier: &Dossier,
    tag: &str,
    fresh: &PhotoFacts,
    jpeg: &[u8],
) -> Result<Option<PhotoFacts>, StoreError> {
    let key = ObjectKey::photo(dossier);
    let outcome = store.put_if_absent(&key, jpeg, PHOTO_CONTENT_TYPE, &fresh.metadata(tag)).await?;
    if outcome == PutOutcome::Created {
        return Ok(Some(fresh.clone()));
    }
    let stored = existing(store, &key).await?;
    if stored.metadata.get(META_SUBMISSION).map(String::as_str) != Some(tag) {
        return Ok(None);
    }
    // Ours. Usually the very same bytes; if the student changed the photo between two sends of
    // the same submission, the stored one wins, since nothing is ever overwritten, and the
    // record describes what is stored.
    if sha256_hex(&stored.bytes) == fresh.sha256 {
        return Ok(Some(fresh.clone()));
    }
    Ok(PhotoFacts::of_stored(&stored))
}

/// Reads an object the store has just said exists. It can be missing only while another
/// conditional write to the same key is still in flight (S3 answers 409 then): that is a
/// temporary state, reported as unavailable so that the student retries.
async fn existing<S: Store>(store: &S, key: &ObjectKey) -> Result<StoredObject, StoreError> {
    store.get(key).await?.ok_or_else(|| StoreError(format!("`{key}` exists but could not be read yet")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::testing::{demande, id_photo, secret};

    fn key(n: u8) -> IdempotencyKey {
        let id = form::SubmissionId::parse(&format!("submission-{n:04}")).unwrap();
        IdempotencyKey::from_submission_id(&id)
    }

    fn at() -> OffsetDateTime {
        time::macros::datetime!(2025-09-01 08:30:00 UTC)
    }

    async fn run(store: &MemoryStore, n: u8, photo: &IdPhoto) -> Result<Committed, CommitError> {
        let demande = demande();
        let key = key(n);
        let submission = Submission { demande: &demande, photo, key: &key, received_at: at() };
        commit(store, &secret(), &submission).await
    }

    fn record_json(store: &MemoryStore, dossier: &Dossier) -> serde_json::Value {
        let object = store.object(ObjectKey::record(dossier).as_str()).unwrap();
        serde_json::from_slice(&object.bytes).unwrap()
    }

    // A first submission writes the photo then the record at attempt 0, with every recorded fact.
    #[tokio::test]
    async fn first_submission_writes_photo_then_record() {
        let store = MemoryStore::default();
        let photo = id_photo();
        let committed = run(&store, 1, &photo).await.unwrap();
        assert_eq!(committed.attempt, 0);
        assert!(!committed.replay);
        assert_eq!(committed.dossier, secret().dossier(&key(1), 0));
        let photo_key = ObjectKey::photo(&committed.dossier);
        let stored_photo = store.object(photo_key.as_str()).unwrap();
        assert_eq!(stored_photo.bytes, photo.jpeg);
        assert_eq!(stored_photo.metadata[META_SHA256], sha256_hex(&photo.jpeg));
        assert_eq!(store.content_type(photo_key.as_str()).as_deref(), Some("image/jpeg"));
        let record = record_json(&store, &committed.dossier);
        assert_eq!(record["schema_version"], 1);
        assert_eq!(record["dossier"], committed.dossier.to_string());
        assert_eq!(record["received_at"], "2025-09-01T08:30:00Z");
        assert_eq!(record["demande"]["nom"], demande().nom);
        assert_eq!(record["photo"]["key"], photo_key.as_str());
        assert_eq!(record["photo"]["sha256"], sha256_hex(&photo.jpeg));
        assert_eq!(record["photo"]["bytes"], photo.jpeg.len());
        assert_eq!(record["photo"]["width"], photo::OUTPUT_WIDTH);
        assert_eq!(record["photo"]["height"], photo::OUTPUT_HEIGHT);
        assert_eq!(record["original"]["width"], photo.source_width);
        assert_eq!(record["original"]["format"], "jpeg");
        assert_eq!(record["submission"], secret().tag(&key(1)));
        assert_eq!(store.keys().len(), 2);
    }

    // Sending the same submission again returns the stored dossier and time, writing nothing.
    #[tokio::test]
    async fn replay_returns_the_same_dossier() {
        let store = MemoryStore::default();
        let photo = id_photo();
        let first = run(&store, 1, &photo).await.unwrap();
        let before: Vec<_> = store.keys().into_iter().map(|k| store.object(&k)).collect();
        let demande = demande();
        let key = key(1);
        let later = at() + time::Duration::minutes(5);
        let again = Submission { demande: &demande, photo: &photo, key: &key, received_at: later };
        let second = commit(&store, &secret(), &again).await.unwrap();
        assert!(second.replay);
        assert_eq!(second.dossier, first.dossier);
        assert_eq!(second.received_at, at());
        let after: Vec<_> = store.keys().into_iter().map(|k| store.object(&k)).collect();
        assert_eq!(after, before);
    }

    // A number taken by another submission (photo or record) moves this one to the next attempt.
    #[tokio::test]
    async fn collision_moves_to_next_attempt() {
        let foreign = || Metadata::from([(META_SUBMISSION.to_owned(), "someone-else".to_owned())]);
        let record = br#"{"submission":"someone-else","received_at":"2025-01-01T00:00:00Z"}"#;
        for taken in ["photo", "record", "unreadable record"] {
            let store = MemoryStore::default();
            let first = secret().dossier(&key(1), 0);
            if taken == "photo" {
                store.insert(&ObjectKey::photo(&first), b"other jpeg", foreign());
            } else {
                // Our photo but another record: only a seed collision could do that; the record,
                // which commits, decides.
                let ours = PhotoFacts::of(&id_photo()).metadata(&secret().tag(&key(1)));
                store.insert(&ObjectKey::photo(&first), &id_photo().jpeg, ours);
                let bytes = if taken == "record" { record.as_slice() } else { b"not json" };
                store.insert(&ObjectKey::record(&first), bytes, Metadata::new());
            }
            let before_first = store.object(ObjectKey::photo(&first).as_str());
            let committed = run(&store, 1, &id_photo()).await.unwrap();
            assert_eq!(committed.attempt, 1, "{taken}");
            assert_eq!(committed.dossier, secret().dossier(&key(1), 1));
            assert!(!committed.replay);
            assert_eq!(store.object(ObjectKey::photo(&first).as_str()), before_first, "{taken}");
            assert_eq!(store.keys().len(), if taken == "photo" { 3 } else { 4 }, "{taken}");
        }
    }

    // A try that stored the photo but failed on the record is completed by the retry.
    #[tokio::test]
    async fn retry_completes_a_half_finished_try() {
        let store = MemoryStore::default();
        store.fail_puts_ending_with("demande.json");
        let photo = id_photo();
        let error = run(&store, 1, &photo).await.unwrap_err();
        assert!(matches!(error, CommitError::Store(_)));
        assert_eq!(store.keys().len(), 1, "only the photo is written");
        store.heal();
        let committed = run(&store, 1, &photo).await.unwrap();
        assert_eq!((committed.attempt, committed.replay), (0, false));
        assert_eq!(store.keys().len(), 2);
    }

    // A retry with a different photo keeps the stored one and records what is actually stored.
    #[tokio::test]
    async fn retry_with_another_photo_records_the_stored_one() {
        let store = MemoryStore::default();
        store.fail_puts_ending_with("demande.json");
        let first_photo = id_photo();
        run(&store, 1, &first_photo).await.unwrap_err();
        store.heal();
        let mut second_photo = id_photo();
        second_photo.jpeg.extend_from_slice(b"different");
        second_photo.source_width += 1;
        let committed = run(&store, 1, &second_photo).await.unwrap();
        assert_eq!(committed.attempt, 0);
        let record = record_json(&store, &committed.dossier);
        assert_eq!(record["photo"]["sha256"], sha256_hex(&first_photo.jpeg));
        assert_eq!(record["original"]["width"], first_photo.source_width);
    }

    // Eight taken numbers in a row end with an error rather than a loop or an overwrite.
    #[tokio::test]
    async fn gives_up_after_every_attempt() {
        let store = MemoryStore::default();
        let metadata = Metadata::from([(META_SUBMISSION.to_owned(), "someone-else".to_owned())]);
        for attempt in 0..ATTEMPTS {
            let dossier = secret().dossier(&key(1), attempt);
            store.insert(&ObjectKey::photo(&dossier), b"x", metadata.clone());
        }
        assert!(matches!(run(&store, 1, &id_photo()).await, Err(CommitError::Exhausted)));
        assert_eq!(store.keys().len(), usize::from(ATTEMPTS));
    }

    // A photo write that fails stops the flow before any record exists.
    #[tokio::test]
    async fn photo_failure_writes_nothing() {
        let store = MemoryStore::default();
        store.fail_puts_ending_with("photo.jpg");
        assert!(matches!(run(&store, 1, &id_photo()).await, Err(CommitError::Store(_))));
        assert!(store.keys().is_empty());
    }
}
