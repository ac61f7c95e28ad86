//! Endpoints: what this process knows right now about each webhook's endpoint, so a dead or busy
//! one cannot burn the worker pool (README "Endpoint health"):
//!
//! - its circuit ([`hookd_core::circuit`]): open after too many consecutive failures (no claims
//!   for the cool-down), then half-open (one request in flight, the probe), closed by a success;
//!   paused after a 429 (or a 503 with `Retry-After`) for as long as the receiver asked;
//! - its rate limit (`max_rps`, learnt from the claims): a token bucket ([`governor`]) that spaces
//!   the requests evenly.
//!
//! Both act before the claim: [`Endpoints::hold_back`] tells the claim how many of a webhook's
//! deliveries it may take (none while the circuit is open or the bucket is empty), reserving that
//! many tokens; [`Endpoints::admit`] spends them as the claimed deliveries are dispatched. A
//! delivery claimed beyond the rate (the first claim of a webhook whose limit was not known yet)
//! is handed back unattempted. [`Endpoints::next_wake`] says when a held-back webhook may be
//! claimed again, so the claimer looks then rather than at its next poll.
//!
//! Per process: with several `hookd serve` processes each keeps its own circuits and buckets, so
//! a webhook may get `max_rps` requests per second from each.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Instant;

use governor::clock::MonotonicClock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use hookd_core::circuit::{Allowance, Circuit, CircuitPolicy, Transition};
use hookd_core::outcome::Observed;
use uuid::Uuid;

type Bucket = RateLimiter<NotKeyed, InMemoryState, MonotonicClock, NoOpMiddleware<Instant>>;

pub struct Endpoints {
    policy: CircuitPolicy,
    map: Mutex<HashMap<Uuid, Endpoint>>,
}

#[derive(Default)]
struct Endpoint {
    circuit: Circuit<Instant>,
    limit: Option<Limit>,
}

struct Limit {
    max_rps: u32,
    bucket: Bucket,
    /// Tokens reserved for the claim under way, and how many of them dispatch has spent.
    reserved: u32,
    spent: u32,
    /// The bucket ran dry at the last reservation: when the next token comes.
    ready_at: Option<Instant>,
    /// Whether the last claim wanted more than the bucket gave (it took every reserved token, or
    /// a delivery was handed back): then the claimer wakes for the next token.
    hungry: bool,
    denied: bool,
}

impl Limit {
    fn new(max_rps: u32) -> Self {
        let rate = NonZeroU32::new(max_rps.max(1)).expect("at least 1");
        let burst = NonZeroU32::new(hookd_core::rate::burst(max_rps)).expect("at least 1");
        let bucket = RateLimiter::direct_with_clock(Quota::per_second(rate).allow_burst(burst), MonotonicClock);
        Self { max_rps, bucket, reserved: 0, spent: 0, ready_at: None, hungry: false, denied: false }
    }

    /// Takes up to `max` tokens now; returns how many it got.
    fn reserve(&mut self, max: u32) -> u32 {
        self.reserved = 0;
        self.spent = 0;
        self.ready_at = None;
        while self.reserved < max {
            match self.bucket.check() {
                Ok(()) => self.reserved += 1,
                Err(not_until) => {
                    self.ready_at = Some(not_until.earliest_possible());
                    break;
                }
            }
        }
        self.reserved
    }

    /// One request may go now: a reserved token, or a fresh one.
    fn take(&mut self) -> bool {
        if self.spent < self.reserved {
            self.spent += 1;
            return true;
        }
        match self.bucket.check() {
            Ok(()) => true,
            Err(not_until) => {
                self.ready_at = Some(not_until.earliest_possible());
                self.denied = true;
                false
            }
        }
    }
}

impl Endpoints {
    pub fn new(policy: CircuitPolicy) -> Self {
        Self { policy, map: Mutex::default() }
    }

    /// Before a claim: raises the in-flight figure of every webhook held back so the claim takes
    /// no more of its deliveries than its circuit and rate limit allow (`per_webhook` means
    /// none), and reserves rate-limit tokens for what it may take. Forgets endpoints with nothing
    /// to remember.
    pub fn hold_back(&self, in_flight: &mut HashMap<Uuid, i64>, per_webhook: i64, now: Instant) {
        let mut map = self.map.lock().expect("not poisoned");
        for (id, endpoint) in map.iter_mut() {
            let busy = in_flight.get(id).copied().unwrap_or(0);
            let free = (per_webhook - busy).max(0);
            let mut allowed = match endpoint.circuit.allowance(now) {
                Allowance::Any => free,
                Allowance::One => free.min((1 - busy).max(0)),
                Allowance::None => 0,
            };
            if let Some(limit) = &mut endpoint.limit {
                allowed = if allowed > 0 { i64::from(limit.reserve(allowed.min(i64::from(u32::MAX)) as u32)) } else { 0 };
            }
            if allowed < free {
                in_flight.insert(*id, per_webhook - allowed);
            }
        }
        map.retain(|_, endpoint| endpoint.limit.is_some() || !endpoint.circuit.is_idle(now));
    }

