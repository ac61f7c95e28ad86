//! Adversarial tests: each one is a way to break hookd's contract (README, docs/architecture.md)
//! that the other tests do not try. Real parts only: a fresh database per test, receivers on
//! 127.0.0.1 port 0, the worker pool in-process or as `hookd` processes; waits have deadlines.
//! The tests above "Things that held up" each reproduce a defect (they fail until it is fixed);
//! the ones below it pin down behaviour that held under attack and nothing else covers.

use std::collections::BTreeSet;
use std::time::Duration;

use hookd_testkit::worker::{spawn, test_config, test_sender, test_sender_with};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::{json, Value};
use sqlx::postgres::PgDatabaseError;
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

use crate::common::{
    add_webhook, attempts_for, deliveries_in, delivery_for, hookd, hookd_command, run_command, HookdProcess, DEADLINE,
};

/// Publishes one event with a producer's plain INSERT.
async fn publish(db: &TestDb, event_type: &str, payload: &str) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO hookd.outbox (event_type, payload) VALUES ($1, $2::jsonb) RETURNING event_id")
        .bind(event_type)
        .bind(payload)
        .fetch_one(db.store.pool())
        .await
}

/// The state of `event_id`'s delivery to `webhook`, once fan-out has created it.
async fn state_of(store: &hookd_store::Store, event_id: Uuid, webhook: &hookd_store::webhook::Webhook) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM hookd.delivery_log WHERE event_id = $1 AND webhook_id = $2")
        .bind(event_id)
        .bind(webhook.id)
        .fetch_optional(store.pool())
        .await
        .unwrap()
}

/// Waits until the `hookd tail` under test has read its starting point and polled the log once:
/// its session is idle after a read of the log. (A poll still running may not have taken its
/// snapshot yet: Postgres shows the query before the snapshot is taken.)
async fn tail_is_polling(db: &TestDb) {
    wait_until(DEADLINE, "the tail is polling hookd.attempt_log", || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'
                              AND query LIKE ('%FROM hookd.' || 'attempt_log%'))",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap()
    })
    .await;
}

// --- hookd tail ---------------------------------------------------------------------------------

/// `hookd tail` starts from the highest attempt id committed when it starts. An attempt whose id
/// was assigned before that but whose recorder transaction commits afterwards (here it waits on
/// an admin's lock on the webhook row, which the recorder's `event_count` update needs) is
/// recorded after the tail started, yet the tail never prints it: it only ever reads ids above
/// its floor. A later attempt is printed, proving the tail kept polling.
#[tokio::test]
async fn tail_prints_an_attempt_that_commits_after_it_started_even_with_a_lower_id() {
    let db = TestDb::new().await;
    let store = &db.store;
    let other_receiver = Receiver::always(200).await;
    let other = add_webhook(store, "other", &other_receiver.url("/"), &["site_published"]).await;

    // A recorder transaction takes an attempt id, and commits only later.
    let mut slow = store.pool().begin().await.unwrap();
    let late: i64 = sqlx::query_scalar(
        "INSERT INTO hookd.attempts (event_id, event_type, webhook_id, url, attempt, started_at, duration_ms, status_code, worker)
         VALUES (gen_random_uuid(), 'site_published', $1, 'http://127.0.0.1:9/', 1, now(), 1, 200, 'slow-recorder')
         RETURNING id",
    )
    .bind(other.id)
    .fetch_one(&mut *slow)
    .await
    .unwrap();
    // Meanwhile another attempt (a Send Test Event) commits with a higher id.
    let sender = test_sender();
    let higher = hookd_worker::test_event::send_test_event(store, &sender, &other, None, "adversarial").await.unwrap();

    let mut tail = HookdProcess::spawn(hookd_command(&db, &["tail", "--json"]));
    let mut lines = BufReader::new(tail.child.stdout.take().expect("piped stdout")).lines();
    tail_is_polling(&db).await;

    slow.commit().await.unwrap();
    assert!(late < higher.attempt_id, "the scenario: the late attempt has the lower id ({late} < {})", higher.attempt_id);

    // A marker attempt after the late one committed: once the tail prints it, it has read past.
    let marker = hookd_worker::test_event::send_test_event(store, &sender, &other, None, "adversarial").await.unwrap();
    let mut printed = Vec::new();
    while !printed.contains(&marker.attempt_id) {
        let line = tokio::time::timeout(DEADLINE, lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("hookd tail printed {printed:?}, then nothing for {DEADLINE:?}"))
            .expect("read stdout")
            .expect("tail is still running");
        let row: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        printed.push(row["attempt_id"].as_i64().expect("attempt_id"));
    }
    tail.kill().await;
    assert!(
        printed.contains(&late),
        "attempt {late} was committed after the tail started but never printed; the tail printed {printed:?}"
    );
}

