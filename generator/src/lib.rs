//! The Pass'Région guide generator: Markdown content and Tera templates in, an offline-ready
//! static site out. One module per stage of the pipeline:
//!
//! - [`config`]: the school's `site.toml`;
//! - [`content`]: pages, front matter, guides and their steps;
//! - [`markdown`]: Markdown to HTML, with typography, callouts, pictures and checked links;
//! - [`typography`]: French spacing rules for text;
//! - [`images`]: pictures sized and encoded;
//! - [`templates`]: the Tera templates;
//! - [`site`]: the build, from loading to the swap of the finished folder;
//! - [`serve`]: the preview server that rebuilds on change.

pub mod config;
pub mod content;
pub mod error;
pub mod images;
pub mod markdown;
pub mod paths;
pub mod serve;
pub mod site;
pub mod templates;
pub mod typography;

pub use config::SiteConfig;
pub use content::Content;
pub use error::{Error, Result};
pub use site::{Paths, Report, Site, build, check};
