//! The admin surface: a JSON API under `/api/` (described by its own OpenAPI document) and the web
//! page at `/`, on top of the same store, sender and validation as the CLI. No second
//! implementation: a webhook added here is checked by `WebhookInput::validate`, a test send goes
//! through `hookd_worker::test_event`, a replay through `Store::delivery_replay`.
//!
//! Every `/api/` route requires `Authorization: Bearer <admin token>`; without one, or with a
//! wrong one, the answer is 401 and a fixed body, whatever the route.
//!
//! Layout:
//! - [`state`]: what handlers share (store, sender, target policy, token, worker name).
//! - [`auth`]: the admin token and the middleware that checks it.
//! - [`error`]: one error type, one status code per variant, one JSON error shape.
//! - [`extract`]: JSON bodies, ids and paging, parsed once into that error shape.
//! - [`webhooks`]: list, add, show, change, delete, bulk actions, secret reveal and rotation.
//! - [`test_send`]: Send Test Event, to a saved webhook or to a URL not saved yet.
//! - [`event_types`]: the event catalog with sample payloads.
//! - [`attempts`]: the delivery log, retry of a failed delivery, replay of a webhook's failures.
//! - [`openapi`]: `GET /api/openapi.json`, generated from the handlers and types above.
//! - [`page`]: the web page at `/`, static files from `page/` compiled in; it calls the API above.
//! - [`health`]: `/healthz`, `/readyz` and `/metrics`, outside `/api/` and without the token; also
//!   served alone ([`serve_health`]) when no admin token is configured.

pub mod attempts;
pub mod auth;
pub mod error;
pub mod event_types;
pub mod extract;
pub mod health;
pub mod openapi;
pub mod page;
pub mod state;
pub mod test_send;
pub mod webhooks;

use axum::extract::OriginalUri;
use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use auth::AdminToken;
pub use health::HealthState;
pub use state::ApiState;

use crate::error::ApiError;

/// The whole admin surface: `/api/...` behind the token, and the page.
pub fn router(state: ApiState) -> Router {
    let (api, _) = openapi::api_routes().split_for_parts();
    let api = api
        .fallback(unknown_route)
        .method_not_allowed_fallback(wrong_method)
        // On the fallback too: without the token, an unknown route is a 401 like any other.
        .layer(from_fn_with_state(state.token.clone(), auth::require_token))
        .with_state(state);
    Router::new().nest("/api", api).merge(page::router())
}

/// Serves [`router`] on `listener` until `shutdown` is cancelled, then finishes the requests in
/// progress and returns.
pub async fn serve(listener: TcpListener, state: ApiState, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown.cancelled_owned()).await
}

/// [`serve`] with the [`health`] routes beside the API and page (as `hookd serve` runs it).
pub async fn serve_with_health(
    listener: TcpListener,
    state: ApiState,
    health: HealthState,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let app = router(state).merge(health::router(health));
    axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await
}

/// Only the [`health`] routes (no admin token configured: no API, no page; anything else is 404).
pub async fn serve_health(listener: TcpListener, health: HealthState, shutdown: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, health::router(health)).with_graceful_shutdown(shutdown.cancelled_owned()).await
}

async fn unknown_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NotFound(format!("no such route: {}", uri.path()))
}

async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::MethodNotAllowed(format!("{method} is not allowed on {}", uri.path()))
}
