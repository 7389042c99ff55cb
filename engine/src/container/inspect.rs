//! `inspect`: everything known about a container, in the shape and with the wire names of
//! `docker inspect` (State, Config, HostConfig, Mounts, NetworkSettings, GraphDriver).

use super::{ContainerRow, ContainerState};
use crate::network::NetworkSettings;
use crate::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    pub image: String,
    pub name: String,
    pub log_path: PathBuf,
    pub host_config: HostConfig,
    pub config: Config,
    pub mounts: Vec<serde_json::Value>,
    pub network_settings: NetworkSettings,
    pub graph_driver: GraphDriver,
    /// Restarts done by the restart policy since the last start by a user.
    pub restart_count: u32,
}

#[derive(Debug, Clone, Serialize)]
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
}

#[derive(Debug, Clone, Serialize)]
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
    pub restart_policy: super::restart::RestartPolicy,
    /// The cgroup its cgroup is in.
    pub cgroup_parent: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogConfig {
    #[serde(rename = "Type")]
    pub kind: String,
    pub config: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Config {
    pub hostname: String,
    pub user: String,
    pub env: Vec<String>,
    pub cmd: Vec<String>,
    pub image: String,
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
#[serde(rename_all = "PascalCase")]
pub struct GraphDriver {
    pub name: String,
    pub data: BTreeMap<String, String>,
}

/// Docker prints never-happened times as the zero time.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

fn time(ms: Option<i64>) -> String {
    match ms {
        Some(ms) if ms > 0 => {
            let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms as u64);
            humantime::format_rfc3339_millis(t).to_string()
        }
        _ => ZERO_TIME.to_string(),
    }
}

impl ContainerInspect {
    pub(crate) fn new(row: &ContainerRow, dir: &Path, lower: &[PathBuf]) -> Result<Self> {
        let config = row.config()?;
        let state = row.state()?;
        let resources = &config.resources;
        let join = |paths: &[PathBuf]| {
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(":")
        };
        let mut graph = BTreeMap::new();
        graph.insert("LowerDir".to_string(), join(lower));
        graph.insert(
            "UpperDir".to_string(),
            dir.join("upper").display().to_string(),
        );
        graph.insert(
            "WorkDir".to_string(),
            dir.join("work").display().to_string(),
        );
        graph.insert(
            "MergedDir".to_string(),
            dir.join("rootfs").display().to_string(),
        );
        let mut log_options = BTreeMap::new();
        log_options.insert("max-size".to_string(), config.log.max_size.to_string());
        log_options.insert("max-file".to_string(), config.log.max_files.to_string());
        let nano_cpus = match (resources.cpu_quota, resources.cpu_period) {
            (Some(q), Some(p)) if p > 0 => q * 1_000_000_000 / p as i64,
            _ => 0,
        };
        Ok(ContainerInspect {
            id: row.id.clone(),
            created: time(Some(row.created_at)),
            path: config.args.first().cloned().unwrap_or_default(),
            args: config.args.iter().skip(1).cloned().collect(),
            state: State {
                status: state.as_str().to_string(),
                running: state.is_alive(),
                paused: state == ContainerState::Paused,
                restarting: false,
                oom_killed: row.oom_killed != 0,
                dead: false,
                pid: row.pid.unwrap_or(0),
                exit_code: row.exit_code.unwrap_or(0),
                error: String::new(),
                started_at: time(row.started_at),
                finished_at: time(row.finished_at),
            },
            image: row.image_id.clone(),
            name: format!("/{}", row.name),
            log_path: dir.join("container.log"),
            host_config: HostConfig {
                memory: resources.memory.unwrap_or(0),
                memory_swap: resources.memory_swap.unwrap_or(0),
                nano_cpus,
                cpu_quota: resources.cpu_quota.unwrap_or(0),
                cpu_period: resources.cpu_period.unwrap_or(0) as i64,
                cpu_shares: resources.cpu_shares.unwrap_or(0) as i64,
                pids_limit: resources.pids_limit,
                privileged: config.security.privileged,
                cap_add: config.security.cap_add.clone(),
                cap_drop: config.security.cap_drop.clone(),
                security_opt: if config.security.no_new_privileges {
                    vec!["no-new-privileges".to_string()]
                } else {
                    vec![]
                },
                readonly_rootfs: config.read_only,
                init: config.init,
                auto_remove: config.auto_remove,
                network_mode: "none".to_string(),
                publish_all_ports: config.publish_all,
                log_config: LogConfig {
                    kind: "berth".to_string(),
                    config: log_options,
                },
                restart_policy: config.restart_policy.clone(),
                cgroup_parent: config.cgroup_parent.clone(),
            },
            config: Config {
                hostname: config.hostname.clone(),
                user: config.user.clone(),
                env: config.env.clone(),
                cmd: config.args.clone(),
                image: row.image_ref.clone(),
                working_dir: config.cwd.clone(),
                stop_signal: config.stop_signal.clone(),
                stop_timeout: config.stop_timeout,
                tty: config.tty,
                open_stdin: config.open_stdin,
                stdin_once: config.stdin_once,
                exposed_ports: config
                    .exposed_ports
                    .iter()
                    .map(|key| (key.clone(), serde_json::json!({})))
                    .collect(),
                labels: config.labels.clone(),
            },
            mounts: Vec::new(),
            network_settings: NetworkSettings::default(),
            graph_driver: GraphDriver {
                name: "overlay2".to_string(),
                data: graph,
            },
            restart_count: 0,
        })
    }
}
