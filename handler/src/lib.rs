//! The Pass'Région request handler: receives the request form posted by the site, checks it with
//! the shared `form` rules, turns the photo into a compliant ID photo, stores photo then record in
//! S3 without ever overwriting anything, and answers with the dossier number.
//!
//! The folders follow the request: [`http`] reads it and writes the answer (multipart, CORS, the
//! outcomes and their statuses, the pages, the log line), [`photo`] makes the ID photo, [`storage`]
//! keeps photo and record (and what follows: the e-mails, the activation), [`mail`] writes and
//! sends the e-mail, [`account`] signs the tokens of its link, and [`app`] is the flow from one to
//! the next, the only module that knows them all. [`config`] reads the settings. The binary (`src/main.rs`) reads the configuration,
//! builds the S3 client and hands [`App::handle`] to `lambda_http::run`; everything that can be
//! tested without AWS lives here.

pub mod account;
pub mod app;
pub mod config;
pub mod http;
pub mod mail;
pub mod storage;
#[cfg(test)]
mod testing;

pub use app::App;
pub use config::{Config, ConfigError};
/// The ID-photo pipeline, a crate of its own for its build profile (`handler/photo/Cargo.toml`).
pub use photo;
pub use storage::s3::S3Store;
pub use storage::store::{ObjectKey, PutOutcome, Store, StoreError, StoredObject};

// The modules' paths from before the folders, which the integration tests name
// (`handler::cors::AllowedOrigins`, `handler::s3::timeouts`, …): kept rather than the tests edited.
pub use http::{cors, multipart, response};
pub use storage::{commit, idempotency, s3, store};

/// The request form's schema, the same file the generator renders the form from.
const FORM_TOML: &str = include_str!("../../content/form.toml");

/// Parses the embedded form schema. Called once at start-up: a broken `content/form.toml` stops
/// the function before it takes any request.
pub fn schema() -> Result<form::Schema, form::SchemaError> {
    form::Schema::parse(FORM_TOML)
}

/// The contract's texts (`[messages]` of the embedded `content/form.toml`), which the page shows
/// too: the answers' titles and texts, the photo's refusals.
///
/// A process-wide value rather than a parameter threaded through every answer: the file is a
/// compile-time constant, and `main` parses it through [`schema`] before taking any request, so a
/// broken file stops the start rather than reaching this. The photo crate, which cannot reach it,
/// gets its part as a parameter (`PhotoError::message_fr`, `Hint::message_fr`).
pub fn texts() -> &'static form::Texts {
    static SCHEMA: std::sync::LazyLock<form::Schema> = std::sync::LazyLock::new(|| {
        schema().unwrap_or_else(|error| panic!("embedded `content/form.toml`: {error}"))
    });
    SCHEMA.messages()
}
