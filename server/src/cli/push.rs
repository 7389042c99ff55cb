//! `berth push [-q] NAME[:TAG]`: asks the daemon to push a local image and renders its
//! progress as docker does (`Preparing`, `Pushing [==>  ]`, `Pushed`, `Layer already exists`,
//! `Mounted from …`, then `TAG: digest: … size: …`).

use super::pull::{follow, Output};
use super::segment;
use crate::client::Client;
use anyhow::Result;
use berth_engine::PushResult;

#[derive(clap::Args)]
pub struct Args {
    /// Suppress the progress output; print only the pushed reference
    #[arg(short, long)]
    quiet: bool,
    /// The image to push: [host[:port]/]repository[:tag] (tag latest when none is given)
    name: String,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let output = if args.quiet {
        Output::Quiet
    } else {
        Output::Stdout
    };
    let path = format!("/api/v1/images/{}/push", segment(&args.name));
    let result: PushResult = follow(client, &path, output, "push").await?;
    if args.quiet {
        println!("{}", result.reference);
    }
    Ok(0)
}
