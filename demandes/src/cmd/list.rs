//! `demandes list`: one line per request, oldest first, with what is missing (the account not
//! activated, the photo absent) and a duplicate request flagged.

use demandes::day_fr;
use handler::storage::s3::S3Store;

#[derive(clap::Args)]
pub struct Args {}

pub async fn run(store: &S3Store, _args: Args) -> anyhow::Result<()> {
    let (listing, mut entries) = super::everything(store).await?;
    entries.sort_by_key(|entry| entry.request.received_at);
    println!(
        "{:<10}  {:<11}  {:<30}  {:<34}  {:<40}  À vérifier",
        "Date", "Dossier", "Nom", "Filière", "Statut"
    );
    let mut flagged = 0;
    for entry in &entries {
        let fields = &entry.request.fields;
        let mut problems: Vec<String> =
            entry.problems().iter().map(|problem| (*problem).to_owned()).collect();
        if let Some(duplicate) = &entry.duplicate {
            problems.push(format!("duplicata demandé ({})", duplicate.motif.label_fr().to_lowercase()));
        }
        if !problems.is_empty() {
            flagged += 1;
        }
        println!(
            "{:<10}  {:<11}  {:<30}  {:<34}  {:<40}  {}",
            day_fr(entry.request.received_at.date()),
            entry.dossier.to_string(),
            format!("{} {}", fields.nom, fields.prenom),
            fields.filiere,
            entry.status_fr(),
            problems.join(", ")
        );
    }
    let orphans = listing.folders.len() - entries.len();
    println!("{} demande(s), dont {flagged} à vérifier.", entries.len());
    if orphans > 0 {
        println!("{orphans} dossier(s) sans demande : voir `demandes orphelins`.");
    }
    Ok(())
}
