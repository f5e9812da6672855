//! What the function answers: the outcomes the request flow decides (a receipt, fields to fix, a
//! failure), the one place that maps an outcome to an HTTP status ([`Reply::status`], which
//! [`Failure::status`] completes), the French messages a student reads, and the JSON body the
//! page's `fetch` gets. The HTML pages are [`crate::http::pages`]'s, which render these types;
//! putting the outcome, its status and its words on the wire is [`crate::http::respond`]'s.

use std::collections::BTreeMap;

use form::{Demande, Dossier};

use crate::account::{Motif, Statut};
use crate::photo::{Hint, Look};
use lambda_http::http::StatusCode;
use serde::Serialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// What the request flow decided.
#[derive(Debug)]
pub enum Reply {
    /// The request is stored (201), or was already (200).
    Receipt(Receipt),
    /// Some fields need fixing (422); nothing was stored.
    Invalid(Vec<FieldError>),
    /// Anything else that stops the request.
    Failure(Failure),
    /// The e-mail was sent again, or could not be (200 either way: the request is stored).
    Mail(MailReport),
    /// The activation page of the e-mail's link (200).
    Activation(ActivationForm),
    /// The account is activated, now or before (200).
    Activated(Activated),
    /// The personal space's sign-in page; `failed` after a refused try (200, or 401 then).
    SignIn { failed: bool },
    /// « Mes Cartes », the signed-in personal space (200).
    Space(Space),
    /// The duplicate request's form (200), or again with what to fix (422).
    DuplicateForm(DuplicateForm),
    /// The duplicate request is stored (201), or was before (200).
    Duplicate(DuplicateDone),
    /// What the photo pipeline sees in the preview's copy (200, JSON only).
    Preview(Look),
}

/// The duplicate request's form: the token it posts back, and, sent again after a refusal, the
/// reason chosen and what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateForm {
    pub dossier: Dossier,
    pub token: String,
    pub motif: Option<Motif>,
    /// What to fix: no reason chosen, or the photo's problem.
    pub error: Option<String>,
}

/// A duplicate request as the pages show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateSummary {
    pub motif: Motif,
    pub requested_at: OffsetDateTime,
    /// Whether a new photo came with it.
    pub new_photo: bool,
}

/// The confirmation of the duplicate request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateDone {
    pub dossier: Dossier,
    pub duplicate: DuplicateSummary,
    /// True when a duplicate request had been stored before, and nothing changed.
    pub before: bool,
    /// The token of « Mes Cartes », which the confirmation links back to.
    pub space: String,
}

/// « Mes Cartes »: the request's summary and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub dossier: Dossier,
    pub nom: String,
    pub prenom: String,
    pub etablissement: String,
    pub filiere: String,
    pub received_at: OffsetDateTime,
    pub envoi_etablissement: bool,
    /// Whether the account was activated (« Compte activé »; else « Demande reçue »).
    pub activated: bool,
    /// The latest status the school's staff set, which « Mes Cartes » shows instead.
    pub status: Option<Statut>,
    /// The space token that the page's forms and links carry (the setting, the duplicate
    /// request).
    pub token: String,
    /// Whether the setting may be changed here: activated, fewer than `MAX_SETTING_CHANGES`
    /// changes.
    pub setting_open: bool,
    /// The duplicate request, once made.
    pub duplicate: Option<DuplicateSummary>,
    /// True right after the setting was saved.
    pub saved: bool,
}

/// What the receipt and « Renvoyer l’e-mail » say of the e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailReport {
    /// Whether SES took the latest e-mail.
    pub sent: bool,
    /// The address it went to, as stored (the student's own, shown back to them).
    pub email: String,
    /// The token of « Renvoyer l’e-mail », while more e-mails are allowed.
    pub resend: Option<String>,
}

/// The activation page: the setting as the form chose it, and the token « Appliquer » sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivationForm {
    pub dossier: Dossier,
    pub token: String,
    pub envoi_etablissement: bool,
}

/// The confirmation of the activation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activated {
    pub dossier: Dossier,
    /// The setting applied.
    pub envoi_etablissement: bool,
    /// True when the account had been activated before, and nothing changed.
    pub before: bool,
    /// The token of the personal space the confirmation links to.
    pub space: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub dossier: Dossier,
    pub received_at: OffsetDateTime,
    /// True when an earlier send had stored this request already.
    pub replay: bool,
    /// What is stored, for the student to check and print.
    pub summary: Summary,
    /// The e-mail after the request; `None` when the deployment sends none.
    pub mail: Option<MailReport>,
    /// What may be wrong with the stored photo (advice: the request is stored all the same).
    pub hints: Vec<Hint>,
}

