//! Retries: a failed attempt comes back by the schedule with the same id and body and a fresh
//! signature, until it is delivered or the schedule runs out; `Retry-After` pushes a retry later;
//! a terminal 4xx stops at once; a replay puts a failed delivery back with a fresh schedule.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use hookd_store::delivery::ReplaySelector;
use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::json;

use crate::common::{add_webhook, attempts_for, deliveries_in, delivery_for, DEADLINE};

/// A receiver that answers 500 until `healed` is set, then 200.
async fn healable_receiver() -> (Receiver, Arc<AtomicBool>) {
    let healed = Arc::new(AtomicBool::new(false));
    let flag = healed.clone();
    let receiver =
        Receiver::scripted(move |_, _| Reply::status(if flag.load(Ordering::SeqCst) { 200 } else { 500 })).await;
    (receiver, healed)
}

fn timestamp(r: &hookd_testkit::receiver::Received) -> i64 {
    r.header("webhook-timestamp").expect("webhook-timestamp sent").parse().expect("a unix timestamp")
}

/// 500, 500, then 200 under "1s,1s": exactly three requests carrying the same `webhook-id` and
/// byte-identical bodies, each signed afresh for its own timestamp (verified independently with
/// the secret), numbered 1, 2, 3; the audit has three rows (500, 500, 200), the delivery ends
/// succeeded after 3 attempts, and the webhook counts one event and remembers the failures.
#[tokio::test]
async fn failed_attempts_are_retried_with_the_same_id_and_body_and_a_fresh_signature() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::sequence(vec![Reply::status(500), Reply::status(500), Reply::status(200)]).await;
    let webhook = add_webhook(store, "flaky", &receiver.url("/hook"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 42})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s,1s"));
    wait_until(DEADLINE, "the delivery succeeded", || async { deliveries_in(store, &webhook, "succeeded").await == 1 })
        .await;
    worker.stop().await;

    let got = receiver.received();
    assert_eq!(got.len(), 3, "two failures and one success: exactly three requests");
    let verifier = standardwebhooks::Webhook::new(&webhook.secret).expect("the secret is a standard one");
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.header("webhook-id"), Some(event_id.to_string().as_str()), "attempt {} keeps the event id", i + 1);
        assert_eq!(r.body, got[0].body, "attempt {} sends byte-identical body", i + 1);
        assert_eq!(r.header("hookd-attempt"), Some((i + 1).to_string().as_str()));
        verifier
            .verify(&r.body, &r.headers)
            .unwrap_or_else(|e| panic!("attempt {} does not verify against its own timestamp: {e}", i + 1));
    }
    let stamps: Vec<i64> = got.iter().map(timestamp).collect();
    let signatures: Vec<&str> = got.iter().map(|r| r.header("webhook-signature").unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "timestamps never go backwards: {stamps:?}");
    for i in 0..got.len() {
        for j in i + 1..got.len() {
            assert_eq!(
                stamps[i] == stamps[j],
                signatures[i] == signatures[j],
                "attempts {} and {}: the signature changes exactly when the timestamp does",
                i + 1,
                j + 1
            );
        }
    }
    // Attempts 1 and 3 are at least 2 x 0.8 s apart, so they are in different seconds.
    assert!(stamps[0] < stamps[2], "the retries are spread over time: {stamps:?}");
    // The last signature is bound to its own timestamp: moved onto the first one, it fails.
    let mut moved = got[2].headers.clone();
    moved.insert("webhook-timestamp", HeaderValue::from_str(&stamps[0].to_string()).unwrap());
    assert!(verifier.verify(&got[2].body, &moved).is_err(), "a signature is not valid for another timestamp");

    assert_eq!(
        attempts_for(store, event_id, &webhook).await,
        vec![(1, Some(500), None), (2, Some(500), None), (3, Some(200), None)],
        "the audit records every attempt with its number and status"
    );
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!(delivery.state, "succeeded");
    assert_eq!(delivery.attempts, 3);
    assert_eq!(delivery.last_status, Some(200));
    assert!(delivery.finished_at.is_some());
    let webhook = store.webhook_get(webhook.id).await.unwrap();
    assert!(webhook.last_failed_at.is_some(), "the failed attempts are remembered on the webhook");
    assert_eq!(webhook.event_count, 1, "one event delivered, however many attempts it took");
}

