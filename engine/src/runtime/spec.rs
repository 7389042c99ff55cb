//! What the shim needs to create one container: written by the engine as `shim.json` in the
//! container's directory, read by `berth shim`. Modelled on the OCI runtime config (process,
//! root, hostname, linux.cgroupsPath) so an OCI `config.json` can later be mapped onto it.

use super::cgroup::{Access, DeviceKind};
use super::seccomp::SeccompProgram;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ContainerSpec {
    /// 64-hex container id.
    pub id: String,
    /// UTS hostname inside the container (docker: the first 12 characters of the id).
    pub hostname: String,
    /// argv of the container's command (image Entrypoint + Cmd, or the user's override).
    /// `args[0]` without a `/` is looked up in the `PATH` of `env`, inside the rootfs.
    pub args: Vec<String>,
    /// Environment, `KEY=VALUE`.
    pub env: Vec<String>,
    /// Working directory inside the container (absolute); created if missing.
    pub cwd: String,
    /// Numeric user and group the command runs as.
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (setgroups(2)); none: only `gid`.
    #[serde(default)]
    pub groups: Vec<u32>,
    pub rootfs: RootfsSpec,
    /// Cgroup of the container, relative to each hierarchy's root, e.g. `berth/<id>`.
    pub cgroup_path: String,
    /// The container's log file (logs::LogWriter format); the shim appends to it.
    pub log_path: PathBuf,
    /// Where the shim writes the exit record (runtime::ExitRecord, JSON) atomically.
    pub exit_path: PathBuf,
    /// cgroup limits (`--memory`, `--cpus`, `--pids-limit` …).
    #[serde(default)]
    pub resources: Resources,
    /// Capabilities, no_new_privs, privileged mode.
    #[serde(default)]
    pub security: SecuritySpec,
    /// The seccomp filter `security` chooses, compiled by the daemon (no default: see
    /// [`SeccompProgram`]).
    pub seccomp: SeccompProgram,
    /// Run a minimal init as PID 1 that reaps zombies and forwards signals (`--init`).
    #[serde(default)]
    pub init: bool,
    /// Extra mounts made after the rootfs and before pivot_root, in order
    /// (e.g. the engine's /etc/hostname, /etc/hosts, /etc/resolv.conf files).
    #[serde(default)]
    pub mounts: Vec<MountSpec>,
    /// Log rotation settings for the shim's log writer.
    #[serde(default)]
    pub log: LogSpec,
    /// Give the command a pseudo-terminal (`--tty`): stdin, stdout and stderr are the pty's
    /// slave, its controlling terminal; the shim logs the master's output as stdout.
    #[serde(default)]
    pub tty: bool,
    /// Keep the command's stdin open (`-i`): without a terminal it is a pipe the shim writes
    /// attach clients' input into; with one, their input goes to the terminal.
    #[serde(default)]
    pub stdin: bool,
    /// Where the shim listens for attach clients' input and terminal resizes
    /// (runtime::control); none: the shim takes no input.
    #[serde(default)]
    pub control_path: Option<PathBuf>,
    /// The terminal's first window size, rows and columns (else 24x80), with `tty`.
    #[serde(default)]
    pub console_size: Option<(u16, u16)>,
    /// Which network namespace the container gets (`--network`).
    #[serde(default)]
    pub network: NetworkMode,
    /// Host device nodes to recreate in the container (`--device`), each also allowed by
    /// the container's device rules (cgroup::DevicePolicy::for_container).
    #[serde(default)]
    pub devices: Vec<DeviceSpec>,
}

/// One device node made in the container: the host node's kind, numbers, permission bits and
/// owner (as runc copies them from the host's node), at `path`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceSpec {
    /// Absolute path inside the container.
    pub path: String,
    /// `Char` or `Block`.
    pub kind: DeviceKind,
    pub major: u32,
    pub minor: u32,
    /// The host node's permission bits (`mode & 0o7777`).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// What the container's device rules allow on these numbers.
    pub access: Access,
}

/// The container's network namespace.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// A new, empty one with only `lo` (`--network none`).
    #[default]
    New,
    /// The host's (`--network host`).
    Host,
    /// One the engine prepared (a bind-mounted nsfs file; bridge networks), joined with setns.
    Join(PathBuf),
}

