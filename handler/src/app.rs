//! The request flow: route, read the form, check it, make the photo, store, answer. Built once at
//! start-up with the schema, the store and the configuration, then shared by every invocation.
//! [`App::handle`] is the function as the runtime calls it: the flow as a tower service, wrapped in
//! the CORS layer and the per-request log line.
//!
//! This is where the parts meet, and the only place that knows them all: the ID photo becomes the
//! bytes and facts storage keeps (`stored_photo`), a store's failure becomes a 503, a
//! submission's steps become the facts of its log line ([`Trace`]), and the store's time is
//! bounded inside the function's.
//!
//! The time budget above the store's own (`storage/s3.rs`; `tests/s3_faults.rs` checks the sums):
//! a request makes two store operations when all goes well (photo, record) and a few more on a
//! retry or a collision, and the flow cuts the whole at [`STORE_DEADLINE`]; the e-mail that
//! follows (its send and its note) is cut at [`ACCOUNT_DEADLINE`]; the photo's CPU bound (2 s), both
//! deadlines and some slack fit in [`FUNCTION_TIMEOUT`], so the student always gets our 503 and its
//! advice, never the platform's bare gateway error.
//!
//! What follows the request (the e-mail, sending it again, the activation page) is in
//! [`account`].

mod account;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::time::{Duration, Instant};

use form::{Crop, Schema};
use lambda_http::http::{Method, header};
use lambda_http::tower::{ServiceBuilder, ServiceExt, service_fn};
use lambda_http::{Body, Request, RequestExt, Response};
use time::OffsetDateTime;

use crate::account::token::TokenSecret;
use crate::config::Config;
use crate::http;
use crate::http::cors::{self, AllowedOrigins, CorsLayer};
use crate::http::log::{RequestLogLayer, Trace};
use crate::http::multipart::{self, MultipartError};
use crate::http::response::{Failure, FieldError, Receipt, Reply, Summary};
use crate::mail::{Mailer, NoMailer};
use crate::photo::{self, IdPhoto, PhotoError};
use crate::storage::commit::{self, CommitError, Original, Photo, Submission};
use crate::storage::idempotency::{ContentDigest, DossierSecret, IdempotencyKey};
use crate::storage::store::{Store, StoreError};

/// The wire name of the photo field.
pub const PHOTO_FIELD: &str = "photo";
/// The wire name of the crop field.
const CROP_FIELD: &str = "recadrage";
/// The preview's field: how many pixels of the photo the page will send one pixel of the preview's
/// copy stands for.
const SCALE_FIELD: &str = "echelle";
/// The largest [`SCALE_FIELD`] taken: the page's copy is at least an eighth of any photo it sends.
const MAX_PREVIEW_SCALE: f64 = 8.0;
/// The function's addresses, by their last path segment: `…/demande` on a Function URL,
/// `/lambda-url/handler/demande` under `cargo lambda watch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// The request form posts here.
    Demande,
    /// The receipt's « Renvoyer l’e-mail ».
    Renvoi,
    /// The e-mail's link (GET) and its « Appliquer » (POST).
    Activation,
    /// The personal space: its sign-in (GET, POST) and « Mes Cartes » (GET with a token).
    Espace,
    /// « Mes Cartes »'s send-to-school setting (POST with a space token).
    Reglage,
    /// « Demande de duplicata »: its form (GET with a space token) and the request (POST).
    Duplicata,
    /// The photo's preview (POST, JSON): the face, the frame and the hints; nothing stored.
    Apercu,
}

impl Route {
    const ALL: [(Route, &str); 7] = [
        (Route::Demande, "demande"),
        (Route::Renvoi, "renvoi"),
        (Route::Activation, "activation"),
        (Route::Espace, "espace"),
        (Route::Reglage, "reglage"),
        (Route::Duplicata, "duplicata"),
        (Route::Apercu, "apercu"),
    ];

    /// The route whose segment ends `path`, if any.
    fn of(path: &str) -> Option<Route> {
        let path = path.strip_suffix('/').unwrap_or(path);
        let (_, last) = path.rsplit_once('/')?;
        Route::ALL.iter().find(|(_, segment)| *segment == last).map(|(route, _)| *route)
    }

    /// The segment, for the links the function makes.
    fn segment(self) -> &'static str {
        Route::ALL.iter().find(|(route, _)| *route == self).map_or("", |(_, segment)| segment)
    }
}

/// The longest the store may take for one request, every operation and retry included: past it the
/// student gets a 503 and retries, rather than a gateway error when the function times out.
pub const STORE_DEADLINE: Duration = Duration::from_secs(20);
/// The longest the work after a stored request may take: the e-mail (its send and its note
/// together; past it the receipt says it did not leave, and offers to send it again), and each of
/// the routes that act on a dossier (« Renvoyer l’e-mail », the activation, the personal space;
/// past it, a 503).
pub const ACCOUNT_DEADLINE: Duration = Duration::from_secs(8);
/// The function timeout the deployment sets: the photo's CPU bound, [`STORE_DEADLINE`] and
/// [`ACCOUNT_DEADLINE`] fit in it, with some slack.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(40);

const _: () = assert!(
    photo::CPU_BOUND.as_secs() + STORE_DEADLINE.as_secs() + ACCOUNT_DEADLINE.as_secs() + 5
        <= FUNCTION_TIMEOUT.as_secs(),
    "the function's timeout must hold the photo, the store, the e-mail and some slack"
);

/// The function: everything a request needs, prepared once. `M` sends the e-mails; [`NoMailer`]
/// when the deployment configures no sender.
pub struct App<S, M = NoMailer> {
    schema: Schema,
    store: S,
    secret: DossierSecret,
    origins: AllowedOrigins,
    /// The same origins, for the CORS headers.
    cors: CorsLayer,
    /// The establishment requests must name.
    school: String,
    /// Text fields read from the body: the schema's fields, the honeypot and the page's contract
    /// version.
    known_fields: BTreeSet<String>,
    tokens: TokenSecret,
    /// What sends the e-mails and the address their links point to; `None` without a sender.
    outbox: Option<Outbox<M>>,
}

/// The e-mail's sender, and where its links go.
struct Outbox<M> {
    mailer: M,
    /// The function's public URL, without its final `/`.
    function_url: String,
}

impl<S: Store> App<S> {
    /// The function without e-mails; [`App::with_mailer`] gives it a sender.
    pub fn new(schema: Schema, store: S, config: &Config) -> App<S> {
        let mut known_fields: BTreeSet<String> =
            schema.fields().iter().map(|field| field.name.clone()).collect();
        known_fields.insert(schema.honeypot().to_owned());
        known_fields.insert(form::VERSION_FIELD.to_owned());
        App {
            schema,
            store,
            secret: config.dossier_secret.clone(),
            origins: config.allowed_origins.clone(),
            cors: CorsLayer::new(config.allowed_origins.clone()),
            school: config.school.clone(),
            known_fields,
            tokens: config.token_secret.clone(),
            outbox: None,
        }
    }

    /// The same function, sending its e-mails with `mailer`, their links under `function_url`
    /// (`FUNCTION_URL`).
    pub fn with_mailer<N: Mailer>(self, mailer: N, function_url: &str) -> App<S, N> {
        App {
            schema: self.schema,
            store: self.store,
            secret: self.secret,
            origins: self.origins,
            cors: self.cors,
            school: self.school,
            known_fields: self.known_fields,
            tokens: self.tokens,
            outbox: Some(Outbox { mailer, function_url: function_url.trim_end_matches('/').to_owned() }),
        }
    }
}

impl<S: Store, M: Mailer> App<S, M> {
    /// The store, for tests that check what a request wrote.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Answers one request received at `now`, as the function does: the flow (`respond`)
    /// inside its CORS headers ([`CorsLayer`]), inside one log line per request
    /// ([`RequestLogLayer`]), outermost so that it times everything and logs the status the client
    /// gets. Never fails: every problem is a response.
    pub async fn handle(&self, request: Request, now: OffsetDateTime) -> Response<Body> {
        let flow = service_fn(|request| async move { Ok::<_, Infallible>(self.respond(request, now).await) });
        let service = ServiceBuilder::new().layer(RequestLogLayer).layer(self.cors.clone()).service(flow);
        let Ok(response) = service.oneshot(request).await;
        response
    }

