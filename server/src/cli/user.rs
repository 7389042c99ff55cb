//! `berth user add|ls|rm|passwd|role`: the daemon's users (admin only).

use super::api::Api;
use super::listing::{print_objects, remove_each, IdsArgs, LsArgs};
use super::{format, input};
use anyhow::Result;
use berth_wire::auth::{CreateUser, SetPassword, SetRole, User};
use berth_wire::Role;

#[derive(clap::Subcommand)]
#[command(defer = true)]
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

pub async fn run(api: &Api, command: Command) -> Result<i32> {
    match command {
        Command::Add(a) => add(api, a).await,
        Command::Ls(a) => ls(api, a).await,
        Command::Rm(a) => remove_each(&a.ids, |id| async move { api.user_remove(&id).await }).await,
        Command::Passwd(a) => passwd(api, a).await,
        Command::Role(a) => role(api, a).await,
    }
}

async fn add(api: &Api, args: AddArgs) -> Result<i32> {
    let password = input::password(args.password_stdin)?;
    let body = CreateUser {
        name: args.name,
        role: args.role,
        password,
    };
    let user = api.user_create(&body).await?;
    println!("{}", user.name);
    Ok(0)
}

async fn ls(api: &Api, args: LsArgs) -> Result<i32> {
    let users = api.users().await?;
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

async fn passwd(api: &Api, args: PasswdArgs) -> Result<i32> {
    let password = input::password(args.password_stdin)?;
    api.user_set_password(&args.name, &SetPassword { password })
        .await?;
    eprintln!("Password of {} changed.", args.name);
    Ok(0)
}

async fn role(api: &Api, args: RoleArgs) -> Result<i32> {
    api.user_set_role(&args.name, &SetRole { role: args.role })
        .await?;
    println!("{}: {}", args.name, args.role);
    Ok(0)
}
