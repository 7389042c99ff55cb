//! Attaching to a running container: the input side (the container's stdin and terminal
//! size, through its shim's control socket), and docker's detach keys. The output side is the
//! container's log, followed from the moment of attaching.

pub mod detach;

use crate::runtime::control;
use std::io;
use std::path::Path;
use tokio::io::AsyncWriteExt;

/// An attach client's way into a container: input for its stdin, resizes of its terminal.
pub struct AttachInput {
    stream: tokio::net::UnixStream,
    /// The container closes its stdin when this client's input ends (docker's StdinOnce).
    stdin_once: bool,
}

impl AttachInput {
    pub(crate) fn connect(path: &Path, stdin_once: bool) -> io::Result<AttachInput> {
        // A unix socket's connect does not wait for the server to accept.
        let stream = control::connect(path)?;
        stream.set_nonblocking(true)?;
        Ok(AttachInput {
            stream: tokio::net::UnixStream::from_std(stream)?,
            stdin_once,
        })
    }

    /// Input for the container's stdin (or its terminal).
    pub async fn send(&mut self, data: &[u8]) -> io::Result<()> {
        for chunk in data.chunks(32 * 1024) {
            self.stream
                .write_all(&control::input_message(chunk))
                .await?;
        }
        Ok(())
    }

    /// The client's input ended: the container's stdin ends too if it was created with
    /// StdinOnce, else it stays open for the next client.
    pub async fn end(&mut self) -> io::Result<()> {
        if self.stdin_once {
            self.stream
                .write_all(&control::close_stdin_message())
                .await?;
        }
        Ok(())
    }

    /// Sets the container's terminal size.
    pub async fn resize(&mut self, rows: u16, columns: u16) -> io::Result<()> {
        self.stream
            .write_all(&control::resize_message(rows, columns))
            .await
    }
}
