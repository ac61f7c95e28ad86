//! `hookd replay`: put failed deliveries back in the queue with a fresh retry schedule.

use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hookd_store::delivery::ReplaySelector;
use serde_json::json;

use crate::cli::ReplayArgs;
use crate::config::Config;

pub async fn run(config: &Config, args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let selector = match (args.webhook, args.event, args.delivery) {
        (Some(id), _, _) => ReplaySelector::Webhook { id, since: args.since.as_deref().map(parse_since).transpose()? },
        (_, Some(event_id), _) => ReplaySelector::Event(event_id),
        (_, _, Some(id)) => ReplaySelector::Delivery(id),
        _ => unreachable!("clap requires one of --webhook, --event, --delivery"),
    };
    let replayed = store.delivery_replay(&selector).await?;
    super::print(args.out, &json!({ "replayed": replayed }), |_| format!("{replayed} failed deliveries put back in the queue"));
    Ok(ExitCode::SUCCESS)
}

/// An RFC 3339 time, or a duration ago such as `2h` or `30m`.
pub fn parse_since(raw: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    let ago = humantime::parse_duration(raw).with_context(|| format!("--since {raw:?}: not an RFC 3339 time nor a duration like 2h"))?;
    chrono::TimeDelta::from_std(ago)
        .ok()
        .and_then(|ago| Utc::now().checked_sub_signed(ago))
        .with_context(|| format!("--since {raw:?} reaches before the start of time"))
}
