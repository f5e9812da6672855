//! What happens to a request after it is stored, kept as objects beside its record, each written
//! once: the e-mails sent about it (`courriel-<n>.json`, at most [`MAX_MAILS`]), the account's
//! activation (`activation.json`), the failed sign-ins to its personal space
//! (`connexion-echec-<n>.json`, at most [`MAX_FAILED_SIGNINS`]), the send-to-school setting's
//! changes (`reglage-<n>.json`, at most [`MAX_SETTING_CHANGES`]), the statuses the school's staff
//! set (`statut-<n>.json`, at most [`MAX_STATUSES`]) and the duplicate request
//! (`duplicata.json`, with its new photo if one came). Written after the send or the click they
//! note, so that nothing claims what did not happen; the record itself is never touched.
//!
//! Rejected: counters and states inside `demande.json` (an overwrite, and a lost update when two
//! tries race); a list call to find the latest e-mail (a permission and a page of keys for what
//! at most [`MAX_MAILS`] reads answer).

use form::{Demande, Dossier};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::{Motif, Statut};
use crate::storage::store::{Metadata, ObjectKey, PutOutcome, Store, StoreError};

pub use form::limits::{MAX_FAILED_SIGNINS, MAX_MAILS, MAX_SETTING_CHANGES, MAX_STATUSES};

/// Why an e-mail was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MailReason {
    /// Right after the request was stored.
    Demande,
    /// The student asked for it again.
    Renvoi,
}

/// One e-mail as `courriel-<n>.json` keeps it: when and why it was tried, and whether SES took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRecord {
    #[serde(with = "time::serde::rfc3339")]
    pub tried_at: OffsetDateTime,
    pub reason: MailReason,
    /// Whether SES accepted the message (not whether it reached the mailbox: SES cannot say).
    pub sent: bool,
}

/// The latest e-mail about a dossier, and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatestMail {
    pub n: u8,
    pub record: MailRecord,
}

/// The latest e-mail noted for `dossier`, `None` before the first. Reads the numbers in turn: a
/// gap cannot happen, since each is written only once the one before it exists.
pub async fn latest_mail<S: Store>(store: &S, dossier: &Dossier) -> Result<Option<LatestMail>, StoreError> {
    let latest = latest_numbered(store, |n| ObjectKey::mailing(dossier, n), MAX_MAILS).await?;
    Ok(latest.map(|(n, record)| LatestMail { n, record }))
}

/// Notes e-mail `n`. `false` when another try noted that number first (two sends raced).
pub async fn note_mail<S: Store>(
    store: &S,
    dossier: &Dossier,
    n: u8,
    record: &MailRecord,
) -> Result<bool, StoreError> {
    write_once(store, &ObjectKey::mailing(dossier, n), record).await
}

/// The highest-numbered of the objects `key(1)`, `key(2)`, … `key(max)`, read in turn until one
/// is missing, with its number; `None` before the first.
async fn latest_numbered<S: Store, T: serde::de::DeserializeOwned>(
    store: &S,
    key: impl Fn(u8) -> ObjectKey,
    max: u8,
) -> Result<Option<(u8, T)>, StoreError> {
    let mut latest = None;
    for n in 1..=max {
        let Some(value) = read_json(store, &key(n)).await? else { break };
        latest = Some((n, value));
    }
    Ok(latest)
}

/// Writes one note once; `false` when another try wrote it first.
async fn write_once<S: Store, T: Serialize>(
    store: &S,
    key: &ObjectKey,
    value: &T,
) -> Result<bool, StoreError> {
    let json = serde_json::to_vec_pretty(value).expect("a note always serialises");
    let outcome = store.put_if_absent(key, &json, "application/json", &Metadata::new()).await?;
    Ok(outcome == PutOutcome::Created)
}

/// The account's activation as `activation.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    #[serde(with = "time::serde::rfc3339")]
    pub activated_at: OffsetDateTime,
    /// « Je souhaite que mon Pass’Région soit envoyé directement dans mon établissement ».
    pub envoi_etablissement: bool,
}

/// The activation of `dossier`, if it was activated.
pub async fn activation<S: Store>(store: &S, dossier: &Dossier) -> Result<Option<Activation>, StoreError> {
    read_json(store, &ObjectKey::activation(dossier)).await
}

/// Activates the account with `activation`, or gives the activation stored first: activating twice
/// (a double click, two tabs) changes nothing.
pub async fn activate<S: Store>(
    store: &S,
    dossier: &Dossier,
    activation: &Activation,
) -> Result<Activation, StoreError> {
    let key = ObjectKey::activation(dossier);
    if write_once(store, &key, activation).await? {
        return Ok(activation.clone());
    }
    read_json(store, &key).await?.ok_or_else(|| StoreError(format!("{key} vanished")))
}

/// A change of the send-to-school setting, as `reglage-<n>.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    pub envoi_etablissement: bool,
}