/// A burst of attempts (5,000, written 500 per transaction as the recorder batches them) is
/// printed by `hookd tail` within seconds. The tail reads at most 1,000 rows past its floor per
/// poll and only moves the floor past rows it saw more than 10 s ago, so it prints 1,000 rows,
/// then nothing for 10 s, and so on: at most 100 attempts a second, falling ever further behind
/// any busier log.
#[tokio::test]
async fn tail_keeps_up_with_a_burst_of_attempts() {
    const BURST: i64 = 5000;
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "busy", "http://127.0.0.1:9/", &["payment_received"]).await;

    let mut tail = HookdProcess::spawn(hookd_command(&db, &["tail", "--json"]));
    let mut lines = BufReader::new(tail.child.stdout.take().expect("piped stdout")).lines();
    tail_is_polling(&db).await;

    for _ in 0..BURST / 500 {
        sqlx::query(
            "INSERT INTO hookd.attempts (delivery_id, event_id, event_type, webhook_id, url, attempt, started_at,
                                         duration_ms, status_code, worker)
             SELECT g, gen_random_uuid(), 'payment_received', $1, 'http://127.0.0.1:9/', 1, now(), 3, 200, 'burst'
             FROM generate_series(1, 500) g",
        )
        .bind(webhook.id)
        .execute(store.pool())
        .await
        .unwrap();
    }

    let deadline = Duration::from_secs(9);
    let started = tokio::time::Instant::now();
    let mut printed = 0;
    while printed < BURST {
        match tokio::time::timeout_at(started + deadline, lines.next_line()).await {
            Ok(line) => {
                line.expect("read stdout").expect("tail is still running");
                printed += 1;
            }
            Err(_) => panic!("hookd tail printed {printed} of {BURST} recorded attempts in {deadline:?}"),
        }
    }
    tail.kill().await;
}

// --- Shutdown ----------------------------------------------------------------------------------

/// SIGTERM while a request is in flight: the worker stops claiming and waits (within its grace)
/// for the request to finish. Until then the delivery is still its own, so another worker must not
/// take it back and send it again: "never double-deliver except for what was in flight at a
/// crash", and a SIGTERM is not a crash. But the heartbeat stops at the signal, so a second worker
/// sees a stale heartbeat after `heartbeat_timeout` (3 s here), rescues the running delivery and
/// sends it a second time while the first request is still being answered.
#[tokio::test]
async fn sigterm_keeps_the_heartbeat_while_in_flight_work_finishes() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::scripted(|i, _| {
        Reply::status(200).delay(if i == 0 { Duration::from_secs(8) } else { Duration::ZERO })
    })
    .await;
    let webhook = add_webhook(store, "slow", &receiver.url("/"), &["payment_received"]).await;
    let event_id = publish(&db, "payment_received", r#"{"payment_id": 1}"#).await.unwrap();

    let mut a_config = test_config("1s");
    a_config.shutdown_grace = Duration::from_secs(30);
    let a = spawn(store, test_sender_with(|c| c.request_timeout = Duration::from_secs(20)), a_config);
    wait_until(DEADLINE, "A's request reached the receiver", || async { receiver.count() >= 1 }).await;
    let b = spawn(store, test_sender(), test_config("1s"));

    // SIGTERM to A (what `hookd serve` does on the signal): A finishes its 8 s request in its grace.
    tokio::time::timeout(DEADLINE, a.stop()).await.expect("A stopped within its grace");
    wait_until(DEADLINE, "the delivery succeeded", || async { deliveries_in(store, &webhook, "succeeded").await == 1 }).await;
    b.stop().await;

    let attempts = attempts_for(store, event_id, &webhook).await;
    assert_eq!(
        receiver.count(),
        1,
        "the delivery A was still finishing after SIGTERM was sent again by B; attempts: {attempts:?}"
    );
}

/// SIGTERM with a request still in flight when the grace period ends: the request is abandoned
/// and the delivery handed back. The request did reach the receiver, so it is an attempt: it must
/// be in the append-only audit, and the next attempt must carry the next number. Instead the
/// hand-back uses the "never attempted" release (`attempts - 1`, no audit row): the audit is
/// missing an attempt and the receiver sees `hookd-attempt: 1` twice.
#[tokio::test]
async fn an_attempt_abandoned_at_shutdown_is_recorded_and_its_number_not_reused() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::scripted(|i, _| {
        Reply::status(200).delay(if i == 0 { Duration::from_secs(600) } else { Duration::ZERO })
    })
    .await;
    let webhook = add_webhook(store, "hangs once", &receiver.url("/"), &["payment_received"]).await;
    let event_id = publish(&db, "payment_received", r#"{"payment_id": 2}"#).await.unwrap();

    let mut a_config = test_config("1s");
    a_config.shutdown_grace = Duration::from_secs(1);
    let a = spawn(store, test_sender_with(|c| c.request_timeout = Duration::from_secs(60)), a_config);
    wait_until(DEADLINE, "A's request reached the receiver", || async { receiver.count() >= 1 }).await;
    tokio::time::timeout(DEADLINE, a.stop()).await.expect("A stopped after its 1 s grace");
    assert_eq!(delivery_for(store, event_id, &webhook).await.state, "pending", "A handed the delivery back");

    let b = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "B delivered it", || async { deliveries_in(store, &webhook, "succeeded").await == 1 }).await;
    b.stop().await;

    let numbers: Vec<Option<String>> =
        receiver.received().iter().map(|r| r.header("hookd-attempt").map(str::to_owned)).collect();
    let audit = attempts_for(store, event_id, &webhook).await;
    assert_eq!(numbers, vec![Some("1".to_owned()), Some("2".to_owned())], "attempt numbers sent; audit: {audit:?}");
    assert_eq!(
        audit.iter().map(|a| a.0).collect::<Vec<_>>(),
        vec![1, 2],
        "every attempt that reached the receiver is in the audit: {audit:?}"
    );
}

