//! The benchmark's results: one row per scenario, as a table and as JSON.

use serde::Serialize;

use super::cpu::CpuPerDelivery;
use crate::cli::Scenario;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: Scenario,
    pub deliveries: usize,
    pub seconds: f64,
    pub deliveries_per_second: f64,
    pub latency_ms: Option<Percentiles>,
    #[serde(flatten)]
    pub costs: Costs,
    /// Drain only: how long a claim took near the start and near the end of the run.
    pub claim_ms: Option<ClaimLatency>,
    pub note: String,
}

/// What a run cost: the workers' memory, and the database work and CPU time per delivery.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Costs {
    pub worker_peak_rss_mib: f64,
    pub transactions_per_delivery: f64,
    pub statements_per_delivery: Option<f64>,
    /// While the workers ran; `None` when the workers' CPU time could not be read.
    pub cpu_us_per_delivery: Option<CpuPerDelivery>,
}

/// Medians of the first and the last few timed claims, and how many were timed.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ClaimLatency {
    pub start_ms: f64,
    pub end_ms: f64,
    pub samples: usize,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(mut samples: Vec<f64>) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Some(Self { p50: at(0.50), p95: at(0.95), p99: at(0.99), max: at(1.0) })
    }
}

impl Report {
    pub fn new(
        scenario: Scenario,
        deliveries: usize,
        seconds: f64,
        deliveries_per_second: f64,
        latencies: Option<Vec<f64>>,
        costs: Costs,
        note: String,
    ) -> Self {
        Self {
            scenario,
            deliveries,
            seconds,
            deliveries_per_second,
            latency_ms: latencies.and_then(Percentiles::of),
            costs,
            claim_ms: None,
            note,
        }
    }
}

pub fn name(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Drain => "drain",
        Scenario::Steady => "steady",
        Scenario::Fanout => "fanout",
        Scenario::Isolation => "isolation",
        Scenario::RetryStorm => "retry-storm",
    }
}

pub fn table(reports: &[Report], processes: usize) -> String {
    let mut out = format!(
        "hookd bench ({processes} hookd serve process{}, {} cores)\n{:<12} {:>11} {:>8} {:>12} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>12} {:>12}  note\n",
        if processes == 1 { "" } else { "es" },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "scenario", "deliveries", "seconds", "deliveries/s", "p50 ms", "p95 ms", "p99 ms", "RSS MiB", "xact/dlv", "stmt/dlv", "pg us/dlv", "hookd us/dlv", "bench us/dlv"
    );
    for r in reports {
        let cpu = r.costs.cpu_us_per_delivery;
        let lat = |f: fn(&Percentiles) -> f64| dash_or(r.latency_ms.as_ref().map(|p| format!("{:.1}", f(p))));
        out.push_str(&format!(
            "{:<12} {:>11} {:>8.2} {:>12.0} {:>8} {:>8} {:>8} {:>9.1} {:>9.2} {:>9} {:>10} {:>12} {:>12}  {}\n",
            name(r.scenario),
            r.deliveries,
            r.seconds,
            r.deliveries_per_second,
            lat(|p| p.p50),
            lat(|p| p.p95),
            lat(|p| p.p99),
            r.costs.worker_peak_rss_mib,
            r.costs.transactions_per_delivery,
            dash_or(r.costs.statements_per_delivery.map(|s| format!("{s:.2}"))),
            dash_or(cpu.and_then(|c| c.postgres_us).map(|us| format!("{us:.0}"))),
            dash_or(cpu.map(|c| format!("{:.0}", c.workers_us))),
            dash_or(cpu.map(|c| format!("{:.0}", c.bench_us))),
            r.note
        ));
    }
    out
}

fn dash_or(value: Option<String>) -> String {
    value.unwrap_or_else(|| "-".into())
}
