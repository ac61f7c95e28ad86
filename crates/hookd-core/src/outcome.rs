//! What an attempt's result means: delivered, try again, or give up; and why it failed.
//!
//! Policy (README "Retries"): only 2xx is success. Retried: transport failures (connect, DNS,
//! timeout, TLS, other request errors), 3xx (redirects are never followed), 408, 429 and 5xx.
//! Terminal: every other 4xx (400, 401, 403, 404, 405, 409, 410, 413, 415, 422, ...) and a target
//! refused by the private-network guard, since neither changes by asking again.

use std::time::{Duration, SystemTime};

/// Why an attempt failed when the receiver's status alone does not say: kept apart from the status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    Timeout,
    Connect,
    Dns,
    Tls,
    Redirect,
    RefusedTarget,
    Request,
    /// The worker shut down with the request still in flight after its grace period: the
    /// receiver may or may not have processed it, so it is retried.
    Shutdown,
}

impl ErrorClass {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Redirect => "redirect",
            Self::RefusedTarget => "refused_target",
            Self::Request => "request",
            Self::Shutdown => "shutdown",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the sender saw: a status (possibly with an error class, as for 3xx), or only an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observed {
    pub status: Option<u16>,
    pub error: Option<ErrorClass>,
    /// The receiver's `Retry-After`, already parsed, when it sent one on a 429 or 503.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Worth another attempt; `not_before` is the receiver's own wish (Retry-After).
    Retry { not_before: Option<Duration> },
    GiveUp,
}

impl Observed {
    pub fn verdict(&self) -> Verdict {
        match (self.status, self.error) {
            (_, Some(ErrorClass::RefusedTarget)) => Verdict::GiveUp,
            (Some(200..=299), None) => Verdict::Delivered,
            // The status arrived but the rest of the response did not (timeout, reset mid-body):
            // the receiver may not have processed it, so it counts as a transport failure.
            (Some(200..=299), Some(_)) => Verdict::Retry { not_before: None },
            (Some(408 | 429 | 500..=599), _) | (Some(300..=399), _) => {
                Verdict::Retry { not_before: self.retry_after }
            }
            (Some(_), _) => Verdict::GiveUp,
            (None, _) => Verdict::Retry { not_before: None },
        }
    }
}

/// Classifies a status code, marking 3xx with [`ErrorClass::Redirect`] since it is never followed.
pub fn status_error(status: u16) -> Option<ErrorClass> {
    (300..400).contains(&status).then_some(ErrorClass::Redirect)
}

/// Parses a `Retry-After` value, in delay-seconds or an HTTP date, relative to `now`.
/// A date in the past means "now" (zero); garbage means the receiver expressed no wish.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether a `Retry-After` header on this status should be honoured (RFC 9110 defines it for
/// 503 and 3xx; 429 by RFC 6585). hookd honours it on 429 and 503 only.
pub fn honours_retry_after(status: u16) -> bool {
    matches!(status, 429 | 503)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Verdict {
        Observed { status: Some(code), error: status_error(code), retry_after: None }.verdict()
    }

    #[test]
    fn only_2xx_is_delivered() {
        for code in [200, 201, 204, 299] {
            assert_eq!(status(code), Verdict::Delivered, "{code}");
        }
    }

    #[test]
    fn retries_transient_statuses_and_redirects() {
        for code in [301, 302, 307, 408, 429, 500, 502, 503, 504, 599] {
            assert!(matches!(status(code), Verdict::Retry { .. }), "{code}");
        }
    }

    #[test]
    fn other_4xx_are_terminal() {
        for code in [400, 401, 403, 404, 405, 409, 410, 413, 415, 422, 451] {
            assert_eq!(status(code), Verdict::GiveUp, "{code}");
        }
    }

    #[test]
    fn transport_errors_retry_but_a_refused_target_does_not() {
        for class in [ErrorClass::Timeout, ErrorClass::Connect, ErrorClass::Dns, ErrorClass::Tls, ErrorClass::Request] {
            let obs = Observed { status: None, error: Some(class), retry_after: None };
            assert_eq!(obs.verdict(), Verdict::Retry { not_before: None }, "{class}");
        }
        let refused = Observed { status: None, error: Some(ErrorClass::RefusedTarget), retry_after: None };
        assert_eq!(refused.verdict(), Verdict::GiveUp);
    }

    #[test]
    fn a_2xx_cut_off_mid_body_is_retried() {
        let obs = Observed { status: Some(200), error: Some(ErrorClass::Timeout), retry_after: None };
        assert_eq!(obs.verdict(), Verdict::Retry { not_before: None });
    }

    #[test]
    fn retry_after_is_carried_into_the_verdict() {
        let obs = Observed { status: Some(429), error: None, retry_after: Some(Duration::from_secs(9)) };
        assert_eq!(obs.verdict(), Verdict::Retry { not_before: Some(Duration::from_secs(9)) });
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:29:30 GMT", now), Some(Duration::from_secs(90)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert!(honours_retry_after(429) && honours_retry_after(503) && !honours_retry_after(500));
    }
}
