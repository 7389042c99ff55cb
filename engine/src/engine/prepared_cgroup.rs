//! A container's cgroup made ahead of its shim ([`runtime::prepare_cgroup`], on a blocking
//! thread): begun by create and by start, waited for before the shim runs, and taken away
//! again when the create or start fails.

use crate::runtime::{self, RuntimeError};
use tokio::task::JoinHandle;

pub(super) struct PreparedCgroup {
    /// Relative to each hierarchy's root (`containers::cgroup_path`).
    path: String,
    /// Until [`PreparedCgroup::ready`] has waited for it.
    task: Option<JoinHandle<Result<(), RuntimeError>>>,
}

impl PreparedCgroup {
    /// Starts making the cgroup at `path`; returns at once.
    pub(super) fn begin(path: String) -> PreparedCgroup {
        let made = path.clone();
        let task = tokio::task::spawn_blocking(move || runtime::prepare_cgroup(&made));
        PreparedCgroup {
            path,
            task: Some(task),
        }
    }

    /// Waits until it is made. A failure is only logged: the shim makes the cgroup again and
    /// reports the error itself.
    pub(super) async fn ready(&mut self, id: &str) {
        let Some(task) = self.task.take() else { return };
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::debug!(container = %id, "cgroup left to the shim: {e}"),
            Err(e) => tracing::debug!(container = %id, "cgroup preparation did not finish: {e}"),
        }
    }

    /// After a failed create or start (`what`): waits for it first, so the removal never
    /// races the making, then removes it.
    pub(super) async fn undo(mut self, id: &str, what: &str) {
        self.ready(id).await;
        if let Err(e) = runtime::cleanup(&self.path) {
            tracing::warn!(container = %id, "cgroup cleanup after a failed {what}: {e}");
        }
    }
}
