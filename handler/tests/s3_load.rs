//! Concurrency, with real parts: the function's own code (`App::handle`) and its production S3
//! client against one moto_server, 16 requests at a time on a multi-thread runtime, as 16 Lambda
//! instances would send them (each task its own `App` over its own client and retry quota).
//!
//! 1. 1,000 different submissions: 1,000 distinct dossiers, 2,000 objects, each record pointing at
//!    a stored photo whose sha256 is the one it records.
//! 2. 100 pairs of identical submissions released at the same instant: exactly one dossier per
//!    pair. The twin that loses the race gets the 200 replay, or a 503 with `Retry-After` when it
//!    read the winner's key while the winner's write was still in flight (S3's 409
//!    `ConditionalRequestConflict`); never another 5xx. After a retry of each 503, every pair has
//!    one dossier and two objects.
//!
//! The figures (throughput, latencies, dossiers, objects) are printed; run with
//! `cargo test -p handler --test s3_load -- --nocapture`. Photos are small generated JPEGs so the
//! test stays quick in a debug build; the figures measure this machine, moto and a debug build,
//! not production.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use handler::{App, S3Store};
use support::post::{self, Reply};
use support::{Moto, listing};
use tokio::sync::Barrier;

/// Submissions of the first part.
const SUBMISSIONS: usize = 1_000;
/// Requests at once: 16 Lambda instances.
const CONCURRENCY: usize = 16;
/// Pairs of identical submissions of the second part.
const PAIRS: usize = 100;
/// Distinct photos, taken in turn: more than the requests in flight, so that two concurrent
/// requests never carry the same photo and a record pointing at another's photo would show in its
/// sha256 (the key check catches it anyway). Making each of 1,000 in a debug build would take
/// longer than sending them.
const PHOTOS: usize = 100;
/// How many times a student sends again after a 503 before the test gives up.
const RETRIES: usize = 5;

const NOMS: [&str; 8] =
    ["Dupré", "Martin", "N’Diaye", "Le Gall", "Lefèvre-Morel", "Nguyễn", "Öztürk", "D’Almeida"];
const PRENOMS: [&str; 8] = ["Léa", "Noé", "Chloé", "Mathéo", "Inès", "Jean-Baptiste", "Aïcha", "Zoé"];
const COMMUNES: [&str; 6] = ["Clermont-Ferrand", "Riom", "Issoire", "Thiers", "Ambert", "Le Puy-en-Velay"];

/// A form that differs from the others in its values, its photo and its submission id.
fn submission(
    schema: &form::Schema,
    n: usize,
    tag: &str,
    photos: &[Arc<Vec<u8>>],
) -> (Vec<(String, String)>, Arc<Vec<u8>>) {
    let year = time::OffsetDateTime::now_utc().year() - 15 - (n % 8) as i32;
    let filieres = &schema.field("filiere").expect("the schema has `filiere`").options;
    let changes = [
        ("nom", NOMS[n % NOMS.len()].to_owned()),
        ("prenom", PRENOMS[n / NOMS.len() % PRENOMS.len()].to_owned()),
        ("date_naissance", format!("{year}-{:02}-{:02}", n % 12 + 1, n % 28 + 1)),
        ("email", format!("eleve.{tag}.{n}@example.org")),
        ("adresse", format!("{} rue des Écoles", n % 200 + 1)),
        ("code_postal", format!("63{:03}", n % 1000)),
        ("commune", COMMUNES[n % COMMUNES.len()].to_owned()),
        ("filiere", filieres[n % filieres.len()].clone()),
    ];
    let id = format!("load-{tag}-{n:05}-8e2f4b7a");
    (post::fields(schema, &id, &changes), Arc::clone(&photos[n % photos.len()]))
}

/// The photos the submissions take in turn: 300×400, just above the smallest accepted (a 234×300
/// frame), so that the function's photo work is as quick as it gets.
fn photos() -> Vec<Arc<Vec<u8>>> {
    (0..PHOTOS).map(|n| Arc::new(post::jpeg(300, 400, n as u32 * 37))).collect()
}

