//! Containers on the wire: their state, what lists show of them (`GET /api/v1/containers`),
//! `inspect`'s docker-shaped answer, the create body (`POST /api/v1/containers`) and the
//! restart policy.

pub mod health;
pub mod inspect;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Where a container is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

    pub fn parse(s: &str) -> Option<Self> {
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Its health while it runs with a health check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<health::HealthStatus>,
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedMount {
    pub kind: MountType,
    /// The volume's name, the host path of a bind mount, empty for tmpfs.
    pub name: String,
    pub destination: String,
}

/// A network a listed container is connected to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListedNetwork {
    pub id: String,
    pub name: String,
}

/// What a container mount is backed by.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Volume,
    Bind,
    Tmpfs,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Volume => "volume",
            MountType::Bind => "bind",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// docker's `HostConfig.RestartPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RestartPolicy {
    /// `no`, `on-failure`, `always` or `unless-stopped`.
    #[serde(rename = "Name")]
    pub name: String,
    /// For `on-failure`: restarts allowed, 0 = unlimited.
    #[serde(rename = "MaximumRetryCount")]
    pub max_retries: u32,
}

impl RestartPolicy {
    /// No policy: `no` or empty.
    pub fn is_none(&self) -> bool {
        self.name.is_empty() || self.name == "no"
    }
}

