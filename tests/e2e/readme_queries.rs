//! README.md's example SQL runs and answers: its queries are part of the contract.

use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, TestDb};
use serde_json::json;
use sqlx::Row;

use crate::common::{add_webhook, deliveries_in, DEADLINE};

/// The ```sql blocks of README's "Querying attempts" section.
fn readme_queries() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Querying attempts").nth(1).unwrap().split("\n## ").next().unwrap();
    section.split("```sql\n").skip(1).map(|block| block.split("```").next().unwrap().to_owned()).collect()
}

/// The three example queries (last failures of a webhook, every attempt of an event, p95 per
/// webhook today) and the state count run against a real attempt history and return its rows.
#[tokio::test]
async fn the_readme_queries_answer_their_questions() {
    let db = TestDb::new().await;
    let store = &db.store;
    let failing = Receiver::always(500).await;
    let ok = Receiver::always(200).await;
    let bad_hook = add_webhook(store, "failing", &failing.url("/"), &["payment_received"]).await;
    let good_hook = add_webhook(store, "ok", &ok.url("/"), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 1})).await.unwrap();
    let worker = spawn(store, test_sender(), test_config(""));
    wait_until(DEADLINE, "both deliveries finished", || async {
        deliveries_in(store, &bad_hook, "failed").await == 1 && deliveries_in(store, &good_hook, "succeeded").await == 1
    })
    .await;
    worker.stop().await;

    let queries = readme_queries();
    assert_eq!(queries.len(), 4, "README shows three attempt queries and the state count");
    let run = |sql: &str| {
        let sql = sql.replace(":'webhook_id'", &format!("'{}'", bad_hook.id)).replace(":'event_id'", &format!("'{event_id}'"));
        async move { sqlx::query(&sql).fetch_all(store.pool()).await.unwrap() }
    };
    let failures = run(&queries[0]).await;
    assert_eq!(failures.len(), 1, "one failed attempt of the failing webhook");
    assert_eq!(failures[0].get::<Option<i32>, _>("status_code"), Some(500));
    let per_event = run(&queries[1]).await;
    assert_eq!(per_event.len(), 2, "the event was attempted once per webhook");
    let p95 = run(&queries[2]).await;
    let names: Vec<String> = p95.iter().map(|r| r.get("webhook_name")).collect();
    assert!(names.contains(&"failing".to_string()) && names.contains(&"ok".to_string()), "{names:?}");
    let states = run(&queries[3]).await;
    assert_eq!(states.len(), 2, "failed and succeeded");
}
