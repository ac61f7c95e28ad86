//! Small vocabulary shared by the e2e tests.

use std::time::Duration;

use hookd_core::signing::SigningSecret;
use hookd_core::webhook::WebhookInput;
use hookd_core::target::TargetPolicy;
use hookd_store::webhook::Webhook;
use hookd_store::Store;

/// Generous: the CI machine has 2 cores and is shared.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// Adds an active webhook for `events` at `url`, as `hookd webhook add` does.
pub async fn add_webhook(store: &Store, name: &str, url: &str, events: &[&str]) -> Webhook {
    let fields = WebhookInput {
        name: Some(name.into()),
        url: Some(url.into()),
        events: Some(events.iter().map(|e| e.to_string()).collect()),
        headers: None,
    }
    .validate(&TargetPolicy::allow_all())
    .expect("valid webhook");
    let secret = SigningSecret::from_key(rand::random()).expose();
    store.webhook_insert(&fields, &secret, "manual").await.expect("webhook inserted")
}

/// Deliveries in `state` for `webhook`.
pub async fn deliveries_in(store: &Store, webhook: &Webhook, state: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM hookd.delivery_log WHERE webhook_id = $1 AND state = $2")
        .bind(webhook.id)
        .bind(state)
        .fetch_one(store.pool())
        .await
        .unwrap()
}

// --- The real `hookd` binary -------------------------------------------------------------------
//
// Commands run with the test database, loopback receivers allowed and no `HOOKD_*` or
// `DATABASE_URL` inherited from the caller's environment, so the developer's shell changes nothing.
// They run in the repository root, whose `config/hookd.toml` holds only the defaults (a unit test
// checks that), and every setting a test cares about is passed in the environment.
// (`cli::runs_outside_the_repository_without_a_config_file` checks hookd runs without that file.)

/// The working directory for `hookd` processes: the repository root.
pub fn hookd_cwd() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An empty directory of its own under the target dir: no `config/hookd.toml` in it.
pub fn empty_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hookd-e2e-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("create the directory");
    dir
}

/// `hookd` with `args`, set up for `db`. Killed if dropped before it exits.
pub fn hookd_command(db: &hookd_testkit::TestDb, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookd"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HOOKD_") {
            cmd.env_remove(&name);
        }
    }
    cmd.args(args)
        .current_dir(hookd_cwd())
        .env("DATABASE_URL", &db.url)
        .env("HOOKD_ALLOW_PRIVATE_TARGETS", "true")
        // Tests read `serve`'s info and warn lines from its log.
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// What a finished `hookd` command printed, and how it exited.
#[derive(Debug)]
pub struct CliOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// Stdout as JSON (for `--json`), or a panic showing everything printed.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Panics, showing everything printed, unless the command exited 0.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "hookd failed: {self:#?}");
        self
    }
}

