//! `berth events [--since T] [--until T] [--filter K=V]… [--format TEMPLATE]`: prints engine
//! events as docker does (`TIME TYPE ACTION ID (k=v, …)`), streaming until `--until` passes or
//! the user interrupts.

use super::api::{Api, Events};
use super::template;
use crate::api::logs::rfc3339;
use anyhow::{anyhow, Context, Result};
use berth_engine::events::EventFilter;
use berth_wire::event::Event;
use http_body_util::BodyExt;
use std::io::Write;

#[derive(clap::Args)]
pub struct Args {
    /// Show events created since a time (RFC 3339, unix seconds) or a duration ago (e.g. 10m)
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this time (RFC 3339, unix seconds) or a duration ago
    #[arg(long)]
    until: Option<String>,
    /// Filter output based on conditions provided (type, event, container, image, volume,
    /// network, label)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output using a template ('{{json .}}', '{{.Action}} {{.Actor.ID}}')
    #[arg(long)]
    format: Option<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let mut filter = EventFilter::default();
    for text in &args.filter {
        filter.add_text(text)?;
    }
    let query = Events {
        since: args.since.as_deref(),
        until: args.until.as_deref(),
        filters: &filter,
    };
    let mut body = api.events(&query).await?;
    let mut pending: Vec<u8> = Vec::new();
    let stdout = std::io::stdout();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow!("the event stream broke: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        pending.extend_from_slice(&data);
        let mut out = stdout.lock();
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let value: serde_json::Value =
                serde_json::from_slice(&line).context("the daemon sent an unreadable event")?;
            if let Some(error) = value.get("error").and_then(|e| e.as_str()) {
                return Err(anyhow!("{error}"));
            }
            let text = match &args.format {
                Some(format) => template::render(format, &value)?,
                None => line_of(&serde_json::from_value(value)?),
            };
            writeln!(out, "{text}")?;
        }
        out.flush()?;
    }
    Ok(0)
}

/// docker's text line: `2026-11-28T03:59:00.123456789Z container die <id> (exitCode=0, name=x)`.
pub fn line_of(event: &Event) -> String {
    let attributes: Vec<String> = event
        .actor
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let mut line = format!(
        "{} {} {} {}",
        rfc3339(event.time_nano),
        event.kind.as_str(),
        event.action,
        event.actor.id
    );
    if !attributes.is_empty() {
        line.push_str(&format!(" ({})", attributes.join(", ")));
    }
    line
}
