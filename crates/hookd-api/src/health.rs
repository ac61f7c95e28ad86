//! `GET /healthz`, `GET /readyz` and `GET /metrics`: for probes and scrapers, so without the admin
//! token (they show no webhook, URL or payload), and served by `hookd serve` also when no token is
//! configured (then alone: no `/api/`, no page).
//!
//! - `/healthz`: 200 `ok` while the process runs.
//! - `/readyz`: 200 when the database answers and the oldest due delivery has waited less than
//!   `ready_max_due_age`; otherwise 503, with a JSON body naming the failed check (`database`,
//!   `queue`). A worker that stopped claiming is not ready.
//! - `/metrics`: the Prometheus text format, from the recorder the process installed; 404 when it
//!   installed none.

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hookd_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::{json, Value};

/// A check that takes longer than this has failed (a database that hangs is not ready).
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// What the health routes read.
#[derive(Clone)]
pub struct HealthState {
    pub store: Store,
    /// `/readyz` fails when the oldest due delivery has waited longer; zero: not checked.
    pub ready_max_due_age: Duration,
    /// Renders `/metrics`; `None`: no recorder in this process, `/metrics` is 404.
    pub metrics: Option<PrometheusHandle>,
}

/// The three routes, with no authentication.
pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<HealthState>) -> Response {
    let mut failed = Vec::new();
    let database = match tokio::time::timeout(CHECK_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => json!({ "ok": true }),
        Ok(Err(e)) => json!({ "ok": false, "error": format!("the database does not answer: {e}") }),
        Err(_) => json!({ "ok": false, "error": format!("the database did not answer within {CHECK_TIMEOUT:?}") }),
    };
    if database["ok"] != true {
        failed.push("database");
    }
    let max = state.ready_max_due_age;
    let queue = if max.is_zero() {
        json!({ "ok": true, "checked": false })
    } else if !failed.is_empty() {
        json!({ "ok": false, "error": "not checked: the database does not answer" })
    } else {
        queue_check(&state.store, max).await
    };
    if queue["ok"] != true && failed.is_empty() {
        failed.push("queue");
    }
    let ready = failed.is_empty();
    let body = json!({ "ready": ready, "failed": failed, "checks": { "database": database, "queue": queue } });
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

async fn queue_check(store: &Store, max: Duration) -> Value {
    let max_seconds = max.as_secs_f64();
    match tokio::time::timeout(CHECK_TIMEOUT, store.stats_oldest_due_seconds()).await {
        Ok(Ok(age)) if age <= max_seconds => {
            json!({ "ok": true, "oldest_due_seconds": age, "max_due_age_seconds": max_seconds })
        }
        Ok(Ok(age)) => json!({
            "ok": false,
            "oldest_due_seconds": age,
            "max_due_age_seconds": max_seconds,
            "error": format!(
                "the oldest due delivery has waited {age:.1}s, longer than ready_max_due_age ({max_seconds}s): \
                 deliveries are not being claimed fast enough"
            ),
        }),
        Ok(Err(e)) => json!({ "ok": false, "error": format!("cannot read the queue: {e}") }),
        Err(_) => json!({ "ok": false, "error": format!("reading the queue took longer than {CHECK_TIMEOUT:?}") }),
    }
}

async fn metrics(State(state): State<HealthState>) -> Response {
    match state.metrics {
        Some(handle) => {
            ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], handle.render()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "metrics are not recorded in this process\n").into_response(),
    }
}
