//! The happy path: committed events reach exactly their subscribers, once.

use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, TestDb};
use serde_json::json;

use crate::common::{add_webhook, deliveries_in, DEADLINE};

/// A committed event reaches each of three subscribed webhooks once, and neither an unsubscribed
/// nor an inactive webhook; a rolled-back event is never sent; an event nobody subscribes to is
/// stamped as fanned out to zero webhooks and does not hold up the rest.
#[tokio::test]
async fn committed_events_reach_each_subscriber_once_and_nobody_else() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receivers = [Receiver::always(200).await, Receiver::always(204).await, Receiver::always(200).await];
    let mut subscribed = Vec::new();
    for (i, r) in receivers.iter().enumerate() {
        subscribed.push(add_webhook(store, &format!("sub{i}"), &r.url("/hook"), &["payment_received"]).await);
    }
    let other = Receiver::always(200).await;
    add_webhook(store, "other event", &other.url("/"), &["site_published"]).await;
    let inactive_receiver = Receiver::always(200).await;
    let inactive = add_webhook(store, "inactive", &inactive_receiver.url("/"), &["payment_received"]).await;
    store.webhook_set_active(inactive.id, false, Some("test")).await.unwrap();

    // A producer's rolled-back transaction.
    let mut tx = store.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO hookd.outbox (event_type, payload) VALUES ('payment_received', '{\"payment_id\": 0}')")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    // An event with no subscriber, then the real one, committed before any worker runs.
    sqlx::query("INSERT INTO hookd.outbox (event_type, payload) VALUES ('domain_created', '{\"domain\": \"x.example\"}')")
        .execute(store.pool())
        .await
        .unwrap();
    let event_id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO hookd.outbox (event_type, payload) VALUES ('payment_received', '{\"payment_id\": 7}') RETURNING event_id",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    for webhook in &subscribed {
        wait_until(DEADLINE, "each subscriber's delivery succeeded", || async {
            deliveries_in(store, webhook, "succeeded").await == 1
        })
        .await;
    }
    let orphan_count: Option<i32> =
        sqlx::query_scalar("SELECT webhook_count FROM hookd.outbox WHERE event_type = 'domain_created'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    worker.stop().await;

    for r in &receivers {
        let got = r.received();
        assert_eq!(got.len(), 1, "each subscriber gets the event exactly once");
        assert_eq!(got[0].header("webhook-id"), Some(event_id.to_string().as_str()));
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&got[0].body).unwrap(), json!({"payment_id": 7}));
        assert_eq!(got[0].header("content-type"), Some("application/json"));
        assert_eq!(got[0].header("hookd-event-type"), Some("payment_received"));
        assert!(got[0].header("user-agent").unwrap().starts_with("hookd/"));
    }
    assert_eq!(other.count(), 0, "an unsubscribed webhook receives nothing");
    assert_eq!(inactive_receiver.count(), 0, "an inactive webhook receives nothing");
    assert_eq!(orphan_count, Some(0), "an event without subscribers is recorded as fanned out to none");
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.outbox").fetch_one(store.pool()).await.unwrap();
    assert_eq!(total, 2, "the rolled-back row never existed");
    let counted = store.webhook_get(subscribed[0].id).await.unwrap();
    assert_eq!(counted.event_count, 1, "event_count counts successful deliveries");
    assert!(counted.last_failed_at.is_none());
}
