//! Custom headers per webhook (set from the CLI and the API, sent on every attempt and test send,
//! reserved names refused) and the ordering headers every request carries.

use chrono::{DateTime, Utc};
use hookd_testkit::worker::{spawn, test_config};
use hookd_testkit::{wait_until, Receiver, Reply, TestDb};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::common::{deliveries_in, hookd, hookd_command, run_command, HookdProcess, DEADLINE};

const TOKEN: &str = "custom-headers-test-token";

/// Inserts an event with a given `occurred_at`; returns its event id and outbox id.
async fn publish_at(db: &TestDb, occurred_at: &str, n: i64) -> (Uuid, i64) {
    sqlx::query_as("INSERT INTO hookd.outbox (event_type, payload, occurred_at) VALUES ('payment_received', $1, $2::timestamptz) RETURNING event_id, id")
        .bind(json!({ "payment_id": n }))
        .bind(occurred_at)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// Headers added with `hookd webhook add --header` reach the receiver on every attempt (a 500,
/// then a retry) and on a test send; every delivery carries `hookd-occurred-at` (the outbox
/// row's, RFC 3339) and `hookd-sequence` (its id, increasing), a test send no sequence. `update
/// --header` replaces them, `--clear-headers` removes them.
#[tokio::test]
async fn custom_and_ordering_headers_reach_the_receiver() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::sequence(vec![Reply::status(500), Reply::status(200)]).await;
    let added = hookd(
        &db,
        &[
            "webhook", "add", "--name", "crm", "--url", &receiver.url("/in"), "--event", "payment_received",
            "--header", "X-Api-Key:  k3y-value ", "--header", "Authorization: Bearer t0ken", "--json",
        ],
    )
    .await
    .ok()
    .json();
    assert_eq!(added["headers"], json!({ "authorization": "Bearer t0ken", "x-api-key": "k3y-value" }));
    let id: Uuid = added["id"].as_str().unwrap().parse().unwrap();
    let shown = hookd(&db, &["webhook", "show", &id.to_string()]).await.ok();
    assert!(shown.stdout.contains("authorization, x-api-key"), "{shown:?}");
    assert!(!shown.stdout.contains("t0ken"), "the text view names the headers only: {shown:?}");

    let (first_id, first_seq) = publish_at(&db, "2024-05-01T12:34:56.789012Z", 1).await;
    let (second_id, second_seq) = publish_at(&db, "2024-05-01T12:00:00Z", 2).await;
    assert!(second_seq > first_seq);
    let webhook = store.webhook_get(id).await.unwrap();
    let worker = spawn(store, hookd_testkit::worker::test_sender(), test_config("1s"));
    wait_until(DEADLINE, "both delivered", || async { deliveries_in(store, &webhook, "succeeded").await == 2 }).await;
    worker.stop().await;

    let received = receiver.received();
    assert_eq!(received.len(), 3, "a 500, its retry, and the other event");
    for got in &received {
        assert_eq!(got.header("x-api-key"), Some("k3y-value"));
        assert_eq!(got.header("authorization"), Some("Bearer t0ken"));
        assert_eq!(got.header("content-type"), Some("application/json"), "hookd's own headers are intact");
        let (expected_at, expected_seq) = if got.header("webhook-id") == Some(&first_id.to_string()) {
            ("2024-05-01T12:34:56.789012Z", first_seq)
        } else {
            assert_eq!(got.header("webhook-id"), Some(second_id.to_string().as_str()));
            ("2024-05-01T12:00:00.000000Z", second_seq)
        };
        assert_eq!(got.header("hookd-occurred-at"), Some(expected_at));
        assert_eq!(got.header("hookd-sequence"), Some(expected_seq.to_string().as_str()));
    }

    let tested = hookd(&db, &["webhook", "test", &id.to_string(), "--json"]).await.ok().json();
    assert_eq!(tested["success"], true);
    let test = receiver.received().pop().unwrap();
    assert_eq!(test.header("x-api-key"), Some("k3y-value"), "test sends carry the custom headers");
    assert!(test.header("hookd-sequence").is_none(), "a test event has no sequence");
    let at: DateTime<Utc> = test.header("hookd-occurred-at").unwrap().parse().expect("RFC 3339");
    assert!((Utc::now() - at).num_seconds().abs() < 60, "a test event happens when it is sent");

    let updated = hookd(&db, &["webhook", "update", &id.to_string(), "--header", "X-Tenant: 7", "--json"]).await.ok().json();
    assert_eq!(updated["headers"], json!({ "x-tenant": "7" }), "--header replaces the set");
    let renamed = hookd(&db, &["webhook", "update", &id.to_string(), "--name", "crm2", "--json"]).await.ok().json();
    assert_eq!(renamed["headers"], json!({ "x-tenant": "7" }), "other changes keep the headers");
    let cleared = hookd(&db, &["webhook", "update", &id.to_string(), "--clear-headers", "--json"]).await.ok().json();
    assert_eq!(cleared["headers"], json!({}));
}

