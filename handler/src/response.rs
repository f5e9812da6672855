//! Every answer the function gives, and the one place that maps an outcome to an HTTP status.
//! A request that asks for JSON (`Accept: application/json`, the page's `fetch`) gets JSON; any
//! other gets a small French HTML page, since a form posted without JavaScript shows the response
//! as the next page.

use std::borrow::Cow;
use std::collections::BTreeMap;

use form::{Demande, Dossier};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

use crate::cors::AllowedOrigins;
use crate::html;

/// Seconds a client should wait before sending again after a 503.
pub const RETRY_AFTER_SECONDS: u32 = 10;

/// What the request flow decided.
#[derive(Debug)]
pub enum Reply {
    /// The request is stored (201), or was already (200).
    Receipt(Receipt),
    /// Some fields need fixing (422); nothing was stored.
    Invalid(Vec<FieldError>),
    /// Anything else that stops the request.
    Failure(Failure),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub dossier: Dossier,
    pub received_at: OffsetDateTime,
    /// True when an earlier send had stored this request already.
    pub replay: bool,
    /// What is stored, for the student to check and print.
    pub summary: Summary,
}

/// The stored values a receipt shows: the validated, normalised ones, which a replay (same
/// submission, same content) shares with the first send. Not the address or the phone: the
/// printable slip does not need them, and fewer personal details travel back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub nom: String,
    pub prenom: String,
    #[serde(serialize_with = "iso_date")]
    pub date_naissance: Date,
    pub email: String,
    pub etablissement: String,
    pub filiere: String,
    pub envoi_etablissement: bool,
}

impl Summary {
    pub fn of(demande: &Demande) -> Summary {
        Summary {
            nom: demande.nom.clone(),
            prenom: demande.prenom.clone(),
            date_naissance: demande.date_naissance,
            email: demande.email.clone(),
            etablissement: demande.etablissement.clone(),
            filiere: demande.filiere.clone(),
            envoi_etablissement: demande.envoi_etablissement,
        }
    }
}

/// `YYYY-MM-DD`, the value of a date input.
fn iso_date<S: serde::Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    let text = date.format(format_description!("[year]-[month]-[day]")).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(&text)
}

/// One field to fix: its wire name, its French label and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub label: String,
    pub message: String,
}

/// The ways a request fails other than invalid fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    NotFound,
    MethodNotAllowed,
    TooLarge,
    NotMultipart,
    Malformed,
    /// The honeypot was filled. Answered like a malformed form, so a bot learns nothing.
    Refused,
    /// The request came from a page whose origin `ALLOWED_ORIGIN` does not list.
    ForbiddenOrigin,
    /// The same submission is already stored with other content.
    Conflict,
    /// The store did not answer: a retry will complete the request.
    Unavailable,
    Internal,
}

impl Failure {
    pub fn status(self) -> StatusCode {
        match self {
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Failure::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::NotMultipart => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Failure::Malformed | Failure::Refused => StatusCode::BAD_REQUEST,
            Failure::ForbiddenOrigin => StatusCode::FORBIDDEN,
            Failure::Conflict => StatusCode::CONFLICT,
            Failure::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Failure::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The page title.
    pub fn title_fr(self) -> &'static str {
        match self {
            Failure::NotFound => "Page introuvable",
            Failure::MethodNotAllowed => "Adresse réservée au formulaire",
            Failure::TooLarge => "Envoi trop lourd",
            Failure::NotMultipart | Failure::Malformed | Failure::Refused => "Demande non prise en compte",
            Failure::ForbiddenOrigin => "Formulaire non reconnu",
            Failure::Conflict => "Formulaire déjà envoyé",
            Failure::Unavailable => "Service momentanément indisponible",
            Failure::Internal => "Erreur de notre côté",
        }
    }

    /// What happened and what to do, for the student.
    pub fn message_fr(self) -> Cow<'static, str> {
        let text = match self {
            Failure::TooLarge => {
                return Cow::Owned(format!(
                    "Le formulaire envoyé est trop lourd\u{202f}: la photo dépasse sans doute {}. \
                 Choisissez une photo plus légère (celle prise par le téléphone, sans \
                 retouche, convient en général), puis envoyez de nouveau le formulaire.",
                    form::limits::max_photo_fr()
                ));
            }
            Failure::NotFound => {
                "Cette adresse ne mène à aucune page. Le formulaire de demande de Pass’Région se \
                 trouve sur le site de l’établissement."
            }
            Failure::MethodNotAllowed => {
                "Cette adresse reçoit seulement le formulaire de demande envoyé depuis le site de \
                 l’établissement. Ouvrez le formulaire, remplissez-le puis envoyez-le."
            }
            Failure::NotMultipart | Failure::Malformed | Failure::Refused => {
                "Votre demande n’a pas pu être lue et n’a pas été enregistrée. Rechargez la page \
                 du formulaire, remplissez-le puis envoyez-le de nouveau."
            }
            Failure::ForbiddenOrigin => {
                "Ce formulaire n’a pas été envoyé depuis le site de l’établissement, et votre \
                 demande n’a pas été enregistrée. Ouvrez le formulaire depuis le site ou la clé \
                 USB de l’établissement, puis envoyez-le de nouveau."
            }
            Failure::Conflict => {
                "Ce formulaire a déjà été envoyé avec d’autres réponses ou une autre photo, et \
                 c’est ce premier envoi qui est enregistré\u{202f}: rien n’a été modifié. Pour \
                 corriger une demande déjà enregistrée, adressez-vous au secrétariat de \
                 l’établissement. S’il s’agit d’une nouvelle demande, envoyez de nouveau le \
                 formulaire."
            }
            Failure::Unavailable => {
                "L’enregistrement des demandes ne répond pas pour le moment et votre demande \
                 n’est pas encore enregistrée. Réessayez dans quelques minutes en envoyant le \
                 même formulaire\u{202f}: vous n’obtiendrez qu’un seul numéro de dossier."
            }
            Failure::Internal => {
                "Une erreur de notre côté a empêché d’enregistrer votre demande. Réessayez plus \
                 tard\u{202f}; si cela recommence, prévenez l’établissement."
            }
        };
        Cow::Borrowed(text)
    }
}

