//! Whatever a receiver answers, or fails to, is recorded faithfully and decided correctly: odd
//! bodies are kept byte for byte (capped), redirects are not followed, hangs time out, and a
//! closed port is a connect error.

use std::time::Duration;

use hookd_store::webhook::Webhook;
use hookd_store::Store;
use hookd_testkit::worker::{spawn, test_config, test_sender, test_sender_with};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::json;

use crate::common::{add_webhook, attempts_for, deliveries_in, delivery_for, DEADLINE};

/// The response cap hookd is configured with by default (`SenderConfig::max_response_body`).
const CAP: usize = 64 * 1024;

/// A recorded attempt, as stored in `hookd.attempts`.
#[derive(Debug, sqlx::FromRow)]
struct Stored {
    status_code: Option<i32>,
    error: Option<String>,
    error_detail: Option<String>,
    response_body: Option<Vec<u8>>,
    body_truncated: bool,
    duration_ms: i32,
}

async fn stored_attempts(store: &Store, webhook: &Webhook) -> Vec<Stored> {
    sqlx::query_as(
        "SELECT status_code, error, error_detail, response_body, body_truncated, duration_ms
         FROM hookd.attempts WHERE webhook_id = $1 ORDER BY id",
    )
    .bind(webhook.id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// 200 answers whose bodies are invalid UTF-8, or contain NUL bytes, are recorded byte for byte
/// (not lossily converted), not truncated; the deliveries succeed and the attempt log still reads.
#[tokio::test]
async fn binary_response_bodies_are_recorded_exactly() {
    let db = TestDb::new().await;
    let store = &db.store;
    let invalid_utf8: Vec<u8> = vec![0xff, 0xfe, b'o', b'k', 0xc3, 0x28, 0x80, b'\\', 0xed, 0xa0, 0x80];
    let with_nul: Vec<u8> = b"ok\0\0done\0\x01\x7f".to_vec();
    let mut cases = Vec::new();
    for (name, body) in [("invalid utf-8", invalid_utf8), ("nul", with_nul)] {
        let receiver = Receiver::sequence(vec![Reply::status(200).body(body.clone())]).await;
        let webhook = add_webhook(store, name, &receiver.url("/"), &["payment_received"]).await;
        cases.push((name, body, receiver, webhook));
    }
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 1})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    for (_, _, _, webhook) in &cases {
        wait_until(DEADLINE, "the delivery succeeded", || async {
            deliveries_in(store, webhook, "succeeded").await == 1
        })
        .await;
    }
    worker.stop().await;

    for (name, body, receiver, webhook) in &cases {
        assert_eq!(receiver.count(), 1, "{name}");
        let stored = stored_attempts(store, webhook).await;
        assert_eq!(stored.len(), 1, "{name}: one attempt recorded");
        assert_eq!(stored[0].response_body.as_deref(), Some(body.as_slice()), "{name}: the exact bytes are kept");
        assert!(!stored[0].body_truncated, "{name}");
        assert_eq!((stored[0].status_code, stored[0].error.as_deref()), (Some(200), None), "{name}");
        let log = store
            .attempt_log_after(
                0,
                &hookd_store::attempt::AttemptFilter { webhook_id: Some(webhook.id), ..Default::default() },
                10,
            )
            .await
            .expect("the attempt log reads whatever bytes were stored");
        assert_eq!(log.len(), 1, "{name}");
        assert!(log[0].succeeded && log[0].response_excerpt.is_some(), "{name}: {:?}", log[0]);
        assert_eq!(delivery_for(store, event_id, webhook).await.state, "succeeded");
    }
}

/// A 200 with a 10 MB body is recorded with exactly the first 64 KiB, flagged as truncated, and
/// the delivery succeeds.
#[tokio::test]
async fn a_huge_response_body_is_capped_and_flagged() {
    let db = TestDb::new().await;
    let store = &db.store;
    // Not one repeated byte, so a stored prefix that came from elsewhere in the body would show.
    let huge: Vec<u8> = (0..10 * 1024 * 1024).map(|i: usize| (i % 251) as u8).collect();
    let receiver = Receiver::sequence(vec![Reply::status(200).body(huge.clone())]).await;
    let webhook = add_webhook(store, "huge", &receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 2})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the delivery succeeded", || async { deliveries_in(store, &webhook, "succeeded").await == 1 })
        .await;
    worker.stop().await;

    let stored = stored_attempts(store, &webhook).await;
    assert_eq!(stored.len(), 1);
    let body = stored[0].response_body.as_deref().expect("a body is stored");
    assert_eq!(body.len(), CAP, "the stored body is exactly the cap");
    assert_eq!(body, &huge[..CAP], "the stored bytes are the start of the body");
    assert!(stored[0].body_truncated);
    assert_eq!((stored[0].status_code, stored[0].error.as_deref()), (Some(200), None));
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!((delivery.state.as_str(), delivery.attempts), ("succeeded", 1));
}

