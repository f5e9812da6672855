//! The subcommands, one module each, and what they share: reading every request with a progress
//! bar, and a dossier number read forgivingly.

pub mod export;
pub mod list;
pub mod orphelins;
pub mod photos;
pub mod purge;
pub mod show;
pub mod statut;

use anyhow::Context;
use demandes::inbox::{self, Entry, Listing};
use form::Dossier;
use handler::storage::s3::S3Store;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on the terminal for `len` steps; drawn nowhere when stderr is not a terminal
/// (a script, a test), so that the output stays clean.
pub fn progress(len: usize, message: &'static str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} {bar:30} {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(message);
    bar
}

/// The listing and every request in it, read with a progress bar.
pub async fn everything(store: &S3Store) -> anyhow::Result<(Listing, Vec<Entry>)> {
    let listing = Listing::read(store).await.context("lecture de la liste des demandes")?;
    let bar = progress(listing.folders.len(), "Lecture des demandes");
    let entries = inbox::entries(store, &listing, || bar.inc(1)).await?;
    bar.finish_and_clear();
    Ok((listing, entries))
}

/// A dossier number as the staff may type it (lowercase, spaces, O for 0…), or an error that
/// says what was typed.
pub fn dossier(typed: &str) -> anyhow::Result<Dossier> {
    Dossier::parse(typed).with_context(|| format!("« {typed} » n’est pas un numéro de dossier"))
}
