//! One signed POST: Standard Webhooks headers, no redirects, bounded time and body.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use chrono::{DateTime, Utc};
use hookd_core::outcome::{honours_retry_after, parse_retry_after, status_error, ErrorClass, Observed};
use hookd_core::signing::{signature_header, SigningSecret};
use hookd_core::target::{parse_webhook_url, TargetPolicy};
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};

use crate::resolve::{ResolveError, VettingResolver};

pub const USER_AGENT_VALUE: &str = concat!("hookd/", env!("CARGO_PKG_VERSION"), " (+https://github.com/hookd)");
/// Carries the event type so receivers can route before parsing the body.
pub const EVENT_TYPE_HEADER: &str = "hookd-event-type";
/// The attempt number, 1 for the first: lets receivers see retries without counting ids.
pub const ATTEMPT_HEADER: &str = "hookd-attempt";

#[derive(Debug, Clone)]
pub struct SenderConfig {
    pub connect_timeout: Duration,
    /// The whole request: connect, send, and read the response.
    pub request_timeout: Duration,
    /// Response bytes kept for the audit; the rest is not read.
    pub max_response_body: usize,
    pub policy: TargetPolicy,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            max_response_body: 64 * 1024,
            policy: TargetPolicy::default(),
        }
    }
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
}

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
    pub fn new(config: SenderConfig) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            // Environment proxies would send requests somewhere the guard never vetted.
            .no_proxy()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .dns_resolver(Arc::new(VettingResolver::new(Arc::new(config.policy.clone()))))
            .pool_idle_timeout(Duration::from_secs(60))
            .build()?;
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

/// Maps a client error to its class by walking its causes.
fn classify(e: &reqwest::Error) -> Response {
    let mut detail = e.to_string();
    let mut source = e.source();
    let mut class = None;
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        if let Some(resolve) = cause.downcast_ref::<ResolveError>() {
            class = Some(match resolve {
                ResolveError::Refused { .. } => ErrorClass::RefusedTarget,
                _ => ErrorClass::Dns,
            });
        }
        source = cause.source();
    }
    let lower = detail.to_ascii_lowercase();
    let class = class.unwrap_or(if e.is_timeout() {
        ErrorClass::Timeout
    } else if lower.contains("certificate") || lower.contains("tls") || lower.contains("handshake") {
        ErrorClass::Tls
    } else if e.is_connect() {
        ErrorClass::Connect
    } else {
        ErrorClass::Request
    });
    failure(class, detail)
}
