//! One module per subcommand; each only calls the library and prints the outcome.

pub mod build;
pub mod check;
pub mod serve;
