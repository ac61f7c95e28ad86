//! The short fuzzing run that is part of `cargo test`, on stable Rust: every file of the committed
//! seed corpus (`fuzz/corpus/<target>/`) through the same invariant checks the cargo-fuzz targets
//! run (`hookd_core::fuzz_harness`), then property tests of the same invariants over generated
//! input, a bounded number of cases each. `cargo fuzz run <target>` (nightly) explores further;
//! see README "Crash safety".

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use hookd_core::fuzz_harness::{self, check_ip, check_secret_text, check_sign_verify, check_url, ipv4_spellings};
use hookd_core::signing::SigningSecret;
use hookd_core::target::{parse_webhook_url, TargetPolicy};
use proptest::prelude::*;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the seed corpus {} is readable: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a directory entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect();
    files.sort();
    files
}

/// Runs `harness` on every corpus file of `target`, naming the file that broke an invariant.
fn run_corpus(target: &str, harness: fn(&[u8])) -> usize {
    let files = corpus(target);
    for (path, bytes) in &files {
        if let Err(panic) = std::panic::catch_unwind(|| harness(bytes)) {
            let why = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
            panic!("{} broke an invariant: {}", path.display(), why.unwrap_or_default());
        }
    }
    files.len()
}

#[test]
fn the_url_vetting_corpus_holds_every_invariant() {
    let n = run_corpus("url_vetting", fuzz_harness::url_vetting);
    assert!(n >= 50, "the seed corpus has {n} files");
}

#[test]
fn the_signing_corpus_holds_every_invariant() {
    let n = run_corpus("signing", fuzz_harness::signing);
    assert!(n >= 15, "the seed corpus has {n} files");
}

/// The corpus is there to keep these refused: each seed that names a non-public address is
/// refused by the default policy (the harness checks the verdict matches the classification;
/// this checks the seeds still mean what they were written for).
#[test]
fn the_corpus_seeds_for_refused_addresses_are_refused() {
    let mut refused = 0;
    for (path, bytes) in corpus("url_vetting") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("refused-") {
            continue;
        }
        let raw = String::from_utf8(bytes).expect("UTF-8 seed");
        let url = parse_webhook_url(&raw).unwrap_or_else(|e| panic!("{name}: {raw:?} parses: {e}"));
        assert!(TargetPolicy::default().vet_url_literal(&url).is_err(), "{name}: {raw:?} ({url}) is refused");
        refused += 1;
    }
    assert!(refused >= 30, "{refused} refused-* seeds");
}

#[test]
fn every_spelling_of_the_metadata_and_loopback_addresses_is_refused() {
    for ip in [Ipv4Addr::new(169, 254, 169, 254), Ipv4Addr::LOCALHOST, Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::UNSPECIFIED] {
        let spellings = ipv4_spellings(ip);
        assert!(spellings.len() >= 20);
        for (spelling, _) in spellings {
            let url = parse_webhook_url(&format!("http://{spelling}/")).unwrap();
            assert!(TargetPolicy::default().vet_url_literal(&url).is_err(), "{ip} spelled {spelling} ({url})");
        }
        check_ip(IpAddr::V4(ip));
    }
}

/// The signature matches an independent Standard Webhooks implementation's, byte for byte.
fn matches_the_reference(key: &[u8], msg_id: &str, timestamp: i64, body: &str) {
    let ours = SigningSecret::parse(&format!("whsec_{}", base64_encode(key))).unwrap().sign(msg_id, timestamp, body.as_bytes());
    let reference = standardwebhooks::Webhook::from_bytes(key.to_vec()).unwrap().sign(msg_id, timestamp, body.as_bytes()).unwrap();
    assert_eq!(ours, reference);
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Odd IPv4 spellings: digits, `0x`, leading zeros and dots, in up to four parts.
fn odd_ipv4_host() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        (0u32..=0xffff_ffff).prop_map(|n| n.to_string()),
        (0u32..=0xffff_ffff).prop_map(|n| format!("0x{n:x}")),
        (0u32..=0xffff_ffff).prop_map(|n| format!("0{n:o}")),
        (0u32..=255).prop_map(|n| n.to_string()),
        (0u32..=255).prop_map(|n| format!("0x{n:02X}")),
        (0u32..=255).prop_map(|n| format!("0{n:o}")),
    ];
    (prop::collection::vec(part, 1..=4), any::<bool>()).prop_map(|(parts, dot)| {
        let mut host = parts.join(".");
        if dot {
            host.push('.');
        }
        host
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_break_url_vetting(data in prop::collection::vec(any::<u8>(), 0..300)) {
        fuzz_harness::url_vetting(&data);
    }

    #[test]
    fn url_shaped_strings_never_break_url_vetting(
        raw in r"\s{0,2}(?i:https?|ftp|javascript)://([a-z0-9._~%-]{0,12}@)?(\[[0-9a-fA-F:.]{0,40}\]|[a-zA-Z0-9.%\u{FF10}-\u{FF19}\u{FF0E}ü-]{0,30})(:[0-9]{0,6})?(/[ -~]{0,20})?\s{0,2}"
    ) {
        check_url(&raw);
    }

    #[test]
    fn odd_ipv4_spellings_are_vetted_as_the_address_they_reach(host in odd_ipv4_host()) {
        check_url(&format!("http://{host}/"));
    }

    #[test]
    fn every_ipv4_address_has_one_verdict_in_every_spelling(n in any::<u32>()) {
        check_ip(IpAddr::V4(Ipv4Addr::from(n)));
    }

    #[test]
    fn every_ipv6_address_has_one_verdict_in_every_spelling(
        octets in any::<[u8; 16]>(),
        prefix in prop_oneof![Just(None), Just(Some([0u8; 12])), Just(Some([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff])),
                              Just(Some([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0])), Just(Some([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
                              Just(Some([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))],
    ) {
        // Most random addresses are public; the prefixes steer some into the special ranges.
        let mut octets = octets;
        if let Some(prefix) = prefix {
            octets[..12].copy_from_slice(&prefix);
        }
        check_ip(IpAddr::V6(Ipv6Addr::from(octets)));
    }

    #[test]
    fn arbitrary_bytes_never_break_signing(data in prop::collection::vec(any::<u8>(), 0..300)) {
        fuzz_harness::signing(&data);
    }

    #[test]
    fn whsec_strings_parse_only_in_canonical_form(raw in r"whsec_[A-Za-z0-9+/=\- _]{0,100}") {
        check_secret_text(&raw);
    }

    #[test]
    fn sign_then_verify_round_trips(
        key in prop::collection::vec(any::<u8>(), 24..=64),
        msg_id in r"[ -~]{0,40}",
        timestamp in any::<i64>(),
        body in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        check_sign_verify(&key, &msg_id, timestamp, &body);
    }

    #[test]
    fn signatures_match_an_independent_implementation(
        key in prop::collection::vec(any::<u8>(), 24..=64),
        msg_id in r"[ -~]{0,40}",
        timestamp in any::<i64>(),
        body in r"\PC{0,100}",
    ) {
        matches_the_reference(&key, &msg_id, timestamp, &body);
    }
}
