//! The admin HTTP API, in-process (`hookd_api::serve` on a loopback port, called with reqwest),
//! against a real database, real receivers and, where deliveries matter, the real worker pool.
//! Also `hookd serve` as a process: it serves the API with a token, and says why it does not
//! without one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};
use hookd_core::target::TargetPolicy;
use hookd_testkit::api::{spawn, spawn_with, RunningApi};
use hookd_testkit::worker::{spawn as spawn_worker, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use reqwest::Method;
use serde_json::{json, Value};
use standardwebhooks::Webhook as Verifier;
use uuid::Uuid;

use crate::common::{hookd, hookd_command, HookdProcess, DEADLINE};

const TOKEN: &str = "test-admin-token-0123456789";

/// The API for one test: a fresh database, the API on its own port, a client, one helper per verb.
struct App {
    db: TestDb,
    api: RunningApi,
    http: reqwest::Client,
}

/// A status and the JSON body (`Value::Null` when there is none).
#[derive(Debug)]
struct Answer {
    status: u16,
    body: Value,
}

impl App {
    async fn new() -> Self {
        let db = TestDb::new().await;
        let api = spawn(&db, TOKEN).await;
        Self { db, api, http: reqwest::Client::new() }
    }

    /// With the default target policy: loopback and private URLs are refused when saved.
    async fn with_default_policy() -> Self {
        let db = TestDb::new().await;
        let api = spawn_with(&db, TOKEN, test_sender(), TargetPolicy::default()).await;
        Self { db, api, http: reqwest::Client::new() }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>, token: Option<&str>) -> Answer {
        let mut request = self.http.request(method.clone(), self.api.url(path));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body.filter(|b| !b.is_null()) {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body read");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|e| panic!("{method} {path} answered {status} with non-JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
        };
        Answer { status, body }
    }

    async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None, Some(TOKEN)).await
    }

    async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body), Some(TOKEN)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body), Some(TOKEN)).await
    }

    async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None, Some(TOKEN)).await
    }

    /// Adds a webhook through the API and returns its JSON (with the secret).
    async fn add(&self, name: &str, url: &str, events: &[&str]) -> Value {
        let answer = self.post("/api/webhooks", json!({ "name": name, "url": url, "events": events })).await;
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.body
    }
}

impl Answer {
    /// Panics unless the status is `status`; returns the body.
    fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "unexpected answer: {self:#?}");
        self.body
    }

    /// Panics unless this is a 422 naming `field`.
    fn expect_invalid(self, field: &str) -> Value {
        assert_eq!(self.status, 422, "expected a 422 on {field}: {self:#?}");
        assert_eq!(self.body["error"], "invalid", "{self:#?}");
        assert_eq!(self.body["field"], field, "{self:#?}");
        assert!(self.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{self:#?}");
        self.body
    }
}

fn id_of(webhook: &Value) -> String {
    webhook["id"].as_str().expect("an id").to_owned()
}

/// A URL nothing listens on: a port bound and released at once.
async fn unreachable_url() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/gone")
}

/// Every route, with a body where it takes one.
fn every_route(webhook: &str) -> Vec<(Method, String)> {
    let w = format!("/api/webhooks/{webhook}");
    vec![
        (Method::GET, "/api/webhooks".into()),
        (Method::POST, "/api/webhooks".into()),
        (Method::POST, "/api/webhooks/bulk".into()),
        (Method::GET, w.clone()),
        (Method::PATCH, w.clone()),
        (Method::DELETE, w.clone()),
        (Method::POST, format!("{w}/test")),
        (Method::POST, "/api/test".into()),
        (Method::GET, format!("{w}/secret")),
        (Method::POST, format!("{w}/rotate-secret")),
        (Method::GET, format!("{w}/attempts")),
        (Method::POST, format!("{w}/replay")),
        (Method::GET, format!("/api/events/{}/attempts", Uuid::new_v4())),
        (Method::POST, "/api/deliveries/1/retry".into()),
        (Method::GET, "/api/event-types".into()),
        (Method::GET, "/api/event-types/payment_received".into()),
        (Method::GET, "/api/openapi.json".into()),
        (Method::GET, "/api/no-such-route".into()),
        (Method::PUT, "/api/webhooks".into()),
    ]
}

