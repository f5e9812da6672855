//! `demandes`: the school's staff's command over the requests the function stored. Thin: each
//! subcommand owns its arguments and its work in `cmd/<name>.rs`; the reading of the bucket is
//! the library's ([`demandes::inbox`]). Messages are French, for the staff; any failure prints
//! what failed, with its causes, and exits with 1.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use handler::storage::s3::S3Store;

/// Les demandes de Pass’Région reçues par le service de l’établissement.
#[derive(Parser)]
#[command(name = "demandes", version)]
struct Cli {
    /// Le compartiment S3 des demandes (la sortie `Bucket` du déploiement).
    #[arg(long, env = "BUCKET_NAME", global = true)]
    bucket: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Liste les demandes : date, dossier, nom, filière, statut, ce qui manque.
    List(cmd::list::Args),
    /// Montre un dossier en entier.
    Show(cmd::show::Args),
    /// Écrit le tableau des demandes (CSV pour Excel et LibreOffice).
    Export(cmd::export::Args),
    /// Copie les photos dans un dossier, nommées par numéro et par nom.
    Photos(cmd::photos::Args),
    /// Change le statut d’une demande, que l’élève voit dans « Mes Cartes ».
    Statut(cmd::statut::Args),
    /// Efface les demandes reçues avant une date (simulation sans --confirmer).
    Purge(cmd::purge::Args),
    /// Liste les objets qu’aucune demande ne nomme (envois interrompus).
    Orphelins(cmd::orphelins::Args),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demandes : erreur : {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let bucket = cli.bucket.ok_or_else(|| {
        anyhow::anyhow!("aucun compartiment : indiquez --bucket ou la variable BUCKET_NAME")
    })?;
    let store = S3Store::from_env(bucket).await?;
    match cli.command {
        Command::List(args) => cmd::list::run(&store, args).await,
        Command::Show(args) => cmd::show::run(&store, args).await,
        Command::Export(args) => cmd::export::run(&store, args).await,
        Command::Photos(args) => cmd::photos::run(&store, args).await,
        Command::Statut(args) => cmd::statut::run(&store, args).await,
        Command::Purge(args) => cmd::purge::run(&store, args).await,
        Command::Orphelins(args) => cmd::orphelins::run(&store, args).await,
    }
}
