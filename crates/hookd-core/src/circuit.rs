//! The circuit breaker: one per webhook in each worker process, so a dead endpoint cannot burn
//! the worker pool (README "Endpoint health").
//!
//! ```text
//!            N consecutive failures               cool-down over
//!   Closed ─────────────────────────▶ Open ─────────────────────────▶ HalfOpen
//!     ▲  ▲                             ▲                                 │ │
//!     │  │ a success                   └──────── the probe fails ────────┘ │
//!     │  └──────────────────────────────── the probe succeeds ─────────────┘
//! ```
//!
//! - **Closed**: claims as usual. A success resets the count of consecutive failures.
//! - **Open**: no claims for the webhook until the cool-down is over. A 410 opens it at once
//!   (the webhook is being disabled; nothing more should go out meanwhile).
//! - **HalfOpen**: at most one request in flight (the probe). A success closes the circuit, a
//!   failure opens it again for another cool-down.
//!
//! Apart from the circuit, a receiver that asks to be left alone (429, or 503 with `Retry-After`;
//! see [`Observed::throttle`]) pauses claims for its webhook that long. Throttling is not counted
//! as a failure here: the endpoint is alive and said when to come back.
//!
//! Time is an argument (any ordered instant to which a [`Duration`] can be added), so every
//! transition is unit-tested exactly.

use std::ops::Add;
use std::time::Duration;

use crate::outcome::{EndpointHealth, Observed};

/// Consecutive failures that open a circuit (setting `circuit_failures`).
pub const DEFAULT_FAILURES: u32 = 5;
/// How long an open circuit stays open before a probe (setting `circuit_cooldown`).
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);

/// When circuits open and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CircuitPolicy {
    /// Consecutive failures that open the circuit; 0 turns the breaker off (a 410 still holds
    /// claims back for one cool-down).
    pub failures: u32,
    pub cooldown: Duration,
}

