//! `berth load [-i FILE]`: uploads a `docker save` tar or an OCI archive (from FILE, or from
//! stdin when no file is given) to the daemon.

use crate::client::Client;
use anyhow::{bail, Result};
use berth_engine::ImageSummary;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Read from a tar archive file, instead of STDIN (a `docker save` tar or an OCI archive)
    #[arg(short = 'i', long = "input")]
    input: Option<PathBuf>,
    /// Print nothing
    #[arg(short, long)]
    quiet: bool,
}

const PATH: &str = "/api/v1/images/load";

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let loaded: Vec<ImageSummary> = match args.input.filter(|i| i.as_os_str() != "-") {
        Some(input) => {
            if !input.is_file() {
                bail!("open {}: no such file", input.display());
            }
            client.upload(PATH, &input).await?
        }
        None => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            client.upload_from(PATH, tokio::io::stdin()).await?
        }
    };
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
