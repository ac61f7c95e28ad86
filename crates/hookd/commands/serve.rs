//! `hookd serve`: migrate, then run the worker pool, and the admin API and page beside it when an
//! admin token is configured, until SIGINT or SIGTERM. `/healthz`, `/readyz` and `/metrics` are
//! served on the admin address either way (alone when there is no token): see README
//! "Observability".

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use hookd_api::{AdminToken, ApiState, HealthState};
use hookd_worker::instruments;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use hookd_store::Store;
use tokio::net::TcpListener;
use tokio::signal::unix::{signal, SignalKind};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;

/// How often the queue gauges (`hookd_queue_depth`, `hookd_oldest_due_seconds`) are read from the
/// database: a count over the due part of the queue is too much to run per scrape.
const QUEUE_SAMPLE_INTERVAL: Duration = Duration::from_secs(5);

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
    let metrics = install_metrics()?;
    let shutdown = CancellationToken::new();
    let admin = match config.admin_token() {
        Some(token) => {
            let listener = TcpListener::bind(&config.settings.admin_addr)
                .await
                .with_context(|| format!("admin API: cannot listen on {} (HOOKD_ADMIN_ADDR)", config.settings.admin_addr))?;
            let admin =
                AdminSurface::spawn_with(config, &store, listener, Some(token), &worker_id, Some(metrics.clone()), shutdown.clone())?;
            tracing::info!(url = %format!("http://{}/", admin.addr), "admin API and page serving");
            Some(admin)
        }
        None => {
            tracing::warn!(
                "admin API and page not served: no admin token is configured. Set HOOKD_ADMIN_TOKEN=<a long random string> \
                 (or admin_token in the config file) to serve them on {}, or try `hookd demo`, which generates one",
                config.settings.admin_addr
            );
            // Probes and scrapers need no token: /healthz, /readyz and /metrics are served alone.
            // Several token-less processes on one machine may want the same default address;
            // only the first gets it, and the others say so and keep delivering.
            match TcpListener::bind(&config.settings.admin_addr).await {
                Ok(listener) => {
                    let admin =
                        AdminSurface::spawn_with(config, &store, listener, None, &worker_id, Some(metrics.clone()), shutdown.clone())?;
                    tracing::info!(
                        url = %format!("http://{}/", admin.addr),
                        "health and metrics serving (/healthz, /readyz, /metrics; no token needed)"
                    );
                    Some(admin)
                }
                Err(e) => {
                    tracing::warn!(
                        error = %e,
                        "health and metrics not served: cannot listen on {} (HOOKD_ADMIN_ADDR)",
                        config.settings.admin_addr
                    );
                    None
                }
            }
        }
    };
    tokio::spawn(sample_queue(store.clone(), metrics, shutdown.clone()));
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
        Self::spawn_with(config, store, listener, Some(token), worker_id, None, shutdown)
    }

    /// The API and page when there is a `token`, and the health routes (`/healthz`, `/readyz`,
    /// `/metrics` rendered by `metrics`) either way.
    pub fn spawn_with(
        config: &Config,
        store: &Store,
        listener: TcpListener,
        token: Option<AdminToken>,
        worker_id: &str,
        metrics: Option<PrometheusHandle>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let health =
            HealthState { store: store.clone(), ready_max_due_age: config.settings.ready_max_due_age, metrics };
        let task = match token {
            Some(token) => {
                let state = ApiState {
                    store: store.clone(),
                    sender: super::sender(config)?,
                    policy: config.target_policy(),
                    token,
                    worker: worker_id.to_owned(),
                };
                tokio::spawn(hookd_api::serve_with_health(listener, state, health, shutdown))
            }
            None => tokio::spawn(hookd_api::serve_health(listener, health, shutdown)),
        };
        Ok(Self { addr, task })
    }

    /// Waits for the server to finish (after its shutdown token was cancelled).
    pub async fn stopped(self) -> anyhow::Result<()> {
        self.task.await.context("the admin API task panicked")?.context("the admin API failed")
    }
}

/// Installs the Prometheus recorder for this process (once: `serve` runs once per process), with
/// histogram buckets for the worker's histograms (rendered as Prometheus histograms, not summaries).
fn install_metrics() -> anyhow::Result<PrometheusHandle> {
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(instruments::ATTEMPT_DURATION_SECONDS.into()), instruments::ATTEMPT_DURATION_BUCKETS)?
        .set_buckets_for_metric(Matcher::Full(instruments::CLAIM_BATCH_SIZE.into()), instruments::CLAIM_BATCH_BUCKETS)?
        .install_recorder()
        .context("installing the metrics recorder")?;
    instruments::describe();
    Ok(handle)
}

/// Every [`QUEUE_SAMPLE_INTERVAL`] until `shutdown`: reads the queue gauges from the database, and
/// runs the recorder's upkeep (which otherwise only runs when `/metrics` is scraped).
async fn sample_queue(store: Store, metrics: PrometheusHandle, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(QUEUE_SAMPLE_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        match store.stats_queue().await {
            Ok(stats) => instruments::queue(&stats),
            Err(e) => tracing::debug!(error = %e, "could not sample the queue for metrics"),
        }
        metrics.run_upkeep();
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
