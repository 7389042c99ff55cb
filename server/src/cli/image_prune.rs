//! `berth image prune [-a] [-f]`: removes dangling images (or every image no container uses).

use super::api::Api;
use super::{confirm, format, rmi};
use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// Remove all images no container uses, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let warning = if args.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force && !confirm(warning)? {
        return Ok(0);
    }
    let report = api.image_prune(args.all).await?;
    if !report.images_deleted.is_empty() {
        println!("Deleted Images:");
        rmi::print_records(&report.images_deleted, "untagged", "deleted");
        println!();
    }
    println!(
        "Total reclaimed space: {}",
        format::size(report.space_reclaimed as i64)
    );
    Ok(0)
}