// --- Settings and configuration ------------------------------------------------------------------

fn payload_of(bytes: usize) -> String {
    json!({ "blob": "x".repeat(bytes) }).to_string()
}

/// The payload limit producers hit is whatever `hookd serve`/`migrate` wrote into hookd.settings.
/// Every other command rewrites it too, from its own environment: an admin running
/// `hookd webhook list` from a shell without `HOOKD_MAX_PAYLOAD_BYTES` silently drops the limit
/// from 1 MiB back to 256 KiB, and producers' INSERTs that were fine start failing.
#[tokio::test]
async fn read_only_commands_do_not_change_the_payload_limit() {
    let db = TestDb::with_payload_limit(1024 * 1024).await;
    let big = payload_of(300_000);
    publish(&db, "payment_received", &big).await.expect("300 kB fits the configured 1 MiB");

    hookd(&db, &["webhook", "list"]).await.ok();

    let limit: String = sqlx::query_scalar("SELECT value FROM hookd.settings WHERE name = 'max_payload_bytes'")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    let again = publish(&db, "payment_received", &big).await;
    assert!(again.is_ok(), "after `hookd webhook list` the limit is {limit}: {:?}", again.err());
    assert_eq!(limit, "1048576");
}

/// With the `max_payload_bytes` row gone from hookd.settings (an admin's cleanup, a restore that
/// missed it), the INSERT trigger compares against NULL and lets every payload in, however big;
/// and `hookd migrate` only UPDATEs the row, so it never comes back.
#[tokio::test]
async fn the_payload_limit_fails_closed_and_migrate_restores_it() {
    let db = TestDb::with_payload_limit(1024).await;
    sqlx::query("DELETE FROM hookd.settings WHERE name = 'max_payload_bytes'").execute(db.store.pool()).await.unwrap();
    let mut migrate = hookd_command(&db, &["migrate"]);
    migrate.env("HOOKD_MAX_PAYLOAD_BYTES", "1024");
    run_command(migrate).await.ok();

    let result = publish(&db, "payment_received", &payload_of(300_000)).await;
    let err = result.expect_err("a 300 kB payload is over the 1024-byte limit `hookd migrate` was just given");
    let pg = err.as_database_error().expect("a database error").downcast_ref::<PgDatabaseError>();
    assert!(pg.message().contains("larger than the limit"), "{}", pg.message());
}

/// `hookd serve` with `HOOKD_DB_POOL_SIZE=1` starts and then delivers nothing: the waker's LISTEN
/// connection is taken from the pool and never given back, so every claim, fan-out and heartbeat
/// waits for a connection that never comes. Either it must work or refuse to start, naming the
/// setting.
#[tokio::test]
async fn serve_with_a_one_connection_pool_delivers_or_refuses_to_start() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "w", &receiver.url("/"), &["payment_received"]).await;
    publish(&db, "payment_received", r#"{"payment_id": 3}"#).await.unwrap();

    let mut serve = HookdProcess::serve(&db, &[("HOOKD_DB_POOL_SIZE", "1")]);
    let exited = tokio::select! {
        status = serve.child.wait() => Some(status.expect("wait")),
        _ = wait_until(DEADLINE, "delivered by hookd serve with HOOKD_DB_POOL_SIZE=1 (or a refusal to start)", || async {
            deliveries_in(store, &webhook, "succeeded").await == 1
        }) => None,
    };
    if let Some(status) = exited {
        let log = serve.log_text();
        assert!(!status.success() && log.contains("pool"), "exited {status:?} without naming the setting:\n{log}");
    }
}