/// Deliveries still pending or running: the hot table.
async fn live_deliveries(store: &hookd_store::Store) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM hookd.deliveries").fetch_one(store.pool()).await.unwrap()
}

/// Always 500 under "1s,1s": exactly three attempts, then the delivery is failed and is not sent
/// again; it has left the hot table for `hookd.deliveries_finished`. Replaying that webhook's
/// failures (once the receiver is healthy) moves it back and sends it once more as attempt 4, and
/// it succeeds; the other webhook's failed delivery of the same event is left alone,
/// and a replay limited to failures since a future instant replays nothing.
#[tokio::test]
async fn an_exhausted_delivery_fails_and_a_webhook_replay_delivers_it() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (receiver, healed) = healable_receiver().await;
    let (other_receiver, _never) = healable_receiver().await;
    let webhook = add_webhook(store, "down", &receiver.url("/hook"), &["payment_received"]).await;
    let other = add_webhook(store, "also down", &other_receiver.url("/hook"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 5})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s,1s"));
    wait_until(DEADLINE, "both deliveries failed", || async {
        deliveries_in(store, &webhook, "failed").await == 1 && deliveries_in(store, &other, "failed").await == 1
    })
    .await;
    assert_eq!(receiver.count(), 3, "the schedule allows three attempts, no more");
    assert_eq!(other_receiver.count(), 3);
    let failed = delivery_for(store, event_id, &webhook).await;
    assert_eq!((failed.state.as_str(), failed.attempts, failed.last_status), ("failed", 3, Some(500)));
    assert_eq!(live_deliveries(store).await, 0, "finished deliveries leave the hot table");
    let archived: String = sqlx::query_scalar("SELECT state FROM hookd.deliveries_finished WHERE id = $1")
        .bind(failed.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(archived, "failed");
    assert_eq!(
        attempts_for(store, event_id, &webhook).await,
        vec![(1, Some(500), None), (2, Some(500), None), (3, Some(500), None)]
    );

    let later = chrono::Utc::now() + chrono::TimeDelta::hours(1);
    let none = store.delivery_replay(&ReplaySelector::Webhook { id: webhook.id, since: Some(later) }).await.unwrap();
    assert_eq!(none, 0, "nothing failed after an instant still to come");
    healed.store(true, Ordering::SeqCst);
    let replayed = store.delivery_replay(&ReplaySelector::Webhook { id: webhook.id, since: None }).await.unwrap();
    assert_eq!(replayed, 1, "only this webhook's failed delivery is replayed");
    wait_until(DEADLINE, "the replayed delivery succeeded", || async {
        deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;
    worker.stop().await;

    let got = receiver.received();
    assert_eq!(got.len(), 4, "one more request after the replay");
    assert_eq!(got[3].header("webhook-id"), Some(event_id.to_string().as_str()));
    assert_eq!(got[3].header("hookd-attempt"), Some("4"), "attempt numbers continue after a replay");
    assert_eq!(got[3].body, got[0].body);
    let delivered = delivery_for(store, event_id, &webhook).await;
    assert_eq!((delivered.state.as_str(), delivered.attempts, delivered.last_status), ("succeeded", 4, Some(200)));
    assert_eq!(delivered.id, failed.id, "a replayed delivery keeps its id");
    assert_eq!(live_deliveries(store).await, 0);
    assert_eq!(attempts_for(store, event_id, &webhook).await.last(), Some(&(4, Some(200), None)));
    assert_eq!(store.webhook_get(webhook.id).await.unwrap().event_count, 1);
    let untouched = delivery_for(store, event_id, &other).await;
    assert_eq!((untouched.state.as_str(), untouched.attempts), ("failed", 3), "the other webhook was not replayed");
    assert_eq!(other_receiver.count(), 3);
}

/// Replaying one event's failed delivery sends that event again, as attempt 4, and it succeeds;
/// another event failed to the same webhook stays failed.
#[tokio::test]
async fn an_event_replay_delivers_only_that_event() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (receiver, healed) = healable_receiver().await;
    let webhook = add_webhook(store, "down", &receiver.url("/hook"), &["payment_received"]).await;
    let replayed_event = store.outbox_publish("payment_received", &json!({"payment_id": 1})).await.unwrap();
    let left_event = store.outbox_publish("payment_received", &json!({"payment_id": 2})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s,1s"));
    wait_until(DEADLINE, "both deliveries failed", || async { deliveries_in(store, &webhook, "failed").await == 2 })
        .await;
    assert_eq!(receiver.count(), 6, "three attempts for each of the two events");

    healed.store(true, Ordering::SeqCst);
    let replayed = store.delivery_replay(&ReplaySelector::Event(replayed_event)).await.unwrap();
    assert_eq!(replayed, 1);
    wait_until(DEADLINE, "the replayed delivery succeeded", || async {
        deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;
    worker.stop().await;

    let got = receiver.received();
    assert_eq!(got.len(), 7, "one more request after the replay");
    assert_eq!(got[6].header("webhook-id"), Some(replayed_event.to_string().as_str()));
    assert_eq!(got[6].header("hookd-attempt"), Some("4"));
    let delivered = delivery_for(store, replayed_event, &webhook).await;
    assert_eq!((delivered.state.as_str(), delivered.attempts), ("succeeded", 4));
    let attempts: Vec<i32> = attempts_for(store, replayed_event, &webhook).await.iter().map(|a| a.0).collect();
    assert_eq!(attempts, vec![1, 2, 3, 4]);
    let left = delivery_for(store, left_event, &webhook).await;
    assert_eq!((left.state.as_str(), left.attempts), ("failed", 3), "the other event was not replayed");
}

/// A 429 or 503 with `Retry-After: 3` under "1s,10s" is retried no sooner than 3 s later (the
/// schedule alone says about 1 s), and well before the schedule's 10 s cap.
#[tokio::test]
async fn retry_after_pushes_the_retry_later_than_the_schedule() {
    let db = TestDb::new().await;
    let store = &db.store;
    let mut cases = Vec::new();
    for status in [429i32, 503] {
        let receiver =
            Receiver::sequence(vec![Reply::status(status as u16).header("retry-after", "3"), Reply::status(200)]).await;
        let webhook = add_webhook(store, &format!("busy {status}"), &receiver.url("/"), &["payment_received"]).await;
        cases.push((status, receiver, webhook));
    }
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 3})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s,10s"));
    for (_, _, webhook) in &cases {
        wait_until(DEADLINE, "the delivery succeeded", || async {
            deliveries_in(store, webhook, "succeeded").await == 1
        })
        .await;
    }
    worker.stop().await;

    for (status, receiver, webhook) in &cases {
        let got = receiver.received();
        assert_eq!(got.len(), 2, "{status}: one refusal, one success");
        let gap = got[1].at.duration_since(got[0].at).expect("the retry comes after the first attempt");
        assert!(gap >= Duration::from_millis(2900), "{status}: retried after {gap:?}, before Retry-After's 3 s");
        assert!(gap < Duration::from_secs(8), "{status}: retried after {gap:?}: Retry-After is 3 s, not the cap");
        assert_eq!(attempts_for(store, event_id, webhook).await, vec![(1, Some(*status), None), (2, Some(200), None)]);
    }
}

/// A terminal 4xx (400, 404, 410, 422) is attempted exactly once, even with retries left in the
/// schedule, and the delivery is failed.
#[tokio::test]
async fn a_terminal_4xx_fails_after_one_attempt() {
    let db = TestDb::new().await;
    let store = &db.store;
    let mut cases = Vec::new();
    for status in [400i32, 404, 410, 422] {
        let receiver = Receiver::always(status as u16).await;
        let webhook = add_webhook(store, &format!("rejects {status}"), &receiver.url("/"), &["payment_received"]).await;
        cases.push((status, receiver, webhook));
    }
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 4})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s,1s"));
    for (_, _, webhook) in &cases {
        wait_until(DEADLINE, "the delivery failed", || async { deliveries_in(store, webhook, "failed").await == 1 })
            .await;
    }
    worker.stop().await;

    for (status, receiver, webhook) in &cases {
        assert_eq!(receiver.count(), 1, "{status} is not retried");
        let delivery = delivery_for(store, event_id, webhook).await;
        assert_eq!((delivery.state.as_str(), delivery.attempts, delivery.last_status), ("failed", 1, Some(*status)));
        assert_eq!(attempts_for(store, event_id, webhook).await, vec![(1, Some(*status), None)]);
        assert!(store.webhook_get(webhook.id).await.unwrap().last_failed_at.is_some());
    }
}

