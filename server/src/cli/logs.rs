//! `berth logs [-f] [--tail N] [-t] CONTAINER`.

use super::{print_stream, segment};
use crate::client::Client;
use anyhow::Result;
use hyper::Method;

#[derive(clap::Args)]
pub struct Args {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of the logs ("all" for all)
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since a time (RFC 3339, unix seconds) or a duration ago (e.g. 10m)
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a time (RFC 3339, unix seconds) or a duration ago (e.g. 10m)
    #[arg(long)]
    until: Option<String>,
    container: String,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let mut path = format!(
        "/api/v1/containers/{}/logs?follow={}&tail={}&timestamps={}",
        segment(&args.container),
        args.follow,
        segment(&args.tail),
        args.timestamps
    );
    for (key, value) in [("since", &args.since), ("until", &args.until)] {
        if let Some(value) = value {
            path.push_str(&format!("&{key}={}", segment(value)));
        }
    }
    let body = client.stream(Method::GET, &path).await?;
    print_stream(body).await?;
    Ok(0)
}
