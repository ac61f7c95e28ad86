//! The delivery pipeline, as small named services that share one shape (a loop around a
//! `run_once`), wired together by [`run`].
//!
//! The story of an event, stage by stage:
//! 1. A producer commits a row into `hookd.outbox`; a statement trigger sends a NOTIFY hint.
//! 2. [`waker`] hears it on its LISTEN connection (a poll timer stands in when it cannot) and wakes
//! 3. the [`fanout`], which turns committed outbox rows into one delivery per subscribed webhook;
//! 4. the [`claimer`] leases due deliveries in batches, as many as there are free send slots,
//! 5. and the [`dispatcher`] sends each one (signed, outside any transaction) within the global
//!    and per-webhook concurrency limits, deciding from the result what comes next; the
//!    [`endpoints`] (circuit breaker, pause on 429, `max_rps`) hold back the claims of a webhook
//!    that is failing, throttling or rate-limited;
//! 6. the [`recorder`] writes attempts and state changes in batches, fenced by lease, moving
//!    deliveries that ended out of the hot table;
//! 7. failed attempts come back due later by the retry schedule, and the [`rescuer`] takes back
//!    the leases of workers that died, while [`heartbeat`] proves this one is alive.
//!
//! 8. The [`cleaner`] keeps the history bounded: attempt partitions are made ahead and dropped
//!    whole after the retention period, and so are finished deliveries; fanned-out events are
//!    pruned.
//!    The [`vacuumer`] stands in for autovacuum on the hot tables where the server has it off.
//!
//! [`instruments`] are the metrics the stages record (served on `GET /metrics` by `hookd serve`).
//!
//! [`shutdown`] says how it all stops. [`test_event`] is Send Test Event: the same send and
//! record path, run once, now.

pub mod claimer;
pub mod cleaner;
pub mod dispatcher;
pub mod endpoints;
pub mod fanout;
pub mod heartbeat;
pub mod instruments;
pub mod recorder;
pub mod rescuer;
pub mod shutdown;
pub mod test_event;
pub mod vacuumer;
pub mod waker;

use std::sync::Arc;
use std::time::Duration;

use hookd_core::schedule::RetrySchedule;
use hookd_send::Sender;
use hookd_store::Store;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Everything the worker pool can be tuned by. Defaults suit one process on a small machine.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Names this process in leases and in the audit.
    pub worker_id: String,
    /// HTTP requests in flight at once, across all webhooks.
    pub concurrency: usize,
    /// HTTP requests in flight at once to one webhook, so a slow receiver cannot take every slot.
    pub per_webhook_concurrency: usize,
    /// Outbox rows fanned out per statement.
    pub fan_out_batch: i64,
    /// Deliveries claimed per statement, at most.
    pub claim_batch: usize,
    /// How often to look for work when no notification arrives (missed NOTIFY, due retries).
    pub poll_interval: Duration,
    /// The shortest pause between two claims while idle, so a burst of hints costs one query.
    pub fetch_cooldown: Duration,
    /// Added to the request timeout to make a lease: a live worker always finishes within it.
    pub lease_margin: Duration,
    pub heartbeat_interval: Duration,
    /// A worker whose heartbeat is older than this is dead, and its leases are taken back.
    pub heartbeat_timeout: Duration,
    pub rescue_interval: Duration,
    /// On SIGTERM: how long in-flight requests may run before their leases are released.
    pub shutdown_grace: Duration,
    /// Finishes written per transaction, at most.
    pub record_batch: usize,
    pub schedule: RetrySchedule,
    /// A webhook failing without a success for this long is disabled at its next failure; zero
    /// never disables (README "Endpoint health").
    pub disable_after: Duration,
    /// Consecutive failed attempts that open a webhook's circuit in this process (0: never), and
    /// how long it stays open before one probe is let through.
    pub circuit_failures: u32,
    pub circuit_cooldown: Duration,
    /// How long attempts, finished deliveries and fanned-out events are kept.
    pub retention: Duration,
    /// How often the cleaner runs.
    pub retention_interval: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            worker_id: format!("hookd-{}", uuid::Uuid::new_v4().simple()),
            concurrency: 256,
            per_webhook_concurrency: 128,
            fan_out_batch: 500,
            claim_batch: 500,
            poll_interval: Duration::from_secs(1),
            fetch_cooldown: Duration::from_millis(2),
            lease_margin: Duration::from_secs(15),
            heartbeat_interval: Duration::from_secs(2),
            heartbeat_timeout: Duration::from_secs(15),
            rescue_interval: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(20),
            record_batch: 500,
            schedule: RetrySchedule::default(),
            disable_after: hookd_core::outcome::DEFAULT_DISABLE_AFTER,
            circuit_failures: hookd_core::circuit::DEFAULT_FAILURES,
            circuit_cooldown: hookd_core::circuit::DEFAULT_COOLDOWN,
            retention: Duration::from_secs(30 * 24 * 3600),
            retention_interval: Duration::from_secs(600),
        }
    }
}

