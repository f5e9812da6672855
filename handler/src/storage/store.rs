//! Where requests are kept: a bucket of objects that are written once and never overwritten. The
//! trait is what the request flow needs from S3 and nothing more, so that the flow's unit tests run
//! against an in-memory fake while the integration tests run against a real S3-compatible server.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use form::Dossier;

/// An object key, built only from a dossier number (and, for a duplicate's photo, the digest of
/// the JPEG the function made): nothing a student typed reaches a key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// `demandes/<dossier>/photo.jpg`: the ID photo, written first.
    pub fn photo(dossier: &Dossier) -> ObjectKey {
        ObjectKey(format!("demandes/{}/photo.jpg", dossier.compact()))
    }

    /// `demandes/<dossier>/demande.json`: the record, written last; its presence commits the request.
    pub fn record(dossier: &Dossier) -> ObjectKey {
        ObjectKey(format!("demandes/{}/demande.json", dossier.compact()))
    }

    /// `demandes/<dossier>/courriel-<n>.json`: the `n`-th e-mail about the request (1 the first),
    /// written once its send was tried, with the outcome.
    pub fn mailing(dossier: &Dossier, n: u8) -> ObjectKey {
        ObjectKey(format!("demandes/{}/courriel-{n}.json", dossier.compact()))
    }

    /// `demandes/<dossier>/activation.json`: the account's activation and the setting applied.
    pub fn activation(dossier: &Dossier) -> ObjectKey {
        ObjectKey(format!("demandes/{}/activation.json", dossier.compact()))
    }

    /// `demandes/<dossier>/connexion-echec-<n>.json`: the `n`-th failed sign-in to the personal
    /// space.
    pub fn failed_signin(dossier: &Dossier, n: u8) -> ObjectKey {
        ObjectKey(format!("demandes/{}/connexion-echec-{n}.json", dossier.compact()))
    }

    /// `demandes/<dossier>/reglage-<n>.json`: the `n`-th change of the send-to-school setting
    /// from the personal space.
    pub fn setting(dossier: &Dossier, n: u8) -> ObjectKey {
        ObjectKey(format!("demandes/{}/reglage-{n}.json", dossier.compact()))
    }

    /// `demandes/<dossier>/statut-<n>.json`: the `n`-th status the school's staff set.
    pub fn status(dossier: &Dossier, n: u8) -> ObjectKey {
        ObjectKey(format!("demandes/{}/statut-{n}.json", dossier.compact()))
    }

    /// `demandes/<dossier>/duplicata.json`: the duplicate request, one per dossier, written last.
    pub fn duplicate(dossier: &Dossier) -> ObjectKey {
        ObjectKey(format!("demandes/{}/duplicata.json", dossier.compact()))
    }

    /// `demandes/<dossier>/duplicata-<digest>.jpg`: the new photo of a duplicate request, named by
    /// the first 16 hex digits of its SHA-256, written before the request that names it. The digest
    /// keeps write-once honest: a try cut after its photo leaves that photo alone, and a retry with
    /// another photo writes its own instead of overwriting it.
    pub fn duplicate_photo(dossier: &Dossier, jpeg: &[u8]) -> ObjectKey {
        let digest = crate::storage::idempotency::sha256_hex(jpeg);
        ObjectKey(format!("demandes/{}/duplicata-{}.jpg", dossier.compact(), &digest[..16]))
    }

    /// A key read from a listing, if it is one of this layout's: `demandes/<dossier>/<name>`, the
    /// dossier a valid number in its compact form and the name one of those above. The only way
    /// from a bucket's listing back to a key, so that the staff's command acts on nothing else.
    pub fn parse(raw: &str) -> Option<(Dossier, Kind, ObjectKey)> {
        let (compact, name) = raw.strip_prefix("demandes/")?.split_once('/')?;
        let dossier = Dossier::parse(compact).ok().filter(|dossier| dossier.compact() == compact)?;
        let kind = Kind::of(name)?;
        Some((dossier, kind, ObjectKey(raw.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What an object of a dossier holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Photo,
    Record,
    Mail(u8),
    Activation,
    FailedSignin(u8),
    Setting(u8),
    Status(u8),
    Duplicate,
    DuplicatePhoto,
}

impl Kind {
    /// The kind of the object named `name` in a dossier's folder, if it is one of the layout's.
    fn of(name: &str) -> Option<Kind> {
        let numbered = |prefix: &str| {
            let n = name.strip_prefix(prefix)?.strip_suffix(".json")?;
            (!n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit())).then(|| n.parse::<u8>().ok())?
        };
        let hex16 = |name: &str| {
            let digest = name.strip_prefix("duplicata-")?.strip_suffix(".jpg")?;
            (digest.len() == 16 && digest.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                .then_some(())
        };
        Some(match name {
            "photo.jpg" => Kind::Photo,
            "demande.json" => Kind::Record,
            "activation.json" => Kind::Activation,
            "duplicata.json" => Kind::Duplicate,
            _ if hex16(name).is_some() => Kind::DuplicatePhoto,
            _ => {
                if let Some(n) = numbered("courriel-") {
                    Kind::Mail(n)
                } else if let Some(n) = numbered("connexion-echec-") {
                    Kind::FailedSignin(n)
                } else if let Some(n) = numbered("reglage-") {
                    Kind::Setting(n)
                } else {
                    Kind::Status(numbered("statut-")?)
                }
            }
        })
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// User metadata stored with an object (`x-amz-meta-<name>` on S3); names are lowercase.
pub type Metadata = BTreeMap<String, String>;

/// What a conditional write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object did not exist and now holds the bytes given.
    Created,
    /// An object was already there; it was left untouched.
    AlreadyExists,
}

/// An object read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub bytes: Vec<u8>,
    pub metadata: Metadata,
}

/// The store could not answer (network, timeout, throttling, permissions). The message is for
/// the logs: it holds keys, which are built from dossier numbers only, never personal data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("store unavailable: {0}")]
pub struct StoreError(pub String);

/// Write-once object storage.
pub trait Store: Send + Sync {
    /// Writes the object only if no object exists under `key` (S3's `If-None-Match: *`).
    fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: &[u8],
        content_type: &str,
        metadata: &Metadata,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;

    /// Reads an object, `None` when there is none.
    fn get(&self, key: &ObjectKey) -> impl Future<Output = Result<Option<StoredObject>, StoreError>> + Send;
}

/// An in-memory store for unit tests, with failures that can be scheduled. It behaves like S3
/// under concurrency rather than like one big lock: keys live in shards locked only for an
/// instant, and a write crosses `yield_now` points where other tasks run, as a request crosses the
/// network. In between, the key is reserved by the write in flight: a concurrent conditional write
/// is refused (S3's 409 `ConditionalRequestConflict`, which the store reports as "exists") and a
/// read misses (the object is not visible until the write completes), so unit tests can reach the
/// same interleavings as real instances racing on S3.
#[cfg(test)]
pub mod memory {
    use std::collections::BTreeMap;
    use std::collections::hash_map::DefaultHasher;
    use std::hash::{Hash, Hasher};
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// Enough shards that 16 tasks rarely meet on one lock; each is held only for a map access.
    const SHARDS: usize = 16;

    /// What a key holds.
    enum Slot {
        /// A conditional write has claimed the key and is still "uploading".
        InFlight,
        /// A stored object and its content type.
        Stored(StoredObject, String),
    }

    type Shard = Mutex<BTreeMap<String, Slot>>;

    pub struct MemoryStore {
        shards: [Shard; SHARDS],
        /// Writes whose key ends with one of these suffixes fail, as if S3 timed out.
        failing_suffixes: Mutex<Vec<String>>,
        puts: AtomicUsize,
    }

    impl Default for MemoryStore {
        fn default() -> MemoryStore {
            MemoryStore {
                shards: std::array::from_fn(|_| Mutex::new(BTreeMap::new())),
                failing_suffixes: Mutex::default(),
                puts: AtomicUsize::new(0),
            }
        }
    }

    /// A key claimed by a write in flight; released if the write is dropped before it completes
    /// (a deadline, a cancelled task), as S3 keeps nothing of an upload that never finished.
    struct Reservation<'a> {
        store: &'a MemoryStore,
        key: &'a str,
        done: bool,
    }

    impl Drop for Reservation<'_> {
        fn drop(&mut self) {
            if !self.done {
                let mut shard = self.store.shard(self.key).lock().unwrap();
                if matches!(shard.get(self.key), Some(Slot::InFlight)) {
                    shard.remove(self.key);
                }
            }
        }
    }

    impl MemoryStore {
        fn shard(&self, key: &str) -> &Shard {
            let mut hasher = DefaultHasher::new();
            key.hash(&mut hasher);
            &self.shards[hasher.finish() as usize % SHARDS]
        }

        fn with_stored<T>(&self, key: &str, read: impl FnOnce(&StoredObject, &str) -> T) -> Option<T> {
            match self.shard(key).lock().unwrap().get(key) {
                Some(Slot::Stored(object, kind)) => Some(read(object, kind)),
                _ => None,
            }
        }

        pub fn fail_puts_ending_with(&self, suffix: &str) {
            self.failing_suffixes.lock().unwrap().push(suffix.to_owned());
        }

        pub fn heal(&self) {
            self.failing_suffixes.lock().unwrap().clear();
        }

        /// Places an object as another writer would have.
        pub fn insert(&self, key: &ObjectKey, bytes: &[u8], metadata: Metadata) {
            let object = StoredObject { bytes: bytes.to_vec(), metadata };
            let slot = Slot::Stored(object, "application/octet-stream".to_owned());
            self.shard(&key.0).lock().unwrap().insert(key.0.clone(), slot);
        }

        /// The keys of stored objects (not of writes still in flight), sorted.
        pub fn keys(&self) -> Vec<String> {
            let mut keys = Vec::new();
            for shard in &self.shards {
                let shard = shard.lock().unwrap();
                keys.extend(
                    shard.iter().filter(|(_, slot)| matches!(slot, Slot::Stored(..))).map(|(k, _)| k.clone()),
                );
            }
            keys.sort();
            keys
        }

        pub fn object(&self, key: &str) -> Option<StoredObject> {
            self.with_stored(key, |object, _| object.clone())
        }

        pub fn content_type(&self, key: &str) -> Option<String> {
            self.with_stored(key, |_, kind| kind.to_owned())
        }

        /// Conditional writes tried so far, refused ones included.
        pub fn put_count(&self) -> usize {
            self.puts.load(Ordering::SeqCst)
        }

        /// Whether a write to `key` has claimed it and not finished yet.
        fn in_flight(&self, key: &str) -> bool {
            matches!(self.shard(key).lock().unwrap().get(key), Some(Slot::InFlight))
        }
    }

    impl Store for MemoryStore {
        async fn put_if_absent(
            &self,
            key: &ObjectKey,
            bytes: &[u8],
            content_type: &str,
            metadata: &Metadata,
        ) -> Result<PutOutcome, StoreError> {
            self.puts.fetch_add(1, Ordering::SeqCst);
            let failing = self.failing_suffixes.lock().unwrap().iter().any(|suffix| key.0.ends_with(suffix));
            // The request on its way: another task may get to the key first.
            tokio::task::yield_now().await;
            if failing {
                return Err(StoreError(format!("simulated timeout writing `{key}`")));
            }
            // The existence check and the claim are one step, as on S3: of two writes racing on a
            // key, exactly one claims it.
            let mut reservation = {
                let mut shard = self.shard(&key.0).lock().unwrap();
                if shard.contains_key(&key.0) {
                    return Ok(PutOutcome::AlreadyExists);
                }
                shard.insert(key.0.clone(), Slot::InFlight);
                Reservation { store: self, key: &key.0, done: false }
            };
            // The body uploading: the key is claimed but holds nothing readable yet.
            tokio::task::yield_now().await;
            let object = StoredObject { bytes: bytes.to_vec(), metadata: metadata.clone() };
            self.shard(&key.0)
                .lock()
                .unwrap()
                .insert(key.0.clone(), Slot::Stored(object, content_type.to_owned()));
            reservation.done = true;
            Ok(PutOutcome::Created)
        }

        async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
            tokio::task::yield_now().await;
            Ok(self.object(&key.0))
        }
    }

    mod tests {
        use std::pin::pin;
        use std::sync::Arc;
        use std::task::{Context, Poll, Waker};

        use super::*;

        const NONE: Metadata = Metadata::new();

        fn key(n: usize) -> ObjectKey {
            ObjectKey(format!("demandes/RACE{n:05}/photo.jpg"))
        }

        // 100 pairs of conditional writes to one key each, released together on several threads:
        // each pair ends with exactly one `Created`, and the stored bytes are the winner's.
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn racing_conditional_writes_create_once() {
            const PAIRS: usize = 100;
            let store = Arc::new(MemoryStore::default());
            let start = Arc::new(tokio::sync::Barrier::new(2 * PAIRS));
            let mut tasks = Vec::new();
            for n in 0..PAIRS {
                for writer in ["a", "b"] {
                    let (store, start) = (Arc::clone(&store), Arc::clone(&start));
                    tasks.push(tokio::spawn(async move {
                        start.wait().await;
                        let body = format!("{n}-{writer}");
                        let outcome =
                            store.put_if_absent(&key(n), body.as_bytes(), "image/jpeg", &NONE).await;
                        (n, body, outcome.unwrap())
                    }));
                }
            }
            let mut created: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            let mut refused = 0;
            for task in tasks {
                match task.await.unwrap() {
                    (n, body, PutOutcome::Created) => created.entry(n).or_default().push(body),
                    (_, _, PutOutcome::AlreadyExists) => refused += 1,
                }
            }
            assert_eq!(refused, PAIRS, "one write of each pair is refused");
            for n in 0..PAIRS {
                let winners = &created[&n];
                assert_eq!(winners.len(), 1, "pair {n}: {winners:?}");
                assert_eq!(store.object(key(n).as_str()).unwrap().bytes, winners[0].as_bytes());
            }
            assert_eq!(store.keys().len(), PAIRS);
            assert_eq!(store.put_count(), 2 * PAIRS);
        }

        // While a write is in flight its key refuses another write and reads as absent, as on S3;
        // a write dropped before it completes leaves nothing behind.
        #[tokio::test]
        async fn a_write_in_flight_claims_its_key() {
            let store = MemoryStore::default();
            let mut context = Context::from_waker(Waker::noop());
            let (one, two, none) = (key(1), key(2), Metadata::new());
            let mut first = pin!(store.put_if_absent(&one, b"first", "image/jpeg", &none));
            while !store.in_flight(key(1).as_str()) {
                assert!(first.as_mut().poll(&mut context).is_pending(), "claimed before completing");
            }
            assert_eq!(store.get(&key(1)).await.unwrap(), None);
            let second = store.put_if_absent(&key(1), b"second", "image/jpeg", &Metadata::new()).await;
            assert_eq!(second.unwrap(), PutOutcome::AlreadyExists);
            assert!(store.keys().is_empty(), "nothing readable yet");
            let finished = loop {
                if let Poll::Ready(outcome) = first.as_mut().poll(&mut context) {
                    break outcome;
                }
            };
            assert_eq!(finished.unwrap(), PutOutcome::Created);
            assert_eq!(store.object(key(1).as_str()).unwrap().bytes, b"first");

            {
                let mut dropped = pin!(store.put_if_absent(&two, b"cut", "image/jpeg", &none));
                while !store.in_flight(two.as_str()) {
                    assert!(dropped.as_mut().poll(&mut context).is_pending());
                }
            }
            assert!(!store.in_flight(key(2).as_str()));
            assert_eq!(store.keys(), [key(1).as_str()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys are made of the compact dossier number and a fixed file name, nothing else.
    #[test]
    fn keys_come_from_the_dossier_only() {
        let dossier = Dossier::from_seed(&[3; 32]);
        let compact = dossier.compact().to_owned();
        assert_eq!(ObjectKey::photo(&dossier).as_str(), format!("demandes/{compact}/photo.jpg"));
        assert_eq!(ObjectKey::record(&dossier).to_string(), format!("demandes/{compact}/demande.json"));
    }

    // Every key the layout writes parses back to its dossier and kind; anything else does not.
    #[test]
    fn keys_parse_back() {
        let dossier = Dossier::from_seed(&[3; 32]);
        let written = [
            (ObjectKey::photo(&dossier), Kind::Photo),
            (ObjectKey::record(&dossier), Kind::Record),
            (ObjectKey::mailing(&dossier, 3), Kind::Mail(3)),
            (ObjectKey::activation(&dossier), Kind::Activation),
            (ObjectKey::failed_signin(&dossier, 5), Kind::FailedSignin(5)),
            (ObjectKey::setting(&dossier, 1), Kind::Setting(1)),
            (ObjectKey::status(&dossier, 12), Kind::Status(12)),
            (ObjectKey::duplicate(&dossier), Kind::Duplicate),
            (ObjectKey::duplicate_photo(&dossier, b"jpeg"), Kind::DuplicatePhoto),
        ];
        for (key, kind) in written {
            assert_eq!(ObjectKey::parse(key.as_str()), Some((dossier.clone(), kind, key.clone())), "{key}");
        }
        let compact = dossier.compact();
        for raw in [
            format!("demandes/{compact}"),
            format!("demandes/{compact}/"),
            format!("demandes/{compact}/autre.json"),
            format!("demandes/{compact}/courriel-0.json"),
            format!("demandes/{compact}/courriel-01.json"),
            format!("demandes/{compact}/courriel-.json"),
            format!("demandes/{compact}/statut-300.json"),
            format!("demandes/{compact}/duplicata-ABCDEF0123456789.jpg"),
            format!("demandes/{compact}/duplicata-0123.jpg"),
            format!("demandes/{compact}/photo.jpg/x"),
            // A valid number, but not as the layout writes it.
            "demandes/h4r7n2kpq/photo.jpg".to_owned(),
            "demandes/H4R-7N2-KPQ/photo.jpg".to_owned(),
            format!("autre/{compact}/photo.jpg"),
            "demandes/K7M4QX9TX/photo.jpg".to_owned(),
        ] {
            assert_eq!(ObjectKey::parse(&raw), None, "{raw}");
        }
    }
}
