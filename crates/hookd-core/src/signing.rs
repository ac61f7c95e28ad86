//! Standard Webhooks signing: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.
//!
//! Secrets are `whsec_` + base64 of the key bytes, the format every Standard Webhooks verifier
//! accepts. [`SigningSecret`] never prints its key: `Debug` is redacted so a secret cannot reach a
//! log line by accident.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";

/// Bytes of key material in a generated secret (Standard Webhooks asks for 24 to 64).
pub const SECRET_LEN: usize = 32;

#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret {
    key: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("secret must start with {SECRET_PREFIX:?}")]
    Prefix,
    #[error("secret is not valid base64 after {SECRET_PREFIX:?}")]
    Base64,
    #[error("secret key must be 24 to 64 bytes, not {0}")]
    Length(usize),
}

impl SigningSecret {
    /// A new secret from random bytes supplied by the caller (the randomness is an input).
    pub fn from_key(key: [u8; SECRET_LEN]) -> Self {
        Self { key: key.to_vec() }
    }

    pub fn parse(encoded: &str) -> Result<Self, SecretError> {
        let b64 = encoded.strip_prefix(SECRET_PREFIX).ok_or(SecretError::Prefix)?;
        let key = STANDARD.decode(b64).map_err(|_| SecretError::Base64)?;
        if !(24..=64).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Self { key })
    }

    /// The `whsec_...` form: for storing and for showing to the admin, never for logging.
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    /// `v1,` + base64 HMAC-SHA256 over `{msg_id}.{timestamp}.{body}`.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// The `webhook-signature` header value: one `v1,` signature per secret, space separated, so a
/// receiver holding either the old or the new secret verifies during a rotation.
pub fn signature_header<'a>(
    secrets: impl IntoIterator<Item = &'a SigningSecret>,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    secrets.into_iter().map(|s| s.sign(msg_id, timestamp, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Test vector from the Standard Webhooks specification's reference implementations.
    #[test]
    fn matches_the_specification_vector() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secret_round_trips_and_never_debug_prints() {
        let secret = SigningSecret::from_key([7; SECRET_LEN]);
        assert_eq!(SigningSecret::parse(&secret.expose()).unwrap(), secret);
        assert!(secret.expose().starts_with("whsec_"));
        assert_eq!(format!("{secret:?}"), "SigningSecret(<redacted>)");
    }

    #[test]
    fn refuses_malformed_secrets() {
        assert_eq!(SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Err(SecretError::Prefix));
        assert_eq!(SigningSecret::parse("whsec_***"), Err(SecretError::Base64));
        assert_eq!(SigningSecret::parse("whsec_AAAA"), Err(SecretError::Length(3)));
    }

    #[test]
    fn header_carries_one_signature_per_secret() {
        let old = SigningSecret::from_key([1; SECRET_LEN]);
        let new = SigningSecret::from_key([2; SECRET_LEN]);
        let header = signature_header([&new, &old], "id", 5, b"{}");
        assert_eq!(header, format!("{} {}", new.sign("id", 5, b"{}"), old.sign("id", 5, b"{}")));
    }

    proptest! {
        #[test]
        fn any_change_to_id_timestamp_or_body_changes_the_signature(
            key in any::<[u8; SECRET_LEN]>(), body in any::<Vec<u8>>(), flip in any::<u8>(), ts in 0i64..4_000_000_000,
        ) {
            let secret = SigningSecret::from_key(key);
            let sig = secret.sign("evt", ts, &body);
            prop_assert_ne!(&sig, &secret.sign("evt2", ts, &body));
            prop_assert_ne!(&sig, &secret.sign("evt", ts + 1, &body));
            let mut changed = body.clone();
            changed.push(flip);
            prop_assert_ne!(&sig, &secret.sign("evt", ts, &changed));
        }
    }
}
