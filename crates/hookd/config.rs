//! Configuration: built-in defaults, then `config/hookd.toml` (or `--config`), then environment
//! variables (`DATABASE_URL`, `HOOKD_*`), each overriding the one before. Raw settings become a
//! validated [`Config`] once, here; nothing else reads the environment.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use hookd_api::AdminToken;
use hookd_core::sealing::SealingKey;
use hookd_core::schedule::{RetrySchedule, DEFAULT_SCHEDULE};
use hookd_core::target::TargetPolicy;
use hookd_send::SenderConfig;
use hookd_worker::WorkerConfig;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Read when no `--config` is given and the file exists in the working directory.
const DEFAULT_FILE: &str = "config/hookd.toml";

/// Loopback only by default: exposing the admin surface is a decision, not an accident.
pub const DEFAULT_ADMIN_ADDR: &str = "127.0.0.1:8080";

/// `/readyz`: a due delivery waiting longer than this means the workers are not keeping up (or
/// stopped claiming).
pub const DEFAULT_READY_MAX_DUE_AGE: Duration = Duration::from_secs(60);

/// Every setting, with its default. `config/hookd.toml` documents each one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub database_url: String,
    pub db_pool_size: u32,
    pub max_payload_bytes: u64,
    pub retry_schedule: String,
    pub allow_private_targets: bool,
    pub allowed_networks: Vec<IpNet>,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    pub max_response_body: usize,
    /// A PEM file of CA certificates trusted for HTTPS besides the system's roots.
    pub extra_ca_bundle: Option<PathBuf>,
    pub concurrency: usize,
    pub per_webhook_concurrency: usize,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub lease_margin: Duration,
    #[serde(with = "humantime_serde")]
    pub heartbeat_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub heartbeat_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    #[serde(with = "humantime_serde")]
    pub retention: Duration,
    #[serde(with = "humantime_serde")]
    pub retention_interval: Duration,
    /// A webhook failing without a success this long is disabled at its next failure (0s: never).
    #[serde(with = "humantime_serde")]
    pub disable_after: Duration,
    /// Consecutive failures that open a webhook's circuit (0: never), and how long it stays open.
    pub circuit_failures: u32,
    #[serde(with = "humantime_serde")]
    pub circuit_cooldown: Duration,
    pub log_format: LogFormat,
    /// Where `hookd serve` serves the admin API and page.
    pub admin_addr: String,
    /// The admin API's bearer token; without one the API is not served.
    pub admin_token: Option<AdminToken>,
    /// `/readyz` fails when the oldest due delivery has waited longer than this (0s: not checked).
    #[serde(with = "humantime_serde")]
    pub ready_max_due_age: Duration,
    /// Seals signing secrets at rest (32 bytes, base64); read from HOOKD_SECRET_KEY too.
    pub secret_key: Option<SecretKeyText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        let worker = WorkerConfig::default();
        let sender = SenderConfig::default();
        Self {
            database_url: hookd_store::DEFAULT_DATABASE_URL.to_owned(),
            db_pool_size: 16,
            max_payload_bytes: 256 * 1024,
            retry_schedule: DEFAULT_SCHEDULE.to_owned(),
            allow_private_targets: false,
            allowed_networks: Vec::new(),
            connect_timeout: sender.connect_timeout,
            request_timeout: sender.request_timeout,
            max_response_body: sender.max_response_body,
            extra_ca_bundle: sender.extra_ca_bundle,
            concurrency: worker.concurrency,
            per_webhook_concurrency: worker.per_webhook_concurrency,
            poll_interval: worker.poll_interval,
            lease_margin: worker.lease_margin,
            heartbeat_interval: worker.heartbeat_interval,
            heartbeat_timeout: worker.heartbeat_timeout,
            shutdown_grace: worker.shutdown_grace,
            retention: worker.retention,
            retention_interval: worker.retention_interval,
            disable_after: worker.disable_after,
            circuit_failures: worker.circuit_failures,
            circuit_cooldown: worker.circuit_cooldown,
            log_format: LogFormat::Text,
            admin_addr: DEFAULT_ADMIN_ADDR.to_owned(),
            admin_token: None,
            ready_max_due_age: DEFAULT_READY_MAX_DUE_AGE,
            secret_key: None,
        }
    }
}

