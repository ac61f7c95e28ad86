//! A webhook as an admin types it: name, URL and events, validated field by field so a refusal
//! names the field at fault. Every entry point (CLI, API, page) goes through [`WebhookInput::validate`].

use url::Url;

use crate::event_type::{EventType, WILDCARD};
use crate::headers::{validate_headers, CustomHeaders};
use crate::target::{parse_webhook_url, TargetPolicy};

pub const MAX_NAME_LEN: usize = 200;

/// Raw input; fields left `None` are not being set (an update that keeps them).
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    pub name: Option<String>,
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// Custom headers as `(name, value)` pairs; `Some(vec![])` clears them on an update.
    pub headers: Option<Vec<(String, String)>>,
}

/// Validated fields, ready to store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookFields {
    pub name: Option<String>,
    pub url: Option<Url>,
    /// Event type slugs, or `["*"]` for every event type.
    pub events: Option<Vec<String>>,
    /// Custom headers sent with every request (see [`crate::headers`]).
    pub headers: Option<CustomHeaders>,
}

/// A refusal naming the field at fault, e.g. `url: url scheme must be http or https`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl ToString) -> Self {
        Self { field, message: message.to_string() }
    }
}

impl WebhookInput {
    /// Checks shape and the private-network guard; whether each event type exists in the catalog
    /// is the store's check, since only the database knows the catalog.
    pub fn validate(&self, policy: &TargetPolicy) -> Result<WebhookFields, FieldError> {
        let name = match &self.name {
            Some(raw) => {
                let name = raw.trim();
                if name.is_empty() {
                    return Err(FieldError::new("name", "name must not be empty"));
                }
                if name.chars().count() > MAX_NAME_LEN {
                    return Err(FieldError::new("name", format!("name is longer than {MAX_NAME_LEN} characters")));
                }
                Some(name.to_owned())
            }
            None => None,
        };
        let url = match &self.url {
            Some(raw) => {
                let url = parse_webhook_url(raw).map_err(|e| FieldError::new("url", e))?;
                policy.vet_url_literal(&url).map_err(|e| FieldError::new("url", e))?;
                if !policy.allow_private && url.host_str().is_some_and(is_localhost_name) {
                    return Err(FieldError::new(
                        "url",
                        "localhost is refused; set HOOKD_ALLOW_PRIVATE_TARGETS=true to reach it",
                    ));
                }
                Some(url)
            }
            None => None,
        };
        let events = match &self.events {
            Some(raw) => Some(normalise_events(raw)?),
            None => None,
        };
        let headers = match &self.headers {
            Some(raw) => Some(validate_headers(raw.iter().map(|(n, v)| (n.as_str(), v.as_str())))?),
            None => None,
        };
        Ok(WebhookFields { name, url, events, headers })
    }
}

/// `localhost`, `localhost.` and names under `.localhost`, which resolve to loopback (RFC 6761).
fn is_localhost_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    host == "localhost" || host.ends_with(".localhost")
}

fn normalise_events(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut events = Vec::new();
    for item in raw.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()) {
        let slug = if item == WILDCARD {
            WILDCARD.to_owned()
        } else {
            EventType::parse(item).map_err(|e| FieldError::new("events", e))?.as_str().to_owned()
        };
        if !events.contains(&slug) {
            events.push(slug);
        }
    }
    if events.is_empty() {
        return Err(FieldError::new("events", "at least one event type (or \"*\" for all) is required"));
    }
    if events.iter().any(|e| e == WILDCARD) {
        events = vec![WILDCARD.to_owned()];
    }
    events.sort();
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, url: &str, events: &[&str]) -> WebhookInput {
        WebhookInput {
            name: Some(name.into()),
            url: Some(url.into()),
            events: Some(events.iter().map(|s| s.to_string()).collect()),
            headers: None,
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let fields = input(" CRM ", " https://crm.example.com/hook ", &["site_published", "payment_received,site_published"])
            .validate(&TargetPolicy::default())
            .unwrap();
        assert_eq!(fields.name.as_deref(), Some("CRM"));
        assert_eq!(fields.url.unwrap().as_str(), "https://crm.example.com/hook");
        assert_eq!(fields.events.unwrap(), vec!["payment_received", "site_published"]);
    }

    #[test]
    fn wildcard_swallows_the_rest() {
        let fields = input("all", "https://e.com/", &["payment_received", "*"]).validate(&TargetPolicy::default()).unwrap();
        assert_eq!(fields.events.unwrap(), vec!["*"]);
    }

    #[test]
    fn each_bad_field_is_named() {
        let policy = TargetPolicy::default();
        let field = |i: WebhookInput| i.validate(&policy).unwrap_err().field;
        assert_eq!(field(input("  ", "https://e.com/", &["a"])), "name");
        assert_eq!(field(input("n", "not a url", &["a"])), "url");
        assert_eq!(field(input("n", "http://127.0.0.1:9/", &["a"])), "url");
        assert_eq!(field(input("n", "http://localhost:9/", &["a"])), "url");
        assert_eq!(field(input("n", "http://localhost.:9/", &["a"])), "url");
        assert_eq!(field(input("n", "http://api.localhost/", &["a"])), "url");
        assert_eq!(field(input("n", "https://e.com/", &[])), "events");
        assert_eq!(field(input("n", "https://e.com/", &["Bad Event"])), "events");
    }

    #[test]
    fn private_targets_pass_when_allowed() {
        let fields = input("n", "http://127.0.0.1:9/", &["a"]).validate(&TargetPolicy::allow_all()).unwrap();
        assert_eq!(fields.url.unwrap().port(), Some(9));
    }

    #[test]
    fn headers_are_validated_with_the_rest() {
        let with = |headers: &[(&str, &str)]| WebhookInput {
            headers: Some(headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()),
            ..input("n", "https://e.com/", &["a"])
        };
        let fields = with(&[("X-Api-Key", "k")]).validate(&TargetPolicy::default()).unwrap();
        assert_eq!(fields.headers.unwrap().get("x-api-key").map(String::as_str), Some("k"));
        assert_eq!(with(&[]).validate(&TargetPolicy::default()).unwrap().headers, Some(CustomHeaders::new()));
        assert_eq!(with(&[("Webhook-Id", "x")]).validate(&TargetPolicy::default()).unwrap_err().field, "headers");
        assert_eq!(input("n", "https://e.com/", &["a"]).validate(&TargetPolicy::default()).unwrap().headers, None);
    }
}
