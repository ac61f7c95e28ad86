//! A scripted HTTP receiver on 127.0.0.1 port 0: records every request, answers as told.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use futures::stream;

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    /// The request target as it arrived: path and query, byte for byte.
    pub path_and_query: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: SystemTime,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering (a hanging receiver: longer than the client's timeout).
    pub delay: Duration,
    /// Send the body one byte at a time, this far apart.
    pub trickle: Option<Duration>,
    /// Send bytes forever.
    pub endless: bool,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self { status, headers: Vec::new(), body: Vec::new(), delay: Duration::ZERO, trickle: None, endless: false }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }

    pub fn trickle(mut self, every: Duration) -> Self {
        self.trickle = Some(every);
        self
    }

    pub fn endless(mut self) -> Self {
        self.endless = true;
        self
    }
}

/// The script: given the 0-based index of this request and the request, how to answer.
pub type Script = Arc<dyn Fn(usize, &Received) -> Reply + Send + Sync>;

struct Inner {
    script: Script,
    received: Mutex<Vec<Received>>,
}

pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    _server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// A receiver that always answers `status`.
    pub async fn always(status: u16) -> Self {
        Self::scripted(move |_, _| Reply::status(status)).await
    }

    /// A receiver that answers request `i` with `replies[i]`, and the last reply after that.
    pub async fn sequence(replies: Vec<Reply>) -> Self {
        assert!(!replies.is_empty());
        Self::scripted(move |i, _| replies[i.min(replies.len() - 1)].clone()).await
    }

    pub async fn scripted(script: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static) -> Self {
        let inner = Arc::new(Inner { script: Arc::new(script), received: Mutex::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let addr = listener.local_addr().expect("bound");
        let app = Router::new().fallback(answer).with_state(inner.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.ok();
        });
        Self { addr, inner, _server: server }
    }

    /// The URL of `path` on this receiver.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.received.lock().expect("not poisoned").clone()
    }

    pub fn count(&self) -> usize {
        self.inner.received.lock().expect("not poisoned").len()
    }
}

async fn answer(State(inner): State<Arc<Inner>>, uri: axum::http::Uri, headers: HeaderMap, body: Bytes) -> Response {
    let path_and_query = uri.path_and_query().map(|pq| pq.as_str().to_owned()).unwrap_or_else(|| uri.path().to_owned());
    let request = Received { path: uri.path().to_owned(), path_and_query, headers, body, at: SystemTime::now() };
    let index = {
        let mut received = inner.received.lock().expect("not poisoned");
        received.push(request.clone());
        received.len() - 1
    };
    let reply = (inner.script)(index, &request);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let body = if reply.endless {
        Body::from_stream(stream::repeat_with(|| Ok::<_, std::io::Error>(Bytes::from_static(&[b'x'; 8192]))))
    } else if let Some(every) = reply.trickle {
        let bytes = reply.body.clone();
        Body::from_stream(stream::unfold(0usize, move |i| {
            let bytes = bytes.clone();
            async move {
                if i >= bytes.len() {
                    return None;
                }
                tokio::time::sleep(every).await;
                Some((Ok::<_, std::io::Error>(Bytes::copy_from_slice(&bytes[i..i + 1])), i + 1))
            }
        }))
    } else {
        Body::from(reply.body.clone())
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(reply.status).expect("valid status");
    for (name, value) in &reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            value.parse().expect("header value"),
        );
    }
    response
}
