//! `berth volume create|ls|inspect|rm|prune`: the volume verbs, printed as docker prints them.

use super::api::Api;
use super::{format, inspect, template};
use anyhow::{anyhow, Result};
use berth_wire::volume::CreateVolume;
use berth_wire::volume::VolumeFilters;

#[derive(clap::Subcommand)]
#[command(defer = true)]
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

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Create(a) => create(api, a).await,
        Command::Ls(a) => ls(api, a).await,
        Command::Inspect(a) => inspect::each(api, &a.volumes, &[inspect::Kind::Volume], None).await,
        Command::Rm(a) => rm(api, a).await,
        Command::Prune(a) => prune(api, a).await,
    }
}

async fn create(api: &Api, args: CreateArgs) -> Result<i32> {
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
    let volume = api.volume_create(&body).await?;
    println!("{}", volume.name);
    Ok(0)
}

async fn ls(api: &Api, args: LsArgs) -> Result<i32> {
    let filters = volume_filters(&args.filter)?;
    let volumes = api.volumes(&filters).await?;
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

/// `--filter`s as the daemon takes them: each of dangling, name and label at most once.
fn volume_filters(texts: &[String]) -> Result<VolumeFilters> {
    let mut filters = VolumeFilters::default();
    for text in texts {
        let invalid = || anyhow!("invalid filter {text:?}: dangling=true|false, name=…, label=…");
        let (key, value) = text.split_once('=').ok_or_else(invalid)?;
        let twice = match key {
            "dangling" => filters
                .dangling
                .replace(value.parse().map_err(|_| invalid())?)
                .is_some(),
            "name" => filters.name.replace(value.to_string()).is_some(),
            "label" => filters.label.replace(value.to_string()).is_some(),
            _ => return Err(invalid()),
        };
        if twice {
            return Err(anyhow!(
                "invalid filter {text:?}: only one {key} filter is taken"
            ));
        }
    }
    Ok(filters)
}

async fn rm(api: &Api, args: RmArgs) -> Result<i32> {
    let mut failed = false;
    for name in &args.volumes {
        match api.volume_remove(name, args.force).await {
            Ok(()) => println!("{name}"),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

async fn prune(api: &Api, args: PruneArgs) -> Result<i32> {
    let warning = if args.all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !args.force && !super::confirm(warning)? {
        return Ok(0);
    }
    let report = api.volume_prune(args.all).await?;
    super::print_deleted("Volumes", &report.volumes_deleted);
    println!(
        "Total reclaimed space: {}",
        format::size(report.space_reclaimed as i64)
    );
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volume_filters_are_typed() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let filters = volume_filters(&texts(&["dangling=true", "label=a=b"])).unwrap();
        assert_eq!(filters.dangling, Some(true));
        assert_eq!(filters.label.as_deref(), Some("a=b"));
        assert_eq!(filters.name, None);
        assert!(volume_filters(&texts(&["dangling=maybe"])).is_err());
        assert!(volume_filters(&texts(&["driver=local"])).is_err());
        assert!(volume_filters(&texts(&["name=a", "name=b"])).is_err());
    }
}
