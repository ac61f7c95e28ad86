//! Leases at the store level: fencing, crash-loop bounds, and the per-webhook limit that keeps one
//! slow receiver from taking every slot.

use std::time::Duration;

use chrono::Utc;
use hookd_store::attempt::AttemptRecord;
use hookd_store::delivery::{Finish, NextState, WebhookSlots};
use hookd_store::webhook::Webhook;
use hookd_testkit::worker::{spawn, test_config, test_sender_with};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::json;
use uuid::Uuid;

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

/// Publishes `n` events of `event_type` and fans them out: one due delivery each per subscriber.
async fn queue(store: &hookd_store::Store, event_type: &str, n: usize) {
    let events: Vec<(String, serde_json::Value)> = (0..n).map(|i| (event_type.to_owned(), json!({ "n": i }))).collect();
    store.outbox_publish_many(&events).await.unwrap();
    while store.outbox_fan_out_batch(1000).await.unwrap().events > 0 {}
}

/// Two webhooks with a backlog each: `first` deliveries for the first, then `second` for the other.
async fn two_backlogs(store: &hookd_store::Store, first: usize, second: usize) -> (Webhook, Webhook) {
    let one = add_webhook(store, "one", "http://127.0.0.1:9/", &["site_published"]).await;
    let two = add_webhook(store, "two", "http://127.0.0.1:9/", &["payment_received"]).await;
    queue(store, "site_published", first).await;
    queue(store, "payment_received", second).await;
    (one, two)
}

/// A claim by worker "w" of up to `limit` deliveries on a 60 s lease, at most `per_webhook` of
/// each webhook's less what `in_flight` says the worker already sends to it.
async fn claim(
    store: &hookd_store::Store,
    limit: i64,
    per_webhook: i64,
    in_flight: &[(Uuid, i64)],
) -> Vec<hookd_store::delivery::ClaimedDelivery> {
    let slots = WebhookSlots { per_webhook, in_flight };
    store.delivery_claim_batch("w", limit, Duration::from_secs(60), &slots).await.unwrap()
}

fn per_webhook(claimed: &[hookd_store::delivery::ClaimedDelivery], webhook: &Webhook) -> usize {
    claimed.iter().filter(|d| d.webhook_id == webhook.id).count()
}

/// A webhook one request short of its limit, with far more due deliveries at the head of the
/// queue than one claim looks at, gets its one row; the claim still finds another webhook's
/// deliveries queued behind that backlog. (Before, such a webhook's rows filled every claim's view
/// of the queue, and the other webhook waited until the backlog was shorter than that view.)
#[tokio::test]
async fn a_nearly_full_webhook_with_a_deep_backlog_does_not_hide_other_webhooks() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (crowded, other) = two_backlogs(store, 600, 5).await;

    let in_flight = [(crowded.id, 127)];
    let claimed = claim(store, 100, 128, &in_flight).await;
    assert_eq!(per_webhook(&claimed, &crowded), 1, "the crowded webhook gets its one free slot");
    assert_eq!(per_webhook(&claimed, &other), 5, "the other webhook's deliveries behind the backlog are claimed");
    assert_eq!(deliveries_in(store, &crowded, "pending").await, 599, "nothing else of the crowded webhook is leased");
}

/// A webhook this worker already sends to gets exactly its free slots, its oldest deliveries
/// first; one it does not send to yet gets at most the per-webhook limit.
#[tokio::test]
async fn a_claim_takes_each_webhooks_free_slots_oldest_first() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (busy, idle) = two_backlogs(store, 300, 300).await;
    let oldest: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM hookd.deliveries WHERE webhook_id = $1 ORDER BY next_attempt_at, id LIMIT 28",
    )
    .bind(busy.id)
    .fetch_all(store.pool())
    .await
    .unwrap();

    let in_flight = [(busy.id, 100)];
    let claimed = claim(store, 256, 128, &in_flight).await;
    let mut busy_claimed: Vec<i64> = claimed.iter().filter(|d| d.webhook_id == busy.id).map(|d| d.id).collect();
    busy_claimed.sort_unstable();
    assert_eq!(busy_claimed, oldest, "the busy webhook's 28 free slots take its 28 oldest deliveries");
    assert_eq!(per_webhook(&claimed, &idle), 128, "the idle webhook takes up to the per-webhook limit");

    let full = [(busy.id, 128), (idle.id, 128)];
    let claimed = claim(store, 256, 128, &full).await;
    assert!(claimed.is_empty(), "no free slot, no claim: got {}", claimed.len());
}

