//! Creating the container's init process (the shim's side): clone into new namespaces, place
//! the child in its cgroup, release it, and learn whether its exec succeeded.

use super::capabilities;
use super::cgroup::{Cgroup, CgroupManager};
use super::init::{self, InitFds};
use super::pty;
use super::spec::{ContainerSpec, NetworkMode};
use crate::logs::Stream;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::waitpid;
use nix::unistd::{pipe2, Pid};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};

/// Stack for the cloned child until it execs. Only touched pages are ever copied or
/// allocated, so being generous costs nothing.
const INIT_STACK: usize = 8 * 1024 * 1024;

/// A container whose command is running.
pub(crate) struct Container {
    /// Host pid of the container's init (pid 1 inside it).
    pub pid: Pid,
    /// What the shim reads and logs: the read ends of the stdout and stderr pipes, or with
    /// `spec.tty` the terminal's master alone (a terminal has one stream, logged as stdout).
    pub outputs: Vec<(Stream, OwnedFd)>,
    /// The write end of the command's stdin pipe (`spec.stdin` without a terminal).
    pub stdin: Option<OwnedFd>,
}

/// Why the container did not start: one line for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StartError(pub String, pub StartFailure);

/// What kind of failure a [`StartError`] is, carried as the shim's exit status (the shell's
/// convention, which the init's own exit status follows: see init::Command::exec).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartFailure {
    /// The command was not found (127).
    CommandNotFound,
    /// The command exists but cannot be executed (126).
    CommandNotExecutable,
    /// Anything else (1).
    Other,
}

impl StartFailure {
    pub(crate) fn exit_code(self) -> i32 {
        match self {
            StartFailure::CommandNotFound => 127,
            StartFailure::CommandNotExecutable => 126,
            StartFailure::Other => 1,
        }
    }

    pub(crate) fn from_exit_code(code: i32) -> StartFailure {
        match code {
            127 => StartFailure::CommandNotFound,
            126 => StartFailure::CommandNotExecutable,
            _ => StartFailure::Other,
        }
    }
}

impl StartError {
    fn other(message: impl Into<String>) -> StartError {
        StartError(message.into(), StartFailure::Other)
    }
}

