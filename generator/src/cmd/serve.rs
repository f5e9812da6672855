//! `generator serve`: a preview on loopback that rebuilds when a file changes.

use generator::{Paths, Result};

pub fn run(paths: &Paths, port: u16) -> Result<()> {
    generator::serve::run(paths, port)
}
