//! Webhooks: where events go, which events, and whether they go at all.

use chrono::{DateTime, Utc};
use hookd_core::headers::CustomHeaders;
use hookd_core::webhook::WebhookFields;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use crate::delivery::delivery_cancel_pending;
use crate::{field_error, Result, Store, StoreError};

const COLUMNS: &str = "id, name, url, events, active, integration, secret, previous_secret, previous_secret_expires_at, \
                       event_count, last_failed_at, disabled_reason, disabled_at, created_at, updated_at, headers, \
                       failing_since, disabled_attempt_id, max_rps";

#[derive(Clone, Serialize, sqlx::FromRow)]
pub struct Webhook {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub integration: String,
    /// Never serialised: shown only on creation and by an explicit reveal.
    #[serde(skip)]
    pub secret: String,
    /// The secret a rotation replaced; it keeps signing beside `secret` until it expires.
    #[serde(skip)]
    pub previous_secret: Option<String>,
    #[serde(skip)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub event_count: i64,
    pub last_failed_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Custom headers sent with every request, lower-case name to value (a JSON object). Shown
    /// to admins; left out of `Debug` so they never reach a log.
    pub headers: Json<CustomHeaders>,
    /// When the current run of failed real attempts began (no success since); `None` while the
    /// endpoint works. A webhook failing for `disable_after` is disabled.
    pub failing_since: Option<DateTime<Utc>>,
    /// The attempt whose response disabled the webhook (a 410), kept in the audit.
    pub disabled_attempt_id: Option<i64>,
    /// Requests per second to this webhook from each worker process; `None` for no limit.
    pub max_rps: Option<i32>,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook").field("id", &self.id).field("name", &self.name).field("url", &self.url).finish_non_exhaustive()
    }
}

impl Webhook {
    /// The secrets a request sent `now` is signed with: the current one, then the previous one
    /// while its grace period lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let Some(previous) = self.live_previous_secret(now) {
            secrets.push(previous);
        }
        secrets
    }

    /// The previous secret, if it still signs at `now`.
    pub fn live_previous_secret(&self, now: DateTime<Utc>) -> Option<&str> {
        match (&self.previous_secret, self.previous_secret_expires_at) {
            (Some(previous), Some(expires)) if expires > now => Some(previous),
            _ => None,
        }
    }
}

