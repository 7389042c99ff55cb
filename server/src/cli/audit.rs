//! `berth audit`: the daemon's audit log, newest first (admin only).

use super::api::Api;
use super::format;
use super::listing::print_objects;
use anyhow::Result;
use berth_wire::auth::AuditEntry;

#[derive(clap::Args)]
pub struct Args {
    /// How many entries to show, newest first
    #[arg(short = 'n', long, default_value_t = 50)]
    limit: usize,
    /// Format output: 'table', 'json' (the API's objects, one a line) or a template
    #[arg(long)]
    format: Option<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let entries = fetch(api, args.limit).await?;
    match args.format.as_deref() {
        None | Some("") | Some("table") => {
            let rows: Vec<Vec<String>> = entries.iter().map(row).collect();
            let header = [
                "TIME", "ACTOR", "KIND", "PEER", "ACTION", "OBJECT", "STATUS",
            ];
            print!("{}", format::table(&header, &rows));
        }
        Some(other) => print_objects(other, &entries)?,
    }
    Ok(0)
}

/// Up to `limit` entries, following the pages if the daemon sends fewer at once.
async fn fetch(api: &Api, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut entries = Vec::new();
    let mut before: Option<i64> = None;
    while entries.len() < limit {
        let want = limit - entries.len();
        let page = api.audit(want, before).await?;
        let got = page.entries.len();
        entries.extend(page.entries.into_iter().take(want));
        match page.next {
            Some(next) if got > 0 && Some(next) != before => before = Some(next),
            _ => break,
        }
    }
    Ok(entries)
}

fn row(entry: &AuditEntry) -> Vec<String> {
    let dash = |s: &str| {
        if s.is_empty() {
            "-".to_string()
        } else {
            s.to_string()
        }
    };
    vec![
        format::timestamp(entry.time_ms),
        dash(&entry.actor),
        entry.actor_kind.clone(),
        entry.peer.clone(),
        entry.action.clone(),
        dash(entry.object.as_deref().unwrap_or_default()),
        entry.status.to_string(),
    ]
}
