//! `berth stats [--no-stream] [CONTAINER…]`: live CPU, memory, network, block I/O and pids,
//! refreshed every second (or printed once), for the named or all running containers.

use super::api::{Api, ContainerList};
use super::format;
use anyhow::Result;
use berth_wire::stats::ContainerStats;
use std::io::Write;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// Print one sample and exit
    #[arg(long = "no-stream")]
    no_stream: bool,
    /// Containers (default: all running)
    containers: Vec<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let running = ContainerList {
        all: Some(false),
        ..ContainerList::default()
    };
    loop {
        let names = if args.containers.is_empty() {
            let running = api.containers(&running).await?;
            running.into_iter().map(|c| c.id).collect()
        } else {
            args.containers.clone()
        };
        let mut rows = Vec::new();
        let mut failed = false;
        for name in &names {
            match api.container_stats(name).await {
                Ok(s) => rows.push(row(&s)),
                Err(e) if args.containers.is_empty() => {
                    // A container may stop between the list and its sample.
                    tracing::debug!("{name}: {e:#}");
                }
                Err(e) => {
                    eprintln!("Error: {e:#}");
                    failed = true;
                }
            }
        }
        let table = format::table(
            &[
                "CONTAINER ID",
                "NAME",
                "CPU %",
                "MEM USAGE / LIMIT",
                "MEM %",
                "NET I/O",
                "BLOCK I/O",
                "PIDS",
                "SHIM MEM",
            ],
            &rows,
        );
        let mut out = std::io::stdout().lock();
        if !args.no_stream {
            // Clear the screen and go home, as docker's live view does.
            write!(out, "\x1b[2J\x1b[H")?;
        }
        write!(out, "{table}")?;
        out.flush()?;
        if args.no_stream {
            return Ok(if failed { 1 } else { 0 });
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn row(s: &ContainerStats) -> Vec<String> {
    let m = &s.sample;
    vec![
        s.id.chars().take(12).collect(),
        s.name.clone(),
        format!("{:.2}%", s.cpu_percent),
        format!(
            "{} / {}",
            binary(m.memory_working_set_bytes),
            binary(m.memory_limit_bytes)
        ),
        format!("{:.2}%", s.memory_percent),
        format!(
            "{} / {}",
            format::size(m.net_rx_bytes as i64),
            format::size(m.net_tx_bytes as i64)
        ),
        format!(
            "{} / {}",
            format::size(m.block_read_bytes as i64),
            format::size(m.block_write_bytes as i64)
        ),
        m.pids.to_string(),
        s.shim_rss_bytes.map_or_else(|| "--".to_string(), binary),
    ]
}

/// Memory in binary units, as docker's stats prints it (`1.5MiB`).
fn binary(bytes: u64) -> String {
    let b = bytes as f64;
    const KIB: f64 = 1024.0;
    if b >= KIB * KIB * KIB {
        format!("{:.2}GiB", b / (KIB * KIB * KIB))
    } else if b >= KIB * KIB {
        format!("{:.2}MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.2}KiB", b / KIB)
    } else {
        format!("{bytes}B")
    }
}

#[cfg(test)]
mod tests {
    use super::binary;

    #[test]
    fn memory_prints_in_binary_units() {
        assert_eq!(binary(512), "512B");
        assert_eq!(binary(1536), "1.50KiB");
        assert_eq!(binary(32 << 20), "32.00MiB");
        assert_eq!(binary(3 << 30), "3.00GiB");
    }
}