/// Starts the container's command in new pid, mount, uts, ipc, network and (once placed)
/// cgroup namespaces, inside `cgroup` (which must exist). On error no child is left.
///
/// Must be called from a single-threaded process: the child runs Rust code between clone
/// and exec.
pub(crate) fn start(spec: &ContainerSpec, cgroup: &Cgroup) -> Result<Container, StartError> {
    // Refused before anything runs, with the name the user gave.
    capabilities::resolve(&spec.security).map_err(|e| StartError::other(e.to_string()))?;
    // Compiled by the daemon: the init only installs it (runtime::seccomp).
    let filter = spec.seccomp.filter();
    let pipe = || pipe2(OFlag::O_CLOEXEC).map_err(|e| StartError::other(format!("pipe: {e}")));
    let (sync_r, sync_w) = pipe()?;
    let (error_r, error_w) = pipe()?;
    let devnull =
        File::open("/dev/null").map_err(|e| StartError::other(format!("open /dev/null: {e}")))?;
    // With a terminal, the init's stdio is /dev/null until it opens the terminal in the
    // container's devpts (pty::attach_in_container) and sends the master back here.
    let mut outputs = Vec::new();
    let mut console = None;
    // The child's ends: only the child may hold them (dropped here after the clone).
    let child_ends: Vec<OwnedFd>;
    let (stdout, stderr, console_fd);
    if spec.tty {
        let (shim_end, init_end) = socketpair(
            AddressFamily::Unix,
            SockType::Stream,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| StartError::other(format!("socketpair: {e}")))?;
        (stdout, stderr) = (devnull.as_raw_fd(), devnull.as_raw_fd());
        console_fd = Some(init_end.as_raw_fd());
        child_ends = vec![init_end];
        console = Some(shim_end);
    } else {
        let (stdout_r, stdout_w) = pipe()?;
        let (stderr_r, stderr_w) = pipe()?;
        (stdout, stderr) = (stdout_w.as_raw_fd(), stderr_w.as_raw_fd());
        console_fd = None;
        child_ends = vec![stdout_w, stderr_w];
        outputs = vec![(Stream::Stdout, stdout_r), (Stream::Stderr, stderr_r)];
    }

    // `-i` without a terminal: a pipe the shim writes attach clients' input into.
    let (stdin_r, stdin_w) = match spec.stdin && !spec.tty {
        true => {
            let (r, w) = pipe()?;
            (Some(r), Some(w))
        }
        false => (None, None),
    };
    let fds = InitFds {
        sync: sync_r.as_raw_fd(),
        error: error_w.as_raw_fd(),
        stdin: stdin_r
            .as_ref()
            .map_or(devnull.as_raw_fd(), |r| r.as_raw_fd()),
        stdout,
        stderr,
        console: console_fd,
    };
    // The cgroup namespace is unshared by the child after it was placed in its cgroup (see
    // init::run); everything else is new from the start.
    let mut flags = CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC;
    if spec.network == NetworkMode::New {
        flags |= CloneFlags::CLONE_NEWNET;
    }
    let mut stack = vec![0u8; INIT_STACK];
    // SAFETY: the child gets a copy of this single-threaded process (no CLONE_VM) and runs
    // `init::run` on `stack`, which never returns: it execs or _exits.
    let pid = unsafe {
        nix::sched::clone(
            Box::new(|| -> isize { init::run(spec, &fds, filter) }),
            &mut stack,
            flags,
            Some(libc::SIGCHLD),
        )
    }
    .map_err(|e| StartError::other(format!("clone: {e}")))?;
    // Only the child may hold these ends, or EOF would never come.
    drop((child_ends, sync_r, error_w, devnull, stdin_r));

    // The child builds its root filesystem meanwhile (init::run) and may fail doing so: then
    // its own message says why, not the cgroup write or the release that failed with it.
    let mut error_r = File::from(error_r);
    let released = cgroup
        .add_task(pid.as_raw())
        .map_err(|e| e.to_string())
        .and_then(|()| {
            File::from(sync_w)
                .write_all(&[1])
                .map_err(|e| format!("release container init: {e}"))
        });
    if let Err(e) = released {
        let _ = kill(pid, Signal::SIGKILL);
        let message = child_message(&mut error_r).unwrap_or_default();
        let failure = reap(pid, false);
        return Err(match message.is_empty() {
            true => StartError::other(e),
            false => StartError(message, failure),
        });
    }

    // EOF without a message: the exec succeeded and closed the close-on-exec pipe.
    let message = match child_message(&mut error_r) {
        Ok(message) => message,
        Err(e) => {
            reap(pid, true);
            return Err(StartError::other(format!(
                "read container init status: {e}"
            )));
        }
    };
    if !message.is_empty() {
        // The init's exit status says what kind of failure its message is (init::run).
        let failure = reap(pid, false);
        return Err(StartError(message, failure));
    }
    if let Some(console) = console {
        // The init sent the master before its exec, which closed its end of the socket.
        match pty::receive_master(&console) {
            Ok(master) => outputs.push((Stream::Stdout, master)),
            Err(e) => {
                reap(pid, true);
                return Err(StartError::other(e.to_string()));
            }
        }
    }
    Ok(Container {
        pid,
        outputs,
        stdin: stdin_w,
    })
}

/// What the child wrote to the error pipe before it exec'd or died (empty after an exec).
fn child_message(error_r: &mut File) -> std::io::Result<String> {
    let mut message = String::new();
    error_r.read_to_string(&mut message)?;
    Ok(message)
}

/// Waits for a child that failed to start (killing it first when asked), so no zombie or
/// process stays behind; its exit status read as the kind of failure.
fn reap(pid: Pid, kill_first: bool) -> StartFailure {
    if kill_first {
        let _ = kill(pid, Signal::SIGKILL);
    }
    loop {
        match waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => {
                return StartFailure::from_exit_code(code)
            }
            _ => return StartFailure::Other,
        }
    }
}
