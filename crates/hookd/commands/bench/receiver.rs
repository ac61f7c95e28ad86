//! The benchmark's receiver: a minimal hyper server that answers as fast as it can and notes,
//! with its own clock, when each `webhook-id` arrived. Paths `/w/{n}` name the webhook, so a
//! scenario can make some of them hang or fail first attempts.

use std::collections::HashSet;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http_body_util::{BodyExt, Empty};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// How the receiver treats webhook paths.
#[derive(Debug, Default, Clone)]
pub struct Behaviour {
    /// These webhooks never answer in time.
    pub hanging: HashSet<usize>,
    /// These webhooks answer 500 to every first attempt.
    pub fail_first: HashSet<usize>,
    pub hang_for: Duration,
}

/// One successful receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub webhook: usize,
    pub event_id: String,
    pub at: SystemTime,
}

/// What the receiver saw: the first successful receipt of each event per webhook, and how many
/// came again (redeliveries, which at-least-once allows but a clean run should not need).
#[derive(Default)]
pub struct Receipts {
    pub delivered: Mutex<Vec<Receipt>>,
    seen: Mutex<HashSet<(usize, String)>>,
    duplicates: AtomicUsize,
    pub requests: AtomicUsize,
}

impl Receipts {
    pub fn delivered_count(&self) -> usize {
        self.delivered.lock().expect("not poisoned").len()
    }

    pub fn duplicates(&self) -> usize {
        self.duplicates.load(Ordering::Relaxed)
    }

    fn receive(&self, webhook: usize, event_id: String) {
        if self.seen.lock().expect("not poisoned").insert((webhook, event_id.clone())) {
            self.delivered.lock().expect("not poisoned").push(Receipt { webhook, event_id, at: SystemTime::now() });
        } else {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub async fn start(behaviour: Behaviour) -> std::io::Result<(SocketAddr, Arc<Receipts>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let receipts = Arc::new(Receipts::default());
    let behaviour = Arc::new(behaviour);
    let shared = receipts.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let (receipts, behaviour) = (shared.clone(), behaviour.clone());
            tokio::spawn(async move {
                let service = service_fn(move |req| answer(req, receipts.clone(), behaviour.clone()));
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Ok((addr, receipts))
}

async fn answer(req: Request<Incoming>, receipts: Arc<Receipts>, behaviour: Arc<Behaviour>) -> Result<Response<Empty<Bytes>>, Infallible> {
    receipts.requests.fetch_add(1, Ordering::Relaxed);
    let webhook = req.uri().path().trim_start_matches("/w/").parse::<usize>().unwrap_or(0);
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let event_id = header("webhook-id").unwrap_or_default();
    let first_attempt = header("hookd-attempt").as_deref() == Some("1");
    let _ = req.into_body().collect().await;
    let status = if behaviour.hanging.contains(&webhook) {
        tokio::time::sleep(behaviour.hang_for).await;
        StatusCode::OK
    } else if first_attempt && behaviour.fail_first.contains(&webhook) {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        receipts.receive(webhook, event_id);
        StatusCode::OK
    };
    let mut response = Response::new(Empty::new());
    *response.status_mut() = status;
    Ok(response)
}
