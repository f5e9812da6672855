//! The Pass'Région request form's contract, shared by the generator (which renders it and
//! serialises it for the page's script) and the handler (which checks requests with it): the
//! schema and texts read from `content/form.toml`, the validation rules, the limits, the photo
//! formats and framing, and the dossier number. Pure: no I/O, no HTTP, no templates.

mod contract;
mod crop;
mod dossier;
pub mod format;
pub mod framing;
pub mod limits;
pub mod messages;
mod schema;
mod submission;
mod validate;

pub use contract::VERSION_FIELD;
pub use crop::{Crop, CropError};
pub use dossier::{Dossier, DossierError};
pub use messages::{AccountTexts, AnswerTexts, HintTexts, PageTexts, PhotoTexts, Texts, fill};
pub use schema::{DateRange, Field, FieldKind, Messages, Rules, Schema, SchemaError};
pub use submission::{SubmissionId, SubmissionIdError};
pub use validate::{Demande, FieldErrors, Input};

/// Dates travel as `YYYY-MM-DD` (the value of a date input), in JSON too.
fn serialize_date<S: serde::Serializer>(date: &time::Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&format_args!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// The real `content/form.toml`, for the tests.
#[cfg(test)]
const FORM_TOML: &str = include_str!("../../content/form.toml");
