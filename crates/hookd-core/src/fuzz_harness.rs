//! Invariant checks for fuzzing the URL vetting and the signing code: the one copy shared by the
//! cargo-fuzz targets (`fuzz/fuzz_targets/`) and the stable-Rust corpus and property tests
//! (`crates/hookd-core/tests/fuzz_corpus.rs`). Test-only: nothing in hookd calls it.
//!
//! Every function takes arbitrary input and panics when an invariant breaks; not panicking on any
//! input is itself the first invariant.
//!
//! URL vetting ([`url_vetting`], [`check_url`], [`check_ip`]):
//! - a URL that parses is absolute http(s) with a host and no credentials, within the length
//!   limit, and parses again to itself from its own serialisation;
//! - the default policy refuses exactly the IP literals [`non_public_reason`] names, with that
//!   reason; `allow_private` allows everything; an allow-list only ever opens the guard, and only
//!   for addresses inside it;
//! - an address gets the same verdict under every spelling that reaches it (decimal, octal, hex
//!   and short IPv4 forms, trailing dot, percent-encoding, full-width digits, IPv4-mapped,
//!   -compatible, NAT64 and 6to4 IPv6, uncompressed and upper-case IPv6): a refused address stays
//!   refused however it is written.
//!
//! Signing ([`signing`], [`check_secret_text`], [`check_sign_verify`]):
//! - a `whsec_` string parses only when it is the canonical encoding of a 24 to 64 byte key, and
//!   then prints back to exactly itself; `Debug` never shows it;
//! - a signature is `v1,` + base64 of 32 bytes, deterministic, verifies with its secret, and stops
//!   verifying when the id, the timestamp, the body or the secret changes; a two-secret header (a
//!   rotation) verifies with either secret.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ipnet::IpNet;
use url::Host;

use crate::signing::{signature_header, SigningSecret, SECRET_PREFIX};
use crate::target::{non_public_reason, parse_webhook_url, TargetPolicy, UrlError, MAX_URL_LEN};

// --- URL vetting ------------------------------------------------------------------------------

/// The fuzz entry point for URL vetting: the input as a URL, and as the host of one.
pub fn url_vetting(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_url(&text);
    check_url(&format!("http://{}/", text.trim()));
    // The raw bytes as an address, so the classification itself is fuzzed over every address.
    if let Ok(octets) = <[u8; 4]>::try_from(data.get(..4).unwrap_or_default()) {
        check_ip(IpAddr::V4(Ipv4Addr::from(octets)));
    }
    if let Ok(octets) = <[u8; 16]>::try_from(data.get(..16).unwrap_or_default()) {
        check_ip(IpAddr::V6(Ipv6Addr::from(octets)));
    }
}

/// The policies every URL is vetted under: the default (public only), everything allowed, and an
/// allow-list of two private networks.
fn policies() -> (TargetPolicy, TargetPolicy, TargetPolicy) {
    let list: Vec<IpNet> = ["127.0.0.0/8", "10.20.0.0/16", "fd00:1::/32"].iter().map(|n| n.parse().unwrap()).collect();
    (TargetPolicy::default(), TargetPolicy::allow_all(), TargetPolicy { allow_private: false, allowed_networks: list })
}