/// Heartbeat settings under which a live worker looks dead to its own rescuer must be refused:
/// `HOOKD_HEARTBEAT_INTERVAL=0s` panics the heartbeat task (tokio's interval) while the process
/// keeps running without a heartbeat, and an interval longer than `HOOKD_HEARTBEAT_TIMEOUT` leaves
/// the heartbeat stale between beats. Either way the worker's own rescuer takes back the delivery
/// it is sending and it is sent again. `hookd serve` must refuse to start (naming the setting) or
/// deliver once.
#[tokio::test]
async fn serve_refuses_heartbeat_settings_that_make_live_leases_look_dead() {
    for (interval, timeout) in [("0s", "2s"), ("5s", "2s")] {
        let db = TestDb::new().await;
        let store = &db.store;
        let receiver = Receiver::scripted(|_, _| Reply::status(200).delay(Duration::from_secs(4))).await;
        let webhook = add_webhook(store, "w", &receiver.url("/"), &["payment_received"]).await;
        let event_id = publish(&db, "payment_received", r#"{"payment_id": 4}"#).await.unwrap();

        let mut serve =
            HookdProcess::serve(&db, &[("HOOKD_HEARTBEAT_INTERVAL", interval), ("HOOKD_HEARTBEAT_TIMEOUT", timeout)]);
        let exited = tokio::select! {
            status = serve.child.wait() => Some(status.expect("wait")),
            _ = wait_until(DEADLINE, "the delivery settled", || async {
                matches!(state_of(store, event_id, &webhook).await.as_deref(), Some("succeeded" | "failed" | "cancelled"))
            }) => None,
        };
        let log = serve.log_text();
        match exited {
            Some(status) => assert!(!status.success() && log.contains("heartbeat"), "interval {interval}: {status:?}\n{log}"),
            None => {
                let state = state_of(store, event_id, &webhook).await;
                let audit = attempts_for(store, event_id, &webhook).await;
                assert_eq!(
                    (state.as_deref(), receiver.count()),
                    (Some("succeeded"), 1),
                    "HOOKD_HEARTBEAT_INTERVAL={interval}, HOOKD_HEARTBEAT_TIMEOUT={timeout}: the worker took back its own \
                     live delivery; audit {audit:?}\n{log}"
                );
            }
        }
    }
}

// --- Recording ---------------------------------------------------------------------------------

/// One webhook's row locked by an admin's open transaction (`BEGIN; UPDATE hookd.webhooks ...`
/// left open in psql) stalls every webhook: the single recorder writes each batch in one
/// transaction that also bumps the webhooks' `event_count`, so it waits on that row lock, and
/// every later result queues behind it. Another webhook's delivery is sent but never recorded;
/// once its lease runs out (request timeout + margin) the rescuer takes it back and it is sent
/// again. Recording must not depend on an unrelated webhook's row lock.
#[tokio::test]
async fn a_lock_on_one_webhook_row_does_not_stall_deliveries_to_the_others() {
    let db = TestDb::new().await;
    let store = &db.store;
    let locked_receiver = Receiver::always(200).await;
    let locked = add_webhook(store, "locked", &locked_receiver.url("/"), &["payment_received"]).await;
    let free_receiver = Receiver::always(200).await;
    let free = add_webhook(store, "free", &free_receiver.url("/"), &["site_published"]).await;

    let mut admin = store.pool().begin().await.unwrap();
    sqlx::query("UPDATE hookd.webhooks SET name = 'locked (editing)' WHERE id = $1")
        .bind(locked.id)
        .execute(&mut *admin)
        .await
        .unwrap();
    publish(&db, "payment_received", r#"{"payment_id": 15}"#).await.unwrap();
    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the locked webhook's request was sent", || async { locked_receiver.count() == 1 }).await;

    let event_id = publish(&db, "site_published", r#"{"site_id": 15}"#).await.unwrap();
    let recorded = tokio::time::timeout(DEADLINE, async {
        loop {
            if state_of(store, event_id, &free).await.as_deref() == Some("succeeded") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let sent = free_receiver.count();
    admin.rollback().await.unwrap();
    worker.stop().await;
    assert!(
        recorded.is_ok(),
        "the other webhook's delivery was not recorded within {DEADLINE:?} (sent {sent} times) while an unrelated \
         webhook row was locked"
    );
    assert_eq!(sent, 1, "sent once");
}

// --- Claiming ----------------------------------------------------------------------------------

/// A slow receiver with a backlog (50 events, 2 s each, one request at a time) must not hold up
/// another webhook's deliveries: the per-webhook limit exists so "one slow receiver cannot take
/// them all". The fast webhook's five later events must be delivered while the slow backlog is
/// still draining. (Holds at commit 18f60bf, whose claim skips saturated webhooks before its
/// LIMIT; the reworked claim looks only at the first `4 x free slots` due rows, and when those all
/// belong to the saturated webhook it claims nothing at all.)
#[tokio::test]
async fn a_slow_webhooks_backlog_does_not_starve_the_others() {
    let db = TestDb::new().await;
    let store = &db.store;
    let slow = Receiver::scripted(|_, _| Reply::status(200).delay(Duration::from_secs(2))).await;
    let fast = Receiver::always(200).await;
    let slow_hook = add_webhook(store, "slow", &slow.url("/"), &["site_published"]).await;
    let fast_hook = add_webhook(store, "fast", &fast.url("/"), &["payment_received"]).await;
    sqlx::query(
        "INSERT INTO hookd.outbox (event_type, payload)
         SELECT 'site_published', jsonb_build_object('i', g) FROM generate_series(1, 50) g",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.outbox_fan_out_batch(1000).await.unwrap();
    sqlx::query(
        "INSERT INTO hookd.outbox (event_type, payload)
         SELECT 'payment_received', jsonb_build_object('i', g) FROM generate_series(1, 5) g",
    )
    .execute(store.pool())
    .await
    .unwrap();

    let mut config = test_config("1s");
    config.concurrency = 4;
    config.per_webhook_concurrency = 1;
    let worker = spawn(store, test_sender_with(|c| c.request_timeout = Duration::from_secs(10)), config);
    wait_until(DEADLINE, "the fast webhook's events are delivered", || async {
        deliveries_in(store, &fast_hook, "succeeded").await == 5
    })
    .await;
    let slow_done = deliveries_in(store, &slow_hook, "succeeded").await;
    worker.stop().await;
    assert!(slow_done < 50, "the scenario: the slow backlog was still draining ({slow_done} of 50)");
}

// --- The outbox --------------------------------------------------------------------------------

/// A delivery whose outbox row is gone (retention, a purge: the README says rows stay "until
/// retention removes them") can never be claimed, since the claim joins the outbox for the
/// payload. It is not failed either: it stays `pending` at the head of the queue, and each claim
/// spends its LIMIT on it. With more such rows than free send slots (129 > the default 128), the
/// claimer claims nothing, ever, and a fresh event is never delivered.
#[tokio::test]
async fn deliveries_whose_event_was_purged_do_not_wedge_the_queue() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "w", &receiver.url("/"), &["payment_received"]).await;
    sqlx::query(
        "INSERT INTO hookd.outbox (event_type, payload)
         SELECT 'payment_received', jsonb_build_object('old', g) FROM generate_series(1, 129) g",
    )
    .execute(store.pool())
    .await
    .unwrap();
    store.outbox_fan_out_batch(1000).await.unwrap();
    sqlx::query("DELETE FROM hookd.outbox").execute(store.pool()).await.unwrap();
    let fresh = publish(&db, "payment_received", r#"{"payment_id": 5}"#).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the fresh event is delivered past the purged ones", || async {
        state_of(store, fresh, &webhook).await.as_deref() == Some("succeeded")
    })
    .await;
    worker.stop().await;
}

/// A producer row inserted with `fanned_out_at` already set (copied from another table, a
/// migration script) is committed, accepted by the trigger, and never delivered: the fan-out
/// looks only at rows with `fanned_out_at IS NULL`. A committed row must be delivered, or the
/// INSERT refused with a message naming the column.
#[tokio::test]
async fn a_row_inserted_as_already_fanned_out_is_delivered_or_refused() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "w", &receiver.url("/"), &["payment_received"]).await;
    let stamped: Result<Uuid, _> = sqlx::query_scalar(
        "INSERT INTO hookd.outbox (event_type, payload, fanned_out_at, webhook_count)
         VALUES ('payment_received', '{\"payment_id\": 6}', now(), 0) RETURNING event_id",
    )
    .fetch_one(store.pool())
    .await;
    let stamped = match stamped {
        Err(e) => {
            assert!(e.to_string().contains("fanned_out_at"), "refused, but without naming the column: {e}");
            return;
        }
        Ok(id) => id,
    };
    let after = publish(&db, "payment_received", r#"{"payment_id": 7}"#).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the later event is delivered", || async {
        state_of(store, after, &webhook).await.as_deref() == Some("succeeded")
    })
    .await;
    worker.stop().await;
    let ids: BTreeSet<String> =
        receiver.received().iter().filter_map(|r| r.header("webhook-id").map(str::to_owned)).collect();
    assert!(ids.contains(&stamped.to_string()), "the committed, pre-stamped event {stamped} was never delivered");
}

// --- The CLI -------------------------------------------------------------------------------------

/// `--since` with a very long duration is an input error, reported as `error: ...` with exit 1,
/// not a panic (exit 101 and a backtrace from `DateTime - TimeDelta` overflowing).
#[tokio::test]
async fn a_since_too_far_back_is_an_error_not_a_panic() {
    let db = TestDb::new().await;
    let webhook = Uuid::new_v4().to_string();
    for args in [&["replay", "--webhook", &webhook, "--since", "1000000y"][..], &["tail", "--since", "1000000y"][..]] {
        let out = hookd(&db, args).await;
        assert_eq!(out.code, Some(1), "hookd {args:?}: {out:#?}");
        assert!(out.stderr.starts_with("error:") && !out.stderr.contains("panicked"), "hookd {args:?}: {out:#?}");
    }
}

/// `hookd webhook list --search TEXT` is documented as "only names or URLs containing this text",
/// but the text is used as an ILIKE pattern: `_` and `%`, common in names, match any character(s),
/// so `--search a_b` also lists a webhook named `axb`.
#[tokio::test]
async fn webhook_search_treats_its_text_literally() {
    let db = TestDb::new().await;
    let wanted = add_webhook(&db.store, "crm_prod", "http://127.0.0.1:9/a", &["payment_received"]).await;
    add_webhook(&db.store, "crm-prod", "http://127.0.0.1:9/b", &["payment_received"]).await;
    add_webhook(&db.store, "100% uptime", "http://127.0.0.1:9/c", &["payment_received"]).await;
    let found = hookd(&db, &["webhook", "list", "--search", "crm_prod", "--json"]).await.ok().json();
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec![wanted.name.as_str()], "--search crm_prod");
    let found = hookd(&db, &["webhook", "list", "--search", "0%", "--json"]).await.ok().json();
    let names: Vec<&str> = found.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["100% uptime"], "--search 0%");
}

