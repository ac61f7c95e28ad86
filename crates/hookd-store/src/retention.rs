//! Retention: the attempt history and the finished deliveries leave a day-partition at a time
//! (`DROP TABLE`: no bulk DELETE, no vacuum debt); fanned-out outbox rows are deleted by age in
//! batches, oldest first along the primary key.
//!
//! The outbox is not partitioned: producers publish at most once with
//! `INSERT ... ON CONFLICT (event_id) DO NOTHING`, which needs a unique index on `event_id` alone,
//! and a partitioned table's unique indexes must include its partition key.

use chrono::{DateTime, NaiveDate, Utc};

use crate::{Result, Store};

/// The tables kept as day partitions of a timestamp: attempts by `started_at`, finished
/// deliveries by `finished_at`.
const HISTORY: [&str; 2] = ["hookd.attempts", "hookd.deliveries_finished"];

impl Store {
    /// Creates the day partitions of the history tables for `days` days from `first_day` that are
    /// missing. Returns how many it made.
    pub async fn history_partitions_ensure(&self, first_day: NaiveDate, days: i32) -> Result<i32> {
        let mut created = 0;
        for table in HISTORY {
            created += sqlx::query_scalar::<_, i32>("SELECT hookd.day_partitions_ensure($1::regclass, $2, $3)")
                .bind(table)
                .bind(first_day)
                .bind(days)
                .fetch_one(self.pool())
                .await?;
        }
        Ok(created)
    }

    /// Drops the history partitions that hold only rows from before `cutoff`.
    pub async fn history_partitions_drop(&self, cutoff: DateTime<Utc>) -> Result<i32> {
        let mut dropped = 0;
        for table in HISTORY {
            dropped += sqlx::query_scalar::<_, i32>("SELECT hookd.day_partitions_drop($1::regclass, $2)")
                .bind(table)
                .bind(cutoff)
                .fetch_one(self.pool())
                .await?;
        }
        Ok(dropped)
    }

    /// Deletes up to `batch` outbox rows fanned out before `cutoff` none of whose deliveries is
    /// still live.
    pub async fn outbox_prune(&self, cutoff: DateTime<Utc>, batch: i64) -> Result<u64> {
        Ok(sqlx::query(
            "DELETE FROM hookd.outbox WHERE id IN (
                 SELECT o.id FROM hookd.outbox o
                 WHERE o.created_at < $1 AND o.fanned_out_at < $1
                   AND NOT EXISTS (SELECT 1 FROM hookd.deliveries d WHERE d.event_id = o.event_id)
                 ORDER BY o.id LIMIT $2)",
        )
        .bind(cutoff)
        .bind(batch)
        .execute(self.pool())
        .await?
        .rows_affected())
    }
}
