//! `berth tag SOURCE TARGET`: gives an image another name.

use super::api::Api;
use anyhow::Result;

#[derive(clap::Args)]
pub struct Args {
    /// The image: name[:tag] or id
    source: String,
    /// The new name: [host[:port]/]repository[:tag]
    target: String,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    api.image_tag(&args.source, &args.target).await?;
    Ok(0)
}