/// Hints as the JSON answers carry them: the code and the French text.
fn hints_json(hints: &[Hint]) -> serde_json::Value {
    hints
        .iter()
        .map(|hint| json!({ "code": hint.code(), "message": hint.message_fr(&crate::texts().hint) }))
        .collect()
}

/// The stored values a receipt shows: the validated, normalised ones, which a replay (same
/// submission, same content) shares with the first send. Not the address or the phone: the
/// printable slip does not need them, and fewer personal details travel back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub nom: String,
    pub prenom: String,
    #[serde(serialize_with = "iso_date")]
    pub date_naissance: Date,
    pub email: String,
    pub etablissement: String,
    pub filiere: String,
    pub envoi_etablissement: bool,
}

impl Summary {
    pub fn of(demande: &Demande) -> Summary {
        Summary {
            nom: demande.nom.clone(),
            prenom: demande.prenom.clone(),
            date_naissance: demande.date_naissance,
            email: demande.email.clone(),
            etablissement: demande.etablissement.clone(),
            filiere: demande.filiere.clone(),
            envoi_etablissement: demande.envoi_etablissement,
        }
    }
}

/// `YYYY-MM-DD`, the value of a date input.
fn iso_date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    let text = date.format(format_description!("[year]-[month]-[day]")).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

/// One field to fix: its wire name, its French label and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub label: String,
    pub message: String,
}

/// The ways a request fails other than invalid fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NotFound,
    MethodNotAllowed,
    TooLarge,
    NotMultipart,
    Malformed,
    /// The honeypot was filled. Answered like a malformed form, so a bot learns nothing.
    Refused,
    /// The request came from a page whose origin `ALLOWED_ORIGIN` does not list.
    ForbiddenOrigin,
    /// The same submission is already stored with other content.
    Conflict,
    /// The store did not answer: a retry will complete the request.
    Unavailable,
    Internal,
    /// A link's or a button's token is malformed, forged or expired.
    LinkInvalid,
    /// The e-mail was sent as many times as allowed.
    ResendLimit,
}

impl Failure {
    pub fn status(self) -> StatusCode {
        match self {
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Failure::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::NotMultipart => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Failure::Malformed | Failure::Refused => StatusCode::BAD_REQUEST,
            Failure::ForbiddenOrigin => StatusCode::FORBIDDEN,
            Failure::Conflict => StatusCode::CONFLICT,
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Failure::LinkInvalid => StatusCode::FORBIDDEN,
            Failure::ResendLimit => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    /// The page title, from the contract's `[messages.answer]` (`[messages.account]` for the
    /// links').
    pub fn title_fr(self) -> &'static str {
        let account = &crate::texts().account;
        let texts = &crate::texts().answer;
        match self {
            Failure::LinkInvalid => &account.link_invalid_title,
            Failure::ResendLimit => &account.resend,
            Failure::NotFound => &texts.not_found_title,
            Failure::MethodNotAllowed => &texts.method_not_allowed_title,
            Failure::TooLarge => &texts.too_large_title,
            Failure::NotMultipart | Failure::Malformed | Failure::Refused => &texts.unreadable_title,
            Failure::ForbiddenOrigin => &texts.forbidden_origin_title,
            Failure::Conflict => &texts.conflict_title,
            Failure::Unavailable => &texts.unavailable_title,
            Failure::Internal => &texts.internal_title,
        }
    }

    /// What happened and what to do, for the student, from the contract's `[messages.answer]`
    /// (the page falls back on the same texts when it cannot read an answer).
    pub fn message_fr(self) -> &'static str {
        let account = &crate::texts().account;
        let texts = &crate::texts().answer;
        match self {
            Failure::LinkInvalid => &account.link_invalid,
            Failure::ResendLimit => &account.resend_limit,
            Failure::TooLarge => &texts.too_large,
            Failure::NotFound => &texts.not_found,
            Failure::MethodNotAllowed => &texts.method_not_allowed,
            Failure::NotMultipart | Failure::Malformed | Failure::Refused => &texts.unreadable,
            Failure::ForbiddenOrigin => &texts.forbidden_origin,
            Failure::Conflict => &texts.conflict,
            Failure::Unavailable => &texts.unavailable,
            Failure::Internal => &texts.internal,
        }
    }
}

impl Reply {
    pub fn status(&self) -> StatusCode {
        match self {
            Reply::Receipt(receipt) if receipt.replay => StatusCode::OK,
            Reply::Receipt(_) => StatusCode::CREATED,
            Reply::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Reply::Mail(_) | Reply::Activation(_) | Reply::Activated(_) | Reply::Space(_) => StatusCode::OK,
            Reply::Preview(_) => StatusCode::OK,
            Reply::DuplicateForm(form) if form.error.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
            Reply::DuplicateForm(_) => StatusCode::OK,
            Reply::Duplicate(done) if done.before => StatusCode::OK,
            Reply::Duplicate(_) => StatusCode::CREATED,
            Reply::SignIn { failed: false } => StatusCode::OK,
            Reply::SignIn { failed: true } => StatusCode::UNAUTHORIZED,
            Reply::Failure(failure) => failure.status(),
        }
    }

