//! URL handling end to end: the one parser keeps a path and query byte for byte, what it does
//! normalise is exactly what is stored and sent (README "URLs"), and a host NAME is resolved and
//! every address vetted both when a webhook is saved and at every delivery.

use hookd_core::target::{parse_webhook_url, TargetPolicy};
use hookd_testkit::worker::{spawn, test_config, test_sender, test_sender_with};
use hookd_testkit::{wait_until, Receiver, TestDb};
use serde_json::{json, Value};

use crate::common::{add_webhook, attempts_for, deliveries_in, hookd, hookd_command, run_command, DEADLINE};

/// Sends a test event to `url` through the real sender and returns the request target the
/// receiver saw.
async fn sent_target(db: &TestDb, receiver: &Receiver, url: &str) -> String {
    let webhook = add_webhook(&db.store, "url", url, &["payment_received"]).await;
    let before = receiver.count();
    let outcome = hookd_worker::test_event::send_test_event(&db.store, &test_sender(), &webhook, None, "test").await.unwrap();
    assert_eq!(outcome.response.status, Some(200), "{url}: {:?}", outcome.response);
    assert_eq!(receiver.count(), before + 1);
    receiver.received().pop().unwrap().path_and_query
}

/// Paths and queries already written in URL characters, odd ones included, are stored and sent
/// exactly as typed: no decoding, no re-casing of escapes, no merging of slashes, no reordering.
#[tokio::test]
async fn paths_and_queries_are_kept_byte_for_byte() {
    let db = TestDb::new().await;
    let receiver = Receiver::always(200).await;
    let base = format!("http://{}", receiver.addr);
    for target in [
        "/a/b?x=1&y=2",
        "/p%7e%7E/%2F%2f/x?q=%20%2B+&r=a%26b",
        "/a;p=1/b,c!$'()*@:~_-.?a=&&b[]=1&b[]=2&c=d=e",
        "/UPPER/Case.JSON?Q=V&q=v",
        "//double//slash/",
        "/trailing/?",
        "/x?",
        "/%zz/%41?%zz=%41",
        "/a%00b%0D%0A?c=%00",
        "/a/%2E%2E%2Fb",
        "/hooks/ultimo?token=abc.def-ghi_jkl~mno",
    ] {
        let url = format!("{base}{target}");
        let parsed = parse_webhook_url(&url).unwrap();
        assert_eq!(parsed.as_str(), url, "stored as typed");
        assert_eq!(sent_target(&db, &receiver, &url).await, target, "sent as typed");
    }
}

/// What the parser does change, precisely (the list in README's "URLs"): the stored URL shows it,
/// and the stored URL is what is sent.
#[tokio::test]
async fn what_the_parser_normalises_is_what_is_stored_and_sent() {
    let db = TestDb::new().await;
    let receiver = Receiver::always(200).await;
    let base = format!("http://{}", receiver.addr);
    for (typed, stored) in [
        ("/a/./b/../c", "/a/c"),
        ("/a/%2e%2E/c", "/c"),
        ("/a/%2e/c", "/a/c"),
        ("/a\\b", "/a/b"),
        ("", "/"),
        ("/a b/c?d e", "/a%20b/c?d%20e"),
        ("/é?é=ü", "/%C3%A9?%C3%A9=%C3%BC"),
        ("/a\"<>`{}/?\"<>'", "/a%22%3C%3E%60%7B%7D/?%22%3C%3E%27"),
        ("/a^b?c^d", "/a%5Eb?c^d"),
    ] {
        let url = parse_webhook_url(&format!("{base}{typed}")).unwrap();
        assert_eq!(url.as_str(), format!("{base}{stored}"), "{typed:?}");
        assert_eq!(sent_target(&db, &receiver, url.as_str()).await, stored, "{typed:?} is sent as stored");
    }
    // A fragment is stored but never sent (HTTP has no place for it).
    let url = format!("{base}/x?y=1#frag");
    assert_eq!(parse_webhook_url(&url).unwrap().as_str(), url);
    assert_eq!(sent_target(&db, &receiver, &url).await, "/x?y=1");
    // Scheme and host are lower-cased, a default port dropped, an IDN host turned to punycode.
    for (typed, stored) in [
        ("HTTPS://Example.COM:443/P?Q", "https://example.com/P?Q"),
        ("http://example.com:80/", "http://example.com/"),
        ("https://example.com:8443/", "https://example.com:8443/"),
        ("https://Bücher.example/", "https://xn--bcher-kva.example/"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
    ] {
        assert_eq!(parse_webhook_url(typed).unwrap().as_str(), stored, "{typed}");
    }
    // Control characters, which the parser would silently delete, are refused.
    for typed in ["/a\tb", "/a\nb", "/?a=\r\nb"] {
        let err = parse_webhook_url(&format!("{base}{typed}")).unwrap_err();
        assert!(err.to_string().contains("control characters"), "{typed:?}: {err}");
    }
}

/// A webhook whose host is a NAME that resolves to loopback is refused at delivery under the
/// default policy: the attempt is recorded as `refused_target`, the delivery fails at once, and
/// the receiver (which is listening on that address) gets nothing. Same for a test send.
#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused_at_delivery() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    // Saved with private targets allowed; sent by a worker that does not allow them.
    let webhook = add_webhook(store, "by name", &format!("http://localhost:{}/in", receiver.addr.port()), &["payment_received"]).await;
    let event_id = store.outbox_publish("payment_received", &json!({"payment_id": 1})).await.unwrap();
    let guarded = || test_sender_with(|c| c.policy = TargetPolicy::default());
    let worker = spawn(store, guarded(), test_config("1s,1s"));
    wait_until(DEADLINE, "the delivery failed", || async { deliveries_in(store, &webhook, "failed").await == 1 }).await;
    worker.stop().await;
    assert_eq!(attempts_for(store, event_id, &webhook).await, vec![(1, None, Some("refused_target".to_owned()))]);
    let detail: String = sqlx::query_scalar("SELECT error_detail FROM hookd.attempts WHERE webhook_id = $1")
        .bind(webhook.id)
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(detail.contains("localhost resolves to a refused address") && detail.contains("loopback"), "{detail}");

    let test = hookd_worker::test_event::send_test_event(store, &guarded(), &webhook, None, "test").await.unwrap();
    assert_eq!(test.response.error.map(|e| e.as_str()), Some("refused_target"));
    assert_eq!(receiver.count(), 0, "nothing reached the loopback receiver");
}

