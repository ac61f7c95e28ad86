//! `hookd`: durable webhook delivery from a Postgres outbox.
//!
//! This binary is glue: it parses the command line ([`cli`]), loads the configuration
//! ([`config`]), sets up logging ([`telemetry`]) and runs one of [`commands`], which wire the
//! library crates together:
//! - `hookd-core`: the vocabulary and every pure decision;
//! - `hookd-store`: the one data layer;
//! - `hookd-send`: one signed POST;
//! - `hookd-worker`: the delivery pipeline.

mod cli;
mod commands;
mod config;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::config::Config;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    let log_format = cli.log_format.unwrap_or(config.settings.log_format);
    let long_running = matches!(cli.command, Command::Serve);
    telemetry::init(log_format, if long_running { "info" } else { "warn" });
    match cli.command {
        Command::Migrate => commands::migrate::run(&config).await,
        Command::Serve => commands::serve::run(&config).await,
        Command::Demo(args) => commands::demo::run(config, args).await,
        Command::Events(cmd) => commands::events::run(&config, cmd).await,
        Command::Webhook(cmd) => commands::webhook::run(&config, cmd).await,
        Command::Replay(args) => commands::replay::run(&config, args).await,
        Command::Tail(args) => commands::tail::run(&config, args).await,
        Command::Bench(args) => commands::bench::run(&config, args).await,
    }
}
