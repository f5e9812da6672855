//! `demandes statut <dossier> <statut>`: the status « Mes Cartes » shows. Written as the next
//! numbered note, once (`If-None-Match`): of two staff changing the same request at once, one
//! write is refused and told so, and nothing is overwritten.

use anyhow::bail;
use handler::account::Statut;
use handler::storage::account::{self, MAX_STATUSES, StatusNote};
use handler::storage::s3::S3Store;
use time::OffsetDateTime;

#[derive(clap::Args)]
pub struct Args {
    /// Le numéro de dossier.
    dossier: String,
    /// Le nouveau statut : incomplet, verifie, carte_arrivee ou carte_remise.
    statut: String,
}

pub async fn run(store: &S3Store, args: Args) -> anyhow::Result<()> {
    let dossier = super::dossier(&args.dossier)?;
    let Some(statut) = Statut::parse(args.statut.trim()) else {
        let values: Vec<&str> = Statut::ALL.iter().map(|statut| statut.wire()).collect();
        bail!("« {} » n’est pas un statut ; les statuts sont : {}", args.statut, values.join(", "))
    };
    if account::stored_fields(store, &dossier).await?.is_none() {
        bail!("aucune demande n’a le numéro {dossier}");
    }
    let next = account::latest_status(store, &dossier).await?.map_or(1, |(n, _)| n + 1);
    if next > MAX_STATUSES {
        bail!("le statut du dossier {dossier} a déjà été changé {MAX_STATUSES} fois, le plus possible");
    }
    let note = StatusNote { changed_at: OffsetDateTime::now_utc(), statut };
    if !account::note_status(store, &dossier, next, &note).await? {
        bail!(
            "quelqu’un d’autre vient de changer le statut du dossier {dossier} : vérifiez-le avec \
             `demandes show {dossier}`, puis recommencez si besoin"
        );
    }
    println!("Dossier {dossier} : « {} ».", statut.label_fr());
    Ok(())
}
