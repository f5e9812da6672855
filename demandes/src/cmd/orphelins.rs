//! `demandes orphelins`: what no request names. A try that stopped after its photo leaves a
//! folder without a record (the function writes the photo first and the record last); a
//! duplicate request cut in the same way, or that lost a race, leaves a `duplicata-….jpg` that
//! `duplicata.json` does not name. Keys that are not the layout's are listed too, untouched.

use demandes::day_fr;
use demandes::inbox::Listing;
use handler::storage::account;
use handler::storage::s3::S3Store;
use handler::storage::store::Kind;

#[derive(clap::Args)]
pub struct Args {}

pub async fn run(store: &S3Store, _args: Args) -> anyhow::Result<()> {
    let listing = Listing::read(store).await?;
    let mut count = 0;
    for folder in &listing.folders {
        let named = if folder.has(Kind::Duplicate) {
            account::duplicate(store, &folder.dossier).await?.and_then(|duplicate| duplicate.photo)
        } else {
            None
        };
        for object in &folder.objects {
            let orphan = !folder.has(Kind::Record)
                || (object.kind == Kind::DuplicatePhoto && named.as_deref() != Some(object.key.as_str()));
            if orphan {
                count += 1;
                let day =
                    object.last_modified.map_or_else(|| "date inconnue".to_owned(), |at| day_fr(at.date()));
                println!("{}  {}  {} octets", object.key, day, object.size);
            }
        }
    }
    for raw in &listing.foreign {
        println!("{raw}  (pas une clé du service : laissée telle quelle)");
    }
    println!("{count} objet(s) orphelin(s).");
    if count > 0 {
        println!(
            "`demandes purge` efface les dossiers sans demande avec les autres, une fois la date passée."
        );
    }
    Ok(())
}
