//! `inspect`: everything known about a container, in the shape and with the wire names of
//! `docker inspect` (State, Config, HostConfig, Mounts, NetworkSettings, GraphDriver).

use super::{ContainerRow, ContainerState};
use crate::network::NetworkSettings;
use crate::runtime::{SeccompSpec, SecuritySpec};
use crate::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use berth_wire::container::inspect::{
    Config, ContainerInspect, GraphDriver, HostConfig, LogConfig, State,
};

/// HostConfig.SecurityOpt as docker shows it: `no-new-privileges`, and the seccomp choice
/// when the user made one (`seccomp=unconfined`, or `seccomp=` and the profile's JSON).
fn security_opt(security: &SecuritySpec) -> Vec<String> {
    let mut opts = Vec::new();
    if security.no_new_privileges {
        opts.push("no-new-privileges".to_string());
    }
    match &security.seccomp {
        SeccompSpec::Default => {}
        SeccompSpec::Unconfined => opts.push("seccomp=unconfined".to_string()),
        SeccompSpec::Profile(json) => opts.push(format!("seccomp={json}")),
    }
    opts
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

/// The inspect answer of the container of `row`, whose directory is `dir` and whose image's
/// layers are `lower` (mounts and network settings are filled in by the caller).
pub(crate) fn build(row: &ContainerRow, dir: &Path, lower: &[PathBuf]) -> Result<ContainerInspect> {
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
            health: None,
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
            security_opt: security_opt(&config.security),
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
            devices: config.devices.clone(),
        },
        config: Config {
            hostname: config.hostname.clone(),
            user: config.user.clone(),
            env: config.env.clone(),
            cmd: config.cmd.clone().unwrap_or_else(|| config.args.clone()),
            entrypoint: config.entrypoint.clone().filter(|e| !e.is_empty()),
            image: row.image_ref.clone(),
            volumes: Some(
                config
                    .mounts
                    .iter()
                    .filter(|m| m.anonymous)
                    .map(|m| (m.destination.clone(), serde_json::json!({})))
                    .collect::<std::collections::BTreeMap<_, _>>(),
            )
            .filter(|v| !v.is_empty()),
            healthcheck: config.healthcheck.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_opt_shows_the_seccomp_choice_like_docker() {
        let mut security = SecuritySpec::default();
        assert_eq!(security_opt(&security), ["no-new-privileges"]);
        security.seccomp = SeccompSpec::Unconfined;
        assert_eq!(
            security_opt(&security),
            ["no-new-privileges", "seccomp=unconfined"]
        );
        security.no_new_privileges = false;
        security.seccomp = SeccompSpec::Profile("{\"defaultAction\":\"SCMP_ACT_LOG\"}".into());
        assert_eq!(
            security_opt(&security),
            ["seccomp={\"defaultAction\":\"SCMP_ACT_LOG\"}"]
        );
    }
}
