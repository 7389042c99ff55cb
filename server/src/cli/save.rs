//! `berth save [-o FILE] [--format docker|oci] IMAGE…`: the daemon writes the images as one
//! archive and streams it here, to FILE (written beside it, then renamed, so a failed save
//! leaves no partial file) or to a redirected stdout.

use super::api::Api;
use anyhow::{anyhow, bail, Context, Result};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Archive format: docker (docker-archive, the default) or oci (oci-archive)
    #[arg(long, default_value = "docker")]
    format: String,
    #[arg(required = true)]
    images: Vec<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let archive = || api.image_save(&args.images, &args.format);
    match &args.output {
        Some(output) => save_to_file(archive, output).await?,
        None => {
            if std::io::stdout().is_terminal() {
                bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            let body = archive().await?;
            copy_body(body, &mut std::io::stdout().lock()).await?;
        }
    }
    Ok(0)
}

/// `archive` asks for the archive once the output file can be written.
async fn save_to_file<F, Fut>(archive: F, output: &Path) -> Result<()>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Incoming>>,
{
    let dir = match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        bail!(
            "invalid output path: directory {} does not exist",
            dir.display()
        );
    }
    if output.is_dir() {
        bail!("invalid output path: {} is a directory", output.display());
    }
    let name = output
        .file_name()
        .ok_or_else(|| anyhow!("invalid output path: {}", output.display()))?;
    let partial = dir.join(format!(
        ".{}.berth-save-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&partial)
        .with_context(|| format!("cannot write {}", output.display()))?;
    let result = async {
        let body = archive().await?;
        copy_body(body, &mut file).await?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", output.display()))?;
        std::fs::rename(&partial, output)
            .with_context(|| format!("cannot write {}", output.display()))
    }
    .await;
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

async fn copy_body(mut body: Incoming, out: &mut impl Write) -> Result<()> {
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow!("the archive stream broke: {e}"))?;
        if let Ok(data) = frame.into_data() {
            out.write_all(&data).context("cannot write the archive")?;
        }
    }
    out.flush().context("cannot write the archive")
}
