//! Figures about the database itself, for the benchmark and for operators.

use crate::{Result, Store};

/// How much work is waiting, for `hookd_queue_depth`, `hookd_oldest_due_seconds` and `/readyz`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QueueStats {
    /// Pending deliveries that are due, plus outbox rows not fanned out yet.
    pub depth: i64,
    /// How long the oldest of those has been waiting (a delivery since it fell due, an event since
    /// it was committed), in seconds; 0 when nothing waits.
    pub oldest_due_seconds: f64,
}

impl Store {
    /// Transactions committed in this database so far (`pg_stat_database`).
    pub async fn stats_transactions_committed(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
            .fetch_one(self.pool())
            .await?)
    }

    /// Statements executed in this database so far, when `pg_stat_statements` is loaded
    /// (`shared_preload_libraries`); `None` otherwise.
    pub async fn stats_statements_executed(&self) -> Option<i64> {
        sqlx::query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").execute(self.pool()).await.ok()?;
        sqlx::query_scalar(
            "SELECT coalesce(sum(calls), 0)::bigint FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(self.pool())
        .await
        .ok()
    }

    /// Deliveries that have succeeded so far.
    pub async fn stats_delivered(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM hookd.deliveries_finished WHERE state = 'succeeded'").fetch_one(self.pool()).await?)
    }

    /// Each successful attempt's event and when its answer came back (start plus duration), by
    /// hookd's clock: how a benchmark times arrivals at a receiver it cannot see into.
    pub async fn stats_answered(&self) -> Result<Vec<(uuid::Uuid, chrono::DateTime<chrono::Utc>)>> {
        Ok(sqlx::query_as(
            "SELECT event_id, started_at + duration_ms * interval '1 millisecond' FROM hookd.attempts
             WHERE status_code BETWEEN 200 AND 299 AND NOT test",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Live hookd worker processes.
    pub async fn stats_workers_alive(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM hookd.workers").fetch_one(self.pool()).await?)
    }

    /// The queue: due pending deliveries plus events awaiting fan-out, and the age of the oldest.
    /// Served by the partial indexes `deliveries_due` and `outbox_awaiting_fan_out` (the ages are
    /// one index probe each; the count reads the due part of `deliveries_due`, so it is sampled
    /// every few seconds, not run per scrape).
    pub async fn stats_queue(&self) -> Result<QueueStats> {
        let (depth, oldest_due_seconds): (i64, f64) = sqlx::query_as(
            "SELECT
                 (SELECT count(*) FROM hookd.deliveries WHERE state = 'pending' AND next_attempt_at <= now())
                 + (SELECT count(*) FROM hookd.outbox WHERE fanned_out_at IS NULL),
                 greatest(0,
                     extract(epoch FROM now() - (SELECT min(next_attempt_at) FROM hookd.deliveries
                                                 WHERE state = 'pending' AND next_attempt_at <= now())),
                     extract(epoch FROM now() - (SELECT created_at FROM hookd.outbox
                                                 WHERE fanned_out_at IS NULL ORDER BY id LIMIT 1)))::float8",
        )
        .fetch_one(self.pool())
        .await?;
        Ok(QueueStats { depth, oldest_due_seconds })
    }

    /// Only the age part of [`Store::stats_queue`] (no count): cheap enough for every `/readyz`.
    pub async fn stats_oldest_due_seconds(&self) -> Result<f64> {
        Ok(sqlx::query_scalar(
            "SELECT greatest(0,
                 extract(epoch FROM now() - (SELECT min(next_attempt_at) FROM hookd.deliveries
                                             WHERE state = 'pending' AND next_attempt_at <= now())),
                 extract(epoch FROM now() - (SELECT created_at FROM hookd.outbox
                                             WHERE fanned_out_at IS NULL ORDER BY id LIMIT 1)))::float8",
        )
        .fetch_one(self.pool())
        .await?)
    }
}
