//! Stores one request so that it is never lost, never overwritten and never stored twice.
//!
//! For attempt 0, 1, … the submission's idempotency key gives a dossier number (see
//! [`crate::storage::idempotency`]). At that number the photo is written first, then the record; both
//! writes are conditional, so the store itself says whether the number is free:
//! - the photo already exists and carries this submission's tag and content tag: an earlier try of
//!   ours stopped half-way; it is kept and the record is written now;
//! - the photo or the record exists with another submission's tag: a collision, the next attempt
//!   is tried;
//! - the record exists with this submission's tag and content tag: a replay (double click,
//!   refresh, retry), its dossier number is returned and nothing is written;
//! - the photo or the record exists with this submission's tag but another content tag: the same
//!   `submission_id` was sent with other fields or another photo. Nothing is written and the
//!   request is refused ([`CommitError::Conflict`]): answering it as a replay would confirm values
//!   that are not the stored ones.
//!
//! The record is the commit: it is written last and points only to a photo already stored. A
//! store failure stops the flow (503); whatever it left is a photo without record, which the retry
//! of the same submission adopts.
//!
//! The photo comes as bytes with the facts the record keeps about it ([`Photo`]): this module
//! never looks inside, and whatever made the photo (the handler's pipeline) is the caller's.

use form::{Demande, Dossier};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::storage::idempotency::{ContentDigest, DossierSecret, IdempotencyKey, sha256_hex};
use crate::storage::store::{Metadata, ObjectKey, PutOutcome, Store, StoreError, StoredObject};

/// How many dossier numbers a submission may try. With 29^8 numbers, a second attempt is already
/// a rarity; eight consecutive collisions mean something is wrong, not that the space is full.
pub const ATTEMPTS: u8 = 8;
/// The version of `demande.json`; bumped when a field changes meaning. 2 added `content`.
pub const SCHEMA_VERSION: u32 = 2;

const PHOTO_CONTENT_TYPE: &str = "image/jpeg";
const RECORD_CONTENT_TYPE: &str = "application/json";

/// Names of the photo's metadata (`x-amz-meta-*` on S3).
const META_SHA256: &str = "sha256";
const META_SUBMISSION: &str = "submission";
const META_CONTENT: &str = "content";
const META_SOURCE_FORMAT: &str = "source-format";
const META_SOURCE_WIDTH: &str = "source-width";
const META_SOURCE_HEIGHT: &str = "source-height";

/// One request ready to be stored.
pub struct Submission<'a> {
    pub demande: &'a Demande,
    pub photo: Photo<'a>,
    pub key: &'a IdempotencyKey,
    /// What the submission contains, to tell a replay from the same id with other content.
    pub content: &'a ContentDigest,
    pub received_at: OffsetDateTime,
}

/// The ID photo to store: the JPEG as it is to be written, and what the record says of it.
pub struct Photo<'a> {
    pub jpeg: &'a [u8],
    /// Its size in pixels.
    pub width: u32,
    pub height: u32,
    pub original: Original,
}

/// The file a photo was made from, as the record describes it (`original`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Original {
    /// Its format's name: `jpeg`, `png`, `webp`.
    pub format: String,
    /// Its size once upright, in pixels.
    pub width: u32,
    pub height: u32,
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
    /// This submission is already stored with other content; nothing was written.
    #[error("the submission is already stored with other content (dossier {0})")]
    Conflict(Dossier),
}

/// What the record says about the stored photo and the file it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PhotoFacts {
    sha256: String,
    bytes: usize,
    original: Original,
}

impl PhotoFacts {
    fn of(photo: &Photo<'_>) -> PhotoFacts {
        PhotoFacts {
            sha256: sha256_hex(photo.jpeg),
            bytes: photo.jpeg.len(),
            original: photo.original.clone(),
        }
    }

    fn metadata(&self, tags: &Tags) -> Metadata {
        Metadata::from([
            (META_SHA256.to_owned(), self.sha256.clone()),
            (META_SUBMISSION.to_owned(), tags.submission.clone()),
            (META_CONTENT.to_owned(), tags.content.clone()),
            (META_SOURCE_FORMAT.to_owned(), self.original.format.clone()),
            (META_SOURCE_WIDTH.to_owned(), self.original.width.to_string()),
            (META_SOURCE_HEIGHT.to_owned(), self.original.height.to_string()),
        ])
    }