    /// At dispatch: whether this claimed delivery may be sent now as far as the webhook's rate
    /// limit goes (learning the limit from the claim: `max_rps` as the webhook has it now).
    pub fn admit(&self, webhook: Uuid, max_rps: Option<i32>) -> bool {
        let mut map = self.map.lock().expect("not poisoned");
        let max_rps = max_rps.and_then(|n| u32::try_from(n).ok()).filter(|n| *n > 0);
        let Some(max_rps) = max_rps else {
            if let Some(endpoint) = map.get_mut(&webhook) {
                endpoint.limit = None;
            }
            return true;
        };
        let endpoint = map.entry(webhook).or_default();
        if endpoint.limit.as_ref().is_none_or(|l| l.max_rps != max_rps) {
            endpoint.limit = Some(Limit::new(max_rps));
        }
        endpoint.limit.as_mut().expect("just set").take()
    }

    /// After dispatching a claim: notes which rate-limited webhooks wanted more than they got.
    pub fn claim_dispatched(&self) {
        let mut map = self.map.lock().expect("not poisoned");
        for limit in map.values_mut().filter_map(|e| e.limit.as_mut()) {
            // Wanted more than it got: it spent every reserved token, was refused one at dispatch,
            // or found the bucket dry before the claim. The claimer then wakes for the next token.
            let dry = limit.reserved == 0 && limit.ready_at.is_some();
            limit.hungry = limit.denied || dry || (limit.reserved > 0 && limit.spent >= limit.reserved);
            limit.denied = false;
            limit.reserved = 0;
            limit.spent = 0;
        }
    }

    /// Takes in the result of one attempt at the webhook's endpoint.
    pub fn record(&self, webhook: Uuid, observed: &Observed, now: Instant) -> Option<Transition> {
        let mut map = self.map.lock().expect("not poisoned");
        map.entry(webhook).or_default().circuit.record(&self.policy, now, observed)
    }

    /// The next instant after `now` at which a held-back webhook may be claimed again: a
    /// cool-down or a pause ends, or a token comes for a webhook that wanted more.
    pub fn next_wake(&self, now: Instant) -> Option<Instant> {
        let map = self.map.lock().expect("not poisoned");
        map.values()
            .flat_map(|e| {
                let token = e.limit.as_ref().filter(|l| l.hungry).and_then(|l| l.ready_at);
                [e.circuit.wakes_at(now), token]
            })
            .flatten()
            .filter(|at| *at > now)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn failure() -> Observed {
        Observed { status: Some(500), error: None, retry_after: None }
    }

    fn held(endpoints: &Endpoints, busy: &[(Uuid, i64)], now: Instant) -> HashMap<Uuid, i64> {
        let mut in_flight: HashMap<Uuid, i64> = busy.iter().copied().collect();
        endpoints.hold_back(&mut in_flight, 8, now);
        in_flight
    }

    #[test]
    fn an_open_circuit_reports_its_webhook_full_then_lets_one_probe_through() {
        let endpoints = Endpoints::new(CircuitPolicy { failures: 2, cooldown: Duration::from_secs(10) });
        let (dead, fine) = (Uuid::new_v4(), Uuid::new_v4());
        let t0 = Instant::now();
        endpoints.record(dead, &failure(), t0);
        assert_eq!(held(&endpoints, &[], t0).get(&dead), None, "one failure holds nothing back");
        assert_eq!(endpoints.record(dead, &failure(), t0), Some(Transition::Opened));
        let in_flight = held(&endpoints, &[(fine, 3)], t0);
        assert_eq!(in_flight.get(&dead), Some(&8), "open: as if full");
        assert_eq!(in_flight.get(&fine), Some(&3), "other webhooks untouched");
        assert_eq!(endpoints.next_wake(t0), Some(t0 + Duration::from_secs(10)));

        let later = t0 + Duration::from_secs(10);
        assert_eq!(held(&endpoints, &[], later).get(&dead), Some(&7), "half-open: one may be claimed");
        assert_eq!(held(&endpoints, &[(dead, 1)], later).get(&dead), Some(&8), "and only while none is in flight");
    }

    #[test]
    fn a_rate_limited_webhook_is_claimed_only_as_far_as_its_tokens_go() {
        let endpoints = Endpoints::new(CircuitPolicy::default());
        let slow = Uuid::new_v4();
        let now = Instant::now();
        // The first claim learns the limit: 2 per second, a burst of 1.
        assert!(endpoints.admit(slow, Some(2)), "the first token is there");
        assert!(!endpoints.admit(slow, Some(2)), "the second is half a second away: handed back");
        endpoints.claim_dispatched();
        let wake = endpoints.next_wake(now).expect("wakes for the next token");
        assert!(wake > now && wake <= now + Duration::from_millis(600), "{wake:?}");
        assert_eq!(held(&endpoints, &[], Instant::now()).get(&slow), Some(&8), "no token: not claimed");

        // Once a token is there the claim may take one, no more.
        std::thread::sleep(Duration::from_millis(520));
        assert_eq!(held(&endpoints, &[], Instant::now()).get(&slow), Some(&7));
        assert!(endpoints.admit(slow, Some(2)), "the reserved token is spent by the claimed delivery");
        endpoints.claim_dispatched();

        // The limit removed: nothing held back any more.
        assert!(endpoints.admit(slow, None));
        assert_eq!(held(&endpoints, &[], Instant::now()).get(&slow), None);
    }
}
