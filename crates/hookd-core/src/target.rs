//! Where hookd may send: one URL parser for every entry point, and the address classification
//! behind the private-network guard.
//!
//! A webhook URL is typed by other people and fetched from inside the operator's network, so an
//! address is refused when it reaches anything but the public internet (loopback, private ranges,
//! cloud metadata, ...) unless the operator allowed it. The worker's resolver calls
//! [`TargetPolicy::vet_ip`] on every address it resolves and connects only to vetted ones.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

/// Longest URL accepted. Receivers and proxies commonly cap request lines near 8 KiB; a webhook
/// URL far shorter than that leaves room for everything else.
pub const MAX_URL_LEN: usize = 2048;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UrlError {
    #[error("url is empty")]
    Empty,
    #[error("url is longer than {MAX_URL_LEN} characters")]
    TooLong,
    /// The URL parser would silently drop a tab, CR or LF inside a URL, changing what is sent:
    /// refused instead.
    #[error("url must not contain control characters such as tab, CR or LF; percent-encode them (%09, %0D, %0A)")]
    ControlCharacter,
    #[error("url is not a valid absolute URL: {0}")]
    Invalid(String),
    #[error("url scheme must be http or https, not {0:?}")]
    Scheme(String),
    #[error("url has no host")]
    NoHost,
    #[error("url must not contain credentials (user:password@): they would be stored and logged as part of the url; authenticate receivers by the webhook signature")]
    Credentials,
}

/// Parses and validates a webhook URL: absolute http(s), trimmed, no credentials, host normalised
/// (lowercase, IDN to punycode, odd IPv4 spellings to dotted quads) by the WHATWG URL parser.
///
/// A path and query already written in URL characters are kept byte for byte (percent-escapes
/// are neither decoded nor re-cased). What the parser does change is listed in README's "URLs"
/// section and pinned by `tests/e2e/urls.rs`: dot segments are removed, `\` becomes `/`,
/// characters a URL cannot carry (space, non-ASCII, `"`, `<`, `>`, ...) are percent-encoded, an
/// empty path becomes `/`, a default port is dropped. Control characters inside the URL, which
/// the parser would silently delete, are refused.
pub fn parse_webhook_url(raw: &str) -> Result<Url, UrlError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(UrlError::Empty);
    }
    if raw.len() > MAX_URL_LEN {
        return Err(UrlError::TooLong);
    }
    if raw.chars().any(char::is_control) {
        return Err(UrlError::ControlCharacter);
    }
    let url = Url::parse(raw).map_err(|e| UrlError::Invalid(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme(url.scheme().to_owned()));
    }
    if url.host().is_none() {
        return Err(UrlError::NoHost);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    Ok(url)
}

/// Why an address is not a public internet address, or `None` when it is.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let reason = match (a, b, c) {
        (0, ..) => "unspecified (0.0.0.0/8)",
        (10, ..) => "private (10.0.0.0/8)",
        (100, 64..=127, _) => "shared/CGNAT (100.64.0.0/10)",
        (127, ..) => "loopback (127.0.0.0/8)",
        (169, 254, _) => "link-local (169.254.0.0/16, cloud metadata)",
        (172, 16..=31, _) => "private (172.16.0.0/12)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation range",
        (192, 88, 99) => "6to4 relay anycast (192.88.99.0/24)",
        (192, 168, _) => "private (192.168.0.0/16)",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, ..) => "multicast (224.0.0.0/4)",
        (240..=255, ..) => "reserved (240.0.0.0/4, broadcast)",
        _ => return None,
    };
    Some(reason)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let seg = ip.segments();
    // Spellings that embed an IPv4 address are judged by the address they reach.
    if let Some(v4) = embedded_v4(&ip) {
        return v4_reason(v4).or(match seg[0] {
            0x2001 => Some("Teredo tunnel (2001::/32)"),
            _ => None,
        });
    }
    let reason = match seg[0] {
        _ if ip.is_unspecified() => "unspecified (::)",
        _ if ip.is_loopback() => "loopback (::1)",
        0x0100 if seg[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        0x0064 if seg[1] == 0xff9b && seg[2] == 1 => "local-use NAT64 (64:ff9b:1::/48)",
        0x2001 if seg[1] == 0x0db8 => "documentation (2001:db8::/32)",
        0x2001 if seg[1] == 0 => "Teredo tunnel (2001::/32)",
        0x3fff if seg[1] < 0x1000 => "documentation (3fff::/20)",
        s if s & 0xfe00 == 0xfc00 => "unique-local (fc00::/7)",
        s if s & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        s if s & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        s if s & 0xff00 == 0xff00 => "multicast (ff00::/8)",
        _ => return None,
    };
    Some(reason)
}