    /// The flow itself: the route, the origin, the form. Every answer carries the [`Trace`] of its
    /// log line.
    async fn respond(&self, request: Request, now: OffsetDateTime) -> Response<Body> {
        let header = |name| request.headers().get(name).and_then(|v| v.to_str().ok());
        let json = http::wants_json(header(header::ACCEPT));
        let back = http::back_link(header(header::REFERER), &self.origins);
        let method = request.method().clone();
        let route = Route::of(request_path(&request));
        let (reply, trace) = match (route, &method) {
            (None, _) => (Reply::Failure(Failure::NotFound), Trace::default()),
            (Some(_), &Method::OPTIONS) => return cors::preflight(),
            // Browsers send `Origin` with every POST, a form posted without JavaScript included
            // (the site's own origin, or `null` from a file): a listed origin is the site. Any
            // other is a page elsewhere posting students' data here, refused before the body is
            // read. A request without `Origin` is no browser's, and CORS could not protect it
            // anyway; it goes through the same checks as any other.
            (Some(Route::Demande | Route::Apercu), &Method::POST) if self.posted_from_elsewhere(&request) => {
                (Reply::Failure(Failure::ForbiddenOrigin), Trace::default().failed("origin not allowed"))
            }
            (Some(Route::Demande), &Method::POST) => self.submit(request, now).await,
            (Some(Route::Apercu), &Method::POST) => self.preview(request).await,
            // The other routes act on one dossier through its token, which no other page can
            // have: the receipt's button and the activation page post from the function's own
            // pages, whose origin the site's list does not name.
            (Some(Route::Renvoi), &Method::POST) => self.resend(request, now).await,
            (Some(Route::Activation), &Method::GET) => self.activation_page(&request, now).await,
            (Some(Route::Activation), &Method::POST) => self.activate(request, now).await,
            (Some(Route::Espace), &Method::GET) => self.space_page(&request, now).await,
            (Some(Route::Espace), &Method::POST) => self.sign_in(request, now).await,
            (Some(Route::Reglage), &Method::POST) => self.change_setting(request, now).await,
            (Some(Route::Duplicata), &Method::GET) => self.duplicate_page(&request, now).await,
            (Some(Route::Duplicata), &Method::POST) => self.request_duplicate(request, now).await,
            (Some(_), _) => (Reply::Failure(Failure::MethodNotAllowed), Trace::default()),
        };
        let mut response = http::respond(reply, json, back.as_deref());
        response.extensions_mut().insert(trace);
        response
    }

    /// Whether the request names an origin that is not the site's.
    fn posted_from_elsewhere(&self, request: &Request) -> bool {
        let sent = request.headers().get(header::ORIGIN);
        sent.is_some() && self.origins.matching(sent).is_none()
    }

    /// A posted form: everything from the body to the receipt, and what its log line says.
    async fn submit(&self, request: Request, now: OffsetDateTime) -> (Reply, Trace) {
        let content_type =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = request.into_body();
        let mut trace = Trace { body_bytes: Some(body.len()), ..Trace::default() };
        let parsed = multipart::parse(&body, content_type.as_deref(), &self.known_fields, PHOTO_FIELD).await;
        // Up to 6 MB that the photo work need not hold on to.
        drop(body);
        let form = match parsed {
            Ok(form) => form,
            Err(error) => return (Reply::Failure(unreadable(&error)), trace.failed(error)),
        };
        let input = form::Input { text: form.text, photo_present: form.photo.is_some() };
        trace.contract_mismatch = contract_mismatch(&self.schema, input.text.get(form::VERSION_FIELD));
        if self.schema.is_spam(&input) {
            return (Reply::Failure(Failure::Refused), trace.failed("honeypot filled"));
        }

        let validated = self.schema.validate(&input, now.date(), &self.school);
        // The photo is made even when other fields are wrong, so that its own problem is
        // reported in the same answer rather than after the next send.
        let crop = match &validated {
            Ok(demande) => demande.recadrage,
            Err(_) => input.text.get(CROP_FIELD).and_then(|value| Crop::parse(value).ok()),
        };
        let mut errors = BTreeMap::new();
        let photo = match form.photo {
            Some(bytes) => match photo_step(bytes, crop, &mut trace).await {
                Ok(Ok(made)) => Some(made),
                Ok(Err(message)) => {
                    errors.insert(PHOTO_FIELD.to_owned(), message);
                    None
                }
                Err(reason) => return (Reply::Failure(Failure::Internal), trace.failed(reason)),
            },
            None => None,
        };
        let demande = match validated {
            Ok(demande) => Some(demande),
            Err(field_errors) => {
                errors.extend(field_errors.0);
                None
            }
        };
        let (Some(demande), Some((original, photo))) = (demande, photo) else {
            if errors.is_empty() {
                // `validate` requires the photo, so this means the flow and the schema disagree.
                return (Reply::Failure(Failure::Internal), trace.failed("form validated without a photo"));
            }
            trace.invalid_fields = Some(errors.keys().cloned().collect::<Vec<_>>().join(","));
            return (Reply::Invalid(self.field_errors(errors)), trace);
        };

        let content = ContentDigest::of(&demande, demande.recadrage, &original);
        let key = match &demande.submission_id {
            Some(id) => IdempotencyKey::from_submission_id(id),
            None => IdempotencyKey::from_content(&content),
        };
        let received_at = now.replace_millisecond(now.millisecond()).unwrap_or(now);
        let submission = Submission {
            demande: &demande,
            photo: stored_photo(&photo),
            key: &key,
            content: &content,
            received_at,
        };
        let started = Instant::now();
        // One deadline for every write, read and retry, so that a slow store gives the student a
        // 503 inside the function's timeout. Cutting a write short is safe: the photo comes first
        // and the record last, and a retry adopts whatever the cut try left.
        let committed =
            tokio::time::timeout(STORE_DEADLINE, commit::commit(&self.store, &self.secret, &submission))
                .await
                .unwrap_or_else(|_| {
                    Err(CommitError::Store(StoreError(format!(
                        "the store did not finish within {} s",
                        STORE_DEADLINE.as_secs()
                    ))))
                });
        trace.store = Some(started.elapsed());
        match committed {
            Ok(committed) => {
                trace.dossier = Some(committed.dossier.to_string());
                trace.replay = Some(committed.replay);
                trace.attempt = Some(committed.attempt);
                let mail = self.mail_after_commit(&committed.dossier, &demande, now, &mut trace).await;
                let receipt = Receipt {
                    dossier: committed.dossier,
                    received_at: committed.received_at,
                    replay: committed.replay,
                    summary: Summary::of(&demande),
                    mail,
                    hints: photo.look.hints.clone(),
                };
                (Reply::Receipt(receipt), trace)
            }
            Err(error) => {
                let failure = match &error {
                    CommitError::Store(_) => Failure::Unavailable,
                    CommitError::Conflict(dossier) => {
                        trace.dossier = Some(dossier.to_string());
                        Failure::Conflict
                    }
                    CommitError::Exhausted => Failure::Internal,
                };
                (Reply::Failure(failure), trace.failed(error))
            }
        }
    }

