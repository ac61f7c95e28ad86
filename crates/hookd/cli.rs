//! The command line: what each subcommand is called and takes. Behaviour lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use uuid::Uuid;

use crate::config::LogFormat;

#[derive(Debug, Parser)]
#[command(name = "hookd", version, about = "Durable webhook delivery from a Postgres outbox")]
pub struct Cli {
    /// Config file (default: config/hookd.toml when it exists).
    #[arg(long, global = true, env = "HOOKD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format for `serve` and `demo`.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the hookd schema.
    Migrate,
    /// Run the worker pool (migrates first), and the admin API and page when HOOKD_ADMIN_TOKEN is
    /// set, until SIGINT/SIGTERM.
    Serve,
    /// Try hookd end to end: a local receiver, a webhook, the seed's events, delivered live.
    Demo(DemoArgs),
    /// The event catalog.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Manage webhooks.
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Put failed deliveries back in the queue.
    Replay(ReplayArgs),
    /// Follow delivery attempts as they are recorded, until Ctrl-C.
    Tail(TailArgs),
    /// Measure throughput and latency against the configured Postgres (uses a scratch database).
    Bench(BenchArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// A backlog of --events events to one webhook.
    Drain,
    /// --rate events per second for --seconds, one webhook: commit-to-receipt latency.
    Steady,
    /// One event to --webhooks webhooks.
    Fanout,
    /// 20 webhooks, one hanging until the timeout: how much the other 19 lose.
    Isolation,
    /// 10 webhooks, half failing every first attempt.
    RetryStorm,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenarios to run (default: all).
    #[arg(long = "scenario", value_enum)]
    pub scenarios: Vec<Scenario>,
    /// Events in the drain backlog.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Offered rate for steady, events per second.
    #[arg(long, default_value_t = 500)]
    pub rate: usize,
    /// How long steady offers load.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// Webhooks in the fanout scenario.
    #[arg(long, default_value_t = 1000)]
    pub webhooks: usize,
    /// `hookd serve` processes to run.
    #[arg(long, default_value_t = 1)]
    pub processes: usize,
    /// Small sizes, for CI: checks every event arrives, not the speed.
    #[arg(long)]
    pub quick: bool,
    /// Deliver to this receiver instead of the benchmark's own (drain, steady and fanout only:
    /// the others script misbehaving receivers). Arrivals are then timed by hookd's attempt log
    /// (when each answer came back), not by the receiver's clock.
    #[arg(long, value_name = "URL")]
    pub target: Option<url::Url>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How many times to publish each of the catalog's events.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// After delivering, keep the worker, the receiver and the admin page running until Ctrl-C.
    #[arg(long)]
    pub stay: bool,
}

#[derive(Debug, Args, Clone, Copy)]
pub struct Output {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// List event types.
    List {
        #[command(flatten)]
        out: Output,
    },
    /// Show one event type with its sample payload.
    Show {
        slug: String,
        #[command(flatten)]
        out: Output,
    },
    /// Add an event type to the catalog.
    Add {
        /// The slug producers write into outbox.event_type, e.g. order_shipped.
        #[arg(long)]
        slug: String,
        /// Display name; defaults to the slug.
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "")]
        description: String,
        /// Sample payload, a JSON object, sent by Send Test Event.
        #[arg(long, default_value = "{}")]
        sample: String,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add a webhook; prints its id and signing secret.
    Add {
        #[arg(long)]
        name: String,
        #[arg(long)]
        url: String,
        /// An event type to receive; repeat for more, `*` for all.
        #[arg(long = "event", required = true)]
        events: Vec<String>,
        /// Who created it (the seed's field).
        #[arg(long, default_value = "manual")]
        integration: String,
        /// At most this many requests per second to it (1 to 10000) from each worker process.
        #[arg(long, value_name = "N")]
        max_rps: Option<String>,
        /// A custom header sent with every request, 'Name: value'; repeat for more.
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        #[command(flatten)]
        out: Output,
    },
    /// List webhooks.
    List {
        /// Only names or URLs containing this text.
        #[arg(long)]
        search: Option<String>,
        /// Only webhooks receiving this event type.
        #[arg(long)]
        event: Option<String>,
        /// Only active (true) or inactive (false) webhooks.
        #[arg(long)]
        active: Option<bool>,
        #[command(flatten)]
        out: Output,
    },
    /// Show one webhook.
    Show {
        id: Uuid,
        /// Also print the signing secret.
        #[arg(long)]
        reveal: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Change a webhook's name, URL, events or custom headers.
    Update {
        id: Uuid,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        url: Option<String>,
        /// Replaces the event list; repeat for more, `*` for all.
        #[arg(long = "event")]
        events: Vec<String>,
        /// Requests per second at most (1 to 10000) from each worker process; `off` for no limit.
        #[arg(long, value_name = "N|off")]
        max_rps: Option<String>,
        /// Replaces the custom headers, 'Name: value'; repeat for more.
        #[arg(long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// Removes every custom header.
        #[arg(long, conflicts_with = "headers")]
        clear_headers: bool,
        #[command(flatten)]
        out: Output,
    },
    /// Start delivering to a webhook again.
    Enable {
        id: Uuid,
        #[command(flatten)]
        out: Output,
    },
    /// Stop delivering to a webhook; its pending deliveries are cancelled.
    Disable {
        id: Uuid,
        #[arg(long, default_value = "disabled by an admin")]
        reason: String,
        #[command(flatten)]
        out: Output,
    },
    /// Delete a webhook; its attempts stay in the audit.
    Delete {
        id: Uuid,
        #[command(flatten)]
        out: Output,
    },
    /// Replace the signing secret; the old one keeps signing beside it for the grace period.
    RotateSecret {
        id: Uuid,
        /// How long the old secret keeps signing too (two signatures per request), e.g. 24h, 30m, 0s.
        #[arg(long, default_value = "24h")]
        grace: humantime::Duration,
        #[command(flatten)]
        out: Output,
    },
    /// Send Test Event: POST a sample payload now and show what came back (exit 0 only on 2xx).
    Test {
        id: Uuid,
        /// The event type whose sample to send (default: the webhook's first).
        #[arg(long)]
        event: Option<String>,
        #[command(flatten)]
        out: Output,
    },
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["webhook", "event", "delivery"])))]
pub struct ReplayArgs {
    /// Replay this webhook's failed deliveries.
    #[arg(long)]
    pub webhook: Option<Uuid>,
    /// Only those that failed since then: an RFC 3339 time or a duration ago, like 2h.
    #[arg(long, requires = "webhook")]
    pub since: Option<String>,
    /// Replay every failed delivery of this event (its event_id).
    #[arg(long)]
    pub event: Option<Uuid>,
    /// Replay one failed delivery.
    #[arg(long)]
    pub delivery: Option<i64>,
    #[command(flatten)]
    pub out: Output,
}

#[derive(Debug, Args)]
pub struct TailArgs {
    #[arg(long)]
    pub webhook: Option<Uuid>,
    /// Only attempts for this event type.
    #[arg(long)]
    pub event: Option<String>,
    /// Only failed attempts.
    #[arg(long)]
    pub failed: bool,
    /// Start this far back (e.g. 10m) instead of now.
    #[arg(long)]
    pub since: Option<humantime::Duration>,
    #[command(flatten)]
    pub out: Output,
}
