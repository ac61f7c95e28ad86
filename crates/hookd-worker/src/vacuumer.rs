//! Vacuumer: on a server whose autovacuum is off, vacuums the hot tables itself whenever enough
//! dead rows have piled up, and analyzes them whenever autovacuum would have (see
//! `hookd_store::vacuum`). Where autovacuum runs it does nothing: the
//! tables' own autovacuum settings cover them. Runs in every process; `SKIP_LOCKED` lets one
//! vacuum at a time.

use std::time::Duration;

use hookd_store::Store;
use tokio_util::sync::CancellationToken;

/// How often the dead-row counts are looked at.
const EVERY: Duration = Duration::from_secs(5);
/// Dead rows that make a vacuum worth it: a few seconds of a fast drain.
const MIN_DEAD: i64 = 20_000;
/// The shortest time between two analyzes of a table that needs no vacuum: autovacuum's own nap.
const ANALYZE_EVERY: Duration = Duration::from_secs(60);

pub struct Vacuumer {
    store: Store,
}

impl Vacuumer {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub async fn run(self, shutdown: CancellationToken) {
        match self.store.autovacuum_enabled().await {
            Ok(true) => return,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "cannot read the server's autovacuum setting; vacuuming the hot tables as if it were off"),
        }
        if !self.store.hot_tables_vacuumable().await.unwrap_or(false) {
            tracing::warn!(
                "autovacuum is off on this server and hookd's role does not own hookd.deliveries and hookd.outbox, \
                 so nothing vacuums them: claims will slow as dead rows pile up. Turn autovacuum on, or vacuum them \
                 as their owner"
            );
            return;
        }
        tracing::warn!(
            "autovacuum is off on this server: hookd vacuums hookd.deliveries and hookd.outbox itself; \
             turn autovacuum on for the rest of the database"
        );
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            match self.store.hot_tables_upkeep(MIN_DEAD, ANALYZE_EVERY).await {
                Ok(done) if !done.is_empty() => tracing::debug!(?done, "hot tables vacuumed or analyzed"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "vacuum of the hot tables failed; will retry"),
            }
        }
    }
}
