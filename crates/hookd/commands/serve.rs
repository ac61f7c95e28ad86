//! `hookd serve`: migrate, then run the worker pool, and the admin API and page beside it when an
//! admin token is configured, until SIGINT or SIGTERM.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use hookd_api::{AdminToken, ApiState};
use hookd_store::Store;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store_and_apply_settings(config).await?;
    let worker_id = super::worker_id();
    tracing::info!(
        worker = %worker_id,
        concurrency = config.settings.concurrency,
        retry_schedule = %config.schedule,
        allow_private_targets = config.settings.allow_private_targets,
        "hookd serving"
    );
    let shutdown = CancellationToken::new();
    let admin = match config.admin_token() {
        Some(token) => {
            let listener = TcpListener::bind(&config.settings.admin_addr)
                .await
                .with_context(|| format!("admin API: cannot listen on {} (HOOKD_ADMIN_ADDR)", config.settings.admin_addr))?;
            let admin = AdminSurface::spawn(config, &store, listener, token, &worker_id, shutdown.clone())?;
            tracing::info!(url = %format!("http://{}/", admin.addr), "admin API and page serving");
            Some(admin)
        }
        None => {
            tracing::warn!(
                "admin API and page not served: no admin token is configured. Set HOOKD_ADMIN_TOKEN=<a long random string> \
                 (or admin_token in the config file) to serve them on {}, or try `hookd demo`, which generates one",
                config.settings.admin_addr
            );
            None
        }
    };
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    let worker = hookd_worker::run(store, super::sender(config)?, config.worker(worker_id), shutdown.clone()).await;
    // The worker stops only on shutdown, or on an error: the API goes down with it either way.
    shutdown.cancel();
    if let Some(admin) = admin {
        admin.stopped().await?;
    }
    worker?;
    Ok(ExitCode::SUCCESS)
}

/// The admin API and page, running on their own task until `shutdown`.
pub struct AdminSurface {
    pub addr: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

impl AdminSurface {
    pub fn spawn(
        config: &Config,
        store: &Store,
        listener: TcpListener,
        token: AdminToken,
        worker_id: &str,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let state = ApiState {
            store: store.clone(),
            sender: super::sender(config)?,
            policy: config.target_policy(),
            token,
            worker: worker_id.to_owned(),
        };
        Ok(Self { addr, task: tokio::spawn(hookd_api::serve(listener, state, shutdown)) })
    }

    /// Waits for the server to finish (after its shutdown token was cancelled).
    pub async fn stopped(self) -> anyhow::Result<()> {
        self.task.await.context("the admin API task panicked")?.context("the admin API failed")
    }
}

/// Cancels `shutdown` on the first SIGINT/SIGTERM; a second one quits at once.
/// Cancels `shutdown` on SIGINT or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled, so a signal sent right after (say, once the caller printed that
/// it is ready) is never lost.
pub fn cancel_on_signal(shutdown: CancellationToken) -> impl std::future::Future<Output = ()> + Send + 'static {
    let mut term = signal(SignalKind::terminate()).expect("can install a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("can install a SIGINT handler");
    async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down: no new claims, finishing in-flight deliveries");
        shutdown.cancel();
    }
}
