//! `berth ps [-a] [-q]`: the container table.

use super::format;
use crate::client::Client;
use anyhow::Result;
use berth_engine::container::ContainerSummary;
use hyper::Method;

#[derive(clap::Args)]
pub struct Args {
    /// Show all containers (default shows just running)
    #[arg(short, long)]
    all: bool,
    /// Only display container ids
    #[arg(short, long)]
    quiet: bool,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let path = format!("/api/v1/containers?all={}", args.all);
    let containers: Vec<ContainerSummary> = client.json(Method::GET, &path, None::<&()>).await?;
    if args.quiet {
        for c in &containers {
            println!("{}", &c.id[..12.min(c.id.len())]);
        }
        return Ok(0);
    }
    let now = format::now_ms();
    let rows: Vec<Vec<String>> = containers
        .iter()
        .map(|c| {
            let mut command = c.command.clone();
            if command.chars().count() > 20 {
                command = command.chars().take(19).collect::<String>() + "…";
            }
            vec![
                c.id.chars().take(12).collect(),
                c.image.clone(),
                format!("\"{command}\""),
                format!("{} ago", format::duration(now - c.created_at_ms)),
                format::status(c, now),
                berth_engine::network::display_ports(&c.ports),
                c.name.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        format::table(
            &[
                "CONTAINER ID",
                "IMAGE",
                "COMMAND",
                "CREATED",
                "STATUS",
                "PORTS",
                "NAMES"
            ],
            &rows
        )
    );
    Ok(0)
}