/// Two claimers at once, for the same busy webhook, take different deliveries: each claim locks
/// the rows it reads and passes over those the other holds.
#[tokio::test]
async fn concurrent_claims_for_one_webhook_take_different_deliveries() {
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    queue(store, "payment_received", 400).await;

    let in_flight = [(webhook.id, 1)];
    let slots = WebhookSlots { per_webhook: 128, in_flight: &in_flight };
    let claims = (0..4).map(|n| {
        let store = store.clone();
        async move { store.delivery_claim_batch(&format!("w{n}"), 100, Duration::from_secs(60), &slots).await.unwrap() }
    });
    let claimed: Vec<i64> = futures::future::join_all(claims).await.into_iter().flatten().map(|d| d.id).collect();
    let distinct: std::collections::HashSet<i64> = claimed.iter().copied().collect();
    assert_eq!(distinct.len(), claimed.len(), "no delivery leased twice");
    assert_eq!(deliveries_in(store, &webhook, "running").await, claimed.len() as i64);
    assert_eq!(claimed.len(), 400, "each claim passes over rows another holds and takes the next ones");
}

/// Four claims at once over webhooks this worker sends nothing to yet take successive rows of
/// the queue: none comes back empty because another claim is reading the same rows.
#[tokio::test]
async fn concurrent_claims_over_idle_webhooks_take_successive_rows() {
    let db = TestDb::new().await;
    let store = &db.store;
    for n in 0..8 {
        add_webhook(store, &format!("w{n}"), "http://127.0.0.1:9/", &["payment_received"]).await;
    }
    queue(store, "payment_received", 100).await;

    let claims = (0..4).map(|n| {
        let store = store.clone();
        async move {
            let slots = WebhookSlots { per_webhook: 128, in_flight: &[] };
            store.delivery_claim_batch(&format!("w{n}"), 100, Duration::from_secs(60), &slots).await.unwrap().len()
        }
    });
    let sizes = futures::future::join_all(claims).await;
    assert_eq!(sizes, vec![100; 4], "each claim takes a full batch of its own");
}

/// Busy webhooks share a claim: ten of them, each with a backlog and free slots, get one
/// delivery each from a claim of ten, although one webhook's rows are all older than the others'.
/// (Each takes at most its share, so a claim over many busy webhooks locks about a batch of rows,
/// not a batch for each of them.)
#[tokio::test]
async fn busy_webhooks_share_a_claim() {
    let db = TestDb::new().await;
    let store = &db.store;
    let mut webhooks = Vec::new();
    for n in 0..10 {
        webhooks.push(add_webhook(store, &format!("w{n}"), "http://127.0.0.1:9/", &["payment_received"]).await);
    }
    queue(store, "payment_received", 20).await;
    // The first webhook's rows all fall due before anyone else's.
    sqlx::query(
        "UPDATE hookd.deliveries d SET next_attempt_at = now() - interval '1 hour'
             + (SELECT count(*) FROM hookd.webhooks w WHERE w.created_at < (SELECT created_at FROM hookd.webhooks WHERE id = d.webhook_id)) * interval '1 minute'
             + d.id * interval '1 ms'",
    )
    .execute(store.pool())
    .await
    .unwrap();

    let in_flight: Vec<(uuid::Uuid, i64)> = webhooks.iter().map(|w| (w.id, 1)).collect();
    let claimed = claim(store, 10, 128, &in_flight).await;
    for webhook in &webhooks {
        assert_eq!(per_webhook(&claimed, webhook), 1, "webhook {} gets its share", webhook.name);
    }
}

/// Behind a saturated webhook's backlog that fills the head of the queue, among 200 webhooks
/// whose only deliveries are retries due in an hour, each with 50 of them, a webhook with due
/// deliveries is found by every claim: the walk past the head passes over webhooks with nothing
/// due, and their rows, inside the index, without counting them against the 32 it looks for.
#[tokio::test]
async fn a_due_webhook_is_found_among_many_with_nothing_due() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (saturated, due) = two_backlogs(store, 600, 5).await;
    sqlx::query(
        "WITH waiting AS (
             INSERT INTO hookd.webhooks (name, url, events, secret)
             SELECT 'waiting ' || n, 'http://127.0.0.1:9/', '{payment_received}', 'unused' FROM generate_series(1, 200) n
             RETURNING id
         )
         INSERT INTO hookd.deliveries (event_id, webhook_id, next_attempt_at)
         SELECT gen_random_uuid(), id, now() + interval '1 hour' FROM waiting, generate_series(1, 50)",
    )
    .execute(store.pool())
    .await
    .unwrap();

    let full = [(saturated.id, 128)];
    for round in 0..5 {
        let claimed = claim(store, 100, 128, &full).await;
        if round == 0 {
            assert_eq!(per_webhook(&claimed, &due), 5, "the first claim finds the due webhook");
        }
        assert!(claimed.iter().all(|d| d.webhook_id == due.id), "nothing else is due");
    }
    assert_eq!(deliveries_in(store, &due, "running").await, 5);
}

/// When a held-back webhook's rows fill most of the head, the few other rows there do not cut the
/// claim short: it looks past the head for the rest of the batch.
#[tokio::test]
async fn a_head_mostly_held_back_still_yields_a_full_claim() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (held_back, other) = two_backlogs(store, 350, 200).await;

    let full = [(held_back.id, 128)];
    let claimed = claim(store, 100, 128, &full).await;
    assert_eq!(per_webhook(&claimed, &other), 100, "a full batch of the other webhook's deliveries");
}

