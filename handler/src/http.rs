//! The function's HTTP side: the bounded multipart reader, the origin rules, the outcomes and
//! their statuses, the HTML pages, the log line; and here, how an outcome goes on the wire. A
//! request that asks for JSON (`Accept: application/json`, the page's `fetch`) gets JSON; any
//! other gets a small French HTML page, since a form posted without JavaScript shows the response
//! as the next page.
//!
//! Which way each module depends: [`response`] decides what to answer and uses no other module of these;
//! [`pages`] renders a [`response`] as HTML; this file joins the two into a response. [`cors`],
//! [`log`] and [`multipart`] stand alone.

pub mod cors;
pub mod log;
pub mod multipart;
pub mod pages;
pub mod response;

use lambda_http::http::{HeaderValue, header};
use lambda_http::{Body, Response};

use crate::http::cors::AllowedOrigins;
use crate::http::response::{Failure, Reply};

/// Seconds a client should wait before sending again after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 10;

/// The HTTP response for `reply`, in JSON or as a page as the client asked (`json`). `back` is the
/// link to the form a page offers, when the request came from it.
pub fn respond(reply: Reply, json: bool, back: Option<&str>) -> Response<Body> {
    // The preview is for the page's script only: it has no page, and is JSON for every client.
    let page = match &reply {
        _ if json => None,
        Reply::Preview(_) => None,
        Reply::Receipt(receipt) => Some(pages::receipt(receipt)),
        Reply::Invalid(errors) => Some(pages::invalid(errors, back)),
        Reply::Failure(failure) => Some(pages::failure(*failure, back)),
        Reply::Mail(report) => Some(pages::mail_report(report)),
        Reply::Activation(form) => Some(pages::activation(form)),
        Reply::Activated(activated) => Some(pages::activated(activated)),
        Reply::SignIn { failed } => Some(pages::signin(*failed)),
        Reply::Space(space) => Some(pages::space(space)),
        Reply::DuplicateForm(form) => Some(pages::duplicate_form(form)),
        Reply::Duplicate(done) => Some(pages::duplicate_done(done)),
    };
    let html = page.is_some();
    let (content_type, body) = match page {
        Some(page) => ("text/html; charset=utf-8", page),
        None => ("application/json", reply.json().to_string()),
    };
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = reply.status();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Receipts and error pages are about one student: no cache may keep them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if html {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(pages::CSP));
    }
    match reply {
        Reply::Failure(Failure::Unavailable) => {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        Reply::Failure(Failure::MethodNotAllowed) => {
            // What every route takes (the activation link's GET aside, which no client sends by
            // mistake): the methods CORS allows.
            headers.insert(header::ALLOW, HeaderValue::from_static(cors::METHODS));
        }
        _ => {}
    }
    response
}

/// Whether the client asked for JSON: any `application/json` range in `Accept`.
pub fn wants_json(accept: Option<&str>) -> bool {
    accept.is_some_and(|accept| {
        accept.split(',').any(|range| {
            let media = range.split(';').next().unwrap_or_default().trim();
            media.eq_ignore_ascii_case("application/json")
        })
    })
}

/// The link back to the form: the `Referer`, when it is a page of the site itself (an allowed
/// origin). A link to any other origin could send the student somewhere unexpected, so then there
/// is none; nor for an opaque origin such as `file://`, which `null` in the list does not name.
pub fn back_link(referer: Option<&str>, site: &AllowedOrigins) -> Option<String> {
    let url = url::Url::parse(referer?).ok()?;
    let origin = url.origin();
    (origin.is_tuple() && site.contains(&origin.ascii_serialization())).then(|| url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::response::FieldError;
    use form::Dossier;
    use serde_json::json;

    use crate::testing::receipt;

    fn body(response: &Response<Body>) -> String {
        String::from_utf8(response.body().to_vec()).unwrap()
    }

    // The JSON receipt carries the dossier in both forms and the time received.
    #[test]
    fn json_receipt() {
        let response = respond(Reply::Receipt(receipt(false)), true, None);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
        let value: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
        let dossier = Dossier::from_seed(&[5; 32]);
        assert_eq!(value["dossier"], dossier.to_string());
        assert_eq!(value["compact"], dossier.compact());
        assert_eq!(value["received_at"], "2025-09-01T08:30:00Z");
        assert_eq!(value["replay"], false);
        assert_eq!(
            value["demande"],
            json!({
                "nom": "Dupré",
                "prenom": "Léa",
                "date_naissance": "2009-03-14",
                "email": "lea.dupre@example.org",
                "etablissement": "Lycée Sidoine Apollinaire",
                "filiere": "Seconde générale et technologique",
                "envoi_etablissement": true,
            })
        );
    }

    // Field errors come as a field -> message object.
    #[test]
    fn json_errors() {
        let error = FieldError {
            field: "email".into(),
            label: "Adresse e-mail".into(),
            message: "Vérifiez l’adresse.".into(),
        };
        let response = respond(Reply::Invalid(vec![error]), true, None);
        let value: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
        assert_eq!(value, json!({"errors": {"email": "Vérifiez l’adresse."}}));
    }

    // A 503 tells when to retry, in JSON as in HTML; a 405 tells which methods work.
    #[test]
    fn failure_headers() {
        for json in [true, false] {
            let response = respond(Reply::Failure(Failure::Unavailable), json, None);
            assert_eq!(response.headers()[header::RETRY_AFTER], "10");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
        let response = respond(Reply::Failure(Failure::Unavailable), true, None);
        let value: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
        assert_eq!(value["error"], Failure::Unavailable.message_fr());
        let response = respond(Reply::Failure(Failure::MethodNotAllowed), false, None);
        assert_eq!(response.headers()[header::ALLOW], "POST, OPTIONS");
        assert!(response.headers()[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }

    // `Accept` is read range by range, parameters and case aside.
    #[test]
    fn negotiation() {
        let cases = [
            (None, false),
            (Some("text/html,application/xhtml+xml,*/*;q=0.8"), false),
            (Some("application/json"), true),
            (Some("text/html, Application/JSON;q=0.9"), true),
            (Some("application/jsonp"), false),
        ];
        for (accept, json) in cases {
            assert_eq!(wants_json(accept), json, "{accept:?}");
        }
    }

    // Only a referer on one of the site's own origins becomes a link back; `null` names none.
    #[test]
    fn back_links() {
        let site =
            AllowedOrigins::parse("https://lycee.example.fr, http://127.0.0.1:8000, null").unwrap().unwrap();
        let cases = [
            (Some("https://lycee.example.fr/demande/"), Some("https://lycee.example.fr/demande/")),
            (Some("http://127.0.0.1:8000/demande.html"), Some("http://127.0.0.1:8000/demande.html")),
            (Some("https://lycee.example.fr.evil.test/demande/"), None),
            (Some("http://lycee.example.fr/demande/"), None),
            (Some("file:///media/usb/site/demande.html"), None),
            (Some("not a url"), None),
            (None, None),
        ];
        for (referer, expected) in cases {
            assert_eq!(back_link(referer, &site).as_deref(), expected, "{referer:?}");
        }
    }
}
