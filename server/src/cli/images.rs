//! `berth images`: the image table (repository, tag, id, created, size).

use super::format;
use crate::client::Client;
use anyhow::Result;
use berth_engine::ImageSummary;
use hyper::Method;

#[derive(clap::Args)]
pub struct Args {
    /// Only show image ids
    #[arg(short, long)]
    quiet: bool,
}

pub async fn run(client: &Client, args: Args) -> Result<i32> {
    let images: Vec<ImageSummary> = client
        .json(Method::GET, "/api/v1/images", None::<&()>)
        .await?;
    if args.quiet {
        for image in &images {
            println!("{}", short_id(&image.id));
        }
        return Ok(0);
    }
    let mut rows = Vec::new();
    for image in &images {
        let created = image
            .created
            .clone()
            .map(|c| age(&c))
            .unwrap_or_else(|| "N/A".into());
        let tags: Vec<(String, String)> = if image.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            image
                .repo_tags
                .iter()
                .map(|t| match t.rsplit_once(':') {
                    Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
                    _ => (t.clone(), "<none>".into()),
                })
                .collect()
        };
        for (repo, tag) in tags {
            rows.push(vec![
                repo,
                tag,
                short_id(&image.id),
                created.clone(),
                format::size(image.size),
            ]);
        }
    }
    print!(
        "{}",
        format::table(&["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"], &rows)
    );
    Ok(0)
}

fn short_id(id: &str) -> String {
    id.trim_start_matches("sha256:").chars().take(12).collect()
}

/// `2 hours ago` from an RFC 3339 time, or the text itself when it cannot be read.
fn age(created: &str) -> String {
    match humantime::parse_rfc3339_weak(created) {
        Ok(time) => {
            let ms = time
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            format!("{} ago", format::duration(format::now_ms() - ms))
        }
        Err(_) => created.to_string(),
    }
}
