//! The e-mail after the request and its activation link, through the function's own code
//! ([`App::handle`]) against a real S3 and a real SES (one moto_server): the request is stored,
//! SES v2 gets the e-mail (read back from moto's `/moto-api/data.json`), its link opens the
//! activation page without changing anything, « Appliquer » activates once, « Renvoyer l’e-mail »
//! sends the next e-mail up to the limit, and a failing SES loses nothing.

mod support;

use handler::App;
use handler::mail::ses::SesMailer;
use handler::s3::S3Store;
use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request};
use support::post::{self, ORIGIN};
use support::{Moto, activation_link, sent_mails};
use time::OffsetDateTime;

const BUCKET: &str = "demandes-courriel";
const SENDER: &str = "passregion@lycee-exemple.fr";
const FUNCTION_URL: &str = "https://fonction.example/";
const REGION: &str = "us-east-1";

fn credentials() -> aws_sdk_sesv2::config::Credentials {
    aws_sdk_sesv2::config::Credentials::new("local", "local", None, None, "tests")
}

/// The function with a sender on `moto`, the sender verified there unless `verified` is false.
async fn app(moto: &Moto, verified: bool) -> App<S3Store, SesMailer> {
    let client = moto.bucket(BUCKET).await;
    if verified {
        let config = aws_sdk_sesv2::config::Builder::new()
            .behavior_version(aws_sdk_sesv2::config::BehaviorVersion::latest())
            .region(aws_sdk_sesv2::config::Region::new(REGION))
            .endpoint_url(&moto.endpoint)
            .credentials_provider(credentials())
            .build();
        let ses = aws_sdk_sesv2::Client::from_conf(config);
        ses.create_email_identity().email_identity(SENDER).send().await.unwrap();
    }
    let mailer = SesMailer::for_endpoint(&moto.endpoint, REGION, credentials(), SENDER.to_owned());
    App::new(handler::schema().unwrap(), S3Store::new(client, BUCKET), &post::config(BUCKET))
        .with_mailer(mailer, FUNCTION_URL)
}

fn get(url: &str) -> Request {
    lambda_http::http::Request::builder().method("GET").uri(url).body(Body::Empty).unwrap()
}

/// The small multipart form of the function's own pages (`jeton`, and the activation's box).
fn token_form(path: &str, token: &str, send_to_school: bool) -> Request {
    let boundary = "account-boundary-7e1";
    let mut body =
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"jeton\"\r\n\r\n{token}\r\n");
    if send_to_school {
        body += &format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"envoi_etablissement\"\r\n\r\noui\r\n"
        );
    }
    body += &format!("--{boundary}--\r\n");
    lambda_http::http::Request::builder()
        .method("POST")
        .uri(format!("https://fonction.example{path}"))
        .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .header(header::ACCEPT, "application/json")
        .header(header::ORIGIN, "https://fonction.example")
        .body(Body::Binary(body.into_bytes()))
        .unwrap()
}

fn text(response: &lambda_http::Response<Body>) -> String {
    String::from_utf8(response.body().to_vec()).unwrap()
}

fn json(response: &lambda_http::Response<Body>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap()
}

/// The objects of the bucket.
async fn keys(moto: &Moto) -> Vec<String> {
    post::keys(&moto.client(), BUCKET).await
}

