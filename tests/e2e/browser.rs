//! The web page in a real browser: headless Chromium driven through chromedriver (WebDriver, via
//! fantoccini), against the admin API in-process on a fresh database, with loopback receivers that
//! answer 200 with JSON and 500 with HTML. Every step is checked on screen and in the database.
//!
//! Needs the Debian packages `chromium` and `chromium-driver` (`.ci/run` installs them); without
//! them the test fails and says so. `HOOKD_TEST_CHROMEDRIVER` / `HOOKD_TEST_CHROMIUM` point at
//! other binaries. The test writes the screenshots README shows to `docs/screenshots/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hookd_store::webhook::Webhook;
use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{add_webhook, DEADLINE};

const TOKEN: &str = "browser-test-admin-token";
const DESKTOP: (u32, u32) = (1280, 900);
const PHONE: (u32, u32) = (390, 844);
/// What the 200 receiver answers, and how the dialog must pretty-print it.
const OK_BODY: &str = r#"{"received":true,"id":"evt_7f3a","queued":["crm","billing"]}"#;
const OK_PRETTY: &str = "{\n  \"received\": true,\n  \"id\": \"evt_7f3a\",\n  \"queued\": [\n    \"crm\",\n    \"billing\"\n  ]\n}";
/// What the 500 receiver answers: markup that must be shown as text, never run.
const FAIL_BODY: &str = "<h1>Internal Server Error</h1><script>window.__pwned = true</script>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_page_in_headless_chromium() {
    let started = Instant::now();
    let db = TestDb::new().await;
    let store = &db.store;
    let ok = Receiver::scripted(|_, _| Reply::status(200).header("content-type", "application/json").body(OK_BODY)).await;
    let failing = Receiver::scripted(|_, _| Reply::status(500).header("content-type", "text/html").body(FAIL_BODY)).await;
    let api = hookd_testkit::api::spawn(&db, TOKEN).await;
    // Two webhooks that exist before the admin signs in, so the list has something to show.
    let crm = add_webhook(store, "CRM sync", &ok.url("/crm"), &["customer_created", "customer_updated"]).await;
    let warehouse = add_webhook(store, "Analytics warehouse", "https://analytics.example.com/ingest/hookd", &["*"]).await;
    store.webhook_set_active(warehouse.id, false, Some("endpoint retired")).await.unwrap();

    served_with_a_strict_content_security_policy(&api.url).await;

    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    c.goto(&api.url("/")).await.unwrap();

    // --- Sign in: a wrong token first, then the right one.
    let token_input = wait_visible(c, "#login-token").await;
    token_input.send_keys("not-the-token").await.unwrap();
    click(c, "#login-submit").await;
    let error = wait_text(c, "#login-error", |t| t.contains("Wrong token")).await;
    assert!(error.contains("401"), "the error says what the server answered: {error}");
    assert!(!displayed(c, "#app").await, "a wrong token does not open the app");
    assert_eq!(session_token(c).await, Value::Null, "a refused token is not kept");
    token_input.clear().await.unwrap();
    token_input.send_keys(TOKEN).await.unwrap();
    click(c, "#login-submit").await;
    wait_rows(c, "#webhooks-table tbody tr", 2).await;
    assert_eq!(session_token(c).await, json!(TOKEN), "the token is kept for the browser session");
    assert_eq!(text(c, "#view h1").await, "Webhooks");

    // --- Add New Webhook: a bad URL is refused under its field, then the webhook is added.
    click(c, "#add-webhook").await;
    wait_visible(c, "#add-dialog[open] #add-name").await.send_keys("Billing receiver").await.unwrap();
    find(c, "#add-url").await.send_keys("ftp://billing.example.com/hooks").await.unwrap();
    let event_select = find(c, "#add-events select.event-select").await;
    let options = event_select.find_all(Locator::Css("option")).await.unwrap();
    let catalog_size: i64 = sqlx::query_scalar("SELECT count(*) FROM hookd.event_types").fetch_one(store.pool()).await.unwrap();
    assert_eq!(options.len() as i64, catalog_size + 1, "the Event dropdown lists the catalog and All events (*)");
    assert_eq!(options[0].text().await.unwrap(), "All events (*)");
    event_select.select_by_value("payment_received").await.unwrap();
    click(c, "#add-submit").await;
    let url_error = wait_text(c, "#add-dialog [data-error-for=\"url\"]", |t| !t.is_empty()).await;
    assert!(url_error.contains("http"), "the 422 names the URL's problem: {url_error}");
    assert_eq!(count_webhooks(&db).await, 2, "nothing was added");
    let url_input = find(c, "#add-url").await;
    url_input.clear().await.unwrap();
    url_input.send_keys(&ok.url("/billing")).await.unwrap();
    click(c, "#add-submit").await;
    wait_text(c, "#edit-title", |t| t == "Billing receiver").await;
    let webhook = webhook_named(&db, "Billing receiver").await;
    assert_eq!(webhook.url, ok.url("/billing"));
    assert_eq!(webhook.events, vec!["payment_received".to_owned()]);
    assert!(webhook.active);
    assert_eq!(text(c, "#flash-secret").await, webhook.secret, "the secret shown once on creation is the stored one");
    assert!(current_url(c).await.ends_with(&format!("#/webhooks/{}", webhook.id)));

    // --- The payload preview follows the selected event.
    assert_eq!(preview_json(c).await, sample_payload(&db, "payment_received").await);
    find(c, "#edit-events select.event-select").await.select_by_value("invoice_sent").await.unwrap();
    wait_css(c, "#payload-preview[data-event=\"invoice_sent\"]").await;
    assert_eq!(preview_json(c).await, sample_payload(&db, "invoice_sent").await);
    find(c, "#edit-events select.event-select").await.select_by_value("payment_received").await.unwrap();
    wait_css(c, "#payload-preview[data-event=\"payment_received\"]").await;

    // --- Send Test Event to the 200 receiver: success, 200, the JSON body pretty-printed.
    click(c, "#edit-send-test").await;
    wait_css(c, "#test-dialog[data-state=\"done\"]").await;
    assert_eq!(attr(c, "#test-dialog", "data-outcome").await, "success");
    let headline = text(c, "#test-headline").await;
    assert!(headline.starts_with("Success") && headline.contains("200"), "{headline}");
    assert_eq!(text(c, "#test-status").await, "200 OK");
    let duration = text(c, "#test-duration").await;
    assert!(duration.ends_with(" ms") || duration.ends_with(" s"), "the time is shown: {duration}");
    assert_eq!(text(c, "#test-body-kind").await, "JSON");
    assert_eq!(prop(c, "#test-body", "textContent").await, OK_PRETTY);
    assert_eq!(ok.count(), 1, "the receiver got the test event");
    assert_eq!(ok.received()[0].header("hookd-event-type"), Some("payment_received"));
    screenshot(c, "test-dialog").await;
    close_test_dialog(c).await;

    // --- Point the webhook at the 500 receiver, save, Send Test Event: a failure, 500, as text.
    let edit_url = find(c, "#edit-url").await;
    edit_url.clear().await.unwrap();
    edit_url.send_keys(&failing.url("/billing")).await.unwrap();
    assert!(displayed(c, "#url-unsaved").await, "an unsaved URL is pointed out");
    click(c, "#edit-save").await;
    let failing_url = failing.url("/billing");
    wait_until(DEADLINE, "the new URL is saved", || async { webhook_get(&db, webhook.id).await.url == failing_url }).await;
    wait_hidden(c, "#url-unsaved").await;
    click(c, "#edit-send-test").await;
    wait_css(c, "#test-dialog[data-state=\"done\"]").await;
    assert_eq!(attr(c, "#test-dialog", "data-outcome").await, "failure", "a 500 is never shown as success");
    let headline = text(c, "#test-headline").await;
    assert!(headline.starts_with("Failed") && headline.contains("500"), "{headline}");
    assert!(!text(c, "#test-dialog").await.contains("Success"));
    assert_eq!(text(c, "#test-status").await, "500 Internal Server Error");
    assert!(text(c, "#test-reason").await.contains("2xx"), "the reason is given");
    assert_eq!(prop(c, "#test-body", "textContent").await, FAIL_BODY, "the HTML body is shown as text");
    let injected = c.execute("return [document.querySelectorAll('#test-body *:not(span)').length, window.__pwned === true]", vec![]).await.unwrap();
    assert_eq!(injected, json!([0, false]), "the receiver's markup was not parsed, its script not run");
    assert_eq!(failing.count(), 1);
    screenshot(c, "test-dialog-failure").await;
    close_test_dialog(c).await;

    // --- Both test attempts are in the delivery log, marked [test], and in the database.
    wait_rows(c, "#log-table tbody tr[data-test=\"true\"]", 2).await;
    let statuses: Vec<String> = texts(c, "#log-table tbody tr[data-test=\"true\"] td:nth-child(4) .badge").await;
    assert_eq!(statuses, ["500", "200"], "newest first");
    assert_eq!(texts(c, "#log-table tbody tr .badge-test").await, ["TEST", "TEST"]);
    let tests: Vec<(Option<i32>, bool)> =
        sqlx::query_as("SELECT status_code, test FROM hookd.attempts WHERE webhook_id = $1 ORDER BY id")
            .bind(webhook.id)
            .fetch_all(store.pool())
            .await
            .unwrap();
    assert_eq!(tests, [(Some(200), true), (Some(500), true)]);
    assert_eq!(webhook_get(&db, webhook.id).await.event_count, 0, "test sends are not counted");

    // --- Real deliveries: the billing one fails (500, retried once, then failed), CRM sync's arrives.
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 7})).await.unwrap();
    let crm_event = store.outbox_publish("customer_created", &json!({"customer_id": 17})).await.unwrap();
    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the billing delivery failed and the CRM one succeeded", || async {
        delivery_state(&db, event_id, webhook.id).await == "failed" && delivery_state(&db, crm_event, crm.id).await == "succeeded"
    })
    .await;
    worker.stop().await;
    click(c, "#log-refresh").await;
    wait_rows(c, "#log-table tbody tr[data-test=\"false\"]", 2).await;
    assert_eq!(texts(c, "#log-table tbody tr[data-test=\"false\"] td:nth-child(3)").await, ["#2", "#1"]);
    // Retry once per failed delivery, on its newest attempt; never on a test send.
    assert_eq!(c.find_all(Locator::Css("#log-table .log-retry")).await.unwrap().len(), 1);
    wait_css(c, "#log-table tbody tr[data-test=\"false\"]:first-child .log-retry").await;

    // --- Secret: hidden until revealed; rotate shows a new one, and the database agrees.
    let masked = text(c, "#secret-value").await;
    assert!(!masked.contains("whsec_"), "the secret is hidden until revealed");
    click(c, "#secret-reveal").await;
    let old_secret = wait_text(c, "#secret-value", |t| t.starts_with("whsec_")).await;
    assert_eq!(old_secret, webhook.secret);
    click(c, "#secret-rotate").await;
    wait_visible(c, "#confirm-dialog[open] #confirm-ok").await.click().await.unwrap();
    let new_secret = wait_text(c, "#secret-value", |t| t.starts_with("whsec_") && t != old_secret).await;
    let rotated = webhook_get(&db, webhook.id).await;
    assert_eq!(rotated.secret, new_secret);
    assert_eq!(rotated.previous_secret.as_deref(), Some(old_secret.as_str()), "the old secret signs beside it for a while");
    assert!(text(c, "#secret-note").await.contains("previous secret"));
    full_page_screenshot(c, "edit").await;

    // --- Retry puts the failed delivery back in the queue.
    click(c, "#log-table .log-retry").await;
    wait_until(DEADLINE, "the delivery is queued again", || async { delivery_state(&db, event_id, webhook.id).await == "pending" })
        .await;
    wait_rows(c, "#log-table .log-retry", 0).await;

    // --- Active off: the API and the database say inactive, and the queued retry is cancelled.
    assert!(!displayed(c, "#disabled-reason").await);
    click(c, "label[for=\"active-toggle\"]").await;
    wait_until(DEADLINE, "the webhook is inactive", || async { !webhook_get(&db, webhook.id).await.active }).await;
    wait_text(c, "#head-badge", |t| t == "Inactive").await;
    assert!(text(c, "#disabled-reason").await.contains("disabled by an admin"), "the disabled reason is shown");
    let shown = api_get(&api.url(&format!("/api/webhooks/{}", webhook.id))).await;
    assert_eq!(shown["active"], json!(false));
    assert_eq!(delivery_state(&db, event_id, webhook.id).await, "cancelled", "an inactive webhook receives nothing");
    assert_no_csp_violations(c).await;

    // --- The list: columns, search, bulk Deactivate / Activate, a row's Send Test.
    click(c, "a[data-nav=\"webhooks\"]").await;
    wait_rows(c, "#webhooks-table tbody tr", 3).await;
    let headers = texts(c, "#webhooks-table thead th").await;
    assert_eq!(headers[1..], ["NAME", "URL", "EVENT(S)", "COUNT", "INTEGRATION", "ACTIVE", "LAST FAILURE", "ID"]);
    let billing_row = format!("#webhooks-table tr[data-id=\"{}\"]", webhook.id);
    assert_eq!(text(c, &format!("{billing_row} td[data-label=\"Active\"]")).await, "Inactive");
    assert_ne!(text(c, &format!("{billing_row} td[data-label=\"Last failure\"]")).await, "—", "the failed delivery shows");
    assert_eq!(text(c, &format!("#webhooks-table tr[data-id=\"{}\"] td[data-label=\"Count\"]", crm.id)).await, "1");
    assert_eq!(text(c, &format!("#webhooks-table tr[data-id=\"{}\"] td[data-label=\"Event(s)\"]", warehouse.id)).await, "All events (*)");
    screenshot(c, "list").await;

    let search = find(c, "#search").await;
    search.send_keys("crm").await.unwrap();
    wait_rows(c, "#webhooks-table tbody tr", 1).await;
    assert_eq!(text(c, "#webhooks-table tbody td.cell-name > a").await, "CRM sync");
    find(c, "#search").await.send_keys(&"\u{e003}".repeat(3)).await.unwrap(); // Backspace x3
    wait_rows(c, "#webhooks-table tbody tr", 3).await;

    for id in [crm.id, webhook.id] {
        click(c, &format!("#webhooks-table tr[data-id=\"{id}\"] input.row-check")).await;
    }
    wait_text(c, "#bulk-count", |t| t == "2 selected").await;
    click(c, "#bulk-activate").await;
    wait_until(DEADLINE, "bulk activate", || async { webhook_get(&db, webhook.id).await.active }).await;
    click(c, "#bulk-deactivate").await;
    wait_visible(c, "#confirm-dialog[open] #confirm-ok").await.click().await.unwrap();
    wait_until(DEADLINE, "bulk deactivate", || async {
        !webhook_get(&db, webhook.id).await.active && !webhook_get(&db, crm.id).await.active
    })
    .await;
    wait_text(c, &format!("#webhooks-table tr[data-id=\"{}\"] td[data-label=\"Active\"]", crm.id), |t| t == "Inactive").await;
    assert!(!webhook_get(&db, warehouse.id).await.active, "the unselected row is untouched");

    click(c, &format!("#webhooks-table tr[data-id=\"{}\"] .row-test", crm.id)).await;
    wait_css(c, "#test-dialog[data-state=\"done\"]").await;
    assert_eq!(attr(c, "#test-dialog", "data-outcome").await, "success");
    assert_eq!(text(c, "#test-event").await, "customer_created", "the row's own event");
    assert_eq!(ok.received().last().unwrap().path, "/crm");
    close_test_dialog(c).await;

    // --- The event catalog: every event, its description, its sample payload.
    click(c, "a[data-nav=\"events\"]").await;
    wait_rows(c, "#catalog .event-card", catalog_size as usize).await;
    let card = find(c, "#catalog .event-card:first-child").await;
    let slug = card.attr("data-slug").await.unwrap().expect("a slug");
    let event_type = store.event_type_get(&slug).await.unwrap();
    card.find(Locator::Css("summary")).await.unwrap().click().await.unwrap();
    let shown = numbers_as_f64(serde_json::from_str(&card.find(Locator::Css("pre")).await.unwrap().text().await.unwrap()).unwrap());
    assert_eq!(shown, numbers_as_f64(event_type.sample_payload), "the sample payload of {slug}");
    assert_eq!(card.find(Locator::Css("p.desc")).await.unwrap().text().await.unwrap(), event_type.description);
    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
    screenshot(c, "catalog").await;
    assert_no_csp_violations(c).await;

    // --- Phone width: the list still fits, as cards.
    c.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    click(c, "a[data-nav=\"webhooks\"]").await;
    wait_rows(c, "#webhooks-table tbody tr", 3).await;
    let fits = c.execute("return document.documentElement.scrollWidth <= window.innerWidth", vec![]).await.unwrap();
    assert_eq!(fits, json!(true), "no horizontal scrolling at {}px", PHONE.0);
    assert!(!displayed(c, "#webhooks-table thead").await, "the table became cards");
    screenshot(c, "mobile").await;
    c.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();

    // --- A token the server no longer accepts: told so, back to the sign-in form.
    c.execute("sessionStorage.setItem('hookd.adminToken', 'rotated-away')", vec![]).await.unwrap();
    c.refresh().await.unwrap();
    let error = wait_text(c, "#login-error", |t| t.contains("Wrong token")).await;
    assert!(displayed(c, "#login-token").await, "{error}");
    assert_eq!(session_token(c).await, Value::Null);

    browser.close().await;
    eprintln!("browser test: {:.1}s", started.elapsed().as_secs_f64());
}