/// Without a token, with a wrong one, or with another scheme, every route (and an unknown route,
/// and a known one with the wrong method) answers 401 with the fixed body and nothing of the data; nothing is changed.
#[tokio::test]
async fn every_route_refuses_a_missing_or_wrong_token_and_tells_nothing() {
    let app = App::new().await;
    let webhook = app.add("Secret CRM", "http://127.0.0.1:9/crm", &["payment_received"]).await;
    let id = id_of(&webhook);
    for (method, path) in every_route(&id) {
        let body = matches!(method, Method::POST | Method::PATCH).then(|| json!({ "name": "x", "ids": [id], "action": "delete" }));
        for token in [None, Some("wrong-token"), Some(""), Some(&TOKEN[..TOKEN.len() - 1])] {
            let answer = app.call(method.clone(), &path, body.clone(), token).await;
            assert_eq!(answer.status, 401, "{method} {path} with {token:?}: {answer:?}");
            let keys: Vec<&String> = answer.body.as_object().expect("a JSON object").keys().collect();
            assert_eq!(keys, ["error", "message"], "{method} {path}: {answer:?}");
            assert_eq!(answer.body["error"], "unauthorized");
            let text = answer.body.to_string();
            assert!(!text.contains(&id) && !text.contains("Secret CRM") && !text.contains("whsec_"), "{text}");
        }
        // Another scheme carrying the right token is no better.
        let response = app
            .http
            .request(method.clone(), app.api.url(&path))
            .header("authorization", format!("Basic {TOKEN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{method} {path} with Basic");
    }
    let list = app.get("/api/webhooks").await.expect(200);
    assert_eq!(list["total"], 1, "nothing was created, changed or deleted without the token");
    assert_eq!(list["items"][0]["name"], "Secret CRM");
    assert_eq!(list["items"][0]["active"], true);
    let unknown = app.get("/api/no-such-route").await.expect(404);
    assert_eq!(unknown["error"], "not_found");
    let wrong_method = app.call(Method::PUT, "/api/webhooks", Some(json!({})), Some(TOKEN)).await.expect(405);
    assert_eq!(wrong_method["error"], "method_not_allowed");
}

/// Add (with the seed's single `event`), show, list, change every field, disable and enable,
/// delete: the JSON is the contract's, and the secret appears only on creation.
#[tokio::test]
async fn a_webhook_can_be_added_shown_changed_disabled_and_deleted() {
    let app = App::new().await;
    let created = app
        .post("/api/webhooks", json!({ "name": " CRM ", "url": "https://crm.example.com/hook", "event": "payment_received" }))
        .await
        .expect(201);
    let id = id_of(&created);
    assert_eq!(created["name"], "CRM");
    assert_eq!(created["events"], json!(["payment_received"]));
    assert_eq!(created["active"], true);
    assert_eq!(created["integration"], "manual");
    assert_eq!(created["event_count"], 0);
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    for field in ["last_failed_at", "disabled_reason", "disabled_at"] {
        assert!(created[field].is_null(), "{field}");
    }
    for field in ["created_at", "updated_at"] {
        chrono::DateTime::parse_from_rfc3339(created[field].as_str().unwrap()).expect("RFC 3339");
    }

    let shown = app.get(&format!("/api/webhooks/{id}")).await.expect(200);
    assert!(shown.get("secret").is_none(), "the secret is not part of a webhook: {shown}");
    let mut expected = created.clone();
    expected.as_object_mut().unwrap().remove("secret");
    assert_eq!(shown, expected);
    let secret = app.get(&format!("/api/webhooks/{id}/secret")).await.expect(200);
    assert_eq!(secret, json!({ "secret": created["secret"], "previous_secret_expires_at": null }));

    let changed = app
        .patch(
            &format!("/api/webhooks/{id}"),
            json!({ "name": "CRM v2", "url": "https://crm2.example.com/h", "events": ["site_published", "payment_received"], "integration": "zapier" }),
        )
        .await
        .expect(200);
    assert_eq!(changed["name"], "CRM v2");
    assert_eq!(changed["url"], "https://crm2.example.com/h");
    assert_eq!(changed["events"], json!(["payment_received", "site_published"]));
    assert_eq!(changed["integration"], "zapier");
    let changed = app.patch(&format!("/api/webhooks/{id}"), json!({ "event": "*" })).await.expect(200);
    assert_eq!(changed["events"], json!(["*"]));
    assert_eq!(changed["name"], "CRM v2", "fields left out keep their value");

    let disabled = app.patch(&format!("/api/webhooks/{id}"), json!({ "active": false })).await.expect(200);
    assert_eq!(disabled["active"], false);
    assert_eq!(disabled["disabled_reason"], "disabled by an admin");
    assert!(disabled["disabled_at"].is_string());
    let enabled = app.patch(&format!("/api/webhooks/{id}"), json!({ "active": true })).await.expect(200);
    assert_eq!(enabled["active"], true);
    assert!(enabled["disabled_reason"].is_null() && enabled["disabled_at"].is_null());
    let unchanged = app.patch(&format!("/api/webhooks/{id}"), json!({})).await.expect(200);
    assert_eq!(unchanged["name"], "CRM v2");

    let inactive = app
        .post("/api/webhooks", json!({ "name": "off", "url": "https://off.example.com/", "events": ["*"], "active": false, "integration": "n8n" }))
        .await
        .expect(201);
    assert_eq!(inactive["active"], false);
    assert_eq!(inactive["integration"], "n8n");

    assert_eq!(app.delete(&format!("/api/webhooks/{id}")).await.expect(204), Value::Null);
    app.get(&format!("/api/webhooks/{id}")).await.expect(404);
    app.delete(&format!("/api/webhooks/{id}")).await.expect(404);
    assert_eq!(app.get("/api/webhooks").await.expect(200)["total"], 1);
}

/// Each kind of bad input is a 422 naming the field at fault, and changes nothing.
#[tokio::test]
async fn bad_input_is_refused_with_422_naming_the_field() {
    let app = App::with_default_policy().await;
    // A public address literal: under the default policy a host name is resolved when saved, and
    // a name that does not resolve is refused (tests/e2e/urls.rs).
    let ok = json!({ "name": "n", "url": "https://93.184.215.14/h", "events": ["payment_received"] });
    let with = |key: &str, value: Value| {
        let mut body = ok.clone();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = ok.clone();
        body.as_object_mut().unwrap().remove(key);
        body
    };
    let cases = [
        (with("url", json!("not a url")), "url"),
        (with("url", json!("ftp://files.example.com/in")), "url"),
        (with("url", json!("http://127.0.0.1:8080/h")), "url"),
        (with("url", json!("http://10.0.0.5/h")), "url"),
        (with("url", json!("http://169.254.169.254/latest/meta-data")), "url"),
        (with("url", json!("http://localhost:3000/h")), "url"),
        (with("url", json!("https://user:pass@e.example.com/")), "url"),
        (with("url", json!("")), "url"),
        (without("url"), "url"),
        (with("events", json!(["paymnet_received"])), "events"),
        (with("events", json!(["Bad Event"])), "events"),
        (with("events", json!([])), "events"),
        (without("events"), "events"),
        (with("name", json!("   ")), "name"),
        (with("name", json!("x".repeat(201))), "name"),
        (without("name"), "name"),
        (with("active", json!("yes")), "active"),
        (with("integration", json!("")), "integration"),
    ];
    for (body, field) in cases {
        let answer = app.post("/api/webhooks", body.clone()).await;
        let answer = answer.expect_invalid(field);
        if field == "events" && body["events"] == json!(["paymnet_received"]) {
            assert!(answer["message"].as_str().unwrap().contains("paymnet_received"), "{answer}");
        }
    }
    assert_eq!(app.get("/api/webhooks").await.expect(200)["total"], 0, "nothing was saved");

    let webhook = app.add("n", "https://93.184.215.14/h", &["payment_received"]).await;
    let path = format!("/api/webhooks/{}", id_of(&webhook));
    app.patch(&path, json!({ "url": "ftp://e.example.com/" })).await.expect_invalid("url");
    app.patch(&path, json!({ "name": "" })).await.expect_invalid("name");
    app.patch(&path, json!({ "events": [] })).await.expect_invalid("events");
    app.patch(&path, json!({ "events": ["nope"] })).await.expect_invalid("events");
    assert_eq!(app.get(&path).await.expect(200)["url"], "https://93.184.215.14/h", "a refused change changes nothing");

    app.post("/api/test", json!({ "url": "http://127.0.0.1:9/", "event": "payment_received" })).await.expect_invalid("url");
    app.post("/api/test", json!({ "url": "gopher://e.example.com/", "event": "payment_received" })).await.expect_invalid("url");
    app.post("/api/test", json!({ "url": "https://e.example.com/", "event": "nope" })).await.expect_invalid("event");
    app.post(&format!("{path}/test"), json!({ "event": "nope" })).await.expect_invalid("event");
    app.post("/api/webhooks/bulk", json!({ "action": "explode", "ids": [id_of(&webhook)] })).await.expect_invalid("action");
    app.post("/api/webhooks/bulk", json!({ "action": "delete", "ids": [] })).await.expect_invalid("ids");
    app.post("/api/webhooks/bulk", json!({ "action": "delete", "ids": ["not-a-uuid"] })).await.expect_invalid("ids[0]");
    app.post(&format!("{path}/rotate-secret"), json!({ "grace_period_secs": -1 })).await.expect_invalid("grace_period_secs");
    app.post(&format!("{path}/replay"), json!({ "since": "yesterday" })).await.expect_invalid("since");
    app.get("/api/webhooks?limit=0").await.expect_invalid("limit");
    app.get("/api/webhooks?limit=501").await.expect_invalid("limit");
    app.get("/api/webhooks?offset=-1").await.expect_invalid("offset");
    app.get("/api/webhooks?limit=ten").await.expect_invalid("limit");
    app.get("/api/webhooks?active=maybe").await.expect_invalid("active");
    app.get("/api/webhooks/not-a-uuid").await.expect_invalid("id");
    app.get("/api/events/not-a-uuid/attempts").await.expect_invalid("event_id");
    app.post("/api/deliveries/x/retry", json!({})).await.expect_invalid("id");

    // A body that is not JSON at all is a 400 saying so.
    let response = app
        .http
        .post(app.api.url("/api/webhooks"))
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(body["error"], "bad_request");
}

/// Unknown ids are 404 with the JSON error, on every route that takes one.
#[tokio::test]
async fn unknown_ids_are_404() {
    let app = App::new().await;
    let nobody = Uuid::new_v4();
    let w = format!("/api/webhooks/{nobody}");
    let answers = [
        app.get(&w).await,
        app.patch(&w, json!({ "name": "x" })).await,
        app.patch(&w, json!({ "active": false })).await,
        app.delete(&w).await,
        app.post(&format!("{w}/test"), json!({})).await,
        app.get(&format!("{w}/secret")).await,
        app.post(&format!("{w}/rotate-secret"), json!({})).await,
        app.get(&format!("{w}/attempts")).await,
        app.post(&format!("{w}/replay"), json!({})).await,
        app.get(&format!("/api/events/{nobody}/attempts")).await,
        app.post("/api/deliveries/987654321/retry", json!({})).await,
        app.get("/api/event-types/no_such_event").await,
    ];
    for answer in answers {
        let body = answer.expect(404);
        assert_eq!(body["error"], "not_found");
        assert!(body["message"].as_str().unwrap().contains("not found"), "{body}");
    }
}

/// The list pages with limit and offset, reports the total, searches name and URL, and filters by
/// event (a `*` webhook receives every event) and by active; empty parameters are ignored.
#[tokio::test]
async fn the_webhook_list_pages_searches_and_filters() {
    let app = App::new().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let event = if i % 2 == 0 { "payment_received" } else { "site_published" };
        ids.push(id_of(&app.add(&format!("hook {i}"), &format!("https://h{i}.example.com/in"), &[event]).await));
    }
    ids.push(id_of(&app.add("Everything", "https://all.example.com/", &["*"]).await));
    app.patch(&format!("/api/webhooks/{}", ids[1]), json!({ "active": false })).await.expect(200);

    let page = app.get("/api/webhooks?limit=2&offset=0").await.expect(200);
    assert_eq!((page["total"].as_i64(), page["limit"].as_i64(), page["offset"].as_i64()), (Some(6), Some(2), Some(0)));
    let names: Vec<&str> = page["items"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["hook 0", "hook 1"], "oldest first");
    let page = app.get("/api/webhooks?limit=2&offset=2").await.expect(200);
    assert_eq!(page["items"][0]["name"], "hook 2");
    let page = app.get("/api/webhooks?limit=4&offset=4").await.expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 6);
    let page = app.get("/api/webhooks?offset=10").await.expect(200);
    assert_eq!((page["items"].as_array().unwrap().len(), page["total"].as_i64()), (0, Some(6)));
    let default = app.get("/api/webhooks?search=&event=&active=&limit=&offset=").await.expect(200);
    assert_eq!((default["total"].as_i64(), default["limit"].as_i64(), default["offset"].as_i64()), (Some(6), Some(50), Some(0)));

    let count = |body: Value| body["total"].as_i64().unwrap();
    assert_eq!(count(app.get("/api/webhooks?search=HOOK%203").await.expect(200)), 1, "by name, any case");
    assert_eq!(count(app.get("/api/webhooks?search=h4.example").await.expect(200)), 1, "by URL");
    assert_eq!(count(app.get("/api/webhooks?event=payment_received").await.expect(200)), 4, "3 direct + the * one");
    assert_eq!(count(app.get("/api/webhooks?event=site_published&active=true").await.expect(200)), 2);
    let inactive = app.get("/api/webhooks?active=false").await.expect(200);
    assert_eq!(inactive["total"], 1);
    assert_eq!(inactive["items"][0]["id"], ids[1].as_str());
}

