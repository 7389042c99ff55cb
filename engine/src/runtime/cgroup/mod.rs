//! A container's cgroup: one trait, a v1 and a v2 implementation, and an enum choosing between
//! them by the filesystem mounted at the cgroup root.
//!
//! The root is a parameter so the unit tests run on a temp dir laid out like cgroupfs.
//! `limits.rs` checks and converts resource limits once; each version writes its own files.
//! [`pause`] and [`resume`] freeze and thaw a container (`berth pause` / `unpause`).
//! `devices.rs` says which device nodes a container may use (v1 files, v2 a BPF program).

mod devices;
mod devices_bpf;
pub(crate) mod inside;
mod limits;
mod v1;
mod v2;
mod warm;

pub use devices::{Access, DeviceKind, DevicePolicy, DeviceRule, DEFAULT_RULES};
pub use limits::{shares_to_weight, MIN_MEMORY};
pub use v1::CgroupV1;
pub use v2::CgroupV2;
pub use warm::warm_migration;

use super::spec::{ContainerSpec, Resources};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, TMPFS_MAGIC};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Where the host's cgroup hierarchies are mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("invalid cgroup path {0:?}: must be relative and contain no '.' or '..'")]
    InvalidPath(String),
    #[error("{} is neither a cgroup2 nor a tmpfs of cgroup v1 mounts (filesystem magic {magic:#x})", path.display())]
    UnknownFs { path: PathBuf, magic: i64 },
    #[error("no cgroup v1 controller is mounted under {}", .0.display())]
    NoControllers(PathBuf),
    #[error("cgroup {} still has processes after {waited_ms} ms", path.display())]
    Busy { path: PathBuf, waited_ms: u64 },
    #[error("invalid resource limits: {0}")]
    InvalidResources(String),
    #[error("a {controller} limit was asked but the {controller} controller is not available for {}", path.display())]
    ControllerMissing {
        controller: &'static str,
        path: PathBuf,
    },
    #[error("a memory+swap limit was asked but swap accounting is off ({} is missing; boot with swapaccount=1)", .0.display())]
    SwapAccountingOff(PathBuf),
    #[error("failed to load the device filter program: {source} (verifier: {log})")]
    BpfLoad { source: io::Error, log: String },
    #[error("failed to attach the device filter to {}: {source}", path.display())]
    BpfAttach { path: PathBuf, source: io::Error },
    #[error("cgroup {} did not become {want} within {waited_ms} ms", path.display())]
    FreezeTimeout {
        path: PathBuf,
        want: &'static str,
        waited_ms: u64,
    },
}

