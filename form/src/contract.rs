//! The contract the page's script is built on, serialised by the generator into the form page:
//! the fields with their rules and messages, the texts of `[messages]`, the limits, the photo
//! formats and the framing. The page's script holds no rule, limit or text of its own; it reads
//! them from here. The function uses the same data through this crate.
//!
//! Its hash, [`Schema::version`], travels back with each request in [`VERSION_FIELD`] (a hidden
//! input the generator writes, so it is sent with JavaScript or without), and the function logs
//! a mismatch with its own: the sign of a site built from another `form.toml` than the deployed
//! function's.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::format::{FORMATS, Formats};
use crate::framing::{FRAMING, Framing};
use crate::limits::{LIMITS, Limits};
use crate::messages::Texts;
use crate::schema::{Field, Rules, Schema};

/// The wire name of the hidden input holding the page's [`Schema::version`].
pub const VERSION_FIELD: &str = "version_formulaire";

/// How many hex digits of the SHA-256 the version keeps: 64 bits tell two builds apart, and a
/// short value reads well in a log line.
const VERSION_DIGITS: usize = 16;

/// What the hash covers and the page receives.
#[derive(Serialize)]
struct Contract<'a> {
    honeypot: &'a str,
    rules: &'a Rules,
    fields: &'a [Field],
    messages: &'a Texts,
    limits: Limits,
    formats: Formats,
    framing: Framing,
    version_field: &'static str,
}

impl<'a> Contract<'a> {
    fn of(schema: &'a Schema) -> Contract<'a> {
        Contract {
            honeypot: schema.honeypot(),
            rules: schema.rules(),
            fields: schema.fields(),
            messages: schema.messages(),
            limits: LIMITS,
            formats: FORMATS,
            framing: FRAMING,
            version_field: VERSION_FIELD,
        }
    }
}

/// The hash of the contract (serde_json writes struct fields in declaration order, so the bytes
/// are the same for the same contract).
pub(crate) fn version(schema: &Schema) -> String {
    let json = serde_json::to_vec(&Contract::of(schema)).expect("the contract serialises");
    let digest = hex::encode(Sha256::digest(&json));
    digest[..VERSION_DIGITS].to_owned()
}

#[derive(Serialize)]
struct Versioned<'a> {
    version: &'a str,
    #[serde(flatten)]
    contract: Contract<'a>,
}

impl Schema {
    /// The contract as JSON, with its `version`: what the generator writes into the page.
    pub fn contract_json(&self) -> String {
        let versioned = Versioned { version: self.version(), contract: Contract::of(self) };
        serde_json::to_string(&versioned).expect("the contract serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FORM_TOML;

    // The page's JSON carries the version first, then every part of the contract.
    #[test]
    fn contract_json_carries_every_part() {
        let schema = Schema::parse(FORM_TOML).unwrap();
        let json: serde_json::Value = serde_json::from_str(&schema.contract_json()).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = [
            "version",
            "honeypot",
            "rules",
            "fields",
            "messages",
            "limits",
            "formats",
            "framing",
            "version_field",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
        assert_eq!(json["version"], schema.version());
        assert_eq!(json["version_field"], VERSION_FIELD);
        assert_eq!(json["limits"]["max_body_bytes"], crate::limits::MAX_BODY_BYTES);
        assert_eq!(
            json["formats"]["signatures"][0]["magic"][0]["bytes"],
            serde_json::json!([0xFF, 0xD8, 0xFF])
        );
        assert_eq!(
            json["messages"]["photo"]["too_complex"].as_str().unwrap().matches("200\u{202f}Ko").count(),
            1
        );
    }

    // The version is the same for the same file and changes with any wording or rule.
    #[test]
    fn version_follows_the_contract() {
        let version = |src: &str| Schema::parse(src).unwrap().version().to_owned();
        let base = version(FORM_TOML);
        assert_eq!(base.len(), VERSION_DIGITS);
        assert!(base.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(version(FORM_TOML), base);
        for (from, to) in [
            ("copied = \"Numéro copié.\"", "copied = \"Copié.\""),
            ("age_max = 25", "age_max = 26"),
            ("label = \"Commune\"", "label = \"Ville\""),
        ] {
            assert_eq!(FORM_TOML.matches(from).count(), 1, "{from}");
            assert_ne!(version(&FORM_TOML.replacen(from, to, 1)), base, "{from}");
        }
        // Comments are not the contract.
        assert_eq!(version(&format!("# A school's note.\n{FORM_TOML}")), base);
    }
}
