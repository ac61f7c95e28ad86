//! Endpoint health and fairness (README "Endpoint health"): a 410 disables its webhook at once
//! (also when an admin holds the webhook's row: later, but surely), failing without a success for
//! `disable_after` disables it too and re-enabling resumes it, a dead endpoint trips its circuit
//! and is probed one request at a time, `max_rps` spaces requests, and a 429 pauses only its own
//! webhook. Real receivers, the real worker pool, the real CLI and API.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hookd_store::webhook::Webhook;
use hookd_store::Store;
use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{add_webhook, deliveries_in, hookd, DEADLINE};

const TOKEN: &str = "health-test-token-0123456789";

/// A receiver that answers `broken` until `healed` is set, then 200.
async fn switchable(broken: Reply) -> (Receiver, Arc<AtomicBool>) {
    let healed = Arc::new(AtomicBool::new(false));
    let flag = healed.clone();
    let receiver = Receiver::scripted(move |_, _| if flag.load(Ordering::SeqCst) { Reply::status(200) } else { broken.clone() }).await;
    (receiver, healed)
}

async fn publish_n(store: &Store, event_type: &str, n: usize) {
    let events: Vec<(String, Value)> = (0..n).map(|i| (event_type.to_owned(), json!({ "n": i }))).collect();
    store.outbox_publish_many(&events).await.unwrap();
}

/// When each request reached `receiver`, in order.
fn arrivals(receiver: &Receiver) -> Vec<SystemTime> {
    let mut at: Vec<SystemTime> = receiver.received().iter().map(|r| r.at).collect();
    at.sort();
    at
}

fn gap(earlier: SystemTime, later: SystemTime) -> Duration {
    later.duration_since(earlier).unwrap_or_default()
}

/// Neither pending nor running: the queue of `webhook` has settled.
async fn settled(store: &Store, webhook: &Webhook) -> bool {
    deliveries_in(store, webhook, "pending").await == 0 && deliveries_in(store, webhook, "running").await == 0
}

/// The state of the delivery of `event_id` to `webhook`, once fan-out has made it.
async fn state_of(store: &Store, event_id: Uuid, webhook: &Webhook) -> Option<String> {
    sqlx::query_scalar("SELECT state FROM hookd.delivery_log WHERE event_id = $1 AND webhook_id = $2")
        .bind(event_id)
        .bind(webhook.id)
        .fetch_optional(store.pool())
        .await
        .unwrap()
}

/// One call to the admin API: the status and the JSON body.
async fn api(method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url).header("authorization", format!("Bearer {TOKEN}"));
    if let Some(body) = body {
        request = request.header("content-type", "application/json").body(body.to_string());
    }
    let response = request.send().await.expect("the API answers");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    (status, if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).expect("JSON") })
}

