//! hookd's vocabulary and every decision that needs no I/O.
//!
//! Nothing here touches the network, the database or the clock: time and randomness come in as
//! arguments, so every rule is unit-tested exactly.
//!
//! Layout, in the order a delivery meets them:
//! - [`event_type`]: what a valid event type slug is.
//! - [`webhook`]: the admin's input for a webhook (name, URL, events), validated field by field.
//! - [`headers`]: a webhook's custom headers: names, values, and the reserved ones.
//! - [`target`]: URL parsing and the address classification behind the private-network guard.
//! - [`signing`]: Standard Webhooks secrets and signatures.
//! - [`sealing`]: encryption of those secrets at rest.
//! - [`outcome`]: what an attempt's result means (delivered, retry, give up) and its error class.
//! - [`schedule`]: the retry schedule: when the next attempt is due, or that there is none.
//! - [`circuit`]: the per-webhook circuit breaker (and pause on 429): when to stop claiming.
//! - [`rate`]: a webhook's optional rate limit (`max_rps`).

pub mod circuit;
pub mod event_type;
/// Invariant checks shared by the fuzz targets (`fuzz/`) and `tests/fuzz_corpus.rs`; not an API.
#[doc(hidden)]
pub mod fuzz_harness;
pub mod headers;
pub mod outcome;
pub mod rate;
pub mod schedule;
pub mod sealing;
pub mod signing;
pub mod target;
pub mod webhook;
