//! `berth import FILE|- [REPOSITORY[:TAG]]`: uploads a root file system tarball (plain or gzip)
//! and prints the id of the one-layer image the daemon makes of it.

use super::segment;
use crate::client::Client;
use anyhow::{bail, Result};
use berth_engine::ImageSummary;
use std::io::IsTerminal;
use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// The tarball, or `-` for stdin
    file: String,
    /// The name the image gets
    reference: Option<String>,
    /// Set the commit message for the imported image
    #[arg(short, long)]
    message: Option<String>,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let mut path = String::from("/api/v1/images/import?");
    if let Some(reference) = &args.reference {
        path.push_str(&format!("repo={}&", segment(reference)));
    }
    if let Some(message) = &args.message {
        path.push_str(&format!("message={}", segment(message)));
    }
    let image: ImageSummary = if args.file == "-" {
        if std::io::stdin().is_terminal() {
            bail!("requested import from stdin, but stdin is a terminal");
        }
        client.upload_from(&path, tokio::io::stdin()).await?
    } else {
        let file = Path::new(&args.file);
        if !file.is_file() {
            bail!("open {}: no such file", file.display());
        }
        client.upload(&path, file).await?
    };
    println!("{}", image.id);
    Ok(0)
}