impl CgroupError {
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        CgroupError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Which layout the host has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hierarchy {
    /// Controllers on separate v1 mounts; `hybrid` when a controller-less cgroup2 is also
    /// mounted at `<root>/unified` (systemd's hybrid mode). Containers use the v1 controllers.
    V1 { hybrid: bool },
    /// The unified hierarchy is mounted at the root.
    V2,
}

/// What every cgroup implementation does for one container's cgroup.
pub trait CgroupManager {
    /// Creates the cgroup (and its parents); existing directories are fine.
    fn create(&self) -> Result<(), CgroupError>;
    /// Moves process `pid` (and, through `cgroup.procs`, its whole thread group) into it.
    fn add_task(&self, pid: i32) -> Result<(), CgroupError>;
    /// The processes in it.
    fn pids(&self) -> Result<Vec<i32>, CgroupError>;
    /// How many times the kernel's OOM killer killed a process in it.
    fn oom_kill_count(&self) -> Result<u64, CgroupError>;
    /// Sends SIGKILL to every process in it.
    fn kill_all(&self) -> Result<(), CgroupError>;
    /// Removes its directories, waiting briefly while exiting processes leave; missing
    /// directories are fine (idempotent).
    fn remove(&self) -> Result<(), CgroupError>;
    /// Its directories: one per v1 controller hierarchy, or the one v2 directory.
    fn paths(&self) -> Vec<PathBuf>;
    /// Checks `resources` and writes them to the control files. Called between `create` and
    /// releasing the container, so the command never runs unlimited. Nothing is written when
    /// a limit is invalid; a limit whose controller (or swap accounting) is missing is an
    /// error, never silently skipped.
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError>;
    /// Puts `policy` in place: which device nodes the processes may create and open. Called
    /// with [`apply`](Self::apply), before the container is released, on a new cgroup.
    /// A restricting policy without a way to enforce it (no v1 devices controller) is an
    /// error.
    fn restrict_devices(&self, policy: &DevicePolicy) -> Result<(), CgroupError>;
    /// Stops every process in it and returns once the kernel reports the cgroup frozen
    /// (idempotent). Frozen processes keep their memory but get no CPU.
    fn freeze(&self) -> Result<(), CgroupError>;
    /// Lets its processes run again and returns once the kernel reports it thawed.
    fn thaw(&self) -> Result<(), CgroupError>;
    /// Whether it is frozen (false when the freezer is not available).
    fn frozen(&self) -> Result<bool, CgroupError>;
}

/// A container's cgroup on whichever hierarchy the host has.
#[derive(Debug, Clone)]
pub enum Cgroup {
    V1(CgroupV1),
    V2(CgroupV2),
}

impl Cgroup {
    /// Detects the hierarchy mounted at `root` and opens `cgroup_path` (relative to each
    /// hierarchy's root, e.g. `berth/<id>`) on it. Creates nothing.
    pub fn open(root: &Path, cgroup_path: &str) -> Result<Self, CgroupError> {
        match detect(root)? {
            Hierarchy::V2 => Ok(Cgroup::V2(CgroupV2::new(root, cgroup_path)?)),
            Hierarchy::V1 { .. } => Ok(Cgroup::V1(CgroupV1::new(root, cgroup_path)?)),
        }
    }
}

impl CgroupManager for Cgroup {
    fn create(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.create(),
            Cgroup::V2(c) => c.create(),
        }
    }
    fn add_task(&self, pid: i32) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.add_task(pid),
            Cgroup::V2(c) => c.add_task(pid),
        }
    }
    fn pids(&self) -> Result<Vec<i32>, CgroupError> {
        match self {
            Cgroup::V1(c) => c.pids(),
            Cgroup::V2(c) => c.pids(),
        }
    }
    fn oom_kill_count(&self) -> Result<u64, CgroupError> {
        match self {
            Cgroup::V1(c) => c.oom_kill_count(),
            Cgroup::V2(c) => c.oom_kill_count(),
        }
    }
    fn kill_all(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.kill_all(),
            Cgroup::V2(c) => c.kill_all(),
        }
    }
    fn remove(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.remove(),
            Cgroup::V2(c) => c.remove(),
        }
    }
    fn paths(&self) -> Vec<PathBuf> {
        match self {
            Cgroup::V1(c) => c.paths(),
            Cgroup::V2(c) => c.paths(),
        }
    }
    fn apply(&self, resources: &Resources) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.apply(resources),
            Cgroup::V2(c) => c.apply(resources),
        }
    }
    fn restrict_devices(&self, policy: &DevicePolicy) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.restrict_devices(policy),
            Cgroup::V2(c) => c.restrict_devices(policy),
        }
    }
    fn freeze(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.freeze(),
            Cgroup::V2(c) => c.freeze(),
        }
    }
    fn thaw(&self) -> Result<(), CgroupError> {
        match self {
            Cgroup::V1(c) => c.thaw(),
            Cgroup::V2(c) => c.thaw(),
        }
    }
    fn frozen(&self) -> Result<bool, CgroupError> {
        match self {
            Cgroup::V1(c) => c.frozen(),
            Cgroup::V2(c) => c.frozen(),
        }
    }
}

/// Freezes a running container's processes (`berth pause`): they stay in memory, get no CPU
/// and receive no signal until [`resume`]. Its shim keeps running (it is not in the cgroup).
pub fn pause(spec: &ContainerSpec) -> Result<(), CgroupError> {
    Cgroup::open(Path::new(CGROUP_ROOT), &spec.cgroup_path)?.freeze()
}

/// Thaws a container frozen by [`pause`] (`berth unpause`).
pub fn resume(spec: &ContainerSpec) -> Result<(), CgroupError> {
    Cgroup::open(Path::new(CGROUP_ROOT), &spec.cgroup_path)?.thaw()
}

