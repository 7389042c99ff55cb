//! `berth board create|ls|revoke`: read-only status board links, for a wall screen.

use super::api::Api;
use super::listing::{print_objects, remove_each, IdsArgs, LsArgs};
use super::{format, input};
use anyhow::Result;
use berth_wire::auth::CreateBoardLink;

#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a board link; prints its address (shown this once)
    Create(CreateArgs),
    /// List board links
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Revoke one or more board links by id
    #[command(alias = "rm")]
    Revoke(IdsArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// A name to tell the link by
    #[arg(long, default_value = "board")]
    name: String,
    /// How long it stays valid (30d, 12h, 90m, 3600s); default: until revoked
    #[arg(long, value_parser = input::duration_secs)]
    expires: Option<u64>,
}

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Create(a) => create(api, a).await,
        Command::Ls(a) => ls(api, a).await,
        Command::Revoke(a) => {
            remove_each(&a.ids, |id| async move { api.board_revoke(&id).await }).await
        }
    }
}

async fn create(api: &Api, args: CreateArgs) -> Result<i32> {
    let body = CreateBoardLink {
        name: args.name,
        expires_in_secs: args.expires,
    };
    let created = api.board_create(&body).await?;
    match address(api.host().public_url().as_deref(), &created.path) {
        Some(url) => println!("{url}"),
        None => {
            println!("{}", created.path);
            eprintln!(
                "Prefix the path with the dashboard's address (e.g. https://berth.example:7878{}).",
                created.path
            );
        }
    }
    eprintln!(
        "Board link {} ({}, expires {}): shown this once.",
        created.info.id,
        created.info.name,
        format::expires_ms(created.info.expires_at_ms, format::now_ms())
    );
    Ok(0)
}

/// The link's full address when the CLI knows the daemon's (over TCP).
fn address(public_url: Option<&str>, path: &str) -> Option<String> {
    let base = public_url?.trim_end_matches('/');
    Some(format!("{base}/{}", path.trim_start_matches('/')))
}

async fn ls(api: &Api, args: LsArgs) -> Result<i32> {
    let links = api.boards().await?;
    match args.format.as_deref() {
        None | Some("") | Some("table") => {
            let now = format::now_ms();
            let rows: Vec<Vec<String>> = links
                .iter()
                .map(|l| {
                    vec![
                        l.id.clone(),
                        l.name.clone(),
                        l.created_by.clone(),
                        format::ago_ms(l.created_at_ms),
                        format::expires_ms(l.expires_at_ms, now),
                    ]
                })
                .collect();
            let header = ["ID", "NAME", "CREATED BY", "CREATED", "EXPIRES"];
            print!("{}", format::table(&header, &rows));
        }
        Some(other) => print_objects(other, &links)?,
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn board_addresses_join_the_public_url() {
        assert_eq!(
            address(Some("https://b.example:8443"), "/board/s3"),
            Some("https://b.example:8443/board/s3".to_string())
        );
        assert_eq!(
            address(Some("http://10.0.0.2:7878/"), "board/s3").as_deref(),
            Some("http://10.0.0.2:7878/board/s3")
        );
        assert_eq!(address(None, "/board/s3"), None);
    }
}
