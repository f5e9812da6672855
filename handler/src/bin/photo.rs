//! `photo`: runs the handler's ID-photo pipeline on one file, for the benchmarks against
//! `vipsthumbnail` (issue 5) and for trying a photo by hand. Reads the input whole, as the
//! handler receives it, and writes the 413×531 JPEG.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use form::Crop;
use handler::photo;

/// Makes a 413×531 ID photo (JPEG, at most 200 KB, no metadata) from a JPEG, PNG or WebP.
#[derive(Parser)]
#[command(name = "photo")]
struct Args {
    /// The photo to convert.
    input: PathBuf,
    /// Where to write the ID photo.
    output: PathBuf,
    /// Crop rectangle `x,y,w,h` in pixels of the upright photo; default: the centred frame.
    #[arg(long)]
    crop: Option<Crop>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let bytes = match std::fs::read(&args.input) {
        Ok(bytes) => bytes,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.input.display());
            return ExitCode::FAILURE;
        }
    };
    let made = match photo::process(&bytes, args.crop) {
        Ok(made) => made,
        Err(e) => {
            eprintln!("error: `{}`: {e}", args.input.display());
            return ExitCode::FAILURE;
        }
    };
    // Free the upload before writing, as the handler would, so peak memory is the pipeline's.
    drop(bytes);
    if let Err(e) = std::fs::write(&args.output, &made.jpeg) {
        eprintln!("error: cannot write `{}`: {e}", args.output.display());
        return ExitCode::FAILURE;
    }
    println!(
        "{:?} {}x{} -> {} bytes",
        made.source_format,
        made.source_width,
        made.source_height,
        made.jpeg.len()
    );
    ExitCode::SUCCESS
}
