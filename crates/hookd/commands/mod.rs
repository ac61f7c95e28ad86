//! One module per subcommand, and the few things they share: opening the store, making a sender,
//! naming this process, printing.

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
    let store = Store::connect(&config.settings.database_url, config.settings.db_pool_size).await?;
    store.migrate(config.settings.max_payload_bytes).await?;
    Ok(store)
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
