//! The school's staff's side of the bucket: what students sent, read through the function's own
//! storage layout ([`handler::storage`]), so that the command and the function never disagree on
//! a key or a record. [`inbox`] reads the bucket into one [`inbox::Entry`] per request, [`export`]
//! writes the CSV of the « document à rendre », [`names`] makes the photos' file names; the
//! subcommands (`src/cmd/`) are thin on top.

pub mod export;
pub mod inbox;
pub mod names;

/// How many dossiers are read at once: enough to hide S3's latency, few enough to stay well
/// under S3's request rates and the command's memory (one record each).
pub const CONCURRENCY: usize = 8;

/// A day as the command writes it: `JJ/MM/AAAA`.
pub fn day_fr(date: time::Date) -> String {
    format!("{:02}/{:02}/{}", date.day(), u8::from(date.month()), date.year())
}