/// The catalog is open to SQL ("producers ... add their own types"). A sample payload Postgres
/// accepts, nested 200 deep, used to make `hookd events list` fail for every type (the sample is
/// decoded into a serde_json::Value, whose parser stops at depth 128). It is now refused at the
/// door (depth over 64), and samples within the limit list fine.
#[tokio::test]
async fn a_deeply_nested_sample_does_not_break_the_catalog() {
    let db = TestDb::new().await;
    let deep = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
    let refused = sqlx::query("INSERT INTO hookd.event_types (slug, name, sample_payload) VALUES ('deep', 'Deep', $1::jsonb)")
        .bind(&deep)
        .execute(db.store.pool())
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("event_type_sample_depth"), "refused with the rule named: {refused}");
    let shallow = format!("{}1{}", r#"{"a":"#.repeat(60), "}".repeat(60));
    sqlx::query("INSERT INTO hookd.event_types (slug, name, sample_payload) VALUES ('nested', 'Nested', $1::jsonb)")
        .bind(&shallow)
        .execute(db.store.pool())
        .await
        .unwrap();
    let out = hookd(&db, &["events", "list", "--json"]).await;
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(out.stdout.contains("payment_received") && out.stdout.contains("nested"), "{out:#?}");
}

// --- Things that held up (kept: nothing else covers them) ------------------------------------------

