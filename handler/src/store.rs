//! Where requests are kept: a bucket of objects that are written once and never overwritten. The
//! trait is what the request flow needs from S3 and nothing more, so that the flow's unit tests run
//! against an in-memory fake while the integration tests run against a real S3-compatible server.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use form::Dossier;

/// An object key, built only from a dossier number: nothing a student typed reaches a key.
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

    pub fn as_str(&self) -> &str {
        &self.0
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

/// An in-memory store for unit tests, with failures that can be scheduled.
#[cfg(test)]
pub mod memory {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    pub struct MemoryStore {
        objects: Mutex<BTreeMap<String, (StoredObject, String)>>,
        /// Writes whose key ends with one of these suffixes fail, as if S3 timed out.
        failing_suffixes: Mutex<Vec<String>>,
        puts: Mutex<usize>,
    }

    impl MemoryStore {
        pub fn fail_puts_ending_with(&self, suffix: &str) {
            self.failing_suffixes.lock().unwrap().push(suffix.to_owned());
        }

        pub fn heal(&self) {
            self.failing_suffixes.lock().unwrap().clear();
        }

        /// Places an object as another writer would have.
        pub fn insert(&self, key: &ObjectKey, bytes: &[u8], metadata: Metadata) {
            let object = StoredObject { bytes: bytes.to_vec(), metadata };
            let entry = (object, "application/octet-stream".to_owned());
            self.objects.lock().unwrap().insert(key.0.clone(), entry);
        }

        pub fn keys(&self) -> Vec<String> {
            self.objects.lock().unwrap().keys().cloned().collect()
        }

        pub fn object(&self, key: &str) -> Option<StoredObject> {
            self.objects.lock().unwrap().get(key).map(|(object, _)| object.clone())
        }

        pub fn content_type(&self, key: &str) -> Option<String> {
            self.objects.lock().unwrap().get(key).map(|(_, kind)| kind.clone())
        }

        /// Conditional writes tried so far, refused ones included.
        pub fn put_count(&self) -> usize {
            *self.puts.lock().unwrap()
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
            *self.puts.lock().unwrap() += 1;
            let failing = self.failing_suffixes.lock().unwrap();
            if failing.iter().any(|suffix| key.0.ends_with(suffix.as_str())) {
                return Err(StoreError(format!("simulated timeout writing `{key}`")));
            }
            let mut objects = self.objects.lock().unwrap();
            if objects.contains_key(&key.0) {
                return Ok(PutOutcome::AlreadyExists);
            }
            let object = StoredObject { bytes: bytes.to_vec(), metadata: metadata.clone() };
            objects.insert(key.0.clone(), (object, content_type.to_owned()));
            Ok(PutOutcome::Created)
        }

        async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
            Ok(self.object(&key.0))
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
}
