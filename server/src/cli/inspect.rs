//! `berth inspect NAME…` and `berth image inspect IMAGE…`: each object's JSON, printed as one
//! array; `inspect` looks for a container first, then an image, as docker does.

use super::segment;
use crate::client::{Client, DaemonError};
use anyhow::{anyhow, Result};
use hyper::{Method, StatusCode};

/// Where an object of each kind is read: the API path with `{}` for the name.
pub const CONTAINER: &str = "/api/v1/containers/{}";
pub const IMAGE: &str = "/api/v1/images/{}/json";

#[derive(clap::Args)]
pub struct ImageArgs {
    #[arg(required = true)]
    images: Vec<String>,
}

pub async fn image(client: &Client, args: ImageArgs) -> Result<i32> {
    each(client, &args.images, &[IMAGE]).await
}

/// Prints the first object found for each name among `kinds`; exit code 1 if any was
/// not found (its error printed), as docker does.
pub async fn each(client: &Client, names: &[String], kinds: &[&str]) -> Result<i32> {
    let mut found = Vec::new();
    let mut failed = false;
    for name in names {
        match first_of(client, name, kinds).await {
            Ok(value) => found.push(value),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    let text = serde_json::to_string_pretty(&found).map_err(|e| anyhow!(e))?;
    println!("{text}");
    Ok(if failed { 1 } else { 0 })
}

async fn first_of(client: &Client, name: &str, kinds: &[&str]) -> Result<serde_json::Value> {
    let mut last = None;
    for kind in kinds {
        let path = kind.replace("{}", &segment(name));
        match client
            .json::<serde_json::Value>(Method::GET, &path, None::<&()>)
            .await
        {
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
