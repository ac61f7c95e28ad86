//! The `hookd` command line, run as the real binary against a fresh database: webhook management,
//! refusals that name the field, Send Test Event, the catalog, replay and tail.

use std::collections::BTreeSet;

use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use uuid::Uuid;

use crate::common::{add_webhook, deliveries_in, empty_dir, hookd, hookd_command, run_command, HookdProcess, DEADLINE};

/// The 15 seeded event types.
const SEEDED: [&str; 15] = [
    "payment_received",
    "site_published",
    "confirm_email_address",
    "domain_created",
    "renewal_payment_created",
    "invoice_sent",
    "payment_failed",
    "membership_expired",
    "demo_site_expiring",
    "customer_created",
    "customer_updated",
    "membership_created",
    "membership_updated",
    "payment_created",
    "payment_updated",
];

/// `hookd` works from any directory: with no `--config`/`HOOKD_CONFIG` and no
/// `config/hookd.toml` in the working directory (an installed binary, a service, a container), the
/// built-in defaults and the environment apply, as `--help` says ("default: config/hookd.toml when
/// it exists"). An explicitly named config file that is missing is still an error.
#[tokio::test]
async fn runs_outside_the_repository_without_a_config_file() {
    let db = TestDb::new().await;
    let dir = empty_dir();
    let mut cmd = hookd_command(&db, &["events", "list", "--json"]);
    cmd.current_dir(&dir);
    let out = run_command(cmd).await;
    let mut named = hookd_command(&db, &["events", "list"]);
    named.current_dir(&dir).env("HOOKD_CONFIG", dir.join("missing.toml"));
    let named = run_command(named).await;
    std::fs::remove_dir_all(&dir).ok();

    assert_eq!(out.code, Some(0), "hookd refused to start without config/hookd.toml in {}: {out:#?}", dir.display());
    assert_eq!(out.json().as_array().map(Vec::len), Some(SEEDED.len()));
    assert_eq!(named.code, Some(1), "{named:#?}");
    assert!(named.stderr.contains("missing.toml") && named.stderr.contains("does not exist"), "{named:#?}");
}

async fn webhook_count(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM hookd.webhooks").fetch_one(db.store.pool()).await.unwrap()
}

/// A webhook's life through the CLI: `add` prints its id and a `whsec_` secret (the one stored);
/// `list` includes it; `show` never prints the secret unless `--reveal`; `update` renames it;
/// `disable` records the reason and `enable` clears it; after `delete`, `show` fails with
/// "not found".
#[tokio::test]
async fn webhook_add_list_show_update_disable_enable_delete() {
    let db = TestDb::new().await;
    let added = hookd(
        &db,
        &[
            "webhook", "add", "--name", "CRM", "--url", "https://crm.example.com/hooks", "--event", "payment_received",
            "--event", "site_published", "--json",
        ],
    )
    .await
    .ok()
    .json();
    let id = added["id"].as_str().expect("id").to_owned();
    Uuid::parse_str(&id).expect("the id is a uuid");
    let secret = added["secret"].as_str().expect("secret").to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(added["name"], "CRM");
    assert_eq!(added["url"], "https://crm.example.com/hooks");
    assert_eq!(added["events"], json!(["payment_received", "site_published"]));
    assert_eq!(added["active"], true);
    let stored: String = sqlx::query_scalar("SELECT secret FROM hookd.webhooks WHERE id = $1::uuid")
        .bind(&id)
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(stored, secret, "the printed secret is the one receivers' signatures are made with");

    let list = hookd(&db, &["webhook", "list", "--json"]).await.ok();
    let listed = list.json();
    assert_eq!(listed.as_array().expect("an array").len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert!(!list.stdout.contains(&secret), "list never prints the secret");

    let show = hookd(&db, &["webhook", "show", &id, "--json"]).await.ok();
    let shown = show.json();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["active"], true);
    assert_eq!(shown["disabled_reason"], Value::Null);
    assert!(shown.get("secret").is_none(), "no secret field without --reveal: {shown}");
    assert!(!show.stdout.contains(&secret));
    let text = hookd(&db, &["webhook", "show", &id]).await.ok();
    assert!(text.stdout.contains("CRM") && !text.stdout.contains(&secret), "{}", text.stdout);

    let revealed = hookd(&db, &["webhook", "show", &id, "--reveal", "--json"]).await.ok().json();
    assert_eq!(revealed["secret"], secret.as_str());

    let updated = hookd(&db, &["webhook", "update", &id, "--name", "CRM v2", "--json"]).await.ok().json();
    assert_eq!(updated["name"], "CRM v2");
    assert_eq!(updated["url"], "https://crm.example.com/hooks", "fields not given are kept");
    assert_eq!(updated["events"], json!(["payment_received", "site_published"]));

    let disabled =
        hookd(&db, &["webhook", "disable", &id, "--reason", "receiver migration", "--json"]).await.ok().json();
    assert_eq!(disabled["active"], false);
    assert_eq!(disabled["disabled_reason"], "receiver migration");
    assert!(disabled["disabled_at"].is_string());
    let inactive = hookd(&db, &["webhook", "list", "--active", "false", "--json"]).await.ok().json();
    assert_eq!(inactive[0]["id"], id.as_str());

    let enabled = hookd(&db, &["webhook", "enable", &id, "--json"]).await.ok().json();
    assert_eq!(enabled["active"], true);
    assert_eq!(enabled["disabled_reason"], Value::Null);
    assert_eq!(enabled["disabled_at"], Value::Null);

    let deleted = hookd(&db, &["webhook", "delete", &id, "--json"]).await.ok().json();
    assert_eq!(deleted, json!({"id": id, "deleted": true}));
    let gone = hookd(&db, &["webhook", "show", &id, "--json"]).await;
    assert_ne!(gone.code, Some(0), "{gone:#?}");
    assert!(gone.stderr.contains("not found"), "{gone:#?}");
    assert_eq!(webhook_count(&db).await, 0);
}

