//! `hookd serve` as real processes: a worker killed mid-delivery is rescued by another, two
//! workers share a queue without delivering anything twice, and SIGTERM stops an idle worker
//! cleanly.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::json;
use uuid::Uuid;

use crate::common::{add_webhook, deliveries_in, HookdProcess, DEADLINE};

/// Leases far longer than any deadline here: a delivery taken back within the deadline was taken
/// back because its worker's heartbeat stopped (HOOKD_HEARTBEAT_TIMEOUT=2s), not by lease expiry.
const LONG_LEASE: [(&str, &str); 1] = [("HOOKD_LEASE_MARGIN", "120s")];

/// A receiver whose first request hangs far longer than any test; every later one gets 200 at once.
async fn hangs_first_time() -> Receiver {
    Receiver::scripted(|i, _| {
        if i == 0 {
            Reply::status(200).delay(Duration::from_secs(600))
        } else {
            Reply::status(200)
        }
    })
    .await
}

/// A worker SIGKILLed while its request hangs at the receiver never records anything; a second
/// worker takes the delivery back once the first one's heartbeat is stale (2s; the lease would
/// last two minutes), delivers it as attempt 2 with the same webhook-id, and is the only worker
/// in the audit.
#[tokio::test]
async fn a_delivery_held_by_a_killed_worker_is_delivered_by_another() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = hangs_first_time().await;
    let webhook = add_webhook(store, "rescued", &receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 9})).await.unwrap();

    let mut a = HookdProcess::serve(&db, &LONG_LEASE);
    let a_id = a.worker_id(store).await;
    wait_until(DEADLINE, "worker A's request reached the receiver", || async { receiver.count() >= 1 }).await;
    let locked_by: Option<String> = sqlx::query_scalar("SELECT locked_by FROM hookd.delivery_log WHERE webhook_id = $1")
        .bind(webhook.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(locked_by.as_deref(), Some(a_id.as_str()), "A holds the lease while its request hangs");
    a.kill().await;
    let killed_at = Instant::now();

    let b = HookdProcess::serve(&db, &LONG_LEASE);
    let b_id = b.worker_id(store).await;
    wait_until(DEADLINE, "the delivery succeeded after the rescue", || async {
        deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;
    eprintln!("rescued and delivered {:?} after the SIGKILL", killed_at.elapsed());

    let attempts: Vec<(String, i32, Option<i32>)> =
        sqlx::query_as("SELECT worker, attempt, status_code FROM hookd.attempt_log WHERE webhook_id = $1 ORDER BY attempt_id")
            .bind(webhook.id)
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(attempts, vec![(b_id.clone(), 2, Some(200))], "only B's attempt is recorded; A ({a_id}) died first");
    let got = receiver.received();
    assert!(got.len() >= 2, "A's request and B's: {}", got.len());
    for request in &got {
        assert_eq!(request.header("webhook-id"), Some(event_id.to_string().as_str()), "the same event id every time");
    }
    assert_eq!(got[0].header("hookd-attempt"), Some("1"));
    assert_eq!(got.last().unwrap().header("hookd-attempt"), Some("2"));
    let (attempts, locked_by): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, locked_by FROM hookd.delivery_log WHERE webhook_id = $1")
            .bind(webhook.id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!((attempts, locked_by), (2, None));
}

/// A worker that stalls (SIGSTOP) while its request hangs loses the delivery to a second worker
/// once its heartbeat is stale. When it resumes (SIGCONT) and its request times out, its late
/// attempt is recorded in the audit but fenced off by the lease token: the delivery stays
/// succeeded with the second worker's result, is not retried, and is counted once.
#[tokio::test]
async fn a_stalled_worker_that_resumes_cannot_overwrite_the_rescued_result() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = hangs_first_time().await;
    let webhook = add_webhook(store, "fenced", &receiver.url("/"), &["payment_received"]).await;
    store.outbox_publish("payment_received", &json!({"payment_id": 10})).await.unwrap();

    let a = HookdProcess::serve(&db, &LONG_LEASE);
    let a_id = a.worker_id(store).await;
    wait_until(DEADLINE, "worker A's request reached the receiver", || async { receiver.count() >= 1 }).await;
    a.signal("STOP");
    let b = HookdProcess::serve(&db, &LONG_LEASE);
    let b_id = b.worker_id(store).await;
    wait_until(DEADLINE, "B delivered the rescued delivery", || async {
        deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;

    a.signal("CONT");
    // A's request is past HOOKD_REQUEST_TIMEOUT (5s) by now: it times out and A records it.
    let attempts = || async {
        sqlx::query_as::<_, (String, i32, Option<i32>, Option<String>)>(
            "SELECT worker, attempt, status_code, error FROM hookd.attempt_log WHERE webhook_id = $1 ORDER BY attempt",
        )
        .bind(webhook.id)
        .fetch_all(store.pool())
        .await
        .unwrap()
    };
    wait_until(DEADLINE, "A recorded its late attempt", || async { attempts().await.len() == 2 }).await;
    assert_eq!(
        attempts().await,
        vec![(a_id.clone(), 1, None, Some("timeout".to_owned())), (b_id.clone(), 2, Some(200), None)],
        "both attempts happened, so both are in the audit"
    );
    let row: (String, Option<i32>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT state, last_status, last_error, locked_by FROM hookd.delivery_log WHERE webhook_id = $1")
            .bind(webhook.id)
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(row, ("succeeded".to_owned(), Some(200), None, None), "A's late timeout changed nothing");
    assert_eq!(store.webhook_get(webhook.id).await.unwrap().event_count, 1, "delivered once, counted once");
    wait_until(DEADLINE, "A logged that its late result was dropped", || async {
        a.log_text().contains("late result dropped")
    })
    .await;
    assert_eq!(receiver.count(), 2, "no retry after the fenced-off timeout");
}

/// Two `hookd serve` processes on one queue deliver 1,000 events published in one INSERT: every
/// event arrives, none twice (1,000 requests, 1,000 distinct webhook-ids, exactly the published
/// ids), every delivery succeeded with exactly one attempt, and none is left running.
#[tokio::test]
async fn two_workers_deliver_a_thousand_events_each_exactly_once() {
    const EVENTS: usize = 1000;
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(204).await;
    let webhook = add_webhook(store, "bulk", &receiver.url("/bulk"), &["payment_received"]).await;
    // A generous heartbeat timeout: on a busy 2-core machine a process can stall for a couple of
    // seconds, and a rescue then would be a legitimate (at-least-once) redelivery, not a bug.
    let env = [("HOOKD_HEARTBEAT_TIMEOUT", "30s"), ("HOOKD_LEASE_MARGIN", "30s")];
    let a = HookdProcess::serve(&db, &env);
    let b = HookdProcess::serve(&db, &env);
    let workers = [a.worker_id(store).await, b.worker_id(store).await];

    let started = Instant::now();
    sqlx::query(
        "INSERT INTO hookd.outbox (event_type, payload)
         SELECT 'payment_received', jsonb_build_object('n', g) FROM generate_series(1, $1) g",
    )
    .bind(EVENTS as i32)
    .execute(store.pool())
    .await
    .unwrap();
    wait_until(Duration::from_secs(120), "every delivery succeeded", || async {
        deliveries_in(store, &webhook, "succeeded").await == EVENTS as i64
    })
    .await;
    eprintln!("{EVENTS} events delivered by two processes in {:?}", started.elapsed());

    let published: BTreeSet<String> = sqlx::query_scalar::<_, Uuid>("SELECT event_id FROM hookd.outbox")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|id| id.to_string())
        .collect();
    let got = receiver.received();
    let ids: BTreeSet<String> = got.iter().map(|r| r.header("webhook-id").expect("webhook-id").to_owned()).collect();
    assert_eq!(got.len(), EVENTS, "one request per event, no duplicates");
    assert_eq!(ids.len(), EVENTS);
    assert_eq!(ids, published, "exactly the published events");

    let states: Vec<(String, i64)> = sqlx::query_as("SELECT state, count(*) FROM hookd.delivery_log GROUP BY state")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(states, vec![("succeeded".to_owned(), EVENTS as i64)], "nothing left running or pending");
    let per_delivery: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT count(*), count(DISTINCT delivery_id) FROM hookd.attempts WHERE webhook_id = $1",
    )
    .bind(webhook.id)
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert_eq!(per_delivery, vec![(EVENTS as i64, EVENTS as i64)], "one attempt per delivery");

    // Which process did how much. Not asserted: the split depends on scheduling (one process
    // may claim a big batch before the other wakes), and fairness is not promised.
    let split: HashMap<String, i64> = sqlx::query_as("SELECT worker, count(*) FROM hookd.attempts GROUP BY worker")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert!(split.keys().all(|w| workers.contains(w)), "only the two processes worked: {split:?}");
    eprintln!("work split: {split:?}");
}

/// SIGTERM to an idle `hookd serve` makes it exit with status 0 well within its shutdown grace
/// (nothing in flight to wait for), and it removes its row from hookd.workers on the way out.
#[tokio::test]
async fn sigterm_stops_an_idle_worker_cleanly() {
    let db = TestDb::new().await;
    let store = &db.store;
    let mut serve = HookdProcess::serve(&db, &[("HOOKD_SHUTDOWN_GRACE", "60s")]);
    let id = serve.worker_id(store).await;

    let signalled = Instant::now();
    serve.signal("TERM");
    let status = serve.wait_exit(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(0), "exit status {status:?}\n{}", serve.log_text());
    eprintln!("exited {:?} after SIGTERM", signalled.elapsed());

    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.workers WHERE id = $1")
        .bind(&id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0, "the worker deregistered");
    assert!(serve.log_text().contains("worker stopped"), "{}", serve.log_text());
}

/// `--log-format json` makes every log line a JSON object, and each attempt is one line carrying
/// its fields (event id, webhook, attempt number, status, duration).
#[tokio::test]
async fn serve_logs_every_attempt_as_json_with_its_fields() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "logged", &receiver.url("/"), &["payment_received"]).await;
    let mut serve = HookdProcess::serve(&db, &[("HOOKD_LOG_FORMAT", "json")]);
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 3})).await.unwrap();
    wait_until(DEADLINE, "the delivery succeeded", || async { deliveries_in(store, &webhook, "succeeded").await == 1 }).await;
    wait_until(DEADLINE, "the attempt is logged", || async { serve.log_text().contains(&event_id.to_string()) }).await;
    serve.signal("TERM");
    serve.wait_exit(Duration::from_secs(30)).await;

    let log = serve.log_text();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}")))
        .collect();
    let attempt = lines
        .iter()
        .find(|l| l["message"] == "attempt" && l["event_id"] == event_id.to_string())
        .unwrap_or_else(|| panic!("no attempt line for {event_id}:\n{log}"));
    assert_eq!(attempt["webhook_id"], webhook.id.to_string());
    assert_eq!(attempt["status"], "200");
    assert_eq!(attempt["attempt"], 1);
    assert!(attempt["duration_ms"].is_u64(), "{attempt}");
}
