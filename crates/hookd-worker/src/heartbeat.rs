//! Heartbeat: keeps this process's row in `hookd.workers` fresh, so the rescuer in any process can
//! tell a live worker from a dead one without waiting for each lease to expire.

use std::sync::Arc;

use hookd_store::Store;
use tokio_util::sync::CancellationToken;

use crate::WorkerConfig;

pub struct Heartbeat {
    store: Store,
    config: Arc<WorkerConfig>,
}

pub(crate) async fn beat_once(store: &Store, config: &WorkerConfig) -> hookd_store::Result<()> {
    store.worker_heartbeat(&config.worker_id, &hostname(), std::process::id()).await
}

fn hostname() -> String {
    std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()).unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "unknown".into())
    })
}

impl Heartbeat {
    pub fn new(store: Store, config: Arc<WorkerConfig>) -> Self {
        Self { store, config }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.heartbeat_interval);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if let Err(e) = beat_once(&self.store, &self.config).await {
                tracing::warn!(error = %e, "heartbeat failed; will retry");
            }
        }
    }
}
