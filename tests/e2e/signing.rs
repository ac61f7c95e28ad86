//! Signatures as a receiver checks them: with an independent Standard Webhooks implementation
//! (the `standardwebhooks` crate), not with hookd's own signing code.

use axum::http::HeaderValue;
use hookd_testkit::worker::{spawn, test_config, test_sender};
use hookd_testkit::{wait_until, Receiver, TestDb};
use serde_json::json;
use standardwebhooks::{Webhook as Verifier, WebhookError};

use crate::common::{add_webhook, deliveries_in, DEADLINE};

/// A payload with accented letters, emoji and CJK text is delivered intact, and the received body
/// and headers verify with the independent `standardwebhooks` crate using the webhook's secret;
/// the same check rejects a tampered body, another message id, and another secret, so it can fail.
#[tokio::test]
async fn non_ascii_payloads_verify_with_an_independent_standard_webhooks_implementation() {
    let db = TestDb::new().await;
    let store = &db.store;
    let receiver = Receiver::always(200).await;
    let webhook = add_webhook(store, "verifier", &receiver.url("/hook"), &["payment_received"]).await;
    let payload = json!({"customer_name": "Zoë Ångström 🎉", "note": "日本語", "payment_id": 9});
    let event_id = store.outbox_publish("payment_received", &payload).await.unwrap();

    let worker = spawn(store, test_sender(), test_config("1s"));
    wait_until(DEADLINE, "the delivery succeeded", || async { deliveries_in(store, &webhook, "succeeded").await == 1 })
        .await;
    worker.stop().await;

    let got = receiver.received();
    assert_eq!(got.len(), 1);
    let (body, headers) = (&got[0].body, &got[0].headers);
    assert_eq!(got[0].header("webhook-id"), Some(event_id.to_string().as_str()));
    assert_eq!(serde_json::from_slice::<serde_json::Value>(body).unwrap(), payload, "the payload arrives intact");
    let text = std::str::from_utf8(body).expect("the body is UTF-8");
    assert!(
        text.contains("Zoë Ångström 🎉") && text.contains("日本語"),
        "multi-byte characters are sent (and so signed) as raw UTF-8: {text}"
    );

    let verifier = Verifier::new(&webhook.secret).expect("a whsec_ secret");
    verifier.verify(body, headers).expect("the signature verifies with standardwebhooks");

    let tampered = text.replace("Zoë", "Zoe");
    assert!(
        matches!(verifier.verify(tampered.as_bytes(), headers), Err(WebhookError::InvalidSignature)),
        "a tampered body must not verify"
    );
    let mut other_id = headers.clone();
    other_id.insert("webhook-id", HeaderValue::from_static("msg_someone_else"));
    assert!(matches!(verifier.verify(body, &other_id), Err(WebhookError::InvalidSignature)));
    let stranger = Verifier::from_bytes(vec![7; 32]).unwrap();
    assert!(matches!(stranger.verify(body, headers), Err(WebhookError::InvalidSignature)), "another secret fails");
}
