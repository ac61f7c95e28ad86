//! The hot queries use the indexes they were built for: checked with EXPLAIN on a queue of a
//! realistic shape (many finished deliveries, a backlog pending), not assumed.

use hookd_testkit::TestDb;

use crate::common::add_webhook;

/// With 20,000 deliveries waiting for a retry later and 2,000 due now, the claim reads the partial
/// index `deliveries_due` (pending rows, by when they are due) instead of scanning the table.
#[tokio::test]
async fn the_claim_reads_the_due_index() {
    let db = TestDb::new().await;
    let store = &db.store;
    let webhook = add_webhook(store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    sqlx::query(
        "INSERT INTO hookd.deliveries (event_id, webhook_id, next_attempt_at)
         SELECT gen_random_uuid(), $1, CASE WHEN n <= 20000 THEN now() + interval '1 hour' ELSE now() END
         FROM generate_series(1, 22000) AS n",
    )
    .bind(webhook.id)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("ANALYZE hookd.deliveries").execute(store.pool()).await.unwrap();

    let plan = store.delivery_claim_plan().await.unwrap();
    eprintln!("{plan}");
    assert!(plan.contains("deliveries_due"), "the claim should read deliveries_due:\n{plan}");
    assert!(!plan.contains("Seq Scan on deliveries"), "no full scan of the deliveries table:\n{plan}");
}