/// The race between fan-out and disabling a webhook: a fan-out statement that saw the webhook
/// active (its snapshot predates the disable) creates the delivery after the disable already
/// cancelled the webhook's pending deliveries. Forced here by making the fan-out wait on another
/// transaction's uncommitted insert of the same (event, webhook) pair while the webhook is
/// disabled. The stray `pending` delivery is cancelled at claim time and never sent.
#[tokio::test]
async fn a_delivery_fanned_out_across_a_disable_is_cancelled_not_sent() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "racing", &receiver.url("/"), &["payment_received"]).await;
    let event_id = publish(&db, "payment_received", r#"{"payment_id": 14}"#).await.unwrap();

    let mut blocker = store.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO hookd.deliveries (event_id, webhook_id) VALUES ($1, $2)")
        .bind(event_id)
        .bind(webhook.id)
        .execute(&mut *blocker)
        .await
        .unwrap();
    let fan_out = tokio::spawn({
        let store = store.clone();
        async move { store.outbox_fan_out_batch(10).await }
    });
    wait_until(DEADLINE, "the fan-out waits on the uncommitted delivery", || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND pid <> pg_backend_pid()
                              AND wait_event_type = 'Lock' AND query LIKE ('%INSERT INTO hookd.' || 'deliveries%'))",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    })
    .await;
    store.webhook_set_active(webhook.id, false, Some("race")).await.unwrap();
    blocker.rollback().await.unwrap();
    let fanned = fan_out.await.unwrap().unwrap();
    assert_eq!(fanned.deliveries, 1, "the scenario: the fan-out created a delivery for the just-disabled webhook");
    assert_eq!(state_of(store, event_id, &webhook).await.as_deref(), Some("pending"));

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the stray delivery is cancelled", || async {
        state_of(store, event_id, &webhook).await.as_deref() == Some("cancelled")
    })
    .await;
    worker.stop().await;
    assert_eq!(receiver.count(), 0, "a disabled webhook received the event");
}

/// A producer transaction that takes its id first but commits last: the event with the higher id,
/// committed meanwhile, is delivered without waiting for it; the early one is not sent while it is
/// uncommitted, and is delivered once it commits (fan-out has no id watermark to skip it).
#[tokio::test]
async fn an_event_committed_late_with_a_lower_id_is_delivered() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "w", &receiver.url("/"), &["payment_received"]).await;

    let mut long_tx = store.pool().begin().await.unwrap();
    let (early_id, early): (i64, Uuid) = sqlx::query_as(
        "INSERT INTO hookd.outbox (event_type, payload) VALUES ('payment_received', '{\"n\": 1}') RETURNING id, event_id",
    )
    .fetch_one(&mut *long_tx)
    .await
    .unwrap();
    let (late_id, late): (i64, Uuid) = sqlx::query_as(
        "INSERT INTO hookd.outbox (event_type, payload) VALUES ('payment_received', '{\"n\": 2}') RETURNING id, event_id",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(early_id < late_id);

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the committed event is delivered", || async {
        state_of(store, late, &webhook).await.as_deref() == Some("succeeded")
    })
    .await;
    assert_eq!(receiver.count(), 1, "the uncommitted event was not sent");
    long_tx.commit().await.unwrap();
    wait_until(DEADLINE, "the late-committed event is delivered", || async {
        state_of(store, early, &webhook).await.as_deref() == Some("succeeded")
    })
    .await;
    worker.stop().await;
    let ids: Vec<String> = receiver.received().iter().map(|r| r.header("webhook-id").unwrap().to_owned()).collect();
    assert_eq!(ids, vec![late.to_string(), early.to_string()]);
}

