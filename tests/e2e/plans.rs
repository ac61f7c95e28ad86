//! The hot queries use the indexes they were built for: checked with EXPLAIN on a queue of a
//! realistic shape (a backlog pending, most of it due later), not assumed.

use hookd_testkit::TestDb;

use crate::common::add_webhook;

/// With 20,000 deliveries waiting for a retry later and 2,000 due now, the claim reads the partial
/// indexes `deliveries_due` (pending rows, by when they are due) and `deliveries_pending_by_webhook`
/// (a webhook's own pending rows, in the same order) instead of scanning the table, and locks the
/// rows it picked by id through the primary key. Both with the statistics of a table analyzed
/// while nearly empty (as when a fan-out has just filled it) and with fresh ones.
#[tokio::test]
async fn the_claim_reads_the_due_index() {
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    sqlx::query("ANALYZE hookd.deliveries").execute(store.pool()).await.unwrap();
    sqlx::query(
        "INSERT INTO hookd.deliveries (event_id, webhook_id, next_attempt_at)
         SELECT gen_random_uuid(), $1, CASE WHEN n <= 20000 THEN now() + interval '1 hour' ELSE now() END
         FROM generate_series(1, 22000) AS n",
    )
    .bind(webhook.id)
    .execute(store.pool())
    .await
    .unwrap();
    assert_claim_plan_uses_the_indexes(&store.delivery_claim_plan().await.unwrap());
    sqlx::query("ANALYZE hookd.deliveries").execute(store.pool()).await.unwrap();
    assert_claim_plan_uses_the_indexes(&store.delivery_claim_plan().await.unwrap());
}

fn assert_claim_plan_uses_the_indexes(plan: &str) {
    eprintln!("{plan}");
    assert!(plan.contains("deliveries_due"), "the claim should read deliveries_due:\n{plan}");
    assert!(
        plan.contains("using deliveries_pending_by_webhook"),
        "a busy webhook's rows come from its own index:\n{plan}"
    );
    assert!(!plan.contains("Seq Scan on deliveries"), "no full scan of the deliveries table:\n{plan}");
    let lines: Vec<&str> = plan.lines().collect();
    for (n, line) in lines.iter().enumerate().skip(1) {
        if line.contains("Index Cond: (id = ANY") {
            assert!(
                lines[n - 1].contains("using deliveries_pkey"),
                "rows picked by id are locked through the primary key, not by scanning another index:\n{plan}"
            );
        }
    }
    assert!(!plan.contains("Bitmap"), "a plain index scan, which marks delivered rows' entries dead:\n{plan}");
}

/// Every connection hookd opens turns bitmap scans off (see `Store::connect`): the planner picks
/// them for the claim and the fan-out once the queue is large, and they leave dead index entries
/// for every later claim to step over.
#[tokio::test]
async fn hookd_connections_do_not_plan_bitmap_scans() {
    let db = TestDb::new().await;
    let setting: String = sqlx::query_scalar("SHOW enable_bitmapscan").fetch_one(db.store.pool()).await.unwrap();
    assert_eq!(setting, "off");
}

/// Nor JIT compilation, whose threshold the claim's estimate passes with about a hundred busy
/// webhooks, where compiling takes longer than the claim.
#[tokio::test]
async fn hookd_connections_do_not_jit_compile() {
    let db = TestDb::new().await;
    let setting: String = sqlx::query_scalar("SHOW jit").fetch_one(db.store.pool()).await.unwrap();
    assert_eq!(setting, "off");
}

/// The benchmark's claim-latency probe runs the real claim on a real backlog and claims nothing:
/// it sees a full batch, and every delivery is still pending afterwards.
#[tokio::test]
async fn the_claim_probe_sees_a_full_batch_and_claims_nothing() {
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    let events: Vec<(String, serde_json::Value)> =
        (0..150).map(|n| ("payment_received".to_owned(), serde_json::json!({ "n": n }))).collect();
    store.outbox_publish_many(&events).await.unwrap();
    while store.outbox_fan_out_batch(1000).await.unwrap().events > 0 {}

    let (rows, _took) = store.delivery_claim_probe(100).await.unwrap();
    assert_eq!(rows, 100);
    assert_eq!(crate::common::deliveries_in(store, &webhook, "pending").await, 150);
}
