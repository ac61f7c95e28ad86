//! Retention: the attempt history is dropped a day-partition at a time; finished deliveries and
//! fanned-out outbox rows are deleted by age in batches, oldest first along the primary key.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Result, Store};

impl Store {
    /// Creates the attempt partitions for `days` days from `first_day` that are missing.
    pub async fn attempt_partitions_ensure(&self, first_day: NaiveDate, days: i32) -> Result<i32> {
        Ok(sqlx::query_scalar("SELECT hookd.attempts_ensure_partitions($1, $2)")
            .bind(first_day)
            .bind(days)
            .fetch_one(self.pool())
            .await?)
    }

    /// Drops the attempt partitions that hold only attempts started before `cutoff`.
    pub async fn attempt_partitions_drop(&self, cutoff: DateTime<Utc>) -> Result<i32> {
        Ok(sqlx::query_scalar("SELECT hookd.attempts_drop_partitions($1)").bind(cutoff).fetch_one(self.pool()).await?)
    }

    /// Deletes up to `batch` deliveries finished (succeeded, failed or cancelled) before `cutoff`.
    pub async fn delivery_prune_finished(&self, cutoff: DateTime<Utc>, batch: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM hookd.deliveries WHERE id IN (
                 SELECT id FROM hookd.deliveries
                 WHERE created_at < $1 AND finished_at < $1
                 ORDER BY id LIMIT $2)",
        )
        .bind(cutoff)
        .bind(batch)
        .execute(self.pool())
        .await?
        .rows_affected())
    }

    /// Deletes up to `batch` outbox rows fanned out before `cutoff` whose deliveries are all over.
    pub async fn outbox_prune(&self, cutoff: DateTime<Utc>, batch: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM hookd.outbox WHERE id IN (
                 SELECT o.id FROM hookd.outbox o
                 WHERE o.created_at < $1 AND o.fanned_out_at < $1
                   AND NOT EXISTS (SELECT 1 FROM hookd.deliveries d
                                   WHERE d.event_id = o.event_id AND d.state IN ('pending', 'running'))
                 ORDER BY o.id LIMIT $2)",
        )
        .bind(cutoff)
        .bind(batch)
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}
