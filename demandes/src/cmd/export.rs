//! `demandes export [FICHIER]`: the CSV of the « document à rendre », oldest request first.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use handler::storage::s3::S3Store;

#[derive(clap::Args)]
pub struct Args {
    /// Le fichier à écrire (par exemple `demandes.csv`) ; sans lui, le tableau s’écrit sur la
    /// sortie standard. Un fichier qui existe déjà n’est jamais remplacé.
    fichier: Option<PathBuf>,
}

pub async fn run(store: &S3Store, args: Args) -> anyhow::Result<()> {
    let (_, mut entries) = super::everything(store).await?;
    entries.sort_by_key(|entry| entry.request.received_at);
    match &args.fichier {
        Some(path) => {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("impossible de créer `{}`", path.display()))?;
            demandes::export::write(&entries, file)
                .with_context(|| format!("écriture de `{}`", path.display()))?;
            eprintln!("{} demande(s) écrites dans `{}`.", entries.len(), path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            demandes::export::write(&entries, &mut out).context("écriture du tableau")?;
            out.flush()?;
        }
    }
    Ok(())
}
