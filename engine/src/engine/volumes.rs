//! The volumes service: the volume verbs (create, list, inspect, remove, prune) and the hooks
//! the container lifecycle calls: record a new container's volumes, build its runtime mounts,
//! show them in inspect, and drop its anonymous volumes when it is removed.

use super::events::Events;
use crate::container::ContainerConfig;
use crate::db::Db;
use crate::events::Scope;
use crate::runtime::MountSpec;
use crate::volume::mounts::{runtime_mounts, volume_data_dir, MountType};
use crate::volume::{Volume, VolumeFilters, VolumePruneReport};
use crate::Result;
use berth_wire::files::Listing;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

/// The volumes service: the volumes' folders, their lock and size cache.
pub struct Volumes {
    db: Db,
    events: Events,
    store: crate::volume::Volumes,
}

impl Volumes {
    pub(super) fn open(db: Db, events: Events, root: &Path) -> Result<Volumes> {
        Ok(Volumes {
            db,
            events,
            store: crate::volume::Volumes::new(root)?,
        })
    }

    /// At open: repairs what a crash left between the volumes' rows and folders (see
    /// `crate::volume::Volumes::reconcile`); returns what was repaired, as log lines.
    pub(super) async fn reconcile(&self) -> Result<Vec<String>> {
        self.store.reconcile(&self.db).await
    }

    /// `volume create [NAME]`: a fresh anonymous name without one; idempotent for a name.
    pub async fn create(
        &self,
        name: Option<&str>,
        labels: &BTreeMap<String, String>,
    ) -> Result<Volume> {
        let (volume, created) = self.store.create(&self.db, name, labels).await?;
        if created {
            self.emit(&volume.name, "create");
        }
        Ok(volume)
    }

    pub async fn list(&self, filters: &VolumeFilters) -> Result<Vec<Volume>> {
        self.store.list(&self.db, filters, false).await
    }

    /// Every volume with its size and reference count (`system df -v`).
    pub async fn usage(&self) -> Result<Vec<Volume>> {
        self.store
            .list(&self.db, &VolumeFilters::default(), true)
            .await
    }

    /// One volume with its UsageData (size measured off the executor).
    pub async fn inspect(&self, name: &str) -> Result<Volume> {
        self.store.inspect(&self.db, name).await
    }

    /// The folder `path` of a volume's files (traversal-safe, see [`crate::files`]).
    pub async fn list_files(&self, name: &str, path: &str) -> Result<Listing> {
        let root = self.store.get(&self.db, name).await?.mountpoint;
        let path = path.to_string();
        tokio::task::spawn_blocking(move || crate::files::list(&root, &path))
            .await
            .map_err(|e| crate::Error::Conflict(format!("listing was interrupted: {e}")))?
    }

    /// A regular file of a volume, opened for reading, with its size.
    pub async fn open_file(&self, name: &str, path: &str) -> Result<(std::fs::File, u64)> {
        let root = self.store.get(&self.db, name).await?.mountpoint;
        let path = path.to_string();
        tokio::task::spawn_blocking(move || crate::files::open(&root, &path))
            .await
            .map_err(|e| crate::Error::Conflict(format!("opening was interrupted: {e}")))?
    }

    /// Removes an unused volume; `force` ignores a missing one, never one in use.
    pub async fn remove(&self, name: &str, force: bool) -> Result<()> {
        let existed = self.store.get(&self.db, name).await.is_ok();
        self.store.remove(&self.db, name, force).await?;
        if existed {
            self.emit(name, "destroy");
        }
        Ok(())
    }

    /// Removes unused anonymous volumes, or every unused volume with `all`.
    pub async fn prune(&self, all: bool) -> Result<VolumePruneReport> {
        let report = self.store.prune(&self.db, all).await?;
        for name in &report.volumes_deleted {
            self.emit(name, "destroy");
        }
        Ok(report)
    }

    /// After the container's row is written: its volumes exist and are marked in use by it.
    pub(super) async fn attach(&self, id: &str, config: &ContainerConfig) -> Result<()> {
        let made = self.store.attach(&self.db, id, &config.mounts).await?;
        for name in &made {
            self.emit(name, "create");
        }
        Ok(())
    }

    /// After the container's row is deleted: with `anonymous`, its anonymous volumes go too.
    pub(super) async fn release(&self, config: &ContainerConfig, anonymous: bool) {
        if anonymous {
            let removed = self.store.remove_anonymous(&self.db, &config.mounts).await;
            for name in &removed {
                self.emit(name, "destroy");
            }
        }
    }

    /// A volume's own event (`create`, `destroy`), with docker's `driver` attribute.
    fn emit(&self, name: &str, action: &str) {
        self.events
            .emit(Scope::Volume, action, name, &[("driver", "local")]);
    }

    /// `mount` (at start) or `unmount` (at exit) of each volume of a container, with docker's
    /// attributes.
    pub(super) fn emit_mounts(&self, id: &str, config: &ContainerConfig, action: &str) {
        for m in config.mounts.iter().filter(|m| m.kind == MountType::Volume) {
            let read_write = if m.readonly { "false" } else { "true" };
            let mut attributes = vec![("container", id), ("driver", "local")];
            if action == "mount" {
                attributes.extend([
                    ("destination", m.destination.as_str()),
                    ("read/write", read_write),
                    ("propagation", ""),
                ]);
            }
            self.events
                .emit(Scope::Volume, action, &m.source, &attributes);
        }
    }

    /// The container's volume, bind and tmpfs mounts for its runtime spec.
    pub(super) fn mounts(&self, config: &ContainerConfig) -> Vec<MountSpec> {
        runtime_mounts(&config.mounts, self.store.root())
    }

    /// `Mounts` of `docker inspect`.
    pub(super) fn inspect_mounts(&self, config: &ContainerConfig) -> Vec<serde_json::Value> {
        config
            .mounts
            .iter()
            .map(|m| {
                let mut entry = json!({
                    "Type": m.kind.as_str(),
                    "Source": match m.kind {
                        MountType::Volume => volume_data_dir(self.store.root(), &m.source)
                            .display()
                            .to_string(),
                        _ => m.source.clone(),
                    },
                    "Destination": m.destination,
                    "Mode": if m.kind == MountType::Volume { "z" } else { "" },
                    "RW": !m.readonly,
                    "Propagation": if m.kind == MountType::Bind { "rprivate" } else { "" },
                });
                if m.kind == MountType::Volume {
                    entry["Name"] = json!(m.source);
                    entry["Driver"] = json!("local");
                }
                entry
            })
            .collect()
    }
}
