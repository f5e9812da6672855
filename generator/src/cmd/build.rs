//! `generator build`: writes the site, or leaves the previous one untouched on error; with
//! `--zip`, then its archive.

use std::path::Path;

use generator::{Paths, Result};

pub fn run(paths: &Paths, out: &Path, zip: Option<&Path>) -> Result<()> {
    let report = generator::build(paths, out)?;
    println!(
        "built `{}`: {} pages and {} other files in {} ms",
        out.display(),
        report.pages,
        report.files,
        report.elapsed.as_millis()
    );
    if let Some(zip) = zip {
        generator::archive::write(out, zip)?;
        println!("wrote `{}`", zip.display());
    }
    Ok(())
}
