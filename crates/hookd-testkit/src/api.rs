//! The admin API and page, in-process on 127.0.0.1 port 0, as `hookd serve` runs them.

use std::net::SocketAddr;

use hookd_api::{AdminToken, ApiState};
use hookd_core::target::TargetPolicy;
use hookd_send::Sender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::worker::test_sender;
use crate::TestDb;

/// A running admin API; stopped when dropped (or by [`RunningApi::stop`]).
pub struct RunningApi {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub url: String,
    pub token: String,
    shutdown: CancellationToken,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

/// Serves the API for `db` with `token`, loopback targets allowed, test senders' timeouts.
pub async fn spawn(db: &TestDb, token: &str) -> RunningApi {
    spawn_with(db, token, test_sender(), TargetPolicy::allow_all()).await
}

/// [`spawn`] with a sender and a target policy of the caller's (e.g. the default policy, which
/// refuses loopback URLs when a webhook is saved).
pub async fn spawn_with(db: &TestDb, token: &str, sender: Sender, policy: TargetPolicy) -> RunningApi {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("bound");
    let state = ApiState {
        store: db.store.clone(),
        policy,
        sender,
        token: AdminToken::new(token),
        worker: "api-test".into(),
    };
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn(hookd_api::serve(listener, state, shutdown.clone()));
    RunningApi { addr, url: format!("http://{addr}"), token: token.to_owned(), shutdown, handle: Some(handle) }
}

impl RunningApi {
    /// The URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Stops serving and waits for requests in progress to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(handle) = self.handle.take() {
            handle.await.expect("the API task did not panic").expect("the API served cleanly");
        }
    }
}

impl Drop for RunningApi {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
