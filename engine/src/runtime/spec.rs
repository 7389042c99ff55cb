//! What the shim needs to create one container: written by the engine as `shim.json` in the
//! container's directory, read by `berth shim`. Modelled on the OCI runtime config (process,
//! root, hostname, linux.cgroupsPath) so an OCI `config.json` can later be mapped onto it.

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
    pub rootfs: RootfsSpec,
    /// Cgroup of the container, relative to each hierarchy's root, e.g. `berth/<id>`.
    pub cgroup_path: String,
    /// The container's log file (logs::LogWriter format); the shim appends to it.
    pub log_path: PathBuf,
    /// Where the shim writes the exit record (runtime::ExitRecord, JSON) atomically.
    pub exit_path: PathBuf,
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
