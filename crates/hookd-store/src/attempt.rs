//! The audit: one append-only row per HTTP attempt, real or test, in `hookd.attempts`, read
//! through the `hookd.attempt_log` view.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::{Result, Store};

/// One attempt as the sender saw it, ready to record.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: Option<i64>,
    pub event_id: Uuid,
    pub event_type: String,
    pub webhook_id: Option<Uuid>,
    pub url: String,
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub error_detail: Option<String>,
    pub response_headers: serde_json::Value,
    pub response_body: Vec<u8>,
    pub body_truncated: bool,
    pub worker: String,
    pub test: bool,
}

/// A row of `hookd.attempt_log`, as `hookd tail` and the API show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttemptLogRow {
    pub attempt_id: i64,
    pub event_id: Uuid,
    pub event_type: String,
    pub webhook_id: Option<Uuid>,
    pub webhook_name: Option<String>,
    pub url: String,
    pub attempt: i32,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub error_detail: Option<String>,
    pub test: bool,
    pub succeeded: bool,
    pub response_excerpt: Option<String>,
}

/// A row of the delivery log as the admin API pages through it: the attempt, and the state its
/// delivery is in now (null for a test send, whose attempt has no delivery).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AttemptEntry {
    pub delivery_id: Option<i64>,
    pub delivery_state: Option<String>,
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub attempt: AttemptLogRow,
}

/// Filters for following the log.
#[derive(Debug, Clone, Default)]
pub struct AttemptFilter {
    pub webhook_id: Option<Uuid>,
    pub event_type: Option<String>,
    pub event_id: Option<Uuid>,
    pub failed_only: bool,
}

impl Store {
    /// Records a test send (no delivery behind it).
    pub async fn attempt_insert(&self, record: &AttemptRecord) -> Result<i64> {
        let mut conn = self.pool().acquire().await?;
        let ids = attempt_insert_many(&mut conn, std::slice::from_ref(record)).await?;
        Ok(ids[0])
    }

    /// Attempts with an id above `after_id` matching `filter`, oldest first.
    pub async fn attempt_log_after(&self, after_id: i64, filter: &AttemptFilter, limit: i64) -> Result<Vec<AttemptLogRow>> {
        Ok(sqlx::query_as(
            "SELECT attempt_id, event_id, event_type, webhook_id, webhook_name, url, attempt, started_at, duration_ms,
                    status_code, error, error_detail, test, succeeded, response_excerpt
             FROM hookd.attempt_log
             WHERE attempt_id > $1
               AND ($2::uuid IS NULL OR webhook_id = $2)
               AND ($3::text IS NULL OR event_type = $3)
               AND ($4::uuid IS NULL OR event_id = $4)
               AND (NOT $5 OR NOT succeeded)
             ORDER BY attempt_id
             LIMIT $6",
        )
        .bind(after_id)
        .bind(filter.webhook_id)
        .bind(&filter.event_type)
        .bind(filter.event_id)
        .bind(filter.failed_only)
        .bind(limit)
        .fetch_all(self.pool())
        .await?)
    }

    /// The id just below the first attempt started at or after `since`: where a tail that looks
    /// back starts.
    pub async fn attempt_first_id_since(&self, since: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT coalesce((SELECT min(id) - 1 FROM hookd.attempts WHERE started_at >= $1),
                             (SELECT max(id) FROM hookd.attempts), 0)",
        )
        .bind(since)
        .fetch_one(self.pool())
        .await?)
    }

    /// One page of the attempts of a webhook and/or an event, newest first, and how many there
    /// are in all.
    pub async fn attempt_page(
        &self,
        webhook_id: Option<Uuid>,
        event_id: Option<Uuid>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<AttemptEntry>, i64)> {
        const WHERE: &str = "WHERE ($1::uuid IS NULL OR a.webhook_id = $1) AND ($2::uuid IS NULL OR a.event_id = $2)";
        let rows = sqlx::query_as(&format!(
            "SELECT a.attempt_id, a.delivery_id, d.state AS delivery_state, a.event_id, a.event_type, a.webhook_id,
                    a.webhook_name, a.url, a.attempt, a.started_at, a.duration_ms, a.status_code, a.error,
                    a.error_detail, a.test, a.succeeded, a.response_excerpt
             FROM hookd.attempt_log a LEFT JOIN hookd.delivery_log d ON d.id = a.delivery_id
             {WHERE}
             ORDER BY a.started_at DESC, a.attempt_id DESC
             LIMIT $3 OFFSET $4"
        ))
        .bind(webhook_id)
        .bind(event_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(self.pool())
        .await?;
        let total = sqlx::query_scalar(&format!("SELECT count(*) FROM hookd.attempts a {WHERE}"))
            .bind(webhook_id)
            .bind(event_id)
            .fetch_one(self.pool())
            .await?;
        Ok((rows, total))
    }

    /// The highest id among attempts recorded before `before`: a floor under which no row can
    /// still be waiting to commit, when `before` lies a little in the past.
    pub async fn attempt_last_id_recorded_before(&self, before: DateTime<Utc>) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM hookd.attempts WHERE recorded_at < $1")
            .bind(before)
            .fetch_one(self.pool())
            .await?)
    }
}

/// Inserts attempts in one statement (arrays through `unnest`), returning their ids in order.
pub(crate) async fn attempt_insert_many(conn: &mut sqlx::PgConnection, records: &[AttemptRecord]) -> Result<Vec<i64>> {
    macro_rules! column {
        ($field:ident) => {
            records.iter().map(|r| r.$field.clone()).collect::<Vec<_>>()
        };
    }
    Ok(sqlx::query_scalar(
        "INSERT INTO hookd.attempts (delivery_id, event_id, event_type, webhook_id, url, attempt, started_at, duration_ms,
                                     status_code, error, error_detail, response_headers, response_body, body_truncated,
                                     worker, test)
         SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::int[],
                              $7::timestamptz[], $8::int[], $9::int[], $10::text[], $11::text[], $12::jsonb[],
                              $13::bytea[], $14::boolean[], $15::text[], $16::boolean[])
         RETURNING id",
    )
    .bind(column!(delivery_id))
    .bind(column!(event_id))
    .bind(column!(event_type))
    .bind(column!(webhook_id))
    .bind(column!(url))
    .bind(column!(attempt))
    .bind(column!(started_at))
    .bind(column!(duration_ms))
    .bind(column!(status_code))
    .bind(column!(error))
    .bind(column!(error_detail))
    .bind(column!(response_headers))
    .bind(column!(response_body))
    .bind(column!(body_truncated))
    .bind(column!(worker))
    .bind(column!(test))
    .fetch_all(conn)
    .await?)
}
