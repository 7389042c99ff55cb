//! `berth system df [-v]`, `berth system prune [-a] [--volumes] [-f]` and `berth info` (also
//! `berth system info`): docker's tables and sections, sizes in docker's units.

use super::api::Api;
use super::{format, template};
use anyhow::Result;
use berth_wire::container::ContainerState;
use berth_wire::system::SystemInfo;

#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Show berth disk usage
    Df(DfArgs),
    /// Display system-wide information
    Info(InfoArgs),
    /// Remove stopped containers, unused networks, dangling images (and unused volumes)
    Prune(PruneArgs),
}

#[derive(clap::Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    volumes: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

#[derive(clap::Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    verbose: bool,
}

#[derive(clap::Args)]
pub struct InfoArgs {
    /// Format output using a template ('{{.CgroupVersion}}', '{{json .}}')
    #[arg(short, long)]
    format: Option<String>,
}

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Df(args) => df(api, args).await,
        Command::Info(args) => info(api, args).await,
        Command::Prune(args) => prune(api, args).await,
    }
}

async fn prune(api: &Api, args: PruneArgs) -> Result<i32> {
    let mut warning = String::from(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container",
    );
    if args.volumes {
        warning.push_str("\n  - all anonymous volumes not used by at least one container");
    }
    warning.push_str(if args.all {
        "\n  - all images without at least one container associated to them"
    } else {
        "\n  - all dangling images"
    });
    if !args.force && !super::confirm(&warning)? {
        return Ok(0);
    }
    let report = api.system_prune(args.all, args.volumes).await?;
    super::print_deleted("Containers", &report.containers_deleted);
    super::print_deleted("Networks", &report.networks_deleted);
    super::print_deleted("Volumes", &report.volumes_deleted);
    if !report.images_deleted.is_empty() {
        println!("Deleted Images:");
        super::rmi::print_records(&report.images_deleted, "untagged", "deleted");
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        human_size(report.space_reclaimed)
    );
    Ok(0)
}

fn human_size(bytes: u64) -> String {
    format::size(bytes.min(i64::MAX as u64) as i64)
}

/// `RECLAIMABLE` as docker prints it: `1.2MB (45%)`.
fn reclaimable(bytes: u64, total: u64) -> String {
    let percent = (bytes * 100).checked_div(total).unwrap_or(0);
    format!("{} ({percent}%)", human_size(bytes))
}

