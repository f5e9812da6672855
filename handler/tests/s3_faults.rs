//! S3 failures, with real parts: the function's own code (`App::handle`) and its production S3
//! client (timeouts, retries) talk to a real moto_server through a proxy that breaks one operation
//! on command (`support::proxy`). For each fault on each operation the test checks what the
//! student gets (201, a 200 replay when the SDK's retry found its own write already done, or a 503
//! with `Retry-After` and the French advice), that no record ever points to a missing photo, and
//! that sending the same form again, faults off, completes with the same dossier number and exactly
//! two objects. The table is the test's data; it is printed for the record.
//!
//! Rows run concurrently, each with its own bucket, proxy and retry quota, over one moto; the rows
//! that never answer wait for the SDK's timeouts. Run with
//! `cargo test -p handler --test s3_faults -- --nocapture` to see the table.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use handler::app::{FUNCTION_TIMEOUT, STORE_DEADLINE};
use handler::s3::{ATTEMPT_TIMEOUT, CONNECT_TIMEOUT, INITIAL_BACKOFF, MAX_ATTEMPTS, OPERATION_TIMEOUT};
use handler::store::Metadata;
use handler::{App, ObjectKey, PutOutcome, Store, StoreError, StoredObject};
use support::post::{self, Reply};
use support::proxy::Fault::{self, Close, Hang, Refuse, Reset, SlowDown, Stall, Status, StopListening};
use support::proxy::Op::{self, PhotoWrite, Read, RecordWrite};
use support::proxy::Phase::{self, After, Before};
use support::proxy::Proxy;
use support::proxy::Times::{self, Always, First};
use support::{Moto, listing};

/// The CPU bound of the photo pipeline for any upload up to the body limit
/// (`handler/photo/src/lib.rs`, checked by `tests/photo_bounds.rs`).
const PHOTO_CPU_BOUND: Duration = Duration::from_secs(2);
/// Reading a 6 MB body, validating, answering, logging: milliseconds, budgeted generously.
const REST_OF_REQUEST: Duration = Duration::from_secs(1);
/// Operations per dossier number a commit may make: write the photo, read it (it existed), write
/// the record, read it (it existed).
const OPERATIONS_PER_NUMBER: u32 = 4;
/// Rows running at once: enough to overlap the timeouts, few enough for 2 cores.
const CONCURRENT_ROWS: usize = 12;

/// One fault on one operation, and what must come of it.
struct Row {
    op: Op,
    fault: Fault,
    phase: Phase,
    times: Times,
    /// The first answer: 201, 200 (the SDK's retry met its own completed write: a replay) or 503.
    status: u16,
    /// Objects in the bucket after it.
    objects: usize,
    /// The answer to the student's second send, faults off.
    retry: u16,
}

const fn row(
    op: Op,
    fault: Fault,
    phase: Phase,
    times: Times,
    status: u16,
    objects: usize,
    retry: u16,
) -> Row {
    Row { op, fault, phase, times, status, objects, retry }
}

