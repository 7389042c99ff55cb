//! `berth stats [--no-stream] [--format …] [CONTAINER…]`: live CPU, memory, network, block I/O
//! and pids, refreshed every second (or printed once), for the named or all running
//! containers, in docker's columns and units; all containers are read in one request.

use super::api::Api;
use super::format::{binary_size, size};
use super::template;
use anyhow::Result;
use berth_wire::stats::ContainerStats;
use serde_json::{json, Value};
use std::io::Write;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Print one sample and exit
    #[arg(long = "no-stream")]
    no_stream: bool,
    /// Format output using a template: `table TEMPLATE`, `json` or a Go template over
    /// .Container, .ID, .Name, .CPUPerc, .MemUsage, .MemPerc, .NetIO, .BlockIO, .PIDs and
    /// berth's .ShimMem (the container's monitor process)
    #[arg(long)]
    format: Option<String>,
    /// Containers (default: all running)
    containers: Vec<String>,
}

/// docker's default `stats` table.
const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let format = match args.format.as_deref() {
        None | Some("") | Some("table") => DEFAULT_FORMAT,
        Some(other) => other,
    };
    let named = (!args.containers.is_empty()).then_some(args.containers.as_slice());
    loop {
        let stats = match api.stats_many(named).await {
            Ok(stats) => stats,
            Err(e) => {
                eprintln!("Error: {e:#}");
                return Ok(1);
            }
        };
        let rows: Vec<Value> = stats.iter().map(fields).collect();
        let text = template::render_list(format, &rows, &header)?;
        let mut out = std::io::stdout().lock();
        if !args.no_stream {
            // Clear the screen and go home, as docker's live view does.
            write!(out, "\x1b[2J\x1b[H")?;
        }
        write!(out, "{text}")?;
        out.flush()?;
        if args.no_stream {
            return Ok(0);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// docker's `stats` template fields of one container, all text.
fn fields(s: &ContainerStats) -> Value {
    let m = &s.sample;
    json!({
        "Container": s.id.chars().take(12).collect::<String>(),
        "ID": s.id.chars().take(12).collect::<String>(),
        "Name": s.name,
        "CPUPerc": format!("{:.2}%", s.cpu_percent),
        "MemUsage": format!(
            "{} / {}",
            binary_size(m.memory_working_set_bytes),
            binary_size(m.memory_limit_bytes)
        ),
        "MemPerc": format!("{:.2}%", s.memory_percent),
        "NetIO": format!(
            "{} / {}",
            size(m.net_rx_bytes as i64),
            size(m.net_tx_bytes as i64)
        ),
        "BlockIO": format!(
            "{} / {}",
            size(m.block_read_bytes as i64),
            size(m.block_write_bytes as i64)
        ),
        "PIDs": m.pids.to_string(),
        "ShimMem": s.shim_rss_bytes.map_or_else(|| "--".to_string(), binary_size),
    })
}

/// Column titles as docker's.
fn header(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID",
        "Container" => "CONTAINER",
        "CPUPerc" => "CPU %",
        "MemUsage" => "MEM USAGE / LIMIT",
        "MemPerc" => "MEM %",
        "NetIO" => "NET I/O",
        "BlockIO" => "BLOCK I/O",
        "ShimMem" => "SHIM MEM",
        other => return other.to_uppercase(),
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_table_has_dockers_columns_and_units() {
        let stats: ContainerStats = serde_json::from_value(json!({
            "id": "0123456789abcdef", "name": "web", "cpu_percent": 1.234,
            "memory_percent": 0.5, "shim_rss_bytes": 2_097_152,
            "read_at_ns": 0, "cpu_usage_ns": 0, "memory_usage_bytes": 0,
            "memory_working_set_bytes": 4_035_000, "memory_limit_bytes": 1_073_741_824u64,
            "system_cpu_ns": 0, "online_cpus": 2, "pids": 3, "block_read_bytes": 9_240,
            "block_write_bytes": 0, "net_rx_bytes": 522_123_456, "net_tx_bytes": 1_500,
        }))
        .expect("stats");
        let text =
            template::render_list(DEFAULT_FORMAT, &[fields(&stats)], &header).expect("renders");
        let lines: Vec<&str> = text.lines().collect();
        let titles: Vec<&str> = lines[0]
            .split("   ")
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .collect();
        assert_eq!(
            titles,
            [
                "CONTAINER ID",
                "NAME",
                "CPU %",
                "MEM USAGE / LIMIT",
                "MEM %",
                "NET I/O",
                "BLOCK I/O",
                "PIDS"
            ]
        );
        for cell in [
            "0123456789ab",
            "web",
            "1.23%",
            "3.848MiB / 1GiB",
            "0.50%",
            "522MB / 1.5kB",
            "9.24kB / 0B",
            "3",
        ] {
            assert!(lines[1].contains(cell), "{cell} in {:?}", lines[1]);
        }
        assert!(
            !text.contains("SHIM") && !text.contains("2MiB"),
            "extra columns only on request"
        );
        let shim =
            template::render_list("table {{.Name}}\t{{.ShimMem}}", &[fields(&stats)], &header)
                .expect("renders");
        assert!(shim.contains("SHIM MEM") && shim.contains("2MiB"), "{shim}");
    }
}
