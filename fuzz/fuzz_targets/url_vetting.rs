//! URL parsing and the private-network guard: `parse_webhook_url`, `TargetPolicy::vet_url_literal`
//! and `non_public_reason`, with every spelling of every address. The invariants are in
//! `hookd_core::fuzz_harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hookd_core::fuzz_harness::url_vetting(data));
