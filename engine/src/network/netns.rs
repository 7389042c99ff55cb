//! Persistent network namespaces: created by a short-lived thread that unshares CLONE_NEWNET
//! and bind-mounts its /proc/thread-self/ns/net onto a file (as `ip netns add` does), so the
//! namespace outlives the thread and can be configured before the container joins it.

use super::NetworkError;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};
use std::path::{Path, PathBuf};

fn io(what: String) -> impl FnOnce(std::io::Error) -> NetworkError {
    move |source| NetworkError::Io { what, source }
}

fn sys(what: String) -> impl FnOnce(nix::errno::Errno) -> NetworkError {
    move |errno| NetworkError::Io {
        what,
        source: errno.into(),
    }
}

/// Creates a new, empty network namespace (only a down `lo`) pinned at `path`.
pub(crate) fn create(path: &Path) -> Result<(), NetworkError> {
    std::fs::File::create(path).map_err(io(format!("create {}", path.display())))?;
    let target = path.to_path_buf();
    let pinned = std::thread::spawn(move || -> Result<(), NetworkError> {
        // unshare(2) applies to this thread only; it ends right after.
        unshare(CloneFlags::CLONE_NEWNET).map_err(sys("unshare a network namespace".into()))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(sys(format!(
            "bind-mount a network namespace on {}",
            target.display()
        )))
    })
    .join()
    .unwrap_or_else(|_| {
        Err(NetworkError::Setup(
            "network namespace thread panicked".into(),
        ))
    });
    if pinned.is_err() {
        let _ = std::fs::remove_file(path);
    }
    pinned
}

/// Unmounts and removes a namespace file; a missing one is fine. The namespace itself goes
/// once no process is left in it, and with it the veth ends inside.
pub(crate) fn remove(path: &Path) -> Result<(), NetworkError> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(sys(format!("unmount {}", path.display()))(e)),
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io(format!("remove {}", path.display()))(e))
        }
        _ => Ok(()),
    }
}

/// Runs `work` on a thread of its own inside the namespace at `path`, with a current-thread
/// tokio runtime (netlink sockets belong to the namespace of the thread that opens them).
pub(crate) fn run_inside<T, F, Fut>(path: PathBuf, work: F) -> Result<T, NetworkError>
where
    T: Send + 'static,
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, NetworkError>>,
{
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).map_err(io(format!("open {}", path.display())))?;
        setns(&file, CloneFlags::CLONE_NEWNET)
            .map_err(sys(format!("enter network namespace {}", path.display())))?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(io("start a runtime in a network namespace".into()))?;
        runtime.block_on(work())
    })
    .join()
    .unwrap_or_else(|_| {
        Err(NetworkError::Setup(
            "network namespace thread panicked".into(),
        ))
    })
}
