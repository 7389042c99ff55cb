//! Watching containers: a per-container status channel that waiters and log followers
//! subscribe to, and an async wait for a host process (the shim) to exit, through a pidfd.

use super::ContainerState;
use std::collections::HashMap;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Mutex;
use tokio::io::unix::AsyncFd;
use tokio::sync::watch;

/// What subscribers learn about a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Status {
    pub state: ContainerState,
    pub exit_code: Option<i32>,
    /// The container has been removed; no further change will come.
    pub removed: bool,
}

/// One status channel per container that anybody watches.
#[derive(Default)]
pub(crate) struct ExitWatch {
    channels: Mutex<HashMap<String, watch::Sender<Status>>>,
}

impl ExitWatch {
    /// Subscribes to `id`; `current` seeds the channel when nobody watched it yet.
    pub fn subscribe(&self, id: &str, current: Status) -> watch::Receiver<Status> {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        channels
            .entry(id.to_string())
            .or_insert_with(|| watch::channel(current).0)
            .subscribe()
    }

    pub fn publish(&self, id: &str, status: Status) {
        let mut channels = self.channels.lock().unwrap_or_else(|e| e.into_inner());
        match channels.get(id) {
            Some(sender) => {
                sender.send_replace(status);
            }
            None => {
                channels.insert(id.to_string(), watch::channel(status).0);
            }
        }
        if status.removed {
            channels.remove(id);
        }
    }
}

/// Resolves when process `pid` has exited (immediately if it does not exist). Works for
/// processes that are not our children, which shims never are.
pub(crate) async fn process_exit(pid: i32) -> io::Result<()> {
    // SAFETY: pidfd_open(2) takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let err = io::Error::last_os_error();
        return if err.raw_os_error() == Some(libc::ESRCH) {
            Ok(())
        } else {
            Err(err)
        };
    }
    // SAFETY: the syscall succeeded, so `fd` is a new descriptor that we own.
    let owned = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    // SAFETY: `owned` is a valid open pidfd that the AsyncFd owns and keeps open until dropped.
    let async_fd = unsafe { AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
        .map_err(|e| io::Error::other(e.to_string()))?;
    // A pidfd polls readable once the process has terminated (pidfd_open(2), NOTES).
    let _guard = async_fd.readable().await?;
    Ok(())
}

/// Whether `pid` is alive and is the shim of container `id` (guards against pid reuse after
/// a reboot: the shim's command line names the container's spec file).
pub(crate) fn is_shim_of(pid: i32, id: &str) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => String::from_utf8_lossy(&cmdline).contains(id),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn process_exit_resolves_when_a_process_ends() {
        let mut child = std::process::Command::new("sleep")
            .arg("0.2")
            .spawn()
            .expect("spawn sleep");
        let pid = child.id() as i32;
        let waiter = tokio::spawn(process_exit(pid));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "resolved while the process ran");
        // Reap it so that the pidfd sees a terminated (not zombie-less) process.
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .expect("join")
            .expect("wait");
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("pidfd wait timed out")
            .expect("join")
            .expect("pidfd");
    }

    #[test]
    fn watchers_see_published_status_and_removal() {
        let watch = ExitWatch::default();
        let running = Status {
            state: ContainerState::Running,
            exit_code: None,
            removed: false,
        };
        let rx = watch.subscribe("a", running);
        watch.publish(
            "a",
            Status {
                state: ContainerState::Exited,
                exit_code: Some(3),
                removed: true,
            },
        );
        assert_eq!(rx.borrow().exit_code, Some(3));
        assert!(rx.borrow().removed);
    }
}
