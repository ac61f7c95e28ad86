//! Waiting on a condition with a deadline: tests never sleep to synchronise.

use std::future::Future;
use std::time::{Duration, Instant};

/// Polls `check` until it returns true; panics naming `what` if `deadline` passes first.
pub async fn wait_until<F, Fut>(deadline: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return;
        }
        if start.elapsed() > deadline {
            panic!("timed out after {deadline:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