    /// The preview: what the photo pipeline sees in the page's reduced copy of the photo (the face,
    /// the frame and the hints), under the same bounds as a request's photo; nothing is stored.
    async fn preview(&self, request: Request) -> (Reply, Trace) {
        let content_type =
            request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = request.into_body();
        let mut trace = Trace { body_bytes: Some(body.len()), ..Trace::default() };
        let known = BTreeSet::from([CROP_FIELD.to_owned(), SCALE_FIELD.to_owned()]);
        let parsed = multipart::parse(&body, content_type.as_deref(), &known, PHOTO_FIELD).await;
        drop(body);
        let form = match parsed {
            Ok(form) => form,
            Err(error) => return (Reply::Failure(unreadable(&error)), trace.failed(error)),
        };
        let crop = match form.text.get(CROP_FIELD).map(|value| Crop::parse(value)) {
            None => None,
            Some(Ok(crop)) => Some(crop),
            Some(Err(error)) => return (Reply::Failure(Failure::Malformed), trace.failed(error)),
        };
        let scale = match form.text.get(SCALE_FIELD).map(|value| preview_scale(value)) {
            None => 1.0,
            Some(Some(scale)) => scale,
            Some(None) => {
                return (Reply::Failure(Failure::Malformed), trace.failed("unreadable preview scale"));
            }
        };
        let Some(bytes) = form.photo else {
            return (Reply::Failure(Failure::Malformed), trace.failed("preview without a photo"));
        };
        let started = Instant::now();
        let seen = tokio::task::spawn_blocking(move || photo::preview(&bytes, crop, scale)).await;
        trace.photo = Some(started.elapsed());
        match seen {
            Ok(Ok(look)) => (Reply::Preview(look), trace),
            Ok(Err(error)) if !error.is_server_error() => {
                trace.error = Some(error.to_string());
                let errors =
                    BTreeMap::from([(PHOTO_FIELD.to_owned(), error.message_fr(&crate::texts().photo))]);
                (Reply::Invalid(self.field_errors(errors)), trace)
            }
            Ok(Err(error)) => (Reply::Failure(Failure::Internal), trace.failed(error)),
            Err(_) => (Reply::Failure(Failure::Internal), trace.failed("the photo pipeline panicked")),
        }
    }

    /// The field errors in the schema's display order, each with its label.
    fn field_errors(&self, errors: BTreeMap<String, String>) -> Vec<FieldError> {
        let fields = self.schema.fields();
        let position = |name: &str| fields.iter().position(|field| field.name == name);
        let mut list: Vec<FieldError> = errors
            .into_iter()
            .map(|(field, message)| {
                let label = self.schema.field(&field).map_or(&field, |f| &f.label).clone();
                FieldError { field, label, message }
            })
            .collect();
        list.sort_by_key(|error| position(&error.field));
        list
    }
}

/// What the student is told of a body that could not be read.
fn unreadable(error: &MultipartError) -> Failure {
    match error {
        MultipartError::TooLarge => Failure::TooLarge,
        MultipartError::NotMultipart => Failure::NotMultipart,
        _ => Failure::Malformed,
    }
}

/// The photo step of a request or a duplicate request, timed in `trace`: the ID photo with the
/// bytes uploaded, or the student's problem with the photo (its French message; its kind noted in
/// `trace`), or, as `Err`, a fault of ours for the log line.
async fn photo_step(
    bytes: Vec<u8>,
    crop: Option<Crop>,
    trace: &mut Trace,
) -> Result<Result<(Vec<u8>, IdPhoto), String>, String> {
    let started = Instant::now();
    let made = make_photo(bytes, crop).await;
    trace.photo = Some(started.elapsed());
    match made {
        Some((original, Ok(photo))) => Ok(Ok((original, photo))),
        Some((_, Err(error))) if !error.is_server_error() => {
            trace.error = Some(error.to_string());
            Ok(Err(error.message_fr(&crate::texts().photo)))
        }
        Some((_, Err(error))) => Err(error.to_string()),
        None => Err("the photo pipeline panicked".to_owned()),
    }
}

/// Makes the ID photo on a blocking thread (it is CPU work); gives the uploaded bytes back for the
/// idempotency key. `None` if the pipeline panicked.
async fn make_photo(bytes: Vec<u8>, crop: Option<Crop>) -> Option<(Vec<u8>, Result<IdPhoto, PhotoError>)> {
    tokio::task::spawn_blocking(move || {
        let made = photo::process(&bytes, crop);
        (bytes, made)
    })
    .await
    .ok()
}

/// The preview's scale: a decimal from 1 to [`MAX_PREVIEW_SCALE`].
fn preview_scale(value: &str) -> Option<f64> {
    let scale: f64 = value.trim().parse().ok()?;
    (1.0..=MAX_PREVIEW_SCALE).contains(&scale).then_some(scale)
}

/// `None` when the page was built with this function's contract; else what the log line says:
/// the page's version (or that it sent none, as a page built before the version travelled) and
/// the function's. A version is 16 hex digits; anything else a client sends is not logged as is.
fn contract_mismatch(schema: &Schema, sent: Option<&String>) -> Option<String> {
    let own = schema.version();
    let page = match sent.map(String::as_str) {
        Some(version) if version == own => return None,
        Some(version) if version.len() == own.len() && version.bytes().all(|b| b.is_ascii_hexdigit()) => {
            version
        }
        Some(_) => "unreadable",
        None => "none",
    };
    Some(format!("page {page}, function {own}"))
}

/// The ID photo as storage keeps it: the JPEG, its size, and the file it was made from.
fn stored_photo(photo: &IdPhoto) -> Photo<'_> {
    // `SourceFormat` serialises to the lowercase name the record has always held.
    let format = serde_json::to_value(photo.source_format)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    Photo {
        jpeg: &photo.jpeg,
        width: photo::OUTPUT_WIDTH,
        height: photo::OUTPUT_HEIGHT,
        original: Original { format, width: photo.source_width, height: photo.source_height },
    }
}

