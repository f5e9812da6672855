//! The contract the page's script is built on, serialised by the generator into the pages that
//! have a script: the fields with their rules and messages, the texts of `[messages]`, the limits,
//! the photo formats and the framing. The page's script holds no rule, limit or text of its own;
//! it reads them from here. The function uses the same data through this crate.
//!
//! Each page carries only what its scripts read ([`Schema::page_contracts`]): the form page the
//! fields' checks and the texts the page itself says, not the function's answers nor the personal
//! space's pages (which the function renders from this crate); the photo tool the photo formats,
//! limits and its two refusals. That is 13 KB of the form page's weight instead of 24 KB, read
//! by a phone before the form starts. The subsets are typed, so a text renamed in `form.toml`'s
//! tables breaks the build here rather than leaving a page without it; rejected: a list of JSON
//! paths picked from the whole contract, which a typo would silently empty.
//!
//! Its hash, [`Schema::version`], covers the whole contract, whatever each page carries; it
//! travels back with each request in [`VERSION_FIELD`] (a hidden input the generator writes, so
//! it is sent with JavaScript or without), and the function logs a mismatch with its own: the
//! sign of a site built from another `form.toml` than the deployed function's.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::format::{FORMATS, Formats};
use crate::framing::{FRAMING, Framing};
use crate::limits::{LIMITS, Limits};
use crate::messages::Texts;
use crate::schema::{Field, FieldKind, Messages, Rules, Schema};

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

/// The form page's part of the contract (templates/scripts/, the `form.js` bundles): every
/// field's checks, the page's own texts, the few refusals and answers it says itself, the texts of
/// the e-mail part of its receipt, and the photo advice (looked up by code).
#[derive(Serialize)]
struct FormPage<'a> {
    version: &'a str,
    rules: &'a Rules,
    fields: Vec<FieldChecks<'a>>,
    messages: FormTexts<'a>,
    limits: Limits,
    formats: Formats,
    framing: Framing,
}

/// What rules.js and errors.js read of a field: its label, hint and HTML attributes are the
/// page's own markup.
#[derive(Serialize)]
struct FieldChecks<'a> {
    name: &'a str,
    kind: FieldKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_length: Option<usize>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    options: &'a [String],
    messages: &'a Messages,
}

#[derive(Serialize)]
struct FormTexts<'a> {
    page: &'a crate::messages::PageTexts,
    photo: PhotoRefusals<'a>,
    answer: FormAnswers<'a>,
    account: ReceiptMail<'a>,
    hint: &'a crate::messages::HintTexts,
}

/// The refusals the form page says before sending (photo.js, image.js); the others are the
/// function's, and come with its answer.
#[derive(Serialize)]
struct PhotoRefusals<'a> {
    heic: &'a str,
    unsupported: &'a str,
    too_small: &'a str,
}

/// The function's answers the page words itself, when the answer cannot be read (send.js).
#[derive(Serialize)]
struct FormAnswers<'a> {
    conflict: &'a str,
    unavailable: &'a str,
}

/// The texts of the receipt's e-mail part (receipt.js).
#[derive(Serialize)]
struct ReceiptMail<'a> {
    mail_sent: &'a str,
    mail_failed: &'a str,
    resent: &'a str,
    resend_limit: &'a str,
}

/// The photo tool's part (the `photo-tool.js` bundle): the formats and limits it reduces a photo
/// with, and its two refusals. `fields` is empty: rules.js, which it shares with the form, reads
/// fields only to check them.
#[derive(Serialize)]
struct PhotoToolPage<'a> {
    version: &'a str,
    fields: [(); 0],
    messages: PhotoToolTexts<'a>,
    limits: Limits,
    formats: Formats,
    framing: Framing,
}

#[derive(Serialize)]
struct PhotoToolTexts<'a> {
    photo: PhotoToolRefusals<'a>,
}

#[derive(Serialize)]
struct PhotoToolRefusals<'a> {
    heic: &'a str,
    unsupported: &'a str,
}

fn to_json(part: &impl Serialize) -> String {
    serde_json::to_string(part).expect("the contract serialises")
}