/// Reserved or malformed headers are refused by the CLI (`error: headers: ...`) and the API (422
/// with field `headers`), on create and on update, and nothing changes.
#[tokio::test]
async fn reserved_and_malformed_headers_are_refused_by_the_cli_and_the_api() {
    let db = TestDb::new().await;
    let url = "http://127.0.0.1:9/h";
    for header in [
        "Webhook-Signature: v1,forged", "webhook-id: 1", "Content-Type: text/plain", "content-length: 1", "Host: evil.example",
        "User-Agent: x", "Transfer-Encoding: chunked", "Connection: close", "hookd-sequence: 1", "HOOKD-Attempt: 9",
        "X-Bad: a\r\nX-Injected: 1", "X-Esc: a\x1bb", "bad name: v", "no colon",
    ] {
        let out = hookd(&db, &["webhook", "add", "--name", "n", "--url", url, "--event", "*", "--header", header]).await;
        assert_eq!(out.code, Some(1), "{header:?}: {out:?}");
        assert!(out.stderr.contains("error: headers: "), "{header:?}: {out:?}");
        assert!(!out.stderr.contains("Injected") && !out.stderr.contains("forged"), "values are not echoed: {out:?}");
    }
    let added = hookd(&db, &["webhook", "add", "--name", "n", "--url", url, "--event", "*", "--header", "X-Ok: 1", "--json"]).await.ok().json();
    let id = added["id"].as_str().unwrap().to_owned();
    let refused = hookd(&db, &["webhook", "update", &id, "--header", "Host: evil.example"]).await;
    assert!(refused.stderr.contains("error: headers: ") && refused.stderr.contains("reserved"), "{refused:?}");
    let both = hookd(&db, &["webhook", "update", &id, "--header", "X-A: 1", "--clear-headers"]).await;
    assert_ne!(both.code, Some(0), "--header and --clear-headers together are refused: {both:?}");
    let shown = hookd(&db, &["webhook", "show", &id, "--json"]).await.ok().json();
    assert_eq!(shown["headers"], json!({ "x-ok": "1" }), "a refused change changes nothing");

    let api = hookd_testkit::api::spawn(&db, TOKEN).await;
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: String, body: Value| {
        let mut request = client.request(method, api.url(&path)).bearer_auth(TOKEN);
        if !body.is_null() {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, serde_json::from_slice(&response.bytes().await.unwrap()).unwrap_or(Value::Null))
        }
    };
    let body = |headers: Value| json!({ "name": "api", "url": url, "events": ["*"], "headers": headers });
    for headers in [
        json!({ "Content-Type": "text/plain" }),
        json!({ "webhook-timestamp": "1" }),
        json!({ "hookd-occurred-at": "x" }),
        json!({ "host": "evil.example" }),
        json!({ "x-bad": "a\nb" }),
        json!({ "x-a": "1", "X-A": "2" }),
        json!({ "": "v" }),
    ] {
        let (status, answer) = call(reqwest::Method::POST, "/api/webhooks".into(), body(headers.clone())).await;
        assert_eq!((status, answer["field"].as_str()), (422, Some("headers")), "{headers}: {answer}");
    }
    let (status, created) = call(reqwest::Method::POST, "/api/webhooks".into(), body(json!({ "X-Api-Key": " k " }))).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["headers"], json!({ "x-api-key": "k" }));
    let path = format!("/api/webhooks/{}", created["id"].as_str().unwrap());
    let (status, answer) = call(reqwest::Method::PATCH, path.clone(), json!({ "headers": { "User-Agent": "me" } })).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("headers")), "{answer}");
    let (_, shown) = call(reqwest::Method::GET, path.clone(), Value::Null).await;
    assert_eq!(shown["headers"], json!({ "x-api-key": "k" }), "a refused change changes nothing");
    let (status, changed) = call(reqwest::Method::PATCH, path.clone(), json!({ "headers": { "X-Tenant": "7" } })).await;
    assert_eq!((status, &changed["headers"]), (200, &json!({ "x-tenant": "7" })));
    let (status, kept) = call(reqwest::Method::PATCH, path.clone(), json!({ "name": "renamed" })).await;
    assert_eq!((status, &kept["headers"]), (200, &json!({ "x-tenant": "7" })), "left out, they are kept");
    let (status, cleared) = call(reqwest::Method::PATCH, path, json!({ "headers": {} })).await;
    assert_eq!((status, &cleared["headers"]), (200, &json!({})));
}

/// `hookd serve` at RUST_LOG=trace sends a webhook's custom headers without logging their values.
#[tokio::test]
async fn custom_header_values_never_reach_the_logs() {
    let db = TestDb::new().await;
    let receiver = Receiver::always(200).await;
    let value = format!("Bearer never-logged-{}", Uuid::new_v4().simple());
    let added = hookd(
        &db,
        &["webhook", "add", "--name", "n", "--url", &receiver.url("/"), "--event", "*", "--header", &format!("Authorization: {value}"), "--json"],
    )
    .await
    .ok()
    .json();
    let id = added["id"].as_str().unwrap().to_owned();
    db.store.outbox_publish("payment_received", &json!({ "payment_id": 1 })).await.unwrap();
    let mut serve = HookdProcess::serve(&db, &[("RUST_LOG", "trace")]);
    wait_until(DEADLINE, "delivered", || async { receiver.count() == 1 }).await;
    serve.signal("TERM");
    assert_eq!(serve.wait_exit(DEADLINE).await.code(), Some(0));
    let mut test = hookd_command(&db, &["webhook", "test", &id]);
    test.env("RUST_LOG", "trace");
    let test = run_command(test).await.ok();
    assert_eq!(receiver.received()[0].header("authorization"), Some(value.as_str()));
    let secret_part = value.strip_prefix("Bearer ").unwrap();
    for (what, text) in [("hookd serve", serve.log_text()), ("hookd webhook test", format!("{}{}", test.stdout, test.stderr))] {
        assert!(text.len() > 1000, "{what} logged at trace: {} bytes", text.len());
        assert!(!text.contains(secret_part), "{what} logged a custom header's value");
    }
}
