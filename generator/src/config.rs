//! The school's settings, read from `content/site.toml`: the one file a school edits to make the
//! site its own.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The settings of one school's site.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The school's name exactly as the Region's list of establishments spells it.
    pub school_name: String,
    /// The town of the school, shown beside its name.
    pub school_town: String,
    /// The Region's Pass'Région page, where every request starts.
    pub region_url: String,
    /// The language of the pages, as an HTML `lang` value (`fr`).
    pub language: String,
    /// The public address of the site, if it has one; enables `sitemap.xml` and canonical links.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Where the request form posts (the handler's public URL).
    pub form_endpoint: String,
    /// The submission limits the handler applies, for the pages that name them; not a setting:
    /// `site.toml` cannot change them (a `limits` key there is an unknown field).
    #[serde(skip_deserializing)]
    pub limits: Limits,
}

/// The size limits of a submission, from `form::limits`, the one place the handler takes them
/// from too: templates read them as `site.limits`, Markdown as `{{ poids_photo_max }}`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Limits {
    /// The photo size the pages promise, as French text: `4 Mo` (with a narrow no-break space).
    pub max_photo: String,
    /// The same, in bytes: what the photo tool reduces a photo to.
    pub max_photo_bytes: usize,
    /// The largest request body the handler takes: the form's script refuses to send more.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_photo: form::limits::max_photo_fr(),
            max_photo_bytes: form::limits::MAX_PHOTO_BYTES,
            max_body_bytes: form::limits::MAX_BODY_BYTES,
        }
    }
}

impl SiteConfig {
    /// Parses and validates the text of `site.toml`; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<SiteConfig> {
        let mut config: SiteConfig = toml::from_str(text).map_err(|e| Error::toml(path, text, 0, &e))?;
        let fail = |message: String| Error::at(path, None, message);

        for (key, value) in [("school_name", &config.school_name), ("school_town", &config.school_town)] {
            if value.trim().is_empty() {
                return Err(fail(format!("`{key}` is empty: give the school's name and town")));
            }
            if value.contains(['\n', '\r', '{', '}', '<', '>']) {
                return Err(fail(format!(
                    "`{key}` must be plain text on one line (no braces or angle brackets)"
                )));
            }
        }
        config.school_name = config.school_name.trim().to_owned();
        config.school_town = config.school_town.trim().to_owned();

        if !config.region_url.starts_with("https://") {
            return Err(fail(format!(
                "`region_url` must be an https:// address, found `{}`",
                config.region_url
            )));
        }
        let lang_ok = !config.language.is_empty()
            && config
                .language
                .split('-')
                .all(|part| (2..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric()));
        if !lang_ok {
            return Err(fail(format!(
                "`language` must be a language tag such as `fr`, found `{}`",
                config.language
            )));
        }
        if let Some(base) = config.base_url.take() {
            let base = base.trim();
            if !is_http_url(base) {
                return Err(fail(format!(
                    "`base_url` must be an absolute http(s) address such as `https://passregion.lycee.fr/`, found `{base}`"
                )));
            }
            // Pages append their path to the base, so it must end with exactly one slash.
            config.base_url = Some(format!("{}/", base.trim_end_matches('/')));
        }
        if !is_http_url(&config.form_endpoint) {
            return Err(fail(format!(
                "`form_endpoint` must be the handler's absolute http(s) address, found `{}`",
                config.form_endpoint
            )));
        }
        Ok(config)
    }

    /// Reads `site.toml` from disk and parses it.
    pub fn from_file(path: &Path) -> Result<SiteConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        SiteConfig::parse(&text, path)
    }

    /// The value of a Markdown placeholder such as `{{ etablissement }}`, if the name is known.
    pub fn placeholder(&self, name: &str) -> Option<&str> {
        match name {
            "etablissement" => Some(&self.school_name),
            "ville" => Some(&self.school_town),
            "url_region" => Some(&self.region_url),
            "poids_photo_max" => Some(&self.limits.max_photo),
            _ => None,
        }
    }

    /// The names authors may use as placeholders, for error messages.
    pub const PLACEHOLDERS: &'static [&'static str] =
        &["etablissement", "ville", "url_region", "poids_photo_max"];
}

