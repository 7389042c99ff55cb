//! `berth exec`: runs a command in a running container, docker's flags; with `-t` the local
//! terminal is raw and its size follows; the exit status is the command's.

use super::api::Api;
use super::run::with_host_value;
use super::session::{print_output, send_input, InputEnd};
use super::terminal;
use anyhow::Result;
use berth_engine::attach::detach::{parse_detach_keys, DEFAULT_DETACH_KEYS};
use berth_wire::exec::StartBody as ExecStartBody;
use berth_wire::exec::{ExecConfig, ExecInspect};
use std::io::IsTerminal;

#[derive(clap::Args)]
pub struct Args {
    /// Detached mode: run command in the background
    #[arg(short, long)]
    detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short, long)]
    user: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long = "workdir")]
    workdir: Option<String>,
    /// Give extended privileges to the command
    #[arg(long)]
    privileged: bool,
    /// Override the key sequence for detaching (with -i)
    #[arg(long = "detach-keys", default_value = DEFAULT_DETACH_KEYS)]
    detach_keys: String,
    /// The container
    container: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    command: Vec<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    if args.tty && args.interactive && !args.detach && !std::io::stdin().is_terminal() {
        anyhow::bail!("the input device is not a TTY");
    }
    let detach_keys = parse_detach_keys(&args.detach_keys)?;
    let config = ExecConfig {
        cmd: args.command.clone(),
        env: args.env.iter().map(|e| with_host_value(e)).collect(),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        tty: args.tty,
        attach_stdin: args.interactive && !args.detach,
        privileged: args.privileged,
    };
    let created = api.exec_create(&args.container, &config).await?;
    let id = created.id;
    if args.detach {
        api.exec_start_detached(&id).await?;
        return Ok(0);
    }
    let raw = match args.tty && args.interactive {
        true => terminal::RawMode::enable()?,
        false => None,
    };
    let body = ExecStartBody {
        detach: false,
        console_size: args.tty.then(terminal::size).flatten().map(|(r, c)| [r, c]),
    };
    let stream = match api.exec_start(&id, &body).await {
        Ok(stream) => stream,
        Err(e) => {
            drop(raw);
            // A command that could not be run has docker's status: 127 not found, 126 not
            // executable.
            let inspect: Option<ExecInspect> = api.exec_inspect(&id).await.ok();
            return match inspect.and_then(|i| i.exit_code) {
                Some(code) => {
                    eprintln!("Error: {e:#}");
                    Ok(code)
                }
                None => Err(e),
            };
        }
    };
    let resizer = match args.tty {
        true => {
            let api = api.clone();
            let id = id.clone();
            Some(terminal::follow_size(move |rows, columns| {
                let (api, id) = (api.clone(), id.clone());
                async move {
                    let _ = api.exec_resize(&id, rows, columns).await;
                }
            })?)
        }
        false => None,
    };
    let (from_daemon, mut to_daemon) = tokio::io::split(stream);
    let printed = match args.interactive {
        true => {
            let (detached_tx, detached) = tokio::sync::oneshot::channel();
            let feeder = tokio::spawn(async move {
                if let Ok(InputEnd::Detached) = send_input(to_daemon, detach_keys).await {
                    let _ = detached_tx.send(());
                }
            });
            // The output ends when the command is done; the detach keys end the client only
            // (a stdin that ends merely closes the command's, and the output goes on).
            let printed = tokio::select! {
                printed = print_output(from_daemon, args.tty) => printed,
                Ok(()) = detached => {
                    drop(raw);
                    return Ok(0);
                }
            };
            feeder.abort();
            printed
        }
        false => {
            use tokio::io::AsyncWriteExt;
            let _ = to_daemon.shutdown().await;
            print_output(from_daemon, args.tty).await
        }
    };
    if let Some(resizer) = resizer {
        resizer.abort();
    }
    drop(raw);
    printed?;
    let inspect = api.exec_inspect(&id).await?;
    Ok(inspect.exit_code.unwrap_or(0))
}
