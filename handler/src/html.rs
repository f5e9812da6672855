//! The French pages shown when the form is posted without JavaScript: the receipt with the dossier
//! number, the list of fields to fix, or what went wrong. Small, self-contained HTML5 (no external
//! resource, no script), readable on a phone; every dynamic text is escaped.

use html_escape::{encode_double_quoted_attribute, encode_text};

use crate::response::{Failure, FieldError, Receipt, Summary};

/// The pages load nothing and run nothing; their only style is inline.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                       form-action 'none'; frame-ancestors 'none'";

const STYLE: &str = "\
body{margin:0;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;line-height:1.5;\
color:#1a1a1a;background:#fff}\
main{max-width:36rem;margin:0 auto;padding:1.25rem}\
h1{font-size:1.5rem;line-height:1.25}\
.dossier{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:2.6rem;\
font-weight:700;letter-spacing:.08em;text-align:center;padding:.75rem .5rem;margin:.5rem 0 1rem;\
border:3px solid #1a1a1a;border-radius:.5rem;overflow-wrap:anywhere}\
li{margin:.4rem 0}\
h2{font-size:1.15rem;margin:1.25rem 0 .5rem}\
.summary{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}\
.summary dt{font-weight:700}.summary dd{margin:0;overflow-wrap:anywhere}\
.errors li{padding-left:.25rem}\
.note{font-size:.95rem;color:#444}\
a{color:#0b4f9c}";

/// A whole page around `content` (already HTML).
fn page(title: &str, content: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"robots\" content=\"noindex\">\n<title>{title} – Pass’Région</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<main>\n{content}</main>\n</body>\n</html>\n",
        title = encode_text(title),
    )
}

/// The receipt: the dossier number in large type and what to do with it.
pub fn receipt(receipt: &Receipt) -> String {
    let dossier = encode_text(&receipt.dossier.to_string()).into_owned();
    let (title, replay) = if receipt.replay {
        (
            "Demande déjà enregistrée",
            "<p>Ce formulaire avait déjà été envoyé\u{202f}: voici le même numéro de dossier. \
             Rien n’a été enregistré en double.</p>\n",
        )
    } else {
        ("Demande enregistrée", "")
    };
    let content = format!(
        "<h1>{title}</h1>\n{replay}<p>Votre numéro de dossier\u{202f}:</p>\n\
         <p class=\"dossier\">{dossier}</p>\n\
         <p>Ce numéro est indispensable pour suivre votre demande\u{202f}: gardez-le.</p>\n<ol>\n\
         <li><strong>Faites une capture d’écran</strong> de cette page dès maintenant.</li>\n\
         <li>Recopiez ce numéro sur le «\u{202f}document à rendre\u{202f}» Pass’Région et \
         donnez ce document à l’établissement.</li>\n</ol>\n\
         <p class=\"note\">Le numéro ne contient jamais les lettres O, I ni L\u{202f}: ce sont \
         les chiffres 0 et 1. Les tirets servent seulement à le lire plus facilement.</p>\n{}",
        summary(&receipt.summary)
    );
    page(title, &content)
}

/// The stored values, for the student to check: what the record holds, not what was typed.
fn summary(summary: &Summary) -> String {
    let date = summary.date_naissance;
    let rows = [
        ("Nom", summary.nom.clone()),
        ("Prénom", summary.prenom.clone()),
        ("Date de naissance", format!("{:02}/{:02}/{}", date.day(), u8::from(date.month()), date.year())),
        ("Adresse e-mail", summary.email.clone()),
        ("Établissement", summary.etablissement.clone()),
        ("Filière", summary.filiere.clone()),
        (
            "Envoi de la carte",
            if summary.envoi_etablissement { "dans l’établissement" } else { "à votre adresse" }.to_owned(),
        ),
    ];
    let items: String = rows
        .iter()
        .map(|(label, value)| format!("<dt>{label}</dt><dd>{}</dd>\n", encode_text(value)))
        .collect();
    format!("<h2>Ce qui est enregistré</h2>\n<dl class=\"summary\">\n{items}</dl>\n")
}

/// How to get back to the form: a link when the form's address is known, else plain text.
fn way_back(back: Option<&str>) -> String {
    let button = "«\u{202f}Retour\u{202f}»";
    match back {
        Some(href) => format!(
            "<p>Revenez au formulaire avec le bouton {button} de votre navigateur, qui garde en \
             général vos réponses, ou <a href=\"{}\">rouvrez le formulaire</a>.</p>\n",
            encode_double_quoted_attribute(href)
        ),
        None => format!(
            "<p>Revenez au formulaire avec le bouton {button} de votre navigateur\u{202f}: vos \
             réponses y sont en général gardées.</p>\n"
        ),
    }
}

