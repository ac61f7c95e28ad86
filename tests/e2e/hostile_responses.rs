//! Hostile receivers: one that trickles its answer a byte a second and one whose body never ends.
//! The whole-request timeout cuts the first (recorded as `timeout`, retried), the response cap
//! cuts the second (recorded with the body truncated at the cap), and while they hang the worker
//! keeps delivering to everyone else at full speed.

use std::time::Duration;

use hookd_testkit::worker::{spawn, test_config, test_sender_with};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::json;

use crate::common::{add_webhook, deliveries_in};

/// The response cap the sender uses (its default).
const CAP: usize = 64 * 1024;
/// The whole-request timeout for this test: long enough that a loaded machine delivers the fast
/// webhook's events well inside it, short enough to keep the test quick.
const TIMEOUT: Duration = Duration::from_secs(8);

#[derive(Debug, sqlx::FromRow)]
struct Stored {
    status_code: Option<i32>,
    error: Option<String>,
    body_truncated: bool,
    body_len: i32,
    duration_ms: i32,
}

async fn stored(store: &hookd_store::Store, webhook: &hookd_store::webhook::Webhook) -> Vec<Stored> {
    sqlx::query_as(
        "SELECT status_code, error, body_truncated, coalesce(octet_length(response_body), 0) AS body_len, duration_ms
         FROM hookd.attempts WHERE webhook_id = $1 ORDER BY id",
    )
    .bind(webhook.id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn trickling_and_endless_bodies_are_cut_while_other_webhooks_keep_flowing() {
    let db = TestDb::new().await;
    let store = &db.store;
    // 200 and the headers at once, then a byte a second of a 100-byte body.
    let trickling = Receiver::sequence(vec![Reply::status(200).body(vec![b'.'; 100]).trickle(Duration::from_secs(1))]).await;
    let endless = Receiver::sequence(vec![Reply::status(200).endless()]).await;
    let fast = Receiver::always(204).await;
    let trickle_hook = add_webhook(store, "trickle", &trickling.url("/"), &["payment_received"]).await;
    let endless_hook = add_webhook(store, "endless", &endless.url("/"), &["payment_received"]).await;
    let fast_hook = add_webhook(store, "fast", &fast.url("/"), &["*"]).await;

    // The hostile webhooks get 2 events each; the fast one those and 20 more.
    for i in 0..2 {
        store.outbox_publish("payment_received", &json!({"payment_id": i})).await.unwrap();
    }
    let sender = test_sender_with(|c| c.request_timeout = TIMEOUT);
    let config = hookd_worker::WorkerConfig { concurrency: 8, per_webhook_concurrency: 4, ..test_config("1s,1s") };
    let worker = spawn(store, sender, config);
    wait_until(Duration::from_secs(5), "the trickling receiver is answering", || async { trickling.count() == 2 }).await;
    for i in 0..20 {
        store.outbox_publish("site_published", &json!({"site_id": i})).await.unwrap();
    }
    wait_until(TIMEOUT, "the fast webhook's 22 deliveries succeeded", || async {
        deliveries_in(store, &fast_hook, "succeeded").await == 22
    })
    .await;
    assert!(
        stored(store, &trickle_hook).await.is_empty(),
        "the fast webhook was served while the trickling requests were still hanging"
    );

    // The endless body: cut at the cap, recorded, and (a 200) delivered.
    wait_until(TIMEOUT, "the endless webhook's attempts are recorded", || async {
        stored(store, &endless_hook).await.len() >= 2
    })
    .await;
    for attempt in stored(store, &endless_hook).await {
        assert_eq!((attempt.status_code, attempt.error.as_deref()), (Some(200), None), "{attempt:?}");
        assert!(attempt.body_truncated, "{attempt:?}");
        assert_eq!(attempt.body_len as usize, CAP, "{attempt:?}");
        assert!((attempt.duration_ms as u128) < TIMEOUT.as_millis(), "cut by the cap, not the timeout: {attempt:?}");
    }

    // The trickle: cut by the whole-request timeout although bytes kept coming; retried.
    wait_until(TIMEOUT * 2, "the trickling webhook's first attempts are recorded", || async {
        stored(store, &trickle_hook).await.len() >= 2
    })
    .await;
    for attempt in stored(store, &trickle_hook).await.iter().take(2) {
        assert_eq!((attempt.status_code, attempt.error.as_deref()), (Some(200), Some("timeout")), "{attempt:?}");
        assert!(attempt.body_len < 100, "only what arrived in time is kept: {attempt:?}");
        let ms = attempt.duration_ms as u128;
        assert!(ms + 500 >= TIMEOUT.as_millis() && ms < TIMEOUT.as_millis() + 5000, "cut at the timeout: {attempt:?}");
    }
    assert_eq!(deliveries_in(store, &trickle_hook, "succeeded").await, 0, "a 200 cut off mid-body is not delivered");
    worker.stop().await;
}
