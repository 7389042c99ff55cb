//! Holding each running container's root mount from the daemon, so that the container's exit
//! is not slowed by the teardown of its overlay filesystem.
//!
//! When the last reference to an overlayfs mount goes, the kernel syncs the whole upper
//! filesystem (overlayfs `sync_fs` at unmount; see the "volatile" section of
//! Documentation/filesystems/overlayfs.rst for what that costs). Without a holder, that last
//! reference is the container's mount namespace, dropped in its init's exit path, so the exit
//! status reaches the shim only after that sync: tens of milliseconds on every exit. With an
//! `O_PATH` descriptor of the container's root held here, the namespace goes quickly, and the
//! sync runs when the descriptor is dropped, on a blocking thread after the exit is recorded.
//! Nothing is skipped: the sync still happens, just not on anybody's critical path.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Mutex;
use tokio::task::JoinHandle;

#[derive(Default)]
pub(crate) struct RootHolds {
    /// The root of each running container whose root could be opened.
    held: Mutex<HashMap<String, OwnedFd>>,
    /// Releases in progress: a new start of the same container waits for its old mount to be
    /// gone, so the old and the new overlay never share the upper directory.
    releasing: Mutex<HashMap<String, JoinHandle<()>>>,
}

impl RootHolds {
    /// Opens `/proc/<pid>/root` of container `id`'s init and keeps it. A failure (the
    /// container already exited) only means its exit pays for the teardown itself.
    pub fn hold(&self, id: &str, pid: i32) {
        let path = format!("/proc/{pid}/root");
        match nix::fcntl::open(
            path.as_str(),
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        ) {
            Ok(fd) => {
                lock(&self.held).insert(id.to_string(), fd);
            }
            Err(e) => tracing::debug!(container = %id, "cannot hold {path}: {e}"),
        }
    }

    /// Lets the root of container `id` go, in the background.
    pub fn release(&self, id: &str) {
        let Some(fd) = lock(&self.held).remove(id) else {
            return;
        };
        let task = tokio::task::spawn_blocking(move || drop(fd));
        lock(&self.releasing).insert(id.to_string(), task);
    }

    /// Waits until an earlier root of container `id` is entirely gone.
    pub async fn settled(&self, id: &str) {
        let task = lock(&self.releasing).remove(id);
        if let Some(task) = task {
            // A panic in a `drop` of a descriptor cannot happen; a cancelled task has done
            // nothing, and the descriptor was dropped with it.
            let _ = task.await;
        }
    }

    /// Whether container `id`'s root is held (for tests).
    #[cfg(test)]
    fn holds(&self, id: &str) -> bool {
        lock(&self.held).contains_key(id)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_held_root_is_released_in_the_background_and_settles() {
        let holds = RootHolds::default();
        holds.hold("c1", std::process::id() as i32);
        assert!(holds.holds("c1"));
        holds.release("c1");
        assert!(!holds.holds("c1"));
        holds.settled("c1").await;
        assert!(lock(&holds.releasing).is_empty());
        // Releasing what is not held, or settling what was never released, is a no-op.
        holds.release("c2");
        holds.settled("c2").await;
    }

    #[test]
    fn a_missing_process_is_not_held() {
        let holds = RootHolds::default();
        // Pids are below 2^22 on Linux.
        holds.hold("c1", i32::MAX);
        assert!(!holds.holds("c1"));
    }
}
