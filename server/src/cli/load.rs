//! `berth load [-i FILE]`: uploads a `docker save` tar or an OCI archive (from FILE, or from
//! stdin when no file is given) to the daemon.

use super::api::{Api, Upload};
use anyhow::{bail, Result};
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

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let loaded = match args.input.filter(|i| i.as_os_str() != "-") {
        Some(input) => {
            if !input.is_file() {
                bail!("open {}: no such file", input.display());
            }
            api.image_load(Upload::File(&input)).await?
        }
        None => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            api.image_load(Upload::Stdin).await?
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
