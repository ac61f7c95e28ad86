//! `hookd webhook ...`: add, list, show, update, enable, disable, delete, and Send Test Event.

use std::process::ExitCode;

use hookd_core::headers::parse_header_line;
use hookd_core::rate::parse_max_rps;
use hookd_core::signing::SigningSecret;
use hookd_core::target::TargetPolicy;
use hookd_core::webhook::{FieldError, WebhookFields, WebhookInput};
use hookd_store::webhook::{Webhook, WebhookFilter};
use serde_json::json;

use crate::cli::WebhookCommand;
use crate::config::Config;

pub async fn run(config: &Config, cmd: WebhookCommand) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    let policy = config.target_policy();
    match cmd {
        WebhookCommand::Add { name, url, events, integration, headers, max_rps, out } => {
            let max_rps = max_rps.as_deref().map(parse_max_rps).transpose()?.flatten();
            let input = WebhookInput { name: Some(name), url: Some(url), events: Some(events), headers: Some(header_pairs(&headers)?) };
            let fields = vetted(input.validate(&policy)?, &policy).await?;
            let secret = SigningSecret::from_key(rand::random()).expose();
            let mut webhook = store.webhook_insert(&fields, &secret, &integration).await?;
            if max_rps.is_some() {
                webhook = store.webhook_set_max_rps(webhook.id, max_rps).await?;
            }
            let mut value = serde_json::to_value(&webhook)?;
            value["secret"] = json!(secret);
            super::print(out, &value, |_| {
                format!("{}\n\nid:     {}\nsecret: {}\n(keep the secret: receivers verify signatures with it)", render(&webhook), webhook.id, secret)
            });
        }
        WebhookCommand::List { search, event, active, out } => {
            let filter = WebhookFilter { search, event, active, limit: i64::MAX, offset: 0 };
            let (webhooks, _) = store.webhook_list(&filter).await?;
            super::print(out, &webhooks, |w| table(w));
        }
        WebhookCommand::Show { id, reveal, out } => {
            let webhook = store.webhook_get(id).await?;
            let mut value = serde_json::to_value(&webhook)?;
            if reveal {
                value["secret"] = json!(webhook.secret);
            }
            super::print(out, &value, |_| {
                let mut text = render(&webhook);
                if reveal {
                    text.push_str(&format!("\nsecret:          {}", webhook.secret));
                }
                text
            });
        }
        WebhookCommand::Update { id, name, url, events, headers, clear_headers, max_rps, out } => {
            let max_rps = max_rps.as_deref().map(parse_max_rps).transpose()?;
            let headers = if clear_headers { Some(Vec::new()) } else if headers.is_empty() { None } else { Some(header_pairs(&headers)?) };
            let input = WebhookInput { name, url, events: (!events.is_empty()).then_some(events), headers };
            let fields = vetted(input.validate(&policy)?, &policy).await?;
            let mut webhook = store.webhook_update(id, &fields, None).await?;
            if let Some(max_rps) = max_rps {
                webhook = store.webhook_set_max_rps(id, max_rps).await?;
            }
            super::print(out, &webhook, render);
        }
        WebhookCommand::Enable { id, out } => {
            let webhook = store.webhook_set_active(id, true, None).await?;
            super::print(out, &webhook, render);
        }
        WebhookCommand::Disable { id, reason, out } => {
            let webhook = store.webhook_set_active(id, false, Some(&reason)).await?;
            super::print(out, &webhook, render);
        }
        WebhookCommand::Delete { id, out } => {
            store.webhook_delete(id).await?;
            super::print(out, &json!({ "id": id, "deleted": true }), |_| format!("deleted webhook {id}"));
        }
        WebhookCommand::RotateSecret { id, grace, out } => {
            let secret = SigningSecret::from_key(rand::random()).expose();
            let webhook = store.webhook_rotate_secret(id, &secret, *grace).await?;
            let expires = webhook.previous_secret_expires_at.unwrap_or_else(chrono::Utc::now);
            let value = json!({ "id": id, "secret": secret, "previous_secret_expires_at": expires });
            super::print(out, &value, |_| {
                format!(
                    "new secret: {secret}
the previous secret also signs until {} (two signatures per request until then)",
                    expires.to_rfc3339()
                )
            });
        }
        WebhookCommand::Test { id, event, out } => {
            let webhook = store.webhook_get(id).await?;
            let sender = super::sender(config)?;
            let outcome = hookd_worker::test_event::send_test_event(&store, &sender, &webhook, event.as_deref(), "cli").await?;
            let r = &outcome.response;
            let body = String::from_utf8_lossy(&r.body);
            let value = json!({
                "success": r.is_success(),
                "status_code": r.status,
                "duration_ms": r.duration.as_millis() as u64,
                "error": r.error.map(|e| e.as_str()),
                "error_detail": r.error_detail,
                "response_headers": r.headers_json(),
                "body_excerpt": body.chars().take(1000).collect::<String>(),
                "body_truncated": r.body_truncated,
                "event_id": outcome.event_id,
                "event_type": outcome.event_type,
                "attempt_id": outcome.attempt_id,
            });
            super::print(out, &value, |_| {
                let verdict = if r.is_success() { "success" } else { "FAILED" };
                let what = match (r.status, r.error) {
                    (Some(status), _) => format!("HTTP {status}"),
                    (None, Some(class)) => format!("{class}: {}", r.error_detail.as_deref().unwrap_or("")),
                    (None, None) => "no response".into(),
                };
                let excerpt: String = body.chars().take(300).collect();
                format!("{verdict}: {what} in {} ms ({} test event {})\n{excerpt}", r.duration.as_millis(), outcome.event_type, outcome.event_id)
            });
            return Ok(if r.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--header 'Name: value'` arguments as pairs; validated with the other fields.
fn header_pairs(lines: &[String]) -> Result<Vec<(String, String)>, FieldError> {
    lines.iter().map(|l| parse_header_line(l).map(|(n, v)| (n.to_owned(), v.to_owned()))).collect()
}

/// Resolves a new URL's host and vets every address, as a delivery will (hookd-send's resolver).
async fn vetted(fields: WebhookFields, policy: &TargetPolicy) -> Result<WebhookFields, FieldError> {
    if let Some(url) = &fields.url {
        hookd_send::resolve::vet_url(url, policy).await.map_err(|e| FieldError::new("url", e))?;
    }
    Ok(fields)
}

fn render(w: &Webhook) -> String {
    let mut lines = vec![
        format!("webhook {}", w.id),
        format!("name:            {}", w.name),
        format!("url:             {}", w.url),
        format!("events:          {}", w.events.join(", ")),
        format!("active:          {}", w.active),
        format!("integration:     {}", w.integration),
        format!("event count:     {}", w.event_count),
        format!("last failed:     {}", w.last_failed_at.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into())),
        format!("created:         {}", w.created_at.to_rfc3339()),
        format!("modified:        {}", w.updated_at.to_rfc3339()),
    ];
    if let Some(reason) = &w.disabled_reason {
        lines.push(format!("disabled reason: {reason}"));
    }
    if let Some(at) = w.disabled_at.filter(|_| !w.active) {
        lines.push(format!("disabled at:     {}", at.to_rfc3339()));
    }
    if let Some(since) = w.failing_since {
        lines.push(format!("failing since:   {}", since.to_rfc3339()));
    }
    if let Some(max_rps) = w.max_rps {
        lines.push(format!("max rps:         {max_rps}"));
    }
    if !w.headers.is_empty() {
        // Names only: values are often credentials (`--json` shows them).
        let names: Vec<&str> = w.headers.keys().map(String::as_str).collect();
        lines.push(format!("headers:         {} (values: --json)", names.join(", ")));
    }
    lines.join("\n")
}

fn table(webhooks: &[Webhook]) -> String {
    let mut out = format!("{:36}  {:20}  {:40}  {:24}  {:>6}  {:11}  {:6}  LAST FAILED", "ID", "NAME", "URL", "EVENTS", "COUNT", "INTEGRATION", "ACTIVE");
    for w in webhooks {
        out.push_str(&format!(
            "\n{:36}  {:20}  {:40}  {:24}  {:>6}  {:11}  {:6}  {}",
            w.id,
            shorten(&w.name, 20),
            shorten(&w.url, 40),
            shorten(&w.events.join(","), 24),
            w.event_count,
            shorten(&w.integration, 11),
            if w.active { "yes" } else { "no" },
            w.last_failed_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into()),
        ));
    }
    out
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}
