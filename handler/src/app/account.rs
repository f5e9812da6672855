//! What follows a stored request: the e-mail with the activation link (sent once the record is
//! committed, and again on « Renvoyer l’e-mail »), and the activation page it opens. Each acts on
//! one dossier through a token ([`crate::account::token`]): the e-mail's link carries an
//! activation token, the receipt a resend token, and neither is the bare number.
//!
//! The personal space is signed into with the dossier number and the date of birth, or opened
//! from the activation's confirmation; « Mes Cartes » then shows the request as stored and its
//! status. An unknown number and a wrong date get the same answer after the same time
//! ([`SIGNIN_TIME`]), and a dossier takes [`MAX_FAILED_SIGNINS`] failed tries at most.
//! From « Mes Cartes », the send-to-school setting may be changed once the account is activated,
//! and one duplicate request made per dossier: its reason and, optionally, a new photo made by the
//! request's own pipeline.
//!
//! Opening the link changes nothing (mail scanners open links): the page only shows the setting;
//! « Appliquer », a POST, activates. A failed send loses nothing: the request is stored before,
//! the receipt says the e-mail did not leave and offers to send it again, up to
//! [`MAX_MAILS`] e-mails in all.

use std::time::{Duration, Instant};

use form::{Demande, Dossier};
use lambda_http::{Request, RequestExt};
use time::OffsetDateTime;

use super::{ACCOUNT_DEADLINE, App, PHOTO_FIELD, Route, STORE_DEADLINE, photo_step, unreadable};
use crate::account::Motif;
use crate::account::token::Purpose;
use crate::http::log::Trace;
use crate::http::multipart;
use crate::http::response::{
    Activated, ActivationForm, DuplicateDone, DuplicateForm, DuplicateSummary, Failure, MailReport, Reply,
    Space,
};
use crate::mail::{self, Mailer};
use crate::storage::account::{
    self, MAX_FAILED_SIGNINS, MAX_MAILS, MAX_SETTING_CHANGES, MailReason, MailRecord, StoredFields,
};
use crate::storage::store::{Store, StoreError};

/// The form field that carries a token in a POST.
const TOKEN_FIELD: &str = "jeton";
/// The activation form's checkbox.
const SEND_TO_SCHOOL_FIELD: &str = "envoi_etablissement";
/// The sign-in's fields.
const DOSSIER_FIELD: &str = "dossier";
const BIRTH_FIELD: &str = "date_naissance";
/// The duplicate request's reason.
const MOTIF_FIELD: &str = "motif";
/// Every sign-in is answered this long after it arrived, whatever it found: the time tells
/// nothing of whether the number exists. Above what its reads and its note take (a few S3
/// operations, tens of milliseconds each), below what a student notices.
pub(super) const SIGNIN_TIME: Duration = Duration::from_millis(1500);

impl<S: Store, M: Mailer> App<S, M> {
    /// The e-mail after a committed request: sent now if none was (a replay whose first try
    /// stopped before the e-mail sends it), else the state of the latest. `None` when the
    /// deployment sends none. Bounded by [`ACCOUNT_DEADLINE`]: past it, or if SES refuses, the
    /// receipt says the e-mail did not leave.
    pub(super) async fn mail_after_commit(
        &self,
        dossier: &Dossier,
        demande: &Demande,
        now: OffsetDateTime,
        trace: &mut Trace,
    ) -> Option<MailReport> {
        self.outbox.as_ref()?;
        let fields = StoredFields::of(demande);
        let started = Instant::now();
        let outcome = tokio::time::timeout(ACCOUNT_DEADLINE, async {
            match account::latest_mail(&self.store, dossier).await? {
                Some(latest) => Ok((latest.n, latest.record.sent, None)),
                None => {
                    let (sent, error) =
                        self.send_and_note(dossier, &fields, 1, MailReason::Demande, now).await?;
                    Ok::<_, StoreError>((1, sent, error))
                }
            }
        })
        .await;
        trace.mail_time = Some(started.elapsed());
        let (n, sent) = match outcome {
            Ok(Ok((n, sent, error))) => {
                trace.mail = Some(if sent { "sent" } else { "failed" });
                if let Some(error) = error {
                    trace.error = Some(error);
                }
                (n, sent)
            }
            // The request is stored: the student gets the receipt, with the e-mail to send again.
            Ok(Err(error)) => {
                trace.mail = Some("failed");
                trace.error = Some(error.to_string());
                (1, false)
            }
            Err(_) => {
                trace.mail = Some("failed");
                trace.error =
                    Some(format!("the e-mail did not finish within {} s", ACCOUNT_DEADLINE.as_secs()));
                (1, false)
            }
        };
        Some(self.report(dossier, &fields, n, sent, now))
    }