/// Filters for listing webhooks; every field is optional.
#[derive(Debug, Clone, Default)]
pub struct WebhookFilter {
    /// Case-insensitive substring of the name or URL.
    pub search: Option<String>,
    /// Webhooks that receive this event type (directly or through `*`).
    pub event: Option<String>,
    pub active: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    pub async fn webhook_insert(&self, fields: &WebhookFields, secret: &str, integration: &str) -> Result<Webhook> {
        let (Some(name), Some(url), Some(events)) = (&fields.name, &fields.url, &fields.events) else {
            return Err(field_error("name", "name, url and events are all required"));
        };
        self.check_events_exist(events).await?;
        let webhook = sqlx::query_as(&format!(
            "INSERT INTO hookd.webhooks (name, url, events, secret, integration, headers) VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        ))
        .bind(name)
        .bind(url.as_str())
        .bind(events)
        .bind(self.seal(secret))
        .bind(integration)
        .bind(Json(fields.headers.clone().unwrap_or_default()))
        .fetch_one(self.pool())
        .await?;
        self.opened(webhook)
    }

    pub async fn webhook_get(&self, id: Uuid) -> Result<Webhook> {
        let webhook = sqlx::query_as(&format!("SELECT {COLUMNS} FROM hookd.webhooks WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))?;
        self.opened(webhook)
    }

    /// Webhooks matching `filter`, oldest first, and how many match in all.
    pub async fn webhook_list(&self, filter: &WebhookFilter) -> Result<(Vec<Webhook>, i64)> {
        // strpos, not ILIKE: the text is literal, so `_` and `%` (common in names) match themselves.
        const WHERE: &str = "WHERE ($1::text IS NULL OR strpos(lower(name), lower($1)) > 0 OR strpos(lower(url), lower($1)) > 0)
              AND ($2::text IS NULL OR $2 = ANY (events) OR '*' = ANY (events))
              AND ($3::boolean IS NULL OR active = $3)";
        let rows: Vec<Webhook> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM hookd.webhooks {WHERE} ORDER BY created_at, id LIMIT $4 OFFSET $5"
        ))
        .bind(&filter.search)
        .bind(&filter.event)
        .bind(filter.active)
        .bind(filter.limit)
        .bind(filter.offset)
        .fetch_all(self.pool())
        .await?;
        let total = sqlx::query_scalar(&format!("SELECT count(*) FROM hookd.webhooks {WHERE}"))
            .bind(&filter.search)
            .bind(&filter.event)
            .bind(filter.active)
            .fetch_one(self.pool())
            .await?;
        Ok((rows.into_iter().map(|w| self.opened(w)).collect::<Result<_>>()?, total))
    }

    /// Changes the given fields (and the integration, when given); a new URL applies from the
    /// next attempt on.
    pub async fn webhook_update(&self, id: Uuid, fields: &WebhookFields, integration: Option<&str>) -> Result<Webhook> {
        if let Some(events) = &fields.events {
            self.check_events_exist(events).await?;
        }
        let webhook = sqlx::query_as(&format!(
            "UPDATE hookd.webhooks
             SET name = coalesce($2, name), url = coalesce($3, url), events = coalesce($4, events),
                 integration = coalesce($5, integration), headers = coalesce($6, headers), updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(&fields.name)
        .bind(fields.url.as_ref().map(|u| u.as_str()))
        .bind(&fields.events)
        .bind(integration)
        .bind(fields.headers.as_ref().map(Json))
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))?;
        self.opened(webhook)
    }

    /// Enables (clearing any disabled reason) or disables a webhook. Disabling cancels its
    /// pending deliveries in the same transaction: they stay in the audit as `cancelled`.
    pub async fn webhook_set_active(&self, id: Uuid, active: bool, reason: Option<&str>) -> Result<Webhook> {
        let mut tx = self.pool().begin().await?;
        let webhook: Webhook = sqlx::query_as(&format!(
            "UPDATE hookd.webhooks
             SET active = $2,
                 disabled_reason = CASE WHEN $2 THEN NULL ELSE $3 END,
                 disabled_at = CASE WHEN $2 THEN NULL ELSE now() END,
                 disabled_attempt_id = NULL,
                 failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END,
                 updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(active)
        .bind(reason)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))?;
        if !active {
            delivery_cancel_pending(&mut tx, &[id], "webhook disabled").await?;
        }
        tx.commit().await?;
        self.opened(webhook)
    }

    /// Sets (or, with `None`, removes) the webhook's rate limit; validate it first with
    /// [`hookd_core::rate::validate_max_rps`]. Worker processes apply it from their next claim of
    /// the webhook's deliveries.
    pub async fn webhook_set_max_rps(&self, id: Uuid, max_rps: Option<i32>) -> Result<Webhook> {
        let webhook = sqlx::query_as(&format!(
            "UPDATE hookd.webhooks SET max_rps = $2, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(max_rps)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))?;
        self.opened(webhook)
    }

    /// Deletes a webhook; its pending deliveries are cancelled and its attempts stay in the audit.
    pub async fn webhook_delete(&self, id: Uuid) -> Result<()> {
        let mut tx = self.pool().begin().await?;
        let deleted = sqlx::query("DELETE FROM hookd.webhooks WHERE id = $1").bind(id).execute(&mut *tx).await?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("webhook {id}")));
        }
        delivery_cancel_pending(&mut tx, &[id], "webhook deleted").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Enables or disables many webhooks at once, as [`Store::webhook_set_active`] does one.
    /// Returns how many exist among `ids`.
    pub async fn webhook_set_active_many(&self, ids: &[Uuid], active: bool, reason: Option<&str>) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let changed: Vec<Uuid> = sqlx::query_scalar(
            "UPDATE hookd.webhooks
             SET active = $2,
                 disabled_reason = CASE WHEN $2 THEN NULL ELSE $3 END,
                 disabled_at = CASE WHEN $2 THEN NULL ELSE coalesce(disabled_at, now()) END,
                 disabled_attempt_id = CASE WHEN $2 THEN NULL ELSE disabled_attempt_id END,
                 failing_since = CASE WHEN $2 THEN NULL ELSE failing_since END,
                 updated_at = now()
             WHERE id = ANY ($1) RETURNING id",
        )
        .bind(ids)
        .bind(active)
        .bind(reason)
        .fetch_all(&mut *tx)
        .await?;
        if !active {
            delivery_cancel_pending(&mut tx, &changed, "webhook disabled").await?;
        }
        tx.commit().await?;
        Ok(changed.len() as u64)
    }

    /// Deletes many webhooks at once, as [`Store::webhook_delete`] does one. Returns how many
    /// existed among `ids`.
    pub async fn webhook_delete_many(&self, ids: &[Uuid]) -> Result<u64> {
        let mut tx = self.pool().begin().await?;
        let deleted: Vec<Uuid> = sqlx::query_scalar("DELETE FROM hookd.webhooks WHERE id = ANY ($1) RETURNING id")
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
        delivery_cancel_pending(&mut tx, &deleted, "webhook deleted").await?;
        tx.commit().await?;
        Ok(deleted.len() as u64)
    }

    /// Replaces the signing secret with `new_secret`. The old one keeps signing beside it for
    /// `grace` (two signatures per request), then is dropped; a second rotation within the grace
    /// period drops the oldest at once.
    pub async fn webhook_rotate_secret(&self, id: Uuid, new_secret: &str, grace: std::time::Duration) -> Result<Webhook> {
        let webhook = sqlx::query_as(&format!(
            "UPDATE hookd.webhooks
             SET previous_secret = secret, previous_secret_expires_at = now() + make_interval(secs => $3),
                 secret = $2, updated_at = now()
             WHERE id = $1 RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(self.seal(new_secret))
        .bind(grace.as_secs_f64())
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))?;
        self.opened(webhook)
    }

    /// Seals every secret still stored in the clear, once a key is configured. Returns how many
    /// webhooks it changed.
    pub async fn webhook_seal_secrets(&self) -> Result<u64> {
        if self.sealing.is_none() {
            return Ok(0);
        }
        let plain: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
            "SELECT id, secret, previous_secret FROM hookd.webhooks
             WHERE secret NOT LIKE 'sealed:%' OR previous_secret NOT LIKE 'sealed:%'",
        )
        .fetch_all(self.pool())
        .await?;
        let reseal = |stored: &str| -> Result<String> {
            Ok(if hookd_core::sealing::is_sealed(stored) { stored.to_owned() } else { self.seal(stored) })
        };
        for (id, secret, previous) in &plain {
            sqlx::query("UPDATE hookd.webhooks SET secret = $2, previous_secret = $3 WHERE id = $1 AND secret = $4")
                .bind(id)
                .bind(reseal(secret)?)
                .bind(previous.as_deref().map(reseal).transpose()?)
                .bind(secret)
                .execute(self.pool())
                .await?;
        }
        Ok(plain.len() as u64)
    }

    /// A webhook with its secrets opened.
    fn opened(&self, mut webhook: Webhook) -> Result<Webhook> {
        webhook.secret = self.open(&webhook.secret)?;
        webhook.previous_secret = webhook.previous_secret.as_deref().map(|s| self.open(s)).transpose()?;
        Ok(webhook)
    }

    async fn check_events_exist(&self, events: &[String]) -> Result<()> {
        let unknown = self.event_type_unknown(events).await?;
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(field_error("events", format!("unknown event type(s): {} (see `hookd events list`)", unknown.join(", "))))
        }
    }
}
