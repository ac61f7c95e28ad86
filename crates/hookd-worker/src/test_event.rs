//! Send Test Event: the event type's sample payload, POSTed now to a webhook's URL through the
//! same signing, sending and recording path as a real delivery, and recorded as a test attempt.

use hookd_core::event_type::WILDCARD;
use hookd_core::signing::SigningSecret;
use hookd_send::{Request, Response, Sender};
use hookd_store::webhook::Webhook;
use hookd_store::Store;
use uuid::Uuid;

use crate::recorder::{attempt_record, AttemptContext};

#[derive(Debug)]
pub struct TestOutcome {
    pub event_id: Uuid,
    pub event_type: String,
    pub attempt_id: i64,
    pub response: Response,
}

/// Sends a test event to a saved webhook. `event_type` defaults to the webhook's first event
/// (for a `*` webhook, the first in the catalog).
pub async fn send_test_event(
    store: &Store,
    sender: &Sender,
    webhook: &Webhook,
    event_type: Option<&str>,
    worker: &str,
) -> hookd_store::Result<TestOutcome> {
    let event_type = match event_type {
        Some(slug) => slug.to_owned(),
        None => match webhook.events.first().map(String::as_str) {
            Some(WILDCARD) | None => store
                .event_type_list()
                .await?
                .into_iter()
                .next()
                .map(|t| t.slug)
                .ok_or_else(|| hookd_store::StoreError::NotFound("any event type".into()))?,
            Some(slug) => slug.to_owned(),
        },
    };
    let sample = store.event_type_get(&event_type).await?;
    let body = serde_json::to_vec(&sample.sample_payload).expect("a JSON value serialises");
    let event_id = Uuid::new_v4();
    let secrets: Vec<SigningSecret> = SigningSecret::parse(&webhook.secret).into_iter().collect();
    let response = sender
        .send(Request {
            url: &webhook.url,
            msg_id: &event_id.to_string(),
            event_type: &event_type,
            attempt: 1,
            body: &body,
            secrets: &secrets,
        })
        .await;
    let record = attempt_record(
        &response,
        AttemptContext {
            delivery_id: None,
            event_id,
            event_type: &event_type,
            webhook_id: Some(webhook.id),
            url: &webhook.url,
            attempt: 1,
            worker,
            test: true,
        },
    );
    let attempt_id = store.attempt_insert(&record).await?;
    Ok(TestOutcome { event_id, event_type, attempt_id, response })
}