/// cgroup resource limits; `None` means no limit. Units are the kernel's, normalised here.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Resources {
    /// Memory limit in bytes (`--memory`).
    pub memory: Option<i64>,
    /// Memory plus swap in bytes (`--memory-swap`); -1 means unlimited swap.
    pub memory_swap: Option<i64>,
    /// CPU time allowed per period, in microseconds (`--cpus 0.5` → 50_000 per 100_000).
    pub cpu_quota: Option<i64>,
    /// The period for `cpu_quota`, in microseconds (default 100_000).
    pub cpu_period: Option<u64>,
    /// Relative CPU weight in docker's units (1024 = default) (`--cpu-shares`).
    pub cpu_shares: Option<u64>,
    /// Maximum number of tasks (`--pids-limit`); zero or negative means unlimited.
    pub pids_limit: Option<i64>,
    /// `memory_swap` is docker's default of twice `memory` (`--memory` without
    /// `--memory-swap`), not the user's: where swap accounting is off it is left out, as
    /// docker only warns then.
    #[serde(default)]
    pub memory_swap_implicit: bool,
}

/// Privileges of the container's processes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SecuritySpec {
    /// All capabilities, host devices, no masked or read-only paths (`--privileged`).
    pub privileged: bool,
    /// Capabilities added to docker's default set, e.g. `NET_ADMIN`, `CAP_SYS_TIME` or `ALL`.
    pub cap_add: Vec<String>,
    /// Capabilities removed from it (`ALL` removes every one).
    pub cap_drop: Vec<String>,
    /// Set `PR_SET_NO_NEW_PRIVS` before exec.
    pub no_new_privileges: bool,
    /// The seccomp filter of the container's processes (none with `privileged`).
    #[serde(default)]
    pub seccomp: SeccompSpec,
}

impl Default for SecuritySpec {
    fn default() -> Self {
        SecuritySpec {
            privileged: false,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            no_new_privileges: true,
            seccomp: SeccompSpec::Default,
        }
    }
}

/// Which seccomp profile filters the container's system calls (`--security-opt seccomp=…`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum SeccompSpec {
    /// berth's default profile (runtime::seccomp::default): docker's allow-list.
    #[default]
    Default,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// A profile in docker's JSON format, as the user gave it (the file's content).
    Profile(String),
}

/// A mount inside the container.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MountSpec {
    /// `bind` (source is a host path) or `tmpfs` (source ignored).
    pub kind: MountKind,
    pub source: PathBuf,
    /// Absolute path inside the container; created (file or dir, as the source) if missing.
    pub destination: String,
    pub readonly: bool,
    /// Volume seeding and tmpfs settings.
    #[serde(default)]
    pub options: MountOptions,
}

/// The less common settings of a mount.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MountOptions {
    /// Before a bind mount, if its source directory is empty, copy into it what the image has
    /// at the destination (docker's seeding of a new volume): modes, owners and symlinks kept.
    #[serde(default)]
    pub seed_from_image: bool,
    /// tmpfs `size=` in bytes.
    #[serde(default)]
    pub tmpfs_size: Option<u64>,
    /// tmpfs root `mode=` (default 1777).
    #[serde(default)]
    pub tmpfs_mode: Option<u32>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    Bind,
    Tmpfs,
}

/// How the shim rotates the container's log.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogSpec {
    /// Rotate when the current file reaches this many bytes.
    pub max_size: u64,
    /// How many files to keep, the current one included.
    pub max_files: u32,
}

impl Default for LogSpec {
    fn default() -> Self {
        LogSpec {
            max_size: 20 * 1024 * 1024,
            max_files: 3,
        }
    }
}

/// The root filesystem: an overlay of read-only image layers and a writable upper dir,
/// mounted by the container's init inside its own mount namespace (so nothing is left
/// mounted on the host when the container ends).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RootfsSpec {
    /// Unpacked layer directories, **top layer first** (overlayfs `lowerdir` order).
    pub lower: Vec<PathBuf>,
    pub upper: PathBuf,
    pub work: PathBuf,
    /// An empty directory the overlay is mounted on before pivot_root.
    pub mountpoint: PathBuf,
    pub readonly: bool,
}
