//! Send Test Event, for a saved webhook (`POST /api/webhooks/{id}/test`) or for a URL typed into
//! the form and not saved yet (`POST /api/test`). Both go through `hookd_worker::test_event`, the
//! path `hookd webhook test` takes: the real sender, the real signing, a recorded test attempt.
//!
//! Both answer 200 whatever the receiver said: the receiver's answer is the result, and only a
//! 2xx is `success`. A 500, a timeout or a refused connection is a failed test, shown with its
//! reason, never an error of this API.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::Json;
use hookd_core::webhook::WebhookInput;
use hookd_store::StoreError;
use hookd_worker::test_event::{send_test, TestOutcome, TestTarget};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{non_empty, uuid_param, JsonBody};
use crate::state::ApiState;

/// Bytes of the response body shown in `body_excerpt`.
pub const EXCERPT_BYTES: usize = 4096;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(test_webhook)).routes(routes!(test_url))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TestWebhook {
    /// The event type whose sample payload to send (default: the webhook's first event).
    #[schema(example = "payment_received")]
    pub event: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct TestUrl {
    #[schema(example = "https://crm.example.com/hooks/ultimo")]
    pub url: Option<String>,
    /// The event type whose sample payload to send (default: the catalog's first).
    #[schema(example = "payment_received")]
    pub event: Option<String>,
}

/// What the receiver answered, and where the attempt was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResult {
    /// True only on a 2xx.
    pub success: bool,
    /// Null when no HTTP response came back (see `error`).
    pub status_code: Option<u16>,
    pub duration_ms: u64,
    pub response_headers: BTreeMap<String, String>,
    /// The start of the response body (at most 4 KiB), as text; invalid UTF-8 is replaced.
    pub body_excerpt: String,
    /// Whether the whole body received parses as JSON (the page then pretty-prints it).
    pub body_is_json: bool,
    /// Whether `body_excerpt` is shorter than the body.
    pub body_truncated: bool,
    /// The error class: `timeout`, `connect`, `dns`, `tls`, `redirect`, `refused_target`,
    /// `request`; or a status class for a non-2xx answer; null on success.
    pub error: Option<String>,
    pub error_detail: Option<String>,
    /// The test attempt in the delivery log (`test = true`).
    pub attempt_id: i64,
    pub event_id: Uuid,
    pub event_type: String,
}

impl From<TestOutcome> for TestResult {
    fn from(outcome: TestOutcome) -> Self {
        let r = &outcome.response;
        let cut = excerpt_len(&r.body, EXCERPT_BYTES);
        Self {
            success: r.is_success(),
            status_code: r.status,
            duration_ms: r.duration.as_millis() as u64,
            response_headers: r.headers.iter().cloned().collect(),
            body_excerpt: String::from_utf8_lossy(&r.body[..cut]).into_owned(),
            body_is_json: !r.body_truncated && serde_json::from_slice::<serde::de::IgnoredAny>(&r.body).is_ok(),
            body_truncated: cut < r.body.len() || r.body_truncated,
            error: r.error.map(|e| e.as_str().to_owned()),
            error_detail: r.error_detail.clone(),
            attempt_id: outcome.attempt_id,
            event_id: outcome.event_id,
            event_type: outcome.event_type,
        }
    }
}

/// Send Test Event to a saved webhook, signed with its secret(s).
#[utoipa::path(post, path = "/webhooks/{id}/test", tag = "test", params(("id" = Uuid, Path)), request_body = TestWebhook,
    responses((status = 200, body = TestResult), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn test_webhook(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TestWebhook>,
) -> ApiResult<Json<TestResult>> {
    let id = uuid_param(&id, "id")?;
    let webhook = state.store.webhook_get(id).await?;
    let event = checked_event(&state, body.event.as_deref()).await?;
    let outcome = send_test(&state.store, &state.sender, &TestTarget::webhook(&webhook), event, &state.worker).await?;
    Ok(Json(outcome.into()))
}

/// Send Test Event to a URL that is not saved: vetted like a webhook's URL, signed with a
/// throwaway secret, recorded as a test attempt with no webhook.
#[utoipa::path(post, path = "/test", tag = "test", request_body = TestUrl,
    responses((status = 200, body = TestResult), (status = 422, body = ErrorBody)))]
async fn test_url(State(state): State<ApiState>, JsonBody(body): JsonBody<TestUrl>) -> ApiResult<Json<TestResult>> {
    let fields = WebhookInput { url: Some(body.url.unwrap_or_default()), ..WebhookInput::default() }.validate(&state.policy)?;
    let event = checked_event(&state, body.event.as_deref()).await?;
    let fields = crate::webhooks::vetted(fields, &state.policy).await?;
    let url = fields.url.expect("validated url");
    let outcome = send_test(&state.store, &state.sender, &TestTarget::unsaved(url.as_str()), event, &state.worker).await?;
    Ok(Json(outcome.into()))
}

/// The named event type, if one was named, after checking it is in the catalog.
async fn checked_event<'a>(state: &ApiState, event: Option<&'a str>) -> ApiResult<Option<&'a str>> {
    let Some(slug) = non_empty(event) else { return Ok(None) };
    match state.store.event_type_get(slug).await {
        Ok(_) => Ok(Some(slug)),
        Err(StoreError::NotFound(_)) => Err(ApiError::invalid("event", format!("unknown event type {slug:?} (see GET /api/event-types)"))),
        Err(e) => Err(e.into()),
    }
}

/// The longest prefix of `body` of at most `max` bytes that does not cut a UTF-8 character.
fn excerpt_len(body: &[u8], max: usize) -> usize {
    let end = body.len().min(max);
    match std::str::from_utf8(&body[..end]) {
        Err(e) if e.error_len().is_none() && end < body.len() => e.valid_up_to(),
        _ => end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_excerpt_never_cuts_a_character_in_half() {
        let body = "é".repeat(10).into_bytes(); // 2 bytes each
        assert_eq!(excerpt_len(&body, 5), 4);
        assert_eq!(excerpt_len(&body, 6), 6);
        assert_eq!(excerpt_len(&body, 100), 20);
        assert_eq!(excerpt_len(b"\xff\xfe", 1), 1, "invalid bytes are cut as they are");
    }
}