/// `webhook add` refuses bad input with the field at fault named on stderr and a nonzero exit,
/// and stores nothing: a non-http(s) URL (url), an unknown event (events, and its name), an empty
/// name (name), and a loopback URL when private targets are not allowed (names the switch).
#[tokio::test]
async fn webhook_add_refuses_bad_input_naming_the_field() {
    let db = TestDb::new().await;
    let add = |name: &'static str, url: &'static str, event: &'static str| {
        hookd_command(&db, &["webhook", "add", "--name", name, "--url", url, "--event", event])
    };

    let ftp = run_command(add("n", "ftp://x", "payment_received")).await;
    assert_eq!(ftp.code, Some(1), "{ftp:#?}");
    assert!(ftp.stderr.contains("url") && ftp.stderr.contains("ftp"), "{ftp:#?}");

    let unknown = run_command(add("n", "https://e.example.com/", "no_such_event")).await;
    assert_eq!(unknown.code, Some(1), "{unknown:#?}");
    assert!(unknown.stderr.contains("events") && unknown.stderr.contains("no_such_event"), "{unknown:#?}");

    let empty = run_command(add("", "https://e.example.com/", "payment_received")).await;
    assert_eq!(empty.code, Some(1), "{empty:#?}");
    assert!(empty.stderr.contains("name"), "{empty:#?}");

    let mut private = add("n", "http://127.0.0.1:1/", "payment_received");
    private.env_remove("HOOKD_ALLOW_PRIVATE_TARGETS");
    let private = run_command(private).await;
    assert_eq!(private.code, Some(1), "{private:#?}");
    assert!(private.stderr.contains("url") && private.stderr.contains("HOOKD_ALLOW_PRIVATE_TARGETS"), "{private:#?}");

    assert_eq!(webhook_count(&db).await, 0, "nothing refused was stored");
}

/// Test attempts recorded for `webhook`: (status_code, error).
async fn test_attempts(db: &TestDb, webhook: Uuid) -> Vec<(i64, Option<i32>, Option<String>)> {
    sqlx::query_as("SELECT attempt_id, status_code, error FROM hookd.attempt_log WHERE webhook_id = $1 AND test")
        .bind(webhook)
        .fetch_all(db.store.pool())
        .await
        .unwrap()
}

/// Asserts `receiver` got exactly one request: the event type's sample payload, signed with the
/// webhook's secret so a Standard Webhooks verifier accepts it.
async fn assert_got_signed_sample(db: &TestDb, receiver: &Receiver, secret: &str) {
    let got = receiver.received();
    assert_eq!(got.len(), 1, "one request per test send");
    let verifier = standardwebhooks::Webhook::new(secret).unwrap();
    verifier.verify(&got[0].body, &got[0].headers).expect("a valid webhook-signature");
    let sample: Value = sqlx::query_scalar("SELECT sample_payload FROM hookd.event_types WHERE slug = 'payment_received'")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&got[0].body).unwrap(), sample);
    assert_eq!(got[0].header("hookd-event-type"), Some("payment_received"));
    assert_eq!(got[0].header("content-type"), Some("application/json"));
}