/// Whether a container's cgroup is frozen, e.g. to reconcile a paused container's state
/// after a daemon restart.
pub fn is_paused(spec: &ContainerSpec) -> Result<bool, CgroupError> {
    Cgroup::open(Path::new(CGROUP_ROOT), &spec.cgroup_path)?.frozen()
}

/// Tells the hierarchy apart by the filesystem at `root`: cgroup2 → v2; a tmpfs → v1 (hybrid
/// when `<root>/unified` is a cgroup2).
pub fn detect(root: &Path) -> Result<Hierarchy, CgroupError> {
    let fs = statfs(root).map_err(|e| CgroupError::io("statfs", root, e.into()))?;
    let magic = fs.filesystem_type();
    if magic == CGROUP2_SUPER_MAGIC {
        return Ok(Hierarchy::V2);
    }
    if magic == TMPFS_MAGIC {
        let unified = root.join("unified");
        let hybrid = statfs(&unified).is_ok_and(|u| u.filesystem_type() == CGROUP2_SUPER_MAGIC);
        return Ok(Hierarchy::V1 { hybrid });
    }
    Err(CgroupError::UnknownFs {
        path: root.to_path_buf(),
        magic: magic.0 as i64,
    })
}

/// Checks a cgroup path and returns it without a leading `/` (OCI `cgroupsPath` may have one).
pub(crate) fn relative_path(cgroup_path: &str) -> Result<PathBuf, CgroupError> {
    let trimmed = cgroup_path.trim_start_matches('/');
    let ok = !trimmed.is_empty()
        && trimmed
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if ok {
        Ok(PathBuf::from(trimmed))
    } else {
        Err(CgroupError::InvalidPath(cgroup_path.to_string()))
    }
}

/// Writes `data` to a cgroup control file with a single write(2), as the kernel expects.
pub(crate) fn write_file(path: &Path, data: &str) -> Result<(), CgroupError> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| CgroupError::io("open", path, e))?;
    f.write_all(data.as_bytes())
        .map_err(|e| CgroupError::io("write", path, e))
}

/// Reads a control file; `None` when it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<String>, CgroupError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CgroupError::io("read", path, e)),
    }
}

/// Parses `cgroup.procs`.
pub(crate) fn read_pids(procs: &Path) -> Result<Vec<i32>, CgroupError> {
    let text = read_optional(procs)?.unwrap_or_default();
    Ok(text
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
        .collect())
}