/// Parses `raw` as a webhook URL and checks everything that must hold of the result.
pub fn check_url(raw: &str) {
    let url = match parse_webhook_url(raw) {
        Ok(url) => url,
        Err(err) => {
            let message = err.to_string();
            assert!(message.starts_with("url "), "an error names the field: {message}");
            match err {
                UrlError::Empty => assert!(raw.trim().is_empty()),
                UrlError::TooLong => assert!(raw.trim().len() > MAX_URL_LEN),
                _ => assert!(!raw.trim().is_empty() && raw.trim().len() <= MAX_URL_LEN),
            }
            return;
        }
    };
    assert!(matches!(url.scheme(), "http" | "https"), "{raw:?} parsed with scheme {}", url.scheme());
    assert!(url.host().is_some(), "{raw:?} parsed without a host");
    assert!(url.username().is_empty() && url.password().is_none(), "{raw:?} parsed with credentials");
    assert!(raw.trim().len() <= MAX_URL_LEN);
    if url.as_str().len() <= MAX_URL_LEN {
        assert_eq!(parse_webhook_url(url.as_str()).as_ref(), Ok(&url), "{raw:?} does not re-parse to itself");
    }

    let (default, all, listed) = policies();
    assert!(all.vet_url_literal(&url).is_ok(), "allow_private allows {url}");
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        _ => None,
    };
    match ip {
        None => {
            // A host name is vetted when it resolves, never before.
            assert!(default.vet_url_literal(&url).is_ok() && listed.vet_url_literal(&url).is_ok());
            // ... so it must not be something a resolver would take for an address. The WHATWG
            // parser turns every IPv4 spelling it knows into an address; what is left must not
            // end in a number (the spec's rule), or getaddrinfo might read it as one.
            let host = url.host_str().unwrap_or_default();
            let last = host.strip_suffix('.').unwrap_or(host).rsplit('.').next().unwrap_or_default();
            let numeric = !last.is_empty()
                && (last.bytes().all(|b| b.is_ascii_digit())
                    || ((last.starts_with("0x") || last.starts_with("0X")) && last[2..].bytes().all(|b| b.is_ascii_hexdigit())));
            assert!(!numeric, "{raw:?} kept the host {host:?}, which ends in a number, as a name");
        }
        Some(ip) => {
            let verdict = default.vet_url_literal(&url);
            match non_public_reason(ip) {
                Some(reason) => {
                    let refused = verdict.expect_err("a non-public literal is refused by default");
                    assert_eq!((refused.ip, refused.reason), (ip, reason));
                }
                None => assert!(verdict.is_ok(), "{ip} is public but refused"),
            }
            check_ip(ip);
        }
    }
}

/// Whether the policy refuses `ip` written as the host of `spelling`, which must parse, and to
/// `expect` when given.
fn refused_as(policy: &TargetPolicy, spelling: &str, expect: Option<IpAddr>) -> bool {
    let raw = format!("http://{spelling}:8080/p?q");
    let url = parse_webhook_url(&raw).unwrap_or_else(|e| panic!("{raw:?} does not parse: {e}"));
    let host = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        other => panic!("{raw:?} parsed to the host {other:?}, not an address"),
    };
    if let Some(expect) = expect {
        assert_eq!(host, expect, "{raw:?} reaches another address");
    }
    policy.vet_url_literal(&url).is_err()
}

/// The same verdict for `ip` under every spelling of it, and the classification consistent with
/// the standard library's.
pub fn check_ip(ip: IpAddr) {
    let (default, all, listed) = policies();
    assert!(all.vet_ip(ip).is_ok());
    let refused = default.vet_ip(ip).is_err();
    assert_eq!(refused, non_public_reason(ip).is_some());
    // An allow-list only opens the guard, and only for what it lists.
    let listed_refused = listed.vet_ip(ip).is_err();
    assert!(!listed_refused || refused, "the allow-list refused {ip}, which is public");
    if refused && !listed_refused {
        assert!(listed.allowed_networks.iter().any(|n| n.contains(&ip)), "{ip} allowed though not listed");
    }

    match ip {
        IpAddr::V4(v4) => {
            // Ranges the standard library knows are all refused.
            if v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
            {
                assert!(refused, "{v4} is refused");
            }
            for (spelling, reaches) in ipv4_spellings(v4) {
                assert_eq!(refused_as(&default, &spelling, Some(reaches)), refused, "{v4} spelled {spelling}");
                if listed_refused {
                    assert!(refused_as(&listed, &spelling, Some(reaches)), "{v4} refused, but not when spelled {spelling}");
                }
            }
        }
        IpAddr::V6(v6) => {
            if v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || v6.is_unique_local() || v6.is_unicast_link_local() {
                assert!(refused, "{v6} is refused");
            }
            for spelling in ipv6_spellings(v6) {
                assert_eq!(refused_as(&default, &spelling, Some(IpAddr::V6(v6))), refused, "{v6} spelled {spelling}");
                if listed_refused {
                    assert!(refused_as(&listed, &spelling, Some(IpAddr::V6(v6))), "{v6} refused, but not when spelled {spelling}");
                }
            }
            // An IPv6 address that only wraps an IPv4 one gets that address's verdict.
            if let Some(v4) = v6.to_ipv4_mapped() {
                assert_eq!(refused, default.vet_ip(IpAddr::V4(v4)).is_err(), "{v6} wraps {v4}");
                assert_eq!(refused_as(&default, &v4.to_string(), None), refused);
            }
        }
    }
}