/// Send Test Event against a 200, a 500 and an unreachable receiver: each answers 200 with what
/// happened (only the 2xx is a success), and each is recorded as a test attempt in the log.
#[tokio::test]
async fn send_test_event_reports_a_200_a_500_and_an_unreachable_receiver() {
    let app = App::new().await;
    let ok = Receiver::sequence(vec![Reply::status(200).header("content-type", "application/json").body(r#"{"received":true}"#)]).await;
    let broken = Receiver::sequence(vec![Reply::status(500).body("<h1>Internal Server Error</h1>")]).await;
    let hook_ok = app.add("ok", &ok.url("/in"), &["payment_received"]).await;
    let hook_broken = app.add("broken", &broken.url("/in"), &["site_published"]).await;
    let hook_gone = app.add("gone", &unreachable_url().await, &["*"]).await;

    let path = |w: &Value| format!("/api/webhooks/{}/test", id_of(w));
    let result = app.post(&path(&hook_ok), json!({})).await.expect(200);
    assert_eq!(result["success"], true);
    assert_eq!(result["status_code"], 200);
    assert_eq!(result["error"], Value::Null);
    assert_eq!(result["event_type"], "payment_received", "the webhook's first event by default");
    assert_eq!(result["body_excerpt"], r#"{"received":true}"#);
    assert_eq!(result["body_is_json"], true);
    assert_eq!(result["response_headers"]["content-type"], "application/json");
    assert!(result["duration_ms"].is_u64());
    let got = ok.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].header("webhook-id"), result["event_id"].as_str());
    Verifier::new(hook_ok["secret"].as_str().unwrap()).unwrap().verify(&got[0].body, &got[0].headers).expect("signed with the secret");
    let sample = app.get("/api/event-types/payment_received").await.expect(200)["sample_payload"].clone();
    assert_eq!(serde_json::from_slice::<Value>(&got[0].body).unwrap(), sample, "the sample payload is what is sent");

    let result = app.post(&path(&hook_broken), json!({ "event": "payment_received" })).await.expect(200);
    assert_eq!(result["success"], false, "a 500 is a failure: {result}");
    assert_eq!(result["status_code"], 500);
    assert_eq!(result["event_type"], "payment_received", "the event asked for, subscribed or not");
    assert_eq!(result["body_excerpt"], "<h1>Internal Server Error</h1>");
    assert_eq!(result["body_is_json"], false);
    assert_eq!(broken.count(), 1);

    let result = app.post(&path(&hook_gone), Value::Null).await.expect(200);
    assert_eq!(result["success"], false);
    assert_eq!(result["status_code"], Value::Null);
    assert_eq!(result["error"], "connect", "{result}");
    assert!(result["error_detail"].as_str().is_some_and(|d| !d.is_empty()));
    assert_eq!(result["body_excerpt"], "");

    for (hook, status, succeeded) in [(&hook_ok, json!(200), true), (&hook_broken, json!(500), false), (&hook_gone, Value::Null, false)] {
        let log = app.get(&format!("/api/webhooks/{}/attempts", id_of(hook))).await.expect(200);
        assert_eq!(log["total"], 1, "{log}");
        let attempt = &log["items"][0];
        assert_eq!(attempt["test"], true);
        assert_eq!(attempt["status_code"], status);
        assert_eq!(attempt["succeeded"], succeeded);
        assert_eq!(attempt["delivery_id"], Value::Null);
        assert_eq!(attempt["delivery_state"], Value::Null);
        assert_eq!(attempt["webhook_name"], hook["name"]);
        assert_eq!(attempt["url"], hook["url"]);
    }
    let events = app.get(&format!("/api/webhooks/{}", id_of(&hook_ok))).await.expect(200);
    assert_eq!(events["event_count"], 0, "test sends are not counted");
}

/// A URL not saved yet can be tested too: vetted, signed with a throwaway secret, recorded as a
/// test attempt that belongs to no webhook.
#[tokio::test]
async fn an_unsaved_url_can_be_tested() {
    let app = App::new().await;
    let receiver = Receiver::sequence(vec![Reply::status(202).body("queued")]).await;
    let result = app.post("/api/test", json!({ "url": receiver.url("/draft"), "event": "site_published" })).await.expect(200);
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["status_code"], 202);
    assert_eq!(result["event_type"], "site_published");
    assert_eq!(result["body_excerpt"], "queued");
    let got = receiver.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/draft");
    assert!(got[0].header("webhook-signature").is_some_and(|s| s.starts_with("v1,")));

    let attempt_id = result["attempt_id"].as_i64().unwrap();
    let (webhook_id, test, url): (Option<Uuid>, bool, String) =
        sqlx::query_as("SELECT webhook_id, test, url FROM hookd.attempts WHERE id = $1").bind(attempt_id).fetch_one(app.db.store.pool()).await.unwrap();
    assert_eq!((webhook_id, test, url), (None, true, receiver.url("/draft")));
    let event_id = result["event_id"].as_str().unwrap();
    let log = app.get(&format!("/api/events/{event_id}/attempts")).await.expect(200);
    assert_eq!(log["total"], 1);
    assert_eq!(log["items"][0]["attempt_id"], attempt_id);
    assert_eq!(log["items"][0]["webhook_id"], Value::Null);

    // Without an event, the catalog's first; an unreachable URL is a result, not an error.
    let result = app.post("/api/test", json!({ "url": unreachable_url().await })).await.expect(200);
    assert_eq!((result["success"].as_bool(), result["error"].as_str()), (Some(false), Some("connect")));
    let first = app.get("/api/event-types").await.expect(200)[0]["slug"].clone();
    assert_eq!(result["event_type"], first);
}

/// The catalog: every event type with its name, description and sample payload, in order.
#[tokio::test]
async fn the_event_catalog_is_listed_with_samples() {
    let app = App::new().await;
    let types = app.get("/api/event-types").await.expect(200);
    let types = types.as_array().unwrap();
    let rows = app.db.store.event_type_list().await.unwrap();
    assert_eq!(types.len(), rows.len());
    assert!(types.len() >= 15);
    for (json, row) in types.iter().zip(&rows) {
        assert_eq!(json, &json!({ "slug": row.slug, "name": row.name, "description": row.description, "sample_payload": row.sample_payload }));
    }
    let one = app.get("/api/event-types/payment_received").await.expect(200);
    assert_eq!(one["name"], "Payment Received");
    assert!(one["sample_payload"].is_object());
}

/// Bulk activate, deactivate and delete: the count of webhooks affected, unknown ids ignored,
/// deactivated ones marked as disabled by an admin.
#[tokio::test]
async fn bulk_actions_activate_deactivate_and_delete() {
    let app = App::new().await;
    let ids: Vec<String> = add_many(&app, 3).await;
    let bulk = |action: &str, ids: Vec<String>| app.post("/api/webhooks/bulk", json!({ "action": action, "ids": ids }));

    let done = bulk("deactivate", vec![ids[0].clone(), ids[1].clone(), Uuid::new_v4().to_string()]).await.expect(200);
    assert_eq!(done, json!({ "affected": 2 }));
    for id in &ids[..2] {
        let w = app.get(&format!("/api/webhooks/{id}")).await.expect(200);
        assert_eq!((w["active"].as_bool(), w["disabled_reason"].as_str()), (Some(false), Some("disabled by an admin")));
    }
    assert_eq!(app.get(&format!("/api/webhooks/{}", ids[2])).await.expect(200)["active"], true);

    assert_eq!(bulk("activate", ids.clone()).await.expect(200), json!({ "affected": 3 }));
    assert_eq!(app.get("/api/webhooks?active=true").await.expect(200)["total"], 3);

    assert_eq!(bulk("delete", vec![ids[0].clone(), ids[2].clone()]).await.expect(200), json!({ "affected": 2 }));
    let left = app.get("/api/webhooks").await.expect(200);
    assert_eq!(left["total"], 1);
    assert_eq!(left["items"][0]["id"], ids[1].as_str());
    assert_eq!(bulk("delete", vec![ids[0].clone()]).await.expect(200), json!({ "affected": 0 }));
}

async fn add_many(app: &App, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(id_of(&app.add(&format!("bulk {i}"), &format!("https://b{i}.example.com/"), &["*"]).await));
    }
    ids
}