/// The value of `key` in a flat-keyed file such as `memory.events` ("key value" lines).
pub(crate) fn keyed_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// Sends SIGKILL to the processes listed in `procs` until it is empty (processes may fork
/// while we read), for at most about a second.
pub(crate) fn kill_listed(procs: &Path) -> Result<(), CgroupError> {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let pids = read_pids(procs)?;
        if pids.is_empty() || Instant::now() > deadline {
            return Ok(());
        }
        for pid in pids {
            // ESRCH: already gone; nothing else can fail for root sending SIGKILL.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How long a freeze or thaw may take to settle before it is reported as failed.
pub(crate) const FREEZE_WAIT: Duration = Duration::from_secs(5);

/// Writes `value` to `control` and polls `status` until `settled` says the kernel is done
/// (for at most `wait`),
/// rewriting `value` now and then (a v1 freeze can stall while a task sleeps
/// uninterruptibly and is retried by writing FROZEN again: cgroup-v1/freezer-subsystem.rst).
pub(crate) fn write_and_settle(
    control: &Path,
    value: &str,
    status: &Path,
    want: &'static str,
    wait: Duration,
    settled: impl Fn(&str) -> bool,
) -> Result<(), CgroupError> {
    let start = Instant::now();
    let mut last_write = start;
    write_file(control, value)?;
    let mut pause = Duration::from_micros(200);
    loop {
        let text =
            std::fs::read_to_string(status).map_err(|e| CgroupError::io("read", status, e))?;
        if settled(&text) {
            return Ok(());
        }
        if start.elapsed() >= wait {
            return Err(CgroupError::FreezeTimeout {
                path: control.parent().unwrap_or(control).to_path_buf(),
                want,
                waited_ms: wait.as_millis() as u64,
            });
        }
        if last_write.elapsed() >= Duration::from_millis(100) {
            write_file(control, value)?;
            last_write = Instant::now();
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Writes `data` to the control file `file` of `controller`, which must exist: a missing
/// file means the controller is not enabled (v2) or not mounted (v1) for this cgroup.
pub(crate) fn write_limit(
    controller: &'static str,
    file: &Path,
    data: &str,
) -> Result<(), CgroupError> {
    if !file.exists() {
        return Err(CgroupError::ControllerMissing {
            controller,
            path: file.parent().unwrap_or(file).to_path_buf(),
        });
    }
    write_file(file, data)
}

/// How long `remove` waits for exiting processes to leave a cgroup.
const REMOVE_WAIT: Duration = Duration::from_secs(2);

/// rmdir(2) of a cgroup directory, retried while it is busy (EBUSY: processes or child
/// cgroups still in it). A missing directory counts as removed.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), CgroupError> {
    let start = Instant::now();
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {
                if start.elapsed() >= REMOVE_WAIT {
                    return Err(CgroupError::Busy {
                        path: dir.to_path_buf(),
                        waited_ms: REMOVE_WAIT.as_millis() as u64,
                    });
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(CgroupError::io("remove", dir, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_paths_must_be_plain_relative() {
        assert_eq!(relative_path("berth/abc").unwrap(), Path::new("berth/abc"));
        assert_eq!(relative_path("/berth/abc").unwrap(), Path::new("berth/abc"));
        for bad in ["", "/", "berth/../etc", "./x", "a/./b", "a//b", "a/"] {
            assert!(
                matches!(relative_path(bad), Err(CgroupError::InvalidPath(_))),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn keyed_values_are_found_by_exact_key() {
        let text = "low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed_value(text, "oom_kill"), Some(1));
        assert_eq!(keyed_value(text, "oom"), Some(2));
        assert_eq!(keyed_value(text, "missing"), None);
    }

    #[test]
    fn detect_rejects_a_plain_directory() {
        let dir = tempfile::tempdir().unwrap();
        // A temp dir is on the host's disk filesystem, not tmpfs or cgroup2 (when /tmp is
        // itself a tmpfs this legitimately detects v1, which is what the test then checks).
        match detect(dir.path()) {
            Err(CgroupError::UnknownFs { path, .. }) => assert_eq!(path, dir.path()),
            Ok(Hierarchy::V1 { hybrid: false }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn write_and_settle_waits_for_the_status_and_times_out_naming_the_cgroup() {
        let dir = tempfile::tempdir().unwrap();
        let control = dir.path().join("freezer.state");
        std::fs::write(&control, "THAWED").unwrap();
        // The "kernel" of a plain file reports whatever was written last.
        let wait = Duration::from_millis(50);
        write_and_settle(&control, "FROZEN", &control, "frozen", wait, |s| {
            s.trim() == "FROZEN"
        })
        .unwrap();
        assert_eq!(std::fs::read_to_string(&control).unwrap(), "FROZEN");
        let status = dir.path().join("events");
        std::fs::write(&status, "frozen 0\n").unwrap();
        let started = Instant::now();
        let err = write_and_settle(&control, "1", &status, "frozen", wait, |s| {
            keyed_value(s, "frozen") == Some(1)
        })
        .unwrap_err();
        assert!(started.elapsed() >= wait);
        assert!(
            matches!(&err, CgroupError::FreezeTimeout { path, .. } if path == dir.path()),
            "{err}"
        );
    }

    #[test]
    fn a_missing_limit_file_names_the_controller() {
        let dir = tempfile::tempdir().unwrap();
        let err = write_limit("memory", &dir.path().join("memory.max"), "1").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "a memory limit was asked but the memory controller is not available for {}",
                dir.path().display()
            )
        );
    }

    #[test]
    fn remove_dir_of_missing_dir_is_ok_and_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        remove_dir(&dir.path().join("gone")).unwrap();
        let full = dir.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("file"), "x").unwrap();
        let err = remove_dir(&full).unwrap_err().to_string();
        assert!(
            err.contains("failed to remove") && err.contains("full"),
            "{err}"
        );
    }
}
