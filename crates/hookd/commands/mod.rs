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
/// A `dbname` query parameter names the database over the path (libpq and sqlx both read it so),
/// so it is the one renamed when present: the scratch database must never be the real one.
pub fn sibling_database_url(database_url: &str, suffix: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(database_url).map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    let sibling = |name: &str| format!("{}_{suffix}", if name.is_empty() { "hookd" } else { name });
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    if query.iter().any(|(key, _)| key == "dbname") {
        let renamed: Vec<(String, String)> = query
            .into_iter()
            .map(|(key, value)| if key == "dbname" { (key, sibling(&value)) } else { (key, value) })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(renamed);
    } else {
        let name = url.path().trim_start_matches('/').to_owned();
        url.set_path(&sibling(&name));
    }
    Ok(url.to_string())
}

/// A scratch database beside the configured one (see [`sibling_database_url`]), dropped first if
/// an earlier run left it, so each run starts on the schema this build migrates to and with
/// nothing of the last run's. Refused while anything is connected to it: dropping a database
/// another run is working in would leave that run's workers serving this one's.
pub async fn fresh_scratch_database(database_url: &str, suffix: &str, purpose: &str, busy_hint: &str) -> anyhow::Result<String> {
    let scratch_url = sibling_database_url(database_url, suffix)?;
    let scratch = Store::database_name(&scratch_url)?.unwrap_or_default();
    anyhow::ensure!(
        Store::database_name(database_url)?.as_deref() != Some(scratch.as_str()),
        "the {purpose}'s scratch database would be {scratch}, the configured database itself"
    );
    let sessions = Store::database_sessions(&scratch_url).await?;
    anyhow::ensure!(
        sessions == 0,
        "{sessions} session(s) are connected to the {purpose}'s scratch database {scratch}: {busy_hint}; stop them first"
    );
    Store::drop_database(&scratch_url).await?;
    Ok(scratch_url)
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

#[cfg(test)]
mod tests {
    use super::sibling_database_url;

    #[test]
    fn the_sibling_database_is_named_beside_the_configured_one() {
        assert_eq!(sibling_database_url("postgres://u@h:5432/shop", "bench").unwrap(), "postgres://u@h:5432/shop_bench");
        assert_eq!(sibling_database_url("postgres://u@h/", "demo").unwrap(), "postgres://u@h/hookd_demo");
    }

    /// `dbname` overrides the path when connecting, so renaming only the path would point the
    /// scratch URL (which the benchmark drops) at the real database.
    #[test]
    fn a_dbname_parameter_is_the_name_that_is_renamed() {
        let url = sibling_database_url("postgres://u@h/ignored?sslmode=disable&dbname=shop", "bench").unwrap();
        assert_eq!(url, "postgres://u@h/ignored?sslmode=disable&dbname=shop_bench");
    }
}