/// The fields to fix, each with its label and what to do.
pub fn invalid(errors: &[FieldError], back: Option<&str>) -> String {
    let items: String = errors
        .iter()
        .map(|error| {
            format!(
                "<li><strong>{}</strong>\u{202f}: {}</li>\n",
                encode_text(&error.label),
                encode_text(&error.message)
            )
        })
        .collect();
    let title = "Quelques réponses à corriger";
    let content = format!(
        "<h1>{title}</h1>\n<p>Votre demande n’est pas encore enregistrée. Corrigez ces points, \
         puis envoyez de nouveau le formulaire\u{202f}:</p>\n<ul class=\"errors\">\n{items}</ul>\n{}",
        way_back(back)
    );
    page(title, &content)
}

/// Any other failure: what happened and what to do.
pub fn failure(failure: Failure, back: Option<&str>) -> String {
    let title = failure.title_fr();
    let back = match failure {
        Failure::NotFound => String::new(),
        _ => way_back(back),
    };
    let content = format!("<h1>{title}</h1>\n<p>{}</p>\n{back}", encode_text(&failure.message_fr()));
    page(title, &content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use form::Dossier;

    fn field(label: &str, message: &str) -> FieldError {
        FieldError { field: "nom".into(), label: label.into(), message: message.into() }
    }

    // Every page is a French HTML5 document that loads nothing from elsewhere.
    #[test]
    fn pages_are_self_contained_french_html5() {
        let receipt = Receipt {
            dossier: Dossier::from_seed(&[9; 32]),
            received_at: time::OffsetDateTime::UNIX_EPOCH,
            replay: false,
            summary: Summary::of(&crate::testing::demande()),
        };
        let pages = [
            super::receipt(&receipt),
            invalid(&[field("Nom", "Indiquez votre nom.")], None),
            failure(Failure::Unavailable, Some("https://a.fr/demande/")),
        ];
        for page in pages {
            assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"), "{page}");
            assert!(page.contains("<meta name=\"viewport\""));
            for external in ["<script", "<link", "src=", "@import", "url("] {
                assert!(!page.contains(external), "{external} in {page}");
            }
        }
    }

    // The receipt shows the dossier number in its readable form, and says what to do with it.
    #[test]
    fn receipt_shows_the_number() {
        let dossier = Dossier::from_seed(&[9; 32]);
        let mut demande = crate::testing::demande();
        demande.nom = "<Dupré & fils>".to_owned();
        let receipt = Receipt {
            dossier: dossier.clone(),
            received_at: time::OffsetDateTime::UNIX_EPOCH,
            replay: true,
            summary: Summary::of(&demande),
        };
        let page = super::receipt(&receipt);
        assert!(page.contains("<dt>Nom</dt><dd>&lt;Dupré &amp; fils&gt;</dd>"), "{page}");
        assert!(page.contains("<dt>Date de naissance</dt><dd>14/03/2009</dd>"), "{page}");
        assert!(page.contains("<dd>dans l’établissement</dd>"), "{page}");
        assert!(page.contains(&format!("<p class=\"dossier\">{dossier}</p>")));
        assert!(page.contains("capture d’écran"));
        assert!(page.contains("«\u{202f}document à rendre\u{202f}»"));
        assert!(page.contains("déjà été envoyé"));
    }

    // Labels and messages are escaped, and so is the link back.
    #[test]
    fn dynamic_text_is_escaped() {
        let page = invalid(&[field("<b>Nom</b>", "a & b")], Some("https://a.fr/?q=\"><script>"));
        assert!(page.contains("<strong>&lt;b&gt;Nom&lt;/b&gt;</strong>\u{202f}: a &amp; b"));
        assert!(page.contains("href=\"https://a.fr/?q=&quot;&gt;&lt;script&gt;\""));
        assert!(!page.contains("<script"));
    }

    // Without a known form address, the page says how to go back in words instead of a link.
    #[test]
    fn way_back_without_referer() {
        let page = failure(Failure::TooLarge, None);
        assert!(page.contains("bouton «\u{202f}Retour\u{202f}»"));
        assert!(!page.contains("<a "));
        assert!(way_back(Some("https://a.fr/f")).contains("<a href=\"https://a.fr/f\">"));
    }
}
