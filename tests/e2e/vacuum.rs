//! The hot tables are vacuumed by hookd when the dead rows pile up, and analyzed when their rows
//! have changed as much as autovacuum waits for (for servers whose autovacuum is off): checked on
//! real tables with real dead and new rows.

use std::time::Duration;

use hookd_store::vacuum::Upkeep;
use hookd_testkit::{wait_until, TestDb};

use crate::common::add_webhook;

async fn dead_rows(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT pg_stat_get_dead_tuples('hookd.deliveries'::regclass)")
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn dead_deliveries_past_the_threshold_are_vacuumed_away() {
    let db = TestDb::new().await;
    let webhook = add_webhook(&db.store, "w", "http://127.0.0.1:9/", &["payment_received"]).await;
    let mut conn = db.store.pool().acquire().await.unwrap();
    sqlx::query(
        "INSERT INTO hookd.deliveries (event_id, webhook_id)
         SELECT gen_random_uuid(), $1 FROM generate_series(1, 30000)",
    )
    .bind(webhook.id)
    .execute(&mut *conn)
    .await
    .unwrap();
    // Statistics reach the shared counters when a session goes idle; force it for this one.
    sqlx::query("SELECT pg_stat_force_next_flush()").execute(&mut *conn).await.unwrap();
    sqlx::query("DELETE FROM hookd.deliveries").execute(&mut *conn).await.unwrap();
    drop(conn);
    wait_until(Duration::from_secs(30), "the 30,000 deleted rows count as dead", || async { dead_rows(&db).await >= 30_000 }).await;

    assert_eq!(
        db.store.hot_tables_upkeep(50_000, Duration::ZERO).await.unwrap(),
        vec![("hookd.deliveries", Upkeep::Analyzed)],
        "below the dead-row threshold the changed table is only analyzed"
    );
    assert!(dead_rows(&db).await >= 30_000, "an analyze leaves the dead rows");
    assert_eq!(
        db.store.hot_tables_upkeep(20_000, Duration::from_secs(3600)).await.unwrap(),
        vec![("hookd.deliveries", Upkeep::Vacuumed)]
    );
    assert_eq!(dead_rows(&db).await, 0, "the vacuum removed the dead rows");
    let analyzes: i64 = sqlx::query_scalar("SELECT pg_stat_get_analyze_count('hookd.deliveries'::regclass)")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(analyzes, 1, "analyzed a moment ago, so the vacuum did not analyze again");
    let vacuums: i64 = sqlx::query_scalar("SELECT pg_stat_get_vacuum_count('hookd.deliveries'::regclass)")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(vacuums, 1);
}

/// Only a table's owner can vacuum it: a role that merely may write the tables is told so up
/// front instead of vacuuming in vain every few seconds.
#[tokio::test]
async fn only_the_tables_owner_counts_as_able_to_vacuum_them() {
    let db = TestDb::new().await;
    assert!(db.store.hot_tables_vacuumable().await.unwrap(), "the migrating role owns the tables");

    let role = format!("hookd_runtime_{}", uuid::Uuid::new_v4().simple());
    for sql in [
        format!("CREATE ROLE {role} LOGIN"),
        format!("GRANT USAGE ON SCHEMA hookd TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA hookd TO {role}"),
    ] {
        sqlx::query(&sql).execute(db.store.pool()).await.unwrap();
    }
    let mut url = url::Url::parse(&db.url).unwrap();
    url.set_username(&role).unwrap();
    let runtime = hookd_store::Store::connect(url.as_str(), 1).await.unwrap();
    let vacuumable = runtime.hot_tables_vacuumable().await.unwrap();
    runtime.pool().close().await;
    sqlx::query(&format!("DROP OWNED BY {role}")).execute(db.store.pool()).await.unwrap();
    sqlx::query(&format!("DROP ROLE {role}")).execute(db.store.pool()).await.unwrap();
    assert!(!vacuumable, "a role that does not own the tables cannot vacuum them");
}

async fn outbox_rows_changed_since_analyze(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT pg_stat_get_mod_since_analyze('hookd.outbox'::regclass)")
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// Inserts `rows` events into the outbox and waits until the statistics count them.
async fn publish_counted(db: &TestDb, rows: i64) {
    let before = outbox_rows_changed_since_analyze(db).await;
    let mut conn = db.store.pool().acquire().await.unwrap();
    sqlx::query("INSERT INTO hookd.outbox (event_type, payload) SELECT 'payment_received', '{}' FROM generate_series(1, $1)")
        .bind(rows)
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("SELECT pg_stat_force_next_flush()").execute(&mut *conn).await.unwrap();
    drop(conn);
    wait_until(Duration::from_secs(30), "the new outbox rows are counted", || async {
        outbox_rows_changed_since_analyze(db).await >= before + rows
    })
    .await;
}

/// An outbox that grew since its last analyze is analyzed once it changed by more than
/// autovacuum's threshold (50 rows plus 2 % of the table, 0008's scale factor), so claims are
/// planned for its real size; a smaller change waits, and so does a table analyzed less than the
/// interval ago.
#[tokio::test]
async fn a_grown_table_is_analyzed_once_its_row_count_is_stale() {
    let db = TestDb::new().await;
    let planned_rows = || async {
        sqlx::query_scalar::<_, f32>("SELECT reltuples FROM pg_class WHERE oid = 'hookd.outbox'::regclass")
            .fetch_one(db.store.pool())
            .await
            .unwrap()
    };
    publish_counted(&db, 1_000).await;
    assert_eq!(db.store.hot_tables_upkeep(i64::MAX, Duration::ZERO).await.unwrap(), vec![("hookd.outbox", Upkeep::Analyzed)]);
    assert_eq!(planned_rows().await, 1_000.0, "the planner now counts the outbox's rows");
    assert_eq!(db.store.hot_tables_upkeep(i64::MAX, Duration::ZERO).await.unwrap(), vec![], "nothing changed since");

    publish_counted(&db, 60).await;
    assert_eq!(db.store.hot_tables_upkeep(i64::MAX, Duration::ZERO).await.unwrap(), vec![], "60 rows are under 50 + 2 % of 1,000");
    publish_counted(&db, 20).await;
    assert_eq!(
        db.store.hot_tables_upkeep(i64::MAX, Duration::from_secs(3600)).await.unwrap(),
        vec![],
        "changed enough, but analyzed less than the interval ago"
    );
    assert_eq!(db.store.hot_tables_upkeep(i64::MAX, Duration::ZERO).await.unwrap(), vec![("hookd.outbox", Upkeep::Analyzed)]);
    assert_eq!(planned_rows().await, 1_080.0);
}