/// README: "an inactive webhook receives nothing". Replaying the failed deliveries of a webhook
/// that has since been disabled must not send them to it: the receiver (now healthy) gets no
/// further request and the delivery does not become succeeded.
#[tokio::test]
async fn a_replay_does_not_send_to_a_disabled_webhook() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (receiver, healed) = healable_receiver().await;
    let webhook = add_webhook(store, "down then disabled", &receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 8})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config(""));
    wait_until(DEADLINE, "the delivery failed", || async { deliveries_in(store, &webhook, "failed").await == 1 }).await;
    assert_eq!(receiver.count(), 1);
    store.webhook_set_active(webhook.id, false, Some("test")).await.unwrap();
    healed.store(true, Ordering::SeqCst);
    store.delivery_replay(&ReplaySelector::Webhook { id: webhook.id, since: None }).await.unwrap();
    // Whatever the replay did, wait until the delivery is out of the queue again.
    wait_until(DEADLINE, "the delivery is neither pending nor running", || async {
        let state = delivery_for(store, event_id, &webhook).await.state;
        state != "pending" && state != "running"
    })
    .await;
    worker.stop().await;

    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!(receiver.count(), 1, "a disabled webhook received a replayed delivery");
    assert_ne!(delivery.state, "succeeded", "delivered to a disabled webhook");
    assert_eq!(store.webhook_get(webhook.id).await.unwrap().event_count, 0);
}

