//! `berth images [REPOSITORY[:TAG]]`: the image table (repository, tag, id, created, size),
//! one row per tag, as docker prints it.

use super::format::{self, short_id};
use crate::client::Client;
use anyhow::Result;
use berth_engine::ImageSummary;
use hyper::Method;

#[derive(clap::Args)]
pub struct Args {
    /// Show all images (berth makes no intermediate images, so this lists the same ones)
    #[arg(short, long)]
    all: bool,
    /// Only show image ids
    #[arg(short, long)]
    quiet: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only images of this repository (and tag)
    repository: Option<String>,
}

/// One line of the table.
struct Row<'a> {
    image: &'a ImageSummary,
    repo: String,
    tag: String,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let images: Vec<ImageSummary> = client
        .json(Method::GET, "/api/v1/images", None::<&()>)
        .await?;
    let filter = args.repository.as_deref().map(split_repo_tag);
    let rows: Vec<Row> = images
        .iter()
        .flat_map(rows_of)
        .filter(|row| match &filter {
            None => true,
            Some((repo, tag)) => row.repo == *repo && tag.as_ref().is_none_or(|t| row.tag == *t),
        })
        .collect();
    let id_of = |image: &ImageSummary| {
        if args.no_trunc {
            image.id.clone()
        } else {
            short_id(&image.id)
        }
    };
    if args.quiet {
        let mut seen = Vec::new();
        for row in &rows {
            if !seen.contains(&row.image.id) {
                println!("{}", id_of(row.image));
                seen.push(row.image.id.clone());
            }
        }
        return Ok(0);
    }
    let mut header = vec!["REPOSITORY", "TAG"];
    if args.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            let mut cells = vec![row.repo.clone(), row.tag.clone()];
            if args.digests {
                cells.push(digest_of(row));
            }
            cells.extend([
                id_of(row.image),
                row.image
                    .created
                    .as_deref()
                    .map(format::age)
                    .unwrap_or_else(|| "N/A".into()),
                format::size(row.image.size),
            ]);
            cells
        })
        .collect();
    print!("{}", format::table(&header, &table));
    Ok(0)
}

/// A row per tag; `<none> <none>` for an untagged image.
fn rows_of(image: &ImageSummary) -> Vec<Row<'_>> {
    if image.repo_tags.is_empty() {
        return vec![Row {
            image,
            repo: "<none>".into(),
            tag: "<none>".into(),
        }];
    }
    image
        .repo_tags
        .iter()
        .map(|t| {
            let (repo, tag) = split_repo_tag(t);
            Row {
                image,
                repo,
                tag: tag.unwrap_or_else(|| "<none>".into()),
            }
        })
        .collect()
}

/// `host:5000/app:v1` → (`host:5000/app`, `v1`); a colon before the last `/` is a port.
fn split_repo_tag(text: &str) -> (String, Option<String>) {
    match text.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), Some(tag.to_string())),
        _ => (text.to_string(), None),
    }
}

/// The repo digest of the row's repository, or `<none>`.
fn digest_of(row: &Row) -> String {
    row.image
        .repo_digests
        .iter()
        .find_map(|d| {
            d.split_once('@')
                .filter(|(repo, _)| *repo == row.repo)
                .map(|(_, digest)| digest.to_string())
        })
        .unwrap_or_else(|| "<none>".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_and_tags_split_like_docker() {
        assert_eq!(
            split_repo_tag("busybox:latest"),
            ("busybox".into(), Some("latest".into()))
        );
        assert_eq!(
            split_repo_tag("localhost:5000/app"),
            ("localhost:5000/app".into(), None)
        );
        assert_eq!(
            split_repo_tag("localhost:5000/app:v1"),
            ("localhost:5000/app".into(), Some("v1".into()))
        );
    }

    #[test]
    fn digests_are_matched_to_the_rows_repository() {
        let image = ImageSummary {
            id: "sha256:ab".into(),
            repo_tags: vec!["busybox:latest".into(), "other:1".into()],
            repo_digests: vec!["busybox@sha256:cd".into()],
            created: None,
            size: 0,
        };
        let rows = rows_of(&image);
        assert_eq!(digest_of(&rows[0]), "sha256:cd");
        assert_eq!(digest_of(&rows[1]), "<none>");
    }
}