impl Default for CircuitPolicy {
    fn default() -> Self {
        Self { failures: DEFAULT_FAILURES, cooldown: DEFAULT_COOLDOWN }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CircuitState<T> {
    Closed { failures: u32 },
    Open { until: T },
    HalfOpen,
}

/// How many requests to the webhook may be in flight now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allowance {
    /// As many as the per-webhook limit allows.
    Any,
    /// One at most: the half-open probe.
    One,
    /// None: the circuit is open, or the receiver asked for a pause.
    None,
}

/// A change worth telling the operator about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Closed → open after too many consecutive failures (or a 410).
    Opened,
    /// The half-open probe failed: open for another cool-down.
    Reopened,
    /// A success closed an open or half-open circuit.
    Closed,
    /// The receiver asked for a pause of this long.
    Paused(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Circuit<T> {
    state: CircuitState<T>,
    paused_until: Option<T>,
}

impl<T> Default for Circuit<T> {
    fn default() -> Self {
        Self { state: CircuitState::Closed { failures: 0 }, paused_until: None }
    }
}

impl<T: Copy + Ord + Add<Duration, Output = T>> Circuit<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn state(&self) -> CircuitState<T> {
        self.state
    }

    /// How many requests may be in flight at `now`. An open circuit whose cool-down is over turns
    /// half-open here.
    pub fn allowance(&mut self, now: T) -> Allowance {
        if let CircuitState::Open { until } = self.state {
            if now >= until {
                self.state = CircuitState::HalfOpen;
            }
        }
        if self.paused_until.is_some_and(|until| now < until) {
            return Allowance::None;
        }
        match self.state {
            CircuitState::Closed { .. } => Allowance::Any,
            CircuitState::HalfOpen => Allowance::One,
            CircuitState::Open { .. } => Allowance::None,
        }
    }

    /// Takes in the result of one attempt, finished at `now`.
    pub fn record(&mut self, policy: &CircuitPolicy, now: T, observed: &Observed) -> Option<Transition> {
        if let Some(pause) = observed.throttle() {
            let until = now + pause;
            self.paused_until = Some(self.paused_until.map_or(until, |p| p.max(until)));
            return Some(Transition::Paused(pause));
        }
        match observed.endpoint_health() {
            EndpointHealth::Neutral => None,
            EndpointHealth::Healthy => {
                let was_closed = matches!(self.state, CircuitState::Closed { .. });
                self.state = CircuitState::Closed { failures: 0 };
                (!was_closed).then_some(Transition::Closed)
            }
            health => {
                let open = CircuitState::Open { until: now + policy.cooldown };
                match self.state {
                    CircuitState::Closed { failures } => {
                        let failures = failures.saturating_add(1);
                        if health == EndpointHealth::Gone || (policy.failures > 0 && failures >= policy.failures) {
                            self.state = open;
                            Some(Transition::Opened)
                        } else {
                            self.state = CircuitState::Closed { failures };
                            None
                        }
                    }
                    CircuitState::HalfOpen => {
                        self.state = open;
                        Some(Transition::Reopened)
                    }
                    // A request sent before the circuit opened, failing late: already open.
                    CircuitState::Open { .. } => None,
                }
            }
        }
    }

    /// The next instant after `now` at which the allowance may grow (the cool-down or a pause
    /// ends), if any: when to look for work again.
    pub fn wakes_at(&self, now: T) -> Option<T> {
        let open = match self.state {
            CircuitState::Open { until } => Some(until),
            _ => None,
        };
        [open, self.paused_until].into_iter().flatten().filter(|at| *at > now).min()
    }

    /// Closed with no failure counted and no pause ahead: nothing worth remembering.
    pub fn is_idle(&self, now: T) -> bool {
        self.state == CircuitState::Closed { failures: 0 } && self.paused_until.is_none_or(|until| until <= now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::ErrorClass;

    /// Seconds since an arbitrary start: a clock the test controls.
    fn t(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }

    fn status(code: u16) -> Observed {
        Observed { status: Some(code), error: None, retry_after: None }
    }

    fn policy() -> CircuitPolicy {
        CircuitPolicy { failures: 3, cooldown: t(30) }
    }

    #[test]
    fn opens_after_n_consecutive_failures_only() {
        let mut c = Circuit::new();
        assert_eq!(c.record(&policy(), t(0), &status(500)), None);
        assert_eq!(c.record(&policy(), t(0), &status(500)), None);
        assert_eq!(c.record(&policy(), t(0), &status(200)), None, "a success in between resets the count");
        assert_eq!(c.record(&policy(), t(1), &status(500)), None);
        assert_eq!(c.record(&policy(), t(1), &Observed { status: None, error: Some(ErrorClass::Connect), retry_after: None }), None);
        assert_eq!(c.allowance(t(1)), Allowance::Any);
        assert_eq!(c.record(&policy(), t(2), &status(404)), Some(Transition::Opened));
        assert_eq!(c.state(), CircuitState::Open { until: t(32) });
        assert_eq!(c.allowance(t(2)), Allowance::None);
        assert_eq!(c.allowance(t(31)), Allowance::None);
    }

    #[test]
    fn half_open_after_the_cool_down_lets_one_probe_through() {
        let mut c = Circuit::new();
        for _ in 0..3 {
            c.record(&policy(), t(0), &status(500));
        }
        assert_eq!(c.wakes_at(t(0)), Some(t(30)));
        assert_eq!(c.allowance(t(30)), Allowance::One);
        assert_eq!(c.state(), CircuitState::HalfOpen);
        assert_eq!(c.wakes_at(t(30)), None);

        // The probe fails: open for another cool-down from the failure.
        assert_eq!(c.record(&policy(), t(31), &status(503)), Some(Transition::Reopened));
        assert_eq!(c.allowance(t(60)), Allowance::None);
        assert_eq!(c.allowance(t(61)), Allowance::One);

        // The next probe succeeds: closed, claims as usual, and the count starts afresh.
        assert_eq!(c.record(&policy(), t(62), &status(200)), Some(Transition::Closed));
        assert_eq!(c.allowance(t(62)), Allowance::Any);
        assert!(c.is_idle(t(62)));
        c.record(&policy(), t(63), &status(500));
        assert_eq!(c.allowance(t(63)), Allowance::Any, "one failure after closing does not reopen it");
    }

    #[test]
    fn a_late_result_while_open_does_not_extend_the_cool_down_but_a_success_closes_it() {
        let mut c = Circuit::new();
        for _ in 0..3 {
            c.record(&policy(), t(0), &status(500));
        }
        assert_eq!(c.record(&policy(), t(10), &status(500)), None);
        assert_eq!(c.state(), CircuitState::Open { until: t(30) });
        assert_eq!(c.record(&policy(), t(11), &status(200)), Some(Transition::Closed));
        assert_eq!(c.allowance(t(11)), Allowance::Any);
    }

    #[test]
    fn a_410_opens_at_once_even_with_the_breaker_off() {
        let off = CircuitPolicy { failures: 0, cooldown: t(30) };
        let mut c = Circuit::new();
        for _ in 0..100 {
            assert_eq!(c.record(&off, t(0), &status(500)), None, "failures alone never open a switched-off breaker");
        }
        assert_eq!(c.record(&off, t(1), &status(410)), Some(Transition::Opened));
        assert_eq!(c.allowance(t(1)), Allowance::None);
    }

    #[test]
    fn a_throttle_pauses_without_counting_as_a_failure() {
        let mut c = Circuit::new();
        let busy = Observed { status: Some(429), error: None, retry_after: Some(t(5)) };
        for _ in 0..10 {
            assert_eq!(c.record(&policy(), t(0), &busy), Some(Transition::Paused(t(5))));
        }
        assert_eq!(c.state(), CircuitState::Closed { failures: 0 });
        assert_eq!(c.allowance(t(4)), Allowance::None);
        assert_eq!(c.wakes_at(t(4)), Some(t(5)));
        assert_eq!(c.allowance(t(5)), Allowance::Any);
        assert!(c.is_idle(t(5)));

        // A shorter pause does not cut a longer one short.
        c.record(&policy(), t(10), &Observed { status: Some(429), error: None, retry_after: Some(t(20)) });
        c.record(&policy(), t(11), &Observed { status: Some(429), error: None, retry_after: None });
        assert_eq!(c.allowance(t(29)), Allowance::None);
        assert_eq!(c.allowance(t(30)), Allowance::Any);

        // A 503 with Retry-After pauses too; a bare 503 is a failure.
        let mut c = Circuit::new();
        c.record(&policy(), t(0), &Observed { status: Some(503), error: None, retry_after: Some(t(2)) });
        assert_eq!(c.allowance(t(1)), Allowance::None);
        c.record(&policy(), t(3), &status(503));
        assert_eq!(c.state(), CircuitState::Closed { failures: 1 });
    }

    #[test]
    fn a_pause_holds_a_half_open_circuit_too() {
        let mut c = Circuit::new();
        for _ in 0..3 {
            c.record(&policy(), t(0), &status(500));
        }
        assert_eq!(c.allowance(t(30)), Allowance::One);
        c.record(&policy(), t(31), &Observed { status: Some(429), error: None, retry_after: Some(t(4)) });
        assert_eq!(c.allowance(t(33)), Allowance::None);
        assert_eq!(c.allowance(t(35)), Allowance::One, "still half-open: the next probe decides");
    }

    #[test]
    fn shutdown_abandons_say_nothing() {
        let mut c = Circuit::new();
        let abandoned = Observed { status: None, error: Some(ErrorClass::Shutdown), retry_after: None };
        for _ in 0..10 {
            assert_eq!(c.record(&policy(), t(0), &abandoned), None);
        }
        assert!(c.is_idle(t(0)));
    }
}
