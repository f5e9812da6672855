//! The e-mail a student gets once the request is stored: the dossier number, what to do with it,
//! and the activation link. [`compose`] is pure (the message from the facts, French text and HTML
//! from the two template files beside this module); [`Mailer`] is what sends it, Amazon SES v2 in
//! production ([`ses::SesMailer`]) and moto's SES in the tests.
//!
//! The HTML part has no image, font or stylesheet from anywhere: inline styles only, one link, to
//! the function itself. Rejected: a templating engine for two files with five values (the values
//! are escaped here, once, for the HTML part).

pub mod ses;

use std::future::Future;

use form::Dossier;
use time::OffsetDateTime;
use time::macros::format_description;

const TEXT_TEMPLATE: &str = include_str!("mail/courriel.txt");
const HTML_TEMPLATE: &str = include_str!("mail/courriel.html");

/// One e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The student's address, as stored.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What the e-mail says.
pub struct Activation<'a> {
    pub to: &'a str,
    pub prenom: &'a str,
    pub dossier: &'a Dossier,
    pub etablissement: &'a str,
    /// The activation page's address, its token included.
    pub link: &'a str,
    /// When the link stops working.
    pub expires: OffsetDateTime,
}

/// The message for `facts`: the same words in both parts, the values escaped in the HTML one.
pub fn compose(facts: &Activation<'_>) -> Message {
    let subject = format!("Votre demande de Pass’Région\u{a0}: dossier {}", facts.dossier);
    let expiration = french_date(facts.expires);
    let dossier = facts.dossier.to_string();
    let text = form::fill(
        TEXT_TEMPLATE,
        &[
            ("prenom", &facts.prenom),
            ("dossier", &dossier),
            ("etablissement", &facts.etablissement),
            ("lien", &facts.link),
            ("expiration", &expiration),
        ],
    );
    let escape = |value: &str| html_escape::encode_double_quoted_attribute(value).into_owned();
    let html = form::fill(
        HTML_TEMPLATE,
        &[
            ("sujet", &escape(&subject)),
            ("prenom", &escape(facts.prenom)),
            ("dossier", &escape(&dossier)),
            ("etablissement", &escape(facts.etablissement)),
            ("lien", &escape(facts.link)),
            ("expiration", &escape(&expiration)),
        ],
    );
    Message { to: facts.to.to_owned(), subject, text, html }
}

/// `1er octobre 2026`, as a French letter writes a date (UTC: the day the link stops, give or
/// take the hours of a time zone, which the page does not claim to be exact about).
fn french_date(at: OffsetDateTime) -> String {
    const MONTHS: [&str; 12] = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ];
    let day = at.day();
    let day = if day == 1 { "1er".to_owned() } else { day.to_string() };
    let year = at.format(format_description!("[year]")).unwrap_or_default();
    format!("{day}\u{a0}{} {year}", MONTHS[usize::from(u8::from(at.month())) - 1])
}

/// The send failed; the message names the cause for the log, never the address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("e-mail not sent: {0}")]
pub struct MailError(pub String);

/// What sends e-mails.
pub trait Mailer: Send + Sync {
    fn send(&self, message: &Message) -> impl Future<Output = Result<(), MailError>> + Send;
}

/// The mailer of a deployment that configures no sender: there is none, and nothing is sent.
pub enum NoMailer {}

impl Mailer for NoMailer {
    async fn send(&self, _: &Message) -> Result<(), MailError> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn facts<'a>(dossier: &'a Dossier, prenom: &'a str, link: &'a str) -> Activation<'a> {
        Activation {
            to: "lea.dupre@example.org",
            prenom,
            dossier,
            etablissement: "Sidoine Apollinaire",
            link,
            expires: datetime!(2026-10-01 08:30:00 UTC),
        }
    }

    // Both parts carry the number, the school, the link and its end; nothing is left unfilled.
    #[test]
    fn the_message_says_everything_in_both_parts() {
        let dossier = Dossier::from_seed(&[3; 32]);
        let link = "https://abc.lambda-url.eu-west-3.on.aws/activation?jeton=K.1.x&y";
        let message = compose(&facts(&dossier, "Léa", link));
        assert_eq!(message.to, "lea.dupre@example.org");
        assert_eq!(message.subject, format!("Votre demande de Pass’Région\u{a0}: dossier {dossier}"));
        for part in [&message.text, &message.html] {
            assert!(part.contains("Bonjour Léa,"), "{part}");
            assert!(part.contains(&dossier.to_string()), "{part}");
            assert!(part.contains("Sidoine Apollinaire"), "{part}");
            assert!(part.contains("1er\u{a0}octobre 2026"), "{part}");
            for placeholder in
                ["{prenom}", "{dossier}", "{etablissement}", "{lien}", "{expiration}", "{sujet}"]
            {
                assert!(!part.contains(placeholder), "{placeholder} left in {part}");
            }
        }
        assert!(message.text.contains(link), "the text part has the link as is");
        assert!(
            message
                .html
                .contains("href=\"https://abc.lambda-url.eu-west-3.on.aws/activation?jeton=K.1.x&amp;y\"")
        );
    }

    // Whatever the values hold, the HTML part holds them as text.
    #[test]
    fn values_are_escaped_in_the_html_part() {
        let dossier = Dossier::from_seed(&[3; 32]);
        let message = compose(&facts(&dossier, "<b>Léa\"", "https://x.example/a?b=\"c\""));
        assert!(message.html.contains("Bonjour &lt;b&gt;Léa&quot;,"), "{}", message.html);
        assert!(!message.html.contains("<b>"));
        assert!(message.html.contains("href=\"https://x.example/a?b=&quot;c&quot;\""));
    }

    // Dates as a letter writes them.
    #[test]
    fn french_dates() {
        let cases = [
            (datetime!(2026-10-01 00:00 UTC), "1er\u{a0}octobre 2026"),
            (datetime!(2026-02-14 23:59 UTC), "14\u{a0}février 2026"),
            (datetime!(2027-08-31 12:00 UTC), "31\u{a0}août 2027"),
        ];
        for (at, expected) in cases {
            assert_eq!(french_date(at), expected);
        }
    }
}
