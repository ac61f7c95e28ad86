//! Rescuer: moves deliveries leased by a dead or stalled worker back to `pending` (or to `failed`
//! once they have used every attempt), in batches, and folds in webhook counters that were
//! deferred while an admin held the webhook's row (and the endpoint health judged then: a 410
//! disables its webhook here, later but surely). Runs in every process; SKIP LOCKED lets them
//! share the work without a leader.

use std::sync::Arc;

use hookd_store::delivery::Rescued;
use hookd_store::Store;
use tokio_util::sync::CancellationToken;

use crate::{Wakers, WorkerConfig};

pub struct Rescuer {
    store: Store,
    config: Arc<WorkerConfig>,
    wakers: Arc<Wakers>,
}

impl Rescuer {
    pub fn new(store: Store, config: Arc<WorkerConfig>, wakers: Arc<Wakers>) -> Self {
        Self { store, config, wakers }
    }

    pub async fn run_once(&self) -> hookd_store::Result<Rescued> {
        let rescued = self
            .store
            .delivery_rescue_expired(self.config.heartbeat_timeout, self.config.schedule.max_attempts() as i32)
            .await?;
        self.store.webhook_counts_fold().await?;
        // Health signals deferred by a locked webhook row: a 410 seen meanwhile disables it now.
        self.store.webhook_health_fold(self.config.disable_after()).await?;
        if rescued.requeued > 0 || rescued.failed > 0 {
            tracing::warn!(requeued = rescued.requeued, failed = rescued.failed, "rescued deliveries from expired leases");
            self.wakers.claimer.notify_one();
        }
        Ok(rescued)
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.rescue_interval);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "rescue failed; will retry");
            }
        }
    }
}
