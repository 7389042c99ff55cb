//! `berth history IMAGE`: the image's build steps, newest first, with the size each layer adds.

use super::api::Api;
use super::format::{self, short_id};
use anyhow::Result;
use berth_wire::image::HistoryEntry;

/// docker cuts CREATED BY to this many characters unless `--no-trunc`.
const CREATED_BY_WIDTH: usize = 45;

#[derive(clap::Args)]
pub struct Args {
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image ids
    #[arg(short, long)]
    quiet: bool,
    image: String,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let entries = api.image_history(&args.image).await?;
    let id = |entry: &HistoryEntry| {
        if args.no_trunc || entry.id == "<missing>" {
            entry.id.clone()
        } else {
            short_id(&entry.id)
        }
    };
    if args.quiet {
        for entry in &entries {
            println!("{}", id(entry));
        }
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|entry| {
            vec![
                id(entry),
                entry
                    .created
                    .as_deref()
                    .map(format::age)
                    .unwrap_or_else(|| "N/A".into()),
                if args.no_trunc {
                    entry.created_by.clone()
                } else {
                    ellipsis(&entry.created_by, CREATED_BY_WIDTH)
                },
                format::size(entry.size as i64),
                entry.comment.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        format::table(
            &["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
            &rows
        )
    );
    Ok(0)
}

/// `text` cut to `width` characters, the last one `…` when cut (docker's Ellipsis).
fn ellipsis(text: &str, width: usize) -> String {
    let text = text.replace(['\t', '\n'], " ");
    if text.chars().count() <= width {
        return text;
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::ellipsis;

    #[test]
    fn long_commands_are_cut_with_an_ellipsis() {
        assert_eq!(ellipsis("short", 45), "short");
        let long = "/bin/sh -c #(nop) ADD file:0123456789abcdef in / ";
        let cut = ellipsis(long, 45);
        assert_eq!(cut.chars().count(), 45);
        assert!(cut.ends_with('…'));
        assert_eq!(ellipsis("a\tb", 45), "a b");
    }
}