    /// The JSON body: the receipt, `{"errors": {field: message}}` or `{"error": message}`.
    pub fn json(&self) -> serde_json::Value {
        match self {
            Reply::Receipt(receipt) => json!({
                "dossier": receipt.dossier.to_string(),
                "compact": receipt.dossier.compact(),
                "received_at": receipt.received_at.format(&Rfc3339).unwrap_or_default(),
                "replay": receipt.replay,
                "demande": receipt.summary,
                "courriel": receipt.mail.as_ref().map(MailReport::json),
                "conseils": hints_json(&receipt.hints),
            }),
            Reply::Preview(look) => json!({
                "visage": look.face,
                "cadre": look.frame,
                "conseils": hints_json(&look.hints),
            }),
            Reply::Mail(report) => report.json(),
            Reply::Activation(form) => json!({
                "dossier": form.dossier.to_string(),
                "envoi_etablissement": form.envoi_etablissement,
            }),
            Reply::Activated(activated) => json!({
                "dossier": activated.dossier.to_string(),
                "envoi_etablissement": activated.envoi_etablissement,
                "deja_active": activated.before,
            }),
            Reply::SignIn { failed } => {
                if *failed {
                    json!({ "error": crate::texts().account.signin_failed })
                } else {
                    json!({})
                }
            }
            Reply::Space(space) => json!({
                "dossier": space.dossier.to_string(),
                "nom": space.nom,
                "prenom": space.prenom,
                "etablissement": space.etablissement,
                "filiere": space.filiere,
                "received_at": space.received_at.format(&Rfc3339).unwrap_or_default(),
                "envoi_etablissement": space.envoi_etablissement,
                "statut": match (space.status, space.activated) {
                    (Some(statut), _) => statut.wire(),
                    (None, true) => "compte_active",
                    (None, false) => "demande_recue",
                },
                "duplicata": space.duplicate.as_ref().map(DuplicateSummary::json),
            }),
            Reply::DuplicateForm(form) => match &form.error {
                Some(error) => json!({ "error": error }),
                None => json!({ "dossier": form.dossier.to_string() }),
            },
            Reply::Duplicate(done) => json!({
                "dossier": done.dossier.to_string(),
                "duplicata": done.duplicate.json(),
                "deja_demande": done.before,
            }),
            Reply::Invalid(errors) => {
                let errors: BTreeMap<&str, &str> =
                    errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
                json!({ "errors": errors })
            }
            Reply::Failure(failure) => json!({ "error": failure.message_fr() }),
        }
    }
}

impl DuplicateSummary {
    /// `{"motif": …, "demande_le": RFC 3339, "nouvelle_photo": bool}`.
    fn json(&self) -> serde_json::Value {
        json!({
            "motif": self.motif.wire(),
            "demande_le": self.requested_at.format(&Rfc3339).unwrap_or_default(),
            "nouvelle_photo": self.new_photo,
        })
    }
}

impl MailReport {
    /// `{"envoye": bool, "email": …, "jeton_renvoi": token or null}`.
    fn json(&self) -> serde_json::Value {
        json!({ "envoye": self.sent, "email": self.email, "jeton_renvoi": self.resend })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::receipt;

    // Every outcome maps to its status; the user's mistakes are 4xx, only ours are 5xx.
    #[test]
    fn statuses() {
        let cases = [
            (Reply::Receipt(receipt(false)), 201),
            (Reply::Receipt(receipt(true)), 200),
            (Reply::Invalid(vec![]), 422),
            (Reply::Failure(Failure::NotFound), 404),
            (Reply::Failure(Failure::MethodNotAllowed), 405),
            (Reply::Failure(Failure::TooLarge), 413),
            (Reply::Failure(Failure::NotMultipart), 415),
            (Reply::Failure(Failure::Malformed), 400),
            (Reply::Failure(Failure::Refused), 400),
            (Reply::Failure(Failure::ForbiddenOrigin), 403),
            (Reply::Failure(Failure::Conflict), 409),
            (Reply::Failure(Failure::Unavailable), 503),
            (Reply::Failure(Failure::Internal), 500),
            (Reply::Failure(Failure::LinkInvalid), 403),
            (Reply::Failure(Failure::ResendLimit), 429),
        ];
        for (reply, status) in cases {
            assert_eq!(reply.status().as_u16(), status, "{reply:?}");
        }
    }
}
