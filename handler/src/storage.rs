//! Where requests are kept, and the one owner of the bucket's layout: the object keys, the record
//! and its version, the conditional writes that never overwrite, the dossier numbers a submission
//! gets, and the S3 client. It stores bytes and records and knows nothing of the photo pipeline or
//! of the function's settings, so that the staff's command can use it as it is.
//!
//! Which way each module depends: [`store`] (the trait, the keys, the in-memory store of the unit
//! tests) and [`idempotency`] stand alone; [`commit`] uses both; [`account`] (the e-mails and the
//! activation noted beside a record) uses [`store`]; [`s3`] implements [`store`].

pub mod account;
pub mod commit;
pub mod idempotency;
pub mod s3;
pub mod store;