/// The latency at quantile `q` of sorted durations.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Every record of the bucket against its photo, 16 reads at a time; what is wrong, if anything.
async fn check_records(moto: &Moto, bucket: &str, keys: Arc<Vec<String>>) -> Vec<String> {
    let mut tasks = Vec::new();
    for part in 0..CONCURRENCY {
        let (client, bucket, keys) = (moto.client(), bucket.to_owned(), Arc::clone(&keys));
        tasks.push(tokio::spawn(async move {
            let records: Vec<String> = keys
                .iter()
                .filter(|key| key.ends_with("/demande.json"))
                .skip(part)
                .step_by(CONCURRENCY)
                .cloned()
                .collect();
            // `broken_records` reads the photos it is given among `keys`; the full list is passed.
            let mut mine: Vec<String> =
                keys.iter().filter(|key| !key.ends_with("/demande.json")).cloned().collect();
            mine.extend(records);
            mine.sort();
            post::broken_records(&client, &bucket, &mine).await
        }));
    }
    let mut broken = Vec::new();
    for task in tasks {
        broken.extend(task.await.unwrap());
    }
    broken
}

/// The dossier of each stored key (`demandes/<compact>/…`), with how many objects it holds.
fn dossiers(keys: &[String]) -> BTreeMap<String, usize> {
    let mut dossiers = BTreeMap::new();
    for key in keys {
        let compact = key.split('/').nth(1).unwrap_or_default().to_owned();
        *dossiers.entry(compact).or_insert(0) += 1;
    }
    dossiers
}

/// An instance: its own `App` over its own client (and retry quota), as a Lambda instance has.
fn instance(store: &S3Store, bucket: &str, name: &str) -> App<S3Store> {
    App::new(handler::schema().unwrap(), store.with_own_retry_quota(name), &post::config(bucket))
}

// 1,000 different submissions at concurrency 16 give 1,000 distinct dossiers and 2,000 objects,
// each record pointing at its photo; then 100 pairs of identical submissions released together
// give one dossier each, the twin answered with the replay or a retryable 503. One test, one moto,
// the parts one after the other, so that neither's figures include the other's load.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn load() {
    let moto = Moto::start().await;
    thousand_submissions(&moto).await;
    identical_twins(&moto).await;
}

async fn thousand_submissions(moto: &Moto) {
    const BUCKET: &str = "load-thousand";
    moto.bucket(BUCKET).await;
    let store = post::store(&moto.endpoint, BUCKET, "load");
    let schema = handler::schema().unwrap();
    // Forms are made beforehand, so that the timing is the function's alone.
    let photos = photos();
    let forms: Arc<Vec<_>> =
        Arc::new((0..SUBMISSIONS).map(|n| submission(&schema, n, "a", &photos)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..CONCURRENCY {
        let app = instance(&store, BUCKET, &format!("load-{worker}"));
        let (forms, next) = (Arc::clone(&forms), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut done: Vec<(usize, Reply, Duration)> = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let Some((fields, photo)) = forms.get(n) else { return done };
                let sent = Instant::now();
                let reply = post::post(&app, fields, photo).await;
                done.push((n, reply, sent.elapsed()));
            }
        }));
    }
    let mut replies = Vec::new();
    for task in tasks {
        replies.extend(task.await.unwrap());
    }
    let wall = started.elapsed();

    let mut latencies: Vec<Duration> = replies.iter().map(|(_, _, latency)| *latency).collect();
    latencies.sort();
    let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
    for (_, reply, _) in &replies {
        *statuses.entry(reply.status).or_insert(0) += 1;
    }
    let answered: BTreeSet<String> =
        replies.iter().filter_map(|(_, reply, _)| reply.dossier().map(str::to_owned)).collect();
    let keys = Arc::new(post::keys(&moto.client(), BUCKET).await);
    let stored = dossiers(&keys);
    println!();
    println!(
        "{SUBMISSIONS} submissions at concurrency {CONCURRENCY}: {:.1} s, {:.1} submissions/s; latency p50 {} ms, \
         p99 {} ms, max {} ms; answers {statuses:?}; {} distinct dossiers answered, {} stored; {} objects",
        wall.as_secs_f64(),
        SUBMISSIONS as f64 / wall.as_secs_f64(),
        quantile(&latencies, 0.5).as_millis(),
        quantile(&latencies, 0.99).as_millis(),
        latencies.last().unwrap().as_millis(),
        answered.len(),
        stored.len(),
        keys.len(),
    );

    assert_eq!(replies.len(), SUBMISSIONS);
    for (n, reply, _) in &replies {
        assert_eq!(reply.status, 201, "submission {n}: {reply:?}");
    }
    assert_eq!(answered.len(), SUBMISSIONS, "every submission has its own dossier");
    assert_eq!(keys.len(), 2 * SUBMISSIONS, "a photo and a record each");
    assert!(stored.values().all(|&objects| objects == 2), "each dossier holds its photo and its record");
    let compact: BTreeSet<String> = answered.iter().map(|dossier| dossier.replace('-', "")).collect();
    assert_eq!(compact, stored.keys().cloned().collect(), "the dossiers answered are the ones stored");
    let broken = check_records(moto, BUCKET, Arc::clone(&keys)).await;
    assert!(broken.is_empty(), "{} records do not match their photo: {broken:?}", broken.len());
}

