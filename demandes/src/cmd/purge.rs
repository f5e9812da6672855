//! `demandes purge --avant AAAA-MM-JJ [--confirmer]`: erases the requests received before a day
//! (the end of the retention the privacy page promises), and the folders without a request last
//! written before it. Without `--confirmer` it only lists; with it, it erases exactly what it
//! lists, each request's record first (from then on it is no request: a stop halfway leaves an
//! orphan that the next purge finds), its notes next, its photos last.

use anyhow::{Context, bail};
use demandes::day_fr;
use demandes::inbox::Folder;
use handler::storage::s3::S3Store;
use handler::storage::store::Kind;
use time::{Date, OffsetDateTime};

#[derive(clap::Args)]
pub struct Args {
    /// Efface ce qui a été reçu avant ce jour (exclu), au format AAAA-MM-JJ.
    #[arg(long)]
    avant: String,
    /// Efface pour de bon ; sans cette option, la commande montre seulement ce qu’elle effacerait.
    #[arg(long)]
    confirmer: bool,
}

pub async fn run(store: &S3Store, args: Args) -> anyhow::Result<()> {
    let before = Date::parse(&args.avant, time::macros::format_description!("[year]-[month]-[day]"))
        .with_context(|| format!("« {} » n’est pas une date AAAA-MM-JJ", args.avant))?;
    if before > OffsetDateTime::now_utc().date() {
        bail!("la date {} est dans le futur : rien n’est effacé", day_fr(before));
    }
    let (listing, entries) = super::everything(store).await?;
    let mut doomed: Vec<(&Folder, String)> = Vec::new();
    for folder in &listing.folders {
        match entries.iter().find(|entry| entry.dossier == folder.dossier) {
            Some(entry) if entry.request.received_at.date() < before => doomed.push((
                folder,
                format!(
                    "demande de {} {} reçue le {}",
                    entry.request.fields.prenom,
                    entry.request.fields.nom,
                    day_fr(entry.request.received_at.date())
                ),
            )),
            Some(_) => {}
            None if folder.last_modified().is_some_and(|at| at.date() < before) => {
                doomed.push((folder, "sans demande (envoi interrompu)".to_owned()));
            }
            None => {}
        }
    }
    let objects: usize = doomed.iter().map(|(folder, _)| folder.objects.len()).sum();
    for (folder, what) in &doomed {
        println!("{}  {what}  ({} objet(s))", folder.dossier, folder.objects.len());
    }
    if !args.confirmer {
        println!(
            "Simulation : {} dossier(s), {objects} objet(s) seraient effacés. Relancez avec --confirmer pour les effacer.",
            doomed.len()
        );
        return Ok(());
    }
    let bar = super::progress(objects, "Effacement");
    for (folder, _) in &doomed {
        for object in in_erasing_order(folder) {
            store.delete(&object.key).await.with_context(|| {
                format!(
                    "effacement du dossier {} arrêté à `{}` ; ce qui précède est effacé",
                    folder.dossier, object.key
                )
            })?;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    println!("{} dossier(s), {objects} objet(s) effacés.", doomed.len());
    Ok(())
}

/// The record first, the photos last, the notes in between.
fn in_erasing_order(folder: &Folder) -> Vec<&demandes::inbox::Object> {
    let rank = |kind: Kind| match kind {
        Kind::Record => 0,
        Kind::Photo | Kind::DuplicatePhoto => 2,
        _ => 1,
    };
    let mut objects: Vec<_> = folder.objects.iter().collect();
    objects.sort_by_key(|object| rank(object.kind));
    objects
}
