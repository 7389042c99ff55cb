//! `berth registry catalog HOST[:PORT]` and `berth registry tags HOST[:PORT]/REPO`: list a
//! registry's repositories or a repository's tags, one per line, fetching every page
//! (`--limit` names per request) the registry announces.

use super::segment;
use crate::client::Client;
use anyhow::{bail, Result};
use berth_engine::image::registry::browse::Page;
use hyper::Method;

#[derive(clap::Subcommand)]
pub enum Command {
    /// List the repositories of a registry
    Catalog(CatalogArgs),
    /// List the tags of a repository
    Tags(TagsArgs),
}

#[derive(clap::Args)]
pub struct CatalogArgs {
    /// Names asked for per request (the registry's page size)
    #[arg(long)]
    limit: Option<u32>,
    /// The registry, e.g. 127.0.0.1:5000
    registry: String,
}

#[derive(clap::Args)]
pub struct TagsArgs {
    /// Names asked for per request (the registry's page size)
    #[arg(long)]
    limit: Option<u32>,
    /// The repository with its registry, e.g. 127.0.0.1:5000/test/busybox
    repository: String,
}

pub async fn run(client: &Client, command: Command) -> Result<i32> {
    let (base, limit) = match command {
        Command::Catalog(a) => (
            format!("/api/v1/registries/{}/catalog", segment(&a.registry)),
            a.limit,
        ),
        Command::Tags(a) => {
            let Some((host, repo)) = a.repository.split_once('/') else {
                bail!("expected HOST[:PORT]/REPOSITORY, got {:?}", a.repository);
            };
            let base = format!(
                "/api/v1/registries/{}/repositories/{}/tags",
                segment(host),
                segment(repo)
            );
            (base, a.limit)
        }
    };
    let mut last: Option<String> = None;
    loop {
        let mut query = Vec::new();
        if let Some(n) = limit {
            query.push(format!("n={n}"));
        }
        if let Some(last) = &last {
            query.push(format!("last={}", segment(last)));
        }
        let path = if query.is_empty() {
            base.clone()
        } else {
            format!("{base}?{}", query.join("&"))
        };
        let page: Page = client.json(Method::GET, &path, None::<&()>).await?;
        for name in &page.names {
            println!("{name}");
        }
        match page.next {
            // A registry that repeats itself would loop forever.
            Some(next) if last.as_ref() != Some(&next) && !page.names.is_empty() => {
                last = Some(next)
            }
            _ => return Ok(0),
        }
    }
}