/// Host spellings that reach `ip`, each with the address the URL parser must read from it.
pub fn ipv4_spellings(ip: Ipv4Addr) -> Vec<(String, IpAddr)> {
    let n = u32::from(ip);
    let [a, b, c, d] = ip.octets();
    let (hi, lo) = ((n >> 16) as u16, n as u16);
    let v4 = IpAddr::V4(ip);
    let v6 = |addr: Ipv6Addr| IpAddr::V6(addr);
    let octal = |x: u32| if x == 0 { "0".to_owned() } else { format!("0{x:o}") };
    let dotted = format!("{a}.{b}.{c}.{d}");
    let fullwidth: String = dotted
        .chars()
        .map(|ch| if ch == '.' { '\u{FF0E}' } else { char::from_u32(0xFF10 + (ch as u32 - '0' as u32)).unwrap() })
        .collect();
    let mut spellings = vec![
        (dotted.clone(), v4),
        (format!("{dotted}."), v4),
        (n.to_string(), v4),
        (format!("0x{n:x}"), v4),
        (format!("0X{n:08X}"), v4),
        (octal(n), v4),
        (format!("0{}", octal(n)), v4),
        (format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"), v4),
        (format!("{}.{}.{}.{}", octal(a.into()), octal(b.into()), octal(c.into()), octal(d.into())), v4),
        (format!("0x{a:02x}.{b}.{}.{d}", octal(c.into())), v4),
        (format!("{a}.{b}.{}", u32::from(c) << 8 | u32::from(d)), v4),
        (format!("{a}.{}", u32::from(b) << 16 | u32::from(c) << 8 | u32::from(d)), v4),
        (format!("{a}.0x{:x}", n & 0x00ff_ffff), v4),
        (format!("%{:02X}{}", dotted.as_bytes()[0], &dotted[1..]), v4),
        (fullwidth, v4),
        (format!("[::ffff:{dotted}]"), v6(ip.to_ipv6_mapped())),
        (format!("[::FFFF:{hi:X}:{lo:X}]"), v6(ip.to_ipv6_mapped())),
        (format!("[0:0:0:0:0:ffff:{dotted}]"), v6(ip.to_ipv6_mapped())),
        (format!("[64:ff9b::{dotted}]"), v6(Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, hi, lo))),
        (format!("[2002:{hi:x}:{lo:x}::1]"), v6(Ipv6Addr::new(0x2002, hi, lo, 0, 0, 0, 0, 1))),
    ];
    // IPv4-compatible (`::a.b.c.d`); below 0.1.0.0 these are `::`, `::1` and other IPv6
    // addresses that no stack reads as IPv4, so they are not spellings of the IPv4 address.
    if hi != 0 {
        spellings.push((format!("[::{dotted}]"), v6(ip.to_ipv6_compatible())));
    }
    spellings
}

/// Spellings of an IPv6 address: compressed, full, upper-case, and with a dotted IPv4 tail.
pub fn ipv6_spellings(ip: Ipv6Addr) -> Vec<String> {
    let seg = ip.segments();
    let full = seg.iter().map(|s| format!("{s:04x}")).collect::<Vec<_>>().join(":");
    let [.., w, x, y, z] = ip.octets();
    let head = seg[..6].iter().map(|s| format!("{s:x}")).collect::<Vec<_>>().join(":");
    vec![
        format!("[{ip}]"),
        format!("[{full}]"),
        format!("[{}]", ip.to_string().to_uppercase()),
        format!("[{head}:{w}.{x}.{y}.{z}]"),
    ]
}

// --- Signing ----------------------------------------------------------------------------------

/// The fuzz entry point for signing: the input as a `whsec_` secret; then its first line as a
/// secret (or as key material) and the rest as a body, signed and verified.
pub fn signing(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_secret_text(&text);
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let key = match SigningSecret::parse(&String::from_utf8_lossy(head)) {
        Ok(secret) => STANDARD.decode(&secret.expose()[SECRET_PREFIX.len()..]).expect("a parsed secret decodes"),
        Err(_) => key_material(head),
    };
    let msg_id = String::from_utf8_lossy(body.get(..36).unwrap_or(body)).into_owned();
    let timestamp = body.get(..8).map_or(1_700_000_000, |b| i64::from_le_bytes(b.try_into().expect("8 bytes")));
    check_sign_verify(&key, &msg_id, timestamp, body);
    // Whatever arrives as a header, checking it never panics.
    let secret = secret_from_key(&key);
    let _ = verify(&text, &[&secret], &msg_id, timestamp, body);
}

/// 24 to 64 bytes of key made from `seed` (repeated or cut), so any input can sign.
pub fn key_material(seed: &[u8]) -> Vec<u8> {
    let len = seed.len().clamp(24, 64);
    if seed.is_empty() {
        return vec![0x5a; len];
    }
    seed.iter().copied().cycle().take(len).collect()
}

