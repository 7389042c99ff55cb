//! The shim's control socket: attach clients send input for the container's stdin and
//! resizes of its terminal over a unix socket beside the container's spec.
//!
//! Messages (client to shim) are a kind byte, a big-endian u32 payload length and the
//! payload: input bytes, "close stdin" (empty) or a resize (rows and columns, big-endian u16).
//! The shim never writes back: the output reaches clients through the container's log.

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{PollFd, PollFlags};
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};

/// The socket's file name in the container's directory.
pub const SOCKET_NAME: &str = "control.sock";

const INPUT: u8 = 1;
const CLOSE_STDIN: u8 = 2;
const RESIZE: u8 = 3;
const HEADER: usize = 5;
/// Longest message payload a client may send.
const MAX_PAYLOAD: usize = 64 * 1024;
/// Input held for a container that does not read its stdin; beyond it the shim stops
/// reading its clients, whose own buffers then push back on the sender.
const MAX_PENDING: usize = 1024 * 1024;

/// Frames input for the container's stdin.
pub fn input_message(data: &[u8]) -> Vec<u8> {
    message(INPUT, data)
}

/// Asks the shim to close the container's stdin (its end of file) once the input sent before
/// has been written. Without a terminal only: a terminal has no end of file to give.
pub fn close_stdin_message() -> Vec<u8> {
    message(CLOSE_STDIN, &[])
}

/// Asks the shim to set the terminal's window size (the kernel signals SIGWINCH).
pub fn resize_message(rows: u16, columns: u16) -> Vec<u8> {
    let mut payload = rows.to_be_bytes().to_vec();
    payload.extend_from_slice(&columns.to_be_bytes());
    message(RESIZE, &payload)
}

fn message(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A socket path reached through an `O_PATH` descriptor of its directory
/// (`/proc/self/fd/N/NAME`): a unix socket's path must fit in 108 bytes (unix(7)), the
/// container's directory under a deep data root may not.
struct ShortPath {
    _dir: OwnedFd,
    path: PathBuf,
}

fn short_path(path: &Path) -> io::Result<ShortPath> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => (dir, name),
        _ => {
            return Err(io::Error::other(format!(
                "bad socket path {}",
                path.display()
            )))
        }
    };
    let dir = nix::fcntl::open(
        dir,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(io::Error::from)?;
    let path = Path::new("/proc/self/fd")
        .join(dir.as_raw_fd().to_string())
        .join(name);
    Ok(ShortPath { _dir: dir, path })
}

/// Connects to a container's control socket (the daemon's side).
pub fn connect(path: &Path) -> io::Result<UnixStream> {
    let short = short_path(path)?;
    UnixStream::connect(&short.path)
}

/// One connected client and the part of a message it has sent so far.
struct Client {
    stream: UnixStream,
    buffer: Vec<u8>,
}

/// The shim's side: accepts clients, writes their input to the container's stdin as fast as
/// it reads it, resizes its terminal. Driven by the shim's poll loop; never blocks.
pub(crate) struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    clients: Vec<Client>,
    /// The stdin pipe's write end, or the terminal's master; non-blocking.
    stdin: Option<OwnedFd>,
    /// The terminal's master, for resizes.
    terminal: Option<OwnedFd>,
    pending: Vec<u8>,
    close_when_written: bool,
}

impl ControlServer {
    /// Listens at `path` (an old socket there is replaced; only root may connect).
    pub fn bind(
        path: &Path,
        stdin: Option<OwnedFd>,
        terminal: Option<OwnedFd>,
    ) -> io::Result<ControlServer> {
        let short = short_path(path)?;
        match std::fs::remove_file(&short.path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let listener = UnixListener::bind(&short.path)?;
        std::fs::set_permissions(&short.path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        if let Some(fd) = &stdin {
            let flags = OFlag::from_bits_truncate(fcntl(fd, FcntlArg::F_GETFL)?);
            fcntl(fd, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        }
        Ok(ControlServer {
            listener,
            path: path.to_path_buf(),
            clients: Vec::new(),
            stdin,
            terminal,
            pending: Vec::new(),
            close_when_written: false,
        })
    }

    /// What to wait for: new clients, their messages (while there is room for input) and,
    /// with input pending, room in the container's stdin.
    pub fn poll_fds(&self) -> Vec<PollFd<'_>> {
        let mut fds = vec![PollFd::new(self.listener.as_fd(), PollFlags::POLLIN)];
        let reading = if self.pending.len() < MAX_PENDING {
            PollFlags::POLLIN
        } else {
            PollFlags::empty()
        };
        fds.extend(
            self.clients
                .iter()
                .map(|c| PollFd::new(c.stream.as_fd(), reading)),
        );
        if let (Some(stdin), false) = (&self.stdin, self.pending.is_empty()) {
            fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLOUT));
        }
        fds
    }

