//! `berth attach`, and the attached side of `run -i` and `start -a`: the local stdin goes to
//! the container (the daemon watches for the detach keys), its output comes back, and the
//! exit status is the container's (0 after detaching).

use super::api::Api;
use super::session::print_output;
use super::terminal;
use anyhow::{anyhow, bail, Result};
use berth_wire::stream::StreamEnd;
use std::io::IsTerminal;
use tokio::io::AsyncWriteExt;

#[derive(clap::Args)]
pub struct Args {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    no_stdin: bool,
    /// The container
    container: String,
}

/// How to attach.
pub struct Session {
    /// Start the container once attached.
    pub start: bool,
    /// Send the local stdin (the container must have been created with `-i`).
    pub stdin: bool,
    /// The container has a terminal: the local one goes raw and its size follows.
    pub tty: bool,
    pub detach_keys: Option<String>,
}

pub async fn run(api: &Api, args: Args) -> Result<i32> {
    let inspect = api.container_inspect(&args.container).await?;
    let config = &inspect["Config"];
    let flag = |name: &str| config[name].as_bool().unwrap_or(false);
    let session = Session {
        start: false,
        stdin: !args.no_stdin && flag("OpenStdin"),
        tty: flag("Tty"),
        detach_keys: args.detach_keys,
    };
    attach(api, &args.container, session).await
}

/// Attaches (and starts, if asked) and relays until the container exits or the user detaches.
pub async fn attach(api: &Api, container: &str, session: Session) -> Result<i32> {
    let interactive_tty = session.tty && session.stdin;
    if interactive_tty && !std::io::stdin().is_terminal() {
        bail!("the input device is not a TTY");
    }
    let size = session.tty.then(terminal::size).flatten();
    let query = super::api::Attach {
        stdin: session.stdin,
        start: session.start,
        detach_keys: session.detach_keys.as_deref(),
        size,
    };
    let raw = match interactive_tty {
        true => terminal::RawMode::enable()?,
        false => None,
    };
    let stream = api.container_attach(container, &query).await?;
    let resizer = match size {
        Some(_) => {
            let api = api.clone();
            let id = container.to_string();
            Some(terminal::follow_size(move |rows, columns| {
                let (api, id) = (api.clone(), id.clone());
                async move {
                    let _ = api.container_resize(&id, rows, columns).await;
                }
            })?)
        }
        None => None,
    };
    let (from_daemon, mut to_daemon) = tokio::io::split(stream);
    let feeder = match session.stdin {
        true => Some(tokio::spawn(async move {
            // The end of the local stdin ends the container's (with StdinOnce).
            let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut to_daemon).await;
            let _ = to_daemon.shutdown().await;
        })),
        false => {
            let _ = to_daemon.shutdown().await;
            None
        }
    };
    // Frames whatever the terminal: the last one, a system frame, says how it ended.
    let end = print_output(from_daemon, false).await;
    for task in [feeder, resizer].into_iter().flatten() {
        task.abort();
    }
    drop(raw);
    let last = end?.ok_or_else(|| {
        anyhow!("the daemon ended the stream without the container's exit status")
    })?;
    match system_message(&last)? {
        End::Exited(code) => Ok(code),
        End::Detached => Ok(0),
    }
}

/// How an attach stream ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Exited(i32),
    Detached,
}

fn system_message(payload: &[u8]) -> Result<End> {
    let end: StreamEnd = serde_json::from_slice(payload)
        .map_err(|e| anyhow!("unreadable message from the daemon: {e}"))?;
    match end {
        StreamEnd::ExitCode(code) => Ok(End::Exited(code)),
        StreamEnd::Detached(_) => Ok(End::Detached),
        StreamEnd::Error(error) => Err(anyhow!("{}", error.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_messages_end_the_stream() {
        assert_eq!(
            system_message(br#"{"exit_code":7}"#).unwrap(),
            End::Exited(7)
        );
        assert_eq!(
            system_message(br#"{"detached":true}"#).unwrap(),
            End::Detached
        );
        let err = system_message(br#"{"error":{"code":"internal","message":"boom"}}"#).unwrap_err();
        assert_eq!(err.to_string(), "boom");
        assert!(system_message(b"{}").is_err());
        assert!(system_message(b"not json").is_err());
    }
}
