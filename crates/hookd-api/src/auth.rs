//! The admin token: one shared secret, checked on every `/api/` request before any handler runs.
//!
//! A missing or wrong token gets 401 with a fixed JSON body and nothing else: no hint of which
//! routes exist, no data. The comparison takes the same time whatever the guess (both sides are
//! hashed first, so not even the token's length leaks).

use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;

/// The admin token. Never printed: `Debug` is redacted, so it cannot reach a log line by accident.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AdminToken(String);

impl AdminToken {
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// A fresh random token (32 bytes, hex), as `hookd demo` makes one.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// The token itself: to print once for the admin or to send, never to log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }

    /// Constant-time comparison with what a client sent.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = Sha256::digest(self.0.as_bytes());
        let got = Sha256::digest(presented.as_bytes());
        bool::from(expected.ct_eq(&got))
    }
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Middleware on every `/api/` route: `Authorization: Bearer <token>` or 401.
pub async fn require_token(State(token): State<AdminToken>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match presented {
        None => axum::response::IntoResponse::into_response(ApiError::Unauthorized(
            "missing admin token: send Authorization: Bearer <token>",
        )),
        Some(t) if token.is_empty() || !token.matches(t) => {
            axum::response::IntoResponse::into_response(ApiError::Unauthorized("wrong admin token"))
        }
        Some(_) => next.run(request).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_only_the_exact_token_and_never_prints_it() {
        let token = AdminToken::new("s3cret-token");
        assert!(token.matches("s3cret-token"));
        assert!(!token.matches("s3cret-token "));
        assert!(!token.matches("s3cret"));
        assert!(!token.matches(""));
        assert_eq!(format!("{token:?}"), "AdminToken(<redacted>)");
    }

    #[test]
    fn generated_tokens_are_long_and_distinct() {
        let (a, b) = (AdminToken::generate(), AdminToken::generate());
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
    }
}
