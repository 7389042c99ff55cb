//! `berth token create|ls|revoke`: API tokens, for the CLI over TCP and for scripts.

use super::api::Api;
use super::listing::{print_objects, remove_each, IdsArgs, LsArgs};
use super::{format, input};
use anyhow::Result;
use berth_wire::auth::{CreateToken, Token};
use berth_wire::Role;

#[derive(clap::Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Create a token; prints only its value (shown this once), as `$(berth token create)` wants
    Create(CreateArgs),
    /// List tokens (yours; an admin's lists everyone's)
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Revoke one or more tokens by id
    #[command(alias = "rm")]
    Revoke(IdsArgs),
}

#[derive(clap::Args)]
pub struct CreateArgs {
    /// A name to tell the token by
    #[arg(long, default_value = "cli")]
    name: String,
    /// The token's role (default: yours; never more than yours)
    #[arg(long)]
    role: Option<Role>,
    /// How long it stays valid (30d, 12h, 90m, 3600s); default: until revoked
    #[arg(long, value_parser = input::duration_secs)]
    expires: Option<u64>,
}

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Create(a) => create(api, a).await,
        Command::Ls(a) => ls(api, a).await,
        Command::Revoke(a) => {
            remove_each(&a.ids, |id| async move { api.token_revoke(&id).await }).await
        }
    }
}

async fn create(api: &Api, args: CreateArgs) -> Result<i32> {
    let body = CreateToken {
        name: args.name,
        role: args.role,
        expires_in_secs: args.expires,
    };
    let created = api.token_create(&body).await?;
    println!("{}", created.token);
    let info = &created.info;
    eprintln!(
        "Token {} ({}, {}, expires {}): shown this once. Use it as BERTH_TOKEN=… or --token-file FILE with -H tcp://HOST:PORT.",
        info.id,
        info.name,
        info.role,
        format::expires_ms(info.expires_at_ms, format::now_ms())
    );
    Ok(0)
}

async fn ls(api: &Api, args: LsArgs) -> Result<i32> {
    let tokens = api.tokens().await?;
    match args.format.as_deref() {
        None | Some("") | Some("table") => {
            let now = format::now_ms();
            let rows: Vec<Vec<String>> = tokens.iter().map(|t| row(t, now)).collect();
            let header = [
                "ID",
                "NAME",
                "OWNER",
                "ROLE",
                "CREATED",
                "EXPIRES",
                "LAST USED",
            ];
            print!("{}", format::table(&header, &rows));
        }
        Some(other) => print_objects(other, &tokens)?,
    }
    Ok(0)
}

fn row(token: &Token, now: i64) -> Vec<String> {
    vec![
        token.id.clone(),
        token.name.clone(),
        token.owner.clone(),
        token.role.to_string(),
        format::ago_ms(token.created_at_ms),
        format::expires_ms(token.expires_at_ms, now),
        token
            .last_used_ms
            .map_or_else(|| "never".to_string(), format::ago_ms),
    ]
}
