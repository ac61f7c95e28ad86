//! Leases at the store level: fencing, crash-loop bounds, and the per-webhook limit that keeps one
//! slow receiver from taking every slot.

use std::time::Duration;

use chrono::Utc;
use hookd_store::attempt::AttemptRecord;
use hookd_store::delivery::{Finish, NextState, WebhookSlots};
use hookd_testkit::worker::{spawn, test_config, test_sender_with};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::json;

use crate::common::{add_webhook, deliveries_in, DEADLINE};

fn attempt_for(claim: &hookd_store::delivery::ClaimedDelivery, status: i32) -> AttemptRecord {
    AttemptRecord {
        delivery_id: Some(claim.id),
        event_id: claim.event_id,
        event_type: claim.event_type.clone(),
        webhook_id: Some(claim.webhook_id),
        url: claim.url.clone(),
        attempt: claim.attempt,
        started_at: Utc::now(),
        duration_ms: 1,
        status_code: Some(status),
        error: None,
        error_detail: None,
        response_headers: json!({}),
        response_body: Vec::new(),
        body_truncated: false,
        worker: "test".into(),
        test: false,
    }
}

/// A worker whose lease was taken back cannot overwrite the newer holder's result: its finish is
/// reported stale and changes nothing, while its attempt still enters the audit.
#[tokio::test]
async fn a_finish_with_an_expired_lease_is_fenced_off() {
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    store.outbox_publish("payment_received", &json!({"n": 1})).await.unwrap();
    store.outbox_fan_out_batch(10).await.unwrap();

    let first = store.delivery_claim_batch("old", 10, Duration::ZERO, &WebhookSlots::UNLIMITED).await.unwrap().remove(0);
    let rescued = store.delivery_rescue_expired(Duration::from_secs(60), 8).await.unwrap();
    assert_eq!(rescued.requeued, 1, "the expired lease is taken back");
    let second = store.delivery_claim_batch("new", 10, Duration::from_secs(60), &WebhookSlots::UNLIMITED).await.unwrap().remove(0);
    assert_ne!(first.lease_token, second.lease_token);

    let late = Finish { delivery_id: first.id, lease_token: first.lease_token, next: NextState::Failed, attempt: attempt_for(&first, 500) };
    assert_eq!(store.delivery_finish_many(&[late], None).await.unwrap(), vec![first.id], "the late finish is stale");
    assert_eq!(deliveries_in(store, &webhook, "running").await, 1, "the newer lease still holds the delivery");

    let current = Finish { delivery_id: second.id, lease_token: second.lease_token, next: NextState::Succeeded, attempt: attempt_for(&second, 200) };
    assert!(store.delivery_finish_many(&[current], None).await.unwrap().is_empty());
    assert_eq!(deliveries_in(store, &webhook, "succeeded").await, 1);
    let attempts: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.attempts").fetch_one(store.pool()).await.unwrap();
    assert_eq!(attempts, 2, "both attempts happened and both are in the audit");
}

/// A delivery whose worker dies on every claim ends as failed once it has used the schedule's
/// attempts, instead of crashing workers forever.
#[tokio::test]
async fn a_delivery_that_keeps_losing_its_worker_ends_failed() {
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    store.outbox_publish("payment_received", &json!({"n": 1})).await.unwrap();
    store.outbox_fan_out_batch(10).await.unwrap();

    let max_attempts = 3;
    for claim in 1..=max_attempts {
        let claimed = store.delivery_claim_batch("doomed", 10, Duration::ZERO, &WebhookSlots::UNLIMITED).await.unwrap();
        assert_eq!(claimed.len(), 1, "claim {claim} finds the delivery");
        store.delivery_rescue_expired(Duration::from_secs(60), max_attempts).await.unwrap();
    }
    assert_eq!(deliveries_in(store, &webhook, "failed").await, 1);
    assert!(store.delivery_claim_batch("doomed", 10, Duration::ZERO, &WebhookSlots::UNLIMITED).await.unwrap().is_empty());
    let last_error: Option<String> = sqlx::query_scalar("SELECT last_error FROM hookd.delivery_log").fetch_one(store.pool()).await.unwrap();
    assert_eq!(last_error.as_deref(), Some("lease_expired"));
}

/// With one slot per webhook, a receiver that takes two seconds per request gets its requests
/// one at a time, and a healthy webhook's twenty events are all delivered while the slow one is
/// still working through its five.
#[tokio::test]
async fn a_slow_webhook_cannot_take_every_slot() {
    let db = TestDb::new().await;
    let store = &db.store;
    let slow_delay = Duration::from_secs(2);
    let slow = Receiver::scripted(move |_, _| Reply::status(200).delay(slow_delay)).await;
    let fast = Receiver::always(200).await;
    let slow_hook = add_webhook(store, "slow", &slow.url("/"), &["site_published"]).await;
    let fast_hook = add_webhook(store, "fast", &fast.url("/"), &["payment_received"]).await;
    let mut events: Vec<(String, serde_json::Value)> = (0..5).map(|i| ("site_published".into(), json!({"i": i}))).collect();
    events.extend((0..20).map(|i| ("payment_received".to_string(), json!({"i": i}))));
    store.outbox_publish_many(&events).await.unwrap();

    let mut config = test_config("1s");
    config.concurrency = 4;
    config.per_webhook_concurrency = 1;
    let worker = spawn(store, test_sender_with(|c| c.request_timeout = Duration::from_secs(10)), config);
    wait_until(DEADLINE, "the fast webhook's events are delivered", || async {
        deliveries_in(store, &fast_hook, "succeeded").await == 20
    })
    .await;
    let slow_done = deliveries_in(store, &slow_hook, "succeeded").await;
    assert!(slow_done < 5, "the fast webhook did not wait for the slow one ({slow_done} of 5 slow done)");
    wait_until(DEADLINE, "the slow webhook's events are delivered", || async {
        deliveries_in(store, &slow_hook, "succeeded").await == 5
    })
    .await;
    worker.stop().await;

    let mut arrivals: Vec<_> = slow.received().iter().map(|r| r.at).collect();
    arrivals.sort();
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]).unwrap();
        assert!(gap >= slow_delay - Duration::from_millis(100), "requests to the slow webhook overlapped: {gap:?} apart");
    }
}
