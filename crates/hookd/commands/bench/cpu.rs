//! CPU time the workers and a local PostgreSQL spend on a run, per delivery: what a delivery
//! costs, a figure the shared machine's noise moves much less than it moves deliveries per second.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

/// Microseconds of CPU (user and system) per delivery.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CpuPerDelivery {
    pub workers_us: f64,
    /// This process: mostly the receiver, and the claim probe.
    pub bench_us: f64,
    /// `None` when no PostgreSQL runs on this machine (or its processes cannot be read).
    pub postgres_us: Option<f64>,
}

/// CPU counters taken when the workers start, to subtract at the end.
pub struct CpuMeter {
    workers: HashMap<u32, Duration>,
    bench: Duration,
    postgres: HashMap<u32, Duration>,
}

impl CpuMeter {
    pub fn start(workers: &[u32]) -> Self {
        Self {
            workers: cpu_of(workers.iter().copied(), Spent::Own),
            bench: process_cpu(std::process::id(), Spent::Own).unwrap_or_default(),
            postgres: cpu_of(processes_named("postgres"), Spent::WithChildren),
        }
    }

    /// What was spent since [`CpuMeter::start`], per delivery. A PostgreSQL process that started
    /// since counts whole. One that exited since counts through the postmaster, which is charged
    /// its reaped children's time (so a backend that was already running at the start and exited
    /// since counts whole too: the bench's sessions are made after the start).
    pub fn per_delivery(&self, deliveries: usize) -> CpuPerDelivery {
        let spent = |before: &HashMap<u32, Duration>, now: HashMap<u32, Duration>| -> Duration {
            now.into_iter().map(|(pid, t)| t.saturating_sub(before.get(&pid).copied().unwrap_or_default())).sum()
        };
        let per = |d: Duration| d.as_secs_f64() * 1e6 / deliveries.max(1) as f64;
        let workers = spent(&self.workers, cpu_of(self.workers.keys().copied(), Spent::Own));
        let bench = process_cpu(std::process::id(), Spent::Own).unwrap_or_default().saturating_sub(self.bench);
        let postgres = cpu_of(processes_named("postgres"), Spent::WithChildren);
        let postgres_us = (!postgres.is_empty()).then(|| per(spent(&self.postgres, postgres)));
        CpuPerDelivery { workers_us: per(workers), bench_us: per(bench), postgres_us }
    }
}

/// Whose CPU time a process is charged with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spent {
    Own,
    /// Its own and its reaped children's: what exited backends cost shows on the postmaster.
    WithChildren,
}

fn cpu_of(pids: impl Iterator<Item = u32>, spent: Spent) -> HashMap<u32, Duration> {
    pids.filter_map(|pid| Some((pid, process_cpu(pid, spent)?))).collect()
}

fn processes_named(name: &str) -> impl Iterator<Item = u32> + '_ {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(move |pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim_end() == name))
}

fn process_cpu(pid: u32, spent: Spent) -> Option<Duration> {
    let ticks = cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?, spent)?;
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    (per_second > 0).then(|| Duration::from_secs_f64(ticks as f64 / per_second as f64))
}

/// utime + stime (and cutime + cstime, with the children) from a `/proc/<pid>/stat` line, in
/// clock ticks. The command name, in parentheses, may itself hold spaces and parentheses: the
/// fields are counted after the last `)`.
fn cpu_ticks(stat: &str, spent: Spent) -> Option<u64> {
    let fields: Vec<&str> = stat.get(stat.rfind(')')? + 1..)?.split_whitespace().collect();
    // After the name come state (field 3) ... utime (14), stime (15), cutime (16), cstime (17).
    let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let own = field(14)? + field(15)?;
    Some(match spent {
        Spent::Own => own,
        Spent::WithChildren => own + field(16)? + field(17)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_read_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (hookd (x) y) S 1 4242 4242 0 -1 4194304 900 0 0 0 170 23 7 5 20 0 9 0 12345 1000 200";
        assert_eq!(cpu_ticks(stat, Spent::Own), Some(193));
        assert_eq!(cpu_ticks(stat, Spent::WithChildren), Some(205));
        assert_eq!(cpu_ticks("4242 (cut short) S 1 2", Spent::Own), None);
    }

    #[test]
    fn this_process_is_seen_spending_cpu() {
        let me = std::process::id();
        let meter = CpuMeter::start(&[me]);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut spin = 0u64;
        while meter.per_delivery(1).workers_us == 0.0 {
            assert!(std::time::Instant::now() < deadline, "no CPU time counted for a spinning process");
            for i in 0..1_000_000u64 {
                spin = std::hint::black_box(spin.wrapping_add(i));
            }
        }
    }

    #[test]
    fn a_child_that_exited_is_charged_to_its_parent_with_children() {
        let me = std::process::id();
        let children = || {
            let with = process_cpu(me, Spent::WithChildren).expect("this process's stat");
            with.saturating_sub(process_cpu(me, Spent::Own).expect("this process's stat"))
        };
        let before = children();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        // Children that burn CPU and exit, until their time shows on this process.
        while children() <= before {
            assert!(std::time::Instant::now() < deadline, "exited children's CPU time never showed");
            let status = std::process::Command::new("sh")
                .args(["-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"])
                .status()
                .expect("sh runs");
            assert!(status.success());
        }
    }
}
