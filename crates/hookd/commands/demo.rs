//! `hookd demo`: the whole path on real parts in one command. It starts a local receiver that
//! checks every signature (and turns away some first attempts, to show retries), registers a
//! webhook for it, publishes the catalog's sample events through the outbox as a producer would,
//! runs the worker pool, and shows the deliveries arrive live. The admin API and page run beside
//! it, with a generated token (unless one is configured), so the admin can watch from a browser;
//! `--stay` keeps everything running after the last delivery, until Ctrl-C.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use hookd_core::schedule::RetrySchedule;
use hookd_core::signing::SigningSecret;
use hookd_core::webhook::WebhookInput;
use hookd_api::AdminToken;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::DemoArgs;
use crate::commands::serve::AdminSurface;
use crate::config::Config;

/// Every this-many-th first attempt is answered 503, so the demo shows retries.
const REFUSE_EVERY: usize = 7;
const DEADLINE: Duration = Duration::from_secs(120);

pub async fn run(mut config: Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    // The demo's events are samples: they go to a database of their own, never to real webhooks,
    // made afresh each run (an earlier run's webhooks, their receivers long gone, would get this
    // run's events too).
    config.settings.database_url = super::fresh_scratch_database(
        &config.settings.database_url,
        "demo",
        "demo",
        "another `hookd demo` is running (perhaps with --stay)",
    )
    .await?;
    // The receiver is on loopback, and retries should show within the demo's minute.
    config.settings.allow_private_targets = true;
    config.schedule = RetrySchedule::parse("1s,2s,4s")?;
    let store = super::open_store_and_apply_settings(&config).await?;

    let secret = SigningSecret::from_key(rand::random());
    let receiver = Arc::new(Receiver::new(secret.clone()));
    let addr = serve_receiver(receiver.clone()).await?;

    let fields = WebhookInput {
        name: Some("Demo receiver".into()),
        url: Some(format!("http://{addr}/hooks")),
        events: Some(vec!["*".into()]),
        headers: None,
    }
    .validate(&config.target_policy())?;
    let webhook = store.webhook_insert(&fields, &secret.expose(), "demo").await?;
    println!("webhook {} -> {} (all events)", webhook.id, webhook.url);

    let shutdown = CancellationToken::new();
    let worker_id = super::worker_id();
    let token = config.admin_token().unwrap_or_else(AdminToken::generate);
    let listener = match TcpListener::bind(&config.settings.admin_addr).await {
        Ok(listener) => listener,
        // Another hookd (or anything) has the configured port: any free one will do for a demo.
        Err(_) => TcpListener::bind("127.0.0.1:0").await.context("binding a port for the admin page")?,
    };
    let admin = AdminSurface::spawn(&config, &store, listener, token.clone(), &worker_id, shutdown.clone())?;
    println!("admin page: http://{}/  token: {}", admin.addr, token.expose());
    let worker = tokio::spawn(hookd_worker::run(store.clone(), super::sender(&config)?, config.worker(worker_id), shutdown.clone()));

    let catalog = store.event_type_list().await?;
    let events: Vec<(String, serde_json::Value)> = (0..args.rounds)
        .flat_map(|_| catalog.iter().map(|t| (t.slug.clone(), t.sample_payload.clone())))
        .collect();
    let started = Instant::now();
    store.outbox_publish_many(&events).await.context("publishing the demo events")?;
    println!("published {} events ({} types x {} rounds) into hookd.outbox", events.len(), catalog.len(), args.rounds);

    let bar = ProgressBar::new(events.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} delivered {pos}/{len} [{bar:40}] {msg}").expect("valid template").progress_chars("=> "),
    );
    while receiver.delivered() < events.len() {
        if started.elapsed() > DEADLINE {
            bar.abandon();
            shutdown.cancel();
            store.webhook_set_active(webhook.id, false, Some("demo failed")).await.ok();
            bail!("only {} of {} events arrived within {DEADLINE:?}", receiver.delivered(), events.len());
        }
        bar.set_position(receiver.delivered() as u64);
        bar.set_message(format!("{} requests, {} answered 503 (retried)", receiver.requests(), receiver.refused.load(Ordering::Relaxed)));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bar.set_position(events.len() as u64);
    bar.finish_with_message(format!("in {:.1}s", started.elapsed().as_secs_f64()));

    if args.stay {
        let stop = super::serve::cancel_on_signal(shutdown.clone());
        println!("\nstill serving: admin page http://{}/ (token {}), worker and receiver; Ctrl-C to stop", admin.addr, token.expose());
        stop.await;
    }
    shutdown.cancel();
    worker.await??;
    admin.stopped().await?;
    // With --stay the admin may have deleted it meanwhile; nothing left to switch off then.
    store.webhook_set_active(webhook.id, false, Some("demo finished")).await.ok();

    let bad = receiver.bad_signatures.load(Ordering::Relaxed);
    println!(
        "\nall {} events delivered; {} requests in all, {} retried after a 503; {} bad signatures",
        events.len(),
        receiver.requests(),
        receiver.refused.load(Ordering::Relaxed),
        bad
    );
    println!("\nLook at every attempt with SQL (psql {}):\n", config.settings.database_url);
    println!("  SELECT started_at, event_type, attempt, status_code, error, duration_ms");
    println!("  FROM hookd.attempt_log WHERE webhook_id = '{}' ORDER BY started_at DESC LIMIT 20;\n", webhook.id);
    println!("  SELECT attempt, count(*) FROM hookd.attempt_log WHERE webhook_id = '{}' GROUP BY attempt;", webhook.id);
    Ok(if bad == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

struct Receiver {
    secret: SigningSecret,
    received: Mutex<HashSet<String>>,
    requests: AtomicUsize,
    refused: AtomicUsize,
    bad_signatures: AtomicUsize,
}

impl Receiver {
    fn new(secret: SigningSecret) -> Self {
        let zero = AtomicUsize::new(0);
        Self { secret, received: Mutex::default(), requests: zero, refused: AtomicUsize::new(0), bad_signatures: AtomicUsize::new(0) }
    }

    fn delivered(&self) -> usize {
        self.received.lock().expect("not poisoned").len()
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    fn verifies(&self, headers: &HeaderMap, body: &[u8]) -> Option<String> {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let id = get("webhook-id")?;
        let timestamp: i64 = get("webhook-timestamp")?.parse().ok()?;
        let expected = self.secret.sign(id, timestamp, body);
        get("webhook-signature")?.split(' ').any(|sig| sig == expected).then(|| id.to_owned())
    }
}

async fn serve_receiver(receiver: Arc<Receiver>) -> anyhow::Result<SocketAddr> {
    async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
        let n = r.requests.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(id) = r.verifies(&headers, &body) else {
            r.bad_signatures.fetch_add(1, Ordering::Relaxed);
            return StatusCode::UNAUTHORIZED;
        };
        let first_attempt = headers.get(hookd_send::sender::ATTEMPT_HEADER).is_some_and(|v| v == "1");
        if first_attempt && n % REFUSE_EVERY == 0 {
            r.refused.fetch_add(1, Ordering::Relaxed);
            return StatusCode::SERVICE_UNAVAILABLE;
        }
        r.received.lock().expect("not poisoned").insert(id);
        StatusCode::NO_CONTENT
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/hooks", post(receive)).with_state(receiver);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}