/// A 410 disables the webhook with the first one: active false, the reason with the time and the
/// attempt (whose response body is in the audit), the webhook's other pending deliveries
/// cancelled, nothing more sent. `hookd webhook show` and the API show it. Turning it back on
/// through the API clears the reason and deliveries resume.
#[tokio::test]
async fn a_410_disables_the_webhook_at_once_and_re_enabling_resumes_it() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (receiver, healed) = switchable(Reply::status(410).body("this endpoint is gone for good")).await;
    let webhook = add_webhook(store, "gone", &receiver.url("/in"), &["payment_received"]).await;
    publish_n(store, "payment_received", 5).await;

    let mut config = test_config("1s,1s");
    config.per_webhook_concurrency = 1;
    config.circuit_cooldown = Duration::from_secs(1);
    let worker = spawn(store, test_sender(), config);
    wait_until(DEADLINE, "the webhook is disabled", || async { !store.webhook_get(webhook.id).await.unwrap().active }).await;
    wait_until(DEADLINE, "its queue has settled", || async { settled(store, &webhook).await }).await;
    assert_eq!(receiver.count(), 1, "nothing is sent after the 410");
    assert_eq!(deliveries_in(store, &webhook, "failed").await, 1, "the 410'd delivery is failed (terminal)");
    assert_eq!(deliveries_in(store, &webhook, "cancelled").await, 4, "the others are cancelled, kept in the audit");

    let disabled = store.webhook_get(webhook.id).await.unwrap();
    let attempt_id: i64 = sqlx::query_scalar("SELECT id FROM hookd.attempts WHERE webhook_id = $1 AND status_code = 410")
        .bind(webhook.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    let reason = disabled.disabled_reason.clone().expect("a reason");
    assert!(reason.starts_with("receiver answered 410 Gone at "), "{reason}");
    assert!(reason.ends_with(&format!("(attempt {attempt_id})")), "{reason}");
    assert_eq!(disabled.disabled_attempt_id, Some(attempt_id));
    assert!(disabled.disabled_at.is_some());
    let body: Vec<u8> = sqlx::query_scalar("SELECT response_body FROM hookd.attempts WHERE id = $1")
        .bind(attempt_id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(body, b"this endpoint is gone for good", "the last response is kept");

    let shown = hookd(&db, &["webhook", "show", &webhook.id.to_string()]).await.ok();
    assert!(shown.stdout.contains("active:          false"), "{shown:#?}");
    assert!(shown.stdout.contains(&format!("disabled reason: {reason}")), "{shown:#?}");
    let shown = hookd(&db, &["webhook", "show", &webhook.id.to_string(), "--json"]).await.ok().json();
    assert_eq!(shown["active"], false);
    assert_eq!(shown["disabled_reason"], reason.as_str());
    assert_eq!(shown["disabled_attempt_id"], attempt_id);

    let admin = hookd_testkit::api::spawn(&db, TOKEN).await;
    let path = admin.url(&format!("/api/webhooks/{}", webhook.id));
    let (status, json) = api(reqwest::Method::GET, path.clone(), None).await;
    assert_eq!(status, 200);
    assert_eq!((json["active"].clone(), json["disabled_reason"].clone()), (json!(false), json!(reason)));
    assert_eq!(json["disabled_attempt_id"], attempt_id);

    healed.store(true, Ordering::SeqCst);
    let (status, json) = api(reqwest::Method::PATCH, path, Some(json!({ "active": true }))).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["active"], true);
    for field in ["disabled_reason", "disabled_at", "disabled_attempt_id", "failing_since"] {
        assert!(json[field].is_null(), "{field} cleared: {json}");
    }
    let event_id = store.outbox_publish("payment_received", &json!({ "after": "enable" })).await.unwrap();
    wait_until(DEADLINE, "a new event reaches the re-enabled webhook", || async {
        state_of(store, event_id, &webhook).await.as_deref() == Some("succeeded")
    })
    .await;
    worker.stop().await;
    admin.stop().await;
}

/// The recorder never waits on a webhook row an admin holds: a 410 seen meanwhile is recorded at
/// once, and the webhook is disabled by the rescuer once the lock is gone.
#[tokio::test]
async fn a_410_while_an_admin_holds_the_webhook_row_disables_it_once_the_lock_is_gone() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(410).await;
    let webhook = add_webhook(store, "gone, being edited", &receiver.url("/"), &["payment_received"]).await;

    let mut admin = store.pool().begin().await.unwrap();
    sqlx::query("UPDATE hookd.webhooks SET name = 'gone (editing)' WHERE id = $1")
        .bind(webhook.id)
        .execute(&mut *admin)
        .await
        .unwrap();
    store.outbox_publish("payment_received", &json!({ "n": 1 })).await.unwrap();
    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the 410 is recorded despite the lock", || async {
        deliveries_in(store, &webhook, "failed").await == 1
    })
    .await;
    assert!(store.webhook_get(webhook.id).await.unwrap().active, "the row is locked: disabling it had to wait");
    let deferred: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.webhook_health_deferred WHERE webhook_id = $1")
        .bind(webhook.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(deferred, 1, "the 410 waits in the deferred table");
    admin.commit().await.unwrap();

    wait_until(DEADLINE, "the rescuer disables the webhook", || async { !store.webhook_get(webhook.id).await.unwrap().active }).await;
    worker.stop().await;
    let disabled = store.webhook_get(webhook.id).await.unwrap();
    assert_eq!(disabled.name, "gone (editing)", "the admin's change stands");
    assert!(disabled.disabled_reason.unwrap().starts_with("receiver answered 410 Gone at "));
    assert!(disabled.disabled_attempt_id.is_some());
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.webhook_health_deferred").fetch_one(store.pool()).await.unwrap();
    assert_eq!(left, 0, "folded in");
}

