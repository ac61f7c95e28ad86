//! Signing secrets at rest: sealed under HOOKD_SECRET_KEY, opened only where they are used.

use hookd_testkit::{wait_until, Receiver, TestDb};

use crate::common::{hookd, hookd_command, run_command, HookdProcess, DEADLINE, SERVE_ENV};

const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const OTHER_KEY: &str = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";

async fn with_key(db: &TestDb, key: &str, args: &[&str]) -> crate::common::CliOutput {
    let mut cmd = hookd_command(db, args);
    cmd.env("HOOKD_SECRET_KEY", key);
    run_command(cmd).await
}

async fn stored_secret(db: &TestDb, id: &str) -> String {
    sqlx::query_scalar("SELECT secret FROM hookd.webhooks WHERE id = $1::uuid")
        .bind(id)
        .fetch_one(db.store.pool())
        .await
        .unwrap()
}

/// With a key, the database holds only a sealed secret; `show --reveal` with the key gives back
/// the secret `add` printed, deliveries are signed with it, and without the key (or with another)
/// the secret cannot be read back and the refusal says why.
#[tokio::test]
async fn secrets_are_sealed_at_rest_and_opened_only_with_the_key() {
    let db = TestDb::new().await;
    let receiver = Receiver::always(200).await;
    let added = with_key(&db, KEY, &["webhook", "add", "--name", "sealed", "--url", &receiver.url("/"), "--event", "payment_received", "--json"])
        .await
        .ok()
        .json();
    let (id, secret) = (added["id"].as_str().unwrap().to_owned(), added["secret"].as_str().unwrap().to_owned());
    let stored = stored_secret(&db, &id).await;
    assert!(stored.starts_with("sealed:v1:") && !stored.contains(&secret[6..]), "stored sealed: {stored}");

    let shown = with_key(&db, KEY, &["webhook", "show", &id, "--reveal", "--json"]).await.ok().json();
    assert_eq!(shown["secret"].as_str(), Some(secret.as_str()));
    let without = hookd(&db, &["webhook", "show", &id, "--reveal"]).await;
    assert_ne!(without.code, Some(0));
    assert!(without.stderr.contains("HOOKD_SECRET_KEY"), "{without:#?}");
    let wrong = with_key(&db, OTHER_KEY, &["webhook", "show", &id, "--reveal"]).await;
    assert_ne!(wrong.code, Some(0));
    assert!(wrong.stderr.contains("cannot be opened"), "{wrong:#?}");

    let mut serve = hookd_command(&db, &["serve"]);
    serve.envs(SERVE_ENV.iter().copied()).env("HOOKD_SECRET_KEY", KEY);
    let _serve = HookdProcess::spawn(serve);
    db.store.outbox_publish("payment_received", &serde_json::json!({"payment_id": 1})).await.unwrap();
    wait_until(DEADLINE, "the event arrives", || async { receiver.count() == 1 }).await;
    let got = &receiver.received()[0];
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    verifier.verify(&got.body, &got.headers).expect("signed with the secret add printed");
}

/// Secrets stored before a key was configured are sealed by the next `hookd migrate` with a key,
/// and still sign the same.
#[tokio::test]
async fn migrate_seals_secrets_stored_in_the_clear() {
    let db = TestDb::new().await;
    let added = hookd(&db, &["webhook", "add", "--name", "plain", "--url", "http://127.0.0.1:9/", "--event", "*", "--json"])
        .await
        .ok()
        .json();
    let (id, secret) = (added["id"].as_str().unwrap().to_owned(), added["secret"].as_str().unwrap().to_owned());
    assert_eq!(stored_secret(&db, &id).await, secret, "no key: stored as it is");
    with_key(&db, KEY, &["migrate"]).await.ok();
    assert!(stored_secret(&db, &id).await.starts_with("sealed:v1:"));
    let shown = with_key(&db, KEY, &["webhook", "show", &id, "--reveal", "--json"]).await.ok().json();
    assert_eq!(shown["secret"].as_str(), Some(secret.as_str()));
}
