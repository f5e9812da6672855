//! `demandes show <dossier>`: everything stored for one request.

use anyhow::bail;
use demandes::day_fr;
use demandes::inbox::{Entry, Listing};
use handler::storage::s3::S3Store;
use handler::storage::store::Kind;

#[derive(clap::Args)]
pub struct Args {
    /// Le numéro de dossier, écrit comme l’élève l’a reçu (majuscules, tirets et espaces
    /// facultatifs).
    dossier: String,
}

pub async fn run(store: &S3Store, args: Args) -> anyhow::Result<()> {
    let dossier = super::dossier(&args.dossier)?;
    let listing = Listing::read(store).await?;
    let Some(folder) = listing.folder(&dossier) else { bail!("aucune demande n’a le numéro {dossier}") };
    let Some(entry) = Entry::read(store, folder).await? else {
        bail!(
            "le dossier {dossier} n’a pas de demande, seulement les restes d’un envoi interrompu : voir `demandes orphelins`"
        )
    };
    let fields = &entry.request.fields;
    let yes_no = |value: bool| if value { "oui" } else { "non" };
    println!("Dossier            {}", entry.dossier);
    println!("Reçue le           {}", day_fr(entry.request.received_at.date()));
    println!("Nom                {}", fields.nom);
    println!("Prénom             {}", fields.prenom);
    println!("Date de naissance  {}", fields.date_naissance);
    println!("E-mail             {}", fields.email);
    println!("Établissement      {}", fields.etablissement);
    println!("Filière            {}", fields.filiere);
    println!("Envoi au lycée     {}", yes_no(entry.envoi_etablissement));
    println!(
        "Compte activé      {}",
        entry.activated_at.map_or_else(|| "non".to_owned(), |at| format!("oui, le {}", day_fr(at.date())))
    );
    match &entry.status {
        Some((n, note)) => println!(
            "Statut             {} ({}, le {}, changement n° {n})",
            note.statut.label_fr(),
            note.statut.wire(),
            day_fr(note.changed_at.date())
        ),
        None => println!("Statut             {}", entry.status_fr()),
    }
    if let Some(duplicate) = &entry.duplicate {
        let photo = if duplicate.photo.is_some() { "avec une nouvelle photo" } else { "sans nouvelle photo" };
        println!(
            "Duplicata          {} le {}, {photo}",
            duplicate.motif.label_fr(),
            day_fr(duplicate.requested_at.date())
        );
    }
    let count = |wanted: fn(Kind) -> bool| folder.objects.iter().filter(|object| wanted(object.kind)).count();
    println!("E-mails envoyés    {}", count(|kind| matches!(kind, Kind::Mail(_))));
    println!("Connexions ratées  {}", count(|kind| matches!(kind, Kind::FailedSignin(_))));
    println!("Photo              {}", if entry.photo { "présente" } else { "ABSENTE" });
    println!("Objets             {}", folder.objects.len());
    for object in &folder.objects {
        println!("  {} ({} octets)", object.key, object.size);
    }
    Ok(())
}
