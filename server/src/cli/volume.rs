//! `berth volume create|ls|inspect|rm|prune`: the volume verbs, printed as docker prints them.

use super::{format, inspect, segment, template};
use crate::api::CreateVolume;
use crate::client::Client;
use anyhow::{anyhow, Result};
use berth_engine::volume::{Volume, VolumePruneReport};
use hyper::Method;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Create a volume
    Create(CreateArgs),
    /// List volumes
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(InspectArgs),
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm(RmArgs),
    /// Remove unused local volumes
    Prune(PruneArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// Set metadata for a volume (KEY=VALUE)
    #[arg(short, long)]
    label: Vec<String>,
    /// Volume driver name (only "local")
    #[arg(short, long, default_value = "local")]
    driver: String,
    /// Volume name (generated when absent)
    name: Option<String>,
}

#[derive(clap::Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short, long)]
    quiet: bool,
    /// Filter output (dangling=true|false, name=…, label=KEY[=VALUE])
    #[arg(short, long)]
    filter: Vec<String>,
    /// Format output: 'table', 'table TEMPLATE', 'json' or a template ('{{.Name}}')
    #[arg(long)]
    format: Option<String>,
}

#[derive(clap::Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    volumes: Vec<String>,
}

#[derive(clap::Args)]
pub struct RmArgs {
    /// Do not fail on a missing volume (a volume in use is never removed)
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    volumes: Vec<String>,
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub async fn run(client: &Client, command: Command) -> Result<i32> {
    match command {
        Command::Create(a) => create(client, a).await,
        Command::Ls(a) => ls(client, a).await,
        Command::Inspect(a) => inspect::each(client, &a.volumes, &["/api/v1/volumes/{}"]).await,
        Command::Rm(a) => rm(client, a).await,
        Command::Prune(a) => prune(client, a).await,
    }
}

async fn create(client: &Client, args: CreateArgs) -> Result<i32> {
    if args.driver != "local" {
        anyhow::bail!(
            "plugin \"{}\" not found: only the local driver exists",
            args.driver
        );
    }
    let body = CreateVolume {
        name: args.name,
        labels: super::labels(args.label.iter().map(String::as_str)),
    };
    let volume: Volume = client
        .json(Method::POST, "/api/v1/volumes", Some(&body))
        .await?;
    println!("{}", volume.name);
    Ok(0)
}

async fn ls(client: &Client, args: LsArgs) -> Result<i32> {
    let mut query = Vec::new();
    for filter in &args.filter {
        match filter.split_once('=') {
            Some((key @ ("dangling" | "name" | "label"), value)) => {
                query.push(format!("{key}={}", segment(value)))
            }
            _ => {
                return Err(anyhow!(
                    "invalid filter {filter:?}: dangling=true|false, name=…, label=…"
                ))
            }
        }
    }
    let volumes: Vec<Volume> = client
        .json(
            Method::GET,
            &format!("/api/v1/volumes?{}", query.join("&")),
            None::<&()>,
        )
        .await?;
    if args.quiet {
        for volume in &volumes {
            println!("{}", volume.name);
        }
        return Ok(0);
    }
    let values: Vec<serde_json::Value> = volumes
        .iter()
        .map(|v| {
            let labels: Vec<String> = v.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            serde_json::json!({
                "Name": v.name,
                "Driver": v.driver,
                "Scope": v.scope,
                "Mountpoint": v.mountpoint.display().to_string(),
                "Labels": labels.join(","),
                "CreatedAt": v.created_at,
            })
        })
        .collect();
    let format = match args.format.as_deref() {
        None | Some("") | Some("table") => "table {{.Driver}}\t{{.Name}}",
        Some(other) => other,
    };
    let header = |field: &str| match field {
        "Name" => "VOLUME NAME".to_string(),
        "CreatedAt" => "CREATED AT".to_string(),
        other => other.to_uppercase(),
    };
    print!("{}", template::render_list(format, &values, &header)?);
    Ok(0)
}

async fn rm(client: &Client, args: RmArgs) -> Result<i32> {
    let mut failed = false;
    for name in &args.volumes {
        let path = format!("/api/v1/volumes/{}?force={}", segment(name), args.force);
        match client.call(Method::DELETE, &path).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

async fn prune(client: &Client, args: PruneArgs) -> Result<i32> {
    let warning = if args.all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force && !super::confirm(warning)? {
        return Ok(0);
    }
    let report: VolumePruneReport = client
        .json(
            Method::POST,
            &format!("/api/v1/volumes/prune?all={}", args.all),
            None::<&()>,
        )
        .await?;
    super::print_deleted("Volumes", &report.volumes_deleted);
    println!(
        "Total reclaimed space: {}",
        format::size(report.space_reclaimed as i64)
    );
    Ok(0)
}
