//! The CLI verbs: each file parses one verb's arguments, calls the daemon's API, and prints.

pub mod alert;
pub mod api;
pub mod attach;
pub mod audit;
pub mod board;
pub mod events;
pub mod exec;
pub mod format;
pub mod history;
pub mod image_prune;
pub mod images;
pub mod import;
pub mod input;
pub mod inspect;
pub mod lifecycle;
pub mod listing;
pub mod load;
pub mod login;
pub mod logs;
pub mod network;
pub mod ps;
pub mod pull;
pub mod push;
pub mod registry;
pub mod rmi;
pub mod run;
pub mod save;
pub mod session;
pub mod sigpipe;
pub mod stats;
pub mod system;
pub mod tag;
pub mod template;
pub mod terminal;
pub mod token;
pub mod user;
pub mod version;
pub mod volume;
pub mod whoami;

use crate::client::{Client, Host, Options, DEFAULT_SOCKET};
use crate::frames;
use anyhow::{anyhow, Result};
use berth_wire::stream::StreamEnd;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::collections::BTreeMap;
use std::io::Write;

/// How to reach the daemon, from the root's global flags.
#[derive(Debug, Clone, Default)]
pub struct Connect {
    /// `-H`; else `BERTH_HOST`; else the default socket.
    pub host: Option<String>,
    /// `--token-file`, read when `BERTH_TOKEN` is not set (and only over TCP).
    pub token_file: Option<std::path::PathBuf>,
    /// `--tls-ca`; else `BERTH_TLS_CA`.
    pub tls_ca: Option<std::path::PathBuf>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The daemon to talk to: `-H`, else `BERTH_HOST`, else the default socket; over TCP with
/// the token of `BERTH_TOKEN`, else of `--token-file`.
pub fn connect(how: &Connect) -> Result<api::Api> {
    let text = how
        .host
        .clone()
        .or_else(|| env("BERTH_HOST"))
        .unwrap_or_else(|| format!("unix://{DEFAULT_SOCKET}"));
    let host = Host::parse(&text)?;
    let token = match host {
        Host::Unix(_) => None,
        _ => match env("BERTH_TOKEN") {
            Some(token) => Some(token.trim().to_string()),
            None => how.token_file.as_deref().map(read_token_file).transpose()?,
        },
    };
    let tls_ca = how
        .tls_ca
        .clone()
        .or_else(|| env("BERTH_TLS_CA").map(Into::into));
    Client::with_options(host, Options { token, tls_ca }).map(api::Api::new)
}

/// A token file's content, trimmed; an empty one is an error, not "no token".
fn read_token_file(path: &std::path::Path) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("cannot read the token file {}: {e}", path.display()))?;
    let token = text.trim();
    if token.is_empty() {
        anyhow::bail!("the token file {} is empty", path.display());
    }
    Ok(token.to_string())
}

/// Exit status of a failed verb: 1, as docker's CLI.
pub fn exit_code_for(_error: &anyhow::Error) -> i32 {
    1
}

/// Exit status of a `run` that failed before the container's command ran, as docker's:
/// 127 when the command was not found, 126 when it cannot be executed, else 125 (the daemon
/// refused). Decided by the daemon's error code, never by its message.
pub fn run_exit_code_for(error: &anyhow::Error) -> i32 {
    use berth_wire::ErrorCode;
    match error
        .downcast_ref::<crate::client::DaemonError>()
        .map(|d| d.code)
    {
        Some(ErrorCode::CommandNotFound) => 127,
        Some(ErrorCode::CommandNotExecutable) => 126,
        _ => 125,
    }
}

/// Asks "Are you sure you want to continue? [y/N]" after `warning` (prune verbs); without a
/// terminal to ask on, refuses: the caller must pass -f.
pub fn confirm(warning: &str) -> Result<bool> {
    use std::io::{BufRead, IsTerminal};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to prune without confirmation: pass -f/--force");
    }
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// `--label KEY=VALUE` (or `KEY`: an empty value) as a map; later labels win.
pub fn labels<'a>(texts: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, String> {
    texts
        .into_iter()
        .map(|text| {
            let (key, value) = text.split_once('=').unwrap_or((text, ""));
            (key.to_string(), value.to_string())
        })
        .collect()
}

/// `Deleted Networks:` and one name a line, then a blank line; nothing when none was.
pub fn print_deleted(what: &str, names: &[String]) {
    if !names.is_empty() {
        println!("Deleted {what}:");
        names.iter().for_each(|name| println!("{name}"));
        println!();
    }
}

/// Copies a multiplexed stream to stdout/stderr; returns the exit code if the stream ends
/// with one (attach), or `None` (logs).
pub async fn print_stream(mut body: Incoming) -> Result<Option<i32>> {
    let mut decoder = frames::Decoder::default();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let mut exit_code = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow!("the log stream broke: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        decoder.push(&data);
        // Buffered per chunk: stdout's own buffer flushes at every newline, which made a
        // million-line log a million write(2)s.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        while let Some((stream, payload)) = decoder.next_frame() {
            match stream {
                frames::STDOUT => out.write_all(&payload)?,
                frames::STDERR => {
                    out.flush()?;
                    stderr.lock().write_all(&payload)?;
                }
                _ => {
                    let end: StreamEnd = serde_json::from_slice(&payload)
                        .map_err(|e| anyhow!("unreadable message from the daemon: {e}"))?;
                    match end {
                        StreamEnd::ExitCode(code) => exit_code = Some(code),
                        StreamEnd::Detached(_) => {}
                        StreamEnd::Error(error) => return Err(anyhow!("{}", error.message)),
                    }
                }
            }
        }
        out.flush()?;
    }
    if decoder.pending() > 0 {
        return Err(anyhow!("the log stream ended in the middle of a frame"));
    }
    Ok(exit_code)
}
