//! `hookd bench`: measures hookd the way it runs in production. Each scenario gets a scratch
//! database, a loopback receiver that timestamps arrivals with its own clock, webhooks pointing at
//! it, a producer publishing through `hookd.outbox` from its own connection, and real `hookd serve`
//! processes. It reports deliveries per second, commit-to-receipt latency, the workers' peak RSS
//! and database transactions (and statements, with pg_stat_statements) per delivery.

mod cpu;
mod receiver;
mod report;

use std::collections::{HashMap, HashSet};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use hookd_core::target::TargetPolicy;
use hookd_core::webhook::WebhookInput;
use hookd_store::Store;
use indicatif::{ProgressBar, ProgressStyle};
use tokio::process::{Child, Command};

use self::receiver::{Behaviour, Receipt, Receipts};
use self::report::{Costs, Report};
use crate::cli::{BenchArgs, Scenario};
use crate::config::Config;

const ALL: [Scenario; 5] = [Scenario::Drain, Scenario::Steady, Scenario::Fanout, Scenario::Isolation, Scenario::RetryStorm];
/// Request timeout in the isolation scenario: the hanging webhook holds a slot this long.
const ISOLATION_TIMEOUT: Duration = Duration::from_secs(2);
/// Runs with and without the hanging webhook, alternating, in the isolation scenario.
const ISOLATION_PAIRS: usize = 3;

pub async fn run(config: &Config, mut args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.quick {
        args.events = args.events.min(2_000);
        args.seconds = args.seconds.min(3);
        args.rate = args.rate.min(200);
        args.webhooks = args.webhooks.min(100);
    }
    let scripted = |s: &Scenario| matches!(s, Scenario::Isolation | Scenario::RetryStorm);
    let scenarios = match (&args.target, args.scenarios.is_empty()) {
        (None, true) => ALL.to_vec(),
        (None, false) => args.scenarios.clone(),
        (Some(_), true) => {
            eprintln!("--target: running drain, steady and fanout (isolation and retry-storm script the bench's own receiver)");
            ALL.into_iter().filter(|s| !scripted(s)).collect()
        }
        (Some(_), false) => {
            if let Some(s) = args.scenarios.iter().find(|s| scripted(s)) {
                bail!("--target cannot run {}: it scripts a misbehaving receiver, which only the bench's own can be", report::name(*s));
            }
            args.scenarios.clone()
        }
    };
    let mut reports = Vec::new();
    for scenario in scenarios {
        eprintln!("\n== {} ==", report::name(scenario));
        let report = match scenario {
            Scenario::Drain => drain(config, &args).await?,
            Scenario::Steady => steady(config, &args).await?,
            Scenario::Fanout => fanout(config, &args).await?,
            Scenario::Isolation => isolation(config, &args).await?,
            Scenario::RetryStorm => retry_storm(config, &args).await?,
        };
        reports.push(report);
    }
    println!("\n{}", report::table(&reports, args.processes));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&reports)?).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// One scenario's world: a scratch database, a receiver, webhooks, and worker processes.
struct Bench {
    store: Store,
    database_url: String,
    receipts: std::sync::Arc<Receipts>,
    receiver: std::net::SocketAddr,
    /// The receiver given with `--target`, which the webhooks then point at.
    target: Option<url::Url>,
    workers: Vec<Child>,
    transactions_before: i64,
    statements_before: Option<i64>,
    cpu: Option<cpu::CpuMeter>,
}

impl Bench {
    async fn new(config: &Config, args: &BenchArgs, behaviour: Behaviour) -> anyhow::Result<Self> {
        let database_url = super::fresh_scratch_database(
            &config.settings.database_url,
            "bench",
            "benchmark",
            "another `hookd bench` is running (or its `hookd serve` processes outlived it)",
        )
        .await?;
        let store = Store::connect(&database_url, 4).await?;
        store.migrate().await?;
        store.settings_apply(config.settings.max_payload_bytes).await?;
        let (receiver, receipts) = receiver::start(behaviour).await?;
        Ok(Self {
            store,
            database_url,
            receipts,
            receiver,
            target: args.target.clone(),
            workers: Vec::new(),
            transactions_before: 0,
            statements_before: None,
            cpu: None,
        })
    }

