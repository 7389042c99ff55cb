//! Creating the container's init process (the shim's side): clone into new namespaces, place
//! the child in its cgroup, release it, and learn whether its exec succeeded.

use super::capabilities;
use super::cgroup::{Cgroup, CgroupManager};
use super::init::{self, InitFds};
use super::spec::ContainerSpec;
use nix::fcntl::OFlag;
use nix::sched::CloneFlags;
use nix::sys::signal::{kill, Signal};
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
    /// Read ends of the container's stdout and stderr.
    pub stdout: OwnedFd,
    pub stderr: OwnedFd,
}

/// Why the container did not start: one line for the user.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct StartError(pub String);

/// Starts the container's command in new pid, mount, uts, ipc, network and (once placed)
/// cgroup namespaces, inside `cgroup` (which must exist). On error no child is left.
///
/// Must be called from a single-threaded process: the child runs Rust code between clone
/// and exec.
pub(crate) fn start(spec: &ContainerSpec, cgroup: &Cgroup) -> Result<Container, StartError> {
    // Refused before anything runs, with the name the user gave.
    capabilities::resolve(&spec.security).map_err(|e| StartError(e.to_string()))?;
    let pipe = || pipe2(OFlag::O_CLOEXEC).map_err(|e| StartError(format!("pipe: {e}")));
    let (stdout_r, stdout_w) = pipe()?;
    let (stderr_r, stderr_w) = pipe()?;
    let (sync_r, sync_w) = pipe()?;
    let (error_r, error_w) = pipe()?;
    let devnull =
        File::open("/dev/null").map_err(|e| StartError(format!("open /dev/null: {e}")))?;

    let fds = InitFds {
        sync: sync_r.as_raw_fd(),
        error: error_w.as_raw_fd(),
        stdin: devnull.as_raw_fd(),
        stdout: stdout_w.as_raw_fd(),
        stderr: stderr_w.as_raw_fd(),
    };
    // The cgroup namespace is unshared by the child after it was placed in its cgroup (see
    // init::run); everything else is new from the start.
    let flags = CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWUTS
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWNET;
    let mut stack = vec![0u8; INIT_STACK];
    // SAFETY: the child gets a copy of this single-threaded process (no CLONE_VM) and runs
    // `init::run` on `stack`, which never returns: it execs or _exits.
    let pid = unsafe {
        nix::sched::clone(
            Box::new(|| -> isize { init::run(spec, &fds) }),
            &mut stack,
            flags,
            Some(libc::SIGCHLD),
        )
    }
    .map_err(|e| StartError(format!("clone: {e}")))?;
    // Only the child may hold these ends, or EOF would never come.
    drop((stdout_w, stderr_w, sync_r, error_w, devnull));

    if let Err(e) = cgroup.add_task(pid.as_raw()) {
        reap(pid, true);
        return Err(StartError(e.to_string()));
    }
    let mut sync = File::from(sync_w);
    if let Err(e) = sync.write_all(&[1]) {
        reap(pid, true);
        return Err(StartError(format!("release container init: {e}")));
    }
    drop(sync);

    // EOF without a message: the exec succeeded and closed the close-on-exec pipe.
    let mut message = String::new();
    if let Err(e) = File::from(error_r).read_to_string(&mut message) {
        reap(pid, true);
        return Err(StartError(format!("read container init status: {e}")));
    }
    if !message.is_empty() {
        reap(pid, false);
        return Err(StartError(message));
    }
    Ok(Container {
        pid,
        stdout: stdout_r,
        stderr: stderr_r,
    })
}

/// Waits for a child that failed to start (killing it first when asked), so no zombie or
/// process stays behind.
fn reap(pid: Pid, kill_first: bool) {
    if kill_first {
        let _ = kill(pid, Signal::SIGKILL);
    }
    loop {
        match waitpid(pid, None) {
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
    }
}
