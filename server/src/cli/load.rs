//! `berth load -i FILE`: uploads a `docker save` tar or an OCI archive to the daemon.

use crate::client::Client;
use anyhow::{bail, Result};
use berth_engine::ImageSummary;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The archive to load (a `docker save` tar or an OCI archive)
    #[arg(short = 'i', long = "input")]
    input: PathBuf,
    /// Print nothing
    #[arg(short, long)]
    quiet: bool,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    if !args.input.is_file() {
        bail!("open {}: no such file", args.input.display());
    }
    let loaded: Vec<ImageSummary> = client.upload("/api/v1/images/load", &args.input).await?;
    if !args.quiet {
        for image in &loaded {
            if image.repo_tags.is_empty() {
                println!("Loaded image ID: {}", image.id);
            }
            for tag in &image.repo_tags {
                println!("Loaded image: {tag}");
            }
        }
    }
    Ok(0)
}
