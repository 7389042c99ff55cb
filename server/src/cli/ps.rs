//! `berth ps [-a] [-q] [-s] [-f K=V]… [-n N|-l] [--no-trunc] [--format T]`: the container table.

use super::api::{Api, ContainerList};
use super::{format, template};
use anyhow::Result;
use berth_engine::filters::Filters;
use berth_wire::container::ContainerSummary;
use serde_json::{json, Value};

/// docker's default columns.
const DEFAULT_FORMAT: &str =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

#[derive(clap::Args)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Only display container ids
    #[arg(short, long)]
    quiet: bool,
    /// Filter output based on conditions provided (id, name, label, status, exited, ancestor,
    /// before, since, volume, network, publish, expose)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last")]
    last: Option<usize>,
    /// Show the latest created container (includes all states)
    #[arg(short, long)]
    latest: bool,
    /// Display total file sizes
    #[arg(short, long)]
    size: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Format output: 'table', 'table TEMPLATE', 'json' or a template ('{{.ID}} {{.Names}}')
    #[arg(long)]
    format: Option<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let filters = Filters::from_args(&args.filter)?;
    let list = ContainerList {
        all: Some(args.all),
        size: Some(args.size || args.format.as_deref().is_some_and(|f| f.contains(".Size"))),
        filters: Some(&filters),
        limit: if args.latest { Some(1) } else { args.last },
    };
    let containers = api.containers(&list).await?;
    if args.quiet {
        for c in &containers {
            println!("{}", format::list_id(&c.id, args.no_trunc));
        }
        return Ok(0);
    }
    let now = format::now_ms();
    let rows: Vec<Value> = containers
        .iter()
        .map(|c| fields(c, now, args.no_trunc))
        .collect();
    let default = if args.size {
        format!("{DEFAULT_FORMAT}\t{{{{.Size}}}}")
    } else {
        DEFAULT_FORMAT.to_string()
    };
    let format = match args.format.as_deref() {
        None | Some("") | Some("table") => default.as_str(),
        Some(other) => other,
    };
    print!("{}", template::render_list(format, &rows, &header)?);
    Ok(0)
}

/// docker's `ps` template fields of one container, all text.
fn fields(c: &ContainerSummary, now: i64, no_trunc: bool) -> Value {
    let mut command = c.command.clone();
    if !no_trunc && command.chars().count() > 20 {
        command = command.chars().take(19).collect::<String>() + "…";
    }
    let joined = |items: Vec<String>| items.join(",");
    json!({
        "ID": format::list_id(&c.id, no_trunc),
        "Image": c.image,
        "Command": format!("\"{command}\""),
        "CreatedAt": format::timestamp(c.created_at_ms),
        "RunningFor": format!("{} ago", format::duration(now - c.created_at_ms)),
        "Ports": berth_engine::network::display_ports(&c.ports),
        "State": c.status_word(),
        "Status": format::status(c, now),
        "Names": c.name,
        "Labels": joined(c.labels.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        "Mounts": joined(c.mounts.iter().filter(|m| !m.name.is_empty()).map(|m| m.name.clone()).collect()),
        "Networks": joined(c.networks.iter().map(|n| n.name.clone()).collect()),
        "Size": match (c.size_rw, c.size_root_fs) {
            (Some(rw), Some(root)) => {
                format!("{} (virtual {})", format::size(rw as i64), format::size(root as i64))
            }
            _ => "0B".to_string(),
        },
    })
}

/// The column title docker gives a field.
fn header(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID",
        "RunningFor" => "CREATED",
        "CreatedAt" => "CREATED AT",
        other => return other.to_uppercase(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_read_like_docker() {
        assert_eq!(header("ID"), "CONTAINER ID");
        assert_eq!(header("RunningFor"), "CREATED");
        assert_eq!(header("Names"), "NAMES");
    }
}