/// The delivery log of a webhook and of an event, newest first with delivery states; Retry of a
/// failed delivery (409 for one that has not failed), and replay of a webhook's failures since a
/// time, with the worker pool delivering what they put back.
#[tokio::test]
async fn failed_deliveries_are_retried_and_replayed_and_the_log_shows_them() {
    let app = App::new().await;
    let store = &app.db.store;
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = healthy.clone();
    // 422 is terminal: a delivery fails at its first attempt while the receiver is unhealthy (not
    // 410, which also disables the webhook).
    let receiver = Receiver::scripted(move |_, _| Reply::status(if flag.load(Ordering::SeqCst) { 200 } else { 422 })).await;
    let webhook = app.add("flaky", &receiver.url("/in"), &["payment_received"]).await;
    let id = id_of(&webhook);
    let worker = spawn_worker(store, test_sender(), test_config("1s"));

    let first = store.outbox_publish("payment_received", &json!({ "n": 1 })).await.unwrap();
    let second = store.outbox_publish("payment_received", &json!({ "n": 2 })).await.unwrap();
    let failed = || async {
        let log = app.get(&format!("/api/webhooks/{id}/attempts")).await.expect(200);
        log["items"].as_array().unwrap().iter().filter(|a| a["delivery_state"] == "failed").count() == 2
    };
    wait_until(DEADLINE, "both deliveries failed", failed).await;

    let log = app.get(&format!("/api/webhooks/{id}/attempts?limit=1")).await.expect(200);
    assert_eq!((log["total"].as_i64(), log["items"].as_array().unwrap().len()), (Some(2), 1));
    let attempt = &log["items"][0];
    assert_eq!(attempt["status_code"], 422);
    assert_eq!(attempt["succeeded"], false);
    assert_eq!(attempt["test"], false);
    assert_eq!(attempt["attempt"], 1);
    assert_eq!(attempt["webhook_name"], "flaky");
    let event_log = app.get(&format!("/api/events/{first}/attempts")).await.expect(200);
    assert_eq!(event_log["total"], 1);
    let delivery_id = event_log["items"][0]["delivery_id"].as_i64().expect("a real attempt has a delivery");

    healthy.store(true, Ordering::SeqCst);
    let retried = app.post(&format!("/api/deliveries/{delivery_id}/retry"), json!({})).await.expect(200);
    assert_eq!(retried, json!({ "replayed": 1 }));
    wait_until(DEADLINE, "the retried delivery succeeded", || async {
        let log = app.get(&format!("/api/events/{first}/attempts")).await.expect(200);
        log["items"][0]["delivery_state"] == "succeeded"
    })
    .await;
    let event_log = app.get(&format!("/api/events/{first}/attempts")).await.expect(200);
    let attempts: Vec<(i64, i64)> = event_log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["attempt"].as_i64().unwrap(), a["status_code"].as_i64().unwrap()))
        .collect();
    assert_eq!(attempts, [(2, 200), (1, 422)], "newest first");
    let conflict = app.post(&format!("/api/deliveries/{delivery_id}/retry"), json!({})).await.expect(409);
    assert_eq!(conflict["error"], "conflict");
    assert!(conflict["message"].as_str().unwrap().contains("succeeded"), "{conflict}");

    let future = (chrono::Utc::now() + chrono::TimeDelta::hours(1)).to_rfc3339();
    assert_eq!(app.post(&format!("/api/webhooks/{id}/replay"), json!({ "since": future })).await.expect(200), json!({ "replayed": 0 }));
    let past = (chrono::Utc::now() - chrono::TimeDelta::hours(1)).to_rfc3339();
    assert_eq!(app.post(&format!("/api/webhooks/{id}/replay"), json!({ "since": past })).await.expect(200), json!({ "replayed": 1 }));
    wait_until(DEADLINE, "the replayed delivery succeeded", || async {
        let log = app.get(&format!("/api/events/{second}/attempts")).await.expect(200);
        log["items"][0]["delivery_state"] == "succeeded"
    })
    .await;
    assert_eq!(app.post(&format!("/api/webhooks/{id}/replay"), Value::Null).await.expect(200), json!({ "replayed": 0 }));
    assert_eq!(app.get(&format!("/api/webhooks/{id}")).await.expect(200)["event_count"], 2);
    worker.stop().await;
}

