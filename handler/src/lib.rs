//! The Pass'Région request handler: receives the request form posted by the site, checks it with
//! the shared `form` rules, turns the photo into a compliant ID photo, stores photo then record in
//! S3 without ever overwriting anything, and answers with the dossier number.
//!
//! The binary (`src/main.rs`) only reads the configuration and hands [`App::handle`] to
//! `lambda_http::run`; everything that can be tested without AWS lives here.

pub mod app;
pub mod commit;
pub mod config;
pub mod cors;
pub mod html;
pub mod idempotency;
pub mod multipart;
pub mod photo;
pub mod response;
pub mod s3;
pub mod store;
#[cfg(test)]
mod testing;

pub use app::App;
pub use config::{Config, ConfigError};
pub use s3::S3Store;
pub use store::{ObjectKey, PutOutcome, Store, StoreError, StoredObject};

/// The request form's schema, the same file the generator renders the form from.
const FORM_TOML: &str = include_str!("../../content/form.toml");

/// Parses the embedded form schema. Called once at start-up: a broken `content/form.toml` stops
/// the function before it takes any request.
pub fn schema() -> Result<form::Schema, form::SchemaError> {
    form::Schema::parse(FORM_TOML)
}