/// Runs `cmd` to completion (killed after [`DEADLINE`]).
pub async fn run_command(mut cmd: tokio::process::Command) -> CliOutput {
    let out = tokio::time::timeout(DEADLINE, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("hookd did not exit within {DEADLINE:?}: {cmd:?}"))
        .expect("hookd runs");
    CliOutput {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `hookd args...` against `db` to completion.
pub async fn hookd(db: &hookd_testkit::TestDb, args: &[&str]) -> CliOutput {
    run_command(hookd_command(db, args)).await
}

/// Environment for `hookd serve` in tests: quick polling, heartbeats and rescue, short leases, a
/// short circuit-breaker cool-down.
pub const SERVE_ENV: &[(&str, &str)] = &[
    ("HOOKD_POLL_INTERVAL", "100ms"),
    ("HOOKD_HEARTBEAT_INTERVAL", "200ms"),
    ("HOOKD_HEARTBEAT_TIMEOUT", "2s"),
    ("HOOKD_LEASE_MARGIN", "2s"),
    ("HOOKD_REQUEST_TIMEOUT", "5s"),
    ("HOOKD_CONNECT_TIMEOUT", "2s"),
    ("HOOKD_RETRY_SCHEDULE", "1s"),
    // A webhook failing 5 times in a row pauses for this long (README "Endpoint health").
    ("HOOKD_CIRCUIT_COOLDOWN", "1s"),
    // Health and metrics are served even without an admin token: on a port of each process's own,
    // so concurrent test processes never compete for the default 127.0.0.1:8080.
    ("HOOKD_ADMIN_ADDR", "127.0.0.1:0"),
];

/// A long-running `hookd` process (`serve`, `tail`). Dropping it kills it (SIGKILL), also when
/// the test panics; its stderr goes to a log file, printed (and kept) if the test failed.
pub struct HookdProcess {
    pub child: tokio::process::Child,
    pub log: std::path::PathBuf,
}

impl HookdProcess {
    /// Starts `cmd` with stderr to a log file and stdout piped (see [`HookdProcess::child`]).
    pub fn spawn(mut cmd: tokio::process::Command) -> Self {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hookd-e2e-logs");
        std::fs::create_dir_all(&dir).expect("create the log directory");
        let log = dir.join(format!("{}.log", uuid::Uuid::new_v4().simple()));
        let file = std::fs::File::create(&log).expect("create the log file");
        let child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(file)
            .spawn()
            .expect("hookd starts");
        Self { child, log }
    }

    /// `hookd serve` for `db` with [`SERVE_ENV`], then `env` on top.
    pub fn serve(db: &hookd_testkit::TestDb, env: &[(&str, &str)]) -> Self {
        let mut cmd = hookd_command(db, &["serve"]);
        cmd.envs(SERVE_ENV.iter().copied()).envs(env.iter().copied());
        let mut process = Self::spawn(cmd);
        // Nothing reads serve's stdout; don't let a full pipe ever block it.
        process.child.stdout.take();
        process
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the process has not been reaped yet")
    }

    /// Waits until this `hookd serve` has registered in `hookd.workers` and beaten at least once
    /// more (so its runtime and signal handlers are up), and returns its worker id.
    pub async fn worker_id(&self, store: &hookd_store::Store) -> String {
        let pid = self.pid() as i32;
        let query = || {
            sqlx::query_scalar::<_, String>("SELECT id FROM hookd.workers WHERE pid = $1 AND heartbeat_at > started_at")
                .bind(pid)
                .fetch_optional(store.pool())
        };
        hookd_testkit::wait_until(DEADLINE, "hookd serve registered and beating", || async {
            query().await.unwrap().is_some()
        })
        .await;
        query().await.unwrap().expect("registered")
    }

    /// Sends `signal` (e.g. "TERM", "KILL") to the process.
    pub fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// SIGKILL, and reap.
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("SIGKILL and wait");
    }

    /// Waits for the process to exit on its own, at most `deadline`.
    pub async fn wait_exit(&mut self, deadline: Duration) -> std::process::ExitStatus {
        match tokio::time::timeout(deadline, self.child.wait()).await {
            Ok(status) => status.expect("wait for hookd"),
            Err(_) => panic!("hookd (pid {}) did not exit within {deadline:?}\n{}", self.pid(), self.log_text()),
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for HookdProcess {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("--- last lines of {} ---", self.log.display());
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        } else {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}

/// The delivery of `event_id` to `webhook` (there is exactly one per pair).
pub async fn delivery_for(store: &Store, event_id: uuid::Uuid, webhook: &Webhook) -> hookd_store::delivery::DeliveryRow {
    let id: i64 = sqlx::query_scalar("SELECT id FROM hookd.delivery_log WHERE event_id = $1 AND webhook_id = $2")
        .bind(event_id)
        .bind(webhook.id)
        .fetch_one(store.pool())
        .await
        .expect("the delivery exists");
    store.delivery_get(id).await.unwrap().expect("the delivery exists")
}

/// `(attempt, status_code, error)` of every recorded attempt at `event_id` for `webhook`, in the
/// order they were recorded, read through the `hookd.attempt_log` view.
pub async fn attempts_for(store: &Store, event_id: uuid::Uuid, webhook: &Webhook) -> Vec<(i32, Option<i32>, Option<String>)> {
    sqlx::query_as(
        "SELECT attempt, status_code, error FROM hookd.attempt_log
         WHERE event_id = $1 AND webhook_id = $2 ORDER BY attempt_id",
    )
    .bind(event_id)
    .bind(webhook.id)
    .fetch_all(store.pool())
    .await
    .unwrap()
}

/// [`hookd_command`] for a database outside the shared test server (the crash suite's private
/// PostgreSQL cluster): the same scrubbed environment, with `database_url`.
pub fn hookd_command_at(database_url: &str, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hookd"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HOOKD_") {
            cmd.env_remove(&name);
        }
    }
    cmd.args(args)
        .current_dir(hookd_cwd())
        .env("DATABASE_URL", database_url)
        .env("HOOKD_ALLOW_PRIVATE_TARGETS", "true")
        .env_remove("RUST_LOG")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    cmd
}