/// README: "a new URL applies from the next attempt on". The first attempt fails at the old URL;
/// the URL is changed (`hookd webhook update --url`) while the retry is due; the retry (attempt 2) goes to the new URL, and the
/// audit keeps each attempt's own URL.
#[tokio::test]
async fn a_url_changed_between_retries_is_used_by_the_next_attempt() {
    let db = TestDb::new().await;
    let store = &db.store;
    let old = Receiver::always(503).await;
    let new = Receiver::always(200).await;
    let webhook = add_webhook(store, "moving", &old.url("/old"), &["payment_received"]).await;
    let event_id = publish(&db, "payment_received", r#"{"payment_id": 11}"#).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("5s,5s"));
    wait_until(DEADLINE, "attempt 1 failed at the old URL", || async {
        attempts_for(store, event_id, &webhook).await.len() == 1
    })
    .await;
    hookd(&db, &["webhook", "update", &webhook.id.to_string(), "--url", &new.url("/new")]).await.ok();
    wait_until(DEADLINE, "delivered at the new URL", || async {
        state_of(store, event_id, &webhook).await.as_deref() == Some("succeeded")
    })
    .await;
    worker.stop().await;

    assert_eq!(old.count(), 1);
    let got = new.received();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].path.as_str(), got[0].header("hookd-attempt")), ("/new", Some("2")));
    let urls: Vec<String> = sqlx::query_scalar("SELECT url FROM hookd.attempts WHERE event_id = $1 ORDER BY id")
        .bind(event_id)
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(urls, vec![old.url("/old"), new.url("/new")]);
}