/// The table. Reads happen when a write finds its key taken; each read row starts from an earlier
/// send that stored the photo but not the record (a 403 on the record write), so that the read is
/// what completes the request. "After" rows: moto did the work, the client gets the fault.
const ROWS: &[Row] = &[
    // No fault: the time a request takes here, for comparison.
    row(PhotoWrite, Status(500), Before, First(0), 201, 2, 200),
    // Photo write (the first operation: "before" leaves nothing, "after" leaves the photo).
    row(PhotoWrite, Refuse, Before, First(2), 201, 2, 200),
    row(PhotoWrite, Refuse, Before, Always, 503, 0, 201),
    row(PhotoWrite, StopListening, Before, Always, 503, 0, 201),
    row(PhotoWrite, Close, Before, First(1), 201, 2, 200),
    row(PhotoWrite, Close, After, First(1), 201, 2, 200),
    row(PhotoWrite, Hang, Before, First(1), 201, 2, 200),
    row(PhotoWrite, Hang, Before, Always, 503, 0, 201),
    row(PhotoWrite, Hang, After, First(1), 201, 2, 200),
    row(PhotoWrite, Reset, Before, First(1), 201, 2, 200),
    row(PhotoWrite, Reset, Before, Always, 503, 0, 201),
    row(PhotoWrite, Reset, After, First(1), 201, 2, 200),
    row(PhotoWrite, Status(500), Before, First(2), 201, 2, 200),
    row(PhotoWrite, Status(500), Before, First(3), 503, 0, 201),
    row(PhotoWrite, Status(500), After, Always, 503, 1, 201),
    row(PhotoWrite, Status(503), Before, First(2), 201, 2, 200),
    row(PhotoWrite, Status(503), Before, Always, 503, 0, 201),
    row(PhotoWrite, SlowDown, Before, First(2), 201, 2, 200),
    row(PhotoWrite, SlowDown, Before, Always, 503, 0, 201),
    row(PhotoWrite, SlowDown, After, First(1), 201, 2, 200),
    // What S3 answers while another conditional write to the key is in flight (identical twins
    // racing): taken as "exists", but the object cannot be read yet, so the student retries.
    row(PhotoWrite, Status(409), Before, First(1), 503, 0, 201),
    // Record write (the photo is stored first; "after" means the record is stored too, so the
    // SDK's retry meets it and the answer is the replay's 200).
    row(RecordWrite, Refuse, Before, First(2), 201, 2, 200),
    row(RecordWrite, Refuse, Before, Always, 503, 1, 201),
    row(RecordWrite, StopListening, Before, Always, 503, 1, 201),
    row(RecordWrite, Close, Before, First(1), 201, 2, 200),
    row(RecordWrite, Close, After, First(1), 200, 2, 200),
    row(RecordWrite, Hang, Before, First(1), 201, 2, 200),
    row(RecordWrite, Hang, Before, Always, 503, 1, 201),
    row(RecordWrite, Hang, After, First(1), 200, 2, 200),
    row(RecordWrite, Reset, Before, First(1), 201, 2, 200),
    row(RecordWrite, Reset, Before, Always, 503, 1, 201),
    row(RecordWrite, Reset, After, First(1), 200, 2, 200),
    row(RecordWrite, Status(500), Before, First(2), 201, 2, 200),
    row(RecordWrite, Status(500), Before, First(3), 503, 1, 201),
    row(RecordWrite, Status(500), After, Always, 503, 2, 200),
    row(RecordWrite, Status(503), Before, First(2), 201, 2, 200),
    row(RecordWrite, Status(503), Before, Always, 503, 1, 201),
    row(RecordWrite, SlowDown, Before, First(2), 201, 2, 200),
    row(RecordWrite, SlowDown, Before, Always, 503, 1, 201),
    row(RecordWrite, SlowDown, After, First(1), 200, 2, 200),
    row(RecordWrite, Status(409), Before, First(1), 503, 1, 201),
    // Read of the photo an earlier send left (nothing to undo: "before" and "after" only differ
    // for a body, cut or stalled half-way, which the store reads again).
    row(Read, Refuse, Before, First(2), 201, 2, 200),
    row(Read, Refuse, Before, Always, 503, 1, 201),
    row(Read, StopListening, Before, Always, 503, 1, 201),
    row(Read, Hang, Before, First(1), 201, 2, 200),
    row(Read, Hang, Before, Always, 503, 1, 201),
    row(Read, Reset, Before, First(1), 201, 2, 200),
    row(Read, Reset, After, First(1), 201, 2, 200),
    row(Read, Reset, After, Always, 503, 1, 201),
    row(Read, Stall, After, First(1), 201, 2, 200),
    row(Read, Stall, After, Always, 503, 1, 201),
    row(Read, Status(500), Before, First(2), 201, 2, 200),
    row(Read, Status(500), Before, First(3), 503, 1, 201),
    row(Read, Status(503), Before, Always, 503, 1, 201),
    row(Read, SlowDown, Before, First(2), 201, 2, 200),
    row(Read, SlowDown, Before, Always, 503, 1, 201),
];

