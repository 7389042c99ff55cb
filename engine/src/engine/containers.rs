//! The containers service: the in-memory state of the container lifecycle beside the rows
//! of the catalogue (locks, exit watches, root mounts, caches, execs, restarts, health, stats).

use super::restart::RestartTimers;
use crate::container::{ConfigCache, ExitWatch, ListCache, RootHolds};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub(super) struct Containers {
    /// The program run as `<shim_program> shim <spec.json>`.
    pub(super) shim_program: PathBuf,
    /// Where new containers' cgroups go.
    pub(super) cgroup_parent: String,
    /// Each container's state as its subscribers (waiters, log followers) see it.
    pub(super) status: ExitWatch,
    /// The root mounts of running containers, held so that exits do not wait for overlayfs.
    pub(super) roots: RootHolds,
    /// Serialises lifecycle changes of one container (start, exit handling, removal).
    pub(super) locks: Arc<ContainerLocks>,
    /// Containers' parsed configs, for lists.
    pub(super) configs: ConfigCache,
    /// The container list as of the catalogue's last change.
    pub(super) lists: ListCache,
    /// `exec` instances, in memory as docker keeps them.
    pub(super) execs: crate::exec::ExecStore,
    /// Back-off and pending restarts of containers with a restart policy.
    pub(super) restarts: RestartTimers,
    /// Containers' seccomp filters, compiled once per profile and capability set.
    pub(super) seccomp: crate::runtime::seccomp::FilterCache,
    /// Health checks of running containers.
    pub(super) health: crate::health::HealthMonitors,
    /// Stats: one sampler per watched container, the last hour of every container's and
    /// the host's readings.
    pub(super) stats: crate::stats::StatsHub,
}

/// A container's folder under the data root: its writable layer, log, exit record, /etc files.
pub(super) fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}

/// One lock per container, serialising its lifecycle changes (start, exit handling, removal,
/// network connect and disconnect).
#[derive(Default)]
pub(super) struct ContainerLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ContainerLocks {
    /// The container's lock (made on first use).
    pub(super) fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(id.to_string()).or_default().clone()
    }

    /// Drops a removed container's lock.
    pub(super) fn forget(&self, id: &str) {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.remove(id);
    }
}
