//! Dispatcher: sends claimed deliveries within two limits (a global number of slots, and a
//! per-webhook number so one slow receiver cannot take them all), and turns each result into the
//! delivery's next state by the retry schedule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use hookd_core::schedule::Decision;
use hookd_core::signing::SigningSecret;
use hookd_send::{Request, Sender};
use hookd_store::delivery::{ClaimedDelivery, Finish, NextState};
use hookd_store::Store;
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::recorder::{attempt_record, AttemptContext};
use crate::WorkerConfig;

pub struct Dispatcher {
    store: Store,
    sender: Sender,
    config: Arc<WorkerConfig>,
    finishes: mpsc::Sender<Finish>,
    slots: Arc<Semaphore>,
    webhook_slots: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
    /// Requests in flight, with the leases to release if they must be abandoned at shutdown.
    in_flight: JoinSet<()>,
    leases: Arc<Mutex<HashMap<i64, i64>>>,
}

impl Dispatcher {
    pub fn new(store: Store, sender: Sender, config: Arc<WorkerConfig>, finishes: mpsc::Sender<Finish>) -> Self {
        Self {
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

    /// Webhooks with no free slot here: the claimer leaves their deliveries for later or for
    /// another worker. Idle webhooks' semaphores are forgotten on the way.
    pub fn saturated_webhooks(&self) -> Vec<Uuid> {
        let cap = self.config.per_webhook_concurrency;
        let mut map = self.webhook_slots.lock().expect("not poisoned");
        map.retain(|_, sem| sem.available_permits() < cap);
        map.iter().filter(|(_, sem)| sem.available_permits() == 0).map(|(id, _)| *id).collect()
    }

    fn webhook_slot(&self, webhook: Uuid) -> Option<OwnedSemaphorePermit> {
        let mut map = self.webhook_slots.lock().expect("not poisoned");
        let cap = self.config.per_webhook_concurrency;
        map.entry(webhook).or_insert_with(|| Arc::new(Semaphore::new(cap))).clone().try_acquire_owned().ok()
    }

    /// Starts a send for each claimed delivery, one slot each; deliveries whose webhook is at its
    /// limit go straight back to the queue, unattempted.
    pub async fn dispatch(&mut self, claimed: Vec<ClaimedDelivery>, slots: Vec<OwnedSemaphorePermit>) {
        let mut handed_back = Vec::new();
        for (delivery, slot) in claimed.into_iter().zip(slots) {
            let Some(webhook_slot) = self.webhook_slot(delivery.webhook_id) else {
                handed_back.push((delivery.id, delivery.lease_token));
                continue;
            };
            self.leases.lock().expect("not poisoned").insert(delivery.id, delivery.lease_token);
            let (sender, finishes, leases, config) =
                (self.sender.clone(), self.finishes.clone(), self.leases.clone(), self.config.clone());
            self.in_flight.spawn(async move {
                let finish = deliver(&sender, &config, &delivery).await;
                drop(webhook_slot);
                // Holding the slot until the recorder accepts the finish is the back-pressure
                // that keeps claims from outrunning the recorder.
                finishes.send(finish).await.ok();
                leases.lock().expect("not poisoned").remove(&delivery.id);
                drop(slot);
            });
        }
        if !handed_back.is_empty() {
            if let Err(e) = self.store.delivery_release_many(&handed_back).await {
                tracing::warn!(error = %e, "could not hand back deliveries; their leases will expire");
            }
        }
        while self.in_flight.try_join_next().is_some() {}
    }

    /// Waits up to the grace period for requests in flight, then abandons the rest and releases
    /// their leases so another worker can take them at once.
    pub async fn shutdown(mut self) {
        let drained = tokio::time::timeout(self.config.shutdown_grace, async {
            while self.in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            self.in_flight.shutdown().await;
            let leases: Vec<(i64, i64)> = self.leases.lock().expect("not poisoned").drain().collect();
            tracing::warn!(abandoned = leases.len(), "grace period over; releasing in-flight deliveries");
            if let Err(e) = self.store.delivery_release_many(&leases).await {
                tracing::warn!(error = %e, "could not release leases; they will expire");
            }
        }
    }
}

/// One attempt at one delivery: sign, send, and decide what comes next.
async fn deliver(sender: &Sender, config: &WorkerConfig, delivery: &ClaimedDelivery) -> Finish {
    let secrets: Vec<SigningSecret> = SigningSecret::parse(&delivery.secret).into_iter().collect();
    let response = sender
        .send(Request {
            url: &delivery.url,
            msg_id: &delivery.event_id.to_string(),
            event_type: &delivery.event_type,
            attempt: delivery.attempt,
            body: delivery.payload.as_bytes(),
            secrets: &secrets,
        })
        .await;
    let jitter = rand::random::<f64>() * 2.0 - 1.0;
    let decision = config.schedule.decide(response.observed().verdict(), delivery.schedule_attempt.max(1) as u32, jitter);
    let next = match decision {
        Decision::Delivered => NextState::Succeeded,
        Decision::RetryIn(delay) => NextState::RetryAt(Utc::now() + to_chrono(delay)),
        Decision::Dead => NextState::Failed,
    };
    let worker = config.worker_id.as_str();
    let attempt = attempt_record(
        &response,
        AttemptContext {
            delivery_id: Some(delivery.id),
            event_id: delivery.event_id,
            event_type: &delivery.event_type,
            webhook_id: Some(delivery.webhook_id),
            url: &delivery.url,
            attempt: delivery.attempt,
            worker,
            test: false,
        },
    );
    Finish { delivery_id: delivery.id, lease_token: delivery.lease_token, next, attempt }
}

fn to_chrono(delay: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::MAX)
}
