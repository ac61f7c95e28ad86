//! `hookd migrate`: create or upgrade the schema.

use std::process::ExitCode;

use crate::config::Config;

pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    super::open_store_and_apply_settings(config).await?;
    println!("hookd schema is up to date");
    Ok(ExitCode::SUCCESS)
}
