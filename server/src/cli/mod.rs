//! The CLI verbs: each file parses one verb's arguments, calls the daemon's API, and prints.

pub mod format;
pub mod images;
pub mod lifecycle;
pub mod load;
pub mod logs;
pub mod ps;
pub mod run;
pub mod stats;

use crate::client::{Client, Host, DEFAULT_SOCKET};
use crate::frames;
use anyhow::{anyhow, Result};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use std::io::Write;

/// The daemon to talk to: `-H`, else `BERTH_HOST`, else the default socket.
pub fn connect(host: Option<&str>) -> Result<Client> {
    let from_env = std::env::var("BERTH_HOST").ok().filter(|h| !h.is_empty());
    let text = host
        .map(str::to_string)
        .or(from_env)
        .unwrap_or_else(|| format!("unix://{DEFAULT_SOCKET}"));
    Ok(Client::new(Host::parse(&text)?))
}

/// Exit status of a failed verb: 1, as docker's CLI.
pub fn exit_code_for(_error: &anyhow::Error) -> i32 {
    1
}

/// Percent-encodes a path segment (container names and ids are plain, but be safe).
pub fn segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
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
        let mut out = stdout.lock();
        while let Some((stream, payload)) = decoder.next_frame() {
            match stream {
                frames::STDOUT => out.write_all(&payload)?,
                frames::STDERR => {
                    out.flush()?;
                    stderr.lock().write_all(&payload)?;
                }
                _ => {
                    let message: serde_json::Value = serde_json::from_slice(&payload)
                        .map_err(|e| anyhow!("unreadable message from the daemon: {e}"))?;
                    if let Some(code) = message.get("exit_code").and_then(|c| c.as_i64()) {
                        exit_code = Some(code as i32);
                    } else if let Some(error) = message.get("error").and_then(|e| e.as_str()) {
                        return Err(anyhow!("{error}"));
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

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("web-1.a_b"), "web-1.a_b");
        assert_eq!(segment("../x"), "..%2Fx");
        assert_eq!(segment("a b?"), "a%20b%3F");
    }
}