/// `failing_since` starts with the first failure and is cleared by a success; failing for longer
/// than `disable_after` (2 s here) disables the webhook at its next failure with the reason, and
/// cancels its pending retry. `hookd webhook enable` clears reason and `failing_since`, and
/// delivery resumes.
#[tokio::test]
async fn failing_without_success_for_disable_after_disables_and_enable_resumes() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (receiver, healed) = switchable(Reply::status(500)).await;
    let webhook = add_webhook(store, "flaky", &receiver.url("/"), &["payment_received"]).await;
    let failing_since = || async { store.webhook_get(webhook.id).await.unwrap().failing_since };

    let mut config = test_config(&["300ms"; 40].join(","));
    config.disable_after = Duration::from_secs(2);
    config.circuit_failures = 0;
    config.per_webhook_concurrency = 1;
    let worker = spawn(store, test_sender(), config);

    let first = store.outbox_publish("payment_received", &json!({ "n": 1 })).await.unwrap();
    wait_until(DEADLINE, "a failure sets failing_since", || async { failing_since().await.is_some() }).await;
    let since = failing_since().await.unwrap();
    let first_attempt: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("SELECT min(started_at) FROM hookd.attempts WHERE webhook_id = $1").bind(webhook.id).fetch_one(store.pool()).await.unwrap();
    assert_eq!(since, first_attempt, "failing since the first failed attempt");
    healed.store(true, Ordering::SeqCst);
    wait_until(DEADLINE, "the retry succeeds", || async { state_of(store, first, &webhook).await.as_deref() == Some("succeeded") })
        .await;
    assert_eq!(failing_since().await, None, "a success clears failing_since");

    healed.store(false, Ordering::SeqCst);
    let second = store.outbox_publish("payment_received", &json!({ "n": 2 })).await.unwrap();
    wait_until(DEADLINE, "the webhook is disabled after failing for 2 s", || async {
        !store.webhook_get(webhook.id).await.unwrap().active
    })
    .await;
    let disabled = store.webhook_get(webhook.id).await.unwrap();
    let reason = disabled.disabled_reason.clone().unwrap();
    assert!(reason.starts_with("failing without success since "), "{reason}");
    let since = disabled.failing_since.expect("still failing");
    assert!(since > first_attempt, "counted from the first failure after the success");
    assert!(disabled.disabled_at.unwrap() - since >= chrono::TimeDelta::seconds(2), "not before disable_after");
    assert_eq!(disabled.disabled_attempt_id, None, "no single response disabled it");
    wait_until(DEADLINE, "its pending retry is cancelled", || async {
        state_of(store, second, &webhook).await.as_deref() == Some("cancelled")
    })
    .await;
    let sent = receiver.count();

    let enabled = hookd(&db, &["webhook", "enable", &webhook.id.to_string(), "--json"]).await.ok().json();
    assert_eq!(enabled["active"], true);
    assert!(enabled["disabled_reason"].is_null() && enabled["failing_since"].is_null(), "{enabled}");
    healed.store(true, Ordering::SeqCst);
    let third = store.outbox_publish("payment_received", &json!({ "n": 3 })).await.unwrap();
    wait_until(DEADLINE, "delivery resumes", || async { state_of(store, third, &webhook).await.as_deref() == Some("succeeded") })
        .await;
    worker.stop().await;
    assert_eq!(receiver.count(), sent + 1, "the cancelled retry was not sent");
}

