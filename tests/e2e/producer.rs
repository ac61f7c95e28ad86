//! The producer's contract: plain SQL into `hookd.outbox`. A bad row fails its own INSERT with a
//! message naming the problem; the event id is the idempotency key; the catalog is open to SQL.

use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, TestDb};
use serde_json::{json, Value};
use sqlx::postgres::PgDatabaseError;
use uuid::Uuid;

use crate::common::{add_webhook, deliveries_in, DEADLINE};

/// Inserts one row the way a producer does; `payload` is bound as text and cast, so SQL NULL and
/// any JSON value can be written.
async fn insert(db: &TestDb, event_type: &str, payload: Option<&str>) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar("INSERT INTO hookd.outbox (event_type, payload) VALUES ($1, $2::jsonb) RETURNING event_id")
        .bind(event_type)
        .bind(payload)
        .fetch_one(db.store.pool())
        .await
}

/// The database's refusal: (SQLSTATE, message, column).
fn refusal(result: Result<Uuid, sqlx::Error>) -> (String, String, Option<String>) {
    let err = result.expect_err("the INSERT must be refused");
    let pg = err
        .as_database_error()
        .unwrap_or_else(|| panic!("expected a database error, got {err:?}"))
        .downcast_ref::<PgDatabaseError>();
    (pg.code().to_owned(), pg.message().to_owned(), pg.column().map(str::to_owned))
}

async fn outbox_ids(db: &TestDb) -> Vec<Uuid> {
    sqlx::query_scalar("SELECT event_id FROM hookd.outbox ORDER BY id").fetch_all(db.store.pool()).await.unwrap()
}

