//! The `generator` command: `build`, `check` and `serve` the Pass'Région guide.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Builds the Pass'Région guide from Markdown content and Tera templates.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Builds the site into the output folder, replacing it only if the build succeeds.
    Build {
        #[command(flatten)]
        sources: Sources,
        /// The folder to write the site to.
        #[arg(long, default_value = "site")]
        out: PathBuf,
        /// Also writes the site as this zip (e.g. `pass-region.zip`), the same bytes for the same
        /// site, for a USB key or an intranet upload.
        #[arg(long)]
        zip: Option<PathBuf>,
    },
    /// Checks the content and templates without writing anything.
    Check {
        #[command(flatten)]
        sources: Sources,
    },
    /// Serves a preview on 127.0.0.1 that rebuilds and reloads when a file changes.
    Serve {
        #[command(flatten)]
        sources: Sources,
        /// The port to listen on.
        #[arg(long, default_value_t = 1111)]
        port: u16,
    },
}

/// Where the content and templates are.
#[derive(Args)]
struct Sources {
    /// The content folder (Markdown pages, pictures, site.toml).
    #[arg(long, default_value = "content")]
    content: PathBuf,
    /// The templates folder (Tera templates and static assets).
    #[arg(long, default_value = "templates")]
    templates: PathBuf,
}

impl Sources {
    fn paths(self) -> generator::Paths {
        generator::Paths { content: self.content, templates: self.templates }
    }
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Build { sources, out, zip } => cmd::build::run(&sources.paths(), &out, zip.as_deref()),
        Command::Check { sources } => cmd::check::run(&sources.paths()),
        Command::Serve { sources, port } => cmd::serve::run(&sources.paths(), port),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", generator::error::chain(&error));
            ExitCode::FAILURE
        }
    }
}