/// `hookd webhook test` sends the sample payload signed, prints what came back and exits 0 only on
/// 2xx: 200 → exit 0 and "200"; 500 → exit 1 and "500"; a closed port → exit 1 and "connect".
/// Each send records exactly one test attempt with that outcome.
#[tokio::test]
async fn webhook_test_reports_the_outcome_in_output_exit_code_and_audit() {
    let db = TestDb::new().await;
    let store = &db.store;

    let ok = Receiver::scripted(|_, _| Reply::status(200).body("thanks")).await;
    let webhook = add_webhook(store, "ok", &ok.url("/ok"), &["payment_received"]).await;
    let out = hookd(&db, &["webhook", "test", &webhook.id.to_string()]).await;
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(out.stdout.contains("200") && out.stdout.contains("thanks"), "{out:#?}");
    let attempts = test_attempts(&db, webhook.id).await;
    assert_eq!(attempts.iter().map(|a| (a.1, a.2.clone())).collect::<Vec<_>>(), vec![(Some(200), None)]);
    assert_got_signed_sample(&db, &ok, &webhook.secret).await;

    let failing = Receiver::always(500).await;
    let webhook = add_webhook(store, "500", &failing.url("/"), &["payment_received"]).await;
    let out = hookd(&db, &["webhook", "test", &webhook.id.to_string(), "--json"]).await;
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(out.stdout.contains("500"), "{out:#?}");
    let printed = out.json();
    assert_eq!(printed["success"], false);
    assert_eq!(printed["status_code"], 500);
    let attempts = test_attempts(&db, webhook.id).await;
    assert_eq!(attempts.iter().map(|a| (a.1, a.2.clone())).collect::<Vec<_>>(), vec![(Some(500), None)]);
    assert_eq!(printed["attempt_id"], attempts[0].0, "the printed attempt is the recorded one");
    assert_got_signed_sample(&db, &failing, &webhook.secret).await;

    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let webhook = add_webhook(store, "closed", &format!("http://{closed}/"), &["payment_received"]).await;
    let out = hookd(&db, &["webhook", "test", &webhook.id.to_string()]).await;
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(out.stdout.contains("connect"), "{out:#?}");
    let attempts = test_attempts(&db, webhook.id).await;
    assert_eq!(attempts.iter().map(|a| (a.1, a.2.clone())).collect::<Vec<_>>(), vec![(None, Some("connect".into()))]);

    let real: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.delivery_log").fetch_one(store.pool()).await.unwrap();
    assert_eq!(real, 0, "a test send creates no delivery");
}

/// `hookd events` shows the catalog: `list` has the 15 seeded slugs, `show --json` has the sample
/// payload, and `add` makes a new type that `show` then finds (and a second `add` is refused).
#[tokio::test]
async fn events_list_show_and_add() {
    let db = TestDb::new().await;
    let text = hookd(&db, &["events", "list"]).await.ok();
    for slug in SEEDED {
        assert!(text.stdout.lines().any(|l| l.split_whitespace().next() == Some(slug)), "{slug} missing:\n{}", text.stdout);
    }
    let listed = hookd(&db, &["events", "list", "--json"]).await.ok().json();
    let slugs: BTreeSet<&str> = listed.as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, SEEDED.into_iter().collect::<BTreeSet<_>>(), "exactly the seeded catalog");

    let shown = hookd(&db, &["events", "show", "payment_received", "--json"]).await.ok().json();
    assert_eq!(shown["slug"], "payment_received");
    let sample = shown["sample_payload"].as_object().expect("the sample payload is an object");
    assert!(sample.contains_key("payment_id"), "{shown}");

    let added =
        hookd(&db, &["events", "add", "--slug", "order_shipped", "--name", "Order shipped", "--sample", r#"{"order_id":1}"#])
            .await
            .ok();
    assert!(added.stdout.contains("order_shipped"), "{added:#?}");
    let shown = hookd(&db, &["events", "show", "order_shipped"]).await.ok();
    assert!(shown.stdout.contains("order_shipped (Order shipped)") && shown.stdout.contains("\"order_id\": 1"), "{shown:#?}");
    let json = hookd(&db, &["events", "show", "order_shipped", "--json"]).await.ok().json();
    assert_eq!(json["sample_payload"], json!({"order_id": 1}));

    let again = hookd(&db, &["events", "add", "--slug", "order_shipped"]).await;
    assert_eq!(again.code, Some(1), "{again:#?}");
    assert!(again.stderr.contains("already exists"), "{again:#?}");
    let missing = hookd(&db, &["events", "show", "no_such_event"]).await;
    assert!(missing.code != Some(0) && missing.stderr.contains("not found"), "{missing:#?}");
}

/// `hookd replay --webhook` moves a webhook's failed deliveries back to pending and prints how
/// many; a second replay finds none; a worker then delivers the replayed one (attempt 2).
/// The failure comes from `hookd serve` with `HOOKD_RETRY_SCHEDULE=""` (no retries).
#[tokio::test]
async fn replay_puts_failed_deliveries_back_in_the_queue() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::sequence(vec![Reply::status(500), Reply::status(200)]).await;
    let webhook = add_webhook(store, "flaky", &receiver.url("/"), &["payment_received"]).await;
    let other = add_webhook(store, "other", &Receiver::always(200).await.url("/"), &["site_published"]).await;
    store.outbox_publish("payment_received", &json!({"payment_id": 5})).await.unwrap();

    let mut serve = HookdProcess::serve(&db, &[("HOOKD_RETRY_SCHEDULE", "")]);
    wait_until(DEADLINE, "the delivery failed after one attempt", || async {
        deliveries_in(store, &webhook, "failed").await == 1
    })
    .await;
    serve.kill().await;
    assert_eq!(receiver.count(), 1, "no retry with an empty schedule");

    let out = hookd(&db, &["replay", "--webhook", &webhook.id.to_string()]).await.ok();
    assert!(out.stdout.contains("1 failed deliveries put back"), "{out:#?}");
    assert_eq!(deliveries_in(store, &webhook, "pending").await, 1);
    assert_eq!(deliveries_in(store, &webhook, "failed").await, 0);
    let again = hookd(&db, &["replay", "--webhook", &webhook.id.to_string(), "--json"]).await.ok().json();
    assert_eq!(again, json!({"replayed": 0}), "nothing failed is left");
    let none = hookd(&db, &["replay", "--webhook", &other.id.to_string(), "--json"]).await.ok().json();
    assert_eq!(none, json!({"replayed": 0}), "another webhook's replay touches nothing");

    let _serve = HookdProcess::serve(&db, &[("HOOKD_RETRY_SCHEDULE", "")]);
    wait_until(DEADLINE, "the replayed delivery succeeded", || async {
        deliveries_in(store, &webhook, "succeeded").await == 1
    })
    .await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"), "the same event, again");
    assert_eq!(got[1].header("hookd-attempt"), Some("2"));
}

