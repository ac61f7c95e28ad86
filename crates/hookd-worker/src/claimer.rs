//! Claimer: leases due deliveries in batches, as many as there are free send slots, and hands
//! them to the dispatcher. One claimer per process: few claimers with big batches scale, many
//! single-row claimers fight over the same index pages.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use hookd_store::delivery::WebhookSlots;
use hookd_store::Store;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::dispatcher::Dispatcher;
use crate::{Wakers, WorkerConfig};

pub struct Claimer {
    store: Store,
    config: Arc<WorkerConfig>,
    wakers: Arc<Wakers>,
    dispatcher: Dispatcher,
}

impl Claimer {
    pub fn new(store: Store, config: Arc<WorkerConfig>, wakers: Arc<Wakers>, dispatcher: Dispatcher) -> Self {
        Self { store, config, wakers, dispatcher }
    }

    fn lease(&self, sender_timeout: Duration) -> Duration {
        sender_timeout + self.config.lease_margin
    }

    pub async fn run(mut self, shutdown: CancellationToken) {
        let lease = self.lease(self.dispatcher_timeout());
        // True when the last claim came back full: more is probably due, so claim again as soon
        // as a slot frees instead of waiting for a hint.
        let mut backlog = false;
        let mut last_claim = Instant::now() - self.config.fetch_cooldown;
        loop {
            let first = tokio::select! {
                _ = shutdown.cancelled() => break,
                slot = self.dispatcher.slot() => slot,
            };
            if !backlog {
                // A webhook held back by its circuit, a pause or its rate limit may be claimable
                // before the next poll: look then.
                let held_back_until = self.dispatcher.next_wake();
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.wakers.claimer.notified() => {}
                    _ = tokio::time::sleep(self.config.poll_interval) => {}
                    _ = sleep_until(held_back_until) => {}
                }
                tokio::time::sleep_until(last_claim + self.config.fetch_cooldown).await;
            }
            // A wake-up that came before this point is answered by this claim: it counts the slots
            // free from here on and sees everything committed before it starts. (Each fan-out wakes
            // the claimer twice, directly and by NOTIFY, and the second claim found nothing.)
            let _ = self.wakers.claimer.notified().now_or_never();
            let slots = self.dispatcher.more_slots(first, self.config.claim_batch);
            let in_flight = self.dispatcher.webhooks_in_flight();
            let limits = WebhookSlots { per_webhook: self.config.per_webhook_concurrency as i64, in_flight: &in_flight };
            last_claim = Instant::now();
            match self.store.delivery_claim_batch(&self.config.worker_id, slots.len() as i64, lease, &limits).await {
                Ok(claimed) => {
                    crate::instruments::claim_batch(claimed.len());
                    backlog = claimed.len() == slots.len();
                    self.dispatcher.dispatch(claimed, slots).await;
                }
                Err(e) => {
                    backlog = false;
                    tracing::warn!(error = %e, "claim failed; will retry");
                }
            }
        }
        self.dispatcher.shutdown().await;
    }

    fn dispatcher_timeout(&self) -> Duration {
        self.dispatcher.request_timeout()
    }
}

/// Sleeps until `at`, or forever when there is no such instant.
async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