impl WorkerConfig {
    /// `disable_after` as the store takes it: `None` when switched off.
    pub fn disable_after(&self) -> Option<Duration> {
        (!self.disable_after.is_zero()).then_some(self.disable_after)
    }

    pub fn circuit_policy(&self) -> hookd_core::circuit::CircuitPolicy {
        hookd_core::circuit::CircuitPolicy { failures: self.circuit_failures, cooldown: self.circuit_cooldown }
    }
}

/// Wake-up hints shared by the services: each `Notify` stores one pending wake, so a hint sent
/// while a service is busy is not lost, and many hints fold into one.
#[derive(Debug, Default)]
pub struct Wakers {
    pub fanout: Notify,
    pub claimer: Notify,
}

/// Runs the worker pool until `shutdown` is cancelled and in-flight work is finished or released.
pub async fn run(
    store: Store,
    sender: Sender,
    config: WorkerConfig,
    shutdown: CancellationToken,
) -> Result<(), hookd_store::StoreError> {
    let config = Arc::new(config);
    let wakers = Arc::new(Wakers::default());
    heartbeat::beat_once(&store, &config).await?;

    let (finishes, recorder) = recorder::Recorder::new(store.clone(), config.clone(), wakers.clone());
    let recorder = tokio::spawn(recorder.run());
    let services = shutdown::Services::new(shutdown.clone());
    services.spawn("waker", waker::Waker::new(store.clone(), wakers.clone()).run(services.token()));
    services.spawn("rescuer", rescuer::Rescuer::new(store.clone(), config.clone(), wakers.clone()).run(services.token()));
    services.spawn("fanout", fanout::Fanout::new(store.clone(), config.clone(), wakers.clone()).run(services.token()));
    services.spawn("cleaner", cleaner::Cleaner::new(store.clone(), config.clone()).run(services.token()));
    services.spawn("vacuumer", vacuumer::Vacuumer::new(store.clone()).run(services.token()));
    // The heartbeat outlives the shutdown signal: while in-flight requests finish, this worker is
    // alive and its leases must not be taken back by another one.
    let heartbeat_stop = CancellationToken::new();
    let heartbeat = tokio::spawn(heartbeat::Heartbeat::new(store.clone(), config.clone()).run(heartbeat_stop.clone()));
    let dispatcher = dispatcher::Dispatcher::new(store.clone(), sender, config.clone(), finishes);
    let claimer = claimer::Claimer::new(store.clone(), config.clone(), wakers.clone(), dispatcher);
    claimer.run(shutdown.clone()).await;

    services.join().await;
    // The claimer dropped the last finish sender when it returned, so the recorder drains and ends.
    recorder.await.ok();
    heartbeat_stop.cancel();
    heartbeat.await.ok();
    store.worker_deregister(&config.worker_id).await.ok();
    tracing::info!(worker = %config.worker_id, "worker stopped");
    Ok(())
}