/// The IPv4 address an IPv6 spelling reaches: IPv4-mapped, IPv4-compatible, NAT64 and 6to4.
fn embedded_v4(ip: &Ipv6Addr) -> Option<Ipv4Addr> {
    let seg = ip.segments();
    let tail = Ipv4Addr::new((seg[6] >> 8) as u8, seg[6] as u8, (seg[7] >> 8) as u8, seg[7] as u8);
    match seg {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(tail),
        // IPv4-compatible (deprecated); `::` and `::1` themselves are judged as IPv6.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(tail),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(tail),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

/// The operator's choice of which non-public addresses hookd may reach.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// `HOOKD_ALLOW_PRIVATE_TARGETS=true`: every address is allowed (demos, tests, private meshes).
    pub allow_private: bool,
    /// Networks allowed even though they are not public, e.g. `10.20.0.0/16` for an internal receiver.
    pub allowed_networks: Vec<IpNet>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{ip} is refused: {reason}; set HOOKD_ALLOW_PRIVATE_TARGETS=true or allow the network in config to reach it")]
pub struct RefusedTarget {
    pub ip: IpAddr,
    pub reason: &'static str,
}

impl TargetPolicy {
    pub fn allow_all() -> Self {
        Self { allow_private: true, allowed_networks: Vec::new() }
    }

    pub fn vet_ip(&self, ip: IpAddr) -> Result<(), RefusedTarget> {
        if self.allow_private {
            return Ok(());
        }
        match non_public_reason(ip) {
            None => Ok(()),
            Some(_) if self.allowed_networks.iter().any(|net| net.contains(&ip)) => Ok(()),
            Some(reason) => Err(RefusedTarget { ip, reason }),
        }
    }

    /// Vets a URL whose host is an IP literal; a host name is vetted when it resolves.
    pub fn vet_url_literal(&self, url: &Url) -> Result<(), RefusedTarget> {
        match url.host() {
            Some(Host::Ipv4(v4)) => self.vet_ip(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => self.vet_ip(IpAddr::V6(v6)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        let url = parse_webhook_url(url).unwrap();
        TargetPolicy::default().vet_url_literal(&url).is_err()
    }

    #[test]
    fn refuses_non_public_literals_in_every_spelling() {
        for url in [
            "http://127.0.0.1/", "http://127.1/", "http://2130706433/", "http://0x7f.0.0.1/",
            "http://0177.0.0.1/", "http://0/", "http://10.1.2.3/", "http://172.16.0.1/",
            "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
            "http://224.0.0.1/", "http://255.255.255.255/", "http://[::1]:8080/", "http://[::]/",
            "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/", "http://[::127.0.0.1]/",
            "http://[64:ff9b::10.0.0.1]/", "http://[2002:7f00:1::]/", "http://[fd00::1]/",
            "http://[fe80::1]/", "http://[ff02::1]/", "http://[2001:db8::1]/",
        ] {
            assert!(refused(url), "{url} should be refused");
        }
    }

    #[test]
    fn allows_public_addresses() {
        for url in ["http://93.184.215.14/", "https://[2606:4700:4700::1111]:8443/x", "http://[::ffff:8.8.8.8]/", "http://[64:ff9b::8.8.8.8]/"] {
            assert!(!refused(url), "{url} should be allowed");
        }
    }

    #[test]
    fn switch_and_allow_list_open_the_guard() {
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(TargetPolicy::allow_all().vet_ip(lo).is_ok());
        let policy = TargetPolicy { allow_private: false, allowed_networks: vec!["127.0.0.0/8".parse().unwrap()] };
        assert!(policy.vet_ip(lo).is_ok());
        assert!(policy.vet_ip("10.0.0.1".parse().unwrap()).is_err());
    }

    #[test]
    fn refusal_names_the_range_and_the_switch() {
        let err = TargetPolicy::default().vet_ip("169.254.169.254".parse().unwrap()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("link-local") && msg.contains("HOOKD_ALLOW_PRIVATE_TARGETS"), "{msg}");
    }

    #[test]
    fn parses_and_normalises_urls() {
        let url = parse_webhook_url("  HTTPS://Bücher.Example/p/a%20th?q=1&b=é  ").unwrap();
        assert_eq!(url.scheme(), "https");
        assert_eq!(url.host_str(), Some("xn--bcher-kva.example"));
        assert_eq!(url.path(), "/p/a%20th");
        assert_eq!(parse_webhook_url("http://[::1]:9000/x").unwrap().port(), Some(9000));
    }

    #[test]
    fn refuses_bad_urls_with_the_reason() {
        assert_eq!(parse_webhook_url(""), Err(UrlError::Empty));
        assert_eq!(parse_webhook_url("ftp://example.com/"), Err(UrlError::Scheme("ftp".into())));
        assert_eq!(parse_webhook_url("https://u:p@example.com/"), Err(UrlError::Credentials));
        assert!(matches!(parse_webhook_url("example.com/hook"), Err(UrlError::Invalid(_))));
        for raw in ["https://e.com/a\tb", "https://e.com/a\nb", "https://e.com/?a=\r\nb", "https://e.com/\0", "https://e.\u{7f}com/"] {
            assert_eq!(parse_webhook_url(raw), Err(UrlError::ControlCharacter), "{raw:?}");
        }
        assert!(parse_webhook_url(" https://e.com/x\n").is_ok(), "surrounding whitespace is trimmed");
        assert_eq!(parse_webhook_url(&format!("https://e.com/{}", "a".repeat(MAX_URL_LEN))), Err(UrlError::TooLong));
    }
}
