//! `hookd bench --target`: the benchmark delivering to a receiver it did not start (here a test
//! receiver on loopback, standing in for one an operator runs elsewhere).

use std::collections::HashSet;

use hookd_testkit::{Receiver, TestDb};

use crate::common::{hookd_command, run_command};

/// A quick drain to an outside receiver: every event of the backlog reaches it exactly once per
/// `webhook-id`, and the JSON report counts them all, timed from hookd's attempt log.
#[tokio::test]
async fn bench_delivers_a_drain_to_an_outside_target() {
    let db = TestDb::new().await;
    let receiver = Receiver::always(200).await;
    let json = std::env::temp_dir().join(format!("hookd-bench-{}.json", uuid::Uuid::new_v4().simple()));
    let target = receiver.url("/outside");
    let json_arg = json.to_string_lossy().into_owned();
    let out = run_command(hookd_command(
        &db,
        &["bench", "--quick", "--scenario", "drain", "--events", "300", "--target", &target, "--json", &json_arg],
    ))
    .await
    .ok();

    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).expect("the JSON report is written")).unwrap();
    std::fs::remove_file(&json).ok();
    assert_eq!(report[0]["scenario"], "drain", "{out:#?}");
    assert_eq!(report[0]["deliveries"], 300, "{report:#}");
    assert!(report[0]["deliveries_per_second"].as_f64().unwrap() > 0.0, "{report:#}");
    let received = receiver.received();
    assert!(received.iter().all(|r| r.path == "/outside"), "every request went to the target");
    let ids: HashSet<String> = received.iter().filter_map(|r| r.header("webhook-id").map(str::to_owned)).collect();
    assert_eq!(ids.len(), 300, "each of the 300 events reached the target");
    assert!(out.stdout.contains("drain"), "the table is printed: {out:#?}");
}

/// Scenarios that script a misbehaving receiver cannot run against an outside one: refused up
/// front with the scenario named, before anything is published.
#[tokio::test]
async fn bench_refuses_scripted_scenarios_with_a_target() {
    let db = TestDb::new().await;
    let receiver = Receiver::always(200).await;
    let out = run_command(hookd_command(
        &db,
        &["bench", "--quick", "--scenario", "isolation", "--target", &receiver.url("/outside")],
    ))
    .await;
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(out.stderr.contains("--target cannot run isolation"), "{out:#?}");
    assert_eq!(receiver.count(), 0);
}

/// A run finding its scratch database in use (another run, or workers that outlived one) stops
/// with the reason instead of dropping it under them.
#[tokio::test]
async fn bench_refuses_a_scratch_database_in_use() {
    let db = TestDb::new().await;
    let scratch = format!("{}_bench", db.url);
    let other_run = hookd_store::Store::connect(&scratch, 1).await.unwrap();
    sqlx::query("SELECT 1").execute(other_run.pool()).await.unwrap();

    let out = run_command(hookd_command(&db, &["bench", "--quick", "--scenario", "drain"])).await;
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(out.stderr.contains("connected to the benchmark's scratch database"), "{out:#?}");
    assert!(sqlx::query("SELECT 1").execute(other_run.pool()).await.is_ok(), "the database in use was left alone");
    other_run.pool().close().await;
    hookd_store::Store::drop_database(&scratch).await.unwrap();
}
