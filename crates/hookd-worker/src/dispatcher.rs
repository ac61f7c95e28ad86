//! Dispatcher: sends claimed deliveries within two limits (a global number of slots, and a
//! per-webhook number so one slow receiver cannot take them all), and turns each result into the
//! delivery's next state by the retry schedule. Each result also feeds the webhook's circuit and
//! rate limit ([`crate::endpoints`]), which hold back the next claims of a failing, throttling or
//! rate-limited webhook.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::time::Instant;

use chrono::{DateTime, Utc};
use hookd_core::schedule::Decision;
use hookd_core::signing::SigningSecret;
use hookd_core::circuit::Transition;
use hookd_core::outcome::{ErrorClass, Observed};
use hookd_send::{Request, Response, Sender};
use hookd_store::delivery::{ClaimedDelivery, Finish, NextState};
use hookd_store::Store;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::endpoints::Endpoints;
use crate::instruments::{self, Outcome};
use crate::recorder::{attempt_record, AttemptContext, Pending};
use crate::WorkerConfig;

pub struct Dispatcher {
    store: Store,
    sender: Sender,
    config: Arc<WorkerConfig>,
    finishes: mpsc::Sender<Pending>,
    slots: Arc<Semaphore>,
    webhook_slots: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
    /// Requests in flight, and what each is sending, to record if it must be abandoned at shutdown.
    in_flight: JoinSet<()>,
    leases: Arc<Mutex<HashMap<i64, Sending>>>,
    /// Circuits and rate limits per webhook, in this process.
    endpoints: Arc<Endpoints>,
}

impl Dispatcher {
    pub fn new(
        store: Store,
        sender: Sender,
        config: Arc<WorkerConfig>,
        finishes: mpsc::Sender<Pending>,
    ) -> Self {
        Self {
            endpoints: Arc::new(Endpoints::new(config.circuit_policy())),
            slots: Arc::new(Semaphore::new(config.concurrency)),
            store,
            sender,
            config,
            finishes,
            webhook_slots: Mutex::default(),
            in_flight: JoinSet::new(),
            leases: Arc::default(),
        }
    }

    pub fn request_timeout(&self) -> Duration {
        self.sender.config().request_timeout
    }

    /// Waits for one free send slot.
    pub async fn slot(&self) -> OwnedSemaphorePermit {
        self.slots.clone().acquire_owned().await.expect("the slot semaphore is never closed")
    }

    /// Up to `max` free slots, `first` included, without waiting.
    pub fn more_slots(&self, first: OwnedSemaphorePermit, max: usize) -> Vec<OwnedSemaphorePermit> {
        let mut slots = vec![first];
        while slots.len() < max {
            match self.slots.clone().try_acquire_owned() {
                Ok(slot) => slots.push(slot),
                Err(_) => break,
            }
        }
        slots
    }

    /// Requests in flight per webhook, for the webhooks that have any: the claim takes no more
    /// of a webhook's deliveries than its free slots. Idle webhooks' semaphores are forgotten on
    /// the way. A webhook held back by its circuit or rate limit counts as that much fuller (as
    /// full as it gets while its circuit is open or its bucket is empty).
    pub fn webhooks_in_flight(&self) -> Vec<(Uuid, i64)> {
        let cap = self.config.per_webhook_concurrency;
        let mut in_flight: HashMap<Uuid, i64> = {
            let mut map = self.webhook_slots.lock().expect("not poisoned");
            map.retain(|_, sem| sem.available_permits() < cap);
            map.iter().map(|(id, sem)| (*id, (cap - sem.available_permits()) as i64)).collect()
        };
        self.endpoints.hold_back(&mut in_flight, cap as i64, Instant::now());
        in_flight.into_iter().collect()
    }

    /// When a webhook held back by its circuit, a pause or its rate limit may be claimed again
    /// (the claimer looks then instead of waiting for its next poll).
    pub fn next_wake(&self) -> Option<Instant> {
        self.endpoints.next_wake(Instant::now())
    }

    fn webhook_slot(&self, webhook: Uuid) -> Option<OwnedSemaphorePermit> {
        let mut map = self.webhook_slots.lock().expect("not poisoned");
        let cap = self.config.per_webhook_concurrency;
        map.entry(webhook).or_insert_with(|| Arc::new(Semaphore::new(cap))).clone().try_acquire_owned().ok()
    }

    /// Starts a send for each claimed delivery, one slot each. The claim already respected the
    /// per-webhook limit; a delivery that still finds its webhook full (another claim raced it),
    /// or over its rate limit (the first claim since the limit was set), goes straight back to the
    /// queue, unattempted.
    pub async fn dispatch(&mut self, claimed: Vec<ClaimedDelivery>, slots: Vec<OwnedSemaphorePermit>) {
        let mut handed_back = Vec::new();
        for (delivery, slot) in claimed.into_iter().zip(slots) {
            if !self.endpoints.admit(delivery.webhook_id, delivery.max_rps) {
                handed_back.push((delivery.id, delivery.lease_token));
                continue;
            }
            let Some(webhook_slot) = self.webhook_slot(delivery.webhook_id) else {
                handed_back.push((delivery.id, delivery.lease_token));
                continue;
            };
            let sending = Sending { delivery: delivery.clone(), started_at: Utc::now(), started: Instant::now() };
            self.leases.lock().expect("not poisoned").insert(delivery.id, sending);
            let (sender, finishes, leases, config, endpoints) = (
                self.sender.clone(),
                self.finishes.clone(),
                self.leases.clone(),
                self.config.clone(),
                self.endpoints.clone(),
            );
            let counted = instruments::InFlight::start();
            self.in_flight.spawn(async move {
                let (finish, observed) = deliver(&sender, &config, &delivery).await;
                drop(counted);
                // Before the webhook's slot is freed, so the next claim already sees an open circuit.
                if let Some(change) = endpoints.record(delivery.webhook_id, &observed, Instant::now()) {
                    log_transition(&config, delivery.webhook_id, change);
                }
                drop(webhook_slot);
                // The send slot travels with the finish and is freed once it is written (see
                // the recorder): claims cannot outrun the recorder.
                finishes.send(Pending { finish, slot: Some(slot) }).await.ok();
                leases.lock().expect("not poisoned").remove(&delivery.id);
            });
        }
        self.endpoints.claim_dispatched();
        if !handed_back.is_empty() {
            if let Err(e) = self.store.delivery_release_many(&handed_back).await {
                tracing::warn!(error = %e, "could not hand back deliveries; their leases will expire");
            }
        }
        while self.in_flight.try_join_next().is_some() {}
    }