/// Validated configuration, ready to wire.
#[derive(Debug, Clone)]
pub struct Config {
    pub settings: Settings,
    pub schedule: RetrySchedule,
    /// The key signing secrets are sealed with at rest, when one is configured.
    pub sealing: Option<SealingKey>,
}

/// The sealing key as configured: never printed.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretKeyText(pub String);

impl std::fmt::Debug for SecretKeyText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Config {
    /// Loads defaults, then the file (if it exists, or fails if it was named and is missing),
    /// then the environment.
    pub fn load(path: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match path {
            Some(path) if !path.exists() => bail!("config file {} does not exist", path.display()),
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            // Only the working directory's file: a search up the tree could pick up a stranger's.
            None if Path::new(DEFAULT_FILE).exists() => figment = figment.merge(Toml::file_exact(DEFAULT_FILE)),
            None => {}
        }
        let figment = figment
            // The admin token is read below, as it is: figment would turn a token like `12345`
            // or `true` into a number or a boolean (and `007` into 7).
            .merge(Env::prefixed("HOOKD_").ignore(&["config", "secret_key", "admin_token"]))
            .merge(Env::raw().only(&["database_url"]));
        let mut settings: Settings = figment.extract().context("invalid configuration")?;
        if let Ok(token) = std::env::var("HOOKD_ADMIN_TOKEN") {
            settings.admin_token = Some(AdminToken::new(token));
        }
        if let Ok(key) = std::env::var("HOOKD_SECRET_KEY") {
            settings.secret_key = Some(SecretKeyText(key));
        }
        Self::validate(settings)
    }

    pub fn validate(settings: Settings) -> anyhow::Result<Self> {
        let sealing = match settings.secret_key.as_ref().map(|k| k.0.trim()).filter(|k| !k.is_empty()) {
            Some(key) => Some(SealingKey::parse(key).context("secret_key (HOOKD_SECRET_KEY)")?),
            None => None,
        };
        let schedule = RetrySchedule::parse(&settings.retry_schedule).context("retry_schedule (HOOKD_RETRY_SCHEDULE)")?;
        if settings.concurrency == 0 || settings.per_webhook_concurrency == 0 {
            bail!("concurrency and per_webhook_concurrency must be at least 1");
        }
        if settings.max_payload_bytes == 0 || settings.max_response_body == 0 {
            bail!("max_payload_bytes and max_response_body must be at least 1");
        }
        if settings.db_pool_size < 2 {
            bail!("db_pool_size (HOOKD_DB_POOL_SIZE) must be at least 2: the LISTEN connection holds one");
        }
        let zero = |d: Duration| d.is_zero();
        if zero(settings.poll_interval) || zero(settings.connect_timeout) || zero(settings.request_timeout) {
            bail!("poll_interval, connect_timeout and request_timeout must be longer than 0");
        }
        if zero(settings.heartbeat_interval) || settings.heartbeat_timeout < settings.heartbeat_interval * 2 {
            bail!(
                "heartbeat_interval (HOOKD_HEARTBEAT_INTERVAL) must be above 0 and heartbeat_timeout \
                 (HOOKD_HEARTBEAT_TIMEOUT) at least twice as long, or live workers would look dead \
                 (got {:?} and {:?})",
                settings.heartbeat_interval,
                settings.heartbeat_timeout
            );
        }
        if settings.admin_addr.trim().is_empty() {
            bail!("admin_addr (HOOKD_ADMIN_ADDR) must be an address like 127.0.0.1:8080");
        }
        Ok(Self { settings, schedule, sealing })
    }

    pub fn target_policy(&self) -> TargetPolicy {
        TargetPolicy {
            allow_private: self.settings.allow_private_targets,
            allowed_networks: self.settings.allowed_networks.clone(),
        }
    }

