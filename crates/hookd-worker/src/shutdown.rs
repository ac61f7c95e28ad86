//! How the pool stops, as a protocol:
//!
//! 1. SIGINT/SIGTERM cancels the root token (the binary does this).
//! 2. The claimer sees it first and stops claiming. It waits up to `shutdown_grace` for its
//!    in-flight requests; those still running then are aborted and their leases released, so
//!    another worker takes them at once instead of after lease expiry.
//! 3. When the claimer returns, its dispatcher (the last holder of the finish channel) is dropped;
//!    the recorder writes what it still holds and ends.
//! 4. The background services (waker, rescuer, fanout) stop on the same token and are joined.
//! 5. Only then does the heartbeat stop and the worker row go: until every in-flight request is
//!    finished, recorded or released, this worker is alive and its leases are its own.

use std::future::Future;

use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Background services that run until the token is cancelled.
pub struct Services {
    token: CancellationToken,
    tasks: Mutex<JoinSet<()>>,
}

impl Services {
    pub fn new(token: CancellationToken) -> Self {
        Self { token, tasks: Mutex::new(JoinSet::new()) }
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    pub fn spawn(&self, name: &'static str, service: impl Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.try_lock().expect("services are spawned from one task");
        tasks.spawn(async move {
            service.await;
            tracing::debug!(service = name, "stopped");
        });
    }

    pub async fn join(self) {
        let mut tasks = self.tasks.into_inner();
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "a worker service panicked");
            }
        }
    }
}
