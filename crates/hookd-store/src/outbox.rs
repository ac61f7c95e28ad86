//! The outbox: producers' rows, and the fan-out that turns each into one delivery per subscribed,
//! active webhook.

use uuid::Uuid;

use crate::{Result, Store, DELIVERIES_CHANNEL};

/// An event as the outbox recorded it.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Published {
    pub event_id: Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// What one fan-out batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FanOut {
    pub events: i64,
    pub deliveries: i64,
}

impl Store {
    /// Publishes one event the way a producer does, with a plain INSERT (the demo and tests use it;
    /// producers write the same SQL inside their own transactions).
    pub async fn outbox_publish(&self, event_type: &str, payload: &serde_json::Value) -> Result<Uuid> {
        Ok(sqlx::query_scalar("INSERT INTO hookd.outbox (event_type, payload) VALUES ($1, $2) RETURNING event_id")
            .bind(event_type)
            .bind(payload)
            .fetch_one(self.pool())
            .await?)
    }

    /// Publishes many events in one INSERT, in one transaction, as a batching producer would.
    pub async fn outbox_publish_many(&self, events: &[(String, serde_json::Value)]) -> Result<Vec<Published>> {
        let (types, payloads): (Vec<&str>, Vec<&serde_json::Value>) = events.iter().map(|(t, p)| (t.as_str(), p)).unzip();
        Ok(sqlx::query_as(
            "INSERT INTO hookd.outbox (event_type, payload)
             SELECT * FROM unnest($1::text[], $2::jsonb[]) RETURNING event_id, created_at",
        )
        .bind(types)
        .bind(payloads)
        .fetch_all(self.pool())
        .await?)
    }

    /// Takes up to `limit` committed, not yet fanned-out rows and creates their deliveries, in one
    /// statement. Rows locked by another worker's fan-out are skipped, not waited for. An event
    /// with no subscriber is stamped with `webhook_count = 0` and leaves the queue like any other.
    pub async fn outbox_fan_out_batch(&self, limit: i64) -> Result<FanOut> {
        let (events, deliveries): (i64, i64) = sqlx::query_as(
            "WITH batch AS (
                 SELECT id, event_id, event_type, created_at FROM hookd.outbox
                 WHERE fanned_out_at IS NULL
                 ORDER BY id
                 LIMIT $1
                 FOR UPDATE SKIP LOCKED
             ), created AS (
                 INSERT INTO hookd.deliveries (event_id, webhook_id)
                 SELECT b.event_id, w.id
                 FROM batch b
                 -- A webhook receives the events published after it was added, not a backlog
                 -- that happened to wait in the outbox while hookd was down.
                 JOIN hookd.webhooks w ON w.active AND w.created_at <= b.created_at
                                      AND (b.event_type = ANY (w.events) OR '*' = ANY (w.events))
                 ON CONFLICT ON CONSTRAINT delivery_once_per_webhook DO NOTHING
                 RETURNING event_id
             ), per_event AS (
                 SELECT event_id, count(*) AS n FROM created GROUP BY event_id
             ), stamped AS (
                 UPDATE hookd.outbox o
                 SET fanned_out_at = now(), webhook_count = coalesce(p.n, 0)
                 FROM batch b LEFT JOIN per_event p ON p.event_id = b.event_id
                 WHERE o.id = b.id
                 RETURNING o.webhook_count
             )
             SELECT count(*), coalesce(sum(webhook_count), 0)::bigint FROM stamped",
        )
        .bind(limit)
        .fetch_one(self.pool())
        .await?;
        if deliveries > 0 {
            // A hint for claimers in other processes; this process wakes its own directly.
            sqlx::query("SELECT pg_notify($1, '')").bind(DELIVERIES_CHANNEL).execute(self.pool()).await?;
        }
        Ok(FanOut { events, deliveries })
    }

    /// Whether an event with this id was ever published.
    pub async fn outbox_event_exists(&self, event_id: Uuid) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM hookd.outbox WHERE event_id = $1)")
            .bind(event_id)
            .fetch_one(self.pool())
            .await?)
    }
}
