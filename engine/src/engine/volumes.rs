//! The engine's volume verbs (create, list, inspect, remove, prune) and the hooks the
//! container lifecycle calls: record a new container's volumes, build its runtime mounts,
//! show them in inspect, and drop its anonymous volumes when it is removed.

use super::Engine;
use crate::container::ContainerConfig;
use crate::events::Scope;
use crate::runtime::MountSpec;
use crate::volume::mounts::{runtime_mounts, volume_data_dir, MountType};
use crate::volume::{Volume, VolumeFilters, VolumePruneReport};
use crate::Result;
use serde_json::json;
use std::collections::BTreeMap;

/// The volumes service: the volumes' folders, their lock and size cache.
pub(super) struct Volumes {
    pub(super) store: crate::volume::Volumes,
}

impl Engine {
    /// `volume create [NAME]`: a fresh anonymous name without one; idempotent for a name.
    pub async fn create_volume(
        &self,
        name: Option<&str>,
        labels: &BTreeMap<String, String>,
    ) -> Result<Volume> {
        let (volume, created) = self
            .inner
            .volumes
            .store
            .create(&self.inner.db, name, labels)
            .await?;
        if created {
            self.emit_volume(&volume.name, "create");
        }
        Ok(volume)
    }

    pub async fn list_volumes(&self, filters: &VolumeFilters) -> Result<Vec<Volume>> {
        self.inner
            .volumes
            .store
            .list(&self.inner.db, filters, false)
            .await
    }

    /// Every volume with its size and reference count (`system df -v`).
    pub async fn volumes_usage(&self) -> Result<Vec<Volume>> {
        self.inner
            .volumes
            .store
            .list(&self.inner.db, &VolumeFilters::default(), true)
            .await
    }

    /// One volume with its UsageData (size measured off the executor).
    pub async fn inspect_volume(&self, name: &str) -> Result<Volume> {
        self.inner.volumes.store.inspect(&self.inner.db, name).await
    }

    /// Removes an unused volume; `force` ignores a missing one, never one in use.
    pub async fn remove_volume(&self, name: &str, force: bool) -> Result<()> {
        let existed = self
            .inner
            .volumes
            .store
            .get(&self.inner.db, name)
            .await
            .is_ok();
        self.inner
            .volumes
            .store
            .remove(&self.inner.db, name, force)
            .await?;
        if existed {
            self.emit_volume(name, "destroy");
        }
        Ok(())
    }

    /// Removes unused anonymous volumes, or every unused volume with `all`.
    pub async fn prune_volumes(&self, all: bool) -> Result<VolumePruneReport> {
        let report = self.inner.volumes.store.prune(&self.inner.db, all).await?;
        for name in &report.volumes_deleted {
            self.emit_volume(name, "destroy");
        }
        Ok(report)
    }

    /// After the container's row is written: its volumes exist and are marked in use by it.
    pub(super) async fn attach_volumes(&self, id: &str, config: &ContainerConfig) -> Result<()> {
        let made = self
            .inner
            .volumes
            .store
            .attach(&self.inner.db, id, &config.mounts)
            .await?;
        for name in &made {
            self.emit_volume(name, "create");
        }
        Ok(())
    }

    /// After the container's row is deleted: with `anonymous`, its anonymous volumes go too.
    pub(super) async fn release_volumes(&self, config: &ContainerConfig, anonymous: bool) {
        if anonymous {
            let removed = self
                .inner
                .volumes
                .store
                .remove_anonymous(&self.inner.db, &config.mounts)
                .await;
            for name in &removed {
                self.emit_volume(name, "destroy");
            }
        }
    }

    /// A volume's own event (`create`, `destroy`), with docker's `driver` attribute.
    fn emit_volume(&self, name: &str, action: &str) {
        self.inner
            .events
            .emit(Scope::Volume, action, name, &[("driver", "local")]);
    }

    /// `mount` (at start) or `unmount` (at exit) of each volume of a container, with docker's
    /// attributes.
    pub(super) fn emit_volume_mounts(&self, id: &str, config: &ContainerConfig, action: &str) {
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
            self.inner
                .events
                .emit(Scope::Volume, action, &m.source, &attributes);
        }
    }

    /// The container's volume, bind and tmpfs mounts for its runtime spec.
    pub(super) fn volume_mounts(&self, config: &ContainerConfig) -> Vec<MountSpec> {
        runtime_mounts(&config.mounts, self.inner.volumes.store.root())
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
                        MountType::Volume => volume_data_dir(self.inner.volumes.store.root(), &m.source)
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