/// Names in /etc/hosts, other than localhost's, that resolve only to non-public addresses: a
/// name the literal `localhost` check cannot know about.
async fn private_host_names() -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut names = Vec::new();
    for line in hosts.lines().map(|l| l.split('#').next().unwrap_or_default()) {
        for name in line.split_whitespace().skip(1) {
            if name.contains("localhost") || names.iter().any(|n| n == name) {
                continue;
            }
            let Ok(addrs) = tokio::net::lookup_host((name, 80)).await else { continue };
            let addrs: Vec<_> = addrs.collect();
            if !addrs.is_empty() && addrs.iter().all(|a| hookd_core::target::non_public_reason(a.ip()).is_some()) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// Saving (API and CLI, create and update) and Send Test Event to an unsaved URL resolve the
/// host and vet every address: a name that does not resolve, or resolves to a refused address,
/// is refused naming `url`. With private targets allowed nothing can be refused, so no lookup is
/// made.
#[tokio::test]
async fn host_names_are_resolved_and_vetted_when_saved() {
    let db = TestDb::new().await;
    let token = "urls-test-token";
    let api = hookd_testkit::api::spawn_with(&db, token, test_sender(), TargetPolicy::default()).await;
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, body: Value| {
        let mut request = client.request(method, api.url(path)).bearer_auth(token);
        if !body.is_null() {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, serde_json::from_slice::<Value>(&response.bytes().await.unwrap()).unwrap())
        }
    };
    let create = |url: &str| json!({ "name": "n", "url": url, "events": ["payment_received"] });

    let (status, answer) = call(reqwest::Method::POST, "/api/webhooks", create("https://no-such-host.invalid/h")).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("url")), "{answer}");
    assert!(answer["message"].as_str().unwrap().contains("no-such-host.invalid"), "{answer}");
    let (status, answer) = call(reqwest::Method::POST, "/api/test", json!({ "url": "https://no-such-host.invalid/" })).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("url")), "{answer}");

    let (status, created) = call(reqwest::Method::POST, "/api/webhooks", create("https://93.184.215.14/h")).await;
    assert_eq!(status, 201, "a public address literal needs no lookup: {created}");
    let path = format!("/api/webhooks/{}", created["id"].as_str().unwrap());
    let (status, answer) = call(reqwest::Method::PATCH, &path, json!({ "url": "https://no-such-host.invalid/" })).await;
    assert_eq!((status, answer["field"].as_str()), (422, Some("url")), "{answer}");

    let names = private_host_names().await;
    for name in &names {
        let url = format!("http://{name}:8080/h");
        let (status, answer) = call(reqwest::Method::POST, "/api/webhooks", create(&url)).await;
        assert_eq!((status, answer["field"].as_str()), (422, Some("url")), "{url}: {answer}");
        assert!(answer["message"].as_str().unwrap().contains("resolves to a refused address"), "{answer}");
        let (status, answer) = call(reqwest::Method::PATCH, &path, json!({ "url": url })).await;
        assert_eq!((status, answer["field"].as_str()), (422, Some("url")), "{answer}");
    }
    if names.is_empty() {
        eprintln!("note: no host name other than localhost resolves to a private address here; the resolver's own test covers it");
    }
    let (_, shown) = call(reqwest::Method::GET, &path, Value::Null).await;
    assert_eq!(shown["url"], "https://93.184.215.14/h", "refused changes change nothing");
    assert_eq!(call(reqwest::Method::GET, "/api/webhooks", Value::Null).await.1["total"], 1);

    // The CLI, with the guard on.
    let guarded = |args: &[&str]| {
        let mut cmd = hookd_command(&db, args);
        cmd.env("HOOKD_ALLOW_PRIVATE_TARGETS", "false");
        run_command(cmd)
    };
    for url in ["https://no-such-host.invalid/", "http://localhost:9/", "http://api.localhost/"] {
        let out = guarded(&["webhook", "add", "--name", "n", "--url", url, "--event", "*"]).await;
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.stderr.contains("error: url: "), "{url}: {out:?}");
    }
    let id = created["id"].as_str().unwrap();
    let out = guarded(&["webhook", "update", id, "--url", "https://no-such-host.invalid/"]).await;
    assert!(out.stderr.contains("error: url: ") && out.stderr.contains("no-such-host.invalid"), "{out:?}");
    for name in &names {
        let out = guarded(&["webhook", "add", "--name", "n", "--url", &format!("http://{name}/"), "--event", "*"]).await;
        assert!(out.stderr.contains("resolves to a refused address"), "{name}: {out:?}");
    }

    // Private targets allowed: nothing to vet, so a name is saved without a lookup.
    let out = hookd(&db, &["webhook", "add", "--name", "n", "--url", "https://no-such-host.invalid/", "--event", "*", "--json"]).await.ok();
    assert_eq!(out.json()["url"], "https://no-such-host.invalid/");
}