/// An absolute http(s) address with no whitespace.
fn is_http_url(value: &str) -> bool {
    (value.starts_with("https://") || value.starts_with("http://")) && !value.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
school_name = "Sidoine Apollinaire"
school_town = "Clermont-Ferrand"
region_url = "https://www.auvergnerhonealpes.fr/passregion"
language = "fr"
form_endpoint = "http://127.0.0.1:9000/lambda-url/handler/demande"
"#;

    fn parse(text: &str) -> Result<SiteConfig> {
        SiteConfig::parse(text, Path::new("content/site.toml"))
    }

    // The shipped shape parses, and the optional base URL defaults to none.
    #[test]
    fn parses_valid_config() {
        let config = parse(VALID).unwrap();
        assert_eq!(config.school_name, "Sidoine Apollinaire");
        assert_eq!(config.base_url, None);
        assert_eq!(config.placeholder("etablissement"), Some("Sidoine Apollinaire"));
        assert_eq!(config.placeholder("inconnu"), None);
    }

    // The photo size that pages name is the handler's own, in French typography; site.toml
    // cannot set it.
    #[test]
    fn photo_limit_placeholder_is_the_handlers() {
        let config = parse(VALID).unwrap();
        assert_eq!(config.placeholder("poids_photo_max"), Some("4\u{202f}Mo"));
        assert_eq!(config.placeholder("poids_photo_max"), Some(form::limits::max_photo_fr().as_str()));
        assert_eq!(config.limits.max_photo_bytes, form::limits::MAX_PHOTO_BYTES);
        assert_eq!(config.limits.max_body_bytes, form::limits::MAX_BODY_BYTES);
        for name in SiteConfig::PLACEHOLDERS {
            assert!(config.placeholder(name).is_some(), "{name} is listed but has no value");
        }
        let message =
            parse(&format!("{VALID}limits = {{ max_photo = \"9 Mo\" }}\n")).unwrap_err().to_string();
        assert!(message.contains("unknown field `limits`"), "{message}");
    }

    // A base URL is normalised to end with a single slash.
    #[test]
    fn normalises_base_url() {
        for (given, expected) in [
            ("https://a.fr", "https://a.fr/"),
            ("https://a.fr/pass//", "https://a.fr/pass/"),
            ("http://10.0.0.2/guide/", "http://10.0.0.2/guide/"),
        ] {
            let config = parse(&format!("{VALID}base_url = \"{given}\"\n")).unwrap();
            assert_eq!(config.base_url.as_deref(), Some(expected), "{given}");
        }
    }

    // Each kind of mistake is refused with a message that names the key and the file.
    #[test]
    fn rejects_bad_settings() {
        let cases = [
            (format!("{VALID}colour = \"red\"\n"), "unknown field `colour`"),
            (VALID.replace("Sidoine Apollinaire", " "), "`school_name` is empty"),
            (VALID.replace("Sidoine Apollinaire", "{{ x }}"), "`school_name` must be plain text"),
            (VALID.replace("https://www.auvergnerhonealpes.fr/passregion", "www.x.fr"), "`region_url`"),
            (VALID.replace("\"fr\"", "\"français\""), "`language`"),
            (format!("{VALID}base_url = \"passregion.fr\"\n"), "`base_url`"),
            (
                VALID.replace("http://127.0.0.1:9000/lambda-url/handler/demande", "/demande"),
                "`form_endpoint`",
            ),
            (VALID.replace("language = \"fr\"\n", ""), "missing field `language`"),
        ];
        for (text, expected) in cases {
            let message = parse(&text).unwrap_err().to_string();
            assert!(message.contains(expected), "{message:?} should mention {expected:?}");
            assert!(message.contains("content/site.toml"), "{message:?} should name the file");
        }
    }
}
