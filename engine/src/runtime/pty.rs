//! `--tty`: the container's pseudo-terminal. The container's init opens it from the
//! container's own devpts instance, makes the slave its controlling terminal and its stdio,
//! and passes the master to the shim over a unix socket; the shim logs what the master reads.
//!
//! Why the container's devpts rather than the host's /dev/ptmx: the slave then has a name
//! inside the container (/dev/pts/0), so `tty`, ttyname(3) and programs that reopen their
//! terminal work, and the container's terminals come from its own instance, not the host's
//! pool. This is what runc does with its console socket; the shim plays the caller's part.

use super::fdpass;
use super::init::{sys_err, InitError};
use nix::errno::Errno;
use nix::mount::{mount, MsFlags};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The window size a new terminal gets (what docker uses until a client resizes it).
pub(crate) const ROWS: u16 = 24;
pub(crate) const COLUMNS: u16 = 80;

/// Why the shim did not get the container's terminal.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PtyError {
    #[error("receive the container's terminal: {0}")]
    Receive(Errno),
    #[error("the container's init sent no terminal")]
    Missing,
}

/// A new pseudo-terminal pair.
pub(crate) struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
    /// The slave's name, `<dev>/pts/<n>`.
    pub slave_path: PathBuf,
}

/// Opens a new, unlocked pair from `<dev>/ptmx` with an 80x24 window (pts(4)). Neither end
/// becomes the caller's controlling terminal; both are close-on-exec.
pub(crate) fn open(dev: &Path) -> Result<Pty, InitError> {
    let ptmx = dev.join("ptmx");
    let master = open_fd(&ptmx, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC)?;
    let unlock: libc::c_int = 0;
    // SAFETY: TIOCSPTLCK reads an int we own.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &unlock) } < 0 {
        return Err(sys_err("unlock the terminal", Errno::last()));
    }
    let mut number: libc::c_uint = 0;
    // SAFETY: TIOCGPTN writes an unsigned int we own.
    if unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut number) } < 0 {
        return Err(sys_err("get the terminal's number", Errno::last()));
    }
    // TIOCGPTPEER (Linux 4.13) opens the slave of this very master, whatever is mounted at
    // <dev>/pts: no path lookup that could reach another devpts instance.
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor we then own.
    let slave = unsafe {
        libc::ioctl(
            master.as_raw_fd(),
            libc::TIOCGPTPEER,
            libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC,
        )
    };
    if slave < 0 {
        return Err(sys_err("open the terminal's slave", Errno::last()));
    }
    // SAFETY: a fresh descriptor nobody else owns.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    resize(&master, ROWS, COLUMNS).map_err(|e| sys_err("set the terminal's window size", e))?;
    Ok(Pty {
        master,
        slave,
        slave_path: dev.join("pts").join(number.to_string()),
    })
}

/// Sets the terminal's window size from either end (tty_ioctl(4), TIOCSWINSZ); the kernel
/// sends SIGWINCH to its foreground process group when the size changes.
pub(crate) fn resize(fd: &OwnedFd, rows: u16, columns: u16) -> Result<(), Errno> {
    let size = libc::winsize {
        ws_row: rows,
        ws_col: columns,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize we own.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &size) } < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

fn open_fd(path: &Path, flags: libc::c_int) -> Result<OwnedFd, InitError> {
    let c_path = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| InitError::setup(format!("{} contains a NUL byte", path.display())))?;
    // SAFETY: a NUL-terminated path; the result is a new descriptor we then own.
    let fd = unsafe { libc::open(c_path.as_ptr(), flags) };
    if fd < 0 {
        return Err(sys_err(format!("open {}", path.display()), Errno::last()));
    }
    // SAFETY: as above.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The init's side, after pivot_root and before dropping privileges: opens the terminal from