    /// The admin token, when one is configured and not blank.
    pub fn admin_token(&self) -> Option<AdminToken> {
        self.settings.admin_token.clone().filter(|t| !t.is_empty())
    }

    pub fn sender(&self) -> SenderConfig {
        SenderConfig {
            connect_timeout: self.settings.connect_timeout,
            request_timeout: self.settings.request_timeout,
            max_response_body: self.settings.max_response_body,
            policy: self.target_policy(),
            extra_ca_bundle: self.settings.extra_ca_bundle.clone(),
        }
    }

    pub fn worker(&self, worker_id: String) -> WorkerConfig {
        let s = &self.settings;
        WorkerConfig {
            worker_id,
            concurrency: s.concurrency,
            per_webhook_concurrency: s.per_webhook_concurrency,
            poll_interval: s.poll_interval,
            lease_margin: s.lease_margin,
            heartbeat_interval: s.heartbeat_interval,
            heartbeat_timeout: s.heartbeat_timeout,
            shutdown_grace: s.shutdown_grace,
            retention: s.retention,
            retention_interval: s.retention_interval,
            schedule: self.schedule.clone(),
            disable_after: s.disable_after,
            circuit_failures: s.circuit_failures,
            circuit_cooldown: s.circuit_cooldown,
            ..WorkerConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_file_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/hookd.toml");
        let from_file: Settings = Figment::new().merge(Toml::file_exact(&path)).extract().unwrap();
        let defaults = Settings::default();
        assert_eq!(serde_json::to_value(&from_file).unwrap(), serde_json::to_value(&defaults).unwrap());
    }

    #[test]
    fn the_secret_key_is_parsed_and_never_shows_in_debug_output() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let settings = Settings { secret_key: Some(SecretKeyText(key.into())), ..Settings::default() };
        let config = Config::validate(settings).unwrap();
        assert!(config.sealing.is_some());
        assert!(!format!("{config:?}").contains(key));
        let bad = Settings { secret_key: Some(SecretKeyText("too short".into())), ..Settings::default() };
        assert!(format!("{:#}", Config::validate(bad).unwrap_err()).contains("HOOKD_SECRET_KEY"));
    }

    #[test]
    fn the_admin_token_never_shows_in_debug_output() {
        let settings = Settings { admin_token: Some(AdminToken::new("hunter2-token")), ..Settings::default() };
        let config = Config::validate(settings).unwrap();
        assert!(!format!("{config:?}").contains("hunter2-token"));
        assert_eq!(config.admin_token().unwrap().expose(), "hunter2-token");
    }

    #[test]
    fn a_blank_admin_token_counts_as_none() {
        let settings = Settings { admin_token: Some(AdminToken::new("  ")), ..Settings::default() };
        assert!(Config::validate(settings).unwrap().admin_token().is_none());
    }

    #[test]
    fn heartbeat_settings_that_make_live_workers_look_dead_are_refused() {
        for (interval, timeout) in [(0, 2), (5, 2), (2, 3)] {
            let settings = Settings {
                heartbeat_interval: Duration::from_secs(interval),
                heartbeat_timeout: Duration::from_secs(timeout),
                ..Settings::default()
            };
            let err = format!("{:#}", Config::validate(settings).unwrap_err());
            assert!(err.contains("HOOKD_HEARTBEAT_INTERVAL"), "{err}");
        }
        let pool = Settings { db_pool_size: 1, ..Settings::default() };
        assert!(format!("{:#}", Config::validate(pool).unwrap_err()).contains("db_pool_size"));
    }

    #[test]
    fn a_bad_schedule_is_refused_with_its_name() {
        let settings = Settings { retry_schedule: "5s,soon".into(), ..Settings::default() };
        let err = format!("{:#}", Config::validate(settings).unwrap_err());
        assert!(err.contains("HOOKD_RETRY_SCHEDULE") && err.contains("soon"), "{err}");
    }
}
