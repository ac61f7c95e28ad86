//! Signing secrets at rest: sealed with XChaCha20-Poly1305 under the operator's key
//! (`HOOKD_SECRET_KEY`), so a database dump or a backup does not hand out every receiver's
//! secret. A sealed value reads `sealed:v1:<base64 of nonce || ciphertext>`; anything else is a
//! secret stored before a key was configured, read as it is (and sealed by the next migrate).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

pub const SEALED_PREFIX: &str = "sealed:v1:";
pub const NONCE_LEN: usize = 24;

/// The key secrets are sealed with: 32 bytes, given base64-encoded. `Debug` never shows it.
#[derive(Clone)]
pub struct SealingKey {
    cipher: XChaCha20Poly1305,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("HOOKD_SECRET_KEY must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)")]
    BadKey,
    #[error("a stored secret is sealed, but no HOOKD_SECRET_KEY is configured")]
    NoKey,
    #[error("a stored secret cannot be opened with this HOOKD_SECRET_KEY (a different key, or damaged)")]
    WrongKey,
}

impl SealingKey {
    pub fn parse(encoded: &str) -> Result<Self, SealError> {
        let bytes = STANDARD.decode(encoded.trim()).map_err(|_| SealError::BadKey)?;
        let cipher = XChaCha20Poly1305::new_from_slice(&bytes).map_err(|_| SealError::BadKey)?;
        Ok(Self { cipher })
    }

    /// Seals `secret` with a nonce the caller draws at random (the randomness is an input).
    pub fn seal(&self, secret: &str, nonce: [u8; NONCE_LEN]) -> String {
        let ciphertext = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), secret.as_bytes())
            .expect("XChaCha20-Poly1305 encrypts any input that fits in memory");
        let mut blob = nonce.to_vec();
        blob.extend_from_slice(&ciphertext);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(blob))
    }

    fn open_blob(&self, b64: &str) -> Result<String, SealError> {
        let blob = STANDARD.decode(b64).map_err(|_| SealError::WrongKey)?;
        if blob.len() < NONCE_LEN {
            return Err(SealError::WrongKey);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let plain = self.cipher.decrypt(XNonce::from_slice(nonce), ciphertext).map_err(|_| SealError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| SealError::WrongKey)
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

/// The secret behind a stored value: unsealed with `key`, or as it is when it was never sealed.
pub fn open(key: Option<&SealingKey>, stored: &str) -> Result<String, SealError> {
    match (stored.strip_prefix(SEALED_PREFIX), key) {
        (None, _) => Ok(stored.to_owned()),
        (Some(_), None) => Err(SealError::NoKey),
        (Some(b64), Some(key)) => key.open_blob(b64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::parse(&STANDARD.encode([byte; 32])).unwrap()
    }

    #[test]
    fn sealed_secrets_open_with_their_key_only() {
        let sealed = key(1).seal("whsec_abc", [9; NONCE_LEN]);
        assert!(is_sealed(&sealed) && !sealed.contains("whsec_abc"));
        assert_eq!(open(Some(&key(1)), &sealed).unwrap(), "whsec_abc");
        assert_eq!(open(Some(&key(2)), &sealed), Err(SealError::WrongKey));
        assert_eq!(open(None, &sealed), Err(SealError::NoKey));
    }

    #[test]
    fn different_nonces_give_different_ciphertexts() {
        assert_ne!(key(1).seal("whsec_abc", [1; NONCE_LEN]), key(1).seal("whsec_abc", [2; NONCE_LEN]));
    }

    #[test]
    fn unsealed_values_pass_through() {
        assert_eq!(open(None, "whsec_plain").unwrap(), "whsec_plain");
        assert_eq!(open(Some(&key(1)), "whsec_plain").unwrap(), "whsec_plain");
    }

    #[test]
    fn tampering_is_detected() {
        let mut sealed = key(1).seal("whsec_abc", [9; NONCE_LEN]);
        sealed.replace_range(sealed.len() - 3.., "AAA");
        assert_eq!(open(Some(&key(1)), &sealed), Err(SealError::WrongKey));
    }

    #[test]
    fn bad_keys_are_refused_and_keys_never_print() {
        assert_eq!(SealingKey::parse("short").unwrap_err(), SealError::BadKey);
        assert_eq!(SealingKey::parse(&STANDARD.encode([0u8; 16])).unwrap_err(), SealError::BadKey);
        assert_eq!(format!("{:?}", key(1)), "SealingKey(<redacted>)");
    }
}
