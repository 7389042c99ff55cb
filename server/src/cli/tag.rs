//! `berth tag SOURCE TARGET`: gives an image another name.

use super::segment;
use crate::client::Client;
use anyhow::Result;
use hyper::Method;

#[derive(clap::Args)]
pub struct Args {
    /// The image: name[:tag] or id
    source: String,
    /// The new name: [host[:port]/]repository[:tag]
    target: String,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    client
        .call(
            Method::POST,
            &format!(
                "/api/v1/images/{}/tag?target={}",
                segment(&args.source),
                segment(&args.target)
            ),
        )
        .await?;
    Ok(0)
}