/// the container's /dev, gives the slave to `uid`, binds it on /dev/console (as runc does),
/// makes it the controlling terminal (the caller must lead its own session, setsid(2)) and
/// stdin, stdout and stderr, and sends the master to the shim on `socket`.
pub(crate) fn attach_in_container(
    socket: RawFd,
    uid: u32,
    size: Option<(u16, u16)>,
) -> Result<(), InitError> {
    let pty = open(Path::new("/dev"))?;
    if let Some((rows, columns)) = size {
        resize(&pty.master, rows, columns)
            .map_err(|e| sys_err(format!("set the terminal size {columns}x{rows}"), e))?;
    }
    // The command may reopen its terminal by name after dropping root.
    nix::unistd::fchown(&pty.slave, Some(nix::unistd::Uid::from_raw(uid)), None)
        .map_err(|e| sys_err(format!("chown {}", pty.slave_path.display()), e))?;
    bind_console(&pty.slave_path)?;
    // SAFETY: TIOCSCTTY with 0: take the terminal only if no other session has it (it is new).
    if unsafe { libc::ioctl(pty.slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(sys_err("make the terminal controlling", Errno::last()));
    }
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors of this single-threaded child.
        if unsafe { libc::dup2(pty.slave.as_raw_fd(), target) } < 0 {
            return Err(sys_err(
                format!("dup2 terminal onto fd {target}"),
                Errno::last(),
            ));
        }
    }
    send_master(socket, &pty.master)
}

/// /dev/console is the container's terminal, like a real system's console.
fn bind_console(slave: &Path) -> Result<(), InitError> {
    let console = Path::new("/dev/console");
    // A privileged container may have the host's console node here: mount over it, never
    // open it.
    if std::fs::symlink_metadata(console).is_err() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(console)
            .map_err(|e| InitError::setup(format!("create {}: {e}", console.display())))?;
    }
    mount(
        Some(slave),
        console,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    )
    .map_err(|e| {
        sys_err(
            format!("bind {} on {}", slave.display(), console.display()),
            e,
        )
    })
}

/// Sends `master` as SCM_RIGHTS with one byte of data (unix(7): ancillary data needs some).
pub(crate) fn send_master(socket: RawFd, master: &OwnedFd) -> Result<(), InitError> {
    fdpass::send(socket, &[0], Some(master))
        .map_err(|e| sys_err("send the terminal to the shim", e))
}

/// The shim's side: the master the init sent, close-on-exec. Call it once the init exec'd
/// (or is gone), so the socket has the descriptor or is at end of file and this never blocks.
pub(crate) fn receive_master(socket: &OwnedFd) -> Result<OwnedFd, PtyError> {
    let mut byte = [0u8; 1];
    let (_, master) = fdpass::receive(socket.as_raw_fd(), &mut byte).map_err(PtyError::Receive)?;
    master.ok_or(PtyError::Missing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};

    fn read_some(fd: &OwnedFd) -> Vec<u8> {
        let mut buf = [0u8; 256];
        let n = nix::unistd::read(fd, &mut buf).expect("read");
        buf[..n].to_vec()
    }

    #[test]
    fn new_terminal_is_80x24_and_translates_newlines() {
        let pty = open(Path::new("/dev")).expect("host /dev/ptmx");
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        // SAFETY: TIOCGWINSZ writes a winsize we own.
        let r = unsafe { libc::ioctl(pty.slave.as_raw_fd(), libc::TIOCGWINSZ, &mut size) };
        assert_eq!(r, 0);
        assert_eq!((size.ws_row, size.ws_col), (ROWS, COLUMNS));
        assert!(pty.slave_path.starts_with("/dev/pts"));
        assert!(pty.slave_path.exists(), "{}", pty.slave_path.display());
        nix::unistd::write(&pty.slave, b"hi\n").unwrap();
        assert_eq!(read_some(&pty.master), b"hi\r\n");
    }

    #[test]
    fn master_travels_over_the_socket() {
        let (shim, init) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        let pty = open(Path::new("/dev")).unwrap();
        send_master(init.as_raw_fd(), &pty.master).unwrap();
        drop(pty.master);
        let master = receive_master(&shim).unwrap();
        nix::unistd::write(&pty.slave, b"through\n").unwrap();
        assert_eq!(read_some(&master), b"through\r\n");
        // SAFETY: F_GETFD on a descriptor we own.
        let flags = unsafe { libc::fcntl(master.as_raw_fd(), libc::F_GETFD) };
        assert_eq!(flags & libc::FD_CLOEXEC, libc::FD_CLOEXEC);
    }

    #[test]
    fn closed_socket_means_no_terminal() {
        let (shim, init) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .unwrap();
        drop(init);
        assert!(matches!(receive_master(&shim), Err(PtyError::Missing)));
    }
}
