//! The test's side of a terminal: a pty whose slave is a CLI's stdio and controlling
//! terminal (exec -it, run -it, attach), read until a pattern appears, resized like a window.

use super::{Daemon, BERTH};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The test's side of a terminal: the master of a pty whose slave is a CLI's stdio and
/// controlling terminal.
pub struct Terminal {
    master: OwnedFd,
    seen: Vec<u8>,
}

impl Terminal {
    /// Starts `berth ARGS…` on a new terminal of `rows`x`columns`.
    pub fn spawn(
        d: &Daemon,
        args: &[&str],
        rows: u16,
        columns: u16,
    ) -> (Terminal, std::process::Child) {
        use std::os::unix::process::CommandExt;
        let size = nix::pty::Winsize {
            ws_row: rows,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&size), None).expect("openpty");
        let slave = pty.slave;
        let mut command = Command::new(BERTH);
        command
            .arg("-H")
            .arg(d.host())
            .args(args)
            .stdin(Stdio::from(slave.try_clone().expect("dup")))
            .stdout(Stdio::from(slave.try_clone().expect("dup")))
            .stderr(Stdio::from(slave));
        // SAFETY: setsid and TIOCSCTTY only, between fork and exec.
        unsafe {
            command.pre_exec(|| {
                nix::unistd::setsid()?;
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().expect("spawn berth on a terminal");
        (
            Terminal {
                master: pty.master,
                seen: Vec::new(),
            },
            child,
        )
    }

    pub fn send(&self, text: &[u8]) {
        nix::unistd::write(&self.master, text).expect("write to the terminal");
    }

    /// Reads until `pattern` has appeared after everything matched so far; panics with what
    /// was seen if it does not within a minute (a hang, not a timing assertion).
    pub fn expect(&mut self, pattern: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = String::from_utf8_lossy(&self.seen).into_owned();
            if let Some(at) = text.find(pattern) {
                let upto = at + pattern.len();
                self.seen.drain(..upto);
                return text[..upto].to_string();
            }
            if Instant::now() > deadline {
                panic!("{pattern:?} did not appear on the terminal; saw {text:?}");
            }
            let mut fds = [nix::poll::PollFd::new(
                std::os::fd::AsFd::as_fd(&self.master),
                nix::poll::PollFlags::POLLIN,
            )];
            if nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(500u16)).unwrap_or(0) > 0 {
                let mut buf = [0u8; 4096];
                match nix::unistd::read(&self.master, &mut buf) {
                    Ok(n) if n > 0 => self.seen.extend_from_slice(&buf[..n]),
                    _ => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }

    pub fn resize(&self, rows: u16, columns: u16) {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize we own; the kernel signals the CLI (SIGWINCH).
        let r = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(r, 0, "resize the test's terminal");
    }
}

/// Waits for a CLI on a terminal to exit and returns its status.
pub fn exit_status(child: &mut std::process::Child) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the CLI did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