// --- The page's HTTP responses -----------------------------------------------------------------

async fn served_with_a_strict_content_security_policy(base: &str) {
    let http = reqwest::Client::new();
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/app.css", "text/css; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(header("content-type"), content_type, "{path}");
        let csp = header("content-security-policy");
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{path}: {csp}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
    }
    let missing = http.get(format!("{base}/assets/nope.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    // The page needs no token; the API does.
    let api = http.get(format!("{base}/api/webhooks")).send().await.unwrap();
    assert_eq!(api.status(), 401);
}

async fn api_get(url: &str) -> Value {
    let response = reqwest::Client::new().get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

// --- The database --------------------------------------------------------------------------------

async fn webhook_get(db: &TestDb, id: Uuid) -> Webhook {
    db.store.webhook_get(id).await.unwrap()
}

async fn webhook_named(db: &TestDb, name: &str) -> Webhook {
    let id: Uuid = sqlx::query_scalar("SELECT id FROM hookd.webhooks WHERE name = $1")
        .bind(name)
        .fetch_one(db.store.pool())
        .await
        .expect("the webhook was added");
    webhook_get(db, id).await
}

async fn count_webhooks(db: &TestDb) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM hookd.webhooks").fetch_one(db.store.pool()).await.unwrap()
}

/// The catalog's sample payload for `slug`, numbers as doubles (see [`numbers_as_f64`]).
async fn sample_payload(db: &TestDb, slug: &str) -> Value {
    numbers_as_f64(db.store.event_type_get(slug).await.unwrap().sample_payload)
}

async fn delivery_state(db: &TestDb, event_id: Uuid, webhook_id: Uuid) -> String {
    sqlx::query_scalar("SELECT state FROM hookd.delivery_log WHERE event_id = $1 AND webhook_id = $2")
        .bind(event_id)
        .bind(webhook_id)
        .fetch_optional(db.store.pool())
        .await
        .unwrap()
        .unwrap_or_default()
}

// --- Chromium and chromedriver ---------------------------------------------------------------------

/// One headless Chromium session through chromedriver on a free loopback port.
struct Browser {
    client: Client,
    driver: Driver,
}

/// The chromedriver process. Dropping it kills chromedriver and the Chromium it started (their
/// own process group, by its id) and removes the profile, also when the test panics.
struct Driver {
    child: Child,
    /// Profile, logs: a fresh directory of this run's own.
    dir: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        let chromedriver = binary("HOOKD_TEST_CHROMEDRIVER", &["chromedriver"]);
        let chromium = binary("HOOKD_TEST_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("hookd-browser-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("profile")).expect("create the browser profile directory");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(dir.join("chromedriver.log")).unwrap())
            .stderr(std::fs::File::create(dir.join("chromedriver.stderr")).unwrap())
            // Dates on the page in one zone, whatever the machine's.
            .env("TZ", "UTC");
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let child = command.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let mut driver = Driver { child, dir };
        let client = driver.connect(port, &chromium).await;
        Self { client, driver }
    }

    /// Ends the session (Chromium quits); chromedriver goes with the drop.
    async fn close(self) {
        self.client.clone().close().await.expect("the browser session closes");
        drop(self.driver);
    }
}

