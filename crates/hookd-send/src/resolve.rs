//! A resolver that vets every address it returns, so the HTTP client can only connect to an
//! address the private-network guard accepted: there is no second lookup between the check and
//! the connect for DNS rebinding to slip into.

use std::net::SocketAddr;
use std::sync::Arc;

use hookd_core::target::{RefusedTarget, TargetPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("dns lookup of {host} failed: {source}")]
    Lookup { host: String, source: std::io::Error },
    #[error("{host} has no addresses")]
    NoAddresses { host: String },
    #[error("{host} resolves to a refused address: {refused}")]
    Refused { host: String, refused: RefusedTarget },
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
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|source| ResolveError::Lookup { host: host.clone(), source })?
                .collect();
            if addrs.is_empty() {
                return Err(ResolveError::NoAddresses { host }.into());
            }
            // Every address must pass: a name that mixes public and private addresses is refused
            // whole rather than trusted to connect to the public one.
            if let Some(refused) = addrs.iter().find_map(|a| policy.vet_ip(a.ip()).err()) {
                return Err(ResolveError::Refused { host, refused }.into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}
