//! `generator check`: renders everything in memory to find mistakes, writes nothing.

use generator::{Paths, Result};

pub fn run(paths: &Paths) -> Result<()> {
    let pages = generator::check(paths)?;
    println!("`{}` is fine: {pages} pages would be built", paths.content.display());
    Ok(())
}
