//! `berth image prune [-a] [-f]`: removes dangling images (or every image no container uses).

use super::{confirm, format, rmi};
use crate::client::Client;
use anyhow::Result;
use berth_engine::ImagePruneReport;
use hyper::Method;

#[derive(clap::Args)]
pub struct Args {
    /// Remove all images no container uses, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not prompt for confirmation
    #[arg(short, long)]
    force: bool,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let warning = if args.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force && !confirm(warning)? {
        return Ok(0);
    }
    let report: ImagePruneReport = client
        .json(
            Method::POST,
            &format!("/api/v1/images/prune?all={}", args.all),
            None::<&()>,
        )
        .await?;
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