    /// Waits up to the grace period for requests in flight, then abandons the rest. Each abandoned
    /// request is recorded as an attempt (error `shutdown`: the receiver may have got it) and its
    /// delivery is due again at once, so another worker takes it without waiting for the lease.
    pub async fn shutdown(mut self) {
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while self.in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.in_flight.shutdown().await;
            let abandoned: Vec<Sending> = self.leases.lock().expect("not poisoned").drain().map(|(_, s)| s).collect();
            tracing::warn!(abandoned = abandoned.len(), "grace period over; recording in-flight deliveries as abandoned");
            for sending in abandoned {
                let finish = abandoned_finish(&self.config, sending);
                self.finishes.send(Pending { finish, slot: None }).await.ok();
            }
        }
    }
}

/// A request on its way, as the dispatcher remembers it.
struct Sending {
    delivery: ClaimedDelivery,
    started_at: DateTime<Utc>,
    started: Instant,
}

fn abandoned_finish(config: &WorkerConfig, sending: Sending) -> Finish {
    let Sending { delivery, started_at, started } = sending;
    let response = Response {
        started_at,
        duration: started.elapsed(),
        status: None,
        headers: Vec::new(),
        body: Vec::new(),
        body_truncated: false,
        error: Some(ErrorClass::Shutdown),
        error_detail: Some("request abandoned when the worker shut down after its grace period".into()),
        retry_after: None,
    };
    let attempt = attempt_record(&response, attempt_context(config, &delivery));
    Finish { delivery_id: delivery.id, lease_token: delivery.lease_token, next: NextState::RetryAt(Utc::now()), attempt }
}

fn attempt_context<'a>(config: &'a WorkerConfig, delivery: &'a ClaimedDelivery) -> AttemptContext<'a> {
    AttemptContext {
        delivery_id: Some(delivery.id),
        event_id: delivery.event_id,
        event_type: &delivery.event_type,
        webhook_id: Some(delivery.webhook_id),
        url: &delivery.url,
        attempt: delivery.attempt,
        worker: &config.worker_id,
        test: false,
    }
}

fn log_transition(config: &WorkerConfig, webhook_id: Uuid, change: Transition) {
    let cooldown_ms = config.circuit_cooldown.as_millis() as u64;
    match change {
        Transition::Opened => tracing::warn!(
            %webhook_id, cooldown_ms,
            "circuit opened: no more claims for this webhook until the cool-down is over, then one probe at a time"
        ),
        Transition::Reopened => tracing::warn!(%webhook_id, cooldown_ms, "circuit probe failed: open for another cool-down"),
        Transition::Closed => tracing::info!(%webhook_id, "circuit closed: the endpoint answered; claiming as usual"),
        Transition::Paused(pause) => tracing::info!(
            %webhook_id, pause_ms = pause.as_millis() as u64,
            "receiver asked to slow down: no claims for this webhook until the pause is over"
        ),
    }
}

/// One attempt at one delivery: sign, send, and decide what comes next. Also returns what was
/// observed, for the webhook's circuit.
async fn deliver(sender: &Sender, config: &WorkerConfig, delivery: &ClaimedDelivery) -> (Finish, Observed) {
    // During a rotation's grace period the previous secret signs too: two `v1,` signatures.
    let secrets: Vec<SigningSecret> = std::iter::once(&delivery.secret)
        .chain(&delivery.previous_secret)
        .filter_map(|s| SigningSecret::parse(s).ok())
        .collect();
    let response = sender
        .send(Request {
            url: &delivery.url,
            msg_id: &delivery.event_id.to_string(),
            event_type: &delivery.event_type,
            attempt: delivery.attempt,
            body: delivery.payload.as_bytes(),
            secrets: &secrets,
            occurred_at: delivery.occurred_at,
            sequence: Some(delivery.sequence),
            headers: &delivery.headers,
        })
        .await;
    let jitter = rand::random::<f64>() * 2.0 - 1.0;
    let decision = config.schedule.decide(response.observed().verdict(), delivery.schedule_attempt.max(1) as u32, jitter);
    let (next, outcome) = match decision {
        Decision::Delivered => (NextState::Succeeded, Outcome::Delivered),
        Decision::RetryIn(delay) => (NextState::RetryAt(Utc::now() + to_chrono(delay)), Outcome::Retry),
        Decision::Dead => (NextState::Failed, Outcome::Failed),
    };
    instruments::attempt(delivery.webhook_id, outcome, response.duration);
    let attempt = attempt_record(&response, attempt_context(config, delivery));
    (Finish { delivery_id: delivery.id, lease_token: delivery.lease_token, next, attempt }, response.observed())
}

fn to_chrono(delay: Duration) -> chrono::TimeDelta {
    // The schedule caps delays far below this; the bound keeps `now + delay` from overflowing.
    chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::days(3650)).min(chrono::TimeDelta::days(3650))
}