/// What the user asks for when creating a container (`berth create/run`).
///
/// Unknown fields are ignored on purpose, as docker's create does: clients written for a
/// newer API (or docker's own field names) still create the container with what berth
/// knows, and no field left out loosens isolation (every security-relevant setting defaults
/// to the confined value). The credential-bearing bodies (logins, users, tokens) refuse
/// unknown fields instead.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOptions {
    /// Image reference or id, as the user typed it.
    pub image: String,
    pub name: Option<String>,
    /// Replaces the image's Cmd when non-empty.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// Replaces the image's Entrypoint (and then the image's Cmd is not used).
    pub entrypoint: Option<Vec<String>>,
    /// Extra `KEY=VALUE` pairs; they win over the image's.
    #[serde(default)]
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub hostname: Option<String>,
    /// `UID[:GID]` or a user name from the image's /etc/passwd.
    pub user: Option<String>,
    /// Remove the container when it exits (`--rm`).
    #[serde(default)]
    pub auto_remove: bool,
    /// Memory limit in bytes (`--memory`).
    #[serde(default)]
    pub memory: Option<i64>,
    /// Memory plus swap in bytes, -1 for unlimited (`--memory-swap`).
    #[serde(default)]
    pub memory_swap: Option<i64>,
    /// Number of CPUs (`--cpus 0.5`).
    #[serde(default)]
    pub cpus: Option<f64>,
    /// Relative CPU weight (`--cpu-shares`, default 1024).
    #[serde(default)]
    pub cpu_shares: Option<u64>,
    /// Maximum number of processes (`--pids-limit`).
    #[serde(default)]
    pub pids_limit: Option<i64>,
    #[serde(default)]
    pub privileged: bool,
    #[serde(default)]
    pub cap_add: Vec<String>,
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `--security-opt no-new-privileges[=true|false]`; berth's default is true.
    #[serde(default)]
    pub no_new_privileges: Option<bool>,
    /// `--security-opt seccomp=…`: `unconfined`, or a profile in docker's JSON format (the
    /// file's content: the client reads the file, as docker's does); none: berth's default
    /// profile. `--privileged` runs unfiltered whatever this says.
    #[serde(default)]
    pub seccomp: Option<String>,
    /// Run a minimal init as PID 1 (`--init`).
    #[serde(default)]
    pub init: bool,
    /// Mount the root filesystem read-only (`--read-only`).
    #[serde(default)]
    pub read_only: bool,
    /// `--log-opt max-size=…` in bytes and `max-file=…`.
    #[serde(default)]
    pub log_max_size: Option<u64>,
    #[serde(default)]
    pub log_max_files: Option<u32>,
    /// `--stop-signal` (else the image's StopSignal, else SIGTERM).
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// `--stop-timeout` in seconds (else 10).
    #[serde(default)]
    pub stop_timeout: Option<u64>,
    /// Allocate a pseudo-terminal (`-t`).
    #[serde(default)]
    pub tty: bool,
    /// Keep the command's stdin open for attach clients (`-i`), docker's OpenStdin.
    #[serde(default)]
    pub open_stdin: bool,
    /// Close the command's stdin once the first attached client's input ends (docker's
    /// StdinOnce, which `run -i` sets).
    #[serde(default)]
    pub stdin_once: bool,
    /// `-v [SOURCE:]DEST[:OPTIONS]` (volumes and bind mounts).
    #[serde(default)]
    pub volumes: Vec<String>,
    /// `--mount type=…,source=…,target=…` specs.
    #[serde(default)]
    pub mounts: Vec<String>,
    /// `--tmpfs PATH[:OPTIONS]`.
    #[serde(default)]
    pub tmpfs: Vec<String>,
    /// `--restart` text (`no`, `on-failure[:N]`, `always`, `unless-stopped`).
    #[serde(default)]
    pub restart: Option<String>,
    /// `--network`: none, host, bridge (the default) or a user network's name or id.
    #[serde(default)]
    pub network: Option<String>,
    /// `-p` values, docker's syntax.
    #[serde(default)]
    pub publish: Vec<String>,
    /// `-P`: publish every exposed port on a free host port.
    #[serde(default)]
    pub publish_all: bool,
    /// `--expose PORT[/PROTO]` or `START-END[/PROTO]`, added to the image's ExposedPorts.
    #[serde(default)]
    pub expose: Vec<String>,
    /// `--label KEY=VALUE`: set over the image's labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `--group-add`: supplementary groups (names from the image's /etc/group, or ids) on top
    /// of the user's own.
    #[serde(default)]
    pub group_add: Vec<String>,
    /// `--health-*` / `--no-healthcheck`: over the image's HEALTHCHECK field by field.
    #[serde(default)]
    pub healthcheck: Option<health::HealthConfig>,
    /// `[rows, columns]` of the client's terminal under `-t` (docker's HostConfig.ConsoleSize),
    /// so that the command sees the right size from its first byte.
    #[serde(default)]
    pub console_size: Option<[u16; 2]>,
    /// `--device HOST[:CONTAINER][:PERMISSIONS]`: host device nodes made in the container and
    /// allowed by its device rules, each in docker's `HostConfig.Devices` form.
    #[serde(default)]
    pub devices: Vec<DeviceMapping>,
}

/// One host device given to a container: docker's `HostConfig.Devices` entry, the same in
/// the create body and in `inspect`
/// (`{"PathOnHost":"/dev/null","PathInContainer":"/dev/mynull","CgroupPermissions":"rwm"}`).
/// In a create body an empty `PathInContainer` means the host path, empty
/// `CgroupPermissions` means `rwm`; inspect shows the values filled in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct DeviceMapping {
    /// A character or block device node of the host, or a directory: every such node below
    /// it, at the same place below `PathInContainer`.
    #[serde(default)]
    pub path_on_host: String,
    /// Absolute path of the node in the container.
    #[serde(default)]
    pub path_in_container: String,
    /// What the container may do with the device: a subset of `r` (read), `w` (write) and `m`
    /// (mknod).
    #[serde(default)]
    pub cgroup_permissions: String,
}

/// `GET /api/v1/containers`'s query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ListQuery {
    /// All containers (the default), or only running, paused and restarting ones with
    /// `all=false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// docker's JSON filters: `{"status":["exited"],"label":["tier=web"]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<String>,
    /// Only the newest N (of every state).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Measure each container's writable layer (`SizeRw`, `SizeRootFs`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<bool>,
}

