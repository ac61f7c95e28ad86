//! Cleaner: keeps the history bounded. It creates the day partitions of the attempts and of the
//! finished deliveries for the next days, drops those older than the retention period (whole
//! tables, no bulk DELETE), and prunes fanned-out outbox rows past the same age, in batches. Runs
//! in every process; each step is idempotent, so two cleaners at once only repeat each other.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use hookd_store::Store;
use tokio_util::sync::CancellationToken;

use crate::WorkerConfig;

/// Partitions are made this many days ahead, so a day never starts without one.
const DAYS_AHEAD: i32 = 3;
/// Rows deleted per statement: small enough to keep each transaction short.
const PRUNE_BATCH: i64 = 5_000;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cleaned {
    pub partitions_created: i32,
    pub partitions_dropped: i32,
    pub events_pruned: u64,
}

pub struct Cleaner {
    store: Store,
    config: Arc<WorkerConfig>,
}

impl Cleaner {
    pub fn new(store: Store, config: Arc<WorkerConfig>) -> Self {
        Self { store, config }
    }

    /// One pass at `now`.
    pub async fn run_once(&self, now: DateTime<Utc>) -> hookd_store::Result<Cleaned> {
        let cutoff = now - TimeDelta::from_std(self.config.retention).unwrap_or(TimeDelta::MAX);
        let mut cleaned = Cleaned {
            partitions_created: self.store.history_partitions_ensure(now.date_naive(), DAYS_AHEAD).await?,
            partitions_dropped: self.store.history_partitions_drop(cutoff).await?,
            ..Cleaned::default()
        };
        loop {
            let n = self.store.outbox_prune(cutoff, PRUNE_BATCH).await?;
            cleaned.events_pruned += n;
            if n < PRUNE_BATCH as u64 {
                break;
            }
        }
        Ok(cleaned)
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(self.config.retention_interval);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.run_once(Utc::now()).await {
                Ok(c) if c != Cleaned::default() => tracing::info!(?c, "retention pass"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "retention pass failed; will retry"),
            }
        }
    }
}
