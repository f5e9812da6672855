//! `photo`: runs the handler's ID-photo pipeline on one file, for the benchmarks against
//! `vipsthumbnail` (issue 5) and for trying a photo by hand. Reads the input whole, as the
//! handler receives it, writes the 413×531 JPEG and prints the face, the frame and the hints.
//! `--detections N` also runs the face detector N more times on the pipeline's grey copy, so
//! that the benchmark can take one detection's CPU time as the difference of two runs.

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
    /// Crop rectangle `x,y,w,h` in pixels of the upright photo; default: the frame on the face.
    #[arg(long)]
    crop: Option<Crop>,
    /// Runs the face detection this many more times after the pipeline, on its grey copy.
    #[arg(long, default_value_t = 0)]
    detections: u32,
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
    if args.detections > 0 {
        match photo::detector_input(&bytes) {
            Ok((grey, width, height)) => {
                for _ in 0..args.detections {
                    std::hint::black_box(photo::face::detect(&grey, width, height));
                }
            }
            Err(e) => {
                eprintln!("error: `{}`: {e}", args.input.display());
                return ExitCode::FAILURE;
            }
        }
    }
    // Free the upload before writing, as the handler would, so peak memory is the pipeline's.
    drop(bytes);
    if let Err(e) = std::fs::write(&args.output, &made.jpeg) {
        eprintln!("error: cannot write `{}`: {e}", args.output.display());
        return ExitCode::FAILURE;
    }
    let hints: Vec<&str> = made.look.hints.iter().map(|hint| hint.code()).collect();
    println!(
        "{:?} {}x{} -> {} bytes; face {:?}; frame {:?}; hints [{}]",
        made.source_format,
        made.source_width,
        made.source_height,
        made.jpeg.len(),
        made.look.face,
        made.look.frame,
        hints.join(", ")
    );
    ExitCode::SUCCESS
}
