//! The bucket as the staff read it: its listing grouped by dossier ([`Folder`]), and each request
//! read into an [`Entry`] with what followed it (activation, setting, statuses, duplicate).
//!
//! The listing is the only source of keys: a key comes back through [`ObjectKey::parse`] or is
//! reported as foreign and never acted on.

use std::collections::BTreeMap;

use form::Dossier;
use handler::account::Statut;
use handler::storage::account::{self, Duplicate, StatusNote, StoredRequest};
use handler::storage::s3::{Listed, S3Store};
use handler::storage::store::{Kind, ObjectKey, StoreError};
use time::OffsetDateTime;

/// One object of a dossier's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: Kind,
    pub key: ObjectKey,
    pub size: u64,
    pub last_modified: Option<OffsetDateTime>,
}

/// Everything stored under one dossier's number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    pub dossier: Dossier,
    pub objects: Vec<Object>,
}

impl Folder {
    /// Whether the folder holds an object of `kind`.
    pub fn has(&self, kind: Kind) -> bool {
        self.objects.iter().any(|object| object.kind == kind)
    }

    /// The latest time any of its objects was written.
    pub fn last_modified(&self) -> Option<OffsetDateTime> {
        self.objects.iter().filter_map(|object| object.last_modified).max()
    }
}

/// The bucket's listing, by dossier (in the order of their numbers), and the keys that are not
/// the layout's.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Listing {
    pub folders: Vec<Folder>,
    pub foreign: Vec<String>,
}

impl Listing {
    /// Groups a listing by dossier.
    pub fn of(listed: Vec<Listed>) -> Listing {
        let mut folders: BTreeMap<String, Folder> = BTreeMap::new();
        let mut foreign = Vec::new();
        for item in listed {
            match item.key {
                Ok((dossier, kind, key)) => {
                    let object = Object { kind, key, size: item.size, last_modified: item.last_modified };
                    folders
                        .entry(dossier.compact().to_owned())
                        .or_insert_with(|| Folder { dossier, objects: Vec::new() })
                        .objects
                        .push(object);
                }
                Err(raw) => foreign.push(raw),
            }
        }
        Listing { folders: folders.into_values().collect(), foreign }
    }

    /// Lists the bucket.
    pub async fn read(store: &S3Store) -> Result<Listing, StoreError> {
        Ok(Listing::of(store.list().await?))
    }

    /// The folder of `dossier`, if anything is stored under its number.
    pub fn folder(&self, dossier: &Dossier) -> Option<&Folder> {
        self.folders.iter().find(|folder| folder.dossier == *dossier)
    }
}

/// A request as the staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub dossier: Dossier,
    pub request: StoredRequest,
    /// When « Appliquer » was pressed, if it was.
    pub activated_at: Option<OffsetDateTime>,
    /// Where the card goes, as it stands (the latest change, else the activation, else the form).
    pub envoi_etablissement: bool,
    /// The latest status the staff set, and its number.
    pub status: Option<(u8, StatusNote)>,
    pub duplicate: Option<Duplicate>,
    /// Whether `photo.jpg` is there (a record without it is a fault to report).
    pub photo: bool,
}

impl Entry {
    /// Reads the request of `folder`; `None` when it has no record (a try that stopped after
    /// its photo: an orphan).
    pub async fn read(store: &S3Store, folder: &Folder) -> Result<Option<Entry>, StoreError> {
        if !folder.has(Kind::Record) {
            return Ok(None);
        }
        let Some(standing) = account::standing(store, &folder.dossier).await? else { return Ok(None) };
        Ok(Some(Entry {
            dossier: folder.dossier.clone(),
            envoi_etablissement: standing.send_to_school(),
            activated_at: standing.activation.map(|activation| activation.activated_at),
            status: standing.status,
            duplicate: standing.duplicate,
            photo: folder.has(Kind::Photo),
            request: standing.request,
        }))
    }

    /// What is missing for the school: the account not activated, the photo absent.
    pub fn problems(&self) -> Vec<&'static str> {
        let mut problems = Vec::new();
        if self.activated_at.is_none() {
            problems.push("compte non activé");
        }
        if !self.photo {
            problems.push("photo absente");
        }
        problems
    }

    /// The status in words: the staff's, else « Compte activé » or « Demande reçue ».
    pub fn status_fr(&self) -> &'static str {
        let texts = &handler::texts().account;
        match (&self.status, self.activated_at) {
            (Some((_, note)), _) => note.statut.label_fr(),
            (None, Some(_)) => &texts.status_activated,
            (None, None) => &texts.status_received,
        }
    }

    /// The staff's status value, if any (`verifie`, …).
    pub fn statut(&self) -> Option<Statut> {
        self.status.as_ref().map(|(_, note)| note.statut)
    }
}

/// Reads every request of `listing`, [`crate::CONCURRENCY`] at a time, calling `progress` after
/// each; orphans (folders without a record) are left out. Fails on the first dossier that cannot
/// be read, naming it.
pub async fn entries(store: &S3Store, listing: &Listing, progress: impl Fn()) -> anyhow::Result<Vec<Entry>> {
    use futures_util::StreamExt;
    let mut read = futures_util::stream::iter(listing.folders.iter())
        .map(|folder| async move {
            Entry::read(store, folder).await.map_err(|error| (folder.dossier.clone(), error))
        })
        .buffered(crate::CONCURRENCY);
    let mut entries = Vec::new();
    while let Some(result) = read.next().await {
        progress();
        match result {
            Ok(Some(entry)) => entries.push(entry),
            Ok(None) => {}
            Err((dossier, error)) => {
                return Err(anyhow::Error::new(error).context(format!("lecture du dossier {dossier}")));
            }
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    // A listing groups by dossier in number order and keeps foreign keys apart.
    #[test]
    fn listing_groups_by_dossier() {
        let a = Dossier::from_seed(&[1; 32]);
        let b = Dossier::from_seed(&[2; 32]);
        let listed = |raw: &str| Listed {
            key: ObjectKey::parse(raw).ok_or_else(|| raw.to_owned()),
            size: 1,
            last_modified: None,
        };
        let keys = [
            ObjectKey::record(&b).to_string(),
            ObjectKey::photo(&a).to_string(),
            ObjectKey::photo(&b).to_string(),
            "demandes/notes.txt".to_owned(),
        ];
        let listing = Listing::of(keys.iter().map(|key| listed(key)).collect());
        assert_eq!(listing.foreign, ["demandes/notes.txt"]);
        let mut expected = [a.compact().to_owned(), b.compact().to_owned()];
        expected.sort();
        let got: Vec<&str> = listing.folders.iter().map(|folder| folder.dossier.compact()).collect();
        assert_eq!(got, expected);
        let folder_b = listing.folder(&b).unwrap();
        assert!(folder_b.has(Kind::Record) && folder_b.has(Kind::Photo));
        assert!(!listing.folder(&a).unwrap().has(Kind::Record), "a's photo alone: an orphan");
    }
}