/// The latest change of the setting and its number, `None` before the first. As for the
/// e-mails, the numbers are read in turn and never leave a gap.
pub async fn latest_setting<S: Store>(
    store: &S,
    dossier: &Dossier,
) -> Result<Option<(u8, Setting)>, StoreError> {
    latest_numbered(store, |n| ObjectKey::setting(dossier, n), MAX_SETTING_CHANGES).await
}

/// A stored request with everything that followed it: what « Mes Cartes » shows and the staff's
/// command lists, read by one function for both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Standing {
    pub request: StoredRequest,
    pub activation: Option<Activation>,
    /// The latest change of the send-to-school setting, and its number.
    pub setting: Option<(u8, Setting)>,
    /// The latest status the staff set, and its number.
    pub status: Option<(u8, StatusNote)>,
    pub duplicate: Option<Duplicate>,
}

impl Standing {
    /// Where the card goes: the latest change's setting, else the activation's, else the form's.
    pub fn send_to_school(&self) -> bool {
        match (&self.setting, &self.activation) {
            (Some((_, setting)), _) => setting.envoi_etablissement,
            (None, Some(activation)) => activation.envoi_etablissement,
            (None, None) => self.request.fields.envoi_etablissement,
        }
    }
}

/// The request of `dossier` and what followed it, `None` when no request has this number.
pub async fn standing<S: Store>(store: &S, dossier: &Dossier) -> Result<Option<Standing>, StoreError> {
    let Some(request) = stored_request(store, dossier).await? else { return Ok(None) };
    Ok(Some(Standing {
        request,
        activation: activation(store, dossier).await?,
        setting: latest_setting(store, dossier).await?,
        status: latest_status(store, dossier).await?,
        duplicate: duplicate(store, dossier).await?,
    }))
}

/// Notes change number `n`; `false` when another try noted that number first.
pub async fn note_setting<S: Store>(
    store: &S,
    dossier: &Dossier,
    n: u8,
    setting: &Setting,
) -> Result<bool, StoreError> {
    write_once(store, &ObjectKey::setting(dossier, n), setting).await
}

/// A status set by the school's staff, as `statut-<n>.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusNote {
    #[serde(with = "time::serde::rfc3339")]
    pub changed_at: OffsetDateTime,
    pub statut: Statut,
}

/// The latest status the staff set and its number, `None` before the first.
pub async fn latest_status<S: Store>(
    store: &S,
    dossier: &Dossier,
) -> Result<Option<(u8, StatusNote)>, StoreError> {
    latest_numbered(store, |n| ObjectKey::status(dossier, n), MAX_STATUSES).await
}

/// Notes status number `n`; `false` when someone else noted that number first (two staff at
/// once): the status stays theirs.
pub async fn note_status<S: Store>(
    store: &S,
    dossier: &Dossier,
    n: u8,
    note: &StatusNote,
) -> Result<bool, StoreError> {
    write_once(store, &ObjectKey::status(dossier, n), note).await
}

/// The duplicate request as `duplicata.json` keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duplicate {
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    pub motif: Motif,
    /// The key of the new photo, `None` when the card keeps the request's.
    pub photo: Option<String>,
}

/// The duplicate request of `dossier`, if one was made.
pub async fn duplicate<S: Store>(store: &S, dossier: &Dossier) -> Result<Option<Duplicate>, StoreError> {
    read_json(store, &ObjectKey::duplicate(dossier)).await
}

/// Stores the duplicate request: its new photo first (`jpeg`, when one came), then the request
/// naming it, each written once. Gives what is stored and whether this call stored it: a request
/// stored before (a double click, two tabs) is kept, and this one's photo, if any, is left for
/// the staff's orphans.
pub async fn request_duplicate<S: Store>(
    store: &S,
    dossier: &Dossier,
    requested_at: OffsetDateTime,
    motif: Motif,
    jpeg: Option<&[u8]>,
) -> Result<(Duplicate, bool), StoreError> {
    let photo = match jpeg {
        Some(jpeg) => {
            let key = ObjectKey::duplicate_photo(dossier, jpeg);
            // Already there means the same bytes, from a try cut before its request: adopted.
            store.put_if_absent(&key, jpeg, "image/jpeg", &Metadata::new()).await?;
            Some(key.to_string())
        }
        None => None,
    };
    let duplicate = Duplicate { requested_at, motif, photo };
    let key = ObjectKey::duplicate(dossier);
    if write_once(store, &key, &duplicate).await? {
        return Ok((duplicate, true));
    }
    let stored = read_json(store, &key).await?.ok_or_else(|| StoreError(format!("{key} vanished")))?;
    Ok((stored, false))
}

/// The JSON object under `key`, `None` when there is none.
async fn read_json<S: Store, T: serde::de::DeserializeOwned>(
    store: &S,
    key: &ObjectKey,
) -> Result<Option<T>, StoreError> {
    let Some(object) = store.get(key).await? else { return Ok(None) };
    serde_json::from_slice(&object.bytes)
        .map(Some)
        .map_err(|error| StoreError(format!("{key} unreadable: {error}")))
}

/// The part of `demande.json` that later steps read: the validated fields.
#[derive(Deserialize)]
struct StoredDemande {
    demande: StoredFields,
    #[serde(with = "time::serde::rfc3339")]
    received_at: OffsetDateTime,
}