/// A 302 is not followed: each attempt is recorded with status 302, error `redirect` and the
/// `Location` in its detail, and the delivery is retried (twice under "1s") and ends failed, never
/// succeeded.
#[tokio::test]
async fn a_redirect_is_recorded_not_followed_and_retried() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::sequence(vec![Reply::status(302).header("location", "http://elsewhere.example/")]).await;
    let webhook = add_webhook(store, "moved", &receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 3})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the delivery failed", || async { deliveries_in(store, &webhook, "failed").await == 1 }).await;
    worker.stop().await;

    assert_eq!(receiver.count(), 2, "a redirect is retried like a 5xx, not given up on like a 4xx");
    let stored = stored_attempts(store, &webhook).await;
    assert_eq!(stored.len(), 2);
    for a in &stored {
        assert_eq!((a.status_code, a.error.as_deref()), (Some(302), Some("redirect")));
        let detail = a.error_detail.as_deref().expect("a redirect has a detail");
        assert!(detail.contains("http://elsewhere.example/"), "the detail names the location: {detail}");
    }
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!((delivery.state.as_str(), delivery.attempts), ("failed", 2));
    assert_eq!((delivery.last_status, delivery.last_error.as_deref()), (Some(302), Some("redirect")));
    assert_eq!(store.webhook_get(webhook.id).await.unwrap().event_count, 0, "a redirect is not a delivery");
}

/// A receiver that holds the answer longer than the 1 s request timeout is cut off at about 1 s
/// and recorded as error `timeout` with no status; with no retries left the delivery fails.
#[tokio::test]
async fn a_hanging_receiver_times_out() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::sequence(vec![Reply::status(200).delay(Duration::from_secs(10))]).await;
    let webhook = add_webhook(store, "hangs", &receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 4})).await.unwrap();

    let sender = test_sender_with(|c| c.request_timeout = Duration::from_secs(1));
    let worker = spawn(store, sender, test_config(""));
    wait_until(DEADLINE, "the delivery failed", || async { deliveries_in(store, &webhook, "failed").await == 1 }).await;
    worker.stop().await;

    assert_eq!(receiver.count(), 1, "the request did reach the receiver");
    let stored = stored_attempts(store, &webhook).await;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].status_code, stored[0].error.as_deref()), (None, Some("timeout")));
    assert!(
        (900..5000).contains(&stored[0].duration_ms),
        "cut off at the 1 s timeout, not after the receiver's 10 s: {} ms",
        stored[0].duration_ms
    );
    assert_eq!(attempts_for(store, event_id, &webhook).await, vec![(1, None, Some("timeout".into()))]);
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!((delivery.state.as_str(), delivery.last_error.as_deref()), ("failed", Some("timeout")));
}

/// A URL whose port nobody listens on is recorded as error `connect` with no status, and with no
/// retries left the delivery fails.
#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let db = TestDb::new().await;
    let store = &db.store;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let webhook = add_webhook(store, "closed", &format!("http://127.0.0.1:{port}/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 5})).await.unwrap();

    let worker = spawn(store, test_sender(), test_config(""));
    wait_until(DEADLINE, "the delivery failed", || async { deliveries_in(store, &webhook, "failed").await == 1 }).await;
    worker.stop().await;

    let stored = stored_attempts(store, &webhook).await;
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].status_code, stored[0].error.as_deref()), (None, Some("connect")), "{:?}", stored[0]);
    assert!(stored[0].error_detail.is_some(), "a connect error says why");
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!(
        (delivery.state.as_str(), delivery.attempts, delivery.last_error.as_deref()),
        ("failed", 1, Some("connect"))
    );
}

/// A 200 whose body does not arrive in full within the 1 s request timeout is recorded as error
/// `timeout` (the status kept), is not counted as delivered, and, a timeout being retryable
/// (README "Retries"), is retried: under "1s" two attempts, then failed.
#[tokio::test]
async fn a_200_whose_body_times_out_is_retried() {
    let db = TestDb::new().await;
    let store = &db.store;
    // Ten bytes, 300 ms apart: the body needs 3 s, the client allows 1 s in all.
    let receiver =
        Receiver::sequence(vec![Reply::status(200).body(b"0123456789".to_vec()).trickle(Duration::from_millis(300))])
            .await;
    let webhook = add_webhook(store, "slow body", &receiver.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 6})).await.unwrap();

    let sender = test_sender_with(|c| c.request_timeout = Duration::from_secs(1));
    let worker = spawn(store, sender, test_config("1s"));
    wait_until(DEADLINE, "the delivery finished", || async {
        deliveries_in(store, &webhook, "failed").await + deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;
    worker.stop().await;

    let stored = stored_attempts(store, &webhook).await;
    assert_eq!((stored[0].status_code, stored[0].error.as_deref()), (Some(200), Some("timeout")), "{:?}", stored[0]);
    let delivery = delivery_for(store, event_id, &webhook).await;
    assert_eq!(delivery.state, "failed", "an unfinished answer is not a delivery");
    assert_eq!(
        (receiver.count(), stored.len(), delivery.attempts),
        (2, 2, 2),
        "a timeout is retried by the schedule, not given up on after one attempt"
    );
}
