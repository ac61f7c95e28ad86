//! One signed POST: Standard Webhooks headers, no redirects, bounded time and body.
//!
//! TLS policy (README "TLS"): HTTPS verifies the receiver's certificate against the system's root
//! store (plus an operator's extra CA bundle, if configured), with rustls; there is no switch to
//! skip verification, a TLS failure is its own error class (`tls`, retried), and nothing ever
//! falls back to plain HTTP: the URL's scheme is the only one tried and redirects are not
//! followed.

use std::error::Error as StdError;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, SecondsFormat, Utc};
use hookd_core::headers::{validate_headers, CustomHeaders};
use hookd_core::outcome::{honours_retry_after, parse_retry_after, status_error, ErrorClass, Observed};
use hookd_core::signing::{signature_header, SigningSecret};
use hookd_core::target::{parse_webhook_url, TargetPolicy};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

use crate::resolve::{ResolveError, VettingResolver};

pub const USER_AGENT_VALUE: &str = concat!("hookd/", env!("CARGO_PKG_VERSION"), " (+https://github.com/hookd)");
/// Carries the event type so receivers can route before parsing the body.
pub const EVENT_TYPE_HEADER: &str = "hookd-event-type";
/// The attempt number, 1 for the first: lets receivers see retries without counting ids.
pub const ATTEMPT_HEADER: &str = "hookd-attempt";
/// When the event happened (the outbox row's `occurred_at`), RFC 3339 in UTC with microseconds.
pub const OCCURRED_AT_HEADER: &str = "hookd-occurred-at";
/// The outbox row's id: increasing in insert order across the database, so receivers can order
/// events (README "Ordering"). Not sent with test events.
pub const SEQUENCE_HEADER: &str = "hookd-sequence";

/// A sender that cannot be built: the HTTP client, or the extra CA bundle.
#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("extra_ca_bundle (HOOKD_EXTRA_CA_BUNDLE) {path}: {message}")]
    CaBundle { path: PathBuf, message: String },
}

#[derive(Debug, Clone)]
pub struct SenderConfig {
    pub connect_timeout: Duration,
    /// The whole request: connect, send, and read the response.
    pub request_timeout: Duration,
    /// Response bytes kept for the audit; the rest is not read.
    pub max_response_body: usize,
    pub policy: TargetPolicy,
    /// A PEM file of one or more CA certificates trusted for HTTPS besides the system's roots
    /// (an internal CA, say).
    pub extra_ca_bundle: Option<PathBuf>,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_response_body: 64 * 1024,
            policy: TargetPolicy::default(),
            extra_ca_bundle: None,
        }
    }
}

/// The certificates of a PEM bundle; an unreadable file or one with no certificate is an error.
fn read_ca_bundle(path: &PathBuf) -> Result<Vec<reqwest::Certificate>, SenderError> {
    let bad = |message: String| SenderError::CaBundle { path: path.clone(), message };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| bad(format!("not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(bad("no certificate in it (expected one or more -----BEGIN CERTIFICATE----- blocks)".into()));
    }
    Ok(certs)
}

/// What to send.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub url: &'a str,
    /// `webhook-id`: the event id, the same on every attempt and for every webhook.
    pub msg_id: &'a str,
    pub event_type: &'a str,
    pub attempt: i32,
    pub body: &'a [u8],
    pub secrets: &'a [SigningSecret],
    /// `hookd-occurred-at`: when the event happened (a test event: when it is sent).
    pub occurred_at: DateTime<Utc>,
    /// `hookd-sequence`: the outbox row's id; `None` (no header) for a test event.
    pub sequence: Option<i64>,
    /// The webhook's custom headers.
    pub headers: &'a CustomHeaders,
}

/// No custom headers.
pub static NO_HEADERS: CustomHeaders = CustomHeaders::new();

/// What happened, whatever happened.
#[derive(Debug, Clone)]
pub struct Response {
    pub started_at: DateTime<Utc>,
    pub duration: Duration,
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub body_truncated: bool,
    pub error: Option<ErrorClass>,
    /// A human-readable cause for `error` (never contains a secret).
    pub error_detail: Option<String>,
    pub retry_after: Option<Duration>,
}

impl Response {
    pub fn observed(&self) -> Observed {
        Observed { status: self.status, error: self.error, retry_after: self.retry_after }
    }

    pub fn is_success(&self) -> bool {
        matches!(self.observed().verdict(), hookd_core::outcome::Verdict::Delivered)
    }