// The whole flow: request, e-mail, link, « Appliquer », and the e-mail sent again to the limit.
#[tokio::test]
async fn request_mail_activation_and_resend() {
    let moto = Moto::start().await;
    let app = app(&moto, true).await;
    let schema = handler::schema().unwrap();
    let now = OffsetDateTime::now_utc();
    let id = "5d9c0a1e-2b3f-4c5d-8e9f-0a1b2c3d4e5f";
    let response =
        app.handle(post::request(&post::fields(&schema, id, &[]), &post::jpeg(480, 640, 1)), now).await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", text(&response));
    let receipt = json(&response);
    let dossier = receipt["dossier"].as_str().unwrap().to_owned();
    let compact = dossier.replace('-', "");
    assert_eq!(receipt["courriel"]["envoye"], true, "{receipt}");
    assert_eq!(receipt["courriel"]["email"], "lea.dupre@example.org");
    let resend = receipt["courriel"]["jeton_renvoi"].as_str().unwrap().to_owned();

    // SES got one e-mail, to the stored address, with the number and a signed link.
    let mails = sent_mails(&moto.endpoint).await;
    assert_eq!(mails.len(), 1, "{mails:?}");
    let (to, subject, body) = &mails[0];
    assert_eq!(to, "lea.dupre@example.org");
    assert!(subject.contains(&dossier), "{subject}");
    assert!(body.contains(&dossier), "{body}");
    let link = activation_link(body);
    assert!(link.starts_with("https://fonction.example/activation?jeton="), "{link}");
    assert!(!link.ends_with(&compact), "the link is not the bare number");

    // Opening the link shows the setting as the form chose it, and writes nothing.
    let before = keys(&moto).await;
    assert!(before.contains(&format!("demandes/{compact}/courriel-1.json")), "{before:?}");
    let page = app.handle(get(&link), now).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = text(&page);
    assert!(
        html.contains("Je souhaite que mon Pass’Région soit envoyé directement dans mon établissement"),
        "{html}"
    );
    assert!(html.contains(" checked>"), "checked as in the form: {html}");
    assert!(html.contains("Appliquer"));
    assert_eq!(keys(&moto).await, before, "opening the link changed nothing");

    // « Appliquer » without the box: activated, the card to the student's address; once only.
    let token = link.split("jeton=").nth(1).unwrap();
    let applied = app.handle(token_form("/activation", token, false), now).await;
    assert_eq!(applied.status(), StatusCode::OK, "{}", text(&applied));
    assert_eq!(
        json(&applied),
        serde_json::json!({ "dossier": dossier, "envoi_etablissement": false, "deja_active": false })
    );
    let again = app.handle(token_form("/activation", token, true), now).await;
    assert_eq!(json(&again)["deja_active"], true);
    assert_eq!(json(&again)["envoi_etablissement"], false, "the first activation stays");
    let stored = moto
        .client()
        .get_object()
        .bucket(BUCKET)
        .key(format!("demandes/{compact}/activation.json"))
        .send()
        .await
        .unwrap();
    let stored: serde_json::Value =
        serde_json::from_slice(&stored.body.collect().await.unwrap().into_bytes()).unwrap();
    assert_eq!(stored["envoi_etablissement"], false);
    let reopened = text(&app.handle(get(&link), now).await);
    assert!(reopened.contains("Compte activé"), "{reopened}");

    // The personal space, signed into with the number and the date of birth: activated, the
    // setting applied.
    let sign_in = {
        let boundary = "signin-boundary-2b";
        let body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"dossier\"\r\n\r\n{}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"date_naissance\"\r\n\r\n2009-03-14\r\n--{boundary}--\r\n",
            dossier.to_lowercase()
        );
        lambda_http::http::Request::builder()
            .method("POST")
            .uri("https://fonction.example/espace")
            .header(header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
            .header(header::ACCEPT, "application/json")
            .body(Body::Binary(body.into_bytes()))
            .unwrap()
    };
    let space = app.handle(sign_in, now).await;
    assert_eq!(space.status(), StatusCode::OK, "{}", text(&space));
    let space = json(&space);
    assert_eq!(
        (space["statut"].as_str(), space["envoi_etablissement"].as_bool()),
        (Some("compte_active"), Some(false))
    );

    // « Renvoyer l’e-mail »: two more, then the limit; each one a new e-mail, noted.
    let first = app.handle(token_form("/renvoi", &resend, false), now).await;
    assert_eq!(first.status(), StatusCode::OK, "{}", text(&first));
    let second_token = json(&first)["jeton_renvoi"].as_str().unwrap().to_owned();
    let second = app.handle(token_form("/renvoi", &second_token, false), now).await;
    assert_eq!(json(&second)["envoye"], true);
    assert_eq!(json(&second)["jeton_renvoi"], serde_json::Value::Null, "the last one allowed");
    let refused = app.handle(token_form("/renvoi", &second_token, false), now).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sent_mails(&moto.endpoint).await.len(), 3);
    let after = keys(&moto).await;
    for n in 1..=3 {
        assert!(after.contains(&format!("demandes/{compact}/courriel-{n}.json")), "{after:?}");
    }

    // A replay of the request sends nothing more.
    let replay =
        app.handle(post::request(&post::fields(&schema, id, &[]), &post::jpeg(480, 640, 1)), now).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(sent_mails(&moto.endpoint).await.len(), 3);

    // A token for another purpose, or altered, opens nothing.
    let wrong = app.handle(get(&format!("{FUNCTION_URL}activation?jeton={resend}")), now).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let altered = app.handle(get(&format!("{link}x")), now).await;
    assert_eq!(altered.status(), StatusCode::FORBIDDEN);
    assert!(text(&altered).contains("Lien incomplet ou expiré"));
}

