//! hookd's one data layer: every SQL statement hookd runs lives in this crate, next to the Rust
//! function that runs it, named table first (`delivery_claim_batch`, `webhook_insert`, ...).
//!
//! Layout, in pipeline order:
//! - [`event_type`]: the event catalog.
//! - [`outbox`]: producers' rows, and the fan-out that turns each into deliveries.
//! - [`webhook`]: webhooks and their subscriptions.
//! - [`delivery`]: claim, release, finish (fenced), rescue and replay of deliveries.
//! - [`attempt`]: the append-only audit of every HTTP attempt.
//! - [`health`]: endpoint health: `failing_since`, and disabling a webhook on a 410 or after failing too long.
//! - [`worker`]: live `hookd serve` processes and their heartbeats.
//! - [`retention`]: dropping old attempt partitions, pruning finished rows.
//! - [`stats`]: figures about the database itself, for the benchmark.

pub mod attempt;
pub mod delivery;
pub mod event_type;
pub mod health;
pub mod outbox;
pub mod retention;
pub mod stats;
pub mod vacuum;
pub mod webhook;
pub mod worker;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use hookd_core::sealing::SealingKey;
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

pub use sqlx::postgres::PgListener;

/// The default `DATABASE_URL`.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/hookd";

/// Channels for wake-up hints. Payloads are empty: a notification only says "look again".
pub const OUTBOX_CHANNEL: &str = "hookd_outbox";
pub const DELIVERIES_CHANNEL: &str = "hookd_deliveries";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot reach PostgreSQL at {target}: {cause}\n  start one with: docker compose up -d postgres\n  or on Debian: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n  and point DATABASE_URL at it (default {DEFAULT_DATABASE_URL})")]
    Unreachable { target: String, cause: sqlx::Error },
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("this database was migrated by a newer hookd (it has migration {0}, which this build does not know): run that version, or point DATABASE_URL elsewhere")]
    NewerSchema(i64),
    #[error("{field}: {message}")]
    Invalid { field: &'static str, message: String },
    #[error(transparent)]
    Sealing(#[from] hookd_core::sealing::SealError),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A handle on the database: the pool, and the only way to run hookd's SQL. With a sealing key,
/// signing secrets are sealed on the way in and opened on the way out, so nothing above this
/// layer ever sees a sealed value and nothing below it ever holds a plain one.
#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    sealing: Option<SealingKey>,
}

impl Store {
    /// Connects to `database_url`, creating the database first if it does not exist.
    pub async fn connect(database_url: &str, max_connections: u32) -> Result<Self> {
        // A bitmap scan of the queue's partial indexes visits the index entries of every row
        // delivered since the last vacuum and never marks them dead; a plain index scan does, so
        // the next claim skips them. On a table that turns over thousands of rows a second this
        // is the difference between a flat claim and one that slows until autovacuum comes round.
        // JIT compiling pays off for long analytical queries; the claim's estimate (a LIMIT that is
        // a parameter reads as a tenth of the queue per webhook) passes its threshold with a
        // hundred busy webhooks, and compiling then took 30 ms of a claim that runs in 20.
        let options =
            PgConnectOptions::from_str(database_url)?.options([("enable_bitmapscan", "off"), ("jit", "off")]);
        ensure_database_exists(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await
            .map_err(|source| unreachable_error(&options, source))?;
        Ok(Self { pool, sealing: None })
    }

    /// Seals signing secrets at rest with `key` (`HOOKD_SECRET_KEY`).
    pub fn with_sealing_key(mut self, key: Option<SealingKey>) -> Self {
        self.sealing = key;
        self
    }

    pub fn seals_secrets(&self) -> bool {
        self.sealing.is_some()
    }

    /// A secret as it is stored: sealed when there is a key.
    pub(crate) fn seal(&self, secret: &str) -> String {
        match &self.sealing {
            Some(key) => key.seal(secret, rand::random()),
            None => secret.to_owned(),
        }
    }

    /// The secret behind a stored value.
    pub(crate) fn open(&self, stored: &str) -> Result<String> {
        Ok(hookd_core::sealing::open(self.sealing.as_ref(), stored)?)
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Applies the migrations in `migrations/` (embedded at build time).
    pub async fn migrate(&self) -> Result<()> {
        match sqlx::migrate!("../../migrations").run(&self.pool).await {
            Err(sqlx::migrate::MigrateError::VersionMissing(version)) => Err(StoreError::NewerSchema(version)),
            other => Ok(other?),
        }
    }

    /// Writes the settings the database enforces for producers. Only `migrate` and `serve` call
    /// this: a read-only command run from another shell must not change the producers' limits.
    pub async fn settings_apply(&self, max_payload_bytes: u64) -> Result<()> {
        sqlx::query(
            "INSERT INTO hookd.settings (name, value) VALUES ('max_payload_bytes', $1)
             ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        )
        .bind(max_payload_bytes.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The database `database_url` connects to, as the driver reads it (a `dbname` parameter wins
    /// over the path).
    pub fn database_name(database_url: &str) -> Result<Option<String>> {
        Ok(PgConnectOptions::from_str(database_url)?.get_database().map(str::to_owned))
    }

    /// How many sessions other than this call's are connected to the database `database_url`
    /// names (0 when it does not exist).
    pub async fn database_sessions(database_url: &str) -> Result<i64> {
        let options = PgConnectOptions::from_str(database_url)?;
        let Some((name, mut conn)) = admin_connection(&options).await? else { return Ok(0) };
        let sessions = sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
        conn.close().await.ok();
        Ok(sessions)
    }

    /// Drops the database `database_url` names, with any connections still open to it.
    pub async fn drop_database(database_url: &str) -> Result<()> {
        let options = PgConnectOptions::from_str(database_url)?;
        let Some((name, mut conn)) = admin_connection(&options).await? else { return Ok(()) };
        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", name.replace('"', "\"\"")))
            .execute(&mut conn)
            .await?;
        Ok(())
    }

    /// A dedicated LISTEN connection for the wake-up channels.
    pub async fn listener(&self) -> Result<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen_all([OUTBOX_CHANNEL, DELIVERIES_CHANNEL]).await?;
        Ok(listener)
    }

    /// Whether the database answers, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

fn unreachable_error(options: &PgConnectOptions, source: sqlx::Error) -> StoreError {
    match source {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => StoreError::Unreachable {
            target: format!("{}:{}", options.get_host(), options.get_port()),
            cause: source,
        },
        other => StoreError::Db(other),
    }
}

/// The database `options` name, and a connection to the server's `postgres` database from which
/// to create, inspect or drop it; `None` when `options` name no database.
async fn admin_connection(options: &PgConnectOptions) -> Result<Option<(String, PgConnection)>> {
    let Some(name) = options.get_database().map(str::to_owned) else { return Ok(None) };
    let admin = options.clone().database("postgres").log_statements(tracing::log::LevelFilter::Trace);
    let conn = PgConnection::connect_with(&admin).await.map_err(|e| unreachable_error(options, e))?;
    Ok(Some((name, conn)))
}

async fn ensure_database_exists(options: &PgConnectOptions) -> Result<()> {
    let Some((name, mut conn)) = admin_connection(options).await? else { return Ok(()) };
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let sql = format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""));
        match sqlx::query(&sql).execute(&mut conn).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Another process created it between our check and our CREATE.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(e) => return Err(e.into()),
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// Maps a unique or check violation to a field error, so callers can say which field is at fault.
pub(crate) fn field_error(field: &'static str, message: impl ToString) -> StoreError {
    StoreError::Invalid { field, message: message.to_string() }
}
