//! Recorder: writes attempts and the state changes they cause, many per short transaction
//! (River's batch completer): each batch is whatever arrived while the last one was written.
//!
//! Each finish carries the send slot its request used, and the slot is freed only once the
//! finish is written: a result waiting here still holds a lease, so counting it against the
//! concurrency limit is what bounds the redeliveries a crash can cause to `concurrency`.

use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use hookd_send::Response;
use hookd_store::attempt::AttemptRecord;
use hookd_store::delivery::Finish;
use hookd_store::Store;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use uuid::Uuid;

use crate::{Wakers, WorkerConfig};

/// A finish on its way to the database, with the send slot it holds until it is written.
pub struct Pending {
    pub finish: Finish,
    pub slot: Option<OwnedSemaphorePermit>,
}

pub struct Recorder {
    store: Store,
    config: Arc<WorkerConfig>,
    finishes: mpsc::Receiver<Pending>,
    wakers: Arc<Wakers>,
}

impl Recorder {
    /// The recorder and the channel that feeds it; it runs until every sender is dropped.
    pub fn new(store: Store, config: Arc<WorkerConfig>, wakers: Arc<Wakers>) -> (mpsc::Sender<Pending>, Self) {
        let (tx, rx) = mpsc::channel(config.concurrency.max(1));
        (tx, Self { store, config, finishes: rx, wakers })
    }

    pub async fn run(mut self) {
        let mut batch = Vec::with_capacity(self.config.record_batch);
        let mut slots = Vec::with_capacity(self.config.record_batch);
        while let Some(first) = self.finishes.recv().await {
            let take = |p: Pending, batch: &mut Vec<Finish>, slots: &mut Vec<_>| {
                batch.push(p.finish);
                slots.extend(p.slot);
            };
            take(first, &mut batch, &mut slots);
            // Whatever else is queued joins the batch. Under load results pile up while the
            // previous batch is written, so batches grow by themselves; a lone result is never
            // kept waiting, and neither is the send slot it holds.
            while batch.len() < self.config.record_batch {
                match self.finishes.try_recv() {
                    Ok(p) => take(p, &mut batch, &mut slots),
                    Err(_) => break,
                }
            }
            self.write(&batch).await;
            batch.clear();
            // Written: the slots are free, and a free slot may be all the claimer waits for.
            slots.clear();
            self.wakers.claimer.notify_one();
        }
    }

    async fn write(&self, batch: &[Finish]) {
        // Postgres may be restarting: keep the results and try again for a while. If it stays
        // away, the leases expire and the deliveries are redelivered, which at-least-once allows.
        let written = (|| self.store.delivery_finish_many(batch, self.config.disable_after()))
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(50))
                    .with_max_delay(Duration::from_secs(5))
                    .with_max_times(40),
            )
            .notify(|e, pause| tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "recording attempts failed"))
            .await;
        match written {
            Ok(stale) => {
                for id in stale {
                    tracing::warn!(delivery_id = id, "late result dropped: the lease expired and the delivery was taken back");
                }
            }
            Err(e) => tracing::error!(error = %e, lost = batch.len(), "could not record attempts; their deliveries will be redelivered"),
        }
    }
}

/// Who made an attempt, at what, for the audit.
pub struct AttemptContext<'a> {
    pub delivery_id: Option<i64>,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub webhook_id: Option<Uuid>,
    pub url: &'a str,
    pub attempt: i32,
    pub worker: &'a str,
    pub test: bool,
}

/// The audit row for a response: the one conversion shared by deliveries and test sends.
pub fn attempt_record(response: &Response, ctx: AttemptContext<'_>) -> AttemptRecord {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    tracing::info!(
        event_id = %ctx.event_id,
        event_type = ctx.event_type,
        webhook_id = %or_dash(ctx.webhook_id.map(|w| w.to_string())),
        attempt = ctx.attempt,
        status = %or_dash(response.status.map(|s| s.to_string())),
        error = response.error.map(|e| e.as_str()).unwrap_or("-"),
        duration_ms = response.duration.as_millis() as u64,
        test = ctx.test,
        "attempt"
    );
    AttemptRecord {
        delivery_id: ctx.delivery_id,
        event_id: ctx.event_id,
        event_type: ctx.event_type.to_owned(),
        webhook_id: ctx.webhook_id,
        url: ctx.url.to_owned(),
        attempt: ctx.attempt,
        started_at: response.started_at,
        duration_ms: response.duration.as_millis().min(i32::MAX as u128) as i32,
        status_code: response.status.map(i32::from),
        error: response.error.map(|e| e.as_str().to_owned()),
        error_detail: response.error_detail.clone(),
        response_headers: response.headers_json(),
        response_body: response.body.clone(),
        body_truncated: response.body_truncated,
        worker: ctx.worker.to_owned(),
        test: ctx.test,
    }
}
