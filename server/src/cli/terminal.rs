//! The local terminal during `exec -t`, `attach` and `run -it`: raw mode while the session
//! runs (restored on drop), its window size, and the stream of its size changes.

use anyhow::{Context, Result};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg, Termios};
use std::io::IsTerminal;
use std::os::fd::AsFd;

/// Raw mode on the CLI's stdin (termios(3), cfmakeraw): keys reach the container unprocessed
/// (ctrl-c included); the previous mode comes back when this drops.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// `None` when stdin is not a terminal (then there is nothing to switch).
    pub fn enable() -> Result<Option<RawMode>> {
        let stdin = std::io::stdin();
        if !stdin.is_terminal() {
            return Ok(None);
        }
        let saved = tcgetattr(stdin.as_fd()).context("cannot read the terminal's mode")?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw)
            .context("cannot switch the terminal to raw mode")?;
        Ok(Some(RawMode { saved }))
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin().as_fd(), SetArg::TCSANOW, &self.saved);
    }
}

/// The local terminal's size, rows and columns (TIOCGWINSZ on stdout, else stdin).
pub fn size() -> Option<(u16, u16)> {
    [libc::STDOUT_FILENO, libc::STDIN_FILENO]
        .into_iter()
        .find_map(|fd| {
            let mut size: libc::winsize = unsafe { std::mem::zeroed() };
            // SAFETY: TIOCGWINSZ writes a winsize we own.
            let r = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) };
            (r == 0 && size.ws_row > 0 && size.ws_col > 0).then_some((size.ws_row, size.ws_col))
        })
}

/// Calls `resize` with the terminal's size at every SIGWINCH, until the task is aborted.
pub fn follow_size<F, Fut>(resize: F) -> Result<tokio::task::JoinHandle<()>>
where
    F: Fn(u16, u16) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    use tokio::signal::unix::{signal, SignalKind};
    let mut changes =
        signal(SignalKind::window_change()).context("cannot watch the terminal's size")?;
    Ok(tokio::spawn(async move {
        while changes.recv().await.is_some() {
            if let Some((rows, columns)) = size() {
                resize(rows, columns).await;
            }
        }
    }))
}
