//! Vacuum and analyze of the hot tables. Every claim and finish leaves dead row versions in
//! `hookd.deliveries` and every fan-out in `hookd.outbox`; until a vacuum removes them, each claim
//! steps over more of them (a claim of 100 from a million-row backlog went from 4 ms to 20 ms with
//! no vacuum). The tables carry aggressive autovacuum settings (`0008_hot_table_storage.sql`), but
//! those do nothing on a server whose `autovacuum` is off, so hookd can do it itself, and it
//! analyzes them too, since such a server never refreshes the planner's row counts either.

use std::time::Duration;

use crate::{Result, Store};

/// What the upkeep did to a hot table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upkeep {
    /// Vacuumed (and analyzed, if the last analyze was long enough ago): dead rows had piled up.
    Vacuumed,
    /// Analyzed only: its rows had changed enough for the planner's counts to be stale.
    Analyzed,
}

/// The tables that turn over with every delivery.
const HOT: [&str; 2] = ["hookd.deliveries", "hookd.outbox"];

impl Store {
    /// Whether the server's autovacuum daemon runs (the `autovacuum` setting).
    pub async fn autovacuum_enabled(&self) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT current_setting('autovacuum')::boolean").fetch_one(self.pool()).await?)
    }

    /// Whether this connection's role may vacuum the hot tables (only their owner can; for
    /// anyone else Postgres skips the table with a warning and the dead rows stay).
    pub async fn hot_tables_vacuumable(&self) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT bool_and(pg_has_role(current_user, relowner, 'USAGE')) FROM pg_class WHERE oid = ANY ($1::regclass[])",
        )
        .bind(&HOT[..])
        .fetch_one(self.pool())
        .await?)
    }

    /// Vacuums each hot table holding more than `min_dead` dead rows, and analyzes one whose rows
    /// changed by more than autovacuum's analyze threshold since its last analyze, unless another
    /// process is vacuuming it. Either analyzes only if the last analyze was at least
    /// `analyze_every` ago: each leaves dead rows in the system catalogs, which nothing vacuums on
    /// such a server. Returns what it did to which table.
    ///
    /// The analyze matters as much as the vacuum: a server without autovacuum never refreshes
    /// the planner's row counts, and a claim planned for an outbox of a few hundred rows reads the
    /// whole outbox once it holds thousands (a steady 500 events/s went from 0.1 ms to 0.6 ms a
    /// claim and from 4.8 to 7 ms commit-to-receipt).
    pub async fn hot_tables_upkeep(&self, min_dead: i64, analyze_every: Duration) -> Result<Vec<(&'static str, Upkeep)>> {
        let mut done = Vec::new();
        for table in HOT {
            let (vacuum, analyze_due, analyze_allowed): (bool, bool, bool) = sqlx::query_as(
                // The analyze threshold is autovacuum's, with the table's own settings where it
                // has them (0008 gives both hot tables a scale factor of 0.02).
                "SELECT NOT vacuuming AND dead > $2,
                        NOT vacuuming AND changed > threshold + scale_factor * live,
                        coalesce(analyzed_at, '-infinity') < now() - make_interval(secs => $3)
                 FROM (
                     SELECT coalesce(pg_stat_get_dead_tuples(c.oid), 0) AS dead,
                            coalesce(pg_stat_get_mod_since_analyze(c.oid), 0) AS changed,
                            pg_stat_get_last_analyze_time(c.oid) AS analyzed_at,
                            greatest(c.reltuples, 0) AS live,
                            EXISTS (SELECT 1 FROM pg_stat_progress_vacuum p WHERE p.relid = c.oid) AS vacuuming,
                            coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                                      WHERE option_name = 'autovacuum_analyze_scale_factor'),
                                     current_setting('autovacuum_analyze_scale_factor')::float8) AS scale_factor,
                            coalesce((SELECT option_value::float8 FROM pg_options_to_table(c.reloptions)
                                      WHERE option_name = 'autovacuum_analyze_threshold'),
                                     current_setting('autovacuum_analyze_threshold')::float8) AS threshold
                     FROM pg_class c WHERE c.oid = $1::regclass
                 ) t",
            )
            .bind(table)
            .bind(min_dead)
            .bind(analyze_every.as_secs_f64())
            .fetch_one(self.pool())
            .await?;
            if vacuum {
                let with_analyze = if analyze_allowed { ", ANALYZE" } else { "" };
                sqlx::query(&format!("VACUUM (SKIP_LOCKED{with_analyze}) {table}")).execute(self.pool()).await?;
                done.push((table, Upkeep::Vacuumed));
            } else if analyze_allowed && analyze_due {
                sqlx::query(&format!("ANALYZE (SKIP_LOCKED) {table}")).execute(self.pool()).await?;
                done.push((table, Upkeep::Analyzed));
            }
        }
        Ok(done)
    }
}
