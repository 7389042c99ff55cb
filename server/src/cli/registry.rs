//! `berth registry catalog HOST[:PORT]` and `berth registry tags HOST[:PORT]/REPO`: list a
//! registry's repositories or a repository's tags, one per line, fetching every page
//! (`--limit` names per request) the registry announces.

use super::api::Api;
use anyhow::{bail, Result};
use berth_wire::registry::PageQuery;

#[derive(clap::Subcommand)]
#[command(defer = true)]
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

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    // The registry, and the repository when listing its tags.
    let (host, repository, limit) = match &command {
        Command::Catalog(a) => (a.registry.as_str(), None, a.limit),
        Command::Tags(a) => {
            let Some((host, repo)) = a.repository.split_once('/') else {
                bail!("expected HOST[:PORT]/REPOSITORY, got {:?}", a.repository);
            };
            (host, Some(repo), a.limit)
        }
    };
    let mut last: Option<String> = None;
    loop {
        let query = PageQuery {
            n: limit,
            last: last.clone(),
        };
        let page = match repository {
            None => api.registry_catalog(host, &query).await?,
            Some(repo) => api.registry_tags(host, repo, &query).await?,
        };
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
