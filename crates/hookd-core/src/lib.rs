//! hookd's vocabulary and every decision that needs no I/O.
//!
//! Nothing here touches the network, the database or the clock: time and randomness come in as
//! arguments, so every rule is unit-tested exactly.
//!
//! Layout, in the order a delivery meets them:
//! - [`event_type`]: what a valid event type slug is.
//! - [`webhook`]: the admin's input for a webhook (name, URL, events), validated field by field.
//! - [`target`]: URL parsing and the address classification behind the private-network guard.
//! - [`signing`]: Standard Webhooks secrets and signatures.
//! - [`sealing`]: encryption of those secrets at rest.
//! - [`outcome`]: what an attempt's result means (delivered, retry, give up) and its error class.
//! - [`schedule`]: the retry schedule: when the next attempt is due, or that there is none.

pub mod event_type;
pub mod outcome;
pub mod schedule;
pub mod sealing;
pub mod signing;
pub mod target;
pub mod webhook;
