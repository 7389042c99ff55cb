//! `berth images [-a] [-q] [--digests] [--no-trunc] [-f K=V]… [--format T] [REPOSITORY[:TAG]]`:
//! the image table (repository, tag, id, created, size), one row per tag, as docker prints it.

use super::api::Api;
use super::format;
use super::template;
use anyhow::Result;
use berth_engine::filters::Filters;
use berth_wire::image::ImageSummary;
use serde_json::{json, Value};

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
    /// Filter output based on conditions provided (dangling=true|false, reference=GLOB,
    /// label=KEY[=VALUE], before=IMAGE, since=IMAGE)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Format output: 'table', 'table TEMPLATE', 'json' or a template ('{{.Repository}}:{{.Tag}}')
    #[arg(long)]
    format: Option<String>,
    /// Only images of this repository (and tag)
    repository: Option<String>,
}

/// One line of the table.
struct Row<'a> {
    image: &'a ImageSummary,
    repo: String,
    tag: String,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let filters = Filters::from_args(&args.filter)?;
    let images = api.images(&filters).await?;
    let filter = args.repository.as_deref().map(split_repo_tag);
    let rows: Vec<Row> = images
        .iter()
        .flat_map(rows_of)
        .filter(|row| match &filter {
            None => true,
            Some((repo, tag)) => row.repo == *repo && tag.as_ref().is_none_or(|t| row.tag == *t),
        })
        .collect();
    let id_of = |image: &ImageSummary| format::list_id(&image.id, args.no_trunc);
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
    let values: Vec<Value> = rows
        .iter()
        .map(|row| {
            let created = row.image.created.as_deref();
            json!({
                "ID": id_of(row.image),
                "Repository": row.repo,
                "Tag": row.tag,
                "Digest": digest_of(row),
                "CreatedSince": created.map(format::age).unwrap_or_else(|| "N/A".into()),
                "CreatedAt": created
                    .and_then(format::rfc3339_ms)
                    .map(format::timestamp)
                    .unwrap_or_else(|| "N/A".into()),
                "Size": format::size(row.image.size),
                "Containers": "N/A",
            })
        })
        .collect();
    let digest_column = if args.digests { "\t{{.Digest}}" } else { "" };
    let default =
        format!("table {{{{.Repository}}}}\t{{{{.Tag}}}}{digest_column}\t{{{{.ID}}}}\t{{{{.CreatedSince}}}}\t{{{{.Size}}}}");
    let format = match args.format.as_deref() {
        None | Some("") | Some("table") => default.as_str(),
        Some(other) => other,
    };
    print!("{}", template::render_list(format, &values, &header)?);
    Ok(0)
}

/// The column title docker gives a field.
fn header(field: &str) -> String {
    match field {
        "ID" => "IMAGE ID",
        "CreatedSince" => "CREATED",
        "CreatedAt" => "CREATED AT",
        other => return other.to_uppercase(),
    }
    .to_string()
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
            labels: Default::default(),
        };
        let rows = rows_of(&image);
        assert_eq!(digest_of(&rows[0]), "sha256:cd");
        assert_eq!(digest_of(&rows[1]), "<none>");
    }
}
