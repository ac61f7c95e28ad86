//! One error type for every handler, one status code per variant, one JSON shape:
//! `{"error": "<kind>", "message": "...", "field": "..."}` (`field` only on 422).
//!
//! | variant | status | `error` |
//! |---|---|---|
//! | [`ApiError::BadRequest`] | 400 | `bad_request` (a body that is not JSON) |
//! | [`ApiError::Unauthorized`] | 401 | `unauthorized` |
//! | [`ApiError::NotFound`] | 404 | `not_found` |
//! | [`ApiError::MethodNotAllowed`] | 405 | `method_not_allowed` |
//! | [`ApiError::Conflict`] | 409 | `conflict` (e.g. retrying a delivery that has not failed) |
//! | [`ApiError::Invalid`] | 422 | `invalid`, with the `field` at fault |
//! | [`ApiError::Internal`] | 500 | `internal` (the cause is logged, never sent) |

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hookd_core::webhook::FieldError;
use hookd_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug)]
pub enum ApiError {
    BadRequest(String),
    Unauthorized(&'static str),
    NotFound(String),
    MethodNotAllowed(String),
    Conflict(String),
    Invalid { field: String, message: String },
    Internal(String),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`, `conflict`, `invalid` or
    /// `internal`.
    #[schema(example = "invalid")]
    pub error: &'static str,
    /// The input field at fault (422 only), e.g. `url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "url")]
    pub field: Option<String>,
    #[schema(example = "url scheme must be http or https, not \"ftp\"")]
    pub message: String,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl ToString) -> Self {
        Self::Invalid { field: field.into(), message: message.to_string() }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match self {
            Self::BadRequest(message) => ErrorBody { error: "bad_request", field: None, message },
            Self::Unauthorized(message) => ErrorBody { error: "unauthorized", field: None, message: message.to_owned() },
            Self::NotFound(message) => ErrorBody { error: "not_found", field: None, message },
            Self::MethodNotAllowed(message) => ErrorBody { error: "method_not_allowed", field: None, message },
            Self::Conflict(message) => ErrorBody { error: "conflict", field: None, message },
            Self::Invalid { field, message } => ErrorBody { error: "invalid", field: Some(field), message },
            Self::Internal(cause) => {
                tracing::error!(error = %cause, "admin API request failed");
                ErrorBody { error: "internal", field: None, message: "internal error; see the hookd log".into() }
            }
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"hookd\""));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            StoreError::Invalid { field, message } => Self::Invalid { field: field.to_owned(), message },
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::Invalid { field: e.field.to_owned(), message: e.message }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
