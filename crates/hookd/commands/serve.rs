//! `hookd serve`: migrate, then run the worker pool until SIGINT or SIGTERM.

use std::process::ExitCode;

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let worker_id = super::worker_id();
    tracing::info!(
        worker = %worker_id,
        concurrency = config.settings.concurrency,
        retry_schedule = %config.schedule,
        allow_private_targets = config.settings.allow_private_targets,
        "hookd serving"
    );
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    hookd_worker::run(store, super::sender(config)?, config.worker(worker_id), shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn cancel_on_signal(shutdown: CancellationToken) {
    let mut term = signal(SignalKind::terminate()).expect("can install a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: no new claims, finishing in-flight deliveries");
    shutdown.cancel();
}
