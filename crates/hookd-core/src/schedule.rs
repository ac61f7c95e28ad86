//! The retry schedule: a list of delays between attempts, with jitter, honouring Retry-After.
//!
//! `1s,1s` means three attempts in all: the first, then one after about a second, then another.
//! Jitter spreads retries of a burst of failures so they do not all land on a recovering receiver
//! in the same instant; the random draw is an argument, so the schedule is exact under test.

use std::fmt;
use std::time::Duration;

use crate::outcome::Verdict;

pub const DEFAULT_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,10h";

/// Each delay is moved by up to this fraction, up or down.
pub const JITTER: f64 = 0.2;

/// The longest delay accepted: a retry further away than this is a typo, not a policy.
pub const MAX_DELAY: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("retry schedule item {item:?} is not a duration like 5s, 30m or 2h: {reason}")]
pub struct ScheduleError {
    pub item: String,
    pub reason: String,
}

impl RetrySchedule {
    /// Parses `5s,5m,2h`; an empty string means no retries at all.
    pub fn parse(spec: &str) -> Result<Self, ScheduleError> {
        let delays = spec
            .split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let delay = humantime::parse_duration(item)
                    .map_err(|e| ScheduleError { item: item.to_owned(), reason: e.to_string() })?;
                if delay > MAX_DELAY {
                    return Err(ScheduleError { item: item.to_owned(), reason: "longer than 30 days".into() });
                }
                Ok(delay)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { delays })
    }

    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// First attempt plus one per delay.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32 + 1
    }

    pub fn largest_delay(&self) -> Duration {
        self.delays.iter().copied().max().unwrap_or(Duration::ZERO)
    }

    /// How long to wait after attempt number `attempts_made` (1 = the first attempt) failed, or
    /// `None` when the schedule is exhausted.
    ///
    /// `jitter` is a uniform draw from -1.0..=1.0 (clamped). A receiver's `retry_after` pushes the
    /// retry later, never earlier, and is capped at the largest delay so a hostile receiver cannot
    /// park a delivery for a year.
    pub fn next_delay(&self, attempts_made: u32, retry_after: Option<Duration>, jitter: f64) -> Option<Duration> {
        let base = *self.delays.get(attempts_made.checked_sub(1)? as usize)?;
        let jittered = base.mul_f64(1.0 + JITTER * jitter.clamp(-1.0, 1.0));
        let wish = retry_after.map(|d| d.min(self.largest_delay())).unwrap_or(Duration::ZERO);
        Some(jittered.max(wish))
    }
}

/// What becomes of a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Delivered,
    RetryIn(Duration),
    /// Terminal: a permanent failure, or the schedule is exhausted. Kept for replay.
    Dead,
}

impl RetrySchedule {
    /// Combines an attempt's verdict with the schedule. `attempts_made` counts this attempt.
    pub fn decide(&self, verdict: Verdict, attempts_made: u32, jitter: f64) -> Decision {
        match verdict {
            Verdict::Delivered => Decision::Delivered,
            Verdict::GiveUp => Decision::Dead,
            Verdict::Retry { not_before } => match self.next_delay(attempts_made, not_before, jitter) {
                Some(delay) => Decision::RetryIn(delay),
                None => Decision::Dead,
            },
        }
    }
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self::parse(DEFAULT_SCHEDULE).expect("the default schedule parses")
    }
}

impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<_> = self.delays.iter().map(|d| humantime::format_duration(*d).to_string()).collect();
        f.write_str(&items.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn default_is_the_documented_schedule() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.delays(), &[S(5), S(300), S(1800), S(7200), S(18000), S(36000), S(36000)]);
        assert_eq!(schedule.max_attempts(), 8);
    }

    #[test]
    fn one_s_one_s_means_three_attempts() {
        let schedule = RetrySchedule::parse("1s, 1s").unwrap();
        assert_eq!(schedule.max_attempts(), 3);
        assert_eq!(schedule.next_delay(1, None, 0.0), Some(S(1)));
        assert_eq!(schedule.next_delay(2, None, 0.0), Some(S(1)));
        assert_eq!(schedule.next_delay(3, None, 0.0), None);
    }

    #[test]
    fn empty_schedule_means_a_single_attempt() {
        let schedule = RetrySchedule::parse("").unwrap();
        assert_eq!(schedule.max_attempts(), 1);
        assert_eq!(schedule.next_delay(1, None, 0.0), None);
    }

    #[test]
    fn bad_items_are_named() {
        let err = RetrySchedule::parse("5s,five minutes").unwrap_err();
        assert_eq!(err.item, "five minutes");
    }

    #[test]
    fn absurd_delays_are_refused() {
        assert_eq!(RetrySchedule::parse("5s,1000000y").unwrap_err().item, "1000000y");
        assert!(RetrySchedule::parse("30days").is_ok());
    }

    #[test]
    fn jitter_moves_at_most_twenty_percent() {
        let schedule = RetrySchedule::parse("10s").unwrap();
        assert_eq!(schedule.next_delay(1, None, 1.0), Some(S(12)));
        assert_eq!(schedule.next_delay(1, None, -1.0), Some(S(8)));
        assert_eq!(schedule.next_delay(1, None, 7.0), Some(S(12)));
    }

    #[test]
    fn retry_after_delays_but_is_capped_at_the_largest_delay() {
        let schedule = RetrySchedule::parse("1s,1m").unwrap();
        assert_eq!(schedule.next_delay(1, Some(S(30)), 0.0), Some(S(30)));
        assert_eq!(schedule.next_delay(1, Some(S(86_400)), 0.0), Some(S(60)));
        assert_eq!(schedule.next_delay(2, Some(S(1)), 0.0), Some(S(60)));
    }

    #[test]
    fn decide_combines_verdict_and_schedule() {
        let schedule = RetrySchedule::parse("1s,1s").unwrap();
        let retry = Verdict::Retry { not_before: None };
        assert_eq!(schedule.decide(Verdict::Delivered, 1, 0.0), Decision::Delivered);
        assert_eq!(schedule.decide(Verdict::GiveUp, 1, 0.0), Decision::Dead);
        assert_eq!(schedule.decide(retry, 1, 0.0), Decision::RetryIn(S(1)));
        assert_eq!(schedule.decide(retry, 2, 0.0), Decision::RetryIn(S(1)));
        assert_eq!(schedule.decide(retry, 3, 0.0), Decision::Dead);
    }

    proptest! {
        #[test]
        fn delay_stays_within_jitter_bounds_or_retry_after(
            secs in 1u64..100_000, jitter in -1.0f64..=1.0, wish in proptest::option::of(0u64..200_000),
        ) {
            let schedule = RetrySchedule::parse(&format!("{secs}s")).unwrap();
            let delay = schedule.next_delay(1, wish.map(S), jitter).unwrap();
            let low = S(secs).mul_f64(0.8);
            let high = S(secs).mul_f64(1.2).max(wish.map(S).unwrap_or_default().min(S(secs)));
            prop_assert!(delay >= low && delay <= high, "{delay:?} not in {low:?}..={high:?}");
            if let Some(w) = wish { prop_assert!(delay >= S(w).min(S(secs))); }
        }
    }
}