    /// Acts on what poll reported, in the order of [`Self::poll_fds`].
    pub fn handle(&mut self, ready: &[bool]) {
        if ready.first() == Some(&true) {
            self.accept();
        }
        let mut gone = Vec::new();
        for i in 0..self.clients.len() {
            if ready.get(1 + i) == Some(&true) && !self.read_client(i) {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            self.clients.remove(i);
        }
        // Writing is always worth a try: a failed attempt costs one EAGAIN.
        self.write_pending();
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_ok() {
                        self.clients.push(Client {
                            stream,
                            buffer: Vec::new(),
                        });
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    /// Reads what client `i` sent and acts on its whole messages; false once it is gone or
    /// sent something that is not a message.
    fn read_client(&mut self, i: usize) -> bool {
        let mut buf = [0u8; 16 * 1024];
        let n = match self.clients[i].stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                return true
            }
            Err(_) => return false,
        };
        self.clients[i].buffer.extend_from_slice(&buf[..n]);
        loop {
            let buffer = &self.clients[i].buffer;
            if buffer.len() < HEADER {
                return true;
            }
            let kind = buffer[0];
            let len = u32::from_be_bytes([buffer[1], buffer[2], buffer[3], buffer[4]]) as usize;
            if len > MAX_PAYLOAD {
                return false;
            }
            if buffer.len() < HEADER + len {
                return true;
            }
            let payload: Vec<u8> = buffer[HEADER..HEADER + len].to_vec();
            self.clients[i].buffer.drain(..HEADER + len);
            match (kind, payload.as_slice()) {
                (INPUT, data) => {
                    if self.stdin.is_some() && !self.close_when_written {
                        self.pending.extend_from_slice(data);
                    }
                }
                (CLOSE_STDIN, []) => {
                    if self.terminal.is_none() {
                        self.close_when_written = true;
                    }
                }
                (RESIZE, [r0, r1, c0, c1]) => {
                    if let Some(terminal) = &self.terminal {
                        let rows = u16::from_be_bytes([*r0, *r1]);
                        let columns = u16::from_be_bytes([*c0, *c1]);
                        if let Err(e) = super::pty::resize(terminal, rows, columns) {
                            note!("berth shim: resize the terminal: {e}");
                        }
                    }
                }
                _ => return false,
            }
        }
    }

    /// Writes pending input without blocking; closes stdin when asked and all is written.
    fn write_pending(&mut self) {
        let Some(stdin) = &self.stdin else {
            self.pending.clear();
            return;
        };
        while !self.pending.is_empty() {
            match nix::unistd::write(stdin, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    // The container closed its stdin (EPIPE): nothing will read it any more.
                    self.pending.clear();
                    self.stdin = None;
                    return;
                }
            }
        }
        if self.close_when_written {
            self.stdin = None;
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        if let Ok(short) = short_path(&self.path) {
            let _ = std::fs::remove_file(short.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// Runs the server's loop step by step until `done` or a few seconds passed.
    fn drive(server: &mut ControlServer, mut done: impl FnMut(&ControlServer) -> bool) {
        for _ in 0..200 {
            if done(server) {
                return;
            }
            let ready: Vec<bool> = {
                let mut fds = server.poll_fds();
                let _ = nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(20u16));
                fds.iter()
                    .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                    .collect()
            };
            server.handle(&ready);
        }
        panic!("the control server did not get there");
    }

    #[test]
    fn input_reaches_stdin_and_close_ends_it_even_under_a_long_path() {
        let dir = tempfile::tempdir().unwrap();
        let deep = dir.path().join("d".repeat(100)).join("e".repeat(60));
        std::fs::create_dir_all(&deep).unwrap();
        let path = deep.join(SOCKET_NAME);
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        let mut server = ControlServer::bind(&path, Some(write_end), None).unwrap();
        let mut client = connect(&path).unwrap();
        client.write_all(&input_message(b"hello ")).unwrap();
        client.write_all(&input_message(b"world")).unwrap();
        client.write_all(&close_stdin_message()).unwrap();
        drive(&mut server, |s| s.stdin.is_none());
        let mut got = String::new();
        std::fs::File::from(read_end)
            .read_to_string(&mut got)
            .unwrap();
        assert_eq!(got, "hello world");
        drop(server);
        assert!(!path.exists(), "the socket is removed with the server");
    }

    #[test]
    fn a_client_sending_garbage_is_dropped_and_others_go_on() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOCKET_NAME);
        let (read_end, write_end) = nix::unistd::pipe().unwrap();
        let mut server = ControlServer::bind(&path, Some(write_end), None).unwrap();
        let mut bad = connect(&path).unwrap();
        bad.write_all(&[9, 0, 0, 0, 1, b'x']).unwrap();
        let mut good = connect(&path).unwrap();
        good.write_all(&input_message(b"ok")).unwrap();
        // Both are accepted at once, then both messages read: one client stays.
        drive(&mut server, |s| {
            s.clients.len() == 1 && s.pending.is_empty()
        });
        let mut buf = [0u8; 2];
        std::fs::File::from(read_end).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ok");
        assert_eq!(
            bad.read(&mut buf).unwrap(),
            0,
            "the bad client was hung up on"
        );
    }

    #[test]
    fn resize_sets_the_terminals_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SOCKET_NAME);
        let pty = super::super::pty::open(Path::new("/dev")).unwrap();
        let master = pty.master.try_clone().unwrap();
        let mut server = ControlServer::bind(&path, None, Some(master)).unwrap();
        let mut client = connect(&path).unwrap();
        client.write_all(&resize_message(33, 111)).unwrap();
        let size = || {
            let mut size: libc::winsize = unsafe { std::mem::zeroed() };
            // SAFETY: TIOCGWINSZ writes a winsize we own.
            unsafe { libc::ioctl(pty.slave.as_raw_fd(), libc::TIOCGWINSZ, &mut size) };
            (size.ws_row, size.ws_col)
        };
        drive(&mut server, |_| size() == (33, 111));
    }
}