// SES refuses (the sender is not verified): the request is stored all the same, the receipt says
// the e-mail did not leave and offers to send it again.
#[tokio::test]
async fn a_refused_mail_loses_nothing() {
    let moto = Moto::start().await;
    let app = app(&moto, false).await;
    let schema = handler::schema().unwrap();
    let id = "8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d";
    let response = app
        .handle(
            post::request(&post::fields(&schema, id, &[]), &post::jpeg(480, 640, 2)),
            OffsetDateTime::now_utc(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED, "{}", text(&response));
    let receipt = json(&response);
    assert_eq!(receipt["courriel"]["envoye"], false, "{receipt}");
    assert!(receipt["courriel"]["jeton_renvoi"].is_string());
    let compact = receipt["compact"].as_str().unwrap();
    let keys = keys(&moto).await;
    for name in ["photo.jpg", "demande.json", "courriel-1.json"] {
        assert!(keys.contains(&format!("demandes/{compact}/{name}")), "{keys:?}");
    }
    assert_eq!(sent_mails(&moto.endpoint).await.len(), 0);
    assert_eq!(response.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
}

// « Demande de duplicata » on a real S3: signed in with the number and the date of birth, the
// student asks for a duplicate with a new photo; the function stores the photo it made (metadata
// stripped, the ID photo's size) and then the request naming it, and a second request changes
// nothing.
#[tokio::test]
async fn duplicate_request_on_s3() {
    let moto = Moto::start().await;
    let app = app(&moto, true).await;
    let schema = handler::schema().unwrap();
    let now = OffsetDateTime::now_utc();
    let fields = post::fields(&schema, "6e0d1b2f-3c4a-4d5e-9f0a-1b2c3d4e5f60", &[]);
    let receipt = json(&app.handle(post::request(&fields, &post::jpeg(480, 640, 2)), now).await);
    let dossier = receipt["dossier"].as_str().unwrap().to_owned();
    let compact = dossier.replace('-', "");

    let sign_in =
        [("dossier".to_owned(), dossier.clone()), ("date_naissance".to_owned(), "2009-03-14".to_owned())];
    let mut request = post::request(&sign_in, &[]);
    *request.uri_mut() = format!("{FUNCTION_URL}espace").parse().unwrap();
    request.headers_mut().insert(header::ACCEPT, "text/html".parse().unwrap());
    let cards = text(&app.handle(request, now).await);
    let token = cards
        .split("duplicata?jeton=")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no link to the duplicate request in {cards}"))
        .to_owned();

    let duplicate = |motif: &str, photo: &[u8]| {
        let fields = [("jeton".to_owned(), token.clone()), ("motif".to_owned(), motif.to_owned())];
        let mut request = post::request(&fields, photo);
        *request.uri_mut() = format!("{FUNCTION_URL}duplicata").parse().unwrap();
        request
    };
    let done = app.handle(duplicate("degradation", &post::jpeg(900, 1200, 3)), now).await;
    assert_eq!(done.status(), StatusCode::CREATED, "{}", text(&done));
    let stored: Vec<String> =
        keys(&moto).await.into_iter().filter(|key| key.contains(&format!("{compact}/duplicata"))).collect();
    let [photo, record] = stored.as_slice() else { panic!("{stored:?}") };
    assert_eq!(record, &format!("demandes/{compact}/duplicata.json"));
    let record: serde_json::Value =
        serde_json::from_slice(&post::read(&moto.client(), BUCKET, record).await).unwrap();
    assert_eq!(
        (record["motif"].as_str(), record["photo"].as_str()),
        (Some("degradation"), Some(photo.as_str()))
    );
    let jpeg = post::read(&moto.client(), BUCKET, photo).await;
    let decoded = image::load_from_memory(&jpeg).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (413, 531));
    assert!(!jpeg.windows(4).any(|w| w == b"Exif"), "no metadata kept");

    let again = app.handle(duplicate("perte", &[]), now).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(json(&again)["duplicata"]["motif"], "degradation");
    assert_eq!(keys(&moto).await.iter().filter(|key| key.contains("/duplicata")).count(), 2);
}
