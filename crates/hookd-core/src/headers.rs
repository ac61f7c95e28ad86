//! Custom headers a webhook sends with every request, e.g. `x-api-key` or `authorization` for a
//! receiver that wants its own credential besides the signature.
//!
//! Policy (README "Custom headers"):
//! - names are RFC 9110 tokens, at most [`MAX_NAME_LEN`] bytes, stored lower case (HTTP header
//!   names are case-insensitive, and HTTP/2 sends them lower case anyway); two names that differ
//!   only in case are refused;
//! - values are printable ASCII, spaces and tabs (no CR, LF or other control bytes, so no header
//!   injection), at most [`MAX_VALUE_LEN`] bytes, surrounding whitespace trimmed;
//! - at most [`MAX_HEADERS`] per webhook;
//! - the headers hookd sets itself, and those that frame or route the request, are reserved:
//!   `webhook-*`, `hookd-*`, `proxy-*`, and `content-type`, `content-length`, `content-encoding`,
//!   `transfer-encoding`, `host`, `user-agent`, `connection`, `keep-alive`, `te`, `trailer`,
//!   `upgrade`, `expect`.
//!
//! A refusal names the field `headers` and the header, never its value (values are often
//! credentials).

use std::collections::BTreeMap;

use crate::webhook::FieldError;

pub const MAX_HEADERS: usize = 20;
pub const MAX_NAME_LEN: usize = 64;
pub const MAX_VALUE_LEN: usize = 1024;

/// The field name in refusals.
pub const FIELD: &str = "headers";

/// Names reserved whole (compared lower case).
pub const RESERVED: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "user-agent",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "expect",
];

/// Name prefixes reserved (compared lower case): Standard Webhooks' headers, hookd's own, and
/// proxy controls.
pub const RESERVED_PREFIXES: &[&str] = &["webhook-", "hookd-", "proxy-"];

/// Custom headers, validated: lower-case names, trimmed values. Serialises as a JSON object.
pub type CustomHeaders = BTreeMap<String, String>;

/// Whether hookd keeps `name` (any case) for itself.
pub fn is_reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    RESERVED.contains(&lower.as_str()) || RESERVED_PREFIXES.iter().any(|p| lower.starts_with(p))
}

/// A `tchar` of RFC 9110 section 5.6.2.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Validates custom headers as an admin gave them (CLI `--header`, the API's `headers` object).
pub fn validate_headers<'a>(raw: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<CustomHeaders, FieldError> {
    let err = |message: String| FieldError::new(FIELD, message);
    let mut headers = CustomHeaders::new();
    for (name, value) in raw {
        if headers.len() == MAX_HEADERS {
            return Err(err(format!("at most {MAX_HEADERS} custom headers per webhook")));
        }
        let shown = shown_name(name);
        if name.is_empty() {
            return Err(err("a header name must not be empty".into()));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(err(format!("header name {shown:?} is longer than {MAX_NAME_LEN} bytes")));
        }
        if !name.bytes().all(is_tchar) {
            return Err(err(format!(
                "header name {shown:?} is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~ only)"
            )));
        }
        let lower = name.to_ascii_lowercase();
        if is_reserved(&lower) {
            return Err(err(format!(
                "header {lower:?} is reserved: hookd sets it (or it frames the request); reserved are webhook-*, hookd-*, proxy-*, {}",
                RESERVED.join(", ")
            )));
        }
        let value = value.trim_matches([' ', '\t']);
        if value.len() > MAX_VALUE_LEN {
            return Err(err(format!("the value of header {lower:?} is longer than {MAX_VALUE_LEN} bytes")));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(err(format!("the value of header {lower:?} must not contain CR or LF")));
        }
        if value.bytes().any(|b| b.is_ascii_control() && b != b'\t') {
            return Err(err(format!("the value of header {lower:?} must not contain control characters")));
        }
        if !value.is_ascii() {
            return Err(err(format!("the value of header {lower:?} must be printable ASCII")));
        }
        if headers.insert(lower.clone(), value.to_owned()).is_some() {
            return Err(err(format!("header {lower:?} is given twice (names are case-insensitive)")));
        }
    }
    Ok(headers)
}

/// Parses one `--header` argument, `Name: value`, into its name and value.
pub fn parse_header_line(line: &str) -> Result<(&str, &str), FieldError> {
    match line.split_once(':') {
        Some((name, value)) => Ok((name.trim(), value)),
        None => Err(FieldError::new(
            FIELD,
            format!("header {:?} must be written as 'Name: value'", shown_name(line)),
        )),
    }
}

