//! Standard Webhooks secrets and signatures: parsing arbitrary `whsec_` strings, and the
//! sign/verify invariants. The invariants are in `hookd_core::fuzz_harness`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| hookd_core::fuzz_harness::signing(data));