    /// The facts of a photo stored by an earlier try: the hash is recomputed from the bytes, the
    /// source is read from the metadata written with them.
    fn of_stored(object: &StoredObject) -> Option<PhotoFacts> {
        let meta = |name: &str| object.metadata.get(name);
        Some(PhotoFacts {
            sha256: sha256_hex(&object.bytes),
            bytes: object.bytes.len(),
            original: Original {
                format: meta(META_SOURCE_FORMAT)?.clone(),
                width: meta(META_SOURCE_WIDTH)?.parse().ok()?,
                height: meta(META_SOURCE_HEIGHT)?.parse().ok()?,
            },
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
    original: Original,
    /// The keyed hash of the idempotency key: recognises a replay without keeping the key.
    submission: String,
    /// The keyed hash of the content (fields, crop, photo as uploaded): tells a replay from the
    /// same submission sent with other content.
    content: String,
}

#[derive(Serialize)]
struct PhotoEntry {
    key: String,
    sha256: String,
    bytes: usize,
    width: u32,
    height: u32,
}

/// The part of a stored record needed to recognise a replay. `content` is missing from records
/// of version 1, which then never match: nothing of theirs is confirmed as a replay.
#[derive(Deserialize)]
struct StoredRecord {
    submission: String,
    #[serde(default)]
    content: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

/// The keyed hashes a submission is recognised by, in the photo's metadata and in the record.
struct Tags {
    submission: String,
    content: String,
}

impl Tags {
    /// Whether an object tagged `submission` and `content` is this submission's: `Some(true)` for
    /// the same content, `Some(false)` for other content, `None` for another submission.
    fn matches(&self, submission: Option<&str>, content: Option<&str>) -> Option<bool> {
        (submission == Some(self.submission.as_str())).then(|| content == Some(self.content.as_str()))
    }
}

/// What was found at a dossier number when claiming it for the photo.
enum Claim {
    /// The number is ours: the photo just written, or the one an earlier try of ours left.
    Ours(PhotoFacts),
    /// Another submission holds it.
    Taken,
    /// This submission holds it with other content.
    Conflict,
}

/// Stores the submission under the first dossier number that is free or already its own.
pub async fn commit<S: Store>(
    store: &S,
    secret: &DossierSecret,
    submission: &Submission<'_>,
) -> Result<Committed, CommitError> {
    let tags = Tags {
        submission: secret.tag(submission.key),
        content: secret.content_tag(submission.key, submission.content),
    };
    let fresh = PhotoFacts::of(&submission.photo);
    for attempt in 0..ATTEMPTS {
        let dossier = secret.dossier(submission.key, attempt);
        let facts = match claim_photo(store, &dossier, &tags, &fresh, submission.photo.jpeg).await? {
            Claim::Ours(facts) => facts,
            Claim::Taken => continue,
            Claim::Conflict => return Err(CommitError::Conflict(dossier)),
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
                width: submission.photo.width,
                height: submission.photo.height,
            },
            original: facts.original,
            submission: tags.submission.clone(),
            content: tags.content.clone(),
        };
        let json = serde_json::to_vec_pretty(&record).expect("a record always serialises");
        let outcome = store.put_if_absent(&record_key, &json, RECORD_CONTENT_TYPE, &Metadata::new()).await?;
        if outcome == PutOutcome::Created {
            let received_at = submission.received_at;
            return Ok(Committed { dossier, received_at, replay: false, attempt });
        }
        let stored = existing(store, &record_key).await?;
        // A record this version cannot read is not ours either.
        let Ok(stored) = serde_json::from_slice::<StoredRecord>(&stored.bytes) else { continue };
        match tags.matches(Some(&stored.submission), stored.content.as_deref()) {
            Some(true) => {
                let received_at = stored.received_at;
                return Ok(Committed { dossier, received_at, replay: true, attempt });
            }
            Some(false) => return Err(CommitError::Conflict(dossier)),
            None => continue,
        }
    }
    Err(CommitError::Exhausted)
}

/// Writes the photo at `dossier`, or finds out whose the photo already there is.
async fn claim_photo<S: Store>(
    store: &S,
    dossier: &Dossier,
    tags: &Tags,
    fresh: &PhotoFacts,
    jpeg: &[u8],
) -> Result<Claim, StoreError> {
    let key = ObjectKey::photo(dossier);
    let outcome = store.put_if_absent(&key, jpeg, PHOTO_CONTENT_TYPE, &fresh.metadata(tags)).await?;
    if outcome == PutOutcome::Created {
        return Ok(Claim::Ours(fresh.clone()));
    }
    let stored = existing(store, &key).await?;
    let meta = |name: &str| stored.metadata.get(name).map(String::as_str);
    match tags.matches(meta(META_SUBMISSION), meta(META_CONTENT)) {
        None => Ok(Claim::Taken),
        Some(false) => Ok(Claim::Conflict),
        // Ours, with the same upload: usually the very same bytes. A new version of the photo
        // pipeline between two tries could make other bytes from the same upload; the stored
        // photo wins, since nothing is ever overwritten, and the record describes what is stored.
        Some(true) if sha256_hex(&stored.bytes) == fresh.sha256 => Ok(Claim::Ours(fresh.clone())),
        Some(true) => Ok(PhotoFacts::of_stored(&stored).map_or(Claim::Conflict, Claim::Ours)),
    }
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
    use crate::storage::store::memory::MemoryStore;
    use crate::testing::{demande, secret};

    /// The test's ID photo: storage writes its bytes and never reads them as an image.
    const JPEG: &[u8] = b"\xff\xd8\xff\xe0 an ID photo \xff\xd9";

    /// `jpeg` as the request flow hands it over: a 413x531 photo made from an upright 480x640 JPEG.
    fn photo(jpeg: &[u8]) -> Photo<'_> {
        Photo {
            jpeg,
            width: 413,
            height: 531,
            original: Original { format: "jpeg".into(), width: 480, height: 640 },
        }
    }

    fn key(n: u8) -> IdempotencyKey {
        let id = form::SubmissionId::parse(&format!("submission-{n:04}")).unwrap();
        IdempotencyKey::from_submission_id(&id)
    }

    fn at() -> OffsetDateTime {
        time::macros::datetime!(2025-09-01 08:30:00 UTC)
    }

    /// The content digest of the test request with `jpeg` as the upload.
    fn content(jpeg: &[u8]) -> ContentDigest {
        ContentDigest::of(&demande(), None, jpeg)
    }

    /// The tags submission `n` with `jpeg` is stored with.
    fn tags(n: u8, jpeg: &[u8]) -> Tags {
        Tags { submission: secret().tag(&key(n)), content: secret().content_tag(&key(n), &content(jpeg)) }
    }

    async fn run(store: &MemoryStore, n: u8, jpeg: &[u8]) -> Result<Committed, CommitError> {
        let demande = demande();
        let key = key(n);
        let content = content(jpeg);
        let submission = Submission {
            demande: &demande,
            photo: photo(jpeg),
            key: &key,
            content: &content,
            received_at: at(),
        };
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
        let committed = run(&store, 1, JPEG).await.unwrap();
        assert_eq!(committed.attempt, 0);
        assert!(!committed.replay);
        assert_eq!(committed.dossier, secret().dossier(&key(1), 0));
        let photo_key = ObjectKey::photo(&committed.dossier);
        let stored_photo = store.object(photo_key.as_str()).unwrap();
        assert_eq!(stored_photo.bytes, JPEG);
        assert_eq!(stored_photo.metadata[META_SHA256], sha256_hex(JPEG));
        assert_eq!(store.content_type(photo_key.as_str()).as_deref(), Some("image/jpeg"));
        let record = record_json(&store, &committed.dossier);
        assert_eq!(record["schema_version"], 2);
        assert_eq!(record["dossier"], committed.dossier.to_string());
        assert_eq!(record["received_at"], "2025-09-01T08:30:00Z");
        assert_eq!(record["demande"]["nom"], demande().nom);
        assert_eq!(record["photo"]["key"], photo_key.as_str());
        assert_eq!(record["photo"]["sha256"], sha256_hex(JPEG));
        assert_eq!(record["photo"]["bytes"], JPEG.len());
        assert_eq!(record["photo"]["width"], photo(JPEG).width);
        assert_eq!(record["photo"]["height"], photo(JPEG).height);
        assert_eq!(record["original"]["width"], photo(JPEG).original.width);
        assert_eq!(record["original"]["format"], "jpeg");
        assert_eq!(record["submission"], secret().tag(&key(1)));
        assert_eq!(record["content"], tags(1, JPEG).content);
        assert_eq!(stored_photo.metadata[META_CONTENT], tags(1, JPEG).content);
        assert_eq!(store.keys().len(), 2);
    }

    // Sending the same submission again returns the stored dossier and time, writing nothing.
    #[tokio::test]
    async fn replay_returns_the_same_dossier() {
        let store = MemoryStore::default();
        let first = run(&store, 1, JPEG).await.unwrap();
        let before: Vec<_> = store.keys().into_iter().map(|k| store.object(&k)).collect();
        let demande = demande();
        let key = key(1);
        let content = content(JPEG);
        let later = at() + time::Duration::minutes(5);
        let again = Submission {
            demande: &demande,
            photo: photo(JPEG),
            key: &key,
            content: &content,
            received_at: later,
        };
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
                let ours = PhotoFacts::of(&photo(JPEG)).metadata(&tags(1, JPEG));
                store.insert(&ObjectKey::photo(&first), JPEG, ours);
                let bytes = if taken == "record" { record.as_slice() } else { b"not json" };
                store.insert(&ObjectKey::record(&first), bytes, Metadata::new());
            }
            let before_first = store.object(ObjectKey::photo(&first).as_str());
            let committed = run(&store, 1, JPEG).await.unwrap();
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
        let error = run(&store, 1, JPEG).await.unwrap_err();
        assert!(matches!(error, CommitError::Store(_)));
        assert_eq!(store.keys().len(), 1, "only the photo is written");
        store.heal();
        let committed = run(&store, 1, JPEG).await.unwrap();
        assert_eq!((committed.attempt, committed.replay), (0, false));
        assert_eq!(store.keys().len(), 2);
    }

    // The same submission sent again with another photo or other fields, after a try that stored
    // only the photo or after a complete one, is refused as a conflict and changes nothing.
    #[tokio::test]
    async fn same_submission_with_other_content_is_a_conflict() {
        for complete in [false, true] {
            let store = MemoryStore::default();
            if !complete {
                store.fail_puts_ending_with("demande.json");
            }
            let first = run(&store, 1, JPEG).await;
            assert_eq!(first.is_ok(), complete);
            store.heal();
            let before: Vec<_> = store.keys().into_iter().map(|k| store.object(&k)).collect();
            let second_photo = [JPEG, b"different"].concat();
            let error = run(&store, 1, &second_photo).await.unwrap_err();
            let dossier = secret().dossier(&key(1), 0);
            assert!(matches!(&error, CommitError::Conflict(d) if *d == dossier), "{error}");
            let mut other_fields = demande();
            other_fields.nom = "Durand".to_owned();
            let key = key(1);
            let content = ContentDigest::of(&other_fields, None, JPEG);
            let submission = Submission {
                demande: &other_fields,
                photo: photo(JPEG),
                key: &key,
                content: &content,
                received_at: at(),
            };
            let error = commit(&store, &secret(), &submission).await.unwrap_err();
            assert!(matches!(error, CommitError::Conflict(_)), "{error}");
            let after: Vec<_> = store.keys().into_iter().map(|k| store.object(&k)).collect();
            assert_eq!(after, before, "complete: {complete}");
        }
    }

    // A version-1 record (no content tag) at our number is never confirmed as our replay.
    #[tokio::test]
    async fn record_without_content_tag_is_not_a_replay() {
        let store = MemoryStore::default();
        let dossier = secret().dossier(&key(1), 0);
        store.insert(
            &ObjectKey::photo(&dossier),
            JPEG,
            PhotoFacts::of(&photo(JPEG)).metadata(&tags(1, JPEG)),
        );
        let record =
            format!(r#"{{"submission":"{}","received_at":"2025-01-01T00:00:00Z"}}"#, secret().tag(&key(1)));
        store.insert(&ObjectKey::record(&dossier), record.as_bytes(), Metadata::new());
        assert!(matches!(run(&store, 1, JPEG).await, Err(CommitError::Conflict(_))));
        assert_eq!(store.keys().len(), 2);
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
        assert!(matches!(run(&store, 1, JPEG).await, Err(CommitError::Exhausted)));
        assert_eq!(store.keys().len(), usize::from(ATTEMPTS));
    }

    // A photo write that fails stops the flow before any record exists.
    #[tokio::test]
    async fn photo_failure_writes_nothing() {
        let store = MemoryStore::default();
        store.fail_puts_ending_with("photo.jpg");
        assert!(matches!(run(&store, 1, JPEG).await, Err(CommitError::Store(_))));
        assert!(store.keys().is_empty());
    }
}