impl Row {
    /// The control row, whose rule never strikes.
    fn is_control(&self) -> bool {
        self.times == First(0)
    }
}

/// The store with a stopwatch: from the start of the first S3 operation of a request to the end of
/// its last one, the part that the S3 timeouts and the store's deadline bound (the rest is the
/// photo, made on a CPU that 16 rows share here).
struct Timed<S> {
    inner: S,
    span: Mutex<Option<(Instant, Instant)>>,
}

impl<S: Store> Timed<S> {
    fn record(&self, started: Instant) {
        let mut span = self.span.lock().unwrap();
        let first = span.map_or(started, |(first, _)| first);
        *span = Some((first, Instant::now()));
    }

    /// The span of the operations since the last call.
    fn take(&self) -> Duration {
        self.span.lock().unwrap().take().map_or(Duration::ZERO, |(first, last)| last - first)
    }
}

impl<S: Store> Store for Timed<S> {
    async fn put_if_absent(
        &self,
        key: &ObjectKey,
        bytes: &[u8],
        content_type: &str,
        metadata: &Metadata,
    ) -> Result<PutOutcome, StoreError> {
        let started = Instant::now();
        let outcome = self.inner.put_if_absent(key, bytes, content_type, metadata).await;
        self.record(started);
        outcome
    }

    async fn get(&self, key: &ObjectKey) -> Result<Option<StoredObject>, StoreError> {
        let started = Instant::now();
        let object = self.inner.get(key).await;
        self.record(started);
        object
    }
}

/// What one row did.
struct Seen {
    first: Reply,
    elapsed: Duration,
    /// Of `elapsed`, the time spent on S3.
    on_s3: Duration,
    objects: usize,
    broken: Vec<String>,
    faults: usize,
    retry: Reply,
    objects_after_retry: usize,
    broken_after_retry: Vec<String>,
}

/// Runs one row on its own bucket and proxy: the faulted send, then the student's second send.
async fn run(moto: Arc<Moto>, index: usize, row: &Row) -> Seen {
    let bucket = format!("faults-row-{index:02}");
    let client = moto.bucket(&bucket).await;
    let proxy = Proxy::start(&moto.endpoint).await;
    let store = Timed { inner: post::store(&proxy.endpoint, &bucket, &bucket), span: Mutex::default() };
    let app = App::new(handler::schema().unwrap(), store, &post::config(&bucket));
    let id = format!("fault-table-row-{index:02}-5b7e0c");
    let fields = post::fields(&handler::schema().unwrap(), &id, &[]);
    let photo = post::jpeg(480, 640, index as u32);

    if row.op == Read {
        // An earlier send stopped after the photo: the next one must read it to go on.
        proxy.inject(RecordWrite, Status(403), Before, First(1));
        let earlier = post::post(&app, &fields, &photo).await;
        assert_eq!(earlier.status, 503, "row {index}: the set-up send must stop after the photo");
        assert_eq!(post::keys(&client, &bucket).await.len(), 1, "row {index}: the photo alone is stored");
        proxy.heal().await;
    }

    proxy.inject(row.op, row.fault, row.phase, row.times);
    app.store().take();
    let started = Instant::now();
    let first = post::post(&app, &fields, &photo).await;
    let elapsed = started.elapsed();
    let on_s3 = app.store().take();
    let stored = listing(&client, &bucket).await;
    let keys: Vec<String> = stored.iter().map(|(key, _)| key.clone()).collect();
    let broken = post::broken_records(&client, &bucket, &keys).await;
    let faults = proxy.faults();

    proxy.heal().await;
    let retry = post::post(&app, &fields, &photo).await;
    let stored_after = listing(&client, &bucket).await;
    let keys_after: Vec<String> = stored_after.iter().map(|(key, _)| key.clone()).collect();
    let mut broken_after_retry = post::broken_records(&client, &bucket, &keys_after).await;
    // Nothing is ever overwritten: what the first send stored is still there, same ETag.
    for object in stored.iter().filter(|object| !stored_after.contains(object)) {
        broken_after_retry.push(format!("{} was replaced or removed by the retry", object.0));
    }
    Seen {
        first,
        elapsed,
        on_s3,
        objects: keys.len(),
        broken,
        faults,
        retry,
        objects_after_retry: keys_after.len(),
        broken_after_retry,
    }
}

