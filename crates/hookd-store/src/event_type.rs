//! The event catalog, `hookd.event_types`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{field_error, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct EventTypeRow {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub sample_payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

impl Store {
    pub async fn event_type_list(&self) -> Result<Vec<EventTypeRow>> {
        Ok(sqlx::query_as("SELECT slug, name, description, sample_payload, created_at FROM hookd.event_types ORDER BY created_at, slug")
            .fetch_all(self.pool())
            .await?)
    }

    pub async fn event_type_get(&self, slug: &str) -> Result<EventTypeRow> {
        sqlx::query_as("SELECT slug, name, description, sample_payload, created_at FROM hookd.event_types WHERE slug = $1")
            .bind(slug)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("event type {slug:?}")))
    }

    pub async fn event_type_add(
        &self,
        slug: &str,
        name: &str,
        description: &str,
        sample_payload: &serde_json::Value,
    ) -> Result<EventTypeRow> {
        if !sample_payload.is_object() {
            return Err(field_error("sample_payload", "sample payload must be a JSON object"));
        }
        sqlx::query_as(
            "INSERT INTO hookd.event_types (slug, name, description, sample_payload) VALUES ($1, $2, $3, $4)
             RETURNING slug, name, description, sample_payload, created_at",
        )
        .bind(slug)
        .bind(name)
        .bind(description)
        .bind(sample_payload)
        .fetch_one(self.pool())
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => field_error("slug", format!("event type {slug:?} already exists")),
            sqlx::Error::Database(db) if db.constraint() == Some("event_type_name_not_empty") => field_error("name", "name must not be empty"),
            sqlx::Error::Database(db) if db.constraint() == Some("event_type_slug_format") => {
                field_error("slug", format!("event type {slug:?} must be lowercase letters, digits, '_', '.' or '-', starting with a letter"))
            }
            _ => e.into(),
        })
    }

    /// The slugs in `events` that are neither `*` nor in the catalog.
    pub async fn event_type_unknown(&self, events: &[String]) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT e FROM unnest($1::text[]) AS e
             WHERE e <> '*' AND NOT EXISTS (SELECT 1 FROM hookd.event_types t WHERE t.slug = e)",
        )
        .bind(events)
        .fetch_all(self.pool())
        .await?)
    }
}