impl Driver {
    async fn connect(&mut self, port: u16, chromium: &Path) -> Client {
        let url = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited ({status}) before it was ready:\n{}", self.log_text());
            }
            let ready = match http.get(format!("{url}/status")).send().await {
                Ok(r) => r.bytes().await.ok().and_then(|b| serde_json::from_slice::<Value>(&b).ok()).is_some_and(|v| v["value"]["ready"] == json!(true)),
                Err(_) => false,
            };
            if ready {
                break;
            }
            assert!(start.elapsed() < DEADLINE, "chromedriver not ready on port {port} within {DEADLINE:?}:\n{}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--hide-scrollbars".to_owned(),
            "--force-device-scale-factor=1".to_owned(),
            "--lang=en-US".to_owned(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", self.dir.join("profile").display()),
        ];
        let Value::Object(capabilities) = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium, "args": args },
        }) else {
            unreachable!("an object")
        };
        // chromedriver speaks plain HTTP on loopback: no TLS connector needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&url)
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}\n{}", chromium.display(), self.log_text()))
    }

    fn log_text(&self) -> String {
        let mut text = std::fs::read_to_string(self.dir.join("chromedriver.log")).unwrap_or_default();
        text += &std::fs::read_to_string(self.dir.join("chromedriver.stderr")).unwrap_or_default();
        text
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group (its id is chromedriver's pid): chromedriver and its Chromium processes.
        let _ = Command::new("kill").args(["-s", "KILL", "--"]).arg(format!("-{}", self.child.id())).status();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- chromedriver log (kept in {}) ---\n{}", self.dir.display(), tail(&self.log_text(), 40));
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// `$env` if set, else the first of `names` on PATH; a missing browser fails the test, loudly.
fn binary(env: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(env) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in names {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "{} not found on PATH (nor ${env}): the browser test needs headless Chromium and chromedriver. \
         On Debian/Ubuntu: apt-get install -y chromium chromium-driver (.ci/run does this).",
        names.join(" / ")
    )
}

// --- Waiting and reading the page -----------------------------------------------------------------

/// Waits (fantoccini's wait API, with a deadline) until `css` matches an element.
async fn wait_css(c: &Client, css: &str) -> Element {
    match c.wait().at_most(DEADLINE).every(Duration::from_millis(50)).for_element(Locator::Css(css)).await {
        Ok(element) => element,
        Err(e) => fail(c, &format!("waiting for `{css}`: {e}")).await,
    }
}

/// Waits until `css` matches an element that is displayed.
async fn wait_visible(c: &Client, css: &str) -> Element {
    let start = Instant::now();
    loop {
        let element = wait_css(c, css).await;
        if element.is_displayed().await.unwrap_or(false) {
            return element;
        }
        if start.elapsed() > DEADLINE {
            fail(c, &format!("`{css}` exists but is not displayed")).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn wait_hidden(c: &Client, css: &str) {
    let start = Instant::now();
    while displayed(c, css).await {
        if start.elapsed() > DEADLINE {
            fail(c, &format!("`{css}` is still displayed")).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the visible text of `css` satisfies `ok`, and returns it.
async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    let mut last = String::new();
    loop {
        if let Ok(element) = c.find(Locator::Css(css)).await {
            last = element.text().await.unwrap_or_default();
            if ok(&last) {
                return last;
            }
        }
        if start.elapsed() > DEADLINE {
            fail(c, &format!("the text of `{css}` never matched; last: {last:?}")).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until exactly `n` elements match `css`.
async fn wait_rows(c: &Client, css: &str, n: usize) {
    let start = Instant::now();
    loop {
        let found = c.find_all(Locator::Css(css)).await.map(|v| v.len()).unwrap_or(0);
        if found == n {
            return;
        }
        if start.elapsed() > DEADLINE {
            fail(c, &format!("expected {n} × `{css}`, found {found}")).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves what the browser shows next to the test's output, then panics with `message`.
async fn fail(c: &Client, message: &str) -> ! {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-failure.png");
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(&path, png);
    }
    let page = match c.find(Locator::Css("body")).await {
        Ok(body) => body.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    panic!("{message}\n(screenshot: {})\n--- page text ---\n{}", path.display(), tail(&page, 60));
}

async fn find(c: &Client, css: &str) -> Element {
    match c.find(Locator::Css(css)).await {
        Ok(element) => element,
        Err(e) => fail(c, &format!("no `{css}`: {e}")).await,
    }
}

async fn click(c: &Client, css: &str) {
    let element = wait_visible(c, css).await;
    // In the middle of the viewport, clear of the sticky top bar, as a user would have it.
    let arg = serde_json::to_value(&element).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})", vec![arg]).await.unwrap();
    if let Err(e) = element.click().await {
        fail(c, &format!("clicking `{css}`: {e}")).await;
    }
}

async fn text(c: &Client, css: &str) -> String {
    find(c, css).await.text().await.unwrap()
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for element in c.find_all(Locator::Css(css)).await.unwrap() {
        out.push(element.text().await.unwrap());
    }
    out
}

async fn attr(c: &Client, css: &str, name: &str) -> String {
    find(c, css).await.attr(name).await.unwrap().unwrap_or_default()
}

/// A DOM property: `textContent` keeps the whitespace that `text()` (rendered text) may not.
async fn prop(c: &Client, css: &str, name: &str) -> String {
    find(c, css).await.prop(name).await.unwrap().unwrap_or_default()
}

async fn displayed(c: &Client, css: &str) -> bool {
    match c.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

async fn current_url(c: &Client) -> String {
    c.current_url().await.unwrap().to_string()
}

async fn session_token(c: &Client) -> Value {
    c.execute("return sessionStorage.getItem('hookd.adminToken')", vec![]).await.unwrap()
}

async fn preview_json(c: &Client) -> Value {
    numbers_as_f64(serde_json::from_str(&prop(c, "#payload-preview", "textContent").await).expect("the preview is JSON"))
}

/// JSON as a browser sees it: every number a double (JavaScript prints `29.0` as `29`).
fn numbers_as_f64(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().expect("finite")),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_f64).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, numbers_as_f64(v))).collect()),
        other => other,
    }
}

async fn close_test_dialog(c: &Client) {
    click(c, "#test-close").await;
    wait_css(c, "#test-dialog:not([open])").await;
}

async fn assert_no_csp_violations(c: &Client) {
    let violations = c.execute("return window.__hookdCspViolations", vec![]).await.unwrap();
    assert_eq!(violations, json!([]), "the page broke its own Content-Security-Policy");
}

// --- Screenshots -----------------------------------------------------------------------------------

fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
    std::fs::create_dir_all(&dir).expect("create docs/screenshots");
    dir.join(format!("{name}.png"))
}

/// The viewport as it is, without notifications or a text cursor.
async fn screenshot(c: &Client, name: &str) {
    c.execute(
        "document.getElementById('toasts').replaceChildren();
         const a = document.activeElement;
         if (a && a.matches('input, select, textarea') && !a.closest('dialog')) a.blur();",
        vec![],
    )
    .await
    .unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(screenshot_path(name), png).expect("write the screenshot");
}

/// The whole page: the window is made as tall as the document for the shot, then restored.
async fn full_page_screenshot(c: &Client, name: &str) {
    let (width, height) = c.get_window_size().await.unwrap();
    let sizes = c
        .execute("return [window.outerHeight - window.innerHeight, document.documentElement.scrollHeight]", vec![])
        .await
        .unwrap();
    let chrome = sizes[0].as_u64().unwrap_or(0);
    let page = sizes[1].as_u64().unwrap_or(height);
    c.set_window_size(width as u32, (page + chrome) as u32).await.unwrap();
    // The resize reflows the page; wait until it reports the new viewport.
    let start = Instant::now();
    while c.execute("return window.innerHeight", vec![]).await.unwrap().as_u64().unwrap_or(0) < page {
        assert!(start.elapsed() < DEADLINE, "the window did not grow for the full-page screenshot");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    screenshot(c, name).await;
    c.set_window_size(width as u32, height as u32).await.unwrap();
}
