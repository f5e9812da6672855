//! The school's settings, read from `content/site.toml`: the one file a school edits to make the
//! site its own.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

/// The settings of one school's site.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The school's name exactly as the Region's list of establishments spells it: the value of
    /// the request form's establishment field, which must equal the function's `ETABLISSEMENT`
    /// (it refuses a request naming another school): `{{ etablissement_formulaire }}`.
    pub school_name: String,
    /// The school's name as the pages show it, in titles, the header, the footer and the prose
    /// (« Lycée Sidoine Apollinaire »): `{{ etablissement }}`. Apart from `school_name`, which
    /// is the Region's spelling and often lacks the kind of school.
    pub school_display_name: String,
    /// The town of the school, shown beside its name.
    pub school_town: String,
    /// The Region's Pass'Région page, which says what the card offers (the request itself is
    /// made on this site): `{{ url_region }}`.
    pub region_url: String,
    /// The language of the pages, as an HTML `lang` value (`fr`).
    pub language: String,
    /// The public address of the site, if it has one; enables `sitemap.xml` and canonical links.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Where the request form posts (the handler's public URL), ending with its route `demande`.
    pub form_endpoint: String,
    /// Whether the function is deployed with a sender (`MAIL_FROM`), so that it sends, after each
    /// request, the e-mail whose link activates the account. The pages keep the passages between
    /// `{{ avec_courriel }}` and `{{ fin }}` when true, those between `{{ sans_courriel }}` and
    /// `{{ fin }}` when false: without a sender no e-mail leaves, so no page may promise one.
    pub activation_email: bool,
    /// The personal space's address (sign-in, « Mes Cartes »), made from `form_endpoint` when the
    /// settings are read, not a setting: `{{ url_espace }}`.
    #[serde(skip_deserializing)]
    pub space_url: String,
    /// Who is responsible for the requests' personal data (the GDPR controller), as the privacy
    /// page names it: `{{ responsable_traitement }}`. Optional, like the keys below: a page that
    /// uses the placeholder of a key `site.toml` leaves out does not build.
    #[serde(default)]
    pub data_controller: Option<String>,
    /// How to reach the controller, to ask a question or use one's rights: `{{ contact_responsable }}`.
    #[serde(default)]
    pub data_controller_contact: Option<String>,
    /// Why the processing is lawful (the GDPR's legal basis), a sentence: `{{ base_legale }}`.
    #[serde(default)]
    pub legal_basis: Option<String>,
    /// How to reach the data protection officer (for a school, usually the académie's): `{{ contact_dpd }}`.
    #[serde(default)]
    pub dpo_contact: Option<String>,
    /// How to reach the school's secretariat, where the « document à rendre » goes and students
    /// ask for help: `{{ contact_secretariat }}`.
    #[serde(default)]
    pub school_contact: Option<String>,
    /// How long the school keeps a request and its photo, as the school's own commitment (the
    /// handler deletes nothing by itself): `{{ duree_conservation }}`.
    #[serde(default)]
    pub data_retention: Option<String>,
    /// The AWS region where the handler, its bucket and SES run, as AWS names it (`Europe
    /// (Paris)`): `{{ region_hebergement }}`.
    #[serde(default)]
    pub hosting_region: Option<String>,
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
    /// How long the form's tab keeps the answers and the receipt, as French text: `30 minutes`.
    pub keep_time: String,
    /// The size of the stored ID photo, as French text: `413 × 531 pixels`.
    pub photo_pixels: String,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_photo: form::limits::max_photo_fr(),
            max_photo_bytes: form::limits::MAX_PHOTO_BYTES,
            max_body_bytes: form::limits::MAX_BODY_BYTES,
            keep_time: format!("{}\u{202f}minutes", form::limits::KEEP_MINUTES),
            photo_pixels: format!(
                "{} × {}\u{202f}pixels",
                form::limits::OUTPUT_WIDTH,
                form::limits::OUTPUT_HEIGHT
            ),
        }
    }
}

impl SiteConfig {
    /// Parses and validates the text of `site.toml`; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<SiteConfig> {
        let mut config: SiteConfig = toml::from_str(text).map_err(|e| Error::toml(path, text, 0, &e))?;
        let fail = |message: String| Error::at(path, None, message);

