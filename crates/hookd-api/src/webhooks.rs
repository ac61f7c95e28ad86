//! `/api/webhooks`: list (search, filter, page), add, show, change, delete, bulk actions, and the
//! signing secret (reveal, rotate). Input goes through [`WebhookInput::validate`] and the store's
//! catalog check, as in the CLI, so a refusal names the same field with the same words.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use hookd_core::rate::validate_max_rps;
use hookd_core::signing::SigningSecret;
use hookd_core::target::TargetPolicy;
use hookd_core::webhook::{FieldError, WebhookFields, WebhookInput};
use hookd_store::webhook::{Webhook, WebhookFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{bool_param, non_empty, uuid_param, JsonBody, PageQuery};
use crate::state::ApiState;

/// Set on a webhook an admin switches off from the API or the page.
pub const DISABLED_BY_ADMIN: &str = "disabled by an admin";
/// How long a rotated-out secret keeps signing, unless the request says otherwise: 24 hours.
pub const DEFAULT_GRACE_SECS: i64 = 86_400;
/// The longest grace period accepted: 30 days.
pub const MAX_GRACE_SECS: i64 = 30 * 86_400;
const MAX_BULK: usize = 1000;
const MAX_INTEGRATION_LEN: usize = 100;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(bulk_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(get_secret))
        .routes(routes!(rotate_secret))
}

/// A webhook as the API shows it. The signing secret is never part of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    /// Event type slugs, or `["*"]` for every event type.
    pub events: Vec<String>,
    pub active: bool,
    /// Who created it (the seed's field), `manual` by default.
    pub integration: String,
    /// Successful real deliveries (test sends are not counted).
    pub event_count: i64,
    pub last_failed_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// The attempt whose response disabled the webhook (a 410 Gone), if one did: see
    /// `GET /api/webhooks/{id}/attempts`.
    pub disabled_attempt_id: Option<i64>,
    /// Since when every real attempt has failed (null while the endpoint works); after
    /// `disable_after` (default 5 days) of that the webhook is disabled.
    pub failing_since: Option<DateTime<Utc>>,
    /// Requests per second at most, from each worker process; null for no limit.
    pub max_rps: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Custom headers sent with every request: lower-case name to value.
    pub headers: BTreeMap<String, String>,
}

impl From<Webhook> for WebhookOut {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            name: w.name,
            url: w.url,
            events: w.events,
            active: w.active,
            integration: w.integration,
            event_count: w.event_count,
            last_failed_at: w.last_failed_at,
            disabled_reason: w.disabled_reason,
            disabled_at: w.disabled_at,
            disabled_attempt_id: w.disabled_attempt_id,
            failing_since: w.failing_since,
            max_rps: w.max_rps,
            created_at: w.created_at,
            updated_at: w.updated_at,
            headers: w.headers.0,
        }
    }
}

/// One page of webhooks, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookPage {
    pub items: Vec<WebhookOut>,
    /// How many webhooks match the filters in all.
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Filters for the list; empty values are ignored.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    /// Case-insensitive text in the name or the URL.
    pub search: Option<String>,
    /// Only webhooks receiving this event type (directly or through `*`).
    pub event: Option<String>,
    /// Only active (`true`) or inactive (`false`) webhooks.
    #[param(value_type = Option<bool>)]
    pub active: Option<String>,
}

/// A new webhook. `event` (one slug, as the seed's form sends it) and `events` (a list; `*` for
/// all) may both be given; together they must name at least one event type.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct CreateWebhook {
    #[schema(example = "CRM")]
    pub name: Option<String>,
    #[schema(example = "https://crm.example.com/hooks/ultimo")]
    pub url: Option<String>,
    #[schema(example = "payment_received")]
    pub event: Option<String>,
    pub events: Option<Vec<String>>,
    /// Default `true`.
    pub active: Option<bool>,
    /// Default `manual`.
    pub integration: Option<String>,
    /// Requests per second at most (1 to 10000), from each worker process. Default: no limit.
    #[schema(example = 20)]
    pub max_rps: Option<i64>,
    /// Custom headers sent with every request, name to value. Reserved names (`webhook-*`,
    /// `hookd-*`, `content-type`, `host`, ...) are refused.
    #[schema(example = json!({"x-api-key": "k3y"}))]
    pub headers: Option<BTreeMap<String, String>>,
}

/// A webhook just created, with its signing secret: shown here and by `GET .../secret` only.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookOut,
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