/// An event type deleted from the catalog while its events wait (not yet fanned out, then retried)
/// does not strand them: they are fanned out, retried and delivered; only new INSERTs are refused.
#[tokio::test]
async fn events_of_a_type_deleted_from_the_catalog_are_still_delivered() {
    let db = TestDb::new().await;
    let store = &db.store;
    sqlx::query("INSERT INTO hookd.event_types (slug, name) VALUES ('order_shipped', 'Order shipped')")
        .execute(store.pool())
        .await
        .unwrap();
    let receiver = Receiver::sequence(vec![Reply::status(503), Reply::status(200)]).await;
    let webhook = add_webhook(store, "shipping", &receiver.url("/"), &["order_shipped"]).await;
    let first = publish(&db, "order_shipped", r#"{"order_id": 1}"#).await.unwrap();
    let second = publish(&db, "order_shipped", r#"{"order_id": 2}"#).await.unwrap();
    sqlx::query("DELETE FROM hookd.event_types WHERE slug = 'order_shipped'").execute(store.pool()).await.unwrap();
    assert!(publish(&db, "order_shipped", "{}").await.is_err(), "new events of the deleted type are refused");

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "both pending events are delivered", || async {
        deliveries_in(store, &webhook, "succeeded").await == 2
    })
    .await;
    worker.stop().await;
    let ids: BTreeSet<String> = receiver.received().iter().map(|r| r.header("webhook-id").unwrap().to_owned()).collect();
    assert_eq!(ids, BTreeSet::from([first.to_string(), second.to_string()]));
    assert_eq!(receiver.count(), 3, "one of them needed a retry after the type was deleted");
}

/// Payload edge cases against an 8192-byte limit: `\u0000` is refused by the INSERT (Postgres's
/// jsonb cannot store it); a payload of exactly 8192 bytes of multi-byte text is accepted and one
/// byte more is refused; 1,000 levels of nesting, control-character escapes, quotes and emoji are
/// accepted; every accepted payload arrives byte-identical to `payload::text`.
#[tokio::test]
async fn payload_edge_cases_are_refused_at_insert_or_delivered_byte_identical() {
    let db = TestDb::with_payload_limit(8192).await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    add_webhook(store, "edges", &receiver.url("/"), &["payment_received"]).await;

    let nul = publish(&db, "payment_received", r#"{"s": "a\u0000b"}"#).await.expect_err("\\u0000 is refused");
    assert!(nul.as_database_error().is_some(), "{nul:?}");
    // `{"blob": "` + text + `"}` is 12 bytes plus the text; "é" is 2 bytes.
    let exact = format!(r#"{{"blob": "{}"}}"#, "é".repeat(4090));
    let over = format!(r#"{{"blob": "{}x"}}"#, "é".repeat(4090));
    let deep = format!("{}1{}", r#"{"a": "#.repeat(1000), "}".repeat(1000));
    let escapes = r#"{"k": "tab\t quote\" nl\n ctl\u0001 bs\\ snow☃ 😀 \ud83d\ude00", "n": 1.50, "e": 1e400}"#;
    let over_err = publish(&db, "payment_received", &over).await.expect_err("one byte over the limit");
    assert!(over_err.to_string().contains("8193 bytes"), "{over_err}");

    let mut published = Vec::new();
    for payload in [&exact, &deep, &escapes.to_owned()] {
        published.push(publish(&db, "payment_received", payload).await.expect("accepted"));
    }
    let size: i32 = sqlx::query_scalar("SELECT octet_length(payload::text) FROM hookd.outbox WHERE event_id = $1")
        .bind(published[0])
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(size, 8192, "the scenario: exactly at the limit");

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "all three delivered", || async { receiver.count() == 3 }).await;
    worker.stop().await;
    for event_id in published {
        let stored: String = sqlx::query_scalar("SELECT payload::text FROM hookd.outbox WHERE event_id = $1")
            .bind(event_id)
            .fetch_one(store.pool())
            .await
            .unwrap();
        let got = receiver.received().into_iter().find(|r| r.header("webhook-id") == Some(&event_id.to_string())).unwrap();
        assert_eq!(got.body.as_ref(), stored.as_bytes(), "{event_id} arrives as stored");
    }
}

/// While a receiver takes 3 s to answer five requests, no hookd session holds a transaction: no
/// connection to this database has had one open for more than 1 s (the recorder's own transactions
/// last milliseconds; one held across the HTTP call would be seconds old).
#[tokio::test]
async fn no_transaction_is_open_while_a_slow_receiver_answers() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::scripted(|_, _| Reply::status(200).delay(Duration::from_secs(3))).await;
    let webhook = add_webhook(store, "slow", &receiver.url("/"), &["payment_received"]).await;
    let events: Vec<String> = (0..5).map(|i| json!({"i": i}).to_string()).collect();
    for e in &events {
        publish(&db, "payment_received", e).await.unwrap();
    }
    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the requests are in flight", || async { receiver.count() == 5 }).await;
    let samples = &std::sync::atomic::AtomicUsize::new(0);
    wait_until(DEADLINE, "the slow deliveries finished", || async {
        let open: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT state || ' since ' || (now() - xact_start)::text, query FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND xact_start < now() - interval '1 second'",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        assert!(open.is_empty(), "a transaction is held open during HTTP: {open:?}");
        samples.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        deliveries_in(store, &webhook, "succeeded").await == 5
    })
    .await;
    worker.stop().await;
    let samples = samples.load(std::sync::atomic::Ordering::Relaxed);
    assert!(samples > 10, "sampled while the requests were in flight ({samples} samples)");
}

/// `hookd serve` at RUST_LOG=trace, through a failed attempt, a retry, a success and a SIGTERM,
/// and `hookd webhook test` at RUST_LOG=trace: neither log contains the webhook's secret, its key
/// material, or `whsec_` at all.
#[tokio::test]
async fn secrets_never_reach_the_logs_even_at_trace() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::sequence(vec![Reply::status(500), Reply::status(200)]).await;
    let webhook = add_webhook(store, "secretive", &receiver.url("/"), &["payment_received"]).await;
    publish(&db, "payment_received", r#"{"payment_id": 12}"#).await.unwrap();

    let mut serve = HookdProcess::serve(&db, &[("RUST_LOG", "trace")]);
    wait_until(DEADLINE, "delivered after a retry", || async { deliveries_in(store, &webhook, "succeeded").await == 1 })
        .await;
    serve.signal("TERM");
    assert_eq!(serve.wait_exit(DEADLINE).await.code(), Some(0));
    let mut test = hookd_command(&db, &["webhook", "test", &webhook.id.to_string()]);
    test.env("RUST_LOG", "trace");
    let test = run_command(test).await.ok();

    let key = webhook.secret.strip_prefix("whsec_").expect("a whsec_ secret");
    for (what, text) in [("hookd serve", serve.log_text()), ("hookd webhook test", format!("{}{}", test.stdout, test.stderr))] {
        assert!(text.len() > 1000, "{what} logged at trace: {} bytes", text.len());
        assert!(!text.contains(key) && !text.contains("whsec_"), "{what} logged the secret");
    }
}

/// SIGTERM while a request is in flight (3 s at the receiver, grace 60 s): `hookd serve` waits
/// for it, records the success (not released, not retried), deregisters, and exits 0.
#[tokio::test]
async fn sigterm_finishes_an_in_flight_request_and_exits_0() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::scripted(|_, _| Reply::status(200).delay(Duration::from_secs(3))).await;
    let webhook = add_webhook(store, "slow", &receiver.url("/"), &["payment_received"]).await;
    let event_id = publish(&db, "payment_received", r#"{"payment_id": 13}"#).await.unwrap();

    let mut serve = HookdProcess::serve(&db, &[("HOOKD_SHUTDOWN_GRACE", "60s"), ("HOOKD_HEARTBEAT_TIMEOUT", "30s")]);
    let id = serve.worker_id(store).await;
    wait_until(DEADLINE, "the request is in flight", || async { receiver.count() == 1 }).await;
    serve.signal("TERM");
    let status = serve.wait_exit(DEADLINE).await;
    assert_eq!(status.code(), Some(0), "{}", serve.log_text());

    assert_eq!(state_of(store, event_id, &webhook).await.as_deref(), Some("succeeded"));
    assert_eq!(attempts_for(store, event_id, &webhook).await, vec![(1, Some(200), None)]);
    assert_eq!(receiver.count(), 1);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.workers WHERE id = $1")
        .bind(&id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}
