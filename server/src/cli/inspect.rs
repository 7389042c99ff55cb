//! `berth inspect NAME…` and `berth image inspect IMAGE…`: each object's JSON, printed as one
//! array; `inspect` looks for a container first, then an image, as docker does.

use super::api::Api;
use crate::client::DaemonError;
use anyhow::{anyhow, Result};
use hyper::StatusCode;

/// The kinds of object an `inspect` reads, each from its own route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Container,
    Image,
    Network,
    Volume,
}

impl Kind {
    async fn read(self, api: &Api, name: &str) -> Result<serde_json::Value> {
        match self {
            Kind::Container => api.container_inspect(name).await,
            Kind::Image => api.image_inspect(name).await,
            Kind::Network => api.network_inspect(name).await,
            Kind::Volume => api.volume_inspect(name).await,
        }
    }
}

#[derive(clap::Args)]
pub struct ImageArgs {
    /// Format the output using a Go template (`{{.Id}}`, `{{json .Config}}`) or `json`
    #[arg(short, long)]
    format: Option<String>,
    #[arg(required = true)]
    images: Vec<String>,
}

pub async fn image(api: &Api, args: ImageArgs) -> Result<i32> {
    each(api, &args.images, &[Kind::Image], args.format.as_deref()).await
}

/// Prints the first object found for each name among `kinds` (all as one JSON array, or
/// each through the `format` template on a line of its own); exit code 1 if any was not
/// found (its error printed), as docker does.
pub async fn each(
    api: &Api,
    names: &[String],
    kinds: &[Kind],
    format: Option<&str>,
) -> Result<i32> {
    let mut found = Vec::new();
    let mut failed = false;
    for name in names {
        match first_of(api, name, kinds).await {
            Ok(value) => found.push(value),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    match format.filter(|f| !f.is_empty()) {
        None => {
            let text = serde_json::to_string_pretty(&found).map_err(|e| anyhow!(e))?;
            println!("{text}");
        }
        Some(format) => {
            let format = if format.trim() == "json" {
                "{{json .}}"
            } else {
                format
            };
            for value in &found {
                println!("{}", super::template::render(format, value)?);
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

async fn first_of(api: &Api, name: &str, kinds: &[Kind]) -> Result<serde_json::Value> {
    let mut last = None;
    for kind in kinds {
        match kind.read(api, name).await {
            Ok(value) => return Ok(value),
            Err(e) if is_not_found(&e) && kinds.len() > 1 => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(match last {
        Some(_) => anyhow!("no such object: {name}"),
        None => anyhow!("nothing to look for {name} in"),
    })
}

fn is_not_found(e: &anyhow::Error) -> bool {
    e.downcast_ref::<DaemonError>()
        .is_some_and(|d| d.status == StatusCode::NOT_FOUND)
}
