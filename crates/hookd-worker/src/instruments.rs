//! The worker's metrics, through the `metrics` facade: recorded where the pipeline decides, and
//! rendered by whatever recorder the process installed (`hookd serve` installs the Prometheus one
//! and serves it on `GET /metrics`; without a recorder every call here is a no-op).
//!
//! The names are listed here once, with their help text ([`describe`]); README "Observability"
//! says what each one means.

use std::time::Duration;

use hookd_store::stats::QueueStats;
use uuid::Uuid;

/// Attempts by the dispatcher's decision: `outcome` = `delivered`, `retry` or `failed`.
pub const ATTEMPTS_TOTAL: &str = "hookd_attempts_total";
/// Seconds from the start of a request to its answer (or error), per attempt.
pub const ATTEMPT_DURATION_SECONDS: &str = "hookd_attempt_duration_seconds";
/// HTTP requests on their way in this process.
pub const IN_FLIGHT_REQUESTS: &str = "hookd_in_flight_requests";
/// Failed attempts (retry or failed), per webhook: `webhook_id`.
pub const WEBHOOK_FAILURES_TOTAL: &str = "hookd_webhook_failures_total";
/// Deliveries leased per claim statement (idle polls count as 0).
pub const CLAIM_BATCH_SIZE: &str = "hookd_claim_batch_size";
/// Due pending deliveries plus outbox rows not fanned out yet, sampled.
pub const QUEUE_DEPTH: &str = "hookd_queue_depth";
/// How long the oldest due delivery (or event awaiting fan-out) has waited, sampled.
pub const OLDEST_DUE_SECONDS: &str = "hookd_oldest_due_seconds";

/// Histogram buckets for [`ATTEMPT_DURATION_SECONDS`] (seconds).
pub const ATTEMPT_DURATION_BUCKETS: &[f64] = &[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Histogram buckets for [`CLAIM_BATCH_SIZE`] (deliveries).
pub const CLAIM_BATCH_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

/// Registers each metric's help text and unit with the installed recorder.
pub fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(ATTEMPTS_TOTAL, "Delivery attempts by the dispatcher's decision (delivered, retry, failed)");
    describe_histogram!(ATTEMPT_DURATION_SECONDS, Unit::Seconds, "Duration of each delivery attempt's HTTP request");
    describe_gauge!(IN_FLIGHT_REQUESTS, "HTTP requests in flight in this process");
    describe_counter!(WEBHOOK_FAILURES_TOTAL, "Failed delivery attempts (retry or failed) per webhook");
    describe_histogram!(CLAIM_BATCH_SIZE, "Deliveries leased per claim statement");
    describe_gauge!(QUEUE_DEPTH, "Due pending deliveries plus outbox rows not fanned out yet (sampled)");
    describe_gauge!(OLDEST_DUE_SECONDS, Unit::Seconds, "Age of the oldest due delivery or event awaiting fan-out (sampled)");
}

/// What the dispatcher decided for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    Retry,
    Failed,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Retry => "retry",
            Self::Failed => "failed",
        }
    }
}

/// One attempt, as decided: its outcome, how long the request took, and a failure for its webhook.
pub fn attempt(webhook_id: Uuid, outcome: Outcome, duration: Duration) {
    metrics::counter!(ATTEMPTS_TOTAL, "outcome" => outcome.label()).increment(1);
    metrics::histogram!(ATTEMPT_DURATION_SECONDS).record(duration.as_secs_f64());
    if outcome != Outcome::Delivered {
        metrics::counter!(WEBHOOK_FAILURES_TOTAL, "webhook_id" => webhook_id.to_string()).increment(1);
    }
}

/// One claim statement that leased `claimed` deliveries.
pub fn claim_batch(claimed: usize) {
    metrics::histogram!(CLAIM_BATCH_SIZE).record(claimed as f64);
}

/// The queue as last sampled from the store.
pub fn queue(stats: &QueueStats) {
    metrics::gauge!(QUEUE_DEPTH).set(stats.depth as f64);
    metrics::gauge!(OLDEST_DUE_SECONDS).set(stats.oldest_due_seconds);
}

/// Counts one request in flight for as long as it lives (also when its task is aborted).
#[must_use]
pub struct InFlight(());

impl InFlight {
    pub fn start() -> Self {
        metrics::gauge!(IN_FLIGHT_REQUESTS).increment(1.0);
        Self(())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(IN_FLIGHT_REQUESTS).decrement(1.0);
    }
}
