//! The Pass'Région guide generator: Markdown content and Tera templates in, an offline-ready
//! static site out. One module per stage of the pipeline:
//!
//! - [`config`]: the school's `site.toml`;
//! - [`content`]: pages, front matter, guides and their steps;
//! - [`images`]: pictures read with the content, then sized and encoded;
//! - [`markdown`]: Markdown to HTML, with typography, callouts, pictures and checked links (pure);
//! - [`typography`]: French spacing rules for text;
//! - [`templates`]: the Tera templates and the static assets;
//! - [`scripts`]: the pages' scripts, joined from their parts at build, and the stylesheets;
//! - [`minify`]: the scripts and stylesheets minified (pure);
//! - [`view`]: what each page's template gets (pure);
//! - [`output`]: writing into a folder beside the site, swapped in when complete;
//! - [`site`]: the build, from loading to the swap of the finished folder;
//! - [`archive`]: the built site as one reproducible zip, for a USB key;
//! - [`serve`]: the preview server that rebuilds on change.

pub mod archive;
pub mod config;
pub mod content;
pub mod error;
pub mod images;
pub mod markdown;
pub mod minify;
pub mod output;
pub mod paths;
pub mod scripts;
pub mod serve;
pub mod site;
pub mod templates;
pub mod typography;
pub mod view;

pub use config::SiteConfig;
pub use content::Content;
pub use error::{Error, Result};
pub use site::{Paths, Report, Site, build, check};
