//! Containers: their state model, the settings they are created with, and the catalogue rows.
//! The lifecycle itself (create, start, stop, remove, wait, logs) is driven by [`crate::Engine`].

mod config;
mod config_cache;
pub mod filter;
mod follow;
pub(crate) mod list_cache;
mod monitor;
mod names;
pub mod restart;
mod root_hold;
pub(crate) use monitor::{is_shim_of, process_exit};
pub mod inspect;
mod store;
pub mod units;

pub use config::{
    resolve_user, ContainerConfig, CreateOptions, ImageDefaults, DEFAULT_CGROUP_PARENT,
};
pub(crate) use config_cache::ConfigCache;
pub use filter::ContainerFilter;
pub use follow::{LogFollower, LogOptions, PositionedBatch};
pub(crate) use list_cache::ListCache;
pub(crate) use monitor::{ExitWatch, Status};
pub(crate) use names::{generate_name, new_id, validate_name};
pub(crate) use root_hold::RootHolds;
pub(crate) use store::ContainerRow;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    Created,
    Running,
    Paused,
    Exited,
}

impl ContainerState {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerState::Created => "created",
            ContainerState::Running => "running",
            ContainerState::Paused => "paused",
            ContainerState::Exited => "exited",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "created" => Some(ContainerState::Created),
            "running" => Some(ContainerState::Running),
            "paused" => Some(ContainerState::Paused),
            "exited" => Some(ContainerState::Exited),
            _ => None,
        }
    }
}

impl ContainerState {
    /// Running or paused: the container's processes exist.
    pub fn is_alive(self) -> bool {
        matches!(self, ContainerState::Running | ContainerState::Paused)
    }
}

impl fmt::Display for ContainerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a list or an inspect shows of one container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    /// The image as the user named it.
    pub image: String,
    pub image_id: String,
    /// The command line, joined with spaces.
    pub command: String,
    pub state: ContainerState,
    pub exit_code: Option<i32>,
    /// The kernel's OOM killer ended it.
    #[serde(default)]
    pub oom_killed: bool,
    /// Host pid of the container's init while it runs.
    pub pid: Option<i32>,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// Waiting out its restart policy's back-off (listed containers only).
    #[serde(default)]
    pub restarting: bool,
    /// Published ports (while it runs) and exposed ones (listed containers only).
    #[serde(default)]
    pub ports: Vec<crate::network::PortSummary>,
    /// The image's labels with the user's set over them.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Volumes, bind mounts and tmpfs mounts.
    #[serde(default)]
    pub mounts: Vec<ListedMount>,
    /// The networks it is connected to (`none` or `host` for those modes; listed containers
    /// only).
    #[serde(default)]
    pub networks: Vec<ListedNetwork>,
    /// Bytes in its writable layer (lists asked for sizes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_rw: Option<u64>,
    /// Its writable layer plus its image (lists asked for sizes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_root_fs: Option<u64>,
}

impl ContainerSummary {
    /// docker's status word: the state, or `restarting` while a restart policy's back-off
    /// runs (ps's `State`, the `status` filter).
    pub fn status_word(&self) -> &'static str {
        if self.restarting {
            "restarting"
        } else {
            self.state.as_str()
        }
    }
}

/// A mount as lists show it: a volume's name or a bind mount's host path, and where it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedMount {
    pub kind: crate::volume::mounts::MountType,
    /// The volume's name, the host path of a bind mount, empty for tmpfs.
    pub name: String,
    pub destination: String,
}

/// A network a listed container is connected to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedNetwork {
    pub id: String,
    pub name: String,
}

/// A listed container's ports as docker lists them: each published binding with its host
/// address, then each exposed port that is not published.
pub fn list_ports(
    exposed: &[String],
    published: Vec<crate::network::PortBinding>,
) -> Vec<crate::network::PortSummary> {
    use crate::network::PortSummary;
    let mut ports: Vec<PortSummary> = published
        .iter()
        .map(|b| PortSummary {
            ip: Some(b.listen_ip().to_string()),
            private_port: b.container_port,
            public_port: Some(b.host_port),
            proto: b.proto,
        })
        .collect();
    for (port, proto) in exposed
        .iter()
        .filter_map(|key| crate::network::ports::exposed_port(key))
    {
        if !published
            .iter()
            .any(|b| b.container_port == port && b.proto == proto)
        {
            ports.push(PortSummary {
                ip: None,
                private_port: port,
                public_port: None,
                proto,
            });
        }
    }
    ports
}