fn secret_from_key(key: &[u8]) -> SigningSecret {
    let encoded = format!("{SECRET_PREFIX}{}", STANDARD.encode(key));
    SigningSecret::parse(&encoded).unwrap_or_else(|e| panic!("a {}-byte key is a valid secret: {e}", key.len()))
}

/// Parses `text` as a secret: accepted only in canonical form, and then printed back unchanged.
pub fn check_secret_text(text: &str) {
    match SigningSecret::parse(text) {
        Ok(secret) => {
            assert_eq!(secret.expose(), text, "a secret prints back exactly as it was given");
            let key = STANDARD.decode(&text[SECRET_PREFIX.len()..]).expect("it parsed");
            assert!((24..=64).contains(&key.len()));
            let debug = format!("{secret:?}");
            assert!(!debug.contains(&text[SECRET_PREFIX.len()..]) && !debug.contains(SECRET_PREFIX), "Debug shows the secret: {debug}");
        }
        Err(err) => {
            use crate::signing::SecretError;
            match err {
                SecretError::Prefix => assert!(!text.starts_with(SECRET_PREFIX)),
                SecretError::Base64 => assert!(STANDARD.decode(&text[SECRET_PREFIX.len()..]).is_err()),
                SecretError::Length(n) => assert!(!(24..=64).contains(&n)),
            }
        }
    }
}

/// What a receiver does with `webhook-signature` (Standard Webhooks): any space-separated `v1,`
/// entry that equals the expected signature, compared in constant time.
pub fn verify(header: &str, secrets: &[&SigningSecret], msg_id: &str, timestamp: i64, body: &[u8]) -> bool {
    secrets.iter().any(|secret| {
        let expected = secret.sign(msg_id, timestamp, body);
        header.split(' ').any(|candidate| {
            candidate.starts_with("v1,")
                && candidate.len() == expected.len()
                && candidate.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    })
}

/// Sign/verify invariants for one key (24 to 64 bytes), id, timestamp and body.
pub fn check_sign_verify(key: &[u8], msg_id: &str, timestamp: i64, body: &[u8]) {
    let secret = secret_from_key(key);
    let sig = secret.sign(msg_id, timestamp, body);
    let mac = sig.strip_prefix("v1,").unwrap_or_else(|| panic!("{sig} starts with v1,"));
    assert_eq!(STANDARD.decode(mac).expect("base64").len(), 32, "HMAC-SHA256 is 32 bytes");
    assert_eq!(sig, secret.sign(msg_id, timestamp, body), "signing is deterministic");
    assert!(verify(&sig, &[&secret], msg_id, timestamp, body), "a signature verifies with its own secret");

    // Change any one of id, timestamp and body, and it no longer verifies.
    let mut longer = body.to_vec();
    longer.push(b'x');
    assert!(!verify(&sig, &[&secret], msg_id, timestamp, &longer));
    if let Some((last, rest)) = body.split_last() {
        let mut flipped = rest.to_vec();
        flipped.push(last ^ 0x01);
        assert!(!verify(&sig, &[&secret], msg_id, timestamp, &flipped));
        assert!(!verify(&sig, &[&secret], msg_id, timestamp, rest));
    }
    assert!(!verify(&sig, &[&secret], msg_id, timestamp.wrapping_add(1), body));
    assert!(!verify(&sig, &[&secret], &format!("{msg_id}_"), timestamp, body));

    // Another key does not verify it; during a rotation a header with both verifies with either.
    let mut other_key = key.to_vec();
    other_key[0] ^= 0x80;
    let other = secret_from_key(&other_key);
    assert!(!verify(&sig, &[&other], msg_id, timestamp, body), "another secret verifies the signature");
    let header = signature_header([&other, &secret], msg_id, timestamp, body);
    assert!(header.starts_with(&other.sign(msg_id, timestamp, body)), "the new secret's signature first");
    assert!(verify(&header, &[&secret], msg_id, timestamp, body) && verify(&header, &[&other], msg_id, timestamp, body));
    // A cut or padded signature is not a signature.
    assert!(!verify(&sig[..sig.len() - 1], &[&secret], msg_id, timestamp, body));
    assert!(!verify(&format!("{sig}="), &[&secret], msg_id, timestamp, body));
    assert!(!verify(&sig.replacen("v1,", "v2,", 1), &[&secret], msg_id, timestamp, body));
}