impl Schema {
    /// Each page's part of the contract as JSON, by the name its template reads it under:
    /// `form` (the form page) and `photo_tool` (the photo tool). Each carries the whole
    /// contract's `version`.
    pub fn page_contracts(&self) -> BTreeMap<&'static str, String> {
        let texts = self.messages();
        let form = FormPage {
            version: self.version(),
            rules: self.rules(),
            fields: self
                .fields()
                .iter()
                .map(|field| FieldChecks {
                    name: &field.name,
                    kind: field.kind,
                    max_length: field.max_length,
                    options: &field.options,
                    messages: &field.messages,
                })
                .collect(),
            messages: FormTexts {
                page: &texts.page,
                photo: PhotoRefusals {
                    heic: &texts.photo.heic,
                    unsupported: &texts.photo.unsupported,
                    too_small: &texts.photo.too_small,
                },
                answer: FormAnswers {
                    conflict: &texts.answer.conflict,
                    unavailable: &texts.answer.unavailable,
                },
                account: ReceiptMail {
                    mail_sent: &texts.account.mail_sent,
                    mail_failed: &texts.account.mail_failed,
                    resent: &texts.account.resent,
                    resend_limit: &texts.account.resend_limit,
                },
                hint: &texts.hint,
            },
            limits: LIMITS,
            formats: FORMATS,
            framing: FRAMING,
        };
        let photo_tool = PhotoToolPage {
            version: self.version(),
            fields: [],
            messages: PhotoToolTexts {
                photo: PhotoToolRefusals { heic: &texts.photo.heic, unsupported: &texts.photo.unsupported },
            },
            limits: LIMITS,
            formats: FORMATS,
            framing: FRAMING,
        };
        BTreeMap::from([("form", to_json(&form)), ("photo_tool", to_json(&photo_tool))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FORM_TOML;

    // Each page carries the whole contract's version and what its scripts read, and nothing of
    // what they do not (the labels, the function's answers, the personal space's texts).
    #[test]
    fn page_contracts_carry_what_their_scripts_read() {
        let schema = Schema::parse(FORM_TOML).unwrap();
        let contracts = schema.page_contracts();
        assert_eq!(contracts.keys().copied().collect::<Vec<_>>(), ["form", "photo_tool"]);
        for (page, keys, present, absent) in [
            (
                "form",
                &["fields", "formats", "framing", "limits", "messages", "rules", "version"][..],
                &[
                    "/fields/0/messages/required",
                    "/fields/10/options/0",
                    "/fields/1/max_length",
                    "/messages/page/receipt_expired",
                    "/messages/photo/heic",
                    "/messages/photo/too_small",
                    "/messages/answer/conflict",
                    "/messages/account/resend_limit",
                    "/messages/hint/no_face",
                    "/limits/upload/max_side",
                    "/formats/signatures/0/magic/0/bytes",
                    "/rules/age_max",
                ][..],
                &[
                    "/honeypot",
                    "/fields/0/label",
                    "/fields/0/hint",
                    "/fields/1/pattern",
                    "/messages/photo/too_complex",
                    "/messages/answer/internal",
                    "/messages/account/signin_title",
                ][..],
            ),
            (
                "photo_tool",
                &["fields", "formats", "framing", "limits", "messages", "version"][..],
                &[
                    "/messages/photo/heic",
                    "/messages/photo/unsupported",
                    "/limits/max_photo_bytes",
                    "/framing/whole_photo_bias",
                ][..],
                &["/fields/0", "/rules", "/messages/page", "/messages/photo/too_small"][..],
            ),
        ] {
            let json: serde_json::Value = serde_json::from_str(&contracts[page]).unwrap();
            let found: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(found, keys, "{page}");
            assert_eq!(json["version"], schema.version(), "{page}");
            for path in present {
                assert!(json.pointer(path).is_some(), "{page} lacks {path}");
            }
            for path in absent {
                assert!(json.pointer(path).is_none(), "{page} has {path}");
            }
        }
        let form: serde_json::Value = serde_json::from_str(&contracts["form"]).unwrap();
        assert_eq!(form["fields"][10]["name"], "filiere");
        assert_eq!(form["fields"].as_array().unwrap().len(), schema.fields().len());
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