    async fn add_webhooks(&self, count: usize, events: &[&str]) -> anyhow::Result<()> {
        for n in 0..count {
            let fields = WebhookInput {
                name: Some(format!("bench-{n}")),
                url: Some(match &self.target {
                    Some(target) => target.to_string(),
                    None => format!("http://{}/w/{n}", self.receiver),
                }),
                events: Some(events.iter().map(|e| e.to_string()).collect()),
                headers: None,
            }
            .validate(&TargetPolicy::allow_all())?;
            let secret = hookd_core::signing::SigningSecret::from_key(rand::random()).expose();
            self.store.webhook_insert(&fields, &secret, "bench").await?;
        }
        Ok(())
    }

    /// Publishes `count` events as a batching producer: 5,000 rows per INSERT.
    async fn publish(&self, count: usize) -> anyhow::Result<HashMap<String, DateTime<Utc>>> {
        let mut committed = HashMap::with_capacity(count);
        let mut left = count;
        while left > 0 {
            let batch = left.min(5_000);
            let events: Vec<_> = (0..batch).map(|i| ("payment_received".to_string(), serde_json::json!({"payment_id": i, "payment_total": "$ 29.00"}))).collect();
            for published in self.store.outbox_publish_many(&events).await? {
                committed.insert(published.event_id.to_string(), published.created_at);
            }
            left -= batch;
        }
        Ok(committed)
    }

