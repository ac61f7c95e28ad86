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

impl ErrorClass {
    /// The class an error column holds, as written by [`ErrorClass::as_str`].
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Timeout,
            Self::Connect,
            Self::Dns,
            Self::Tls,
            Self::Redirect,
            Self::RefusedTarget,
            Self::Request,
            Self::Shutdown,
        ]
        .into_iter()
        .find(|class| class.as_str() == value)
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

// --- Endpoint health (README "Endpoint health") ---------------------------------------------
//
// What an attempt says about the *endpoint*, as opposed to what becomes of the delivery: the
// webhook's `failing_since`, the 410 and auto-disable rules, and the circuit breaker
// ([`crate::circuit`]) all read it from here.

/// After failing without a success this long, a webhook is disabled (setting `disable_after`).
pub const DEFAULT_DISABLE_AFTER: Duration = Duration::from_secs(5 * 24 * 3600);

/// How long claims for a webhook pause after a 429 that names no `Retry-After`.
pub const DEFAULT_THROTTLE_PAUSE: Duration = Duration::from_secs(1);

/// The longest pause a receiver's `Retry-After` can impose on claims for its webhook: a hostile
/// receiver cannot park a webhook for a year (its deliveries' retries are capped separately by the
/// schedule's largest delay).
pub const MAX_THROTTLE_PAUSE: Duration = Duration::from_secs(60);

/// What one attempt says about its endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EndpointHealth {
    /// Delivered (a 2xx read whole): the endpoint works.
    Healthy,
    /// Anything else the receiver or the way to it did: a non-2xx status, a transport error, a
    /// refused target. Counts toward auto-disable and the circuit breaker.
    Failing,
    /// 410 Gone: the receiver says the URL is gone for good. Disables the webhook at once.
    Gone,
    /// Says nothing about the endpoint: the worker itself abandoned the request at shutdown.
    Neutral,
}

impl EndpointHealth {
    /// The name the store records it under.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "ok",
            Self::Failing => "fail",
            Self::Gone => "gone",
            Self::Neutral => "neutral",
        }
    }
}

impl Observed {
    /// What this attempt says about the endpoint (see [`EndpointHealth`]).
    pub fn endpoint_health(&self) -> EndpointHealth {
        match (self.status, self.error) {
            (_, Some(ErrorClass::Shutdown)) => EndpointHealth::Neutral,
            (Some(410), _) => EndpointHealth::Gone,
            _ if self.verdict() == Verdict::Delivered => EndpointHealth::Healthy,
            _ => EndpointHealth::Failing,
        }
    }

    /// Whether this attempt disables its webhook at once: the receiver answered 410 Gone.
    pub fn disables_webhook(&self) -> bool {
        self.endpoint_health() == EndpointHealth::Gone
    }

    /// How long the receiver asked to be left alone, when it did: a 429 (its `Retry-After`, or
    /// [`DEFAULT_THROTTLE_PAUSE`]) or a 503 with a `Retry-After`; capped at [`MAX_THROTTLE_PAUSE`].
    pub fn throttle(&self) -> Option<Duration> {
        let pause = match self.status {
            Some(429) => Some(self.retry_after.unwrap_or(DEFAULT_THROTTLE_PAUSE)),
            Some(503) => self.retry_after,
            _ => None,
        };
        pause.map(|p| p.min(MAX_THROTTLE_PAUSE))
    }
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

    fn health(status: Option<u16>, error: Option<ErrorClass>) -> EndpointHealth {
        Observed { status, error, retry_after: None }.endpoint_health()
    }

    #[test]
    fn only_410_disables_a_webhook_at_once() {
        for code in (100..=599).filter(|c| *c != 410) {
            let obs = Observed { status: Some(code), error: status_error(code), retry_after: None };
            assert!(!obs.disables_webhook(), "{code}");
        }
        assert!(Observed { status: Some(410), error: None, retry_after: None }.disables_webhook());
        // The status said it even if the body was then cut off.
        assert!(Observed { status: Some(410), error: Some(ErrorClass::Timeout), retry_after: None }.disables_webhook());
        for class in [ErrorClass::Connect, ErrorClass::Dns, ErrorClass::Tls, ErrorClass::RefusedTarget, ErrorClass::Timeout] {
            assert!(!Observed { status: None, error: Some(class), retry_after: None }.disables_webhook(), "{class}");
        }
    }

    #[test]
    fn endpoint_health_of_each_kind_of_result() {
        assert_eq!(health(Some(200), None), EndpointHealth::Healthy);
        assert_eq!(health(Some(204), None), EndpointHealth::Healthy);
        assert_eq!(health(Some(410), None), EndpointHealth::Gone);
        for code in [301, 400, 404, 408, 413, 429, 500, 503] {
            assert_eq!(health(Some(code), status_error(code)), EndpointHealth::Failing, "{code}");
        }
        // A 2xx whose body never arrived whole is not a success.
        assert_eq!(health(Some(200), Some(ErrorClass::Timeout)), EndpointHealth::Failing);
        for class in [ErrorClass::Timeout, ErrorClass::Connect, ErrorClass::Dns, ErrorClass::Tls, ErrorClass::RefusedTarget, ErrorClass::Request] {
            assert_eq!(health(None, Some(class)), EndpointHealth::Failing, "{class}");
        }
        // hookd gave up on the request itself: nothing learnt about the receiver.
        assert_eq!(health(None, Some(ErrorClass::Shutdown)), EndpointHealth::Neutral);
    }

    #[test]
    fn throttling_is_a_429_or_a_503_with_retry_after() {
        let obs = |status, retry_after| Observed { status: Some(status), error: None, retry_after };
        assert_eq!(obs(429, None).throttle(), Some(DEFAULT_THROTTLE_PAUSE));
        assert_eq!(obs(429, Some(Duration::from_secs(7))).throttle(), Some(Duration::from_secs(7)));
        assert_eq!(obs(503, Some(Duration::from_secs(7))).throttle(), Some(Duration::from_secs(7)));
        assert_eq!(obs(503, None).throttle(), None);
        assert_eq!(obs(500, None).throttle(), None);
        assert_eq!(obs(429, Some(Duration::from_secs(86_400))).throttle(), Some(MAX_THROTTLE_PAUSE));
    }

    #[test]
    fn error_classes_parse_back_from_their_names() {
        for class in [
            ErrorClass::Timeout,
            ErrorClass::Connect,
            ErrorClass::Dns,
            ErrorClass::Tls,
            ErrorClass::Redirect,
            ErrorClass::RefusedTarget,
            ErrorClass::Request,
            ErrorClass::Shutdown,
        ] {
            assert_eq!(ErrorClass::parse(class.as_str()), Some(class));
        }
        assert_eq!(ErrorClass::parse("lease_expired"), None);
    }
}
