//! The system service ([`System`], `engine.system()`): the data root, and `system df`,
//! `system prune` and `info`, which gather every other service's numbers (so it holds handles
//! to them); disk walks run on blocking threads, never under a container's lock.

use super::{Containers, Images, Networks, Volumes};
use crate::container::{ContainerRow, ContainerState};
use crate::db::{now_ms, Db};
use crate::runtime::cgroup::{detect, Hierarchy, CGROUP_ROOT};
use crate::system::{self, ContainerUsage, DiskUsage, ImageUsage, SystemInfo, SystemPruneReport};
use crate::volume::mounts::MountType;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The system service: the data root, and handles to the services whose numbers it gathers.
pub struct System {
    /// Default `/var/lib/berth`.
    pub(super) root: PathBuf,
    pub(super) db: Db,
    pub(super) images: Arc<Images>,
    pub(super) volumes: Arc<Volumes>,
    pub(super) networks: Arc<Networks>,
    pub(super) containers: Containers,
}

/// The file that keeps this data root's engine id.
const ENGINE_ID_FILE: &str = "engine-id";

impl System {
    /// The data root (default `/var/lib/berth`).
    pub fn data_root(&self) -> &Path {
        &self.root
    }

    /// A scratch folder on the data root's file system (for uploads being received).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The size of the data root's file system and the space left on it.
    pub fn data_root_space(&self) -> Result<berth_wire::system::DiskSpace> {
        let stat = nix::sys::statvfs::statvfs(&self.root)
            .map_err(|e| Error::io("measure the file system of", &self.root, e.into()))?;
        let unit = stat.fragment_size() as u64;
        Ok(berth_wire::system::DiskSpace {
            total_bytes: (stat.blocks() as u64).saturating_mul(unit),
            available_bytes: (stat.blocks_available() as u64).saturating_mul(unit),
        })
    }

    /// Disk usage of images, containers and volumes.
    pub async fn disk_usage(&self) -> Result<DiskUsage> {
        let db = &self.db;
        let layers = crate::catalog::layers_of_all(db).await?;
        let (layers_size, per_image) = system::layer_usage(&layers);
        let rows = ContainerRow::list(db, true).await?;
        let mut images = Vec::new();
        for image in self.images.list().await? {
            let (size, shared_size) = per_image.get(&image.id).copied().unwrap_or_default();
            images.push(ImageUsage {
                containers: rows.iter().filter(|r| r.image_id == image.id).count() as u64,
                id: image.id,
                repo_tags: image.repo_tags,
                created: image.created,
                size,
                shared_size,
            });
        }
        let mut containers = Vec::new();
        for row in &rows {
            let size_rw = self.containers.size_rw(&row.id).await?;
            let local_volumes = row
                .config()?
                .mounts
                .iter()
                .filter(|m| m.kind == MountType::Volume)
                .count() as u64;
            containers.push(ContainerUsage {
                container: row.summary()?,
                size_rw,
                local_volumes,
            });
        }
        Ok(DiskUsage {
            layers_size,
            images,
            containers,
            volumes: self.volumes.usage().await?,
        })
    }

    /// `system prune`: stopped containers, then unused user networks, then (with `volumes`)
    /// unused anonymous volumes, then dangling images (every unused one with `all`).
    pub async fn prune_system(&self, all: bool, volumes: bool) -> Result<SystemPruneReport> {
        let (containers_deleted, mut space_reclaimed) = self.containers.prune_containers().await?;
        let networks_deleted = self.networks.prune().await?;
        let mut volumes_deleted = Vec::new();
        if volumes {
            let report = self.volumes.prune(false).await?;
            volumes_deleted = report.volumes_deleted;
            space_reclaimed += report.space_reclaimed;
        }
        let images = self.images.prune(all).await?;
        Ok(SystemPruneReport {
            containers_deleted,
            networks_deleted,
            volumes_deleted,
            images_deleted: images.images_deleted,
            space_reclaimed: space_reclaimed + images.space_reclaimed,
        })
    }

    /// The host and the engine, as `docker info` shows them.
    pub async fn info(&self) -> Result<SystemInfo> {
        let db = &self.db;
        let rows = ContainerRow::list(db, true).await?;
        let count = |state: ContainerState| -> Result<u64> {
            let mut n = 0;
            for row in &rows {
                if row.state()? == state {
                    n += 1;
                }
            }
            Ok(n)
        };
        let running = count(ContainerState::Running)?;
        let paused = count(ContainerState::Paused)?;
        let root = self.root.clone();
        let hierarchy =
            detect(Path::new(CGROUP_ROOT)).map_err(crate::runtime::RuntimeError::from)?;
        let cgroup_version = match hierarchy {
            Hierarchy::V1 { .. } => "1",
            Hierarchy::V2 => "2",
        };
        let bridge = crate::network::store::find(db, crate::network::MODE_BRIDGE).await;
        let (machine, kernel) = system::uname();
        let host_root = root.clone();
        let (id, backing) = tokio::task::spawn_blocking(move || {
            (
                engine_id(&host_root),
                system::backing_filesystem(&host_root),
            )
        })
        .await
        .map_err(|e| Error::Conflict(format!("reading the host was interrupted: {e}")))?;
        Ok(SystemInfo {
            id: id?,
            name: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            server_version: env!("CARGO_PKG_VERSION").to_string(),
            containers: rows.len() as u64,
            containers_running: running,
            containers_paused: paused,
            containers_stopped: rows.len() as u64 - running - paused,
            images: self.images.list().await?.len() as u64,
            volumes: self.volumes.list(&Default::default()).await?.len() as u64,
            networks: crate::network::store::list(db).await?.len() as u64,
            driver: "overlay2".to_string(),
            backing_filesystem: backing,
            logging_driver: "berth".to_string(),
            cgroup_driver: "cgroupfs".to_string(),
            cgroup_version: cgroup_version.to_string(),
            kernel_version: kernel,
            operating_system: system::operating_system(),
            os_type: "linux".to_string(),
            architecture: machine,
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get() as u64),
            mem_total: system::mem_total(),
            docker_root_dir: root.display().to_string(),
            default_bridge: self.networks.default_bridge().to_string(),
            default_bridge_subnet: bridge.map(|b| b.subnet).unwrap_or_default(),
        })
    }
}

/// This data root's engine id, made on first use (random, 64 hex digits).
fn engine_id(root: &Path) -> Result<String> {
    let path = root.join(ENGINE_ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", &path, e)),
    }
    let id = crate::ids::new_id();
    let tmp = root.join(format!("{ENGINE_ID_FILE}.{}", now_ms()));
    std::fs::write(&tmp, format!("{id}\n")).map_err(|e| Error::io("write", &tmp, e))?;
    // Whoever renames last wins; both ids are random and nobody has seen either yet.
    std::fs::rename(&tmp, &path).map_err(|e| Error::io("rename", &path, e))?;
    Ok(std::fs::read_to_string(&path)
        .map(|s| s.trim().to_string())
        .unwrap_or(id))
}