/// Everything that differs from what the row says, or from what must always hold.
fn problems(index: usize, row: &Row, seen: &Seen) -> Vec<String> {
    let id = format!("fault-table-row-{index:02}-5b7e0c");
    let dossier = post::first_dossier(&id);
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("row {index} ({} {}): {what}", row.op.label(), row.fault.label()));
        }
    };
    check(seen.faults > 0 || row.is_control(), "the fault never struck: the row tests nothing".into());
    check(
        seen.first.status == row.status,
        format!("answered {}, expected {}", seen.first.status, row.status),
    );
    if seen.first.status == 503 {
        check(
            seen.first.is_retryable_503(),
            format!("a 503 without Retry-After or advice: {:?}", seen.first),
        );
    } else {
        check(seen.first.dossier() == Some(dossier.as_str()), format!("dossier {:?}", seen.first.dossier()));
    }
    check(seen.first.status < 500 || seen.first.status == 503, "a 5xx other than a retryable 503".into());
    check(seen.objects == row.objects, format!("{} objects stored, expected {}", seen.objects, row.objects));
    check(seen.broken.is_empty(), format!("records without their photo: {:?}", seen.broken));
    // What the deadline would otherwise cut: the SDK's own timeouts must end first.
    check(seen.on_s3 < STORE_DEADLINE, format!("{:?} on S3", seen.on_s3));
    check(
        seen.retry.status == row.retry,
        format!("the retry answered {}, expected {}", seen.retry.status, row.retry),
    );
    check(
        seen.retry.dossier() == Some(dossier.as_str()),
        format!("the retry's dossier {:?}", seen.retry.dossier()),
    );
    check(seen.objects_after_retry == 2, format!("{} objects after the retry", seen.objects_after_retry));
    check(seen.broken_after_retry.is_empty(), format!("after the retry: {:?}", seen.broken_after_retry));
    problems
}

fn print_table(seen: &[(usize, &Row, Option<Seen>)]) {
    println!();
    println!(
        "| operation | fault | phase | times | student gets | S3 time (answer) | objects | retry (faults off) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (_, row, seen) in seen {
        let phase = match row.phase {
            Before => "before moto",
            After => "after moto",
        };
        let (status, after, objects, retry) = match seen {
            Some(seen) => (
                match seen.first.status {
                    503 if seen.first.is_retryable_503() => "503 + Retry-After".to_owned(),
                    200 => "200 (replay)".to_owned(),
                    other => other.to_string(),
                },
                format!("{:.1} s ({:.1} s)", seen.on_s3.as_secs_f64(), seen.elapsed.as_secs_f64()),
                seen.objects.to_string(),
                format!("{}, same dossier, {} objects", seen.retry.status, seen.objects_after_retry),
            ),
            None => ("panicked".into(), "-".into(), "-".into(), "-".into()),
        };
        let (op, fault, phase, times) = match row.is_control() {
            true => ("(control)", "none".to_owned(), "-", "-".to_owned()),
            false => (row.op.label(), row.fault.label(), phase, row.times.label()),
        };
        println!("| {op} | {fault} | {phase} | {times} | {status} | {after} | {objects} | {retry} |");
    }
    println!();
}

