//! `berth login [-u USER] [-p PASS | --password-stdin] [REGISTRY]` and `berth logout
//! [REGISTRY]`: the daemon checks the credentials against the registry and keeps them; the
//! password is read from stdin or a prompt without echo, as docker's `login` does.

use super::api::Api;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufRead, IsTerminal, Read, Write};

/// Docker Hub, the registry of `login` without an argument.
const DEFAULT_REGISTRY: &str = "docker.io";

#[derive(clap::Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short, long)]
    username: Option<String>,
    /// Password (prefer --password-stdin: command lines are visible to other users)
    #[arg(short, long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Take the password from stdin
    #[arg(long = "password-stdin")]
    password_stdin: bool,
    /// The registry (default docker.io)
    registry: Option<String>,
}

#[derive(clap::Args)]
pub struct LogoutArgs {
    /// The registry (default docker.io)
    registry: Option<String>,
}

pub async fn login(api: &Api, args: LoginArgs) -> Result<i32> {
    let registry = args
        .registry
        .clone()
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_string());
    let stdin = std::io::stdin();
    let username = match &args.username {
        Some(user) => user.clone(),
        None if args.password_stdin => bail!("--password-stdin needs --username"),
        None if stdin.is_terminal() => prompt("Username: ")?,
        None => bail!("cannot perform an interactive login from a non-TTY device: give --username"),
    };
    let password = if args.password_stdin {
        let mut text = String::new();
        stdin
            .lock()
            .read_to_string(&mut text)
            .context("cannot read the password from stdin")?;
        text.trim_end_matches(['\n', '\r']).to_string()
    } else if let Some(password) = &args.password {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
        password.clone()
    } else if stdin.is_terminal() {
        read_hidden("Password: ")?
    } else {
        bail!("cannot perform an interactive login from a non-TTY device: use --password-stdin")
    };
    if username.is_empty() || password.is_empty() {
        bail!("a username and a password are required");
    }
    let answer = api.registry_login(&registry, &username, &password).await?;
    println!("{}", answer.status);
    Ok(0)
}

pub async fn logout(api: &Api, args: LogoutArgs) -> Result<i32> {
    let registry = args
        .registry
        .unwrap_or_else(|| DEFAULT_REGISTRY.to_string());
    let answer = api.registry_logout(&registry).await?;
    println!("{}", answer.status);
    Ok(0)
}

fn prompt(label: &str) -> Result<String> {
    eprint!("{label}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read from stdin")?;
    Ok(line.trim().to_string())
}

/// Reads a line from the terminal with echo off (restored afterwards, even on error).
fn read_hidden(label: &str) -> Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    let saved =
        tcgetattr(&stdin).map_err(|e| anyhow!("cannot read the terminal's settings: {e}"))?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet)
        .map_err(|e| anyhow!("cannot switch the terminal's echo off: {e}"))?;
    let line = prompt(label);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    line
}
