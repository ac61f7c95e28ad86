//! One module per subcommand, and the few things they share: opening the store, making a sender,
//! naming this process, printing.

pub mod bench;
pub mod demo;
pub mod events;
pub mod migrate;
pub mod replay;
pub mod serve;
pub mod tail;
pub mod webhook;

use hookd_send::Sender;
use hookd_store::Store;
use serde::Serialize;

use crate::cli::Output;
use crate::config::Config;

/// Connects and makes sure the schema is current: every command works on a fresh database.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.settings.database_url, config.settings.db_pool_size)
        .await?
        .with_sealing_key(config.sealing.clone());
    store.migrate().await?;
    Ok(store)
}

/// [`open_store`], then writes the settings the database enforces for producers: for the
/// commands that own the configuration (`migrate`, `serve`, `demo`), not for read-only ones.
pub async fn open_store_and_apply_settings(config: &Config) -> anyhow::Result<Store> {
    let store = open_store(config).await?;
    store.settings_apply(config.settings.max_payload_bytes).await?;
    let sealed = store.webhook_seal_secrets().await?;
    if sealed > 0 {
        tracing::info!(webhooks = sealed, "sealed signing secrets that were stored in the clear");
    }
    if !store.seals_secrets() {
        tracing::warn!("signing secrets are stored in the clear: set HOOKD_SECRET_KEY (32 random bytes, base64; e.g. `openssl rand -base64 32`) to seal them at rest");
    }
    Ok(store)
}

/// The URL of a database beside the configured one, named `<name>_<suffix>`: the demo and the
/// benchmark work there, never among real webhooks and events.
pub fn sibling_database_url(database_url: &str, suffix: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(database_url).map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    let name = url.path().trim_start_matches('/').to_owned();
    url.set_path(&format!("{}_{suffix}", if name.is_empty() { "hookd" } else { &name }));
    Ok(url.to_string())
}

pub fn sender(config: &Config) -> anyhow::Result<Sender> {
    Ok(Sender::new(config.sender())?)
}

/// This process's name in leases and in the audit: host, pid and a random suffix, so a restarted
/// process with a reused pid is still a different worker.
pub fn worker_id() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}-{}-{:04x}", std::process::id(), rand::random::<u16>())
}

/// Prints `value` as JSON, or the text `render` makes of it.
pub fn print<T: Serialize>(out: Output, value: &T, render: impl FnOnce(&T) -> String) {
    if out.json {
        println!("{}", serde_json::to_string_pretty(value).expect("serialisable"));
    } else {
        println!("{}", render(value));
    }
}
