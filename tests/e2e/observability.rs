//! `GET /healthz`, `/readyz` and `/metrics`: on `hookd serve` as a process without an admin token
//! (served alone, no `/api/`), and in-process beside the API with a token (no auth on them, the API
//! still behind it).

use std::time::Duration;

use hookd_api::{AdminToken, ApiState, HealthState};
use hookd_core::target::TargetPolicy;
use hookd_testkit::worker::test_sender;
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::common::{add_webhook, deliveries_in, HookdProcess, DEADLINE};

/// A loopback port nothing listens on right now (bound to port 0, read, released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback").local_addr().expect("bound").port()
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, String) {
    let response = http.get(url).send().await.unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body read"))
}

/// The value of the sample `series` (name with its labels, exactly as rendered) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Deliveries to a 200 and a 500 receiver show in the metrics; the process is healthy and ready;
/// then a receiver that hangs (one request at a time per webhook) leaves a delivery due and
/// unclaimed past `ready_max_due_age`, and readiness fails naming the queue. Without a token,
/// `/api/` is not served at all.
#[tokio::test]
async fn serve_without_a_token_answers_health_readiness_and_metrics() {
    let db = TestDb::new().await;
    let store = &db.store;
    let ok = Receiver::always(200).await;
    let failing = Receiver::always(500).await;
    let hanging = Receiver::scripted(|_, _| Reply::status(200).delay(Duration::from_secs(120))).await;
    add_webhook(store, "ok", &ok.url("/"), &["payment_received"]).await;
    let bad = add_webhook(store, "failing", &failing.url("/"), &["payment_received"]).await;
    let base = format!("http://127.0.0.1:{}", free_port());
    let addr = base.trim_start_matches("http://").to_owned();
    let _serve = HookdProcess::serve(
        &db,
        &[
            ("HOOKD_ADMIN_ADDR", &addr),
            ("HOOKD_READY_MAX_DUE_AGE", "1s"),
            // The hanging receiver gets one request at a time, which stays in flight.
            ("HOOKD_PER_WEBHOOK_CONCURRENCY", "1"),
            ("HOOKD_REQUEST_TIMEOUT", "60s"),
        ],
    );
    let http = reqwest::Client::new();
    wait_until(DEADLINE, "/healthz answers", || async {
        matches!(http.get(format!("{base}/healthz")).send().await, Ok(r) if r.status().as_u16() == 200)
    })
    .await;
    assert_eq!(get(&http, &format!("{base}/healthz")).await, (200, "ok".to_owned()));

    for n in 0..3 {
        store.outbox_publish("payment_received", &serde_json::json!({ "n": n })).await.unwrap();
    }
    // Retry schedule "1s" (SERVE_ENV): each delivery to the 500 receiver is retried once, then failed.
    wait_until(DEADLINE, "3 delivered, 3 failed after a retry", || async {
        ok.count() >= 3 && deliveries_in(store, &bad, "failed").await == 3
    })
    .await;

    wait_until(DEADLINE, "/readyz answers 200", || async { get(&http, &format!("{base}/readyz")).await.0 == 200 }).await;
    let (status, body) = get(&http, &format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], true, "{body}");
    assert_eq!(body["checks"]["database"]["ok"], true, "{body}");
    assert_eq!(body["checks"]["queue"]["max_due_age_seconds"], 1.0, "{body}");

    let response = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let value = |series: &str| sample(&text, series).unwrap_or_else(|| panic!("no sample {series} in:\n{text}"));
    assert!(value(r#"hookd_attempts_total{outcome="delivered"}"#) >= 3.0, "{text}");
    assert!(value(r#"hookd_attempts_total{outcome="retry"}"#) >= 3.0, "{text}");
    assert!(value(r#"hookd_attempts_total{outcome="failed"}"#) >= 3.0, "{text}");
    assert_eq!(value(&format!(r#"hookd_webhook_failures_total{{webhook_id="{}"}}"#, bad.id)), 6.0, "{text}");
    assert!(value("hookd_attempt_duration_seconds_count") >= 9.0, "{text}");
    assert!(text.contains("# TYPE hookd_attempt_duration_seconds histogram"), "{text}");
    assert!(value(r#"hookd_attempt_duration_seconds_bucket{le="+Inf"}"#) >= 9.0, "{text}");
    assert!(value("hookd_claim_batch_size_count") >= 1.0, "{text}");
    assert!(value("hookd_claim_batch_size_sum") >= 9.0, "every attempt was claimed: {text}");
    assert_eq!(value("hookd_in_flight_requests"), 0.0, "{text}");
    assert!(value("hookd_queue_depth") >= 0.0 && value("hookd_oldest_due_seconds") >= 0.0, "{text}");

    // A receiver that hangs holds its webhook's only slot; the next delivery to it stays due.
    add_webhook(store, "hanging", &hanging.url("/"), &["customer_created"]).await;
    for n in 0..2 {
        store.outbox_publish("customer_created", &serde_json::json!({ "n": n })).await.unwrap();
    }
    wait_until(DEADLINE, "/readyz answers 503", || async { get(&http, &format!("{base}/readyz")).await.0 == 503 }).await;
    let (status, body) = get(&http, &format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(body["failed"], serde_json::json!(["queue"]), "{body}");
    assert_eq!(body["checks"]["database"]["ok"], true, "{body}");
    assert!(body["checks"]["queue"]["oldest_due_seconds"].as_f64().unwrap() > 1.0, "{body}");
    assert!(body["checks"]["queue"]["error"].as_str().unwrap().contains("ready_max_due_age"), "{body}");
    assert_eq!(hanging.count(), 1, "one request at a time to the hanging receiver");
    wait_until(DEADLINE, "the sampled gauges show the waiting delivery", || async {
        let text = get(&http, &format!("{base}/metrics")).await.1;
        sample(&text, "hookd_in_flight_requests") == Some(1.0)
            && sample(&text, "hookd_queue_depth").is_some_and(|d| d >= 1.0)
            && sample(&text, "hookd_oldest_due_seconds").is_some_and(|age| age > 1.0)
    })
    .await;
    // Health needs no token, and without one nothing else is served.
    assert_eq!(get(&http, &format!("{base}/healthz")).await.0, 200);
    assert_eq!(get(&http, &format!("{base}/api/webhooks")).await.0, 404);
    assert_eq!(get(&http, &format!("{base}/")).await.0, 404);
}

/// Beside the API (a token configured): the health routes answer without the token, the API still
/// wants it; `/metrics` is 404 without a recorder; a database that does not answer fails readiness.
#[tokio::test]
async fn health_routes_need_no_token_beside_the_api_and_readiness_checks_the_database() {
    const TOKEN: &str = "test-admin-token-0123456789";
    let db = TestDb::new().await;
    let serve = |store: hookd_store::Store| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = ApiState {
            store: store.clone(),
            sender: test_sender(),
            policy: TargetPolicy::allow_all(),
            token: AdminToken::new(TOKEN),
            worker: "observability-test".into(),
        };
        let health = HealthState { store, ready_max_due_age: Duration::from_secs(60), metrics: None };
        let shutdown = CancellationToken::new();
        tokio::spawn(hookd_api::serve_with_health(listener, state, health, shutdown.clone()));
        (base, shutdown.drop_guard())
    };
    let http = reqwest::Client::new();
    let (base, _stop) = serve(db.store.clone()).await;
    assert_eq!(get(&http, &format!("{base}/healthz")).await, (200, "ok".to_owned()));
    let (status, body) = get(&http, &format!("{base}/readyz")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(get(&http, &format!("{base}/metrics")).await.0, 404);
    assert_eq!(get(&http, &format!("{base}/api/webhooks")).await.0, 401);
    let listed = http.get(format!("{base}/api/webhooks")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(listed.status().as_u16(), 200);

    // A store whose pool is closed stands in for a database that does not answer.
    let closed = hookd_store::Store::connect(&db.url, 2).await.unwrap();
    closed.pool().close().await;
    let (base, _stop_closed) = serve(closed).await;
    let (status, body) = get(&http, &format!("{base}/readyz")).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["failed"], serde_json::json!(["database"]), "{body}");
    assert_eq!(body["checks"]["database"]["ok"], false, "{body}");
    assert_eq!(get(&http, &format!("{base}/healthz")).await.0, 200, "the process is up all the same");
}