/// The request path: API Gateway's and the Function URL's raw path when present (the path as the
/// client sent it), else the URI's.
fn request_path(request: &Request) -> &str {
    match request.raw_http_path() {
        "" => request.uri().path(),
        raw => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::memory::MemoryStore;
    use crate::testing::{FakeMailer, Multipart, ORIGIN, config, jpeg, logged, photo_upload};
    use lambda_http::http::{HeaderValue, StatusCode};

    const NOW: OffsetDateTime = time::macros::datetime!(2025-09-01 08:30:00 UTC);

    fn app() -> App<MemoryStore> {
        App::new(crate::schema().unwrap(), MemoryStore::default(), &config())
    }

    include!("../tests/support/fields.rs");

    /// A complete, valid form with the photo, and `extra` fields (or overrides) on top.
    fn form<M>(app: &App<MemoryStore, M>, extra: &[(&str, &str)]) -> Multipart {
        let mut body = Multipart::new();
        for (name, value) in valid_fields(&app.schema) {
            if !extra.iter().any(|(extra_name, _)| *extra_name == name) {
                body = body.text(&name, &value);
            }
        }
        for (name, value) in extra {
            body = body.text(name, value);
        }
        body.file(PHOTO_FIELD, "photo.jpg", photo_upload())
    }

    fn post(path: &str, body: &Multipart, accept: &str) -> Request {
        lambda_http::http::Request::builder()
            .method("POST")
            .uri(format!("https://abc.lambda-url.eu-west-3.on.aws{path}"))
            .header(header::CONTENT_TYPE, body.content_type())
            .header(header::ACCEPT, accept)
            .header(header::REFERER, format!("{ORIGIN}/demande/"))
            .header(header::ORIGIN, ORIGIN)
            .body(Body::Binary(body.bytes()))
            .unwrap()
    }

    fn request(method: &str, path: &str) -> Request {
        let uri = format!("https://abc.lambda-url.eu-west-3.on.aws{path}");
        lambda_http::http::Request::builder().method(method).uri(uri).body(Body::Empty).unwrap()
    }

    fn json(response: &Response<Body>) -> serde_json::Value {
        serde_json::from_slice(response.body()).unwrap()
    }

    fn text(response: &Response<Body>) -> String {
        String::from_utf8(response.body().to_vec()).unwrap()
    }

    // A page of another contract shows in the log line with both versions; a value that is not a
    // version is never logged as sent.
    #[test]
    fn contract_mismatch_is_reported() {
        let schema = crate::schema().unwrap();
        let own = schema.version().to_owned();
        let cases = [
            (Some(own.clone()), None),
            (Some("0123456789abcdef".to_owned()), Some(format!("page 0123456789abcdef, function {own}"))),
            (None, Some(format!("page none, function {own}"))),
            (Some("<script>".to_owned()), Some(format!("page unreadable, function {own}"))),
            (Some("0123456789abcdefXX".to_owned()), Some(format!("page unreadable, function {own}"))),
        ];
        for (sent, expected) in cases {
            assert_eq!(contract_mismatch(&schema, sent.as_ref()), expected, "{sent:?}");
        }
    }

    // A route is any path whose last segment is its name.
    #[test]
    fn route_matching() {
        let cases = [
            ("/demande", Some(Route::Demande)),
            ("/demande/", Some(Route::Demande)),
            ("/lambda-url/handler/demande", Some(Route::Demande)),
            ("/lambda-url/handler/renvoi", Some(Route::Renvoi)),
            ("/activation", Some(Route::Activation)),
            ("/lambda-url/handler/espace", Some(Route::Espace)),
            ("/", None),
            ("/demandes", None),
            ("/xdemande", None),
            ("/demande/photo", None),
        ];
        for (path, expected) in cases {
            assert_eq!(Route::of(path), expected, "{path}");
        }
        for (route, _) in Route::ALL {
            assert_eq!(Route::of(&format!("/x/{}", route.segment())), Some(route));
        }
    }

    // Other paths give 404, other methods 405, the preflight 204; all carry the allowed origin.
    #[tokio::test]
    async fn routing() {
        let app = app();
        let cases = [
            (request("GET", "/autre"), 404),
            (request("GET", "/demande"), 405),
            (request("PUT", "/lambda-url/handler/demande"), 405),
            (request("OPTIONS", "/demande"), 204),
        ];
        for (mut request, status) in cases {
            request.headers_mut().insert(header::ORIGIN, HeaderValue::from_static(ORIGIN));
            let response = app.handle(request, NOW).await;
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
        }
        let not_found = text(&app.handle(request("GET", "/autre"), NOW).await);
        assert!(not_found.contains("Page introuvable"));
        assert!(app.store().keys().is_empty());
    }

    // Each response echoes the request's origin when it is listed (`null`, from a file, too) and
    // names none otherwise; a preflight from an origin not listed gets no CORS header at all.
    #[tokio::test]
    async fn cors_echoes_listed_origins() {
        let app = app();
        let cases = [
            ("OPTIONS", Some(ORIGIN), Some(ORIGIN)),
            ("OPTIONS", Some("null"), Some("null")),
            ("OPTIONS", Some("https://autre.example.fr"), None),
            ("OPTIONS", None, None),
            ("POST", Some(ORIGIN), Some(ORIGIN)),
            ("POST", Some("null"), Some("null")),
            ("POST", Some("http://lycee.example.fr"), None),
            ("POST", None, None),
        ];
        for (method, origin, echoed) in cases {
            let mut request = request(method, "/demande");
            if let Some(origin) = origin {
                request.headers_mut().insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
            }
            let response = app.handle(request, NOW).await;
            let headers = response.headers();
            let allow = headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.to_str().unwrap());
            assert_eq!(allow, echoed, "{method} from {origin:?}");
            assert_eq!(headers[header::VARY], "Origin", "{method} from {origin:?}");
            let methods = headers.get(header::ACCESS_CONTROL_ALLOW_METHODS).map(|v| v.to_str().unwrap());
            let expected_methods = (method == "OPTIONS" && echoed.is_some()).then_some("POST, OPTIONS");
            assert_eq!(methods, expected_methods, "{method} from {origin:?}");
        }
    }

    // A request's one log line says what happened (status, dossier, fields to fix, durations) and
    // holds nothing the student typed.
    #[tokio::test]
    async fn log_line_holds_no_personal_data() {
        let app = app();
        let wrong = [("email", "pas-une-adresse"), ("code_postal", "6300")];
        let cases = [(form(&app, &[]), 201, None), (form(&app, &wrong), 422, Some("code_postal,email"))];
        for (body, status, invalid_fields) in cases {
            let (response, lines) =
                logged(app.handle(post("/demande", &body, "application/json"), NOW)).await;
            assert_eq!(response.status().as_u16(), status);
            let [line] = lines.as_slice() else { panic!("{lines:?}") };
            let fields = &line["fields"];
            assert_eq!(
                (fields["message"].as_str(), fields["status"].as_u64()),
                (Some("request"), Some(status.into()))
            );
            assert_eq!(fields["invalid_fields"].as_str(), invalid_fields, "{line}");
            assert_eq!(fields["dossier"].is_string(), status == 201, "{line}");
            assert!(fields["body_bytes"].is_u64() && fields["photo_ms"].is_u64(), "{line}");
            let said = fields.to_string();
            let typed = valid_fields(&app.schema).into_iter().map(|(_, value)| value);
            for value in typed.chain(wrong.map(|(_, value)| value.to_owned())).filter(|value| value.len() > 3)
            {
                assert!(!said.contains(&value), "`{value}` in {line}");
            }
        }
    }

    // A valid form gets 201 and a JSON receipt; photo and record are stored under its number.
    #[tokio::test]
    async fn valid_form_is_stored() {
        let app = app();
        let body = form(&app, &[("submission_id", "0b6f3c1e-6a8e-4c43-9a51-3c1f0d9e2b7a")]);
        let response = app.handle(post("/demande", &body, "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let receipt = json(&response);
        let compact = receipt["compact"].as_str().unwrap();
        assert_eq!(receipt["dossier"].as_str().unwrap().replace('-', ""), compact);
        assert_eq!(receipt["replay"], false);
        assert_eq!(
            app.store().keys(),
            [format!("demandes/{compact}/demande.json"), format!("demandes/{compact}/photo.jpg")]
        );
        let record = app.store().object(&format!("demandes/{compact}/demande.json")).unwrap();
        let record: serde_json::Value = serde_json::from_slice(&record.bytes).unwrap();
        assert_eq!(record["demande"]["nom"], "Dupré");
        assert_eq!(record["received_at"], "2025-09-01T08:30:00Z");
    }

    // Without `Accept: application/json` the receipt is an HTML page with the number in it.
    #[tokio::test]
    async fn html_receipt() {
        let app = app();
        let response = app.handle(post("/demande", &form(&app, &[]), "text/html"), NOW).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let page = text(&response);
        let key = app.store().keys().remove(0);
        let compact = key.split('/').nth(1).unwrap();
        let dossier = form::Dossier::parse(compact).unwrap();
        assert!(page.contains(&format!("<p class=\"dossier\">{dossier}</p>")), "{page}");
        assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }

    // The same submission id sent twice gives the same number with 200 and writes nothing new.
    #[tokio::test]
    async fn same_submission_id_is_a_replay() {
        let app = app();
        let body = form(&app, &[("submission_id", "a1b2c3d4e5f6")]);
        let first = json(&app.handle(post("/demande", &body, "application/json"), NOW).await);
        let writes = app.store().keys();
        let later = NOW + time::Duration::seconds(3);
        let response = app.handle(post("/demande", &body, "application/json"), later).await;
        assert_eq!(response.status(), StatusCode::OK);
        let second = json(&response);
        assert_eq!(second["dossier"], first["dossier"]);
        assert_eq!(second["received_at"], first["received_at"]);
        assert_eq!(second["replay"], true);
        assert_eq!(app.store().keys(), writes);
    }

    // Without JavaScript there is no submission id: the same form and photo still replay, while
    // another photo is another request.
    #[tokio::test]
    async fn double_submit_without_id_is_a_replay() {
        let app = app();
        let body = form(&app, &[]);
        let first = json(&app.handle(post("/demande", &body, "application/json"), NOW).await);
        let second = json(&app.handle(post("/demande", &body, "application/json"), NOW).await);
        assert_eq!(
            (second["dossier"].clone(), second["replay"].clone()),
            (first["dossier"].clone(), true.into())
        );
        let mut other = Multipart::new();
        for (name, value) in valid_fields(&app.schema) {
            other = other.text(&name, &value);
        }
        let other = other.file(PHOTO_FIELD, "autre.jpg", &jpeg(500, 640));
        let third = json(&app.handle(post("/demande", &other, "application/json"), NOW).await);
        assert_ne!(third["dossier"], first["dossier"]);
        assert_eq!(app.store().keys().len(), 4);
    }

    // Every field error and the photo's own error come back at once as 422; nothing is stored.
    #[tokio::test]
    async fn invalid_form_lists_every_error() {
        let app = app();
        let mut body = Multipart::new();
        for (name, value) in valid_fields(&app.schema) {
            if !["email", "code_postal"].contains(&name.as_str()) {
                body = body.text(&name, &value);
            }
        }
        let body = body.text("email", "pas-une-adresse").text("code_postal", "6300").file(
            PHOTO_FIELD,
            "tiny.jpg",
            &jpeg(100, 120),
        );
        let response = app.handle(post("/demande", &body, "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let errors = json(&response)["errors"].as_object().unwrap().clone();
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        assert_eq!(fields, ["code_postal", "email", "photo"]);
        let photo_message =
            photo::process(&jpeg(100, 120), None).unwrap_err().message_fr(&crate::texts().photo);
        assert_eq!(errors["photo"], photo_message);
        assert!(app.store().keys().is_empty());
    }

    // The HTML error page lists the labels and links back to the form the student came from.
    #[tokio::test]
    async fn html_errors_link_back() {
        let app = app();
        let body = Multipart::new().text("nom", "Dupré");
        let response = app.handle(post("/demande", &body, "text/html"), NOW).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = text(&response);
        let photo_label = &app.schema.fields().iter().find(|f| f.name == PHOTO_FIELD).unwrap().label;
        assert!(page.contains(&html_escape::encode_text(photo_label).into_owned()), "{page}");
        assert!(page.contains(&format!("<a href=\"{ORIGIN}/demande/\">")), "{page}");
    }

    // A filled honeypot is refused with a neutral 400 and nothing is written.
    #[tokio::test]
    async fn honeypot_is_refused() {
        let app = app();
        let honeypot = app.schema.honeypot().to_owned();
        let body = form(&app, &[(&honeypot, "http://spam.example")]);
        let response = app.handle(post("/demande", &body, "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let message = json(&response)["error"].as_str().unwrap().to_owned();
        assert!(!message.to_lowercase().contains("robot") && !message.contains(&honeypot));
        assert!(app.store().keys().is_empty());
        assert_eq!(app.store().put_count(), 0);
    }

    // Bodies that are too big or not multipart are refused before anything else.
    #[tokio::test]
    async fn body_limits() {
        let app = app();
        let big = Multipart::new().file(PHOTO_FIELD, "big.jpg", &vec![0; multipart::MAX_BODY_BYTES]);
        let response = app.handle(post("/demande", &big, "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(json(&response)["error"].as_str().unwrap().contains("trop lourd"));
        let mut urlencoded = request("POST", "/demande");
        urlencoded
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        let response = app.handle(urlencoded, NOW).await;
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert!(app.store().keys().is_empty());
    }

    // The preview answers the frame and the hints in JSON whatever the client accepts, and writes
    // nothing; a refused photo is a field error, a bad scale or crop a malformed request, a foreign
    // page a 403.
    #[tokio::test]
    async fn preview_answers_and_stores_nothing() {
        let app = app();
        let photo = |extra: &[(&str, &str)], bytes: &[u8]| {
            let mut body = Multipart::new();
            for (name, value) in extra {
                body = body.text(name, value);
            }
            body.file(PHOTO_FIELD, "copie.jpg", bytes)
        };
        let response = app
            .handle(post("/apercu", &photo(&[(SCALE_FIELD, "2")], photo_upload()), "text/html"), NOW)
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let answer = json(&response);
        // A gradient has no face: the default frame of the 480×640 copy, and the hint that says so.
        assert_eq!(answer["visage"], serde_json::Value::Null);
        assert_eq!(answer["cadre"]["width"], 480.0, "{answer}");
        assert_eq!(answer["conseils"][0]["code"], "no_face", "{answer}");
        assert_eq!(answer["conseils"][0]["message"], crate::texts().hint.no_face.as_str());
        let chosen = app
            .handle(
                post("/apercu", &photo(&[(CROP_FIELD, "0,0,350,450")], photo_upload()), "application/json"),
                NOW,
            )
            .await;
        assert_eq!(json(&chosen)["cadre"]["height"], 450.0);
        let cases: [(&str, Multipart, u16); 6] = [
            ("tiny photo", photo(&[], &jpeg(100, 120)), 422),
            ("scale below 1", photo(&[(SCALE_FIELD, "0.5")], photo_upload()), 400),
            ("scale not a number", photo(&[(SCALE_FIELD, "deux")], photo_upload()), 400),
            ("scale too large", photo(&[(SCALE_FIELD, "9")], photo_upload()), 400),
            ("unreadable crop", photo(&[(CROP_FIELD, "1,2,3")], photo_upload()), 400),
            ("no photo", Multipart::new().text(SCALE_FIELD, "1"), 400),
        ];
        for (name, body, status) in cases {
            let response = app.handle(post("/apercu", &body, "application/json"), NOW).await;
            assert_eq!(response.status().as_u16(), status, "{name}");
        }
        let mut foreign = post("/apercu", &photo(&[], photo_upload()), "application/json");
        foreign.headers_mut().insert(header::ORIGIN, HeaderValue::from_static("https://autre.example.fr"));
        assert_eq!(app.handle(foreign, NOW).await.status(), StatusCode::FORBIDDEN);
        assert!(app.store().keys().is_empty(), "the preview writes nothing");
    }

    // The receipt carries the stored photo's hints: a gradient has no face.
    #[tokio::test]
    async fn receipt_carries_the_hints() {
        let app = app();
        let response = app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(json(&response)["conseils"][0]["code"], "no_face");
        let page = app.handle(post("/demande", &form(&app, &[]), "text/html"), NOW).await;
        assert!(text(&page).contains(&crate::texts().hint.title), "the page lists them too");
    }

    // A POST from a page of an origin not listed is refused with 403 before anything is read or
    // stored; listed origins, `null` (a file) and requests without `Origin` go through.
    #[tokio::test]
    async fn foreign_origin_is_refused() {
        let app = app();
        let cases = [
            (Some("https://autre.example.fr"), 403),
            (Some("http://lycee.example.fr"), 403),
            (Some("https://lycee.example.fr.evil.test"), 403),
            (Some(ORIGIN), 201),
            (Some("null"), 200),
            (None, 200),
        ];
        for (origin, status) in cases {
            let body = form(&app, &[("submission_id", "origin-check-0001")]);
            let mut request = post("/demande", &body, "text/html");
            match origin {
                Some(origin) => {
                    request.headers_mut().insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
                }
                None => {
                    request.headers_mut().remove(header::ORIGIN);
                }
            }
            let puts = app.store().put_count();
            let response = app.handle(request, NOW).await;
            assert_eq!(response.status().as_u16(), status, "{origin:?}");
            if status == 403 {
                assert!(text(&response).contains("site de l’établissement"), "{origin:?}");
                assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
                assert_eq!(app.store().put_count(), puts, "{origin:?}: nothing written");
            }
        }
        assert_eq!(app.store().keys().len(), 2);
    }

    // The same submission id with other fields gets 409 and a French message; nothing stored
    // changes, and the receipt of a true replay shows the stored, normalised values.
    #[tokio::test]
    async fn same_submission_id_with_other_content_is_a_conflict() {
        let app = app();
        let id = ("submission_id", "conflict-check-0001");
        let first = app
            .handle(post("/demande", &form(&app, &[id, ("nom", "  Dupré ")]), "application/json"), NOW)
            .await;
        assert_eq!(first.status(), StatusCode::CREATED);
        assert_eq!(json(&first)["demande"]["nom"], "Dupré");
        let stored: Vec<_> = app.store().keys().into_iter().map(|k| app.store().object(&k)).collect();
        let response = app
            .handle(post("/demande", &form(&app, &[id, ("nom", "Durand")]), "application/json"), NOW)
            .await;
        assert_eq!(response.status(), StatusCode::CONFLICT);
        assert_eq!(json(&response)["error"], Failure::Conflict.message_fr());
        let page =
            app.handle(post("/demande", &form(&app, &[id, ("nom", "Durand")]), "text/html"), NOW).await;
        assert_eq!(page.status(), StatusCode::CONFLICT);
        assert!(text(&page).contains("rien n’a été modifié"));
        let after: Vec<_> = app.store().keys().into_iter().map(|k| app.store().object(&k)).collect();
        assert_eq!(after, stored);
        let replay =
            app.handle(post("/demande", &form(&app, &[id, ("nom", "Dupré")]), "application/json"), NOW).await;
        assert_eq!(replay.status(), StatusCode::OK);
        assert_eq!(json(&replay)["demande"], json(&first)["demande"]);
    }

    /// A Function URL event (payload format 2.0) carrying `body` base64-encoded, as AWS delivers a
    /// multipart upload; gives the request and the event's size in bytes.
    fn function_url_event(body: &Multipart) -> (Request, usize) {
        use base64::Engine;
        let event = serde_json::json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/demande",
            "rawQueryString": "",
            "headers": {
                "content-type": body.content_type(),
                "accept": "application/json",
                "origin": ORIGIN,
                "host": "abc.lambda-url.eu-west-3.on.aws",
                "user-agent": "Mozilla/5.0 (Linux; Android 14) Mobile",
            },
            "requestContext": {
                "accountId": "anonymous",
                "apiId": "abc",
                "domainName": "abc.lambda-url.eu-west-3.on.aws",
                "domainPrefix": "abc",
                "http": {
                    "method": "POST",
                    "path": "/demande",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "203.0.113.9",
                    "userAgent": "Mozilla/5.0 (Linux; Android 14) Mobile",
                },
                "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
                "routeKey": "$default",
                "stage": "$default",
                "time": "01/Sep/2025:08:30:00 +0000",
                "timeEpoch": 1_756_715_400_000_u64,
            },
            "body": base64::engine::general_purpose::STANDARD.encode(body.bytes()),
            "isBase64Encoded": true,
        })
        .to_string();
        (lambda_http::request::from_str(&event).unwrap(), event.len())
    }

    // Through the Function URL event shape, a body of exactly the limit fits AWS's 6 MiB payload
    // and is stored; one byte more gets the French 413 and writes nothing.
    #[tokio::test]
    async fn function_url_body_limit() {
        let app = app();
        let base = form(&app, &[]);
        // Bytes after the JPEG's end marker are ignored by decoders: they pad the body exactly.
        let padding = multipart::MAX_BODY_BYTES - base.bytes().len();
        let mut photo = photo_upload().to_vec();
        photo.resize(photo.len() + padding, 0);
        let mut exact = Multipart::new();
        for (name, value) in valid_fields(&app.schema) {
            exact = exact.text(&name, &value);
        }
        let exact = exact.file(PHOTO_FIELD, "photo.jpg", &photo);
        assert_eq!(exact.bytes().len(), multipart::MAX_BODY_BYTES);
        let (request, event_bytes) = function_url_event(&exact);
        assert!(event_bytes <= form::limits::LAMBDA_PAYLOAD_BYTES, "{event_bytes} bytes of event");
        assert_eq!(app.handle(request, NOW).await.status(), StatusCode::CREATED);
        let written = app.store().put_count();

        photo.push(0);
        let mut over = Multipart::new();
        for (name, value) in valid_fields(&app.schema) {
            over = over.text(&name, &value);
        }
        let over = over.file(PHOTO_FIELD, "photo.jpg", &photo);
        let (request, _) = function_url_event(&over);
        let response = app.handle(request, NOW).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let message = json(&response)["error"].as_str().unwrap().to_owned();
        assert!(message.contains(&form::limits::max_photo_fr()), "{message}");
        assert_eq!(app.store().put_count(), written);
    }

    /// A store that never finishes a write: every operation hangs past any deadline.
    struct HangingStore;

    impl Store for HangingStore {
        async fn put_if_absent(
            &self,
            _: &crate::storage::store::ObjectKey,
            _: &[u8],
            _: &str,
            _: &crate::storage::store::Metadata,
        ) -> Result<crate::storage::store::PutOutcome, crate::storage::store::StoreError> {
            tokio::time::sleep(FUNCTION_TIMEOUT * 2).await;
            unreachable!("the request's deadline cuts the write short")
        }

        async fn get(
            &self,
            _: &crate::storage::store::ObjectKey,
        ) -> Result<Option<crate::storage::store::StoredObject>, crate::storage::store::StoreError> {
            tokio::time::sleep(FUNCTION_TIMEOUT * 2).await;
            unreachable!("the request's deadline cuts the read short")
        }
    }

    // A store that hangs is cut at the store deadline, well inside the function's timeout, and the
    // student gets a 503 with Retry-After instead of a gateway error.
    #[tokio::test(start_paused = true)]
    async fn hanging_store_is_cut_at_the_deadline() {
        let app = App::new(crate::schema().unwrap(), HangingStore, &config());
        let mut body = Multipart::new();
        for (name, value) in valid_fields(&app.schema) {
            body = body.text(&name, &value);
        }
        let body = body.file(PHOTO_FIELD, "photo.jpg", photo_upload());
        let started = tokio::time::Instant::now();
        let response = app.handle(post("/demande", &body, "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "10");
        let waited = started.elapsed();
        assert!(waited >= STORE_DEADLINE && waited < FUNCTION_TIMEOUT, "{waited:?}");
    }

    // A store failure is a 503 with Retry-After; the retry completes the half-written request.
    #[tokio::test]
    async fn store_failure_then_retry() {
        let app = app();
        let body = form(&app, &[("submission_id", "retry-after-failure")]);
        app.store().fail_puts_ending_with("demande.json");
        let response = app.handle(post("/demande", &body, "text/html"), NOW).await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "10");
        assert!(text(&response).contains("réessayez") || text(&response).contains("Réessayez"));
        assert_eq!(app.store().keys().len(), 1, "the photo alone is stored");
        app.store().heal();
        let response = app.handle(post("/demande", &body, "application/json"), NOW).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let compact = json(&response)["compact"].as_str().unwrap().to_owned();
        assert_eq!(app.store().keys()[1], format!("demandes/{compact}/photo.jpg"));
        assert_eq!(app.store().keys().len(), 2);
    }

    /// The function with `mailer`, its links under `https://fonction.example`.
    fn mailing_app(mailer: &FakeMailer) -> App<MemoryStore, &FakeMailer> {
        app().with_mailer(mailer, "https://fonction.example/")
    }

    fn token_post(path: &str, fields: &[(&str, &str)]) -> Request {
        let mut body = Multipart::new();
        for (name, value) in fields {
            body = body.text(name, value);
        }
        body_post(path, &body)
    }

    /// `body` posted by one of the function's own pages, answered in JSON.
    fn body_post(path: &str, body: &Multipart) -> Request {
        let mut request = post(path, body, "application/json");
        request.headers_mut().remove(header::ORIGIN);
        request
    }

    /// The keys stored for `compact` whose name starts with `prefix`.
    fn keys_of(app: &App<MemoryStore>, compact: &str, prefix: &str) -> Vec<String> {
        let start = format!("demandes/{compact}/{prefix}");
        app.store().keys().into_iter().filter(|key| key.starts_with(&start)).collect()
    }

    // Without a sender, the receipt says nothing of an e-mail and nothing more is stored.
    #[tokio::test]
    async fn no_sender_no_mail() {
        let app = app();
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        assert_eq!(receipt["courriel"], serde_json::Value::Null);
        assert_eq!(app.store().keys().len(), 2);
    }

    // The e-mail leaves once the request is stored, with a link under the function's URL; a
    // replay sends nothing more; a failed send is noted, said, and can be sent again.
    #[tokio::test]
    async fn mail_after_the_request() {
        let mailer = FakeMailer::default();
        let app = mailing_app(&mailer);
        let body = form(&app, &[("submission_id", "mail-test-0001")]);
        let receipt = json(&app.handle(post("/demande", &body, "application/json"), NOW).await);
        assert_eq!(receipt["courriel"]["envoye"], true, "{receipt}");
        let compact = receipt["compact"].as_str().unwrap().to_owned();
        {
            let sent = mailer.sent.lock().unwrap();
            let [message] = sent.as_slice() else { panic!("{sent:?}") };
            assert_eq!(message.to, "lea.dupre@example.org");
            assert!(message.text.contains("https://fonction.example/activation?jeton="), "{}", message.text);
        }
        app.handle(post("/demande", &body, "application/json"), NOW).await;
        assert_eq!(mailer.sent.lock().unwrap().len(), 1, "a replay sends nothing");

        mailer.failing.store(true, std::sync::atomic::Ordering::SeqCst);
        let other = form(&app, &[("submission_id", "mail-test-0002"), ("prenom", "Jade")]);
        let failed = json(&app.handle(post("/demande", &other, "application/json"), NOW).await);
        assert_eq!(failed["courriel"]["envoye"], false);
        let failed_compact = failed["compact"].as_str().unwrap();
        let note = app.store().object(&format!("demandes/{failed_compact}/courriel-1.json")).unwrap();
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&note.bytes).unwrap()["sent"], false);
        mailer.failing.store(false, std::sync::atomic::Ordering::SeqCst);
        let token = failed["courriel"]["jeton_renvoi"].as_str().unwrap();
        let resent = app.handle(token_post("/renvoi", &[("jeton", token)]), NOW).await;
        assert_eq!(resent.status(), StatusCode::OK);
        assert_eq!(json(&resent)["envoye"], true);
        assert_eq!(mailer.sent.lock().unwrap().len(), 2);
        assert!(app.store().object(&format!("demandes/{failed_compact}/courriel-2.json")).is_some());
        assert!(app.store().object(&format!("demandes/{compact}/courriel-2.json")).is_none());

        // A resend token stops at the receipt's end.
        let late = NOW + time::Duration::minutes(31);
        let expired = app.handle(token_post("/renvoi", &[("jeton", token)]), late).await;
        assert_eq!(expired.status(), StatusCode::FORBIDDEN);
    }

    // The activation link shows the page and writes nothing; « Appliquer » activates; the link
    // stops working after 30 days; a link for no stored request opens nothing.
    #[tokio::test]
    async fn activation_link() {
        let mailer = FakeMailer::default();
        let app = mailing_app(&mailer);
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        let compact = receipt["compact"].as_str().unwrap().to_owned();
        let mail = mailer.sent.lock().unwrap()[0].text.clone();
        let token = mail.split("jeton=").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        let keys = app.store().keys();
        let page = app.handle(request("GET", &format!("/activation?jeton={token}")), NOW).await;
        assert_eq!(page.status(), StatusCode::OK, "{}", text(&page));
        assert_eq!(app.store().keys(), keys, "opening the link writes nothing");
        let applied = app
            .handle(token_post("/activation", &[("jeton", &token), ("envoi_etablissement", "oui")]), NOW)
            .await;
        assert_eq!(json(&applied)["envoi_etablissement"], true, "{}", text(&applied));
        assert!(app.store().object(&format!("demandes/{compact}/activation.json")).is_some());

        let late = NOW + time::Duration::days(30);
        let expired = app.handle(request("GET", &format!("/activation?jeton={token}")), late).await;
        assert_eq!(expired.status(), StatusCode::FORBIDDEN);
        let nobody = app.tokens.issue(
            crate::account::token::Purpose::Activation,
            &form::Dossier::from_seed(&[4; 32]),
            NOW,
        );
        let unknown = app.handle(request("GET", &format!("/activation?jeton={nobody}")), NOW).await;
        assert_eq!(unknown.status(), StatusCode::FORBIDDEN);
    }

    // The personal space: the number read forgivingly and the date open « Mes Cartes »; an
    // unknown number and a wrong date get the same answer after the same time; five failed tries
    // close the sign-in of that dossier, the right date included.
    #[tokio::test(start_paused = true)]
    async fn personal_space_sign_in() {
        let app = app();
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        let dossier = receipt["dossier"].as_str().unwrap().to_owned();
        let sign_in = |number: &str, birth: &str| {
            token_post("/espace", &[("dossier", number), ("date_naissance", birth)])
        };
        let typed = format!(" {} ", dossier.to_lowercase().replace('-', " "));
        let started = tokio::time::Instant::now();
        let space = app.handle(sign_in(&typed, "2009-03-14"), NOW).await;
        assert_eq!(started.elapsed(), account::SIGNIN_TIME);
        assert_eq!(space.status(), StatusCode::OK, "{}", text(&space));
        let space = json(&space);
        assert_eq!(
            (space["dossier"].as_str(), space["statut"].as_str()),
            (Some(dossier.as_str()), Some("demande_recue"))
        );
        assert_eq!(space["filiere"], "Seconde générale et technologique");

        let unknown = form::Dossier::from_seed(&[6; 32]).to_string();
        let mut answers = Vec::new();
        for (number, birth) in
            [(unknown.as_str(), "2009-03-14"), (dossier.as_str(), "2009-03-15"), ("pas un numéro", "")]
        {
            let started = tokio::time::Instant::now();
            let response = app.handle(sign_in(number, birth), NOW).await;
            assert_eq!(started.elapsed(), account::SIGNIN_TIME, "{number}");
            answers.push((response.status(), text(&response)));
        }
        assert!(answers.iter().all(|answer| *answer == answers[0]), "{answers:?}");
        assert_eq!(answers[0].0, StatusCode::UNAUTHORIZED);

        for _ in 1..form::limits::MAX_FAILED_SIGNINS {
            app.handle(sign_in(&dossier, "2010-01-01"), NOW).await;
        }
        let closed = app.handle(sign_in(&dossier, "2009-03-14"), NOW).await;
        assert_eq!((closed.status(), text(&closed)), answers[0].clone(), "closed after the failed tries");
        let compact = dossier.replace('-', "");
        let failures = app
            .store()
            .keys()
            .iter()
            .filter(|key| key.starts_with(&format!("demandes/{compact}/connexion-echec-")))
            .count();
        assert_eq!(failures, usize::from(form::limits::MAX_FAILED_SIGNINS));
        let unknown_compact = unknown.replace('-', "");
        assert!(
            app.store().keys().iter().all(|key| !key.contains(&unknown_compact)),
            "nothing written for an unknown number"
        );

        // The sign-in page itself, and « Mes Cartes » through a space token.
        let page = app.handle(request("GET", "/espace"), NOW).await;
        assert!(text(&page).contains("Mon espace personnel"));
        let token = app.tokens.issue(
            crate::account::token::Purpose::Space,
            &form::Dossier::parse(&dossier).unwrap(),
            NOW,
        );
        let cards = text(&app.handle(request("GET", &format!("/espace?jeton={token}")), NOW).await);
        assert!(cards.contains("Mes Cartes") && cards.contains("Demande reçue"), "{cards}");
    }

    // « Mes Cartes »'s setting: refused before the activation, saved after it, shown as saved,
    // and closed after the allowed changes.
    #[tokio::test]
    async fn setting_changes_from_the_space() {
        let app = app();
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        let dossier = form::Dossier::parse(receipt["dossier"].as_str().unwrap()).unwrap();
        let space = app.tokens.issue(crate::account::token::Purpose::Space, &dossier, NOW);
        let change = |value: &'static str| {
            token_post("/reglage", &[("jeton", space.as_str()), ("envoi_etablissement", value)])
        };
        let before = json(&app.handle(change("non"), NOW).await);
        assert_eq!(before["envoi_etablissement"], true, "not activated: nothing changes");

        let activation = app.tokens.issue(crate::account::token::Purpose::Activation, &dossier, NOW);
        app.handle(token_post("/activation", &[("jeton", &activation), ("envoi_etablissement", "oui")]), NOW)
            .await;
        for n in 1..=form::limits::MAX_SETTING_CHANGES {
            let value = if n % 2 == 1 { "non" } else { "oui" };
            let page = app.handle(change(value), NOW).await;
            assert_eq!(page.status(), StatusCode::OK);
            assert_eq!(json(&page)["envoi_etablissement"], value == "oui", "change {n}");
        }
        let mut as_page = change("non");
        as_page.headers_mut().insert(header::ACCEPT, HeaderValue::from_static("text/html"));
        let html = text(&app.handle(as_page, NOW).await);
        assert!(html.contains("Ce choix a déjà été modifié plusieurs fois"), "{html}");
        assert!(!html.contains("action=\"reglage\""), "no form once closed");
        let compact = dossier.compact().to_owned();
        let changes = app
            .store()
            .keys()
            .iter()
            .filter(|key| key.starts_with(&format!("demandes/{compact}/reglage-")))
            .count();
        assert_eq!(changes, usize::from(form::limits::MAX_SETTING_CHANGES));
    }

    // « Demande de duplicata »: a reason is required and a refused photo is said, both with
    // nothing written; a new photo is stored before the request that names it; a second request
    // changes nothing; « Mes Cartes » and the form's link then show the one stored.
    #[tokio::test]
    async fn duplicate_request() {
        let app = app();
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        let dossier = form::Dossier::parse(receipt["dossier"].as_str().unwrap()).unwrap();
        let compact = dossier.compact().to_owned();
        let space = app.tokens.issue(crate::account::token::Purpose::Space, &dossier, NOW);
        let page = app.handle(request("GET", &format!("/duplicata?jeton={space}")), NOW).await;
        assert_eq!(page.status(), StatusCode::OK);
        let page = text(&page);
        for motif in crate::account::Motif::ALL {
            assert!(page.contains(&format!("value=\"{}\"", motif.wire())), "{page}");
        }
        let stored = app.store().keys();

        let texts = &crate::texts().account;
        let with = |motif: Option<&str>, photo: Option<&[u8]>| {
            let mut body = Multipart::new().text("jeton", &space);
            if let Some(motif) = motif {
                body = body.text("motif", motif);
            }
            body_post(
                "/duplicata",
                &photo.map_or(body.clone(), |photo| body.file(PHOTO_FIELD, "p.jpg", photo)),
            )
        };
        let not_a_photo: &[u8] = b"not a photo";
        let cases = [
            (None, None, texts.duplicate_reason_missing.clone()),
            (Some("autre"), Some(photo_upload()), texts.duplicate_reason_missing.clone()),
            (Some("vol"), Some(not_a_photo), PhotoError::Unsupported.message_fr(&crate::texts().photo)),
        ];
        for (motif, photo, message) in cases {
            let refused = app.handle(with(motif, photo), NOW).await;
            assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{motif:?}");
            assert_eq!(json(&refused)["error"], message, "{motif:?}");
            assert_eq!(app.store().keys(), stored, "nothing written");
        }

        let done = app.handle(with(Some("vol"), Some(photo_upload())), NOW).await;
        assert_eq!(done.status(), StatusCode::CREATED, "{}", text(&done));
        assert_eq!(json(&done)["duplicata"]["motif"], "vol");
        let photos = keys_of(&app, &compact, "duplicata-");
        let [photo] = photos.as_slice() else { panic!("{photos:?}") };
        let record = app.store().object(&format!("demandes/{compact}/duplicata.json")).unwrap();
        let record: serde_json::Value = serde_json::from_slice(&record.bytes).unwrap();
        assert_eq!(record["photo"], photo.as_str());
        assert_eq!(record["motif"], "vol");
        let jpeg = &app.store().object(photo).unwrap().bytes;
        assert!(jpeg.starts_with(&[0xFF, 0xD8]), "the pipeline's JPEG");

        let again = app.handle(with(Some("perte"), None), NOW).await;
        assert_eq!(again.status(), StatusCode::OK);
        assert_eq!(
            (json(&again)["deja_demande"].as_bool(), json(&again)["duplicata"]["motif"].as_str()),
            (Some(true), Some("vol"))
        );
        let cards = app.handle(request("GET", &format!("/espace?jeton={space}")), NOW).await;
        assert!(
            text(&cards).contains("motif\u{a0}: vol") || text(&cards).contains("motif\u{202f}: vol"),
            "{}",
            text(&cards)
        );
        let link = text(&app.handle(request("GET", &format!("/duplicata?jeton={space}")), NOW).await);
        assert!(link.contains(&texts.duplicate_before) && !link.contains("name=\"motif\""), "{link}");
        assert_eq!(keys_of(&app, &compact, "duplicata").len(), 2, "one photo, one request");
    }

    // A duplicate request cut after its photo is completed by the retry, which adopts the photo;
    // of two sent at once, one is stored, and the other, sent again, shows it.
    #[tokio::test]
    async fn duplicate_request_retry_and_race() {
        let app = app();
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        let dossier = form::Dossier::parse(receipt["dossier"].as_str().unwrap()).unwrap();
        let compact = dossier.compact().to_owned();
        let space = app.tokens.issue(crate::account::token::Purpose::Space, &dossier, NOW);
        let body = |motif: &str| {
            Multipart::new().text("jeton", &space).text("motif", motif).file(
                PHOTO_FIELD,
                "p.jpg",
                photo_upload(),
            )
        };
        app.store().fail_puts_ending_with("duplicata.json");
        let cut = app.handle(body_post("/duplicata", &body("perte")), NOW).await;
        assert_eq!(cut.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(keys_of(&app, &compact, "duplicata").len(), 1, "the photo alone");
        app.store().heal();
        let retried = app.handle(body_post("/duplicata", &body("perte")), NOW).await;
        assert_eq!(retried.status(), StatusCode::CREATED);
        assert_eq!(keys_of(&app, &compact, "duplicata").len(), 2, "the same photo, adopted");

        let other =
            app.handle(post("/demande", &form(&app, &[("prenom", "Jade")]), "application/json"), NOW).await;
        let other = form::Dossier::parse(json(&other)["dossier"].as_str().unwrap()).unwrap();
        let token = app.tokens.issue(crate::account::token::Purpose::Space, &other, NOW);
        let send = |motif: &'static str| {
            let body = Multipart::new().text("jeton", &token).text("motif", motif);
            app.handle(body_post("/duplicata", &body), NOW)
        };
        let (first, second) = tokio::join!(send("vol"), send("degradation"));
        let (winner, loser) =
            if first.status() == StatusCode::CREATED { (first, "degradation") } else { (second, "vol") };
        assert_eq!(winner.status(), StatusCode::CREATED);
        // The other saw it stored (200), or still in flight: a 503 to try again, as a request's.
        let retried = send(loser).await;
        assert_eq!(retried.status(), StatusCode::OK);
        assert_eq!(json(&retried)["duplicata"]["motif"], json(&winner)["duplicata"]["motif"]);
    }

    // A status the staff set replaces « Demande reçue » / « Compte activé » in « Mes Cartes »; the
    // latest one counts.
    #[tokio::test]
    async fn staff_status_shows_in_the_space() {
        use crate::account::Statut;
        use crate::storage::account::{StatusNote, note_status};
        let app = app();
        let receipt = json(&app.handle(post("/demande", &form(&app, &[]), "application/json"), NOW).await);
        let dossier = form::Dossier::parse(receipt["dossier"].as_str().unwrap()).unwrap();
        let space = app.tokens.issue(crate::account::token::Purpose::Space, &dossier, NOW);
        let cards = || app.handle(request("GET", &format!("/espace?jeton={space}")), NOW);
        assert!(text(&cards().await).contains(&crate::texts().account.status_received));
        for (n, statut) in [(1, Statut::Incomplet), (2, Statut::CarteArrivee)] {
            let note = StatusNote { changed_at: NOW, statut };
            assert!(note_status(app.store(), &dossier, n, &note).await.unwrap());
            let page = text(&cards().await);
            assert!(page.contains(&format!("<p class=\"status\">{}</p>", statut.label_fr())), "{page}");
        }
    }
}
