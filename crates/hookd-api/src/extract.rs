//! Request input parsed once, at the edge, into the error shape of [`crate::error`]: a JSON body
//! whose field has the wrong type is a 422 naming that field (not axum's plain-text 422), a body
//! that is not JSON is a 400, a malformed id in the path is a 422 naming the parameter.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};

/// A JSON body. An empty body (or `null`) reads as `{}`, so routes whose fields are all optional
/// can be called with no body at all.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| ApiError::BadRequest(e.body_text()))?;
        let blank = bytes.iter().all(u8::is_ascii_whitespace) || bytes.trim_ascii() == b"null";
        let bytes: &[u8] = if blank { b"{}" } else { &bytes };
        let mut de = serde_json::Deserializer::from_slice(bytes);
        match serde_path_to_error::deserialize(&mut de) {
            Ok(value) => Ok(Self(value)),
            Err(e) => {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if inner.is_syntax() || inner.is_eof() || path == "." {
                    Err(ApiError::BadRequest(format!("the body is not the JSON object expected: {inner}")))
                } else {
                    Err(ApiError::invalid(path, inner))
                }
            }
        }
    }
}

/// A uuid from the path, or a 422 naming the parameter.
pub fn uuid_param(raw: &str, name: &str) -> ApiResult<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::invalid(name, format!("{name} {raw:?} is not a valid uuid")))
}

/// The largest page a list route returns.
pub const MAX_LIMIT: i64 = 500;
pub const DEFAULT_LIMIT: i64 = 50;

/// `?limit=&offset=`. Empty values mean the default, as an HTML form sends them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(value_type = Option<i64>)]
    pub limit: Option<String>,
    /// Items to skip (default 0).
    #[param(value_type = Option<i64>)]
    pub offset: Option<String>,
}

/// A validated page request.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl PageQuery {
    pub fn page(&self) -> ApiResult<Page> {
        let limit = int_param(self.limit.as_deref(), "limit")?.unwrap_or(DEFAULT_LIMIT);
        let offset = int_param(self.offset.as_deref(), "offset")?.unwrap_or(0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid("limit", format!("limit must be between 1 and {MAX_LIMIT}")));
        }
        if offset < 0 {
            return Err(ApiError::invalid("offset", "offset must not be negative"));
        }
        Ok(Page { limit, offset })
    }
}

/// `None` for a missing or empty value.
pub fn non_empty(raw: Option<&str>) -> Option<&str> {
    raw.map(str::trim).filter(|s| !s.is_empty())
}

fn int_param(raw: Option<&str>, name: &str) -> ApiResult<Option<i64>> {
    non_empty(raw)
        .map(|s| s.parse::<i64>().map_err(|_| ApiError::invalid(name, format!("{name} must be a whole number, not {s:?}"))))
        .transpose()
}

pub fn bool_param(raw: Option<&str>, name: &str) -> ApiResult<Option<bool>> {
    non_empty(raw)
        .map(|s| match s {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            _ => Err(ApiError::invalid(name, format!("{name} must be true or false, not {s:?}"))),
        })
        .transpose()
}
