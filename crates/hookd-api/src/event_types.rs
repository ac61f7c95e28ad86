//! `/api/event-types`: the event catalog with descriptions and sample payloads (the seed's
//! `/hooks` listing, and what the page's Event dropdown and payload preview show).

use axum::extract::{Path, State};
use axum::Json;
use hookd_store::event_type::EventTypeRow;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::state::ApiState;

pub fn router() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new().routes(routes!(list_event_types)).routes(routes!(get_event_type))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventTypeOut {
    #[schema(example = "payment_received")]
    pub slug: String,
    #[schema(example = "Payment Received")]
    pub name: String,
    pub description: String,
    /// What Send Test Event sends for this type: a JSON object.
    #[schema(value_type = Object)]
    pub sample_payload: serde_json::Value,
}

impl From<EventTypeRow> for EventTypeOut {
    fn from(t: EventTypeRow) -> Self {
        Self { slug: t.slug, name: t.name, description: t.description, sample_payload: t.sample_payload }
    }
}

/// The event catalog, in registration order.
#[utoipa::path(get, path = "/event-types", tag = "event types", responses((status = 200, body = Vec<EventTypeOut>)))]
async fn list_event_types(State(state): State<ApiState>) -> ApiResult<Json<Vec<EventTypeOut>>> {
    Ok(Json(state.store.event_type_list().await?.into_iter().map(Into::into).collect()))
}

/// One event type with its sample payload.
#[utoipa::path(get, path = "/event-types/{slug}", tag = "event types", params(("slug" = String, Path)),
    responses((status = 200, body = EventTypeOut), (status = 404, body = ErrorBody)))]
async fn get_event_type(State(state): State<ApiState>, Path(slug): Path<String>) -> ApiResult<Json<EventTypeOut>> {
    Ok(Json(state.store.event_type_get(&slug).await?.into()))
}
