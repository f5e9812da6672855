//! The French pages the function answers with when the form is posted without JavaScript: the
//! receipt with the dossier number, the fields to fix, or what went wrong. Small, self-contained
//! HTML5 (no external resource, no script), readable on a phone.
//!
//! Their markup and words live in the template files beside this one (`pages/*.html` and the style
//! sheet `pages/pages.css`), compiled in with `include_str!`, and `render` fills their
//! `{{ name }}` slots, escaping each value for where it goes (html-escape). The pages need no loop
//! and no condition, only slots, so the renderer is a loop of twenty lines. Tera, the generator's engine,
//! was the alternative and was not taken: it would add its parser and dependencies to a function
//! that starts in about 13 ms, parse the templates at start-up, and its escaping writes `/` and `'`
//! as entities, changing every link back to the form.
//!
//! The templates write French typography with its own characters: a narrow no-break space
//! (U+202F) before `:` `;` `!` `?` and inside « », as the site's pages do. They are invisible in an
//! editor; a test refuses a plain space in their place.

use html_escape::{encode_double_quoted_attribute_to_string, encode_text_to_string};

use crate::account::Motif;
use crate::http::response::{
    Activated, ActivationForm, DuplicateDone, DuplicateForm, DuplicateSummary, Failure, FieldError,
    MailReport, Receipt, Space,
};
use crate::photo::Hint;

/// The pages load nothing and run nothing; their only style is inline, and their forms (the
/// activation's « Appliquer », « Renvoyer l’e-mail ») post to the function itself.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; \
                       form-action 'self'; frame-ancestors 'none'";

/// The document around every page: head, style sheet, `<main>`.
const PAGE: &str = include_str!("pages/page.html");
const STYLE: &str = include_str!("pages/pages.css");
const RECEIPT: &str = include_str!("pages/receipt.html");
/// What the receipt adds when the request had already been stored.
const REPLAY: &str = include_str!("pages/replay.html");
const INVALID: &str = include_str!("pages/invalid.html");
/// One field to fix, an item of the invalid page's list.
const FIELD_ERROR: &str = include_str!("pages/field-error.html");
const FAILURE: &str = include_str!("pages/failure.html");
/// The way back to the form when its address is known.
const BACK_LINK: &str = include_str!("pages/back-link.html");
/// The way back in words, when it is not.
const BACK_TEXT: &str = include_str!("pages/back-text.html");
/// What the receipt says of the e-mail, with « Renvoyer l’e-mail » while it is allowed.
const MAIL: &str = include_str!("pages/mail.html");
const RESEND_FORM: &str = include_str!("pages/resend-form.html");
/// The answer of « Renvoyer l’e-mail ».
const MAIL_REPORT: &str = include_str!("pages/mail-report.html");
const ACTIVATION: &str = include_str!("pages/activation.html");
const ACTIVATED: &str = include_str!("pages/activated.html");
/// A short remark above a page's text.
const NOTE: &str = include_str!("pages/note.html");
/// What went wrong, above a form.
const ALERT: &str = include_str!("pages/alert.html");
/// A link in a paragraph of its own.
const LINK: &str = include_str!("pages/link.html");
const SIGNIN: &str = include_str!("pages/signin.html");
const SPACE: &str = include_str!("pages/space.html");
/// The duplicate request's form: the reasons, the optional photo.
const DUPLICATE_FORM: &str = include_str!("pages/duplicate-form.html");
/// One reason, a radio button of the duplicate request's form.
const REASON: &str = include_str!("pages/reason.html");
const DUPLICATE_DONE: &str = include_str!("pages/duplicate-done.html");
/// A titled part of a page: « Mes Cartes »'s duplicate request, the receipt's photo hints.
const SECTION: &str = include_str!("pages/section.html");
/// The receipt's photo hints: the list and what follows from them.
const HINTS: &str = include_str!("pages/hints.html");
/// One photo hint, an item of that list.
const HINT: &str = include_str!("pages/hint.html");
/// The send-to-school setting as a form posting its token back: the activation's « Appliquer »
/// and « Mes Cartes »'s « Enregistrer ce choix ».
const CHOICE_FORM: &str = include_str!("pages/choice-form.html");