async fn df(api: &Api, args: DfArgs) -> Result<i32> {
    let usage = api.system_df().await?;
    let active_images = usage.images.iter().filter(|i| i.containers > 0).count();
    // What removing every unused image would free: their layers no used image shares.
    let used_images: u64 = usage
        .images
        .iter()
        .filter(|i| i.containers > 0)
        .map(|i| i.size)
        .sum();
    let images_reclaimable = usage.layers_size.saturating_sub(used_images);
    let running = |s: ContainerState| matches!(s, ContainerState::Running | ContainerState::Paused);
    let containers_size: u64 = usage.containers.iter().map(|c| c.size_rw).sum();
    let containers_reclaimable: u64 = usage
        .containers
        .iter()
        .filter(|c| !running(c.container.state))
        .map(|c| c.size_rw)
        .sum();
    let volume_size =
        |v: &berth_wire::volume::Volume| v.usage_data.map_or(0, |u| u.size.max(0) as u64);
    let in_use = |v: &berth_wire::volume::Volume| v.usage_data.is_some_and(|u| u.ref_count > 0);
    let volumes_size: u64 = usage.volumes.iter().map(volume_size).sum();
    let volumes_reclaimable: u64 = usage
        .volumes
        .iter()
        .filter(|v| !in_use(v))
        .map(volume_size)
        .sum();
    let row = |kind: &str, total: usize, active: usize, size: u64, free: u64| {
        vec![
            kind.to_string(),
            total.to_string(),
            active.to_string(),
            human_size(size),
            reclaimable(free, size),
        ]
    };
    if !args.verbose {
        let rows = vec![
            row(
                "Images",
                usage.images.len(),
                active_images,
                usage.layers_size,
                images_reclaimable,
            ),
            row(
                "Containers",
                usage.containers.len(),
                usage
                    .containers
                    .iter()
                    .filter(|c| running(c.container.state))
                    .count(),
                containers_size,
                containers_reclaimable,
            ),
            row(
                "Local Volumes",
                usage.volumes.len(),
                usage.volumes.iter().filter(|v| in_use(v)).count(),
                volumes_size,
                volumes_reclaimable,
            ),
            // berth has no image builder, so no build cache.
            row("Build Cache", 0, 0, 0, 0),
        ];
        print!(
            "{}",
            format::table(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], &rows)
        );
        return Ok(0);
    }
    let now = format::now_ms();
    println!("Images space usage:\n");
    let mut rows = Vec::new();
    for image in &usage.images {
        let short_id = format::short_id(&image.id);
        let tags: Vec<(String, String)> = match image.repo_tags.is_empty() {
            true => vec![("<none>".into(), "<none>".into())],
            false => image
                .repo_tags
                .iter()
                .map(|t| match t.rsplit_once(':') {
                    Some((repo, tag)) if !tag.contains('/') => (repo.into(), tag.into()),
                    _ => (t.clone(), "<none>".into()),
                })
                .collect(),
        };
        for (repo, tag) in tags {
            rows.push(vec![
                repo,
                tag,
                short_id.clone(),
                image
                    .created
                    .as_deref()
                    .map(format::age)
                    .unwrap_or_default(),
                human_size(image.size),
                human_size(image.shared_size),
                human_size(image.unique_size()),
                image.containers.to_string(),
            ]);
        }
    }
    print!(
        "{}",
        format::table(
            &[
                "REPOSITORY",
                "TAG",
                "IMAGE ID",
                "CREATED",
                "SIZE",
                "SHARED SIZE",
                "UNIQUE SIZE",
                "CONTAINERS"
            ],
            &rows
        )
    );
    println!("\nContainers space usage:\n");
    let rows: Vec<Vec<String>> = usage
        .containers
        .iter()
        .map(|c| {
            let s = &c.container;
            vec![
                s.id.chars().take(12).collect(),
                s.image.clone(),
                format!("\"{}\"", s.command.chars().take(20).collect::<String>()),
                c.local_volumes.to_string(),
                human_size(c.size_rw),
                format!("{} ago", format::duration(now - s.created_at_ms)),
                format::status(s, now),
                s.name.clone(),
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
                "LOCAL VOLUMES",
                "SIZE",
                "CREATED",
                "STATUS",
                "NAMES"
            ],
            &rows
        )
    );
    println!("\nLocal Volumes space usage:\n");
    let rows: Vec<Vec<String>> = usage
        .volumes
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.usage_data.map_or(0, |u| u.ref_count).to_string(),
                human_size(volume_size(v)),
            ]
        })
        .collect();
    print!(
        "{}",
        format::table(&["VOLUME NAME", "LINKS", "SIZE"], &rows)
    );
    println!("\nBuild cache usage: 0B");
    Ok(0)
}

pub async fn info(api: &Api, args: InfoArgs) -> Result<i32> {
    let info = api.info().await?;
    if let Some(format) = &args.format {
        println!("{}", template::render(format, &info)?);
        return Ok(0);
    }
    let i: SystemInfo = serde_json::from_value(info)?;
    let lines = [
        format!("Containers: {}", i.containers),
        format!(" Running: {}", i.containers_running),
        format!(" Paused: {}", i.containers_paused),
        format!(" Stopped: {}", i.containers_stopped),
        format!("Images: {}", i.images),
        format!("Volumes: {}", i.volumes),
        format!("Networks: {}", i.networks),
        format!("Server Version: {}", i.server_version),
        format!("Storage Driver: {}", i.driver),
        format!(" Backing Filesystem: {}", i.backing_filesystem),
        format!("Logging Driver: {}", i.logging_driver),
        format!("Cgroup Driver: {}", i.cgroup_driver),
        format!("Cgroup Version: {}", i.cgroup_version),
        "Plugins:".to_string(),
        " Volume: local".to_string(),
        " Network: bridge host null".to_string(),
        format!(
            "Default Bridge: {} ({})",
            i.default_bridge, i.default_bridge_subnet
        ),
        format!("Kernel Version: {}", i.kernel_version),
        format!("Operating System: {}", i.operating_system),
        format!("OSType: {}", i.os_type),
        format!("Architecture: {}", i.architecture),
        format!("CPUs: {}", i.ncpu),
        format!("Total Memory: {}", human_size(i.mem_total)),
        format!("Name: {}", i.name),
        format!("ID: {}", i.id),
        format!("Berth Root Dir: {}", i.docker_root_dir),
    ];
    for line in lines {
        println!("{line}");
    }
    Ok(0)
}
