//! `demandes photos <DOSSIER>`: every ID photo copied into a folder, named by dossier and name;
//! a duplicate request's new photo beside it, with `_duplicata`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use demandes::names::photo_file;
use handler::storage::s3::S3Store;
use handler::storage::store::{ObjectKey, Store};

#[derive(clap::Args)]
pub struct Args {
    /// Le dossier où copier les photos (créé s’il n’existe pas) ; une photo déjà copiée n’est
    /// jamais remplacée.
    dossier: PathBuf,
}

pub async fn run(store: &S3Store, args: Args) -> anyhow::Result<()> {
    let (listing, entries) = super::everything(store).await?;
    std::fs::create_dir_all(&args.dossier)
        .with_context(|| format!("impossible de créer le dossier `{}`", args.dossier.display()))?;
    let bar = super::progress(entries.len(), "Copie des photos");
    let mut copied = 0;
    for entry in &entries {
        let fields = &entry.request.fields;
        let mut photos = vec![(ObjectKey::photo(&entry.dossier), None)];
        if let Some(key) = entry.duplicate.as_ref().and_then(|duplicate| duplicate.photo.as_deref()) {
            // The key the record names, through the layout's parser: nothing else is read.
            let folder = listing.folder(&entry.dossier);
            match folder.and_then(|folder| folder.objects.iter().find(|object| object.key.as_str() == key)) {
                Some(object) => photos.push((object.key.clone(), Some("duplicata"))),
                None => bail!("la photo du duplicata du dossier {} est introuvable (`{key}`)", entry.dossier),
            }
        }
        for (key, suffix) in photos {
            let Some(object) = store.get(&key).await.with_context(|| format!("lecture de `{key}`"))? else {
                bail!("la photo du dossier {} est absente (`{key}`)", entry.dossier);
            };
            let path = args.dossier.join(photo_file(&entry.dossier, &fields.nom, &fields.prenom, suffix));
            write_new(&path, &object.bytes)?;
            copied += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!("{copied} photo(s) copiées dans `{}`.", args.dossier.display());
    Ok(())
}

/// Writes a new file; an existing one is an error, left as it is.
fn write_new(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .with_context(|| format!("impossible de créer `{}` (existe-t-il déjà ?)", path.display()))?;
    file.write_all(bytes).with_context(|| format!("écriture de `{}`", path.display()))
}