// Every fault on every operation gives the answer its row says (a 503 with Retry-After when it
// outlasts the SDK's retries), never a record without its photo, and a retry that completes with
// the same dossier number and two objects.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_table() {
    let moto = Arc::new(Moto::start().await);
    let slots = Arc::new(tokio::sync::Semaphore::new(CONCURRENT_ROWS));
    let mut tasks = Vec::new();
    for (index, row) in ROWS.iter().enumerate() {
        let (moto, slots) = (Arc::clone(&moto), Arc::clone(&slots));
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await.unwrap();
            run(moto, index, row).await
        }));
    }
    let mut results = Vec::new();
    for (index, task) in tasks.into_iter().enumerate() {
        results.push((index, &ROWS[index], task.await.ok()));
    }
    print_table(&results);
    let mut all = Vec::new();
    for (index, row, seen) in &results {
        match seen {
            Some(seen) => all.extend(problems(*index, row, seen)),
            None => all.push(format!("row {index} panicked (see above)")),
        }
    }
    assert!(all.is_empty(), "{} problems:\n{}", all.len(), all.join("\n"));
}

// The S3 timeouts and retries fit the function's timeout: one operation's worst case is bounded,
// the two writes of a request each fit at their worst within the store's deadline, and the photo's
// CPU bound plus the deadline leave the function time to answer with its own 503.
#[test]
fn timeouts_fit_the_function_timeout() {
    // The SDK waits up to INITIAL_BACKOFF × 2^(n-1) before the n-th retry (jitter makes it less).
    let backoff: Duration = (1..MAX_ATTEMPTS).map(|retry| INITIAL_BACKOFF * 2u32.pow(retry - 1)).sum();
    let by_attempts = ATTEMPT_TIMEOUT * MAX_ATTEMPTS + backoff;
    let operation = by_attempts.min(OPERATION_TIMEOUT);
    let most_operations = OPERATIONS_PER_NUMBER * u32::from(handler::commit::ATTEMPTS);
    let without_deadline = operation * most_operations;
    let started_within_deadline = STORE_DEADLINE.as_secs_f64() / operation.as_secs_f64();
    let worst_request = PHOTO_CPU_BOUND + STORE_DEADLINE + REST_OF_REQUEST;
    println!(
        "one operation: {MAX_ATTEMPTS} attempts × {ATTEMPT_TIMEOUT:?} + backoff ≤ {backoff:?} = {by_attempts:?}, \
         cut at {OPERATION_TIMEOUT:?} → {operation:?}"
    );
    println!(
        "a commit: up to {most_operations} operations ({without_deadline:?} unbounded), cut at {STORE_DEADLINE:?}: \
         {started_within_deadline:.1} worst-case operations fit"
    );
    println!(
        "a request: photo {PHOTO_CPU_BOUND:?} + store {STORE_DEADLINE:?} + rest {REST_OF_REQUEST:?} = \
         {worst_request:?} < function {FUNCTION_TIMEOUT:?}"
    );
    assert!(CONNECT_TIMEOUT < ATTEMPT_TIMEOUT, "a connection must leave its attempt time to send");
    assert!(ATTEMPT_TIMEOUT < operation, "one operation must have room for a retry");
    // A never-answering S3 ends each operation with the SDK's timeout, the photo's and the
    // record's each at its worst, before the deadline: the deadline only cuts the rare paths.
    assert!(
        operation * 2 <= STORE_DEADLINE,
        "two worst-case operations ({operation:?} each) exceed the deadline"
    );
    // Without the deadline a commit could outlast the function: the deadline is needed.
    assert!(without_deadline > FUNCTION_TIMEOUT);
    assert!(worst_request < FUNCTION_TIMEOUT, "{worst_request:?} does not fit in {FUNCTION_TIMEOUT:?}");
}