/// The fields the e-mail, the activation page and the personal space need.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StoredFields {
    pub nom: String,
    pub prenom: String,
    /// `YYYY-MM-DD`, as the record writes it.
    pub date_naissance: String,
    pub email: String,
    pub etablissement: String,
    pub filiere: String,
    pub envoi_etablissement: bool,
}

impl StoredFields {
    pub fn of(demande: &Demande) -> StoredFields {
        let date = demande.date_naissance;
        StoredFields {
            nom: demande.nom.clone(),
            prenom: demande.prenom.clone(),
            date_naissance: format!("{:04}-{:02}-{:02}", date.year(), u8::from(date.month()), date.day()),
            email: demande.email.clone(),
            etablissement: demande.etablissement.clone(),
            filiere: demande.filiere.clone(),
            envoi_etablissement: demande.envoi_etablissement,
        }
    }
}

/// A stored request as the later steps read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    pub fields: StoredFields,
    pub received_at: OffsetDateTime,
}

/// The stored request of `dossier`, `None` when no request has this number.
pub async fn stored_request<S: Store>(
    store: &S,
    dossier: &Dossier,
) -> Result<Option<StoredRequest>, StoreError> {
    let key = ObjectKey::record(dossier);
    let Some(object) = store.get(&key).await? else { return Ok(None) };
    serde_json::from_slice::<StoredDemande>(&object.bytes)
        .map(|record| Some(StoredRequest { fields: record.demande, received_at: record.received_at }))
        .map_err(|error| StoreError(format!("{key} unreadable: {error}")))
}

/// The stored fields of `dossier`'s request, `None` when no request has this number.
pub async fn stored_fields<S: Store>(
    store: &S,
    dossier: &Dossier,
) -> Result<Option<StoredFields>, StoreError> {
    Ok(stored_request(store, dossier).await?.map(|request| request.fields))
}

/// How many failed sign-ins `dossier` has had, up to [`MAX_FAILED_SIGNINS`].
pub async fn failed_signins<S: Store>(store: &S, dossier: &Dossier) -> Result<u8, StoreError> {
    let mut count = 0;
    while count < MAX_FAILED_SIGNINS
        && store.get(&ObjectKey::failed_signin(dossier, count + 1)).await?.is_some()
    {
        count += 1;
    }
    Ok(count)
}

/// Notes failed sign-in number `n` of `dossier` (written once; of two racing tries, one is noted).
pub async fn note_failed_signin<S: Store>(
    store: &S,
    dossier: &Dossier,
    n: u8,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    #[derive(Serialize)]
    struct Note {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    }
    let json = serde_json::to_vec(&Note { at }).expect("a note always serialises");
    store
        .put_if_absent(&ObjectKey::failed_signin(dossier, n), &json, "application/json", &Metadata::new())
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::memory::MemoryStore;
    use time::macros::datetime;

    const AT: OffsetDateTime = datetime!(2026-09-01 08:30:00 UTC);

    fn mail(sent: bool) -> MailRecord {
        MailRecord { tried_at: AT, reason: MailReason::Demande, sent }
    }

    // E-mails are noted in turn, once each; the latest is the last noted.
    #[tokio::test]
    async fn mails_are_noted_once_each() {
        let store = MemoryStore::default();
        let dossier = Dossier::from_seed(&[1; 32]);
        assert_eq!(latest_mail(&store, &dossier).await.unwrap(), None);
        assert!(note_mail(&store, &dossier, 1, &mail(false)).await.unwrap());
        assert!(!note_mail(&store, &dossier, 1, &mail(true)).await.unwrap(), "a number is noted once");
        let resent = MailRecord { reason: MailReason::Renvoi, ..mail(true) };
        assert!(note_mail(&store, &dossier, 2, &resent).await.unwrap());
        assert_eq!(latest_mail(&store, &dossier).await.unwrap(), Some(LatestMail { n: 2, record: resent }));
        let json = store.get(&ObjectKey::mailing(&dossier, 2)).await.unwrap().unwrap();
        let value: serde_json::Value = serde_json::from_slice(&json.bytes).unwrap();
        assert_eq!(
            value,
            serde_json::json!({ "tried_at": "2026-09-01T08:30:00Z", "reason": "renvoi", "sent": true })
        );
    }

    // The first activation stays: a second one gets it back and changes nothing.
    #[tokio::test]
    async fn activation_happens_once() {
        let store = MemoryStore::default();
        let dossier = Dossier::from_seed(&[2; 32]);
        assert_eq!(activation(&store, &dossier).await.unwrap(), None);
        let first = Activation { activated_at: AT, envoi_etablissement: true };
        assert_eq!(activate(&store, &dossier, &first).await.unwrap(), first);
        let second =
            Activation { activated_at: datetime!(2026-09-02 10:00:00 UTC), envoi_etablissement: false };
        assert_eq!(activate(&store, &dossier, &second).await.unwrap(), first);
        assert_eq!(activation(&store, &dossier).await.unwrap(), Some(first));
    }
}
