//! `hookd tail`: follow attempts as they are recorded, one line each, until Ctrl-C.
//!
//! Attempt ids are assigned at insert but become visible at commit, so a row with a lower id can
//! appear after a higher one. The tail therefore re-reads a window behind the newest id it has
//! printed and skips what it has already shown. hookd's own recorder commits within milliseconds
//! of taking ids, far inside the window.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use hookd_store::attempt::{AttemptFilter, AttemptLogRow};
use tokio::time::Instant;

use crate::cli::TailArgs;
use crate::config::Config;

/// How long a commit may lag behind its id being assigned and still be shown.
const REORDER_WINDOW: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(250);
const PAGE: i64 = 1000;

pub async fn run(config: &Config, args: TailArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let filter = AttemptFilter {
        webhook_id: args.webhook,
        event_type: args.event,
        event_id: None,
        failed_only: args.failed,
    };
    let now = chrono::Utc::now();
    let window = chrono::TimeDelta::from_std(REORDER_WINDOW)?;
    // Start a window back, so an attempt whose id was taken before we started but which commits
    // after is still shown; what is visible in that window now counts as already seen.
    let (mut floor, print_history) = match args.since {
        Some(ago) => {
            let ago = chrono::TimeDelta::from_std(*ago).ok().and_then(|ago| now.checked_sub_signed(ago));
            (store.attempt_first_id_since(ago.context("--since reaches before the start of time")?).await?, true)
        }
        None => (store.attempt_last_id_recorded_before(now - window).await?, false),
    };
    let mut seen: HashMap<i64, Instant> = HashMap::new();
    let print = |row: &AttemptLogRow| -> anyhow::Result<()> {
        if args.out.json {
            println!("{}", serde_json::to_string(row)?);
        } else {
            println!("{}", line(row));
        }
        Ok(())
    };
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let mut first_pass = true;
    loop {
        // Page through everything above the floor; a burst of any size is shown in one poll.
        let mut after = floor;
        loop {
            let rows = store.attempt_log_after(after, &filter, PAGE).await?;
            for row in &rows {
                if seen.insert(row.attempt_id, Instant::now()).is_none() && (print_history || !first_pass) {
                    print(row)?;
                }
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == PAGE => after = last.attempt_id,
                _ => break,
            }
        }
        first_pass = false;
        // Ids seen longer ago than the window are settled: move the floor past them, forget them.
        let now = Instant::now();
        if let Some(settled) = seen.iter().filter(|(_, at)| now - **at > REORDER_WINDOW).map(|(id, _)| *id).max() {
            floor = floor.max(settled);
            seen.retain(|id, _| *id > floor);
        }
        tokio::select! {
            _ = &mut stop => return Ok(ExitCode::SUCCESS),
            _ = tokio::time::sleep(POLL) => {}
        }
    }
}

fn line(row: &AttemptLogRow) -> String {
    let outcome = match (row.status_code, &row.error) {
        (Some(status), Some(err)) => format!("{status} {err}"),
        (Some(status), None) => status.to_string(),
        (None, Some(err)) => err.clone(),
        (None, None) => "-".into(),
    };
    format!(
        "{}  {:<24} {}  {:<24} #{:<2} {:<14} {:>6} ms{}",
        row.started_at.format("%Y-%m-%d %H:%M:%S%.3f"),
        row.event_type,
        row.event_id,
        row.webhook_name.as_deref().unwrap_or("(deleted)"),
        row.attempt,
        outcome,
        row.duration_ms,
        if row.test { "  [test]" } else { "" },
    )
}