/// The walk past the head (`hookd.webhooks_with_due_deliveries`) visits webhooks with a due
/// delivery in id order from just after its start, wraps round to the ids at or before the start,
/// stops at the number asked for, and passes over a webhook whose deliveries are all due later.
#[tokio::test]
async fn the_walk_visits_due_webhooks_in_id_order_and_wraps_round() {
    let db = TestDb::new().await;
    let store = &db.store;
    let ids: Vec<Uuid> = (1..=5u128).map(|n| Uuid::from_u128(n << 64)).collect();
    sqlx::query(
        "WITH added AS (
             INSERT INTO hookd.webhooks (id, name, url, events, secret)
             SELECT id, 'walked ' || id, 'http://127.0.0.1:9/', '{payment_received}', 'unused' FROM unnest($1::uuid[]) id
             RETURNING id
         )
         INSERT INTO hookd.deliveries (event_id, webhook_id, next_attempt_at)
         SELECT gen_random_uuid(), id, CASE WHEN id = $2 THEN now() + interval '1 hour' ELSE now() END FROM added",
    )
    .bind(&ids)
    .bind(ids[2])
    .execute(store.pool())
    .await
    .unwrap();
    let walk = |start: Uuid, most: i32| async move {
        sqlx::query_scalar::<_, Uuid>("SELECT * FROM hookd.webhooks_with_due_deliveries($1, $2)")
            .bind(start)
            .bind(most)
            .fetch_all(store.pool())
            .await
            .unwrap()
    };

    assert_eq!(walk(ids[1], 32).await, [ids[3], ids[4], ids[0], ids[1]], "after the start, then round to it");
    assert_eq!(walk(ids[1], 2).await, [ids[3], ids[4]], "no more than asked");
    assert_eq!(walk(ids[2], 32).await, [ids[3], ids[4], ids[0], ids[1]], "a start with nothing due is passed over too");
    assert_eq!(walk(Uuid::nil(), 32).await, [ids[0], ids[1], ids[3], ids[4]]);
    assert_eq!(walk(Uuid::max(), 32).await, [ids[0], ids[1], ids[3], ids[4]], "nothing after the start: all from the lowest");
}

/// An idle webhook whose backlog fills the head can give only `per_webhook` rows to a claim; the
/// claim looks past the head for the rest, instead of coming back short claim after claim while
/// the webhook behind waits.
#[tokio::test]
async fn a_head_filled_by_one_idle_webhook_still_finds_the_next() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (crowded, behind) = two_backlogs(store, 1000, 50).await;

    let claimed = claim(store, 100, 4, &[]).await;
    assert_eq!(per_webhook(&claimed, &crowded), 4, "the crowded webhook gets its limit");
    assert_eq!(per_webhook(&claimed, &behind), 4, "the webhook behind its backlog gets its limit too");
}

/// The walk past the head runs only when the busy webhooks and the head fall short: a claim that
/// finds a batch of idle webhooks' rows at the head does not call it, nor one whose busy webhook
/// gives a batch from its own rows; one whose head is all a full webhook's does (counted by the
/// server's function statistics, which this test's sessions turn on).
#[tokio::test]
async fn the_walk_runs_only_when_the_head_falls_short() {
    let db = TestDb::new().await;
    let (first, _second) = two_backlogs(&db.store, 1000, 500).await;
    sqlx::query(&format!("ALTER DATABASE \"{}\" SET track_functions = 'pl'", db.name)).execute(db.store.pool()).await.unwrap();
    let counted = hookd_store::Store::connect(&db.url, 1).await.unwrap();
    let walks = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_user_functions WHERE funcname = 'webhooks_with_due_deliveries'",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap()
    };

    let claimed = claim(&counted, 100, 128, &[]).await;
    assert_eq!(per_webhook(&claimed, &first), 100, "the head gave the whole batch");

    let some = [(first.id, 0)];
    let claimed = claim(&counted, 100, 128, &some).await;
    assert_eq!(per_webhook(&claimed, &first), 100, "the busy webhook's own rows gave the whole batch");

    let full = [(first.id, 128)];
    claim(&counted, 100, 128, &full).await;
    // The one session behind `counted` reports its statistics when it next goes idle.
    sqlx::query("SELECT pg_stat_force_next_flush()").execute(counted.pool()).await.unwrap();
    wait_until(DEADLINE, "the claim's session reports its function calls", || async { walks().await >= 1 }).await;
    assert_eq!(walks().await, 1, "only the claim whose head was all the busy webhook's walked");
    counted.pool().close().await;
}

/// One idle webhook's rows first in the head do not take the places of another's behind them: the
/// head gives each idle webhook at most its limit, and the rest of the batch to the next.
#[tokio::test]
async fn an_idle_webhook_first_in_the_head_leaves_room_for_the_next() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (first, next) = two_backlogs(store, 600, 300).await;

    let claimed = claim(store, 256, 128, &[]).await;
    assert_eq!(per_webhook(&claimed, &first), 128, "the first webhook gets its limit");
    assert_eq!(per_webhook(&claimed, &next), 128, "the next webhook gets the rest of the batch");
}
