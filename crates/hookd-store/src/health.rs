//! Endpoint health, judged from real attempts inside the recorder's transaction (README
//! "Endpoint health"):
//!
//! - `failing_since` starts with the first failed attempt after a success and is cleared by a
//!   success (and when an admin re-enables the webhook);
//! - a 410 Gone disables the webhook at once, keeping the attempt's id (its response is in the
//!   audit) in `disabled_attempt_id` and the time in the reason;
//! - a failure when `failing_since` is older than `disable_after` disables it too;
//! - disabling cancels the webhook's pending deliveries, as an admin's disable does.
//!
//! What each attempt says about its endpoint is [`hookd_core::outcome::Observed::endpoint_health`].
//!
//! Like the counters in [`Store::delivery_finish_many`], this never waits for a webhook row that
//! someone else holds (an admin's open transaction): such a webhook's signals go to
//! `hookd.webhook_health_deferred`, and the rescuer folds them in later
//! ([`Store::webhook_health_fold`]), so the webhook is disabled then.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hookd_core::outcome::{EndpointHealth, ErrorClass, Observed};
use uuid::Uuid;

use crate::attempt::AttemptRecord;
use crate::{Result, Store};

/// A webhook the health rules just disabled, and why.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Disabled {
    pub id: Uuid,
    pub reason: String,
}

/// What a recorded attempt says about its endpoint. An error column that is not one of
/// [`ErrorClass`]'s names counts as a transport failure.
pub fn health_of(record: &AttemptRecord) -> EndpointHealth {
    let status = record.status_code.and_then(|s| u16::try_from(s).ok());
    let error = record.error.as_deref().map(|e| ErrorClass::parse(e).unwrap_or(ErrorClass::Request));
    Observed { status, error, retry_after: None }.endpoint_health()
}

/// A timestamp as the reasons show it: `2025-03-01T12:00:00Z`.
macro_rules! utc_text {
    ($column:literal) => {
        concat!("to_char(", $column, " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
    };
}

/// Judges the signals of one batch, for the webhooks it could lock. Expects the CTEs
/// `signals (webhook_id, signal, started_at, attempt_id)` and `lockable (id)` before it, and
/// `disable_after` in seconds (or NULL) as `$1`. Returns the webhooks it disabled.
const JUDGE: &str = concat!(
    ", last_ok AS (
         SELECT s.webhook_id, max(s.started_at) FILTER (WHERE s.signal = 'ok') AS at
         FROM signals s WHERE s.webhook_id IN (SELECT id FROM lockable)
         GROUP BY s.webhook_id
     ), judged AS (
         -- failing_from: the first failure after the batch's last success (or its first failure).
         SELECT s.webhook_id, l.at AS last_ok,
                min(s.started_at) FILTER (WHERE s.signal <> 'ok' AND (l.at IS NULL OR s.started_at > l.at)) AS failing_from,
                min(s.attempt_id) FILTER (WHERE s.signal = 'gone') AS gone_attempt,
                min(s.started_at) FILTER (WHERE s.signal = 'gone') AS gone_at
         FROM signals s JOIN last_ok l ON l.webhook_id = s.webhook_id
         GROUP BY s.webhook_id, l.at
     ), next AS (
         SELECT w.id, w.active AS was_active, j.gone_attempt, j.gone_at, j.failing_from,
                CASE WHEN j.last_ok IS NOT NULL AND (w.failing_since IS NULL OR w.failing_since <= j.last_ok)
                     THEN j.failing_from
                     ELSE least(w.failing_since, j.failing_from) END AS failing_since
         FROM hookd.webhooks w JOIN judged j ON j.webhook_id = w.id
     ), verdict AS (
         SELECT n.*,
                CASE WHEN n.gone_attempt IS NOT NULL
                          THEN 'receiver answered 410 Gone at ' || ",
    utc_text!("n.gone_at"),
    " || ' (attempt ' || n.gone_attempt || ')'
                     WHEN n.failing_from IS NOT NULL AND $1::float8 IS NOT NULL
                          AND n.failing_since <= now() - make_interval(secs => $1::float8)
                          THEN 'failing without success since ' || ",
    utc_text!("n.failing_since"),
    "
                END AS reason
         FROM next n
     ), updated AS (
         UPDATE hookd.webhooks w
         SET failing_since = v.failing_since,
             active = w.active AND v.reason IS NULL,
             disabled_reason = CASE WHEN w.active AND v.reason IS NOT NULL THEN v.reason ELSE w.disabled_reason END,
             disabled_at = CASE WHEN w.active AND v.reason IS NOT NULL THEN now() ELSE w.disabled_at END,
             disabled_attempt_id = CASE WHEN w.active AND v.reason IS NOT NULL THEN v.gone_attempt ELSE w.disabled_attempt_id END,
             updated_at = CASE WHEN w.active AND v.reason IS NOT NULL THEN now() ELSE w.updated_at END
         FROM verdict v
         WHERE w.id = v.id
           AND (w.failing_since IS DISTINCT FROM v.failing_since OR (w.active AND v.reason IS NOT NULL))
         RETURNING w.id, v.was_active AND v.reason IS NOT NULL AS disabled, v.reason
     )
     SELECT id, reason FROM updated WHERE disabled"
);

