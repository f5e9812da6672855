//! `generator build`: writes the site, or leaves the previous one untouched on error.

use std::path::Path;

use generator::{Paths, Result};

pub fn run(paths: &Paths, out: &Path) -> Result<()> {
    let report = generator::build(paths, out)?;
    println!(
        "built `{}`: {} pages and {} other files in {} ms",
        out.display(),
        report.pages,
        report.files,
        report.elapsed.as_millis()
    );
    Ok(())
}