/// A receiver answering 500 to everything, with 30 deliveries queued under "1s": after 3
/// consecutive failures its circuit opens, nothing is claimed for the 2 s cool-down, then single
/// probes 2 s apart; meanwhile another webhook's 30 deliveries all go through at once. Once the
/// receiver recovers, a probe succeeds, the circuit closes and the whole backlog is delivered.
#[tokio::test]
async fn a_dead_endpoint_trips_its_circuit_while_another_webhook_flows() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (dead, healed) = switchable(Reply::status(500)).await;
    let fast = Receiver::always(200).await;
    let dead_hook = add_webhook(store, "dead", &dead.url("/"), &["site_published"]).await;
    let fast_hook = add_webhook(store, "fast", &fast.url("/"), &["payment_received"]).await;
    publish_n(store, "site_published", 30).await;
    publish_n(store, "payment_received", 30).await;

    let cooldown = Duration::from_secs(2);
    let mut config = test_config("1s");
    config.per_webhook_concurrency = 2;
    config.circuit_failures = 3;
    config.circuit_cooldown = cooldown;
    let worker = spawn(store, test_sender(), config);

    let probe_gap = cooldown - Duration::from_millis(200);
    let long_gaps = |at: &[SystemTime]| at.windows(2).filter(|w| gap(w[0], w[1]) >= probe_gap).count();
    wait_until(DEADLINE, "two probes after the circuit opened", || async { long_gaps(&arrivals(&dead)) >= 2 }).await;
    let at = arrivals(&dead);
    let before_open = at.windows(2).position(|w| gap(w[0], w[1]) >= probe_gap).unwrap() + 1;
    assert!((3..=4).contains(&before_open), "3 failures (and at most one more in flight) open it: {before_open}");
    assert!(at.len() <= before_open + 3, "without the breaker 60 requests would have gone out by now, not {}", at.len());
    for (i, pair) in at[before_open - 1..].windows(2).enumerate() {
        assert!(gap(pair[0], pair[1]) >= probe_gap, "probe {i} came {:?} after the previous request: one at a time", gap(pair[0], pair[1]));
    }
    assert_eq!(deliveries_in(store, &fast_hook, "succeeded").await, 30, "the other webhook was not held up");
    let fast_done = *arrivals(&fast).last().unwrap();
    assert!(fast_done < at[before_open], "all 30 of the other webhook went out before the first probe");

    healed.store(true, Ordering::SeqCst);
    wait_until(DEADLINE, "the backlog drains once a probe succeeds", || async {
        deliveries_in(store, &dead_hook, "succeeded").await == 30
    })
    .await;
    worker.stop().await;
}

/// `max_rps` 5 spaces that webhook's requests about 200 ms apart (its deliveries are not claimed
/// faster than that), while an unlimited webhook's 40 deliveries go out at once.
#[tokio::test]
async fn max_rps_spaces_requests_without_slowing_other_webhooks() {
    let db = TestDb::new().await;
    let store = &db.store;
    let limited = Receiver::always(200).await;
    let free = Receiver::always(200).await;
    let limited_hook = add_webhook(store, "limited", &limited.url("/"), &["site_published"]).await;
    let free_hook = add_webhook(store, "free", &free.url("/"), &["payment_received"]).await;
    let limited_hook = store.webhook_set_max_rps(limited_hook.id, Some(5)).await.unwrap();
    assert_eq!(limited_hook.max_rps, Some(5));
    publish_n(store, "site_published", 15).await;
    publish_n(store, "payment_received", 40).await;

    // The production poll interval: the claimer must wake for each token by itself.
    let mut config = test_config("1s");
    config.poll_interval = Duration::from_secs(1);
    let worker = spawn(store, test_sender(), config);
    wait_until(DEADLINE, "the unlimited webhook's deliveries", || async {
        deliveries_in(store, &free_hook, "succeeded").await == 40
    })
    .await;
    let limited_so_far = limited.count();
    wait_until(DEADLINE, "the limited webhook's deliveries", || async {
        deliveries_in(store, &limited_hook, "succeeded").await == 15
    })
    .await;
    worker.stop().await;

    assert!(limited_so_far < 15, "the unlimited webhook did not wait for the limited one ({limited_so_far} of 15 done)");
    let at = arrivals(&limited);
    assert_eq!(at.len(), 15, "each delivery sent once");
    for pair in at.windows(2) {
        assert!(gap(pair[0], pair[1]) >= Duration::from_millis(150), "requests {:?} apart at max_rps 5", gap(pair[0], pair[1]));
    }
    assert!(gap(at[0], at[14]) >= Duration::from_millis(14 * 190), "15 requests at 5 per second take about 2.8 s");
    assert!(
        gap(at[0], at[14]) <= Duration::from_millis(14 * 400),
        "15 requests at 5 per second take about 2.8 s, not {:?}: the limit is a ceiling, not a crawl",
        gap(at[0], at[14])
    );
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.attempts WHERE webhook_id = $1")
        .bind(limited_hook.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 15, "nothing counted as an attempt beyond the requests");
}

