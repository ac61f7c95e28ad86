//! The real worker pool, in-process, with timings short enough for tests.

use std::time::Duration;

use hookd_core::schedule::RetrySchedule;
use hookd_core::target::TargetPolicy;
use hookd_send::{Sender, SenderConfig};
use hookd_store::Store;
use hookd_worker::WorkerConfig;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Worker settings for tests: quick polling and rescue, the given retry schedule, and a circuit
/// breaker that opens as in production (5 consecutive failures) but cools down in 1 s, so a test
/// failing one webhook many times is delayed by a second, not by the default 30 s.
pub fn test_config(schedule: &str) -> WorkerConfig {
    WorkerConfig {
        worker_id: format!("test-{}", uuid::Uuid::new_v4().simple()),
        poll_interval: Duration::from_millis(100),
        heartbeat_interval: Duration::from_millis(200),
        heartbeat_timeout: Duration::from_secs(3),
        rescue_interval: Duration::from_millis(200),
        shutdown_grace: Duration::from_secs(5),
        schedule: RetrySchedule::parse(schedule).expect("valid schedule"),
        circuit_cooldown: Duration::from_secs(1),
        ..WorkerConfig::default()
    }
}

/// A sender allowed to reach loopback receivers, with short timeouts.
pub fn test_sender() -> Sender {
    test_sender_with(|_| {})
}

pub fn test_sender_with(adjust: impl FnOnce(&mut SenderConfig)) -> Sender {
    let mut config = SenderConfig {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        policy: TargetPolicy::allow_all(),
        ..SenderConfig::default()
    };
    adjust(&mut config);
    Sender::new(config).expect("client builds")
}

/// A running worker pool; [`RunningWorker::stop`] shuts it down the way SIGTERM does.
pub struct RunningWorker {
    shutdown: CancellationToken,
    handle: JoinHandle<Result<(), hookd_store::StoreError>>,
}

pub fn spawn(store: &Store, sender: Sender, config: WorkerConfig) -> RunningWorker {
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(hookd_worker::run(store.clone(), sender, config, shutdown.clone()));
    RunningWorker { shutdown, handle }
}

impl RunningWorker {
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle.await.expect("worker task did not panic").expect("worker ran cleanly");
    }
}