/// `hookd tail --json` prints one JSON line per attempt recorded after it started (not the ones
/// before), here a Send Test Event triggered once the tail is polling.
#[tokio::test]
async fn tail_prints_attempts_recorded_after_it_started() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "tailed", &receiver.url("/"), &["payment_received"]).await;
    let id = webhook.id.to_string();
    let before = hookd(&db, &["webhook", "test", &id, "--json"]).await.ok().json();

    let mut tail = HookdProcess::spawn(hookd_command(&db, &["tail", "--json"]));
    let mut lines = BufReader::new(tail.child.stdout.take().expect("piped stdout")).lines();
    // The tail reads its starting point, then polls the log: once a poll has run, the start is set.
    // (The pattern is split so this query's own text does not match it.)
    wait_until(DEADLINE, "the tail is polling hookd.attempt_log", || async {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity
                            WHERE datname = current_database() AND pid <> pg_backend_pid()
                              AND query LIKE ('%FROM hookd.' || 'attempt_log%'))",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
    })
    .await;

    let after = hookd(&db, &["webhook", "test", &id, "--json"]).await.ok().json();
    let line = tokio::time::timeout(DEADLINE, lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("no line from hookd tail within {DEADLINE:?}\n{}", tail.log_text()))
        .expect("read stdout")
        .expect("tail is still running");
    let row: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
    assert_eq!(row["attempt_id"], after["attempt_id"], "the first line is the new attempt, not {}", before["attempt_id"]);
    assert_eq!(row["event_id"], after["event_id"]);
    assert_eq!(row["webhook_id"], id.as_str());
    assert_eq!(row["webhook_name"], "tailed");
    assert_eq!(row["status_code"], 200);
    assert_eq!(row["test"], true);
    assert_eq!(row["succeeded"], true);
    tail.kill().await;
}

/// `hookd demo` starts each run in a fresh `<database>_demo`: a second run finds none of the
/// first run's webhooks (whose receiver is gone) and sends to its own only. While anything is
/// connected to that database (a demo still running with --stay) it refuses instead of dropping
/// it under that run.
#[tokio::test]
async fn demo_starts_each_run_in_a_fresh_database_and_leaves_one_in_use_alone() {
    let db = TestDb::new().await;
    let scratch = format!("{}_demo", db.url);
    for run in 1..=2 {
        let out = run_command(hookd_command(&db, &["demo", "--rounds", "1"])).await;
        assert_eq!(out.code, Some(0), "demo run {run}: {out:#?}");
    }
    let demo = hookd_store::Store::connect(&scratch, 1).await.unwrap();
    let webhooks: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.webhooks").fetch_one(demo.pool()).await.unwrap();
    assert_eq!(webhooks, 1, "only the last run's webhook");

    let out = run_command(hookd_command(&db, &["demo", "--rounds", "1"])).await;
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(out.stderr.contains("connected to the demo's scratch database"), "{out:#?}");
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.webhooks").fetch_one(demo.pool()).await.unwrap();
    assert_eq!(still, 1, "the database in use was left alone");
    demo.pool().close().await;
    hookd_store::Store::drop_database(&scratch).await.unwrap();
}