        for (key, value) in [
            ("school_name", &config.school_name),
            ("school_display_name", &config.school_display_name),
            ("school_town", &config.school_town),
        ] {
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
        config.school_display_name = config.school_display_name.trim().to_owned();
        config.school_town = config.school_town.trim().to_owned();

        // The privacy page's settings: optional, but never blank, and plain text since they are
        // written into the pages' Markdown.
        for (key, what, value) in [
            ("data_controller", "who is responsible for the requests' data", &mut config.data_controller),
            (
                "data_controller_contact",
                "how to reach the one responsible",
                &mut config.data_controller_contact,
            ),
            ("legal_basis", "why the processing is lawful", &mut config.legal_basis),
            ("dpo_contact", "how to reach the data protection officer", &mut config.dpo_contact),
            ("school_contact", "how to reach the school's secretariat", &mut config.school_contact),
            ("data_retention", "how long the school keeps a request", &mut config.data_retention),
            ("hosting_region", "the AWS region the service runs in", &mut config.hosting_region),
        ] {
            let Some(text) = value.as_mut() else { continue };
            if text.trim().is_empty() {
                return Err(fail(format!("`{key}` is empty: say {what}, since the pages show it")));
            }
            if text.contains(['\n', '\r', '{', '}', '<', '>']) {
                return Err(fail(format!(
                    "`{key}` must be plain text on one line (no braces or angle brackets)"
                )));
            }
            *text = text.trim().to_owned();
        }

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
        config.space_url = space_url(&config.form_endpoint).ok_or_else(|| {
            fail(format!(
                "`form_endpoint` must end with the function's route `/demande`, found `{}`: the \
                 personal space's address is made from it by replacing `demande` with `espace`",
                config.form_endpoint
            ))
        })?;
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
            "etablissement" => Some(&self.school_display_name),
            "etablissement_formulaire" => Some(&self.school_name),
            "ville" => Some(&self.school_town),
            "url_region" => Some(&self.region_url),
            "url_espace" => Some(&self.space_url),
            "poids_photo_max" => Some(&self.limits.max_photo),
            "duree_onglet" => Some(&self.limits.keep_time),
            "taille_photo" => Some(&self.limits.photo_pixels),
            "responsable_traitement" => self.data_controller.as_deref(),
            "contact_responsable" => self.data_controller_contact.as_deref(),
            "base_legale" => self.legal_basis.as_deref(),
            "contact_dpd" => self.dpo_contact.as_deref(),
            "contact_secretariat" => self.school_contact.as_deref(),
            "duree_conservation" => self.data_retention.as_deref(),
            "region_hebergement" => self.hosting_region.as_deref(),
            _ => None,
        }
    }

    /// The names authors may use as placeholders, for error messages. The last seven have a
    /// value only when `site.toml` sets their key.
    pub const PLACEHOLDERS: &'static [&'static str] = &[
        "etablissement",
        "etablissement_formulaire",
        "ville",
        "url_region",
        "url_espace",
        "poids_photo_max",
        "duree_onglet",
        "taille_photo",
        "responsable_traitement",
        "contact_responsable",
        "base_legale",
        "contact_dpd",
        "contact_secretariat",
        "duree_conservation",
        "region_hebergement",
    ];
}