/// Replaying an event whose webhook has since been deleted delivers it to the webhooks that still
/// exist and leaves no delivery stuck in the queue: a `pending` row for a deleted webhook can never
/// be claimed (the claim joins the webhook) and would sit in the backlog forever.
#[tokio::test]
async fn an_event_replay_leaves_nothing_stuck_for_a_deleted_webhook() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (kept_receiver, healed) = healable_receiver().await;
    let (deleted_receiver, _never) = healable_receiver().await;
    let kept = add_webhook(store, "kept", &kept_receiver.url("/"), &["payment_received"]).await;
    let deleted = add_webhook(store, "deleted", &deleted_receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 10})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config(""));
    wait_until(DEADLINE, "both deliveries failed", || async {
        deliveries_in(store, &kept, "failed").await == 1 && deliveries_in(store, &deleted, "failed").await == 1
    })
    .await;
    store.webhook_delete(deleted.id).await.unwrap();
    healed.store(true, Ordering::SeqCst);
    store.delivery_replay(&ReplaySelector::Event(event_id)).await.unwrap();
    wait_until(DEADLINE, "the kept webhook's delivery succeeded", || async {
        deliveries_in(store, &kept, "succeeded").await == 1
    })
    .await;
    worker.stop().await;

    assert_eq!(kept_receiver.count(), 2);
    assert_eq!(deleted_receiver.count(), 1, "a deleted webhook receives nothing");
    let orphan = delivery_for(store, event_id, &deleted).await;
    assert_ne!(orphan.state, "pending", "a replayed delivery of a deleted webhook is stuck in the queue forever");
    let counts = store.delivery_counts().await.unwrap();
    assert!(!counts.iter().any(|(state, _)| state == "pending"), "nothing left pending: {counts:?}");
}
