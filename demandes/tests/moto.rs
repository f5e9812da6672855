//! `demandes` as the staff run it, against a real S3 (moto) holding requests that the function's
//! own code stored ([`handler::App`] in-process): list, show, export, photos, statut, orphelins
//! and purge, each through the built binary, its output, its files and its exit code.

#[path = "../../handler/tests/support/mod.rs"]
mod support;

use std::process::Output;

use form::Dossier;
use handler::account::{Motif, Statut};
use handler::storage::account;
use handler::storage::store::{Metadata, ObjectKey, Store};
use handler::{App, S3Store};
use support::{Moto, post};
use time::OffsetDateTime;
use time::macros::datetime;

const BUCKET: &str = "demandes-personnel";
/// Two requests from last school year, one from today.
const LAST_YEAR: OffsetDateTime = datetime!(2025-09-15 09:00:00 UTC);

/// Runs `demandes args…` on `moto`'s bucket, with no AWS setting of the machine read.
async fn demandes(moto: &Moto, args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_demandes"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("BUCKET_NAME", BUCKET)
        .env("AWS_ENDPOINT_URL", &moto.endpoint)
        .env("AWS_REGION", support::REGION)
        .env("AWS_ACCESS_KEY_ID", support::ACCESS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", support::SECRET_KEY)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn failure(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stdout));
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Three requests made by the function (Léa and Jade last year, Zoé today), Léa's account
/// activated, Jade's duplicate request with a new photo, and a folder with a photo and no record
/// (a try that stopped).
async fn bucket(moto: &Moto) -> (S3Store, [Dossier; 4]) {
    moto.bucket(BUCKET).await;
    let store = post::store(&moto.endpoint, BUCKET, "personnel");
    let app = App::new(handler::schema().unwrap(), store.clone(), &post::config(BUCKET));
    let schema = handler::schema().unwrap();
    let mut dossiers = Vec::new();
    for (n, prenom, at) in
        [(1, "Léa", LAST_YEAR), (2, "Jade", LAST_YEAR), (3, "Zoé", OffsetDateTime::now_utc())]
    {
        let id = format!("personnel-{n}-0000-0000");
        let fields = post::fields(&schema, &id, &[("prenom", prenom.to_owned())]);
        let response = app.handle(post::request(&fields, &post::jpeg(480, 640, n)), at).await;
        let receipt: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        dossiers.push(Dossier::parse(receipt["dossier"].as_str().unwrap()).unwrap());
    }
    let activation = account::Activation { activated_at: LAST_YEAR, envoi_etablissement: true };
    account::activate(&store, &dossiers[0], &activation).await.unwrap();
    let new_photo = post::jpeg(413, 531, 9);
    account::request_duplicate(&store, &dossiers[1], LAST_YEAR, Motif::Vol, Some(&new_photo)).await.unwrap();
    let orphan = Dossier::from_seed(&[7; 32]);
    store
        .put_if_absent(&ObjectKey::photo(&orphan), &post::jpeg(100, 100, 4), "image/jpeg", &Metadata::new())
        .await
        .unwrap();
    dossiers.push(orphan);
    (store, dossiers.try_into().unwrap())
}

// Reading: the list flags what is missing, `show` reads a number as typed, the export opens in
// a French spreadsheet, the photos land named, the orphan is found; nothing is written.
#[tokio::test]
async fn the_staff_read_what_students_sent() {
    let moto = Moto::start().await;
    let (_, [lea, jade, zoe, orphan]) = bucket(&moto).await;
    let before = post::keys(&moto.client(), BUCKET).await;

    let list = stdout(&demandes(&moto, &["list"]).await);
    let line = |dossier: &Dossier| {
        list.lines().find(|line| line.contains(&dossier.to_string())).unwrap_or_default().to_owned()
    };
    assert!(
        line(&lea).contains("Léa")
            && line(&lea).contains("Compte activé")
            && !line(&lea).contains("non activé"),
        "{list}"
    );
    assert!(line(&jade).contains("compte non activé, duplicata demandé (vol)"), "{list}");
    assert!(line(&zoe).starts_with(&demandes::day_fr(OffsetDateTime::now_utc().date())), "{list}");
    assert!(
        list.contains("3 demande(s), dont 2 à vérifier.") && list.contains("1 dossier(s) sans demande"),
        "{list}"
    );

    let typed = lea.to_string().to_lowercase().replace('-', " ");
    let show = stdout(&demandes(&moto, &["show", &typed]).await);
    assert!(show.contains("Prénom             Léa") && show.contains("Compte activé      oui"), "{show}");
    let unknown = failure(&demandes(&moto, &["show", &Dossier::from_seed(&[8; 32]).to_string()]).await);
    assert!(unknown.starts_with("demandes : erreur : aucune demande n’a le numéro"), "{unknown}");
    let not_a_number = failure(&demandes(&moto, &["show", "pas-un-numéro"]).await);
    assert!(not_a_number.contains("« pas-un-numéro » n’est pas un numéro de dossier"), "{not_a_number}");

    let folder = tempfile::tempdir().unwrap();
    let csv = folder.path().join("demandes.csv");
    stdout(&demandes(&moto, &["export", csv.to_str().unwrap()]).await);
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a byte-order mark");
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').from_reader(&bytes[3..]);
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), demandes::export::HEADERS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    let jade_row = rows.iter().find(|row| row[0] == jade.to_string()).unwrap();
    assert_eq!((&jade_row[2], &jade_row[8], &jade_row[10]), ("Jade", "non", "Vol le 15/09/2025"));
    let again = failure(&demandes(&moto, &["export", csv.to_str().unwrap()]).await);
    assert!(again.contains("impossible de créer"), "an existing file is never replaced: {again}");

    let photos = folder.path().join("photos");
    stdout(&demandes(&moto, &["photos", photos.to_str().unwrap()]).await);
    let mut files: Vec<String> = std::fs::read_dir(&photos)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut expected = vec![
        format!("{}_Dupré_Léa.jpg", lea.compact()),
        format!("{}_Dupré_Jade.jpg", jade.compact()),
        format!("{}_Dupré_Jade_duplicata.jpg", jade.compact()),
        format!("{}_Dupré_Zoé.jpg", zoe.compact()),
    ];
    expected.sort();
    assert_eq!(files, expected);
    for file in &files {
        assert!(std::fs::read(photos.join(file)).unwrap().starts_with(&[0xFF, 0xD8]), "{file}");
    }

    let orphans = stdout(&demandes(&moto, &["orphelins"]).await);
    assert!(
        orphans.contains(&ObjectKey::photo(&orphan).to_string())
            && orphans.contains("1 objet(s) orphelin(s)."),
        "{orphans}"
    );
    assert_eq!(post::keys(&moto.client(), BUCKET).await, before, "reading writes nothing");
}

// Writing: a status is set once per change, refused when it is not one; the purge lists before it
// erases, then erases exactly what it listed, record first.
#[tokio::test]
async fn the_staff_set_statuses_and_purge() {
    let moto = Moto::start().await;
    let (store, [lea, jade, zoe, orphan]) = bucket(&moto).await;

    let set = stdout(&demandes(&moto, &["statut", &lea.to_string(), "carte_arrivee"]).await);
    assert!(set.contains(Statut::CarteArrivee.label_fr()), "{set}");
    assert_eq!(
        account::latest_status(&store, &lea).await.unwrap().map(|(n, note)| (n, note.statut)),
        Some((1, Statut::CarteArrivee))
    );
    stdout(&demandes(&moto, &["statut", &lea.to_string(), "carte_remise"]).await);
    assert_eq!(
        account::latest_status(&store, &lea).await.unwrap().map(|(n, _)| n),
        Some(2),
        "a new note, nothing overwritten"
    );
    let wrong = failure(&demandes(&moto, &["statut", &lea.to_string(), "envoyee"]).await);
    assert!(wrong.contains("les statuts sont : incomplet, verifie, carte_arrivee, carte_remise"), "{wrong}");

    let before = post::keys(&moto.client(), BUCKET).await;
    let today = OffsetDateTime::now_utc().date();
    let avant = format!("{:04}-{:02}-{:02}", today.year(), u8::from(today.month()), today.day());
    let dry = stdout(&demandes(&moto, &["purge", "--avant", &avant]).await);
    assert!(dry.contains(&lea.to_string()) && dry.contains(&jade.to_string()), "{dry}");
    assert!(!dry.contains(&zoe.to_string()) && !dry.contains(&orphan.to_string()), "{dry}");
    assert!(dry.contains("Simulation : 2 dossier(s)"), "{dry}");
    assert_eq!(post::keys(&moto.client(), BUCKET).await, before, "a dry run erases nothing");

    let future = failure(&demandes(&moto, &["purge", "--avant", "2999-01-01", "--confirmer"]).await);
    assert!(future.contains("dans le futur"), "{future}");

    let done = stdout(&demandes(&moto, &["purge", "--avant", &avant, "--confirmer"]).await);
    assert!(done.contains("2 dossier(s)"), "{done}");
    let after = post::keys(&moto.client(), BUCKET).await;
    let gone = |dossier: &Dossier| !after.iter().any(|key| key.contains(dossier.compact()));
    assert!(gone(&lea) && gone(&jade), "{after:?}");
    assert!(!gone(&zoe) && !gone(&orphan), "today's request and today's orphan stay: {after:?}");
    let erased: Vec<&String> = before.iter().filter(|key| !after.contains(key)).collect();
    assert!(
        erased.iter().all(|key| key.contains(lea.compact()) || key.contains(jade.compact())),
        "{erased:?}"
    );
}
