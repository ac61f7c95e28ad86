//! Test helpers shared by hookd's integration tests. Real parts only: a real PostgreSQL database
//! (a fresh one per test), real HTTP receivers on 127.0.0.1 port 0 that follow a script, and the
//! real worker pool.
//!
//! - [`db`]: [`db::TestDb`], a freshly created and migrated database, dropped afterwards.
//! - [`receiver`]: [`receiver::Receiver`], an HTTP server that records every request and answers
//!   as its script says (status, headers, body, delay, trickle, endless).
//! - [`worker`]: an in-process worker pool with test-friendly timings.
//! - [`api`]: the admin API and page, in-process on a loopback port of its own.
//! - [`wait`]: waiting on a condition with a deadline, never a bare sleep.

pub mod api;
pub mod db;
pub mod receiver;
pub mod wait;
pub mod worker;

pub use db::TestDb;
pub use receiver::{Receiver, Reply};
pub use wait::wait_until;
