//! Waker: one LISTEN connection that turns NOTIFY hints into wake-ups for the fanout and the
//! claimer. Hints are an optimisation only: the poll timers in each service find the work anyway,
//! so a dropped connection costs latency, never events.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use hookd_store::{Store, DELIVERIES_CHANNEL, OUTBOX_CHANNEL};
use tokio_util::sync::CancellationToken;

use crate::Wakers;

pub struct Waker {
    store: Store,
    wakers: Arc<Wakers>,
}

impl Waker {
    pub fn new(store: Store, wakers: Arc<Wakers>) -> Self {
        Self { store, wakers }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = reconnect_backoff();
        while !shutdown.is_cancelled() {
            let listened = tokio::select! {
                _ = shutdown.cancelled() => return,
                outcome = self.listen() => outcome,
            };
            if let Err(e) = listened {
                let pause = backoff.next().unwrap_or(Duration::from_secs(10));
                tracing::warn!(error = %e, retry_in_ms = pause.as_millis() as u64, "LISTEN connection lost; polling meanwhile");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }

    async fn listen(&self) -> hookd_store::Result<()> {
        let mut listener = self.store.listener().await?;
        // Work may have arrived while we were not listening.
        self.wakers.fanout.notify_one();
        self.wakers.claimer.notify_one();
        loop {
            // `try_recv` reports a lost connection as `None` instead of silently reconnecting, so
            // we re-wake the services after every reconnect.
            match listener.try_recv().await? {
                Some(n) if n.channel() == OUTBOX_CHANNEL => self.wakers.fanout.notify_one(),
                Some(n) if n.channel() == DELIVERIES_CHANNEL => self.wakers.claimer.notify_one(),
                Some(_) => {}
                None => {
                    self.wakers.fanout.notify_one();
                    self.wakers.claimer.notify_one();
                }
            }
        }
    }
}

fn reconnect_backoff() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(10))
        .with_jitter()
        .without_max_times()
        .build()
}
