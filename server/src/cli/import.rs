//! `berth import FILE|- [REPOSITORY[:TAG]]`: uploads a root file system tarball (plain or gzip)
//! and prints the id of the one-layer image the daemon makes of it.

use super::api::{Api, Upload};
use anyhow::{bail, Result};
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

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let source = if args.file == "-" {
        if std::io::stdin().is_terminal() {
            bail!("requested import from stdin, but stdin is a terminal");
        }
        Upload::Stdin
    } else {
        let file = Path::new(&args.file);
        if !file.is_file() {
            bail!("open {}: no such file", file.display());
        }
        Upload::File(file)
    };
    let (repo, message) = (args.reference.as_deref(), args.message.as_deref());
    let image = api.image_import(repo, message, source).await?;
    println!("{}", image.id);
    Ok(0)
}
