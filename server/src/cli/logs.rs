//! `berth logs [-f] [--tail N] [-t] CONTAINER`.

use super::api::{Api, Logs};
use super::print_stream;
use anyhow::Result;

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

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let query = Logs {
        follow: args.follow,
        tail: &args.tail,
        timestamps: args.timestamps,
        since: args.since.as_deref(),
        until: args.until.as_deref(),
    };
    let body = api.container_logs(&args.container, &query).await?;
    print_stream(body).await?;
    Ok(0)
}