/// A 429 with `Retry-After: 2` pauses claims for that webhook for 2 s (its other queued
/// deliveries wait too, though due), while another webhook's deliveries go on; then everything
/// is delivered, the 429'd one on its retry.
#[tokio::test]
async fn a_429_pauses_only_its_own_webhook() {
    let db = TestDb::new().await;
    let store = &db.store;
    let busy = Receiver::sequence(vec![Reply::status(429).header("retry-after", "2"), Reply::status(200)]).await;
    let free = Receiver::always(200).await;
    let busy_hook = add_webhook(store, "busy", &busy.url("/"), &["site_published"]).await;
    let free_hook = add_webhook(store, "free", &free.url("/"), &["payment_received"]).await;
    publish_n(store, "site_published", 5).await;

    let mut config = test_config("1s");
    config.per_webhook_concurrency = 1;
    let worker = spawn(store, test_sender(), config);
    wait_until(DEADLINE, "the 429", || async { busy.count() >= 1 }).await;
    publish_n(store, "payment_received", 20).await;
    wait_until(DEADLINE, "the busy webhook's deliveries", || async {
        deliveries_in(store, &busy_hook, "succeeded").await == 5
    })
    .await;
    wait_until(DEADLINE, "the free webhook's deliveries", || async {
        deliveries_in(store, &free_hook, "succeeded").await == 20
    })
    .await;
    worker.stop().await;

    let at = arrivals(&busy);
    assert_eq!(at.len(), 6, "five deliveries, one of them twice");
    assert!(gap(at[0], at[1]) >= Duration::from_millis(1900), "the next request came {:?} after the 429", gap(at[0], at[1]));
    let free_at = arrivals(&free);
    assert!(*free_at.last().unwrap() < at[1], "the other webhook's 20 went out during the pause");
}

/// `max_rps` through the API and the CLI: 1 to 10000, refused otherwise naming the field; PATCH
/// with `null` removes it, leaving it out keeps it; `--max-rps off` removes it.
#[tokio::test]
async fn max_rps_is_set_validated_and_removed_through_the_api_and_the_cli() {
    let db = TestDb::new().await;
    let admin = hookd_testkit::api::spawn(&db, TOKEN).await;
    let url = |path: &str| admin.url(path);
    let new = |max_rps: Value| json!({ "name": "n", "url": "https://example.com/h", "event": "payment_received", "max_rps": max_rps });
    for bad in [json!(0), json!(-3), json!(10_001), json!(2.5), json!("ten")] {
        let (status, body) = api(reqwest::Method::POST, url("/api/webhooks"), Some(new(bad.clone()))).await;
        assert_eq!((status, body["field"].clone()), (422, json!("max_rps")), "{bad}: {body}");
    }
    let (status, created) = api(reqwest::Method::POST, url("/api/webhooks"), Some(new(json!(20)))).await;
    assert_eq!((status, created["max_rps"].clone()), (201, json!(20)), "{created}");
    let id: Uuid = created["id"].as_str().unwrap().parse().unwrap();
    let path = url(&format!("/api/webhooks/{id}"));
    let (_, kept) = api(reqwest::Method::PATCH, path.clone(), Some(json!({ "name": "renamed" }))).await;
    assert_eq!(kept["max_rps"], 20, "left out: kept");
    let (status, refused) = api(reqwest::Method::PATCH, path.clone(), Some(json!({ "max_rps": 10_001, "name": "not applied" }))).await;
    assert_eq!((status, refused["field"].clone()), (422, json!("max_rps")));
    let (_, changed) = api(reqwest::Method::PATCH, path.clone(), Some(json!({ "max_rps": 10_000 }))).await;
    assert_eq!((changed["max_rps"].clone(), changed["name"].clone()), (json!(10_000), json!("renamed")));
    let (_, removed) = api(reqwest::Method::PATCH, path, Some(json!({ "max_rps": null }))).await;
    assert!(removed["max_rps"].is_null(), "{removed}");
    admin.stop().await;

    let refused = hookd(&db, &["webhook", "add", "--name", "c", "--url", "https://example.com/c", "--event", "payment_received", "--max-rps", "0"]).await;
    assert_ne!(refused.code, Some(0));
    assert!(refused.stderr.contains("max_rps"), "{refused:#?}");
    let added = hookd(&db, &["webhook", "add", "--name", "c", "--url", "https://example.com/c", "--event", "payment_received", "--max-rps", "7", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(added["max_rps"], 7);
    let id = added["id"].as_str().unwrap().to_owned();
    let shown = hookd(&db, &["webhook", "show", &id]).await.ok();
    assert!(shown.stdout.contains("max rps:         7"), "{shown:#?}");
    let updated = hookd(&db, &["webhook", "update", &id, "--max-rps", "off", "--json"]).await.ok().json();
    assert!(updated["max_rps"].is_null(), "{updated}");
}
