//! `GET /api/openapi.json`: the OpenAPI 3.1 document of the admin API, generated from the
//! handlers' `#[utoipa::path]` attributes and the types' `ToSchema` derives, so it cannot drift
//! from the code. The routes themselves are registered from the same attributes (utoipa-axum).

use std::sync::OnceLock;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Document;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::ApiState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hookd admin API",
        description = "Manage webhooks, send test events, read the delivery log, replay failures and rotate secrets. \
                       Every route requires `Authorization: Bearer <HOOKD_ADMIN_TOKEN>`."
    ),
    modifiers(&BearerToken),
    security(("admin_token" = [])),
    tags(
        (name = "webhooks", description = "Webhooks and their signing secrets"),
        (name = "test", description = "Send Test Event"),
        (name = "event types", description = "The event catalog"),
        (name = "deliveries", description = "The delivery log, retries and replays"),
        (name = "meta", description = "This document"),
    )
)]
struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("HOOKD_ADMIN_TOKEN")).build()),
        );
    }
}

/// The routes of `/api`, each with its OpenAPI operation, relative to `/api`.
pub fn api_routes() -> OpenApiRouter<ApiState> {
    OpenApiRouter::new()
        .merge(crate::webhooks::router())
        .merge(crate::test_send::router())
        .merge(crate::event_types::router())
        .merge(crate::attempts::router())
        .routes(routes!(openapi_json))
}

/// The whole document, paths prefixed with `/api`. Built once.
pub fn document() -> &'static Document {
    static DOCUMENT: OnceLock<Document> = OnceLock::new();
    DOCUMENT.get_or_init(|| OpenApiRouter::with_openapi(ApiDoc::openapi()).nest("/api", api_routes()).into_openapi())
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", responses((status = 200, description = "The OpenAPI document")))]
async fn openapi_json() -> Json<&'static Document> {
    Json(document())
}