/// Fields to change; those left out keep their value. `active: false` disables the webhook
/// (its pending deliveries are cancelled) with the reason "disabled by an admin".
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UpdateWebhook {
    pub name: Option<String>,
    pub url: Option<String>,
    pub event: Option<String>,
    pub events: Option<Vec<String>>,
    pub active: Option<bool>,
    pub integration: Option<String>,
    /// Requests per second at most (1 to 10000), from each worker process; `null` removes the
    /// limit, leaving it out keeps it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub max_rps: Option<Option<i64>>,
    /// Replaces the custom headers (`{}` removes them all).
    pub headers: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BulkActionKind {
    Activate,
    Deactivate,
    Delete,
}

/// One action on many webhooks.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkAction {
    pub action: BulkActionKind,
    pub ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    /// How many of the ids named an existing webhook.
    pub affected: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SecretOut {
    pub secret: String,
    /// Until when the previous secret also signs (after a rotation), or null.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct RotateSecret {
    /// How long the old secret keeps signing beside the new one, in seconds (default 86400).
    pub grace_period_secs: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    pub secret: String,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// List webhooks.
#[utoipa::path(get, path = "/webhooks", tag = "webhooks", params(WebhookQuery, PageQuery),
    responses((status = 200, body = WebhookPage), (status = 422, body = ErrorBody)))]
async fn list_webhooks(
    State(state): State<ApiState>,
    Query(query): Query<WebhookQuery>,
    Query(page): Query<PageQuery>,
) -> ApiResult<Json<WebhookPage>> {
    let page = page.page()?;
    let filter = WebhookFilter {
        search: non_empty(query.search.as_deref()).map(str::to_owned),
        event: non_empty(query.event.as_deref()).map(str::to_owned),
        active: bool_param(query.active.as_deref(), "active")?,
        limit: page.limit,
        offset: page.offset,
    };
    let (webhooks, total) = state.store.webhook_list(&filter).await?;
    Ok(Json(WebhookPage { items: webhooks.into_iter().map(Into::into).collect(), total, limit: page.limit, offset: page.offset }))
}

/// Add a webhook; the answer carries its signing secret.
#[utoipa::path(post, path = "/webhooks", tag = "webhooks", request_body = CreateWebhook,
    responses((status = 201, body = CreatedWebhook), (status = 422, body = ErrorBody)))]
async fn create_webhook(
    State(state): State<ApiState>,
    JsonBody(body): JsonBody<CreateWebhook>,
) -> ApiResult<(StatusCode, Json<CreatedWebhook>)> {
    let input = WebhookInput {
        name: Some(body.name.unwrap_or_default()),
        url: Some(body.url.unwrap_or_default()),
        events: Some(events_of(body.event, body.events).unwrap_or_default()),
        headers: Some(body.headers.unwrap_or_default().into_iter().collect()),
    };
    let fields = vetted(input.validate(&state.policy)?, &state.policy).await?;
    let integration = integration_of(body.integration)?.unwrap_or_else(|| "manual".into());
    let max_rps = body.max_rps.map(validate_max_rps).transpose()?;
    let secret = SigningSecret::from_key(rand::random()).expose();
    let mut webhook = state.store.webhook_insert(&fields, &secret, &integration).await?;
    if max_rps.is_some() {
        webhook = state.store.webhook_set_max_rps(webhook.id, max_rps).await?;
    }
    if body.active == Some(false) {
        webhook = state.store.webhook_set_active(webhook.id, false, Some(DISABLED_BY_ADMIN)).await?;
    }
    Ok((StatusCode::CREATED, Json(CreatedWebhook { webhook: webhook.into(), secret })))
}

/// Show one webhook.
#[utoipa::path(get, path = "/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookOut), (status = 404, body = ErrorBody)))]
async fn get_webhook(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Json<WebhookOut>> {
    let id = uuid_param(&id, "id")?;
    Ok(Json(state.store.webhook_get(id).await?.into()))
}

/// Change a webhook: any of name, URL, events, integration, active, max_rps. Turning it back on
/// (`active: true`) clears its disabled reason and `failing_since`.
#[utoipa::path(patch, path = "/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)), request_body = UpdateWebhook,
    responses((status = 200, body = WebhookOut), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_webhook(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateWebhook>,
) -> ApiResult<Json<WebhookOut>> {
    let id = uuid_param(&id, "id")?;
    let input = WebhookInput {
        name: body.name,
        url: body.url,
        events: events_of(body.event, body.events),
        headers: body.headers.map(|h| h.into_iter().collect()),
    };
    let fields = vetted(input.validate(&state.policy)?, &state.policy).await?;
    let integration = integration_of(body.integration)?;
    let max_rps = body.max_rps.map(|v| v.map(validate_max_rps).transpose()).transpose()?;
    let changes = fields.name.is_some() || fields.url.is_some() || fields.events.is_some() || fields.headers.is_some();
    let mut webhook = if changes || integration.is_some() {
        state.store.webhook_update(id, &fields, integration.as_deref()).await?
    } else {
        state.store.webhook_get(id).await?
    };
    if let Some(max_rps) = max_rps {
        webhook = state.store.webhook_set_max_rps(id, max_rps).await?;
    }
    match body.active {
        Some(active) if active != webhook.active => {
            let reason = (!active).then_some(DISABLED_BY_ADMIN);
            webhook = state.store.webhook_set_active(id, active, reason).await?;
        }
        _ => {}
    }
    Ok(Json(webhook.into()))
}

/// Delete a webhook; its pending deliveries are cancelled, its attempts stay in the audit.
#[utoipa::path(delete, path = "/webhooks/{id}", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_webhook(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    let id = uuid_param(&id, "id")?;
    state.store.webhook_delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Activate, deactivate or delete many webhooks at once.
#[utoipa::path(post, path = "/webhooks/bulk", tag = "webhooks", request_body = BulkAction,
    responses((status = 200, body = BulkResult), (status = 422, body = ErrorBody)))]