/// The query of stop and restart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct StopQuery {
    /// Seconds to wait after SIGTERM before SIGKILL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub t: Option<u64>,
}

/// The query of kill: the signal, by name or number (default SIGKILL).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct KillQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

/// The query of `DELETE /api/v1/containers/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RemoveQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
    /// Also remove the container's anonymous volumes (`rm -v`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<bool>,
}

/// The query of rename: the new name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct RenameQuery {
    pub name: String,
}

/// What wait answers once the container has exited.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WaitResponse {
    pub exit_code: i32,
}

/// What `container prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PruneResponse {
    #[serde(rename = "ContainersDeleted")]
    pub containers_deleted: Vec<String>,
    #[serde(rename = "SpaceReclaimed")]
    pub space_reclaimed: u64,
}

/// The query of attach.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(rename_all = "camelCase")]
pub struct AttachQuery {
    /// Start the container once attached (`run`, `start -a`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<bool>,
    /// Send the client's input to the container's stdin (if it keeps one open, `-i`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdin: Option<bool>,
    /// docker's `--detach-keys` format; empty for none. Default ctrl-p,ctrl-q.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detach_keys: Option<String>,
    /// The client's terminal size, given to the container's terminal once it runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub h: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub w: Option<u16>,
}

/// `?h=ROWS&w=COLUMNS` of a resize (containers and exec instances).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ResizeQuery {
    pub h: u16,
    pub w: u16,
}

/// The query of `GET /api/v1/containers/{id}/logs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct LogsQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow: Option<bool>,
    /// A number of lines, or `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tail: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamps: Option<bool>,
    /// Only records at or after this time (RFC 3339, unix seconds, or a duration ago).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Only records before this time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[cfg(all(test, feature = "openapi"))]
mod openapi_tests {
    use super::*;
    use crate::network::{PortSummary, Proto};
    use std::collections::BTreeSet;
    use utoipa::PartialSchema;

    fn keys(value: &serde_json::Value) -> BTreeSet<String> {
        value
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect()
    }

    /// The schema's properties are the JSON's fields, and what may be left out (or has a
    /// default) is not required.
    #[test]
    fn a_summary_schema_names_its_fields_as_its_json_does() {
        let summary = ContainerSummary {
            id: "abc".into(),
            name: "web".into(),
            image: "busybox".into(),
            image_id: "sha256:00".into(),
            command: "sh".into(),
            state: ContainerState::Running,
            exit_code: None,
            oom_killed: false,
            pid: Some(7),
            created_at_ms: 1,
            started_at_ms: Some(2),
            finished_at_ms: None,
            restarting: false,
            ports: vec![PortSummary {
                ip: Some("0.0.0.0".into()),
                private_port: 80,
                public_port: Some(8080),
                proto: Proto::Tcp,
            }],
            labels: BTreeMap::new(),
            mounts: vec![],
            networks: vec![],
            size_rw: Some(1),
            size_root_fs: Some(2),
            health: Some(health::HealthStatus::Healthy),
        };
        let json = serde_json::to_value(&summary).unwrap();
        let schema = serde_json::to_value(ContainerSummary::schema()).unwrap();
        assert_eq!(keys(&schema["properties"]), keys(&json));
        let required: BTreeSet<String> =
            serde_json::from_value(schema["required"].clone()).unwrap();
        for optional in ["oom_killed", "ports", "labels", "size_rw", "exit_code"] {
            assert!(!required.contains(optional), "{optional} is required");
        }
        assert!(required.contains("id") && required.contains("state"));

        // docker's PascalCase names with their exceptions (`IP`, `Type`).
        let port = serde_json::to_value(PortSummary::schema()).unwrap();
        assert_eq!(keys(&port["properties"]), keys(&json["ports"][0]));
        let state = serde_json::to_value(ContainerState::schema()).unwrap();
        assert_eq!(
            state["enum"],
            serde_json::json!(["created", "running", "paused", "exited"])
        );
    }
}