/// Records what a batch of attempts says about their endpoints, in the recorder's transaction:
/// `records[i]` was inserted as attempt `attempt_ids[i]`.
pub(crate) async fn health_record(
    conn: &mut sqlx::PgConnection,
    records: &[AttemptRecord],
    attempt_ids: &[i64],
    disable_after: Option<Duration>,
) -> Result<Vec<Disabled>> {
    let mut webhooks: Vec<Uuid> = Vec::with_capacity(records.len());
    let mut signals: Vec<&'static str> = Vec::with_capacity(records.len());
    let mut started: Vec<DateTime<Utc>> = Vec::with_capacity(records.len());
    let mut ids: Vec<i64> = Vec::with_capacity(records.len());
    for (record, id) in records.iter().zip(attempt_ids) {
        let health = health_of(record);
        let Some(webhook) = record.webhook_id else { continue };
        if record.test || health == EndpointHealth::Neutral {
            continue;
        }
        webhooks.push(webhook);
        signals.push(health.as_str());
        started.push(record.started_at);
        ids.push(*id);
    }
    if webhooks.is_empty() {
        return Ok(Vec::new());
    }
    let disabled: Vec<Disabled> = sqlx::query_as(&format!(
        "WITH signals AS (
             SELECT * FROM unnest($2::uuid[], $3::text[], $4::timestamptz[], $5::bigint[])
                 AS s(webhook_id, signal, started_at, attempt_id)
         ), lockable AS (
             -- As for the counters: a webhook row someone else holds is not waited for.
             SELECT w.id FROM hookd.webhooks w
             WHERE w.id IN (SELECT webhook_id FROM signals)
             FOR NO KEY UPDATE SKIP LOCKED
         ), deferred AS (
             INSERT INTO hookd.webhook_health_deferred (webhook_id, signal, started_at, attempt_id)
             SELECT s.webhook_id, s.signal, s.started_at, s.attempt_id FROM signals s
             WHERE s.webhook_id NOT IN (SELECT id FROM lockable)
               AND EXISTS (SELECT 1 FROM hookd.webhooks w WHERE w.id = s.webhook_id)
         )
         {JUDGE}"
    ))
    .bind(disable_after.map(|d| d.as_secs_f64()))
    .bind(&webhooks)
    .bind(&signals)
    .bind(&started)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?;
    cancel_pending_of(conn, &disabled).await?;
    Ok(disabled)
}

/// Cancels the pending deliveries of webhooks just disabled (kept in the audit as `cancelled`),
/// and says so in the log.
async fn cancel_pending_of(conn: &mut sqlx::PgConnection, disabled: &[Disabled]) -> Result<()> {
    if disabled.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = disabled.iter().map(|d| d.id).collect();
    let cancelled = crate::delivery::delivery_cancel_pending(conn, &ids, "webhook disabled").await?;
    for d in disabled {
        tracing::warn!(webhook_id = %d.id, reason = %d.reason, "webhook disabled; its pending deliveries are cancelled");
    }
    if cancelled > 0 {
        tracing::info!(cancelled, "cancelled the pending deliveries of disabled webhooks");
    }
    Ok(())
}

impl Store {
    /// Folds in the health signals deferred because their webhook's row was locked, now that it
    /// is free (signals of webhooks since deleted are dropped). Returns the webhooks it disabled.
    pub async fn webhook_health_fold(&self, disable_after: Option<Duration>) -> Result<Vec<Disabled>> {
        let mut tx = self.pool().begin().await?;
        let disabled: Vec<Disabled> = sqlx::query_as(&format!(
            "WITH orphans AS (
                 DELETE FROM hookd.webhook_health_deferred d
                 WHERE NOT EXISTS (SELECT 1 FROM hookd.webhooks w WHERE w.id = d.webhook_id)
             ), lockable AS (
                 SELECT w.id FROM hookd.webhooks w
                 WHERE w.id IN (SELECT webhook_id FROM hookd.webhook_health_deferred)
                 FOR NO KEY UPDATE SKIP LOCKED
             ), signals AS (
                 DELETE FROM hookd.webhook_health_deferred d
                 WHERE d.webhook_id IN (SELECT id FROM lockable)
                 RETURNING d.webhook_id, d.signal, d.started_at, d.attempt_id
             )
             {JUDGE}"
        ))
        .bind(disable_after.map(|d| d.as_secs_f64()))
        .fetch_all(&mut *tx)
        .await?;
        cancel_pending_of(&mut tx, &disabled).await?;
        tx.commit().await?;
        Ok(disabled)
    }
}
