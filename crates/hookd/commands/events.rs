//! `hookd events list|show|add`: the event catalog.

use std::process::ExitCode;

use anyhow::Context;
use hookd_core::event_type::EventType;
use hookd_store::event_type::EventTypeRow;

use crate::cli::EventsCommand;
use crate::config::Config;

pub async fn run(config: &Config, cmd: EventsCommand) -> anyhow::Result<ExitCode> {
    let store = super::open_store(config).await?;
    match cmd {
        EventsCommand::List { out } => {
            let types = store.event_type_list().await?;
            super::print(out, &types, |types| {
                let width = types.iter().map(|t| t.slug.len()).max().unwrap_or(0);
                types.iter().map(|t| format!("{:width$}  {}", t.slug, t.description)).collect::<Vec<_>>().join("\n")
            });
        }
        EventsCommand::Show { slug, out } => {
            let t = store.event_type_get(&slug).await?;
            super::print(out, &t, render);
        }
        EventsCommand::Add { slug, name, description, sample, out } => {
            let slug = EventType::parse(&slug).context("slug")?;
            let sample: serde_json::Value = serde_json::from_str(&sample).context("sample: not valid JSON")?;
            let name = name.unwrap_or_else(|| slug.to_string());
            let t = store.event_type_add(slug.as_str(), &name, &description, &sample).await?;
            super::print(out, &t, render);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn render(t: &EventTypeRow) -> String {
    format!(
        "{} ({})\n{}\n\nSample payload:\n{}",
        t.slug,
        t.name,
        t.description,
        serde_json::to_string_pretty(&t.sample_payload).expect("serialisable")
    )
}