impl Reply {
    pub fn status(&self) -> StatusCode {
        match self {
            Reply::Receipt(receipt) if receipt.replay => StatusCode::OK,
            Reply::Receipt(_) => StatusCode::CREATED,
            Reply::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Reply::Failure(failure) => failure.status(),
        }
    }

    /// The JSON body: the receipt, `{"errors": {field: message}}` or `{"error": message}`.
    fn json(&self) -> serde_json::Value {
        match self {
            Reply::Receipt(receipt) => json!({
                "dossier": receipt.dossier.to_string(),
                "compact": receipt.dossier.compact(),
                "received_at": receipt.received_at.format(&Rfc3339).unwrap_or_default(),
                "replay": receipt.replay,
                "demande": receipt.summary,
            }),
            Reply::Invalid(errors) => {
                let errors: BTreeMap<&str, &str> =
                    errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
                json!({ "errors": errors })
            }
            Reply::Failure(failure) => json!({ "error": failure.message_fr() }),
        }
    }

    /// The HTML page. `back` is a link to the form, when the request came from it.
    fn html(&self, back: Option<&str>) -> String {
        match self {
            Reply::Receipt(receipt) => html::receipt(receipt),
            Reply::Invalid(errors) => html::invalid(errors, back),
            Reply::Failure(failure) => html::failure(*failure, back),
        }
    }

    /// The HTTP response, in JSON or HTML as the client asked.
    pub fn into_response(self, json: bool, back: Option<&str>) -> Response<Body> {
        let (content_type, body) = if json {
            ("application/json", self.json().to_string())
        } else {
            ("text/html; charset=utf-8", self.html(back))
        };
        let mut response = Response::new(Body::Text(body));
        *response.status_mut() = self.status();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        // Receipts and error pages are about one student: no cache may keep them.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        if !json {
            headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(html::CSP));
        }
        match self {
            Reply::Failure(Failure::Unavailable) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
            }
            Reply::Failure(Failure::MethodNotAllowed) => {
                headers.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            }
            _ => {}
        }
        response
    }
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

    fn receipt(replay: bool) -> Receipt {
        Receipt {
            dossier: Dossier::from_seed(&[5; 32]),
            received_at: time::macros::datetime!(2025-09-01 08:30:00 UTC),
            replay,
            summary: Summary::of(&crate::testing::demande()),
        }
    }

    fn body(response: &Response<Body>) -> String {
        String::from_utf8(response.body().to_vec()).unwrap()
    }

    // Every outcome maps to its status; the user's mistakes are 4xx, only ours are 5xx.
    #[test]
    fn statuses() {
        let cases = [
            (Reply::Receipt(receipt(false)), 201),
            (Reply::Receipt(receipt(true)), 200),
            (Reply::Invalid(vec![]), 422),
            (Reply::Failure(Failure::NotFound), 404),
            (Reply::Failure(Failure::MethodNotAllowed), 405),
            (Reply::Failure(Failure::TooLarge), 413),
            (Reply::Failure(Failure::NotMultipart), 415),
            (Reply::Failure(Failure::Malformed), 400),
            (Reply::Failure(Failure::Refused), 400),
            (Reply::Failure(Failure::ForbiddenOrigin), 403),
            (Reply::Failure(Failure::Conflict), 409),
            (Reply::Failure(Failure::Unavailable), 503),
            (Reply::Failure(Failure::Internal), 500),
        ];
        for (reply, status) in cases {
            assert_eq!(reply.status().as_u16(), status, "{reply:?}");
        }
    }

    // The JSON receipt carries the dossier in both forms and the time received.
    #[test]
    fn json_receipt() {
        let response = Reply::Receipt(receipt(false)).into_response(true, None);
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
        let response = Reply::Invalid(vec![error]).into_response(true, None);
        let value: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
        assert_eq!(value, json!({"errors": {"email": "Vérifiez l’adresse."}}));
    }

    // A 503 tells when to retry, in JSON as in HTML; a 405 tells which methods work.
    #[test]
    fn failure_headers() {
        for json in [true, false] {
            let response = Reply::Failure(Failure::Unavailable).into_response(json, None);
            assert_eq!(response.headers()[header::RETRY_AFTER], "10");
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
        let response = Reply::Failure(Failure::Unavailable).into_response(true, None);
        let value: serde_json::Value = serde_json::from_str(&body(&response)).unwrap();
        assert_eq!(value["error"], Failure::Unavailable.message_fr().as_ref());
        let response = Reply::Failure(Failure::MethodNotAllowed).into_response(false, None);
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
