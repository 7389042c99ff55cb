//! `berth user add|ls|rm|passwd|role`: the daemon's users (admin only).

use super::listing::{print_objects, remove_each, IdsArgs, LsArgs};
use super::{format, input, segment};
use crate::client::Client;
use anyhow::Result;
use berth_wire::auth::{CreateUser, SetPassword, SetRole, User};
use berth_wire::Role;
use hyper::Method;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a user (the password is asked on the terminal, or read from stdin)
    Add(AddArgs),
    /// List users
    #[command(alias = "list")]
    Ls(LsArgs),
    /// Remove one or more users (and their sessions and tokens)
    #[command(alias = "remove")]
    Rm(IdsArgs),
    /// Set a user's password
    Passwd(PasswdArgs),
    /// Set a user's role
    Role(RoleArgs),
}

#[derive(clap::Args)]
pub struct AddArgs {
    name: String,
    /// What the user may do: viewer, operator or admin
    #[arg(long, default_value = "viewer")]
    role: Role,
    /// Read the password from stdin (one line) instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,
}

#[derive(clap::Args)]
pub struct PasswdArgs {
    name: String,
    /// Read the password from stdin (one line) instead of asking on the terminal
    #[arg(long)]
    password_stdin: bool,
}

#[derive(clap::Args)]
pub struct RoleArgs {
    name: String,
    /// viewer, operator or admin
    role: Role,
}

pub async fn run(client: &Client, command: Command) -> Result<i32> {
    match command {
        Command::Add(a) => add(client, a).await,
        Command::Ls(a) => ls(client, a).await,
        Command::Rm(a) => remove_each(client, "/api/v1/users", &a.ids).await,
        Command::Passwd(a) => passwd(client, a).await,
        Command::Role(a) => role(client, a).await,
    }
}

async fn add(client: &Client, args: AddArgs) -> Result<i32> {
    let password = input::password(args.password_stdin)?;
    let body = CreateUser {
        name: args.name,
        role: args.role,
        password,
    };
    let user: User = client
        .json(Method::POST, "/api/v1/users", Some(&body))
        .await?;
    println!("{}", user.name);
    Ok(0)
}

async fn ls(client: &Client, args: LsArgs) -> Result<i32> {
    let users: Vec<User> = client
        .json(Method::GET, "/api/v1/users", None::<&()>)
        .await?;
    match args.format.as_deref() {
        None | Some("") | Some("table") => {
            let rows: Vec<Vec<String>> = users.iter().map(row).collect();
            let header = ["NAME", "ROLE", "CREATED", "PASSWORD CHANGED"];
            print!("{}", format::table(&header, &rows));
        }
        Some(other) => print_objects(other, &users)?,
    }
    Ok(0)
}

fn row(user: &User) -> Vec<String> {
    vec![
        user.name.clone(),
        user.role.to_string(),
        format::ago_ms(user.created_at_ms),
        format::ago_ms(user.password_changed_at_ms),
    ]
}

async fn passwd(client: &Client, args: PasswdArgs) -> Result<i32> {
    let password = input::password(args.password_stdin)?;
    let path = format!("/api/v1/users/{}/password", segment(&args.name));
    client
        .call_with(Method::PUT, &path, &SetPassword { password })
        .await?;
    eprintln!("Password of {} changed.", args.name);
    Ok(0)
}

async fn role(client: &Client, args: RoleArgs) -> Result<i32> {
    let path = format!("/api/v1/users/{}/role", segment(&args.name));
    client
        .call_with(Method::PUT, &path, &SetRole { role: args.role })
        .await?;
    println!("{}: {}", args.name, args.role);
    Ok(0)
}
