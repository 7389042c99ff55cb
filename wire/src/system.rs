//! The host-wide views on the wire: disk usage (`system df`), `info` and what `system prune`
//! removed.

use crate::container::ContainerSummary;
use crate::volume::Volume;
use serde::{Deserialize, Serialize};

/// What `system prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct SystemPruneReport {
    pub containers_deleted: Vec<String>,
    pub networks_deleted: Vec<String>,
    pub volumes_deleted: Vec<String>,
    pub images_deleted: Vec<crate::image::ImageDeleteRecord>,
    pub space_reclaimed: u64,
}

/// `system df`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct DiskUsage {
    /// Bytes of every stored layer, each counted once however many images share it.
    pub layers_size: u64,
    pub images: Vec<ImageUsage>,
    pub containers: Vec<ContainerUsage>,
    pub volumes: Vec<Volume>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct ImageUsage {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub created: Option<String>,
    /// Bytes of all its layers.
    pub size: u64,
    /// Bytes of its layers that another image uses too.
    pub shared_size: u64,
    /// Containers created from it (running or not).
    pub containers: u64,
}

impl ImageUsage {
    /// Bytes only this image holds: what removing it frees.
    pub fn unique_size(&self) -> u64 {
        self.size - self.shared_size
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct ContainerUsage {
    pub container: ContainerSummary,
    /// Bytes written into its writable layer.
    pub size_rw: u64,
    /// Volumes it mounts.
    pub local_volumes: u64,
}

/// The space of the file system the data root is on.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskSpace {
    pub total_bytes: u64,
    /// What an unprivileged writer may still use (statvfs `f_bavail`).
    pub available_bytes: u64,
}

/// `info`, with docker's field names.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct SystemInfo {
    #[serde(rename = "ID")]
    pub id: String,
    pub name: String,
    pub server_version: String,
    pub containers: u64,
    pub containers_running: u64,
    pub containers_paused: u64,
    pub containers_stopped: u64,
    pub images: u64,
    pub volumes: u64,
    pub networks: u64,
    pub driver: String,
    /// `Backing Filesystem` of the data root.
    pub backing_filesystem: String,
    pub logging_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub kernel_version: String,
    pub operating_system: String,
    #[serde(rename = "OSType")]
    pub os_type: String,
    pub architecture: String,
    #[serde(rename = "NCPU")]
    pub ncpu: u64,
    pub mem_total: u64,
    pub docker_root_dir: String,
    pub default_bridge: String,
    pub default_bridge_subnet: String,
}

/// The query of system prune.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct PruneQuery {
    /// Every unused image, not only dangling ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// Unused anonymous volumes too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volumes: Option<bool>,
}

/// `GET /api/v1/version`: the daemon's version and its API's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Version {
    pub version: String,
    pub api: String,
}