async fn bulk_webhooks(State(state): State<ApiState>, JsonBody(body): JsonBody<BulkAction>) -> ApiResult<Json<BulkResult>> {
    if body.ids.is_empty() {
        return Err(ApiError::invalid("ids", "ids must name at least one webhook"));
    }
    if body.ids.len() > MAX_BULK {
        return Err(ApiError::invalid("ids", format!("at most {MAX_BULK} ids at once")));
    }
    let affected = match body.action {
        BulkActionKind::Activate => state.store.webhook_set_active_many(&body.ids, true, None).await?,
        BulkActionKind::Deactivate => state.store.webhook_set_active_many(&body.ids, false, Some(DISABLED_BY_ADMIN)).await?,
        BulkActionKind::Delete => state.store.webhook_delete_many(&body.ids).await?,
    };
    Ok(Json(BulkResult { affected }))
}

/// Reveal the signing secret (for the page's reveal and copy buttons).
#[utoipa::path(get, path = "/webhooks/{id}/secret", tag = "webhooks", params(("id" = Uuid, Path)),
    responses((status = 200, body = SecretOut), (status = 404, body = ErrorBody)))]
async fn get_secret(State(state): State<ApiState>, Path(id): Path<String>) -> ApiResult<Json<SecretOut>> {
    let id = uuid_param(&id, "id")?;
    let webhook = state.store.webhook_get(id).await?;
    let previous_secret_expires_at = webhook.live_previous_secret(Utc::now()).and(webhook.previous_secret_expires_at);
    Ok(Json(SecretOut { secret: webhook.secret, previous_secret_expires_at }))
}

/// Rotate the signing secret: the new one signs at once, the old one beside it until the grace
/// period ends (two `v1,` signatures in `webhook-signature`).
#[utoipa::path(post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", params(("id" = Uuid, Path)),
    request_body = RotateSecret,
    responses((status = 200, body = RotatedSecret), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rotate_secret(
    State(state): State<ApiState>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RotateSecret>,
) -> ApiResult<Json<RotatedSecret>> {
    let id = uuid_param(&id, "id")?;
    let grace = body.grace_period_secs.unwrap_or(DEFAULT_GRACE_SECS);
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(ApiError::invalid("grace_period_secs", format!("grace_period_secs must be between 0 and {MAX_GRACE_SECS}")));
    }
    let secret = SigningSecret::from_key(rand::random()).expose();
    let webhook = state.store.webhook_rotate_secret(id, &secret, Duration::from_secs(grace as u64)).await?;
    let previous_secret_expires_at = webhook.previous_secret_expires_at.unwrap_or_else(Utc::now);
    Ok(Json(RotatedSecret { secret, previous_secret_expires_at }))
}

/// Resolves a new URL's host and vets every address, as a delivery will (hookd-send's resolver):
/// a name that resolves to a refused address, or not at all, is a 422 on `url`.
pub(crate) async fn vetted(fields: WebhookFields, policy: &TargetPolicy) -> Result<WebhookFields, FieldError> {
    if let Some(url) = &fields.url {
        hookd_send::resolve::vet_url(url, policy).await.map_err(|e| FieldError::new("url", e))?;
    }
    Ok(fields)
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value (`Some(Some(v))`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The seed's single `event` and the list `events`, together; `None` when neither is given.
fn events_of(event: Option<String>, events: Option<Vec<String>>) -> Option<Vec<String>> {
    match (event, events) {
        (None, None) => None,
        (one, many) => Some(one.into_iter().chain(many.unwrap_or_default()).collect()),
    }
}

fn integration_of(raw: Option<String>) -> ApiResult<Option<String>> {
    match raw.map(|s| s.trim().to_owned()) {
        Some(s) if s.is_empty() => Err(ApiError::invalid("integration", "integration must not be empty")),
        Some(s) if s.chars().count() > MAX_INTEGRATION_LEN => {
            Err(ApiError::invalid("integration", format!("integration is longer than {MAX_INTEGRATION_LEN} characters")))
        }
        other => Ok(other),
    }
}