    /// Sends e-mail number `n` and notes it: whether SES took it, and why not.
    async fn send_and_note(
        &self,
        dossier: &Dossier,
        fields: &StoredFields,
        n: u8,
        reason: MailReason,
        now: OffsetDateTime,
    ) -> Result<(bool, Option<String>), StoreError> {
        let Some(outbox) = &self.outbox else { return Ok((false, None)) };
        let token = self.tokens.issue(Purpose::Activation, dossier, now);
        let link = format!("{}/{}?{TOKEN_FIELD}={token}", outbox.function_url, Route::Activation.segment());
        let message = mail::compose(&mail::Activation {
            to: &fields.email,
            prenom: &fields.prenom,
            dossier,
            etablissement: &fields.etablissement,
            link: &link,
            expires: now + Purpose::Activation.lifetime(),
        });
        let sent = outbox.mailer.send(&message).await;
        let record = MailRecord { tried_at: now, reason, sent: sent.is_ok() };
        // Noted after the send: a note never claims an e-mail that was not tried. If another try
        // noted this number meanwhile, both were sent; the count still holds within one.
        account::note_mail(&self.store, dossier, n, &record).await?;
        Ok((sent.is_ok(), sent.err().map(|error| error.to_string())))
    }

    /// What the receipt says after e-mail `n`: sent or not, and the resend token while fewer than
    /// [`MAX_MAILS`] were tried.
    fn report(
        &self,
        dossier: &Dossier,
        fields: &StoredFields,
        n: u8,
        sent: bool,
        now: OffsetDateTime,
    ) -> MailReport {
        MailReport {
            sent,
            email: fields.email.clone(),
            resend: (n < MAX_MAILS).then(|| self.tokens.issue(Purpose::Resend, dossier, now)),
        }
    }