/// A failed delivery of a webhook switched off since is not retried: 409, and nothing is sent.
#[tokio::test]
async fn retrying_a_delivery_of_a_disabled_webhook_is_a_conflict() {
    let app = App::new().await;
    let store = &app.db.store;
    let receiver = Receiver::always(422).await;
    let webhook = app.add("gone", &receiver.url("/in"), &["payment_received"]).await;
    let id = id_of(&webhook);
    let worker = spawn_worker(store, test_sender(), test_config("1s"));
    let event = store.outbox_publish("payment_received", &json!({})).await.unwrap();
    wait_until(DEADLINE, "the delivery failed", || async {
        app.get(&format!("/api/events/{event}/attempts")).await.expect(200)["items"][0]["delivery_state"] == "failed"
    })
    .await;
    worker.stop().await;
    let delivery_id = app.get(&format!("/api/events/{event}/attempts")).await.expect(200)["items"][0]["delivery_id"].as_i64().unwrap();
    app.patch(&format!("/api/webhooks/{id}"), json!({ "active": false })).await.expect(200);
    let answer = app.post(&format!("/api/deliveries/{delivery_id}/retry"), json!({})).await.expect(409);
    assert!(answer["message"].as_str().unwrap().contains("disabled"), "{answer}");
    assert_eq!(store.delivery_get(delivery_id).await.unwrap().unwrap().state, "failed");
}

