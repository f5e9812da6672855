//! Shared by the generator's integration tests: a valid `site.toml` for fixture sites.

/// A complete, valid `content/site.toml`.
pub const SITE_TOML: &str = r#"school_name = "Blaise Pascal"
school_display_name = "Lycée Blaise Pascal"
school_town = "Ambert"
region_url = "https://www.auvergnerhonealpes.fr/passregion"
language = "fr"
form_endpoint = "http://127.0.0.1:9000/lambda-url/handler/demande"
activation_email = true
"#;
