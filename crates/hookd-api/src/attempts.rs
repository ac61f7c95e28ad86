//! The delivery log and putting failures back in the queue: a webhook's attempts and an event's
//! attempts (newest first, paged), retry of one failed delivery, replay of a webhook's failed
//! deliveries since a time. The same store calls as `hookd tail` and `hookd replay`.

use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use hookd_store::attempt::AttemptEntry;
use hookd_store::delivery::ReplaySelector;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{non_empty, uuid_param, JsonBody, Page, PageQuery};
use crate::state::ApiState;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(webhook_attempts))
        .routes(routes!(event_attempts))
        .routes(routes!(retry_delivery))
        .routes(routes!(replay_webhook))
}

/// One attempt in the delivery log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptOut {
    pub attempt_id: i64,
    /// Null for a test send.
    pub delivery_id: Option<i64>,
    /// The delivery's state now: `pending`, `running`, `succeeded`, `failed` or `cancelled`
    /// (null for a test send). Retry applies to `failed`.
    pub delivery_state: Option<String>,
    pub event_id: Uuid,
    pub event_type: String,
    /// Null for a test send to an unsaved URL.
    pub webhook_id: Option<Uuid>,
    /// Null when the webhook was deleted since.
    pub webhook_name: Option<String>,
    /// Where this attempt went, even if the webhook's URL changed since.
    pub url: String,
    /// 1 for the first attempt at a delivery.
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status_code: Option<i32>,
    /// Error class: `timeout`, `connect`, `dns`, `tls`, `redirect`, `refused_target`, `request`.
    pub error: Option<String>,
    pub error_detail: Option<String>,
    pub test: bool,
    pub succeeded: bool,
    /// The start of the response body (500 characters).
    pub response_excerpt: Option<String>,
}

impl From<AttemptEntry> for AttemptOut {
    fn from(entry: AttemptEntry) -> Self {
        let a = entry.attempt;
        Self {
            attempt_id: a.attempt_id,
            delivery_id: entry.delivery_id,
            delivery_state: entry.delivery_state,
            event_id: a.event_id,
            event_type: a.event_type,
            webhook_id: a.webhook_id,
            webhook_name: a.webhook_name,
            url: a.url,
            attempt: a.attempt,
            started_at: a.started_at,
            duration_ms: a.duration_ms,
            status_code: a.status_code,
            error: a.error,
            error_detail: a.error_detail,
            test: a.test,
            succeeded: a.succeeded,
            response_excerpt: a.response_excerpt,
        }
    }
}

/// One page of attempts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptPage {
    pub items: Vec<AttemptOut>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReplayRequest {
    /// Only deliveries that failed at or after this time (RFC 3339); all failed ones if left out.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub since: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Replayed {
    /// Failed deliveries put back in the queue with a fresh retry schedule.
    pub replayed: u64,
}

/// A webhook's attempts, real and test, newest first.
#[utoipa::path(get, path = "/webhooks/{id}/attempts", tag = "deliveries", params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = AttemptPage), (status = 404, body = ErrorBody)))]
async fn webhook_attempts(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<AttemptPage>> {
    let id = uuid_param(&id, "id")?;
    let page = page.page()?;
    state.store.webhook_get(id).await?;
    Ok(Json(attempt_page(&state, Some(id), None, page).await?))
}

/// Every attempt at one event, to every webhook, newest first.
#[utoipa::path(get, path = "/events/{event_id}/attempts", tag = "deliveries", params(("event_id" = Uuid, Path), PageQuery),
    responses((status = 200, body = AttemptPage), (status = 404, body = ErrorBody)))]
async fn event_attempts(
    State(state): State<ApiState>,
    Path(event_id): Path<String>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<AttemptPage>> {
    let event_id = uuid_param(&event_id, "event_id")?;
    let page = page.page()?;
    let result = attempt_page(&state, None, Some(event_id), page).await?;
    // A test event is in no outbox, but its attempts make it known.
    if result.total == 0 && !state.store.outbox_event_exists(event_id).await? {
        return Err(ApiError::NotFound(format!("event {event_id} not found")));
    }
    Ok(Json(result))
}

/// Put one failed delivery back in the queue with a fresh retry schedule.
#[utoipa::path(post, path = "/deliveries/{id}/retry", tag = "deliveries", params(("id" = i64, Path)),
    responses((status = 200, body = Replayed), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retry_delivery(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Json<Replayed>> {
    let id: i64 = id.trim().parse().map_err(|_| ApiError::invalid("id", format!("delivery id {id:?} is not a whole number")))?;
    let delivery = state.store.delivery_get(id).await?.ok_or_else(|| ApiError::NotFound(format!("delivery {id} not found")))?;
    if delivery.state != "failed" {
        return Err(ApiError::Conflict(format!("delivery {id} is {}: only a failed delivery can be retried", delivery.state)));
    }
    let replayed = state.store.delivery_replay(&ReplaySelector::Delivery(id)).await?;
    if replayed == 0 {
        // It failed, but its webhook was disabled or deleted since: sending would reach a
        // receiver the admin switched off.
        return Err(ApiError::Conflict(format!("delivery {id} was not retried: its webhook is disabled or deleted")));
    }
    Ok(Json(Replayed { replayed }))
}

/// Put a webhook's failed deliveries (since a time, if given) back in the queue.
#[utoipa::path(post, path = "/webhooks/{id}/replay", tag = "deliveries", params(("id" = Uuid, Path)), request_body = ReplayRequest,
    responses((status = 200, body = Replayed), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replay_webhook(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReplayRequest>,
) -> ApiResult<Json<Replayed>> {
    let id = uuid_param(&id, "id")?;
    let since = non_empty(body.since.as_deref())
        .map(|raw| {
            DateTime::parse_from_rfc3339(raw)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| ApiError::invalid("since", format!("since must be an RFC 3339 time, like 2026-01-31T12:00:00Z: {e}")))
        })
        .transpose()?;
    state.store.webhook_get(id).await?;
    let replayed = state.store.delivery_replay(&ReplaySelector::Webhook { id, since }).await?;
    Ok(Json(Replayed { replayed }))
}

async fn attempt_page(state: &ApiState, webhook: Option<Uuid>, event: Option<Uuid>, page: Page) -> ApiResult<AttemptPage> {
    let (rows, total) = state.store.attempt_page(webhook, event, page.limit, page.offset).await?;
    Ok(AttemptPage { items: rows.into_iter().map(Into::into).collect(), total, limit: page.limit, offset: page.offset })
}