    /// « Renvoyer l’e-mail »: the next e-mail, to the stored address, while fewer than
    /// [`MAX_MAILS`] were tried.
    pub(super) async fn resend(&self, request: Request, now: OffsetDateTime) -> (Reply, Trace) {
        let mut trace = Trace::default();
        let (dossier, _) = match self.token_form(request, Purpose::Resend, now, &mut trace).await {
            Ok(form) => form,
            Err(reply) => return (reply, trace),
        };
        if self.outbox.is_none() {
            return (Reply::Failure(Failure::NotFound), trace.failed("no sender configured"));
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(ACCOUNT_DEADLINE, async {
            let Some(fields) = account::stored_fields(&self.store, &dossier).await? else {
                return Ok(None);
            };
            let next = account::latest_mail(&self.store, &dossier).await?.map_or(1, |latest| latest.n + 1);
            if next > MAX_MAILS {
                return Ok(Some((fields, next, None)));
            }
            let sent = self.send_and_note(&dossier, &fields, next, MailReason::Renvoi, now).await?;
            Ok::<_, StoreError>(Some((fields, next, Some(sent))))
        })
        .await;
        trace.mail_time = Some(started.elapsed());
        match outcome {
            Ok(Ok(Some((fields, n, Some((sent, error)))))) => {
                trace.mail = Some(if sent { "sent" } else { "failed" });
                trace.error = error;
                (Reply::Mail(self.report(&dossier, &fields, n, sent, now)), trace)
            }
            Ok(Ok(Some((_, _, None)))) => {
                trace.mail = Some("limit");
                (Reply::Failure(Failure::ResendLimit), trace)
            }
            // A valid token for a dossier without a record: erased since.
            Ok(Ok(None)) => {
                (Reply::Failure(Failure::LinkInvalid), trace.failed("no record for this dossier"))
            }
            Ok(Err(error)) => (Reply::Failure(Failure::Unavailable), trace.failed(error)),
            Err(_) => {
                (Reply::Failure(Failure::Unavailable), trace.failed("the resend did not finish in time"))
            }
        }
    }

    /// The e-mail's link: the activation page, with the setting as stored (the activation's if
    /// done, else the form's). Changes nothing.
    pub(super) async fn activation_page(&self, request: &Request, now: OffsetDateTime) -> (Reply, Trace) {
        let mut trace = Trace::default();
        let token = query_token(request).unwrap_or_default();
        let Some(dossier) = self.verified(Purpose::Activation, &token, now, &mut trace) else {
            return (Reply::Failure(Failure::LinkInvalid), trace);
        };
        let read = async {
            let Some(fields) = account::stored_fields(&self.store, &dossier).await? else { return Ok(None) };
            let activation = account::activation(&self.store, &dossier).await?;
            Ok::<_, StoreError>(Some((fields, activation)))
        };
        settle(tokio::time::timeout(ACCOUNT_DEADLINE, read).await, trace, |found, trace| match found {
            (_, Some(activation)) => (
                Reply::Activated(Activated {
                    space: self.tokens.issue(Purpose::Space, &dossier, now),
                    dossier,
                    envoi_etablissement: activation.envoi_etablissement,
                    before: true,
                }),
                trace,
            ),
            (fields, None) => (
                Reply::Activation(ActivationForm {
                    dossier,
                    token,
                    envoi_etablissement: fields.envoi_etablissement,
                }),
                trace,
            ),
        })
    }

    /// « Appliquer »: activates the account with the setting sent, once; a second time shows the
    /// first activation, unchanged.
    pub(super) async fn activate(&self, request: Request, now: OffsetDateTime) -> (Reply, Trace) {
        let mut trace = Trace::default();
        let (dossier, form) = match self.token_form(request, Purpose::Activation, now, &mut trace).await {
            Ok(form) => form,
            Err(reply) => return (reply, trace),
        };
        // An unchecked box sends nothing.
        let envoi_etablissement = form.text.get(SEND_TO_SCHOOL_FIELD).is_some_and(|value| value == "oui");
        let activation = account::Activation { activated_at: now, envoi_etablissement };
        let write = async {
            if account::stored_fields(&self.store, &dossier).await?.is_none() {
                return Ok(None);
            }
            account::activate(&self.store, &dossier, &activation).await.map(Some)
        };
        settle(tokio::time::timeout(ACCOUNT_DEADLINE, write).await, trace, |stored, trace| {
            let before = stored != activation;
            (
                Reply::Activated(Activated {
                    space: self.tokens.issue(Purpose::Space, &dossier, now),
                    dossier,
                    envoi_etablissement: stored.envoi_etablissement,
                    before,
                }),
                trace,
            )
        })
    }

    /// `GET …/espace`: « Mes Cartes » with a space token, else the sign-in page.
    pub(super) async fn space_page(&self, request: &Request, now: OffsetDateTime) -> (Reply, Trace) {
        let mut trace = Trace::default();
        let Some(token) = query_token(request) else { return (Reply::SignIn { failed: false }, trace) };
        let Some(dossier) = self.verified(Purpose::Space, &token, now, &mut trace) else {
            return (Reply::Failure(Failure::LinkInvalid), trace);
        };
        settle(
            tokio::time::timeout(ACCOUNT_DEADLINE, self.space(dossier, now, false)).await,
            trace,
            |space, trace| (Reply::Space(space), trace),
        )
    }

    /// « Mes Cartes » of `dossier`, `None` without a record; `saved` right after a change.
    async fn space(
        &self,
        dossier: Dossier,
        now: OffsetDateTime,
        saved: bool,
    ) -> Result<Option<Space>, StoreError> {
        let Some(standing) = account::standing(&self.store, &dossier).await? else { return Ok(None) };
        let envoi_etablissement = standing.send_to_school();
        let changes = standing.setting.as_ref().map_or(0, |(n, _)| *n);
        let activated = standing.activation.is_some();
        let fields = standing.request.fields;
        Ok(Some(Space {
            token: self.tokens.issue(Purpose::Space, &dossier, now),
            setting_open: activated && changes < MAX_SETTING_CHANGES,
            duplicate: standing.duplicate.as_ref().map(summary),
            saved,
            envoi_etablissement,
            dossier,
            nom: fields.nom,
            prenom: fields.prenom,
            etablissement: fields.etablissement,
            filiere: fields.filiere,
            received_at: standing.request.received_at,
            activated,
            status: standing.status.map(|(_, note)| note.statut),
        }))
    }

    /// `POST …/espace`: the dossier number (read forgivingly) and the date of birth. Answered
    /// [`SIGNIN_TIME`] after it arrived, success or not, and with one refusal for every failure.
    pub(super) async fn sign_in(&self, request: Request, now: OffsetDateTime) -> (Reply, Trace) {
        let answer_at = tokio::time::Instant::now() + SIGNIN_TIME;
        let mut trace = Trace::default();
        let outcome = match small_form(request, &mut trace).await {
            Ok(form) => {
                let field = |name| form.text.get(name).map_or("", String::as_str);
                tokio::time::timeout(
                    ACCOUNT_DEADLINE,
                    self.check_sign_in(field(DOSSIER_FIELD), field(BIRTH_FIELD), now, &mut trace),
                )
                .await
            }
            Err(reply) => Ok(Ok(Err(reply))),
        };
        let reply = match outcome {
            Ok(Ok(Ok(space))) => Reply::Space(space),
            Ok(Ok(Err(reply))) => reply,
            Ok(Err(error)) => {
                trace.error = Some(error.to_string());
                Reply::Failure(Failure::Unavailable)
            }
            Err(_) => {
                trace.error = Some("the sign-in did not finish in time".to_owned());
                Reply::Failure(Failure::Unavailable)
            }
        };
        tokio::time::sleep_until(answer_at).await;
        (reply, trace)
    }

    /// The sign-in's checks: `Ok(Err(reply))` for a refusal.
    async fn check_sign_in(
        &self,
        dossier: &str,
        birth: &str,
        now: OffsetDateTime,
        trace: &mut Trace,
    ) -> Result<Result<Space, Reply>, StoreError> {
        let refused = Err(Reply::SignIn { failed: true });
        let Ok(dossier) = form::Dossier::parse(dossier) else {
            trace.error = Some("sign-in: not a dossier number".to_owned());
            return Ok(refused);
        };
        let Some(request) = account::stored_request(&self.store, &dossier).await? else {
            trace.error = Some("sign-in refused".to_owned());
            return Ok(refused);
        };
        // The dossier exists from here on: its number may be logged.
        trace.dossier = Some(dossier.to_string());
        let failures = account::failed_signins(&self.store, &dossier).await?;
        if failures >= MAX_FAILED_SIGNINS {
            trace.error = Some("sign-in refused: too many failed tries".to_owned());
            return Ok(refused);
        }
        if request.fields.date_naissance != birth.trim() {
            account::note_failed_signin(&self.store, &dossier, failures + 1, now).await?;
            trace.error = Some(format!("sign-in refused: failed try {}", failures + 1));
            return Ok(refused);
        }
        Ok(self.space(dossier, now, false).await?.ok_or(Reply::SignIn { failed: true }))
    }

    /// `POST …/reglage`: « Mes Cartes »'s send-to-school setting, once the account is activated,
    /// [`MAX_SETTING_CHANGES`] times at most; answers « Mes Cartes » as it now stands.
    pub(super) async fn change_setting(&self, request: Request, now: OffsetDateTime) -> (Reply, Trace) {
        let mut trace = Trace::default();
        let (dossier, form) = match self.token_form(request, Purpose::Space, now, &mut trace).await {
            Ok(form) => form,
            Err(reply) => return (reply, trace),
        };
        let envoi_etablissement = form.text.get(SEND_TO_SCHOOL_FIELD).is_some_and(|value| value == "oui");
        let write = async {
            if account::stored_fields(&self.store, &dossier).await?.is_none() {
                return Ok(None);
            }
            let activated = account::activation(&self.store, &dossier).await?.is_some();
            let next = account::latest_setting(&self.store, &dossier).await?.map_or(1, |(n, _)| n + 1);
            let saved = activated
                && next <= MAX_SETTING_CHANGES
                && account::note_setting(
                    &self.store,
                    &dossier,
                    next,
                    &account::Setting { changed_at: now, envoi_etablissement },
                )
                .await?;
            self.space(dossier.clone(), now, saved).await
        };
        settle(tokio::time::timeout(ACCOUNT_DEADLINE, write).await, trace, |space, mut trace| {
            if !space.saved {
                trace.error =
                    Some("setting not changed: not activated, or changed as often as allowed".to_owned());
            }
            (Reply::Space(space), trace)
        })
    }

    /// `GET …/duplicata`: the duplicate request's form, from « Mes Cartes »'s link (a space
    /// token); the confirmation when one was stored before.
    pub(super) async fn duplicate_page(&self, request: &Request, now: OffsetDateTime) -> (Reply, Trace) {
        let mut trace = Trace::default();
        let token = query_token(request).unwrap_or_default();
        let Some(dossier) = self.verified(Purpose::Space, &token, now, &mut trace) else {
            return (Reply::Failure(Failure::LinkInvalid), trace);
        };
        settle(
            tokio::time::timeout(ACCOUNT_DEADLINE, self.stored_duplicate(&dossier)).await,
            trace,
            |stored, trace| match stored {
                Some(duplicate) => (self.duplicate_done(dossier, &duplicate, true, now), trace),
                None => (self.duplicate_form(dossier, None, None, now), trace),
            },
        )
    }

    /// `POST …/duplicata`: the reason and, optionally, a new photo, made by the request's pipeline.
    /// One duplicate request per dossier: one stored before is shown, unchanged, before any photo
    /// work. Bounded like a request: the read by [`ACCOUNT_DEADLINE`], the photo by its CPU bound,
    /// the writes (photo, then the request naming it) by [`STORE_DEADLINE`].
    pub(super) async fn request_duplicate(&self, request: Request, now: OffsetDateTime) -> (Reply, Trace) {
        let content_type = request
            .headers()
            .get(lambda_http::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = request.into_body();
        let mut trace = Trace { body_bytes: Some(body.len()), ..Trace::default() };
        let known = [TOKEN_FIELD, MOTIF_FIELD].map(str::to_owned).into_iter().collect();
        let parsed = multipart::parse(&body, content_type.as_deref(), &known, PHOTO_FIELD).await;
        drop(body);
        let form = match parsed {
            Ok(form) => form,
            Err(error) => return (Reply::Failure(unreadable(&error)), trace.failed(error)),
        };
        let token = form.text.get(TOKEN_FIELD).map_or("", String::as_str);
        let Some(dossier) = self.verified(Purpose::Space, token, now, &mut trace) else {
            return (Reply::Failure(Failure::LinkInvalid), trace);
        };
        let stored = tokio::time::timeout(ACCOUNT_DEADLINE, self.stored_duplicate(&dossier)).await;
        let stored = match found(stored) {
            Ok(stored) => stored,
            Err((failure, reason)) => return (Reply::Failure(failure), trace.failed(reason)),
        };
        if let Some(duplicate) = stored {
            return (self.duplicate_done(dossier, &duplicate, true, now), trace);
        }
        let motif = form.text.get(MOTIF_FIELD).and_then(|value| Motif::parse(value));
        let photo = match form.photo {
            Some(bytes) => match photo_step(bytes, None, &mut trace).await {
                Ok(made) => made.map(|(_, photo)| Some(photo.jpeg)),
                Err(reason) => return (Reply::Failure(Failure::Internal), trace.failed(reason)),
            },
            None => Ok(None),
        };
        let (motif, jpeg) = match (motif, photo) {
            (Some(motif), Ok(jpeg)) => (motif, jpeg),
            // The photo's problem first: the reason is one tap to fix, the photo a new file.
            (motif, Err(message)) => return (self.duplicate_form(dossier, motif, Some(message), now), trace),
            (None, Ok(_)) => {
                trace.invalid_fields = Some(MOTIF_FIELD.to_owned());
                let message = crate::texts().account.duplicate_reason_missing.clone();
                return (self.duplicate_form(dossier, None, Some(message), now), trace);
            }
        };
        let started = Instant::now();
        let write = account::request_duplicate(&self.store, &dossier, now, motif, jpeg.as_deref());
        let written = tokio::time::timeout(STORE_DEADLINE, write).await;
        trace.store = Some(started.elapsed());
        let written = written.map(|written| written.map(Some));
        settle(written, trace, |(duplicate, created), trace| {
            (self.duplicate_done(dossier, &duplicate, !created, now), trace)
        })
    }

    /// The duplicate request of `dossier`: `None` without a record, `Some(None)` before one was
    /// made.
    async fn stored_duplicate(
        &self,
        dossier: &Dossier,
    ) -> Result<Option<Option<account::Duplicate>>, StoreError> {
        if account::stored_fields(&self.store, dossier).await?.is_none() {
            return Ok(None);
        }
        account::duplicate(&self.store, dossier).await.map(Some)
    }

    /// The duplicate request's form, with a fresh space token, and the reason chosen and what to
    /// fix after a refusal.
    fn duplicate_form(
        &self,
        dossier: Dossier,
        motif: Option<Motif>,
        error: Option<String>,
        now: OffsetDateTime,
    ) -> Reply {
        let token = self.tokens.issue(Purpose::Space, &dossier, now);
        Reply::DuplicateForm(DuplicateForm { dossier, token, motif, error })
    }

    /// The duplicate request's confirmation; `before` when it was stored by an earlier try.
    fn duplicate_done(
        &self,
        dossier: Dossier,
        duplicate: &account::Duplicate,
        before: bool,
        now: OffsetDateTime,
    ) -> Reply {
        let space = self.tokens.issue(Purpose::Space, &dossier, now);
        Reply::Duplicate(DuplicateDone { dossier, duplicate: summary(duplicate), before, space })
    }

    /// A small form posted by one of the function's pages, with a token for `purpose`: the dossier
    /// it stands for and the form's fields, or the reply that refuses it (its reason in `trace`).
    async fn token_form(
        &self,
        request: Request,
        purpose: Purpose,
        now: OffsetDateTime,
        trace: &mut Trace,
    ) -> Result<(Dossier, multipart::FormData), Reply> {
        let form = small_form(request, trace).await?;
        let token = form.text.get(TOKEN_FIELD).map_or("", String::as_str);
        let dossier =
            self.verified(purpose, token, now, trace).ok_or(Reply::Failure(Failure::LinkInvalid))?;
        Ok((dossier, form))
    }

    /// The dossier `token` stands for, made for `purpose` and still valid at `now`, noted in
    /// `trace`; `None` for a wrong, altered or expired token (its reason in `trace`), which every
    /// route answers with the one [`Failure::LinkInvalid`].
    fn verified(
        &self,
        purpose: Purpose,
        token: &str,
        now: OffsetDateTime,
        trace: &mut Trace,
    ) -> Option<Dossier> {
        match self.tokens.verify(purpose, token, now) {
            Ok(dossier) => {
                trace.dossier = Some(dossier.to_string());
                Some(dossier)
            }
            Err(error) => {
                trace.error = Some(error.to_string());
                None
            }
        }
    }
}

/// The link's token: from the query parameters the runtime parsed out of the event, or from the
/// URI's query (a request that did not come through an event, as in the unit tests).
fn query_token(request: &Request) -> Option<String> {
    if let Some(token) = request.query_string_parameters_ref().and_then(|query| query.first(TOKEN_FIELD)) {
        return Some(token.to_owned());
    }
    let query = request.uri().query()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == TOKEN_FIELD)
        .map(|(_, value)| value.into_owned())
}

/// A small form posted by one of the function's pages (a token, a checkbox, the sign-in's two
/// fields), or the reply that refuses it (its reason in `trace`).
async fn small_form(request: Request, trace: &mut Trace) -> Result<multipart::FormData, Reply> {
    let content_type = request
        .headers()
        .get(lambda_http::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let known = [TOKEN_FIELD, SEND_TO_SCHOOL_FIELD, DOSSIER_FIELD, BIRTH_FIELD]
        .map(str::to_owned)
        .into_iter()
        .collect();
    // No photo field: a part named otherwise is ignored, as any unknown part is.
    multipart::parse(request.body(), content_type.as_deref(), &known, "").await.map_err(|error| {
        trace.error = Some(error.to_string());
        Reply::Failure(unreadable(&error))
    })
}

/// A stored duplicate request as the pages show it.
fn summary(duplicate: &account::Duplicate) -> DuplicateSummary {
    DuplicateSummary {
        motif: duplicate.motif,
        requested_at: duplicate.requested_at,
        new_photo: duplicate.photo.is_some(),
    }
}

/// The reply of a store step bounded in time: `found` makes it from what the step found; a
/// dossier without a record (erased since its token was made) is a link that no longer works, and
/// a store that failed or did not answer in time is a 503 to try again.
fn settle<T>(
    outcome: Result<Result<Option<T>, StoreError>, tokio::time::error::Elapsed>,
    trace: Trace,
    then: impl FnOnce(T, Trace) -> (Reply, Trace),
) -> (Reply, Trace) {
    match found(outcome) {
        Ok(value) => then(value, trace),
        Err((failure, reason)) => (Reply::Failure(failure), trace.failed(reason)),
    }
}

/// What a store step bounded in time found, or the failure that ends the request and why (for
/// the log line): see [`settle`].
fn found<T>(
    outcome: Result<Result<Option<T>, StoreError>, tokio::time::error::Elapsed>,
) -> Result<T, (Failure, String)> {
    match outcome {
        Ok(Ok(Some(value))) => Ok(value),
        Ok(Ok(None)) => Err((Failure::LinkInvalid, "no record for this dossier".to_owned())),
        Ok(Err(error)) => Err((Failure::Unavailable, error.to_string())),
        Err(_) => Err((Failure::Unavailable, "the store did not answer in time".to_owned())),
    }
}