/// The titles of the pages that are not a [`Failure`]'s, shown in the tab and as the heading.
const STORED_TITLE: &str = "Demande enregistrée";
const REPLAY_TITLE: &str = "Demande déjà enregistrée";
const INVALID_TITLE: &str = "Quelques réponses à corriger";

/// HTML made by [`render`]: every value in it was escaped for where it stands, so it goes into
/// another template as it is. Only this module makes one.
#[derive(Debug, Default)]
struct Markup(String);

/// What fills a template's slot.
enum Value<'a> {
    /// Text in an element's content: `&`, `<` and `>` escaped.
    Text(&'a str),
    /// Text in a double-quoted attribute value: `"` escaped too.
    Attribute(&'a str),
    /// A fragment rendered already.
    Markup(&'a Markup),
    /// Markup of this crate's own files (the style sheet), inserted as it is.
    Static(&'static str),
}

/// Fills the `{{ name }}` slots of `template` with `values`. The file's final newline is dropped,
/// so that a fragment fills a line of its own without an empty line after it. Anything else in the
/// template, braces alone included, is copied as it is. A slot without a value is a bug of this
/// module (the tests render every page): it stops a debug build and stays empty in production.
fn render(template: &str, values: &[(&str, Value<'_>)]) -> Markup {
    let template = template.strip_suffix('\n').unwrap_or(template);
    let mut html = String::with_capacity(template.len() * 2);
    let mut rest = template;
    while let Some((before, after)) = rest.split_once("{{") {
        let Some((name, after)) = after.split_once("}}") else { break };
        html.push_str(before);
        let name = name.trim();
        let value = values.iter().find(|(slot, _)| *slot == name).map(|(_, value)| value);
        debug_assert!(value.is_some(), "no value for the slot `{name}`");
        match value {
            Some(Value::Text(text)) => {
                encode_text_to_string(text, &mut html);
            }
            Some(Value::Attribute(text)) => {
                encode_double_quoted_attribute_to_string(text, &mut html);
            }
            Some(Value::Markup(markup)) => html.push_str(&markup.0),
            Some(Value::Static(markup)) => html.push_str(markup),
            None => {}
        }
        rest = after;
    }
    html.push_str(rest);
    Markup(html)
}

/// Fragments one per line, as a list's items.
fn lines(fragments: impl Iterator<Item = Markup>) -> Markup {
    Markup(fragments.map(|fragment| fragment.0).collect::<Vec<_>>().join("\n"))
}

/// A whole page: `title` in the tab and around `content`.
fn page(title: &str, content: &Markup) -> String {
    let values = [
        ("title", Value::Text(title)),
        ("style", Value::Static(STYLE.trim_end())),
        ("content", Value::Markup(content)),
    ];
    render(PAGE, &values).0
}

/// The receipt: the dossier number in large type, what to do with it, and the stored values for
/// the student to check (what the record holds, not what was typed).
pub fn receipt(receipt: &Receipt) -> String {
    let (title, replay) =
        if receipt.replay { (REPLAY_TITLE, render(REPLAY, &[])) } else { (STORED_TITLE, Markup::default()) };
    let summary = &receipt.summary;
    let born = day(summary.date_naissance);
    let envoi = if summary.envoi_etablissement { "dans l’établissement" } else { "à votre adresse" };
    let dossier = receipt.dossier.to_string();
    let values = [
        ("title", Value::Text(title)),
        ("replay", Value::Markup(&replay)),
        ("dossier", Value::Text(&dossier)),
        ("nom", Value::Text(&summary.nom)),
        ("prenom", Value::Text(&summary.prenom)),
        ("date_naissance", Value::Text(&born)),
        ("email", Value::Text(&summary.email)),
        ("etablissement", Value::Text(&summary.etablissement)),
        ("filiere", Value::Text(&summary.filiere)),
        ("envoi", Value::Text(envoi)),
        ("mail", Value::Markup(&receipt.mail.as_ref().map(mail).unwrap_or_default())),
        ("hints", Value::Markup(&hints(&receipt.hints))),
    ];
    page(title, &render(RECEIPT, &values))
}

/// The receipt's part on the photo's hints; nothing without any.
fn hints(hints: &[Hint]) -> Markup {
    if hints.is_empty() {
        return Markup::default();
    }
    let texts = &crate::texts().hint;
    let items =
        lines(hints.iter().map(|hint| render(HINT, &[("message", Value::Text(hint.message_fr(texts)))])));
    let list = render(HINTS, &[("items", Value::Markup(&items)), ("note", Value::Text(&texts.receipt_note))]);
    render(SECTION, &[("title", Value::Text(&texts.title)), ("content", Value::Markup(&list))])
}

/// What the receipt says of the e-mail.
fn mail(report: &MailReport) -> Markup {
    let texts = &crate::texts().account;
    let message = if report.sent {
        form::fill(&texts.mail_sent, &[("email", &report.email)])
    } else {
        texts.mail_failed.clone()
    };
    mail_block(&message, report.resend.as_deref())
}

/// A sentence on the e-mail, and « Renvoyer l’e-mail » with its token while it may be tried.
fn mail_block(message: &str, resend: Option<&str>) -> Markup {
    let label = &crate::texts().account.resend;
    let resend = resend.map_or_else(Markup::default, |token| {
        render(RESEND_FORM, &[("token", Value::Attribute(token)), ("label", Value::Text(label))])
    });
    render(MAIL, &[("message", Value::Text(message)), ("resend", Value::Markup(&resend))])
}

/// The answer of « Renvoyer l’e-mail »: sent again, or not, and the button while it may be tried.
pub fn mail_report(report: &MailReport) -> String {
    let texts = &crate::texts().account;
    let message = if report.sent {
        form::fill(&texts.resent, &[("email", &report.email)])
    } else {
        texts.mail_failed.clone()
    };
    let body = mail_block(&message, report.resend.as_deref());
    let title = &texts.resend;
    page(title, &render(MAIL_REPORT, &[("title", Value::Text(title)), ("mail", Value::Markup(&body))]))
}

/// The page of the e-mail's link: the setting, checked as the form chose, and « Appliquer ».
pub fn activation(form: &ActivationForm) -> String {
    let texts = &crate::texts().account;
    let intro = form::fill(&texts.activation_intro, &[("dossier", &form.dossier)]);
    let choice = choice_form("activation", &form.token, form.envoi_etablissement, &texts.apply);
    let values = [
        ("title", Value::Text(&texts.activation_title)),
        ("intro", Value::Text(&intro)),
        ("form", Value::Markup(&choice)),
    ];
    page(&texts.activation_title, &render(ACTIVATION, &values))
}

/// The send-to-school setting, `checked` or not, in a form that posts `token` to `action` with
/// the button `button`.
fn choice_form(action: &'static str, token: &str, checked: bool, button: &str) -> Markup {
    let values = [
        ("action", Value::Static(action)),
        ("token", Value::Attribute(token)),
        ("checked", Value::Static(if checked { " checked" } else { "" })),
        ("choice", Value::Text(&crate::texts().account.send_to_school)),
        ("button", Value::Text(button)),
    ];
    render(CHOICE_FORM, &values)
}

/// The confirmation: activated, where the card goes, and whether it was so before.
pub fn activated(activated: &Activated) -> String {
    let texts = &crate::texts().account;
    let message = form::fill(&texts.activated, &[("dossier", &activated.dossier)]);
    let card = if activated.envoi_etablissement { &texts.card_to_school } else { &texts.card_to_home };
    let before = if activated.before {
        render(NOTE, &[("message", Value::Text(&texts.already_activated))])
    } else {
        Markup::default()
    };
    let space = link(&space_href("espace", &activated.space), &texts.space_link);
    let values = [
        ("title", Value::Text(&texts.activated_title)),
        ("before", Value::Markup(&before)),
        ("message", Value::Text(&message)),
        ("card", Value::Text(card)),
        ("space", Value::Markup(&space)),
    ];
    page(&texts.activated_title, &render(ACTIVATED, &values))
}

/// The personal space's sign-in: the dossier number and the date of birth; after a refused try,
/// the one message that does not say which was wrong.
pub fn signin(failed: bool) -> String {
    let texts = &crate::texts().account;
    let alert = if failed {
        render(ALERT, &[("message", Value::Text(&texts.signin_failed))])
    } else {
        Markup::default()
    };
    let values = [
        ("title", Value::Text(&texts.signin_title)),
        ("failed", Value::Markup(&alert)),
        ("intro", Value::Text(&texts.signin_intro)),
        ("dossier_label", Value::Text(&texts.signin_dossier)),
        ("birth_label", Value::Text(&texts.signin_birth)),
        ("button", Value::Text(&texts.signin_button)),
    ];
    page(&texts.signin_title, &render(SIGNIN, &values))
}

/// « Mes Cartes »: the request as stored, and where it stands.
pub fn space(space: &Space) -> String {
    let texts = &crate::texts().account;
    let status = match (space.status, space.activated) {
        (Some(statut), _) => statut.label_fr(),
        (None, true) => &texts.status_activated,
        (None, false) => &texts.status_received,
    };
    let received = day(space.received_at.date());
    let envoi = if space.envoi_etablissement { "dans l’établissement" } else { "à votre adresse" };
    let dossier = space.dossier.to_string();
    let saved = if space.saved {
        render(NOTE, &[("message", Value::Text(&texts.setting_saved))])
    } else {
        Markup::default()
    };
    let setting = match (space.setting_open, space.activated) {
        (true, _) => choice_form("reglage", &space.token, space.envoi_etablissement, &texts.save_setting),
        (false, true) => render(NOTE, &[("message", Value::Text(&texts.setting_locked))]),
        (false, false) => Markup::default(),
    };
    let duplicate = match &space.duplicate {
        Some(duplicate) => lines(
            [duplicate_line(duplicate), texts.duplicate_again.clone()]
                .iter()
                .map(|message| render(NOTE, &[("message", Value::Text(message))])),
        ),
        None => link(&space_href("duplicata", &space.token), &texts.duplicate_title),
    };
    let duplicate = render(
        SECTION,
        &[("title", Value::Text(&texts.duplicate_title)), ("content", Value::Markup(&duplicate))],
    );
    let values = [
        ("title", Value::Text(&texts.cards_title)),
        ("saved", Value::Markup(&saved)),
        ("setting", Value::Markup(&setting)),
        ("status", Value::Text(status)),
        ("dossier", Value::Text(&dossier)),
        ("nom", Value::Text(&space.nom)),
        ("prenom", Value::Text(&space.prenom)),
        ("etablissement", Value::Text(&space.etablissement)),
        ("filiere", Value::Text(&space.filiere)),
        ("received", Value::Text(&received)),
        ("envoi", Value::Text(envoi)),
        ("duplicate", Value::Markup(&duplicate)),
    ];
    page(&texts.cards_title, &render(SPACE, &values))
}

/// `route?jeton=<token>`: one of the function's pages, relative to the one that links to it.
fn space_href(route: &str, token: &str) -> String {
    format!("{route}?jeton={token}")
}

/// A link in a paragraph of its own.
fn link(href: &str, label: &str) -> Markup {
    render(LINK, &[("href", Value::Attribute(href)), ("label", Value::Text(label))])
}

/// `DD/MM/YYYY`, as the pages write a day.
fn day(date: time::Date) -> String {
    format!("{:02}/{:02}/{}", date.day(), u8::from(date.month()), date.year())
}

/// « Demande de duplicata enregistrée le … (motif : …). »
fn duplicate_line(duplicate: &DuplicateSummary) -> String {
    let texts = &crate::texts().account;
    let date = day(duplicate.requested_at.date());
    form::fill(
        &texts.duplicate_open,
        &[("date", &date), ("motif", &duplicate.motif.label_fr().to_lowercase())],
    )
}

/// The duplicate request's form: the reasons (the one chosen before checked), the optional photo,
/// and above them what to fix after a refusal.
pub fn duplicate_form(form: &DuplicateForm) -> String {
    let texts = &crate::texts().account;
    let alert = form
        .error
        .as_deref()
        .map_or_else(Markup::default, |message| render(ALERT, &[("message", Value::Text(message))]));
    let reasons = lines(Motif::ALL.into_iter().map(|motif| {
        let values = [
            ("value", Value::Static(motif.wire())),
            ("checked", Value::Static(if form.motif == Some(motif) { " checked" } else { "" })),
            ("label", Value::Text(motif.label_fr())),
        ];
        render(REASON, &values)
    }));
    let dossier = form.dossier.to_string();
    let back = link(&space_href("espace", &form.token), &texts.duplicate_back);
    let values = [
        ("title", Value::Text(&texts.duplicate_title)),
        ("alert", Value::Markup(&alert)),
        ("intro", Value::Text(&texts.duplicate_intro)),
        ("dossier", Value::Text(&dossier)),
        ("token", Value::Attribute(&form.token)),
        ("reason", Value::Text(&texts.duplicate_reason)),
        ("reasons", Value::Markup(&reasons)),
        ("photo_label", Value::Text(&texts.duplicate_photo)),
        ("photo_hint", Value::Text(&texts.duplicate_photo_hint)),
        ("button", Value::Text(&texts.duplicate_send)),
        ("back", Value::Markup(&back)),
    ];
    page(&texts.duplicate_title, &render(DUPLICATE_FORM, &values))
}

/// The duplicate request's confirmation: stored (or before), its reason and day, which photo.
pub fn duplicate_done(done: &DuplicateDone) -> String {
    let texts = &crate::texts().account;
    let before = if done.before {
        render(NOTE, &[("message", Value::Text(&texts.duplicate_before))])
    } else {
        Markup::default()
    };
    let message = form::fill(&texts.duplicate_done, &[("dossier", &done.dossier)]);
    let photo =
        if done.duplicate.new_photo { &texts.duplicate_photo_new } else { &texts.duplicate_photo_kept };
    let summary = duplicate_line(&done.duplicate);
    let back = link(&space_href("espace", &done.space), &texts.duplicate_back);
    let values = [
        ("title", Value::Text(&texts.duplicate_done_title)),
        ("before", Value::Markup(&before)),
        ("message", Value::Text(&message)),
        ("summary", Value::Text(&summary)),
        ("photo", Value::Text(photo)),
        ("back", Value::Markup(&back)),
    ];
    page(&texts.duplicate_done_title, &render(DUPLICATE_DONE, &values))
}

/// The fields to fix, each with its label and what to do.
pub fn invalid(errors: &[FieldError], back: Option<&str>) -> String {
    let items = lines(errors.iter().map(|error| {
        render(FIELD_ERROR, &[("label", Value::Text(&error.label)), ("message", Value::Text(&error.message))])
    }));
    let values = [
        ("title", Value::Text(INVALID_TITLE)),
        ("errors", Value::Markup(&items)),
        ("back", Value::Markup(&way_back(back))),
    ];
    page(INVALID_TITLE, &render(INVALID, &values))
}

/// Any other failure: what happened and what to do. A page that does not exist has no form to go
/// back to.
pub fn failure(failure: Failure, back: Option<&str>) -> String {
    let title = failure.title_fr();
    let back = match failure {
        Failure::NotFound => Markup::default(),
        _ => way_back(back),
    };
    let message = failure.message_fr();
    let values =
        [("title", Value::Text(title)), ("message", Value::Text(message)), ("back", Value::Markup(&back))];
    page(title, &render(FAILURE, &values))
}

/// How to get back to the form: a link when the form's address is known, else in words.
fn way_back(back: Option<&str>) -> Markup {
    match back {
        Some(href) => render(BACK_LINK, &[("href", Value::Attribute(href))]),
        None => render(BACK_TEXT, &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::Summary;
    use form::Dossier;

    fn field(label: &str, message: &str) -> FieldError {
        FieldError { field: "nom".into(), label: label.into(), message: message.into() }
    }

    fn stored(replay: bool) -> Receipt {
        Receipt {
            dossier: Dossier::from_seed(&[9; 32]),
            received_at: time::OffsetDateTime::UNIX_EPOCH,
            replay,
            summary: Summary::of(&crate::testing::demande()),
            mail: None,
            hints: Vec::new(),
        }
    }

    /// A duplicate request made on the epoch, for loss, with a new photo or not.
    fn duplicate(new_photo: bool) -> DuplicateSummary {
        DuplicateSummary { motif: Motif::Perte, requested_at: time::OffsetDateTime::UNIX_EPOCH, new_photo }
    }

    /// Every page the function can answer with.
    fn every_page() -> Vec<String> {
        let failures = [
            Failure::NotFound,
            Failure::MethodNotAllowed,
            Failure::TooLarge,
            Failure::NotMultipart,
            Failure::Malformed,
            Failure::Refused,
            Failure::ForbiddenOrigin,
            Failure::Conflict,
            Failure::Unavailable,
            Failure::Internal,
            Failure::LinkInvalid,
            Failure::ResendLimit,
        ];
        let mut pages = vec![
            receipt(&stored(false)),
            receipt(&stored(true)),
            receipt(&Receipt { hints: Hint::ALL.to_vec(), ..stored(false) }),
            invalid(&[field("Nom", "Indiquez votre nom.")], None),
            invalid(
                &[field("Nom", "Indiquez votre nom."), field("Photo", "Trop petite.")],
                Some("https://a.fr/"),
            ),
        ];
        let dossier = Dossier::from_seed(&[9; 32]);
        let report = |sent, resend: Option<&str>| MailReport {
            sent,
            email: "lea.dupre@example.org".into(),
            resend: resend.map(str::to_owned),
        };
        for mail in [report(true, Some("T.1.x")), report(false, Some("T.1.x")), report(false, None)] {
            pages.push(receipt(&Receipt { mail: Some(mail.clone()), ..stored(false) }));
            pages.push(mail_report(&mail));
        }
        for envoi_etablissement in [true, false] {
            pages.push(activation(&ActivationForm {
                dossier: dossier.clone(),
                token: "T.1.x".into(),
                envoi_etablissement,
            }));
            for before in [true, false] {
                let space = "T.1.x".to_owned();
                pages.push(activated(&Activated {
                    dossier: dossier.clone(),
                    envoi_etablissement,
                    before,
                    space,
                }));
            }
            for activated in [true, false] {
                for (setting_open, saved, duplicate) in
                    [(activated, activated, None), (false, false, Some(duplicate(envoi_etablissement)))]
                {
                    pages.push(space(&Space {
                        dossier: dossier.clone(),
                        nom: "Dupré".into(),
                        prenom: "Léa".into(),
                        etablissement: "Sidoine Apollinaire".into(),
                        filiere: "Seconde".into(),
                        received_at: time::OffsetDateTime::UNIX_EPOCH,
                        envoi_etablissement,
                        activated,
                        status: activated.then_some(crate::account::Statut::CarteArrivee),
                        token: "T.1.x".into(),
                        setting_open,
                        duplicate,
                        saved,
                    }));
                }
            }
            for before in [true, false] {
                pages.push(duplicate_done(&DuplicateDone {
                    dossier: dossier.clone(),
                    duplicate: duplicate(before),
                    before,
                    space: "T.1.x".into(),
                }));
            }
        }
        for (motif, error) in [(None, None), (Some(Motif::Vol), Some("Choisissez le motif.".to_owned()))] {
            pages.push(duplicate_form(&DuplicateForm {
                dossier: dossier.clone(),
                token: "T.1.x".into(),
                motif,
                error,
            }));
        }
        pages.push(signin(false));
        pages.push(signin(true));
        for failure in failures {
            pages.push(super::failure(failure, None));
            pages.push(super::failure(failure, Some("https://a.fr/demande/")));
        }
        pages
    }

    // Every page is a French HTML5 document that loads nothing from elsewhere.
    #[test]
    fn pages_are_self_contained_french_html5() {
        for page in every_page() {
            assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"fr\">"), "{page}");
            assert!(page.contains("<meta name=\"viewport\""));
            for external in ["<script", "<link", "src=", "@import", "url("] {
                assert!(!page.contains(external), "{external} in {page}");
            }
        }
    }

    // Every slot of every page gets its value, and every page has its title in the tab and as
    // its heading.
    #[test]
    fn pages_fill_every_slot() {
        for page in every_page() {
            assert!(!page.contains("{{") && !page.contains("}}"), "{page}");
            let title = page.split_once("<title>").and_then(|(_, rest)| rest.split_once(" – ")).unwrap().0;
            assert!(page.contains(&format!("<h1>{title}</h1>")), "{page}");
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
            mail: None,
            hints: Vec::new(),
        };
        let page = super::receipt(&receipt);
        assert!(!page.contains(&crate::texts().hint.title), "no hints, no part on them: {page}");
        assert!(page.contains("<dt>Nom</dt><dd>&lt;Dupré &amp; fils&gt;</dd>"), "{page}");
        assert!(page.contains("<dt>Date de naissance</dt><dd>14/03/2009</dd>"), "{page}");
        assert!(page.contains("<dd>dans l’établissement</dd>"), "{page}");
        assert!(page.contains(&format!("<p class=\"dossier\">{dossier}</p>")));
        assert!(page.contains("capture d’écran"));
        assert!(page.contains("«\u{202f}document à rendre\u{202f}»"));
        assert!(page.contains("déjà été envoyé"));
    }

    // The receipt lists each hint in its own item, under the title, with the note that the request
    // is stored all the same.
    #[test]
    fn receipt_lists_the_hints() {
        let texts = &crate::texts().hint;
        let page = receipt(&Receipt { hints: vec![Hint::TooDark, Hint::Blurred], ..stored(false) });
        assert!(page.contains(&format!("<h2>{}</h2>", texts.title)), "{page}");
        let mut items = String::new();
        encode_text_to_string(&texts.too_dark, &mut items);
        assert!(page.contains(&format!("<li>{items}</li>")), "{page}");
        assert_eq!(page.matches("<li>").count() - receipt(&stored(false)).matches("<li>").count(), 2);
        let mut note = String::new();
        encode_text_to_string(&texts.receipt_note, &mut note);
        assert!(page.contains(&note), "{page}");
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
        assert!(way_back(Some("https://a.fr/f")).0.contains("<a href=\"https://a.fr/f\">"));
    }

    // Each kind of value is escaped for where it goes, a fragment goes in as it is, and braces that
    // are no slot are copied.
    #[test]
    fn render_escapes_by_kind() {
        let fragment = render("<b>{{x}}</b>\n", &[("x", Value::Text("1 < 2"))]);
        let cases = [
            ("<p>{{ v }}</p>", Value::Text("a \"b\" & <c>"), "<p>a \"b\" &amp; &lt;c&gt;</p>"),
            (
                "<a href=\"{{v}}\">",
                Value::Attribute("x\" onclick=\"y"),
                "<a href=\"x&quot; onclick=&quot;y\">",
            ),
            ("<div>{{ v }}</div>", Value::Markup(&fragment), "<div><b>1 &lt; 2</b></div>"),
            ("<style>{{v}}</style>", Value::Static("a>b{}"), "<style>a>b{}</style>"),
            ("{{ v }} {{ v }}", Value::Text("{{ v }}"), "{{ v }} {{ v }}"),
            ("a {b} {{ v }} {{ c", Value::Text("1"), "a {b} 1 {{ c"),
            ("line\n", Value::Text(""), "line"),
        ];
        for (template, value, expected) in cases {
            assert_eq!(render(template, &[("v", value)]).0, expected, "{template}");
        }
    }

    // The templates keep French typography: no plain space where a narrow no-break space belongs.
    #[test]
    fn templates_use_narrow_no_break_spaces() {
        let templates = [PAGE, RECEIPT, REPLAY, INVALID, FIELD_ERROR, FAILURE, BACK_LINK, BACK_TEXT];
        for template in templates {
            for wrong in [" :", " ;", " !", " ?", "« ", " »"] {
                assert!(!template.contains(wrong), "`{wrong}` in {template}");
            }
        }
    }
}
