//! The CLI's side of an interactive stream (exec, attach): the local stdin into it, its output
//! (raw with a terminal, multiplexed frames without) onto stdout and stderr.

use crate::frames;
use anyhow::{anyhow, Result};
use std::io::Write;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Copies the stream's output to stdout/stderr until the daemon closes it.
pub async fn print_output(mut from_daemon: impl AsyncRead + Unpin, tty: bool) -> Result<()> {
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
            if stream == frames::STDERR {
                let mut err = std::io::stderr().lock();
                err.write_all(&payload)?;
                err.flush()?;
            } else {
                let mut out = std::io::stdout().lock();
                out.write_all(&payload)?;
                out.flush()?;
            }
        }
    }
    if decoder.pending() > 0 {
        return Err(anyhow!("the stream ended in the middle of a frame"));
    }
    Ok(())
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

/// Finds the detach sequence in the input, holding back a partial match until it is decided
/// (docker's behaviour: the keys of a completed sequence are never sent).
struct DetachMatcher {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachMatcher {
    fn new(keys: Vec<u8>) -> DetachMatcher {
        DetachMatcher { keys, matched: 0 }
    }

    /// The bytes to forward now, and whether the sequence completed.
    fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        if self.keys.is_empty() {
            return (input.to_vec(), false);
        }
        let mut out = Vec::with_capacity(input.len());
        for &byte in input {
            if byte == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
            } else {
                // The held-back prefix was ordinary input after all.
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                if byte == self.keys[0] {
                    self.matched = 1;
                } else {
                    out.push(byte);
                }
            }
        }
        (out, false)
    }
}

/// `--detach-keys`: docker's format, comma-separated `ctrl-<letter>` (also `ctrl-@`,
/// `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`) or single characters. Empty: none.
pub fn parse_detach_keys(text: &str) -> Result<Vec<u8>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|key| {
            let invalid = || anyhow!("invalid detach keys {text:?}: unknown key {key:?}");
            if let Some(rest) = key.strip_prefix("ctrl-") {
                let c = match rest.as_bytes() {
                    [c] => *c,
                    _ => return Err(invalid()),
                };
                match c.to_ascii_uppercase() {
                    c @ b'@'..=b'_' => Ok(c - b'@'),
                    _ => Err(invalid()),
                }
            } else if key.len() == 1 {
                Ok(key.as_bytes()[0])
            } else {
                Err(invalid())
            }
        })
        .collect()
}

/// docker's default detach sequence, ctrl-p ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert!(parse_detach_keys("ctrl-").is_err());
        assert!(parse_detach_keys("alt-x").is_err());
        assert!(parse_detach_keys("").unwrap().is_empty());
    }

    #[test]
    fn the_detach_sequence_is_held_back_and_not_sent() {
        let mut m = DetachMatcher::new(vec![16, 17]);
        assert_eq!(m.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(m.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(m.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(m.feed(b"\x11rest"), (Vec::new(), true));
        let mut none = DetachMatcher::new(Vec::new());
        assert_eq!(none.feed(b"\x10\x11"), (b"\x10\x11".to_vec(), false));
    }
}