    pub fn headers_json(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.headers.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect(),
        )
    }
}

/// One shared client: connection reuse keeps sockets bounded however many deliveries run.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    config: Arc<SenderConfig>,
}

impl Sender {
    pub fn new(config: SenderConfig) -> Result<Self, SenderError> {
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            // The system's roots (reqwest's `rustls-tls-native-roots`), never a bundled list.
            .tls_built_in_native_certs(true)
            .redirect(reqwest::redirect::Policy::none())
            // Environment proxies would send requests somewhere the guard never vetted.
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .dns_resolver(Arc::new(VettingResolver::new(Arc::new(config.policy.clone()))))
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(path) = &config.extra_ca_bundle {
            for cert in read_ca_bundle(path)? {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build()?;
        Ok(Self { client, config: Arc::new(config) })
    }

    pub fn config(&self) -> &SenderConfig {
        &self.config
    }

    pub async fn send(&self, req: Request<'_>) -> Response {
        let started_at = Utc::now();
        let clock = Instant::now();
        let timestamp = started_at.timestamp();
        let mut response = match self.prepare(&req, timestamp) {
            Ok(builder) => self.execute(builder).await,
            Err(failure) => failure,
        };
        response.started_at = started_at;
        response.duration = clock.elapsed();
        response
    }

    fn prepare(&self, req: &Request<'_>, timestamp: i64) -> Result<reqwest::RequestBuilder, Response> {
        let url = parse_webhook_url(req.url).map_err(|e| failure(ErrorClass::Request, e.to_string()))?;
        self.config.policy.vet_url_literal(&url).map_err(|e| failure(ErrorClass::RefusedTarget, e.to_string()))?;
        if req.secrets.is_empty() {
            return Err(failure(ErrorClass::Request, "no valid signing secret: the stored secret is malformed".into()));
        }
        let mut headers = HeaderMap::new();
        // Custom headers first, so hookd's own are never overridden. They were validated when
        // saved; checked again here since the row may have been written some other way.
        let custom = validate_headers(req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .map_err(|e| failure(ErrorClass::Request, format!("the webhook's custom headers are refused: {}", e.message)))?;
        for (name, value) in &custom {
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_str(value);
            let (Ok(name), Ok(mut value)) = (name, value) else {
                return Err(failure(ErrorClass::Request, "a custom header is not a valid HTTP header".into()));
            };
            // Often a credential: kept out of any debug output of the request.
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        let mut put = |name: &'static str, value: String| {
            HeaderValue::from_str(&value)
                .map(|v| {
                    headers.insert(name, v);
                })
                .map_err(|_| failure(ErrorClass::Request, format!("{name} is not a valid header value")))
        };
        put("webhook-id", req.msg_id.to_owned())?;
        put("webhook-timestamp", timestamp.to_string())?;
        put("webhook-signature", signature_header(req.secrets, req.msg_id, timestamp, req.body))?;
        put(EVENT_TYPE_HEADER, req.event_type.to_owned())?;
        put(ATTEMPT_HEADER, req.attempt.to_string())?;
        put(OCCURRED_AT_HEADER, req.occurred_at.to_rfc3339_opts(SecondsFormat::Micros, true))?;
        if let Some(sequence) = req.sequence {
            put(SEQUENCE_HEADER, sequence.to_string())?;
        }
        Ok(self.client.post(url).headers(headers).body(req.body.to_vec()))
    }

    async fn execute(&self, builder: reqwest::RequestBuilder) -> Response {
        let mut resp = match builder.send().await {
            Ok(resp) => resp,
            Err(e) => return classify(&e),
        };
        let status = resp.status().as_u16();
        let headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .filter(|_| honours_retry_after(status))
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let mut out = Response {
            status: Some(status),
            headers,
            retry_after,
            error: status_error(status),
            error_detail: status_error(status).map(|_| {
                let location = resp.headers().get("location").map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned());
                format!("redirect not followed; location: {}", location.as_deref().unwrap_or("(none)"))
            }),
            ..failure(ErrorClass::Request, String::new())
        };
        let cap = self.config.max_response_body;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = cap - out.body.len();
                    if chunk.len() > room {
                        out.body.extend_from_slice(&chunk[..room]);
                        out.body_truncated = true;
                        break;
                    }
                    out.body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                // The status is in, but the body never finished: the receiver did not answer in full.
                Err(e) => {
                    let failed = classify(&e);
                    out.error = failed.error;
                    out.error_detail = failed.error_detail;
                    break;
                }
            }
        }
        out
    }
}

