//! hookd's end-to-end tests: one binary, real PostgreSQL (a fresh database per test), real HTTP
//! receivers on 127.0.0.1 port 0, the real worker pool in-process or as `hookd` processes.
//! Nothing is mocked; nothing sleeps to synchronise: tests wait on conditions with deadlines.

mod adversarial;
mod api;
mod bench;
mod browser;
mod cli;
mod common;
mod crash;
mod custom_headers;
mod delivery;
mod health;
mod hostile_responses;
mod leases;
mod observability;
mod plans;
mod processes;
mod producer;
mod readme_queries;
mod responses;
mod retention;
mod retry;
mod sealing;
mod signing;
mod tls;
mod urls;
mod vacuum;
