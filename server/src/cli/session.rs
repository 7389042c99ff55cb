//! The CLI's side of an interactive stream (exec, attach): the local stdin into it, its output
//! (raw with a terminal, multiplexed frames without) onto stdout and stderr.

use crate::frames;
use anyhow::{anyhow, Result};
use berth_engine::attach::detach::DetachMatcher;
use bytes::Bytes;
use std::io::Write;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Copies the stream's output to stdout/stderr until the daemon closes it, or until a
/// system frame (whose payload is returned: how an attach ended).
pub async fn print_output(
    mut from_daemon: impl AsyncRead + Unpin,
    tty: bool,
) -> Result<Option<Bytes>> {
    let mut decoder = frames::Decoder::default();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = from_daemon
            .read(&mut buf)
            .await
            .map_err(|e| anyhow!("the stream broke: {e}"))?;
        if n == 0 {
            break;
        }
        if tty {
            let mut out = std::io::stdout().lock();
            out.write_all(&buf[..n])?;
            out.flush()?;
            continue;
        }
        decoder.push(&buf[..n]);
        while let Some((stream, payload)) = decoder.next_frame() {
            match stream {
                frames::STDOUT => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(&payload)?;
                    out.flush()?;
                }
                frames::STDERR => {
                    let mut err = std::io::stderr().lock();
                    err.write_all(&payload)?;
                    err.flush()?;
                }
                _ => return Ok(Some(payload)),
            }
        }
    }
    if decoder.pending() > 0 {
        return Err(anyhow!("the stream ended in the middle of a frame"));
    }
    Ok(None)
}

/// What ended the copying of stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEnd {
    /// Stdin reached its end; the stream's sending side was closed after it.
    Eof,
    /// The user typed the detach keys.
    Detached,
}

/// Copies the CLI's stdin into the stream; stops at stdin's end (half-closing the stream, so
/// the container's stdin ends) or, when `detach_keys` is not empty, at that key sequence
/// (which is not sent).
pub async fn send_input(
    mut to_daemon: impl AsyncWrite + Unpin,
    detach_keys: Vec<u8>,
) -> Result<InputEnd> {
    let mut stdin = tokio::io::stdin();
    let mut buf = vec![0u8; 32 * 1024];
    let mut matcher = DetachMatcher::new(detach_keys);
    loop {
        let n = stdin.read(&mut buf).await?;
        if n == 0 {
            let _ = to_daemon.shutdown().await;
            return Ok(InputEnd::Eof);
        }
        let (forward, detached) = matcher.feed(&buf[..n]);
        if !forward.is_empty() {
            to_daemon.write_all(&forward).await?;
            to_daemon.flush().await?;
        }
        if detached {
            return Ok(InputEnd::Detached);
        }
    }
}
