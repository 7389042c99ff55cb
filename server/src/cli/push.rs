//! `berth push [-q] [--compression gzip|zstd] NAME[:TAG]`: asks the daemon to push a local
//! image and renders its progress as docker does (`Preparing`, `Pushing [==>  ]`, `Pushed`,
//! `Layer already exists`, `Mounted from …`, then `TAG: digest: … size: …`). Layers stored
//! uncompressed (loaded, imported) are sent compressed; `Pushing` counts compressed bytes.

use super::api::Api;
use super::pull::{follow, Output};
use anyhow::Result;
use berth_wire::image::PushResult;

#[derive(clap::Args)]
pub struct Args {
    /// Suppress the progress output; print only the pushed reference
    #[arg(short, long)]
    quiet: bool,
    /// Compress layers stored uncompressed with gzip (the default) or zstd (then the manifest
    /// is an OCI one); layers already compressed are sent as they are
    #[arg(long, value_parser = ["gzip", "zstd"])]
    compression: Option<String>,
    /// The image to push: [host[:port]/]repository[:tag] (tag latest when none is given)
    name: String,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let output = if args.quiet {
        Output::Quiet
    } else {
        Output::Stdout
    };
    let body = api
        .image_push(&args.name, args.compression.as_deref())
        .await?;
    let result: PushResult = follow(body, output, "push").await?;
    if args.quiet {
        println!("{}", result.reference);
    }
    Ok(0)
}
