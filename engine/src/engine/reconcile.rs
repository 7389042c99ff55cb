//! Start-up reconciliation: after the daemon stopped (cleanly or killed mid-operation), the
//! catalogue is made to agree with the shims that still run and with the data root.
//!
//! SQLite (WAL) makes each statement atomic, but an operation that writes both a row and
//! folders can be cut between the two. Each such operation has one commit point, and this pass
//! finishes or undoes what lies on either side of it:
//! - container create makes its folder, then inserts the row (the commit point): a folder
//!   without a row is a create cut short and is removed;
//! - container remove deletes the folder, then the row: a row without a folder (and no live
//!   process) is a removal cut short and is finished;
//! - a container's cgroup is made before its row (create) and removed before it (remove):
//!   a cgroup under the daemon's parent without a row is removed;
//! - network rows (endpoints, attachments, published ports) of a container that has no row
//!   are released, so its address and ports are free again;
//! - volumes: see `Volumes::reconcile`.

use super::Containers;
use crate::container::{is_shim_of, ContainerRow};
use crate::db::now_ms;
use crate::network::store;
use crate::runtime::{self, SecuritySpec};
use crate::Result;

impl Containers {
    /// Once the engine is open: the default seccomp filter compiled in the background,
    /// [`Containers::reconcile`], then the stats' background pass.
    pub(super) async fn start_up(&self) -> Result<()> {
        // The filter nearly every container gets, compiled before the first start needs it.
        let warm = self.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = warm.inner.seccomp.program(&SecuritySpec::default()) {
                tracing::warn!("compiling the default seccomp filter failed: {e}");
            }
        });
        self.reconcile().await?;
        self.inner.stats.start_background();
        Ok(())
    }

    /// At start-up: re-attach to running containers' shims, record exits that happened while
    /// no daemon was watching, repair what a crash left half-done, then start the containers
    /// whose restart policy says so.
    pub(super) async fn reconcile(&self) -> Result<()> {
        self.adopt_unrecorded_starts().await?;
        for row in ContainerRow::list(&self.inner.db, false).await? {
            match row.shim_pid {
                Some(pid) if is_shim_of(pid as i32, &row.id) => {
                    if let Some(init) = row.pid {
                        self.inner.roots.hold(&row.id, init as i32);
                    }
                    if let Err(e) = self.inner.networks.resume(&row).await {
                        tracing::warn!(container = %row.id, "published ports: {e}");
                    }
                    self.watch_shim(row.id.clone(), pid as i32);
                    self.health_start(&row);
                }
                _ => self.on_exit(&row.id).await?,
            }
        }
        self.reconcile_data_root().await?;
        self.restart_at_boot().await
    }

    /// Containers whose shim reported a start that the daemon died before recording (their
    /// rows say created or exited): the shim's own record names it and its container's init,
    /// and the container is taken over as running, never started a second time.
    async fn adopt_unrecorded_starts(&self) -> Result<()> {
        for row in ContainerRow::list(&self.inner.db, true).await? {
            if row.state().map(|s| s.is_alive()).unwrap_or(true) {
                continue;
            }
            let dir = self.container_dir(&row.id);
            let Some(started) = runtime::read_started_record(&dir) else {
                continue;
            };
            if !is_shim_of(started.shim_pid, &row.id) || dir.join("exit.json").exists() {
                continue;
            }
            tracing::warn!(container = %row.id, shim = started.shim_pid, "adopting a container whose start was not recorded");
            ContainerRow::set_running(
                &self.inner.db,
                &row.id,
                started.pid,
                started.shim_pid,
                now_ms(),
            )
            .await?;
        }
        Ok(())
    }

    /// Rows and folders agree again. A repair that fails is logged and the daemon starts
    /// anyway: one stuck folder must not keep every other container from being managed.
    async fn reconcile_data_root(&self) -> Result<()> {
        let db = &self.inner.db;
        let rows = ContainerRow::list(db, true).await?;
        let known: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();

        let containers = self.inner.root.join("containers");
        let entries =
            std::fs::read_dir(&containers).map_err(|e| crate::Error::io("list", &containers, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(id) = name.to_str() else { continue };
            // Only folders the engine makes (64 hex digits) are touched.
            if known.contains(id) || !is_container_id(id) {
                continue;
            }
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => {
                    tracing::warn!(container = %id, "removed a folder without a row (a create was cut short)")
                }
                Err(e) => {
                    tracing::warn!(container = %id, "cannot remove a folder without a row: {e}")
                }
            }
        }

        for row in &rows {
            let alive = row.state().map(|s| s.is_alive()).unwrap_or(false);
            if alive || self.container_dir(&row.id).is_dir() {
                continue;
            }
            match self.remove_container(&row.id, false, false).await {
                Ok(()) => {
                    tracing::warn!(container = %row.id, "finished a removal that was cut short (its folder was gone)")
                }
                Err(e) => {
                    tracing::warn!(container = %row.id, "cannot finish a cut-short removal: {e}")
                }
            }
        }

        // A create cut short after its cgroup was made (or a removal after the row went):
        // the cgroups under this daemon's parent that no container has.
        let parent = &self.inner.cgroup_parent;
        match runtime::child_cgroups(parent) {
            Ok(children) => {
                for id in children {
                    if known.contains(id.as_str()) || !is_container_id(&id) {
                        continue;
                    }
                    match runtime::cleanup(&format!("{parent}/{id}")) {
                        Ok(()) => {
                            tracing::warn!(container = %id, "removed a cgroup without a container")
                        }
                        Err(e) => {
                            tracing::warn!(container = %id, "cannot remove a cgroup without a container: {e}")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("cannot list the containers' cgroups under {parent}: {e}"),
        }

        for id in store::orphan_containers(db).await? {
            match self.inner.networks.forget(&id).await {
                Ok(()) => {
                    tracing::warn!(container = %id, "released the network of a container without a row")
                }
                Err(e) => {
                    tracing::warn!(container = %id, "cannot release a removed container's network: {e}")
                }
            }
        }

        for line in self.inner.volumes.reconcile().await? {
            tracing::warn!("{line}");
        }
        Ok(())
    }
}

/// A full container id: 64 lowercase hex digits.
fn is_container_id(name: &str) -> bool {
    name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_full_ids_count_as_container_folders() {
        assert!(is_container_id(&"ab12".repeat(16)));
        assert!(!is_container_id("ab12"));
        assert!(!is_container_id(&"AB12".repeat(16)));
        assert!(!is_container_id(&format!("{}.tmp", "a".repeat(60))));
    }
}
