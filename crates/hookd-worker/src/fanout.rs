//! Fanout: turns committed outbox rows into deliveries, one per subscribed active webhook, a batch
//! per statement, until the outbox is drained; then wakes the claimer.

use std::sync::Arc;

use hookd_store::outbox::FanOut;
use hookd_store::Store;
use tokio_util::sync::CancellationToken;

use crate::{Wakers, WorkerConfig};

pub struct Fanout {
    store: Store,
    config: Arc<WorkerConfig>,
    wakers: Arc<Wakers>,
}

impl Fanout {
    pub fn new(store: Store, config: Arc<WorkerConfig>, wakers: Arc<Wakers>) -> Self {
        Self { store, config, wakers }
    }

    /// Fans out batches until one comes back short: the outbox is drained for now.
    pub async fn run_once(&self) -> hookd_store::Result<FanOut> {
        let mut total = FanOut::default();
        loop {
            let batch = self.store.outbox_fan_out_batch(self.config.fan_out_batch).await?;
            total.events += batch.events;
            total.deliveries += batch.deliveries;
            if batch.deliveries > 0 {
                self.wakers.claimer.notify_one();
            }
            if batch.events < self.config.fan_out_batch {
                return Ok(total);
            }
        }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.run_once().await {
                Ok(done) if done.events > 0 => {
                    tracing::debug!(events = done.events, deliveries = done.deliveries, "fanned out");
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "fan-out failed; will retry"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.wakers.fanout.notified() => {}
                _ = tokio::time::sleep(self.config.poll_interval) => {}
            }
        }
    }
}