/// A payload that is not a JSON object (array, string, number, JSON null, SQL NULL), an
/// event_type missing from the catalog, and a payload over max_payload_bytes each fail their own
/// INSERT with a message and SQLSTATE naming the problem; good rows inserted before, between and
/// after them are all kept, and nothing else reaches the outbox.
#[tokio::test]
async fn bad_rows_fail_their_own_insert_with_the_reason_and_lose_nothing_else() {
    let db = TestDb::with_payload_limit(1024).await;
    let mut good = vec![insert(&db, "payment_received", Some(r#"{"payment_id": 1}"#)).await.unwrap()];

    for (payload, kind) in [
        (Some("[1, 2]"), "array"),
        (Some(r#""just a string""#), "string"),
        (Some("42"), "number"),
        (Some("null"), "null"),
        (None, "NULL"),
    ] {
        let (code, message, column) = refusal(insert(&db, "payment_received", payload).await);
        assert!(message.contains("payload must be a JSON object"), "{payload:?}: {message}");
        assert!(message.ends_with(&format!("got {kind}")), "the message names what was sent: {message}");
        assert_eq!(code, "23514", "check_violation for {payload:?}");
        assert_eq!(column.as_deref(), Some("payload"));
        // A separate good INSERT right after still succeeds.
        good.push(insert(&db, "site_published", Some(r#"{"site_id": 3}"#)).await.unwrap());
    }

    let (code, message, column) = refusal(insert(&db, "no_such_event", Some("{}")).await);
    assert!(message.contains("no_such_event") && message.contains("not in the catalog"), "{message}");
    assert_eq!(code, "23503", "foreign_key_violation");
    assert_eq!(column.as_deref(), Some("event_type"));
    good.push(insert(&db, "payment_received", Some(r#"{"payment_id": 2}"#)).await.unwrap());

    let big = json!({ "blob": "x".repeat(2048) }).to_string();
    let (code, message, column) = refusal(insert(&db, "payment_received", Some(&big)).await);
    assert!(message.contains("larger than the limit") && message.contains("1024"), "{message}");
    assert_eq!(code, "54000", "program_limit_exceeded");
    assert_eq!(column.as_deref(), Some("payload"));
    // Just under the limit is fine: the limit is the configured one, not some other bound.
    let fits = json!({ "blob": "x".repeat(1000) }).to_string();
    good.push(insert(&db, "payment_received", Some(&fits)).await.unwrap());

    assert_eq!(outbox_ids(&db).await, good, "the outbox holds exactly the good rows, in order");
}

/// The event id is the idempotency key: a second row with the same explicit event_id fails with
/// a unique violation, and `ON CONFLICT (event_id) DO NOTHING` inserts nothing and keeps the first
/// row's payload.
#[tokio::test]
async fn an_explicit_event_id_is_an_idempotency_key() {
    let db = TestDb::new().await;
    let pool = db.store.pool();
    let event_id = Uuid::new_v4();
    let publish = |payload: &'static str| {
        sqlx::query("INSERT INTO hookd.outbox (event_id, event_type, payload) VALUES ($1, 'payment_received', $2::jsonb)")
            .bind(event_id)
            .bind(payload)
            .execute(pool)
    };
    assert_eq!(publish(r#"{"payment_id": 1}"#).await.unwrap().rows_affected(), 1);

    let err = publish(r#"{"payment_id": 2}"#).await.expect_err("a duplicate event_id is refused");
    let db_err = err.as_database_error().expect("a database error");
    assert!(db_err.is_unique_violation(), "{db_err:?}");
    assert_eq!(db_err.constraint(), Some("outbox_event_id_key"));

    let again = sqlx::query(
        "INSERT INTO hookd.outbox (event_id, event_type, payload) VALUES ($1, 'payment_received', '{\"payment_id\": 3}')
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .execute(pool)
    .await
    .unwrap();
    assert_eq!(again.rows_affected(), 0, "the retried publish inserts nothing");

    let rows: Vec<(Uuid, Value)> = sqlx::query_as("SELECT event_id, payload FROM hookd.outbox").fetch_all(pool).await.unwrap();
    assert_eq!(rows, vec![(event_id, json!({"payment_id": 1}))], "one row, the first one");
}

/// An event type added to the catalog with plain SQL can be published at once (it was refused
/// before), subscribed to, and is delivered with its slug in `hookd-event-type`.
#[tokio::test]
async fn a_custom_event_type_added_with_sql_can_be_published_and_delivered() {
    let db = TestDb::new().await;
    let store = &db.store;
    let (_, before, _) = refusal(insert(&db, "order_shipped", Some(r#"{"order_id": 1}"#)).await);
    assert!(before.contains("not in the catalog"), "{before}");

    sqlx::query("INSERT INTO hookd.event_types (slug, name) VALUES ('order_shipped', 'Order shipped')")
        .execute(store.pool())
        .await
        .unwrap();
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "shipping", &receiver.url("/ship"), &["order_shipped"]).await;
    let event_id = insert(&db, "order_shipped", Some(r#"{"order_id": 1}"#)).await.expect("now in the catalog");

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the order_shipped delivery succeeded", || async {
        deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;
    worker.stop().await;

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("hookd-event-type"), Some("order_shipped"));
    assert_eq!(got[0].header("webhook-id"), Some(event_id.to_string().as_str()));
    assert_eq!(serde_json::from_slice::<Value>(&got[0].body).unwrap(), json!({"order_id": 1}));
}

/// The event ids the outbox makes are UUIDv7: version 7, their first 48 bits the insert's time in
/// milliseconds, so ids made later sort later (which keeps every index by event id growing at its
/// right edge). Rows are inserted one statement at a time until the clock has moved on a few
/// milliseconds, so the order is checked across distinct times.
#[tokio::test]
async fn generated_event_ids_are_time_ordered_uuid_v7() {
    let db = TestDb::new().await;
    let millis = |id: &Uuid| {
        let b = id.as_bytes();
        u64::from_be_bytes([0, 0, b[0], b[1], b[2], b[3], b[4], b[5]])
    };
    let mut made: Vec<(Uuid, u64)> = Vec::new();
    let deadline = std::time::Instant::now() + DEADLINE;
    while made.iter().map(|(id, _)| millis(id)).collect::<std::collections::HashSet<_>>().len() < 3 {
        assert!(std::time::Instant::now() < deadline, "the clock did not move on 3 ms within the deadline");
        let (id, created_ms): (Uuid, i64) = sqlx::query_as(
            "INSERT INTO hookd.outbox (event_type, payload) VALUES ('payment_received', '{}')
             RETURNING event_id, floor(extract(epoch FROM created_at) * 1000)::bigint",
        )
        .fetch_one(db.store.pool())
        .await
        .unwrap();
        made.push((id, created_ms as u64));
    }
    for (id, created_ms) in &made {
        assert_eq!(id.get_version_num(), 7, "{id} is not a UUIDv7");
        assert_eq!(id.get_variant(), uuid::Variant::RFC4122, "{id}");
        let at = millis(id);
        assert!((*created_ms..created_ms + 1_000).contains(&at), "{id} carries {at} ms, its row was created at {created_ms} ms");
    }
    let in_insert_order: Vec<u64> = outbox_ids(&db).await.iter().map(millis).collect();
    assert!(in_insert_order.windows(2).all(|w| w[0] <= w[1]), "ids made later sort earlier: {in_insert_order:?}");
}
