//! `berth rmi [-f] IMAGE…`: untags or deletes images, printing what happened to each as docker
//! does (`Untagged: …`, `Deleted: sha256:…`), going on with the others when one fails.

use super::api::Api;
use anyhow::Result;
use berth_wire::image::ImageDeleteRecord;

#[derive(clap::Args)]
pub struct Args {
    /// Force removal of the image (untag it from stopped containers' use, delete an image
    /// with several tags by id)
    #[arg(short, long)]
    force: bool,
    #[arg(required = true)]
    images: Vec<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let mut failed = false;
    // One at a time, in order: two names of one image must not race.
    for image in &args.images {
        match api.image_remove(image, args.force).await {
            Ok(records) => print_records(&records, "Untagged", "Deleted"),
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(if failed { 1 } else { 0 })
}

/// One line per record, with docker's words (`Untagged`/`Deleted` for rmi, lower-case for
/// prune).
pub fn print_records(records: &[ImageDeleteRecord], untagged: &str, deleted: &str) {
    for record in records {
        match record {
            ImageDeleteRecord::Untagged(name) => println!("{untagged}: {name}"),
            ImageDeleteRecord::Deleted(id) => println!("{deleted}: {id}"),
        }
    }
}
