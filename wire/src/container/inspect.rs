//! `inspect`: everything known about a container, in the shape and with the wire names of
//! `docker inspect` (State, Config, HostConfig, Mounts, NetworkSettings, GraphDriver).

use crate::network::NetworkSettings;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    pub image: String,
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub log_path: PathBuf,
    pub host_config: HostConfig,
    pub config: Config,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub mounts: Vec<serde_json::Value>,
    pub network_settings: NetworkSettings,
    pub graph_driver: GraphDriver,
    /// Restarts done by the restart policy since the last start by a user.
    pub restart_count: u32,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct State {
    pub status: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub dead: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    /// While it runs with a health check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub health: Option<super::health::Health>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct HostConfig {
    pub memory: i64,
    pub memory_swap: i64,
    pub nano_cpus: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub cpu_shares: i64,
    pub pids_limit: Option<i64>,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub readonly_rootfs: bool,
    pub init: bool,
    pub auto_remove: bool,
    pub network_mode: String,
    pub publish_all_ports: bool,
    pub log_config: LogConfig,
    pub restart_policy: super::RestartPolicy,
    /// The cgroup its cgroup is in.
    pub cgroup_parent: String,
    /// `--device` mappings, as given (directories unexpanded).
    pub devices: Vec<super::DeviceMapping>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    /// null when the container has none, as docker's.
    pub entrypoint: Option<Vec<String>>,
    pub image: String,
    /// The anonymous volumes' paths (the image's `Volumes` and `-v /path`); null when none.
    pub volumes: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<super::health::HealthConfig>,
    pub working_dir: String,
    pub stop_signal: String,
    pub stop_timeout: u64,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, serde_json::Value>,
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    pub data: BTreeMap<String, String>,
}
