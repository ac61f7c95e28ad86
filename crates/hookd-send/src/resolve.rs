//! A resolver that vets every address it returns, so the HTTP client can only connect to an
//! address the private-network guard accepted: there is no second lookup between the check and
//! the connect for DNS rebinding to slip into.
//!
//! [`resolve_vetted`] is the one place a host name is resolved and vetted: the sender's resolver
//! calls it at every connection, and [`vet_url`] calls it when a URL is saved (CLI, API, page) or
//! typed into Send Test Event.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hookd_core::target::{RefusedTarget, TargetPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// How long [`vet_url`] waits for DNS before giving up (the sender's own lookups are bounded by
/// its connect timeout).
pub const VET_LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("dns lookup of {host} failed: {source}")]
    Lookup { host: String, source: std::io::Error },
    #[error("{host} has no addresses")]
    NoAddresses { host: String },
    #[error("{host} resolves to a refused address: {refused}")]
    Refused { host: String, refused: RefusedTarget },
    /// The URL's host is an address literal the guard refuses.
    #[error(transparent)]
    RefusedLiteral(RefusedTarget),
    #[error("url has no host")]
    NoHost,
}

impl ResolveError {
    /// Whether the guard refused an address (as opposed to DNS failing).
    pub fn is_refused(&self) -> bool {
        matches!(self, Self::Refused { .. } | Self::RefusedLiteral(_))
    }
}

/// Resolves `host` and vets every address it resolves to. Every address must pass: a name that
/// mixes public and private addresses is refused whole rather than trusted to connect to the
/// public one.
pub async fn resolve_vetted(host: &str, port: u16, policy: &TargetPolicy) -> Result<Vec<SocketAddr>, ResolveError> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| ResolveError::Lookup { host: host.to_owned(), source })?
        .collect();
    if addrs.is_empty() {
        return Err(ResolveError::NoAddresses { host: host.to_owned() });
    }
    if let Some(refused) = addrs.iter().find_map(|a| policy.vet_ip(a.ip()).err()) {
        return Err(ResolveError::Refused { host: host.to_owned(), refused });
    }
    Ok(addrs)
}

/// Vets a parsed webhook URL as a delivery would: an address literal is vetted as it is; a host
/// name is resolved and every address vetted. Used when a URL is saved or tested, so a name that
/// resolves to loopback (or does not resolve) is refused up front rather than at the first
/// delivery. With every address allowed (`HOOKD_ALLOW_PRIVATE_TARGETS=true`) nothing can be
/// refused, so no lookup is made. Returns the vetted addresses (none when no lookup was made).
pub async fn vet_url(url: &Url, policy: &TargetPolicy) -> Result<Vec<IpAddr>, ResolveError> {
    let ip = match url.host() {
        None => return Err(ResolveError::NoHost),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        Some(Host::Domain(_)) if policy.allow_private => return Ok(Vec::new()),
        Some(Host::Domain(name)) => {
            let port = url.port_or_known_default().unwrap_or(0);
            let resolved = tokio::time::timeout(VET_LOOKUP_TIMEOUT, resolve_vetted(name, port, policy))
                .await
                .unwrap_or_else(|_| {
                    Err(ResolveError::Lookup {
                        host: name.to_owned(),
                        source: std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in time"),
                    })
                })?;
            return Ok(resolved.into_iter().map(|a| a.ip()).collect());
        }
    };
    policy.vet_ip(ip).map_err(ResolveError::RefusedLiteral)?;
    Ok(vec![ip])
}

#[derive(Debug, Clone)]
pub struct VettingResolver {
    policy: Arc<TargetPolicy>,
}

impl VettingResolver {
    pub fn new(policy: Arc<TargetPolicy>) -> Self {
        Self { policy }
    }
}

impl Resolve for VettingResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        Box::pin(async move {
            let addrs = resolve_vetted(name.as_str(), 0, &policy).await?;
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(raw: &str) -> Url {
        hookd_core::target::parse_webhook_url(raw).unwrap()
    }

    #[tokio::test]
    async fn a_name_resolving_to_loopback_is_refused() {
        let err = vet_url(&url("http://localhost:9/x"), &TargetPolicy::default()).await.unwrap_err();
        assert!(err.is_refused(), "{err}");
        assert!(err.to_string().contains("localhost resolves to a refused address"), "{err}");
    }

    #[tokio::test]
    async fn literals_are_vetted_without_a_lookup() {
        let err = vet_url(&url("http://[::ffff:127.0.0.1]/"), &TargetPolicy::default()).await.unwrap_err();
        assert!(matches!(err, ResolveError::RefusedLiteral(_)), "{err}");
        let public = vet_url(&url("https://93.184.215.14/"), &TargetPolicy::default()).await.unwrap();
        assert_eq!(public, vec!["93.184.215.14".parse::<IpAddr>().unwrap()]);
    }

    #[tokio::test]
    async fn a_name_that_does_not_resolve_is_a_lookup_error() {
        // `.invalid` never resolves (RFC 6761).
        let err = vet_url(&url("https://no-such-host.invalid/"), &TargetPolicy::default()).await.unwrap_err();
        assert!(matches!(err, ResolveError::Lookup { .. }) && !err.is_refused(), "{err}");
    }

    #[tokio::test]
    async fn allowing_every_address_makes_no_lookup() {
        let allow = TargetPolicy::allow_all();
        assert!(vet_url(&url("https://no-such-host.invalid/"), &allow).await.unwrap().is_empty());
        assert!(vet_url(&url("http://localhost/"), &allow).await.is_ok());
        let allowed = TargetPolicy { allow_private: false, allowed_networks: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()] };
        assert!(vet_url(&url("http://localhost/"), &allowed).await.is_ok(), "an allowed network lets a name through");
    }
}
