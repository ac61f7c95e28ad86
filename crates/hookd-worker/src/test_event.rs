//! Send Test Event: the event type's sample payload, POSTed now through the same signing, sending
//! and recording path as a real delivery, and recorded as a test attempt. The target is a saved
//! webhook (signed with its secrets) or a URL not saved yet (signed with a throwaway secret, and
//! recorded with no webhook).

use chrono::Utc;
use hookd_core::event_type::WILDCARD;
use hookd_core::headers::CustomHeaders;
use hookd_core::signing::SigningSecret;
use hookd_send::sender::NO_HEADERS;
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

/// Where a test event goes, and what signs it.
#[derive(Debug)]
pub struct TestTarget<'a> {
    /// `None` for a URL that is not a saved webhook.
    pub webhook_id: Option<Uuid>,
    pub url: &'a str,
    /// Current secret first; during a rotation's grace period the previous one too.
    pub secrets: Vec<SigningSecret>,
    /// The webhook's subscriptions: the default event type is the first of them.
    pub events: &'a [String],
    /// The webhook's custom headers, sent as on a real delivery.
    pub headers: &'a CustomHeaders,
}

impl<'a> TestTarget<'a> {
    /// A saved webhook, signed as a real delivery to it would be right now.
    pub fn webhook(webhook: &'a Webhook) -> Self {
        Self {
            webhook_id: Some(webhook.id),
            url: &webhook.url,
            secrets: webhook.signing_secrets(Utc::now()).into_iter().filter_map(|s| SigningSecret::parse(s).ok()).collect(),
            events: &webhook.events,
            headers: &webhook.headers,
        }
    }

    /// A URL typed into a form and not saved: signed with a throwaway secret, since there is none yet.
    pub fn unsaved(url: &'a str) -> Self {
        Self { webhook_id: None, url, secrets: vec![SigningSecret::from_key(rand::random())], events: &[], headers: &NO_HEADERS }
    }
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
    send_test(store, sender, &TestTarget::webhook(webhook), event_type, worker).await
}

/// Sends a test event to `target` and records the attempt with `test = true`. `event_type`
/// defaults to the target's first event, or the catalog's first.
pub async fn send_test(
    store: &Store,
    sender: &Sender,
    target: &TestTarget<'_>,
    event_type: Option<&str>,
    worker: &str,
) -> hookd_store::Result<TestOutcome> {
    let event_type = match event_type {
        Some(slug) => slug.to_owned(),
        None => match target.events.first().map(String::as_str) {
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
    let event_id = Uuid::now_v7();
    let response = sender
        .send(Request {
            url: target.url,
            msg_id: &event_id.to_string(),
            event_type: &event_type,
            attempt: 1,
            body: &body,
            secrets: &target.secrets,
            // A test event happens as it is sent, and has no place in the outbox's sequence.
            occurred_at: Utc::now(),
            sequence: None,
            headers: target.headers,
        })
        .await;
    let record = attempt_record(
        &response,
        AttemptContext {
            delivery_id: None,
            event_id,
            event_type: &event_type,
            webhook_id: target.webhook_id,
            url: target.url,
            attempt: 1,
            worker,
            test: true,
        },
    );
    let attempt_id = store.attempt_insert(&record).await?;
    Ok(TestOutcome { event_id, event_type, attempt_id, response })
}