/// The personal space's address: `form_endpoint` with its last path segment, `demande`, replaced
/// by `espace`, since the function routes on a path's last segment (`…/lambda-url/handler/demande`
/// under `cargo lambda watch` gives `…/lambda-url/handler/espace`). A trailing slash is dropped:
/// the function's pages link to its other routes relatively (`duplicata?jeton=…`), which from an
/// address ending with a slash would name a segment below it. `None` when the last segment is not
/// `demande`, or when the address has no path.
fn space_url(form_endpoint: &str) -> Option<String> {
    let trimmed = form_endpoint.strip_suffix('/').unwrap_or(form_endpoint);
    let (base, last) = trimmed.rsplit_once('/')?;
    let has_host = base.split_once("://").is_some_and(|(_, host)| !host.is_empty());
    (has_host && last == "demande").then(|| format!("{base}/espace"))
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
school_display_name = "Lycée Sidoine Apollinaire"
school_town = "Clermont-Ferrand"
region_url = "https://www.auvergnerhonealpes.fr/passregion"
language = "fr"
form_endpoint = "http://127.0.0.1:9000/lambda-url/handler/demande"
activation_email = true
data_controller = "le lycée, représenté par son chef d’établissement"
data_controller_contact = "par e-mail à direction@lycee.fr"
legal_basis = "La mission d’intérêt public de l’établissement (article 6-1-e du RGPD)."
dpo_contact = "dpd@ac-exemple.fr"
school_contact = "Le secrétariat est ouvert du lundi au vendredi."
data_retention = "L’établissement garde votre demande jusqu’au 31 août."
hosting_region = "Europe (Paris)"
"#;

    /// The privacy page's settings: (key, its placeholder, its value in [`VALID`]).
    const PRIVACY: [(&str, &str, &str); 7] = [
        ("data_controller", "responsable_traitement", "le lycée, représenté par son chef d’établissement"),
        ("data_controller_contact", "contact_responsable", "par e-mail à direction@lycee.fr"),
        (
            "legal_basis",
            "base_legale",
            "La mission d’intérêt public de l’établissement (article 6-1-e du RGPD).",
        ),
        ("dpo_contact", "contact_dpd", "dpd@ac-exemple.fr"),
        ("school_contact", "contact_secretariat", "Le secrétariat est ouvert du lundi au vendredi."),
        ("data_retention", "duree_conservation", "L’établissement garde votre demande jusqu’au 31 août."),
        ("hosting_region", "region_hebergement", "Europe (Paris)"),
    ];

    fn parse(text: &str) -> Result<SiteConfig> {
        SiteConfig::parse(text, Path::new("content/site.toml"))
    }

    /// [`VALID`] with the line of `key` replaced by `line` (empty: the key left out).
    fn with_line(key: &str, line: &str) -> String {
        let prefix = format!("{key} = ");
        let found = VALID.lines().filter(|l| l.starts_with(&prefix)).count();
        assert_eq!(found, 1, "{key} is not in VALID");
        VALID
            .lines()
            .map(|l| if l.starts_with(&prefix) { line } else { l })
            .filter(|l| !l.is_empty())
            .map(|l| format!("{l}\n"))
            .collect()
    }

    // The shipped shape parses, and the optional base URL defaults to none. The prose's name is
    // the display name; the form's is the Region's spelling, kept apart.
    #[test]
    fn parses_valid_config() {
        let config = parse(VALID).unwrap();
        assert_eq!(config.school_name, "Sidoine Apollinaire");
        assert_eq!(config.base_url, None);
        assert_eq!(config.placeholder("etablissement"), Some("Lycée Sidoine Apollinaire"));
        assert_eq!(config.placeholder("etablissement_formulaire"), Some("Sidoine Apollinaire"));
        assert_eq!(config.placeholder("inconnu"), None);
        assert!(config.activation_email);
        assert!(
            !parse(&VALID.replace("activation_email = true", "activation_email = false"))
                .unwrap()
                .activation_email
        );
    }

    // The personal space is the function's `espace` route beside its `demande`: on a Function
    // URL, under `cargo lambda watch`, with a trailing slash (dropped, since the function's pages
    // link relatively). Any other last segment is refused, naming `form_endpoint`.
    #[test]
    fn space_url_is_the_functions_espace_route() {
        let cases = [
            (
                "https://abcdefgh.lambda-url.eu-west-3.on.aws/demande",
                Some("https://abcdefgh.lambda-url.eu-west-3.on.aws/espace"),
            ),
            (
                "http://127.0.0.1:9000/lambda-url/handler/demande",
                Some("http://127.0.0.1:9000/lambda-url/handler/espace"),
            ),
            (
                "https://abcdefgh.lambda-url.eu-west-3.on.aws/demande/",
                Some("https://abcdefgh.lambda-url.eu-west-3.on.aws/espace"),
            ),
            ("https://f.on.aws/demandes", None),
            ("https://f.on.aws/espace", None),
            ("https://f.on.aws/demande/photo", None),
            ("https://f.on.aws/demande?x=1", None),
            ("https://f.on.aws/", None),
            ("https://f.on.aws", None),
            ("https://demande", None),
        ];
        for (endpoint, expected) in cases {
            let text = VALID.replace("http://127.0.0.1:9000/lambda-url/handler/demande", endpoint);
            match expected {
                Some(space) => {
                    let config = parse(&text).unwrap();
                    assert_eq!(config.space_url, space, "{endpoint}");
                    assert_eq!(config.placeholder("url_espace"), Some(space), "{endpoint}");
                    assert_eq!(config.form_endpoint, endpoint, "the form still posts where it was told");
                }
                None => {
                    let message = parse(&text).unwrap_err().to_string();
                    assert!(
                        message.contains("`form_endpoint` must end with the function's route `/demande`")
                            && message.contains(endpoint)
                            && message.contains("content/site.toml"),
                        "{endpoint}: {message}"
                    );
                }
            }
        }
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

    // How long the tab keeps the answers, and the stored photo's size, are the contract's own,
    // in French typography.
    #[test]
    fn contract_placeholders_are_the_contracts() {
        let config = parse(VALID).unwrap();
        assert_eq!(config.placeholder("duree_onglet"), Some("30\u{202f}minutes"));
        assert_eq!(
            config.placeholder("duree_onglet"),
            Some(format!("{}\u{202f}minutes", form::limits::KEEP_MINUTES).as_str())
        );
        assert_eq!(config.placeholder("taille_photo"), Some("413 × 531\u{202f}pixels"));
    }

    // Each privacy setting fills its placeholder, trimmed; left out, the site still parses and
    // the placeholder has no value, so a page that uses it does not build.
    #[test]
    fn privacy_settings_fill_their_placeholders() {
        for (key, name, value) in PRIVACY {
            let config = parse(&with_line(key, &format!("{key} = \"  {value} \""))).unwrap();
            assert_eq!(config.placeholder(name), Some(value), "{key}");
            assert!(SiteConfig::PLACEHOLDERS.contains(&name), "{name} is not listed");

            let config = parse(&with_line(key, "")).unwrap();
            assert_eq!(config.placeholder(name), None, "{key} left out");
            for (other, other_name, other_value) in PRIVACY {
                if other != key {
                    assert_eq!(config.placeholder(other_name), Some(other_value), "{other} without {key}");
                }
            }
        }
    }

    // A privacy setting that is blank, on several lines, or holds braces or angle brackets (it is
    // written into Markdown) is refused with a message that names it and the file.
    #[test]
    fn rejects_bad_privacy_settings() {
        let cases = [
            ("\"\"", "is empty"),
            ("\"  \"", "is empty"),
            ("\"\"\"\n\t\n\"\"\"", "is empty"),
            ("\"\"\"Secrétariat\nbureau 12\"\"\"", "must be plain text on one line"),
            ("\"<a href=x>ici</a>\"", "must be plain text on one line"),
            ("\"{{ etablissement }}\"", "must be plain text on one line"),
        ];
        for (key, _, _) in PRIVACY {
            for (value, expected) in cases {
                let message = parse(&with_line(key, &format!("{key} = {value}"))).unwrap_err().to_string();
                assert!(message.contains(expected), "{key} = {value}: {message:?} should say {expected:?}");
                assert!(message.contains(key), "{key} = {value}: {message:?} should name the key");
                assert!(message.contains("content/site.toml"), "{message:?} should name the file");
            }
        }
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
            (VALID.replace("\"Sidoine Apollinaire\"", "\" \""), "`school_name` is empty"),
            (VALID.replace("\"Sidoine Apollinaire\"", "\"{{ x }}\""), "`school_name` must be plain text"),
            (VALID.replace("\"Lycée Sidoine Apollinaire\"", "\" \""), "`school_display_name` is empty"),
            (
                VALID.replace("\"Lycée Sidoine Apollinaire\"", "\"Lycée <b>X</b>\""),
                "`school_display_name` must be plain text",
            ),
            (VALID.replace("activation_email = true\n", ""), "missing field `activation_email`"),
            (VALID.replace("activation_email = true", "activation_email = \"oui\""), "expected a boolean"),
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