/// The signatures of one request, each alone in a copy of its headers.
fn each_signature(headers: &HeaderMap) -> Vec<HeaderMap> {
    let header = headers.get("webhook-signature").unwrap().to_str().unwrap();
    header
        .split(' ')
        .map(|sig| {
            let mut one = headers.clone();
            one.insert("webhook-signature", HeaderValue::from_str(sig).unwrap());
            one
        })
        .collect()
}

/// Rotating the secret: during the grace period a real delivery (and a test send) carries two
/// signatures, the first verifying with the new secret only and the second with the old one only;
/// once the grace period is over, one signature, with the new secret.
#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_until_the_grace_period_ends() {
    let app = App::new().await;
    let store = &app.db.store;
    let receiver = Receiver::always(204).await;
    let webhook = app.add("rotating", &receiver.url("/in"), &["payment_received"]).await;
    let id = id_of(&webhook);
    let old = webhook["secret"].as_str().unwrap().to_owned();
    let worker = spawn_worker(store, test_sender(), test_config("1s"));
    let receiver = &receiver;
    let deliver = |n: i64| async move {
        let before = receiver.count();
        store.outbox_publish("payment_received", &json!({ "n": n })).await.unwrap();
        wait_until(DEADLINE, "the event arrived", || async { receiver.count() > before }).await;
        receiver.received().pop().unwrap()
    };

    let got = deliver(1).await;
    assert_eq!(each_signature(&got.headers).len(), 1);
    Verifier::new(&old).unwrap().verify(&got.body, &got.headers).expect("signed with the secret");

    let rotated = app.post(&format!("/api/webhooks/{id}/rotate-secret"), json!({ "grace_period_secs": 3600 })).await.expect(200);
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);
    let expires = chrono::DateTime::parse_from_rfc3339(rotated["previous_secret_expires_at"].as_str().unwrap()).unwrap();
    let hour = expires.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!((3500..=3600).contains(&hour), "expires in about an hour: {hour}s");
    let shown = app.get(&format!("/api/webhooks/{id}/secret")).await.expect(200);
    assert_eq!(shown["secret"], new.as_str());
    assert_eq!(shown["previous_secret_expires_at"], rotated["previous_secret_expires_at"]);

    let check_both = |got: &hookd_testkit::receiver::Received| {
        let (new_v, old_v) = (Verifier::new(&new).unwrap(), Verifier::new(&old).unwrap());
        new_v.verify(&got.body, &got.headers).expect("verifies with the new secret");
        old_v.verify(&got.body, &got.headers).expect("verifies with the old secret");
        let singles = each_signature(&got.headers);
        assert_eq!(singles.len(), 2, "two signatures: {:?}", got.header("webhook-signature"));
        assert!(singles.iter().all(|h| h.get("webhook-signature").unwrap().to_str().unwrap().starts_with("v1,")));
        new_v.verify(&got.body, &singles[0]).expect("the first is the new secret's");
        assert!(old_v.verify(&got.body, &singles[0]).is_err());
        old_v.verify(&got.body, &singles[1]).expect("the second is the old secret's");
        assert!(new_v.verify(&got.body, &singles[1]).is_err());
    };
    check_both(&deliver(2).await);
    app.post(&format!("/api/webhooks/{id}/test"), json!({})).await.expect(200);
    check_both(&receiver.received().pop().unwrap());

    // A short grace period, waited out on the API's own answer rather than a sleep.
    let rotated = app.post(&format!("/api/webhooks/{id}/rotate-secret"), json!({ "grace_period_secs": 1 })).await.expect(200);
    let newest = rotated["secret"].as_str().unwrap().to_owned();
    wait_until(DEADLINE, "the grace period is over", || async {
        app.get(&format!("/api/webhooks/{id}/secret")).await.expect(200)["previous_secret_expires_at"].is_null()
    })
    .await;
    let got = deliver(3).await;
    assert_eq!(each_signature(&got.headers).len(), 1, "one signature after the grace period: {:?}", got.header("webhook-signature"));
    Verifier::new(&newest).unwrap().verify(&got.body, &got.headers).expect("the newest secret signs");
    assert!(Verifier::new(&new).unwrap().verify(&got.body, &got.headers).is_err(), "the previous one no longer does");

    // Grace 0: the old secret stops at once.
    let rotated = app.post(&format!("/api/webhooks/{id}/rotate-secret"), json!({ "grace_period_secs": 0 })).await.expect(200);
    let got = deliver(4).await;
    assert_eq!(each_signature(&got.headers).len(), 1);
    Verifier::new(rotated["secret"].as_str().unwrap()).unwrap().verify(&got.body, &got.headers).expect("the newest secret signs");
    worker.stop().await;
}