/// Validates a list of `Name: value` lines.
pub fn parse_header_lines(lines: &[String]) -> Result<CustomHeaders, FieldError> {
    let pairs = lines.iter().map(|l| parse_header_line(l)).collect::<Result<Vec<_>, _>>()?;
    validate_headers(pairs)
}

/// A name as it may appear in a message: short, and cut before anything that looks like a value
/// typed in the wrong place.
fn shown_name(name: &str) -> String {
    let name = name.split([':', '\r', '\n']).next().unwrap_or_default();
    name.chars().take(MAX_NAME_LEN).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(name: &str, value: &str) -> Result<CustomHeaders, FieldError> {
        validate_headers([(name, value)])
    }

    #[test]
    fn valid_headers_are_normalised() {
        let headers = validate_headers([("X-Api-Key", "  abc 123\t"), ("Authorization", "Bearer t0k3n"), ("x-empty", "")]).unwrap();
        assert_eq!(headers.get("x-api-key").map(String::as_str), Some("abc 123"));
        assert_eq!(headers.get("authorization").map(String::as_str), Some("Bearer t0k3n"));
        assert_eq!(headers.get("x-empty").map(String::as_str), Some(""));
        assert_eq!(headers.len(), 3);
        assert!(one("x!#$%&'*+-.^_`|~9", "v").is_ok(), "every tchar is allowed");
    }

    #[test]
    fn reserved_names_are_refused_in_any_case() {
        for name in [
            "webhook-id", "Webhook-Signature", "WEBHOOK-TIMESTAMP", "webhook-anything", "hookd-attempt",
            "Hookd-Sequence", "hookd-occurred-at", "Content-Type", "content-length", "HOST", "User-Agent",
            "transfer-encoding", "Connection", "keep-alive", "TE", "trailer", "upgrade", "expect",
            "content-encoding", "proxy-authorization",
        ] {
            let err = one(name, "x").unwrap_err();
            assert_eq!(err.field, "headers", "{name}");
            assert!(err.message.contains("reserved"), "{name}: {}", err.message);
        }
        assert!(one("authorization", "x").is_ok() && one("x-webhook-id", "x").is_ok() && one("hostname", "x").is_ok());
    }

    #[test]
    fn names_must_be_tokens() {
        for name in ["", "x y", "x:y", "x\r\ny", "x\0", "é", "x(y)", "x/y", "x\"y", "x,y", "x@y", " x", "x\t"] {
            assert_eq!(one(name, "v").unwrap_err().field, "headers", "{name:?}");
        }
        assert!(one(&"x".repeat(MAX_NAME_LEN), "v").is_ok());
        assert!(one(&"x".repeat(MAX_NAME_LEN + 1), "v").is_err());
    }

    #[test]
    fn values_cannot_inject_or_carry_control_bytes() {
        for value in ["a\r\nx-evil: 1", "a\nb", "a\rb", "a\0b", "a\x1bb", "a\x7fb", "é", "a\u{2028}b"] {
            let err = one("x-v", value).unwrap_err();
            assert_eq!(err.field, "headers", "{value:?}");
            assert!(!err.message.contains(value), "the value is never echoed: {}", err.message);
        }
        assert!(one("x-v", "a\tb").is_ok(), "an inner tab is allowed");
        assert!(one("x-v", &"v".repeat(MAX_VALUE_LEN)).is_ok());
        assert!(one("x-v", &"v".repeat(MAX_VALUE_LEN + 1)).is_err());
    }

    #[test]
    fn duplicates_and_too_many_are_refused() {
        let err = validate_headers([("X-A", "1"), ("x-a", "2")]).unwrap_err();
        assert!(err.message.contains("twice"), "{}", err.message);
        let names: Vec<String> = (0..=MAX_HEADERS).map(|i| format!("x-h{i}")).collect();
        assert!(validate_headers(names.iter().take(MAX_HEADERS).map(|n| (n.as_str(), "v"))).is_ok());
        let err = validate_headers(names.iter().map(|n| (n.as_str(), "v"))).unwrap_err();
        assert!(err.message.contains("at most"), "{}", err.message);
    }

    #[test]
    fn header_lines_parse_at_the_first_colon() {
        let headers = parse_header_lines(&["X-Api-Key: a:b:c".into(), " X-Tenant :7".into()]).unwrap();
        assert_eq!(headers.get("x-api-key").map(String::as_str), Some("a:b:c"));
        assert_eq!(headers.get("x-tenant").map(String::as_str), Some("7"));
        let err = parse_header_lines(&["no colon here".into()]).unwrap_err();
        assert!(err.message.contains("Name: value"), "{}", err.message);
        assert_eq!(parse_header_lines(&["Host: evil".into()]).unwrap_err().field, "headers");
    }
}