fn failure(class: ErrorClass, detail: String) -> Response {
    Response {
        started_at: Utc::now(),
        duration: Duration::ZERO,
        status: None,
        headers: Vec::new(),
        body: Vec::new(),
        body_truncated: false,
        error: Some(class),
        error_detail: (!detail.is_empty()).then_some(detail),
        retry_after: None,
    }
}

/// Maps a client error to its class by walking its causes: our resolver's refusal or DNS
/// failure, then a rustls error anywhere in the chain (a bad or untrusted certificate, a failed
/// handshake), then the client's own timeout and connect flags. The text is only a fallback.
fn classify(e: &reqwest::Error) -> Response {
    let mut detail = e.to_string();
    let mut source = e.source();
    let mut class = None;
    let mut tls = false;
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        if let Some(resolve) = cause.downcast_ref::<ResolveError>() {
            class = Some(if resolve.is_refused() { ErrorClass::RefusedTarget } else { ErrorClass::Dns });
        }
        tls |= is_rustls_error(cause);
        source = cause.source();
    }
    let lower = detail.to_ascii_lowercase();
    let class = class.unwrap_or(if tls {
        ErrorClass::Tls
    } else if e.is_timeout() {
        ErrorClass::Timeout
    } else if lower.contains("certificate") || lower.contains("tls handshake") || lower.contains("peer is incompatible") {
        ErrorClass::Tls
    } else if e.is_connect() {
        ErrorClass::Connect
    } else {
        ErrorClass::Request
    });
    failure(class, detail)
}

/// Whether `cause` is a rustls error, bare or inside `io::Error`s: tokio-rustls reports a failed
/// handshake as `io::Error(InvalidData, rustls::Error)`, which the client wraps in another
/// `io::Error`, and `io::Error::source` skips the error it wraps, so they are unwrapped here.
fn is_rustls_error(cause: &(dyn StdError + 'static)) -> bool {
    if cause.is::<rustls::Error>() {
        return true;
    }
    match cause.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
        Some(inner) => is_rustls_error(inner),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(headers: &'a CustomHeaders, secrets: &'a [SigningSecret]) -> Request<'a> {
        Request {
            url: "http://127.0.0.1:9/",
            msg_id: "msg",
            event_type: "payment_received",
            attempt: 1,
            body: b"{}",
            secrets,
            occurred_at: Utc::now(),
            sequence: Some(1),
            headers,
        }
    }

    /// Headers written to the database some other way than through validation are checked again:
    /// a reserved or malformed one fails the attempt (named, its value not shown) instead of
    /// overriding hookd's own headers or injecting others.
    #[tokio::test]
    async fn stored_custom_headers_are_checked_again_before_sending() {
        let sender = Sender::new(SenderConfig { policy: TargetPolicy::allow_all(), ..SenderConfig::default() }).unwrap();
        let secrets = [SigningSecret::from_key([7; hookd_core::signing::SECRET_LEN])];
        for (name, value) in [("webhook-signature", "v1,forged"), ("x-evil", "a\r\nhost: forged"), ("Host", "forged")] {
            let headers = CustomHeaders::from([(name.to_owned(), value.to_owned())]);
            let response = sender.send(request(&headers, &secrets)).await;
            assert_eq!(response.error, Some(ErrorClass::Request), "{name}");
            let detail = response.error_detail.unwrap();
            assert!(detail.contains("custom headers are refused") && !detail.contains("forged"), "{detail}");
        }
    }

    #[test]
    fn an_unusable_ca_bundle_is_an_error_naming_the_setting() {
        let missing = SenderConfig { extra_ca_bundle: Some("/nonexistent/ca.pem".into()), ..SenderConfig::default() };
        let err = Sender::new(missing).unwrap_err().to_string();
        assert!(err.contains("HOOKD_EXTRA_CA_BUNDLE") && err.contains("/nonexistent/ca.pem"), "{err}");
        let path = std::env::temp_dir().join(format!("hookd-send-not-pem-{}.pem", std::process::id()));
        std::fs::write(&path, "not a certificate\n").unwrap();
        let err = Sender::new(SenderConfig { extra_ca_bundle: Some(path.clone()), ..SenderConfig::default() }).unwrap_err();
        assert!(err.to_string().contains("no certificate"), "{err}");
        std::fs::remove_file(path).ok();
    }
}