/// `hookd webhook rotate-secret` rotates through the same store function as the API.
#[tokio::test]
async fn the_cli_rotates_a_secret_too() {
    let app = App::new().await;
    let webhook = app.add("cli", "https://cli.example.com/", &["*"]).await;
    let id = id_of(&webhook);
    let out = hookd(&app.db, &["webhook", "rotate-secret", &id, "--grace", "2h", "--json"]).await.ok().json();
    let secret = out["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_") && secret != webhook["secret"].as_str().unwrap());
    let shown = app.get(&format!("/api/webhooks/{id}/secret")).await.expect(200);
    assert_eq!(shown["secret"], secret);
    assert_eq!(shown["previous_secret_expires_at"], out["previous_secret_expires_at"]);
    let text = hookd(&app.db, &["webhook", "rotate-secret", &id, "--grace", "0s"]).await.ok();
    assert!(text.stdout.contains("new secret: whsec_"), "{text:?}");
}

/// The OpenAPI document parses, lists every route with its methods, describes the error shape,
/// and declares the bearer token.
#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = App::new().await;
    let doc = app.get("/api/openapi.json").await.expect(200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let expected: &[(&str, &[&str])] = &[
        ("/api/webhooks", &["get", "post"]),
        ("/api/webhooks/bulk", &["post"]),
        ("/api/webhooks/{id}", &["get", "patch", "delete"]),
        ("/api/webhooks/{id}/test", &["post"]),
        ("/api/test", &["post"]),
        ("/api/webhooks/{id}/secret", &["get"]),
        ("/api/webhooks/{id}/rotate-secret", &["post"]),
        ("/api/webhooks/{id}/attempts", &["get"]),
        ("/api/webhooks/{id}/replay", &["post"]),
        ("/api/events/{event_id}/attempts", &["get"]),
        ("/api/deliveries/{id}/retry", &["post"]),
        ("/api/event-types", &["get"]),
        ("/api/event-types/{slug}", &["get"]),
        ("/api/openapi.json", &["get"]),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), expected.len(), "{:?}", paths.keys().collect::<Vec<_>>());
    for (path, methods) in expected {
        let item = paths.get(*path).unwrap_or_else(|| panic!("{path} missing"));
        for method in *methods {
            assert!(item.get(*method).is_some(), "{method} {path} missing");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in ["WebhookOut", "WebhookPage", "CreateWebhook", "ErrorBody", "TestResult", "AttemptPage", "EventTypeOut"] {
        assert!(schemas.contains_key(schema), "schema {schema} missing");
    }
    assert_eq!(doc["components"]["securitySchemes"]["admin_token"]["scheme"], "bearer");
    let created = &paths["/api/webhooks"]["post"]["responses"]["201"];
    assert!(created.is_object(), "POST /api/webhooks documents its 201");
}

/// The page is served at `/` without a token (it holds no data); the API behind it needs one.
#[tokio::test]
async fn the_page_is_served_beside_the_api() {
    let app = App::new().await;
    let response = app.http.get(app.api.url("/")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

/// `hookd serve` with a token serves the API beside the worker; without one it says why not and
/// how to fix it, and serves no API.
#[tokio::test]
async fn serve_runs_the_api_with_a_token_and_explains_itself_without_one() {
    let db = TestDb::new().await;
    let serve = HookdProcess::serve(&db, &[("HOOKD_ADMIN_TOKEN", TOKEN), ("HOOKD_ADMIN_ADDR", "127.0.0.1:0")]);
    serve.worker_id(&db.store).await;
    let mut url = None;
    wait_until(DEADLINE, "serve logs the admin URL", || {
        url = find_admin_url(&serve.log_text());
        std::future::ready(url.is_some())
    })
    .await;
    let url = url.unwrap();
    let http = reqwest::Client::new();
    let denied = http.get(format!("{url}api/webhooks")).send().await.unwrap();
    assert_eq!(denied.status().as_u16(), 401);
    let listed = http.get(format!("{url}api/webhooks")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    assert!(!serve.log_text().contains(TOKEN), "the token is never logged");

    let quiet = HookdProcess::serve(&db, &[]);
    quiet.worker_id(&db.store).await;
    let log = quiet.log_text();
    assert!(log.contains("admin API and page not served") && log.contains("HOOKD_ADMIN_TOKEN") && log.contains("hookd demo"), "{log}");
}

fn find_admin_url(log: &str) -> Option<String> {
    const PREFIX: &str = "http://127.0.0.1:";
    let rest = &log[log.find(PREFIX)? + PREFIX.len()..];
    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
    (!port.is_empty()).then(|| format!("{PREFIX}{port}/"))
}

/// `hookd demo --stay` serves the admin API with a token it generated and printed, keeps serving
/// after the last delivery, and stops cleanly on Ctrl-C.
#[tokio::test]
async fn demo_serves_the_api_with_a_generated_token_and_stays_until_ctrl_c() {
    use tokio::io::{AsyncBufReadExt, BufReader};

    let db = TestDb::new().await;
    let mut cmd = hookd_command(&db, &["demo", "--rounds", "1", "--stay"]);
    cmd.env("HOOKD_ADMIN_ADDR", "127.0.0.1:0");
    let mut demo = HookdProcess::spawn(cmd);
    let mut lines = BufReader::new(demo.child.stdout.take().expect("piped stdout")).lines();
    let (mut url, mut token, mut staying) = (None, None, false);
    tokio::time::timeout(DEADLINE, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("admin page: ") {
                let mut words = rest.split_whitespace();
                url = words.next().map(str::to_owned);
                token = words.nth(1).map(str::to_owned);
            }
            if line.starts_with("still serving") {
                staying = true;
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the demo did not deliver and stay within {DEADLINE:?}"));
    let (url, token) = (url.expect("the admin URL is printed"), token.expect("the token is printed"));
    assert!(staying && token.len() >= 32, "{url} {token}");

    let http = reqwest::Client::new();
    assert_eq!(http.get(format!("{url}api/webhooks")).send().await.unwrap().status().as_u16(), 401);
    let listed = http.get(format!("{url}api/webhooks")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(listed.status().as_u16(), 200);
    let listed: Value = serde_json::from_slice(&listed.bytes().await.unwrap()).unwrap();
    assert_eq!(listed["items"][0]["name"], "Demo receiver");
    assert!(listed["items"][0]["event_count"].as_i64().unwrap() > 0, "{listed}");

    demo.signal("INT");
    let status = demo.wait_exit(DEADLINE).await;
    assert!(status.success(), "{status:?}\n{}", demo.log_text());
}
