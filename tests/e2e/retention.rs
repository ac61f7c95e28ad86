//! Retention: the attempt history and the finished deliveries leave a day-partition at a time;
//! fanned-out events leave by age; nothing still in flight is touched.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use hookd_testkit::worker::test_config;
use hookd_testkit::TestDb;
use hookd_worker::cleaner::Cleaner;
use uuid::Uuid;

async fn count(db: &TestDb, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.store.pool()).await.unwrap()
}

/// Old attempt and finished-delivery partitions are dropped whole and new ones made ahead; an
/// event past retention is pruned, while an old delivery still pending (and its event) stay.
#[tokio::test]
async fn the_cleaner_drops_old_partitions_and_prunes_only_what_is_over() {
    let db = TestDb::new().await;
    let store = &db.store;
    let now = Utc::now();
    let old = now - TimeDelta::days(40);
    assert_eq!(store.history_partitions_ensure(old.date_naive(), 2).await.unwrap(), 4, "2 days of 2 tables");
    let insert_attempt = |at: chrono::DateTime<Utc>| {
        sqlx::query(
            "INSERT INTO hookd.attempts (event_id, event_type, url, attempt, started_at, duration_ms, status_code, worker)
             VALUES (gen_random_uuid(), 'payment_received', 'http://127.0.0.1:9/', 1, $1, 1, 200, 'test')",
        )
        .bind(at)
        .execute(store.pool())
    };
    insert_attempt(old).await.unwrap();
    insert_attempt(now).await.unwrap();

    // Two old events: one whose delivery finished, one whose delivery is still pending.
    let (done_event, waiting_event) = (Uuid::new_v4(), Uuid::new_v4());
    for event in [done_event, waiting_event] {
        sqlx::query("INSERT INTO hookd.outbox (event_id, event_type, payload) VALUES ($1, 'payment_received', '{}')")
            .bind(event)
            .execute(store.pool())
            .await
            .unwrap();
    }
    sqlx::query("UPDATE hookd.outbox SET created_at = $1, fanned_out_at = $1").bind(old).execute(store.pool()).await.unwrap();
    sqlx::query(
        "INSERT INTO hookd.deliveries_finished (id, event_id, webhook_id, state, attempts, attempt_base, next_attempt_at,
                                                created_at, updated_at, finished_at)
         VALUES (1, $1, gen_random_uuid(), 'succeeded', 1, 0, $2, $2, $2, $2)",
    )
    .bind(done_event)
    .bind(old)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("INSERT INTO hookd.deliveries (event_id, webhook_id, created_at) VALUES ($1, gen_random_uuid(), $2)")
        .bind(waiting_event)
        .bind(old)
        .execute(store.pool())
        .await
        .unwrap();
    let finished_in: String = sqlx::query_scalar("SELECT tableoid::regclass::text FROM hookd.deliveries_finished")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(finished_in, format!("hookd.deliveries_finished_{}", old.format("%Y%m%d")), "in its day's partition");

    let mut config = test_config("1s");
    config.retention = Duration::from_secs(30 * 24 * 3600);
    let cleaned = Cleaner::new(store.clone(), Arc::new(config)).run_once(now).await.unwrap();

    assert_eq!(cleaned.partitions_dropped, 4, "the old day-partitions of both tables go whole");
    for table in ["attempts", "deliveries_finished"] {
        for day in 0..3 {
            let name = format!("hookd.{table}_{}", (now + TimeDelta::days(day)).format("%Y%m%d"));
            let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(&name).fetch_one(store.pool()).await.unwrap();
            assert!(exists, "{name} is made ahead");
        }
    }
    assert_eq!(count(&db, "SELECT count(*) FROM hookd.attempts").await, 1, "only the recent attempt stays");
    assert_eq!(count(&db, "SELECT count(*) FROM hookd.deliveries_finished").await, 0, "the old finished delivery is gone");
    assert_eq!(count(&db, "SELECT count(*) FROM hookd.deliveries WHERE state = 'pending'").await, 1, "in flight stays");
    assert_eq!(cleaned.events_pruned, 1);
    let left: Vec<Uuid> = sqlx::query_scalar("SELECT event_id FROM hookd.outbox").fetch_all(store.pool()).await.unwrap();
    assert_eq!(left, vec![waiting_event], "an event with a delivery still pending stays");

    let again = Cleaner::new(store.clone(), Arc::new(test_config("1s"))).run_once(now).await.unwrap();
    assert_eq!(again.partitions_created, 0, "a second pass finds nothing to do");
}

/// New attempts land in today's partition, not the DEFAULT one; and a row the DEFAULT partition
/// caught (its day had no partition yet) moves into the day's partition when that is made.
#[tokio::test]
async fn attempts_land_in_their_day_partition() {
    let db = TestDb::new().await;
    let store = &db.store;
    let later = Utc::now() + TimeDelta::days(10);
    sqlx::query(
        "INSERT INTO hookd.attempts (event_id, event_type, url, attempt, started_at, duration_ms, worker)
         VALUES (gen_random_uuid(), 'payment_received', 'http://127.0.0.1:9/', 1, $1, 1, 'test')",
    )
    .bind(later)
    .execute(store.pool())
    .await
    .unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM hookd.attempts_default").await, 1);
    store.history_partitions_ensure(later.date_naive(), 1).await.unwrap();
    assert_eq!(count(&db, "SELECT count(*) FROM hookd.attempts_default").await, 0, "moved out of DEFAULT");
    sqlx::query("DELETE FROM hookd.attempts").execute(store.pool()).await.unwrap();
    Cleaner::new(store.clone(), Arc::new(test_config("1s"))).run_once(Utc::now()).await.unwrap();
    sqlx::query(
        "INSERT INTO hookd.attempts (event_id, event_type, url, attempt, started_at, duration_ms, worker)
         VALUES (gen_random_uuid(), 'payment_received', 'http://127.0.0.1:9/', 1, now(), 1, 'test')",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let partition: String = sqlx::query_scalar("SELECT tableoid::regclass::text FROM hookd.attempts")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(partition, format!("hookd.attempts_{}", Utc::now().format("%Y%m%d")));
}