/// How the test names an answer; `None` for one that must never be given.
fn kind(reply: &Reply) -> Option<&'static str> {
    match (reply.status, reply.json["replay"].as_bool()) {
        (201, Some(false)) => Some("201 created"),
        (200, Some(true)) => Some("200 replay"),
        (503, _) if reply.is_retryable_503() => Some("503 + Retry-After"),
        _ => None,
    }
}

async fn identical_twins(moto: &Moto) {
    const BUCKET: &str = "load-twins";
    let client = moto.bucket(BUCKET).await;
    let store = post::store(&moto.endpoint, BUCKET, "twins");
    let schema = handler::schema().unwrap();
    let photos = photos();
    // Pairs run CONCURRENCY / 2 at a time: 16 requests in flight.
    let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut pairs = Vec::new();
    for n in 0..PAIRS {
        let (fields, photo) = submission(&schema, n, "twin", &photos);
        let fields = Arc::new(fields);
        let slots = Arc::clone(&slots);
        let apps = [0, 1].map(|twin| instance(&store, BUCKET, &format!("twin-{n}-{twin}")));
        pairs.push(tokio::spawn(async move {
            let _slots = slots.acquire_many(2).await.unwrap();
            let barrier = Arc::new(Barrier::new(2));
            let [a, b] = apps.map(|app| {
                let (fields, photo, barrier) =
                    (Arc::clone(&fields), Arc::clone(&photo), Arc::clone(&barrier));
                tokio::spawn(async move {
                    barrier.wait().await;
                    let mut replies = vec![post::post(&app, &fields, &photo).await];
                    // The student sends the same form again after a 503, as it advises.
                    while replies.last().unwrap().status == 503 && replies.len() <= RETRIES {
                        replies.push(post::post(&app, &fields, &photo).await);
                    }
                    replies
                })
            });
            (n, [a.await.unwrap(), b.await.unwrap()])
        }));
    }
    let mut outcomes = Vec::new();
    for pair in pairs {
        outcomes.push(pair.await.unwrap());
    }
    let wall = started.elapsed();

    let mut firsts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut retried = 0;
    let mut problems = Vec::new();
    for (n, twins) in &outcomes {
        for replies in twins {
            *firsts.entry(kind(&replies[0]).unwrap_or("other")).or_insert(0) += 1;
            retried += replies.len() - 1;
            for reply in replies.iter().filter(|reply| kind(reply).is_none()) {
                problems.push(format!("pair {n}: an answer that must never be given: {reply:?}"));
            }
        }
        let created = twins.iter().flatten().filter(|reply| reply.status == 201).count();
        if created > 1 {
            problems.push(format!("pair {n}: {created} answers say the dossier was created"));
        }
        let [a, b] = twins.each_ref().map(|replies| replies.last().unwrap());
        if a.dossier().is_none() || a.dossier() != b.dossier() {
            problems.push(format!("pair {n} does not end with one dossier: {a:?} / {b:?}"));
        }
    }
    let keys: Vec<String> = listing(&client, BUCKET).await.into_iter().map(|(key, _)| key).collect();
    let stored = dossiers(&keys);
    println!(
        "{PAIRS} pairs of identical submissions released together ({CONCURRENCY} requests in flight): {:.1} s; \
         first answers {firsts:?}; {retried} retries after a 503; {} distinct dossiers, {} objects",
        wall.as_secs_f64(),
        stored.len(),
        keys.len(),
    );
    println!();
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    assert_eq!(stored.len(), PAIRS, "exactly one dossier per pair");
    assert!(stored.values().all(|&objects| objects == 2), "each dossier holds its photo and its record");
    assert_eq!(keys.len(), 2 * PAIRS);
    let broken = post::broken_records(&client, BUCKET, &keys).await;
    assert!(broken.is_empty(), "{broken:?}");
}
