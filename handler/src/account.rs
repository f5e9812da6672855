//! The student's side after the request: the signed tokens that stand for a dossier in the
//! e-mail's link and on the receipt ([`token`]). What they open (activation, sending the e-mail
//! again) is the flow's, in [`crate::app`]; what it writes is [`crate::storage::account`]'s. The
//! duplicate request's reasons are [`Motif`], and the statuses the school's staff set [`Statut`].

mod motif;
mod statut;
pub mod token;

pub use motif::Motif;
pub use statut::Statut;
