//! Event type slugs: the names producers write into `hookd.outbox.event_type`.
//!
//! The database enforces the same rule with a CHECK constraint on `hookd.event_types.slug`; this
//! copy lets the CLI and API refuse a bad slug before a round trip, with the same words.

use std::fmt;

/// Longest slug accepted; long enough for `billing.subscription.payment_failed`-style names.
pub const MAX_LEN: usize = 100;

/// `*` in a webhook's event list subscribes it to every event type, present and future.
pub const WILDCARD: &str = "*";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventType(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventTypeError {
    #[error("event type is empty")]
    Empty,
    #[error("event type is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("event type {0:?} may only contain lowercase letters, digits, '_', '.' and '-', and must start with a letter")]
    BadCharacters(String),
}

impl EventType {
    pub fn parse(raw: &str) -> Result<Self, EventTypeError> {
        let slug = raw.trim();
        if slug.is_empty() {
            return Err(EventTypeError::Empty);
        }
        if slug.len() > MAX_LEN {
            return Err(EventTypeError::TooLong);
        }
        let mut chars = slug.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_lowercase());
        let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
        if !starts_with_letter || !rest_ok {
            return Err(EventTypeError::BadCharacters(slug.to_owned()));
        }
        Ok(Self(slug.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_seed_slugs_and_dotted_names() {
        for slug in ["payment_received", "customer_created", "billing.invoice-paid", "a1"] {
            assert_eq!(EventType::parse(slug).unwrap().as_str(), slug);
        }
    }

    #[test]
    fn trims_surrounding_whitespace() {
        assert_eq!(EventType::parse("  site_published\n").unwrap().as_str(), "site_published");
    }

    #[test]
    fn refuses_bad_slugs_with_the_reason() {
        assert_eq!(EventType::parse(" "), Err(EventTypeError::Empty));
        assert_eq!(EventType::parse(&"a".repeat(101)), Err(EventTypeError::TooLong));
        for bad in ["Payment", "1st", "has space", "*", "emoji🎉", "_x"] {
            assert!(matches!(EventType::parse(bad), Err(EventTypeError::BadCharacters(_))), "{bad}");
        }
    }
}