    /// Starts `processes` `hookd serve` processes and waits until each has registered.
    async fn start_workers(&mut self, processes: usize, env: &[(&str, String)]) -> anyhow::Result<()> {
        self.transactions_before = self.store.stats_transactions_committed().await?;
        self.statements_before = self.store.stats_statements_executed().await;
        let exe = std::env::current_exe()?;
        for _ in 0..processes {
            let mut cmd = Command::new(&exe);
            cmd.arg("serve")
                .env("DATABASE_URL", &self.database_url)
                .env("HOOKD_ALLOW_PRIVATE_TARGETS", "true")
                .env("RUST_LOG", "warn")
                // Each process serves /healthz, /readyz and /metrics on a port of its own.
                .env("HOOKD_ADMIN_ADDR", "127.0.0.1:0")
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .kill_on_drop(true);
            for (name, value) in env {
                cmd.env(name, value);
            }
            self.workers.push(cmd.spawn().context("starting hookd serve")?);
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.store.stats_workers_alive().await? < processes as i64 {
            if Instant::now() > deadline {
                bail!("hookd serve processes did not register within 30s");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let pids: Vec<u32> = self.workers.iter().filter_map(Child::id).collect();
        self.cpu = Some(cpu::CpuMeter::start(&pids));
        Ok(())
    }

    /// Waits until `done` says so, showing progress, for at most `limit`. With `--target`, the
    /// count is of succeeded deliveries, and the arrivals are then read from the attempt log.
    async fn wait(&self, what: &str, total: usize, limit: Duration, done: impl Fn(&Receipts) -> usize) -> anyhow::Result<()> {
        let bar = ProgressBar::new(total as u64).with_style(
            ProgressStyle::with_template("{spinner} {msg} {pos}/{len} [{bar:40}] {per_sec}").expect("valid template").progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        let deadline = Instant::now() + limit;
        loop {
            let n = match self.target {
                Some(_) => self.store.stats_delivered().await? as usize,
                None => done(&self.receipts),
            };
            bar.set_position(n as u64);
            if n >= total {
                bar.finish();
                if self.target.is_some() {
                    self.arrivals_from_attempt_log().await?;
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                bar.abandon();
                bail!("{what}: only {n} of {total} within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// An outside receiver's arrivals, as hookd saw its answers come back.
    async fn arrivals_from_attempt_log(&self) -> anyhow::Result<()> {
        let answered = self.store.stats_answered().await?;
        let mut delivered = self.receipts.delivered.lock().expect("not poisoned");
        delivered.clear();
        delivered.extend(answered.into_iter().map(|(event_id, at)| Receipt { webhook: 0, event_id: event_id.to_string(), at: at.into() }));
        Ok(())
    }

    /// Stops the workers (SIGTERM, as an operator would) and returns what the run cost.
    async fn finish(mut self, deliveries: usize) -> anyhow::Result<Costs> {
        let cpu = self.cpu.as_ref().map(|meter| meter.per_delivery(deliveries));
        let mut peak_kib = 0u64;
        for child in &mut self.workers {
            if let Some(pid) = child.id() {
                peak_kib = peak_kib.max(peak_rss_kib(pid).unwrap_or(0));
                let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
            }
            let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        }
        let transactions = self.store.stats_transactions_committed().await? - self.transactions_before;
        let statements = match (self.statements_before, self.store.stats_statements_executed().await) {
            (Some(before), Some(after)) => Some((after - before) as f64 / deliveries as f64),
            _ => None,
        };
        self.store.pool().close().await;
        Store::drop_database(&self.database_url).await?;
        Ok(Costs {
            worker_peak_rss_mib: peak_kib as f64 / 1024.0,
            transactions_per_delivery: transactions as f64 / deliveries as f64,
            statements_per_delivery: statements,
            cpu_us_per_delivery: cpu,
        })
    }
}

/// Times a claim now and then while a backlog drains (run and rolled back: nothing is claimed),
/// to show whether claims slow down as the hot tables fill and empty.
struct ClaimProbe {
    stop: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<Vec<Duration>>,
}

impl ClaimProbe {
    const LIMIT: i64 = 100;
    const EVERY: Duration = Duration::from_millis(500);
    /// Samples at each end of the run whose median is reported.
    const ENDS: usize = 5;

    fn start(store: Store) -> Self {
        let stop = tokio_util::sync::CancellationToken::new();
        let token = stop.clone();
        let task = tokio::spawn(async move {
            let mut samples = Vec::new();
            while !token.is_cancelled() {
                // Only full claims compare: near the end there is less left to claim.
                match store.delivery_claim_probe(Self::LIMIT).await {
                    Ok((rows, took)) if rows as i64 == Self::LIMIT => samples.push(took),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "claim latency sample failed"),
                }
                tokio::select! {
                    _ = token.cancelled() => {}
                    _ = tokio::time::sleep(Self::EVERY) => {}
                }
            }
            samples
        });
        Self { stop, task }
    }

    async fn finish(self) -> Option<report::ClaimLatency> {
        self.stop.cancel();
        let samples = self.task.await.ok()?;
        if samples.len() < 2 * Self::ENDS {
            return None;
        }
        let median_ms = |part: &[Duration]| {
            let mut ms: Vec<f64> = part.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
            ms.sort_by(f64::total_cmp);
            ms[ms.len() / 2]
        };
        Some(report::ClaimLatency {
            start_ms: median_ms(&samples[..Self::ENDS]),
            end_ms: median_ms(&samples[samples.len() - Self::ENDS..]),
            samples: samples.len(),
        })
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn worker_env(timeout: Duration, schedule: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HOOKD_REQUEST_TIMEOUT", format!("{}ms", timeout.as_millis())),
        ("HOOKD_RETRY_SCHEDULE", schedule.to_owned()),
        ("HOOKD_POLL_INTERVAL", "100ms".to_owned()),
    ]
}

/// Commit-to-receipt latencies in milliseconds, for the events this run published.
fn latencies(receipts: &Receipts, committed: &HashMap<String, DateTime<Utc>>) -> Vec<f64> {
    receipts
        .delivered
        .lock()
        .expect("not poisoned")
        .iter()
        .filter_map(|r| {
            let created = committed.get(&r.event_id)?;
            let at: DateTime<Utc> = r.at.into();
            Some((at - *created).num_microseconds()? as f64 / 1000.0)
        })
        .collect()
}

/// Deliveries per second between the first and the last receipt.
fn throughput(receipts: &Receipts, webhooks: Option<&HashSet<usize>>) -> (usize, f64, f64) {
    let delivered = receipts.delivered.lock().expect("not poisoned");
    let times: Vec<SystemTime> = delivered.iter().filter(|r| webhooks.is_none_or(|w| w.contains(&r.webhook))).map(|r| r.at).collect();
    let (Some(first), Some(last)) = (times.iter().min(), times.iter().max()) else { return (0, 0.0, 0.0) };
    let seconds = last.duration_since(*first).unwrap_or_default().as_secs_f64().max(1e-3);
    (times.len(), seconds, times.len() as f64 / seconds)
}

async fn drain(config: &Config, args: &BenchArgs) -> anyhow::Result<Report> {
    let mut bench = Bench::new(config, args, Behaviour::default()).await?;
    bench.add_webhooks(1, &["payment_received"]).await?;
    bench.publish(args.events).await?;
    eprintln!("published a backlog of {} events", args.events);
    bench.start_workers(args.processes, &worker_env(config.settings.request_timeout, "1s")).await?;
    let probe = ClaimProbe::start(bench.store.clone());
    bench.wait("delivered", args.events, Duration::from_secs(3600), Receipts::delivered_count).await?;
    let claims = probe.finish().await;
    let (n, seconds, per_second) = throughput(&bench.receipts, None);
    let duplicates = bench.receipts.duplicates();
    let costs = bench.finish(n).await?;
    let mut note = format!("backlog of {} events, 1 webhook, {duplicates} received twice", args.events);
    if let Some(c) = &claims {
        note += &format!("; claim of {}: {:.1} ms at start, {:.1} ms at end", ClaimProbe::LIMIT, c.start_ms, c.end_ms);
    }
    let mut report = Report::new(Scenario::Drain, n, seconds, per_second, None, costs, note);
    report.claim_ms = claims;
    Ok(report)
}

async fn steady(config: &Config, args: &BenchArgs) -> anyhow::Result<Report> {
    let mut bench = Bench::new(config, args, Behaviour::default()).await?;
    bench.add_webhooks(1, &["payment_received"]).await?;
    bench.start_workers(args.processes, &worker_env(config.settings.request_timeout, "1s")).await?;
    // Offer the rate in ticks of 10 ms, each publishing the events due by then in one INSERT.
    let total = args.rate * args.seconds as usize;
    let start = Instant::now();
    let mut committed = HashMap::with_capacity(total);
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    while committed.len() < total {
        tick.tick().await;
        let due = ((start.elapsed().as_secs_f64() * args.rate as f64) as usize).min(total);
        if due > committed.len() {
            committed.extend(bench.publish(due - committed.len()).await?);
        }
    }
    bench.wait("delivered", total, Duration::from_secs(120), Receipts::delivered_count).await?;
    let (n, seconds, per_second) = throughput(&bench.receipts, None);
    let lat = latencies(&bench.receipts, &committed);
    let costs = bench.finish(n).await?;
    Ok(Report::new(Scenario::Steady, n, seconds, per_second, Some(lat), costs, format!("{} events/s offered for {}s", args.rate, args.seconds)))
}

async fn fanout(config: &Config, args: &BenchArgs) -> anyhow::Result<Report> {
    let mut bench = Bench::new(config, args, Behaviour::default()).await?;
    bench.add_webhooks(args.webhooks, &["payment_received"]).await?;
    bench.start_workers(args.processes, &worker_env(config.settings.request_timeout, "1s")).await?;
    let committed = bench.publish(1).await?;
    bench.wait("webhooks reached", args.webhooks, Duration::from_secs(60), Receipts::delivered_count).await?;
    let lat = latencies(&bench.receipts, &committed);
    let all_within = lat.iter().cloned().fold(0.0, f64::max);
    let (n, seconds, per_second) = throughput(&bench.receipts, None);
    let costs = bench.finish(n).await?;
    Ok(Report::new(Scenario::Fanout, n, seconds, per_second, Some(lat), costs, format!("1 event to {} webhooks: all delivered {:.0} ms after commit", args.webhooks, all_within)))
}

async fn isolation(config: &Config, args: &BenchArgs) -> anyhow::Result<Report> {
    let events = (args.events / 20).max(200);
    let fast: HashSet<usize> = (1..20).collect();
    // Throughput on this kind of machine drifts by a third within minutes, so one run with and one
    // without the hanging webhook would measure the drift as much as the loss: runs alternate, and
    // the loss compares the medians.
    let pairs = if args.quick { 1 } else { ISOLATION_PAIRS };
    let mut alone = Vec::new();
    let mut beside = Vec::new();
    for _ in 0..pairs {
        for hanging in [false, true] {
            let behaviour = Behaviour {
                hanging: if hanging { HashSet::from([0]) } else { HashSet::new() },
                hang_for: ISOLATION_TIMEOUT + Duration::from_secs(1),
                ..Behaviour::default()
            };
            let mut bench = Bench::new(config, args, behaviour).await?;
            bench.add_webhooks(20, &["*"]).await?;
            bench.publish(events).await?;
            bench.start_workers(args.processes, &worker_env(ISOLATION_TIMEOUT, "1m")).await?;
            let label = if hanging { "with webhook 0 hanging" } else { "baseline, all 20 fast" };
            bench.wait(label, events * 19, Duration::from_secs(600), |r| {
                r.delivered.lock().expect("not poisoned").iter().filter(|x| x.webhook != 0).count()
            })
            .await?;
            let (n, seconds, per_second) = throughput(&bench.receipts, Some(&fast));
            let costs = bench.finish(n).await?;
            if hanging { &mut beside } else { &mut alone }.push((n, seconds, per_second, costs));
        }
    }
    let each_pair = alone.iter().zip(&beside).map(|(a, b)| format!("{:.1}", loss(a.2, b.2))).collect::<Vec<_>>().join(", ");
    let median_run = |runs: &mut Vec<(usize, f64, f64, Costs)>| {
        runs.sort_by(|a, b| a.2.total_cmp(&b.2));
        runs[runs.len() / 2]
    };
    let (base, hung) = (median_run(&mut alone), median_run(&mut beside));
    Ok(Report::new(
        Scenario::Isolation,
        hung.0,
        hung.1,
        hung.2,
        None,
        hung.3,
        format!(
            "19 fast webhooks: {:.0}/s alone, {:.0}/s beside a hanging one (medians of {pairs} alternating runs): {:.1}% lost (each pair: {each_pair}%)",
            base.2,
            hung.2,
            loss(base.2, hung.2)
        ),
    ))
}

/// Per cent of `alone`'s throughput lost `beside` a hanging webhook.
fn loss(alone: f64, beside: f64) -> f64 {
    100.0 * (1.0 - beside / alone)
}

async fn retry_storm(config: &Config, args: &BenchArgs) -> anyhow::Result<Report> {
    let events = (args.events / 10).max(200);
    let behaviour = Behaviour { fail_first: (0..5).collect(), ..Behaviour::default() };
    let mut bench = Bench::new(config, args, behaviour).await?;
    bench.add_webhooks(10, &["*"]).await?;
    bench.publish(events).await?;
    // This measures retry throughput: a receiver failing every first attempt would otherwise trip
    // its circuit breaker (README "Endpoint health") and be probed once per cool-down.
    let mut env = worker_env(config.settings.request_timeout, "1s");
    env.push(("HOOKD_CIRCUIT_FAILURES", "0".to_owned()));
    bench.start_workers(args.processes, &env).await?;
    bench.wait("delivered", events * 10, Duration::from_secs(600), Receipts::delivered_count).await?;
    let (n, seconds, per_second) = throughput(&bench.receipts, None);
    let requests = bench.receipts.requests.load(std::sync::atomic::Ordering::Relaxed);
    let costs = bench.finish(n).await?;
    Ok(Report::new(Scenario::RetryStorm, n, seconds, per_second, None, costs, format!("{events} events x 10 webhooks, half failing first attempts: {requests} requests")))
}
