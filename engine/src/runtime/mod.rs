//! The container runtime: namespaces, rootfs, cgroups and the shim that monitors one container.
//!
//! The daemon writes a [`ContainerSpec`] as `shim.json` and calls [`spawn_shim`], which runs
//! `berth shim <spec>` (see [`shim::main`]). The shim creates the container, reports the pids,
//! then outlives the daemon: it writes the container's log, reaps it, removes its cgroup and
//! leaves an [`ExitRecord`] at `spec.exit_path`.

/// Writes a line to stderr without panicking when it cannot. `eprintln!` panics when the write
/// fails, and a shim's stderr is its log file in the data root: a full disk must never end a
/// shim (and with it the record of its container's exit).
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod capabilities;
pub mod cgroup;
pub mod control;
pub mod exec;
mod fdpass;
mod init;
mod mounts;
mod net;
mod pid1;
mod process;
mod pty;
mod rootfs;
pub mod seccomp;
mod seed;
pub mod shim;
pub mod spec;

pub use spec::{
    ContainerSpec, DeviceSpec, LogSpec, MountKind, MountOptions, MountSpec, NetworkMode, Resources,
    RootfsSpec, SeccompSpec, SecuritySpec,
};

use cgroup::{Cgroup, CgroupError, CgroupManager};
use serde::{Deserialize, Serialize};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How a container ended, written by its shim as JSON at `spec.exit_path`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExitRecord {
    /// The exit status, or 128 + the signal number when killed by a signal (as docker).
    pub exit_code: i32,
    /// The signal that killed the init, if one did.
    pub signal: Option<i32>,
    /// When the shim reaped the init, in milliseconds since the Unix epoch.
    pub finished_at_ms: i64,
    /// Whether the kernel's OOM killer killed a process of the container.
    pub oom_killed: bool,
}

/// The shim's report once the container's command has been exec'd.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The surviving shim process (not the daemon's child).
    pub shim_pid: i32,
    /// Host pid of the container's init.
    pub pid: i32,
}

/// The file beside a container's spec where its monitor records [`Started`] before it reports:
/// a daemon killed between the report and recording it finds the live container here.
pub const STARTED_RECORD: &str = "started.json";

/// The monitor's own record of the container it started (written atomically; a failure to
/// write it, e.g. on a full disk, only loses the adoption after a daemon crash).
pub(crate) fn write_started_record(spec_path: &Path, started: &Started) {
    let path = spec_path.with_file_name(STARTED_RECORD);
    let tmp = spec_path.with_file_name(format!(".{STARTED_RECORD}.tmp"));
    let written = serde_json::to_vec(started)
        .map_err(io::Error::other)
        .and_then(|json| std::fs::write(&tmp, json))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        note!("berth shim: record the started container: {e}");
    }
}

/// The monitor's record of a container it started, if there is one (see [`STARTED_RECORD`]).
pub fn read_started_record(dir: &Path) -> Option<Started> {
    let bytes = std::fs::read(dir.join(STARTED_RECORD)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("failed to {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("failed to run shim {}: {source}", program.display())]
    SpawnShim { program: PathBuf, source: io::Error },
    /// The container did not start; the shim's message, e.g.
    /// `exec: "nosuchcmd": executable file not found in $PATH`.
    #[error("{0}")]
    Start(String),
    /// The container's command was not found (the shim exited 127), with the shim's message.
    #[error("{0}")]
    CommandNotFound(String),
    /// The container's command cannot be executed (the shim exited 126).
    #[error("{0}")]
    CommandNotExecutable(String),
    #[error("shim gave an unreadable report: {0:?}")]
    BadReport(String),
    #[error("invalid {what} {}: {source}", path.display())]
    Json {
        what: &'static str,
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("invalid container spec: {0}")]
    InvalidSpec(String),
    #[error(transparent)]
    Cgroup(#[from] CgroupError),
}

impl RuntimeError {
    fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        RuntimeError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Runs `<shim_program> shim <spec_path>`, waits for its one-line report, returns the pids;
/// on failure returns the shim's stderr message as the error.
///
/// Blocks until the command was exec'd (or failed): call it from a blocking thread.
pub fn spawn_shim(shim_program: &Path, spec_path: &Path) -> Result<Started, RuntimeError> {
    let output = Command::new(shim_program)
        .arg("shim")
        .arg(spec_path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| RuntimeError::SpawnShim {
            program: shim_program.to_path_buf(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr.trim();
        if message.is_empty() {
            return Err(RuntimeError::Start(format!(
                "shim failed ({})",
                output.status
            )));
        }
        let message = message.to_string();
        // The shim's exit status is the kind of failure (process::StartFailure).
        return Err(
            match process::StartFailure::from_exit_code(output.status.code().unwrap_or(1)) {
                process::StartFailure::CommandNotFound => RuntimeError::CommandNotFound(message),
                process::StartFailure::CommandNotExecutable => {
                    RuntimeError::CommandNotExecutable(message)
                }
                process::StartFailure::Other => RuntimeError::Start(message),
            },
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).map_err(|_| RuntimeError::BadReport(stdout.to_string()))
}

/// The exit record at `path`, or `None` while the container has not ended.
pub fn read_exit_record(path: &Path) -> Result<Option<ExitRecord>, RuntimeError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(RuntimeError::io("read", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| RuntimeError::Json {
            what: "exit record",
            path: path.to_path_buf(),
            source,
        })
}

/// Idempotent: removes the container's cgroup if still there, killing whatever is left in
/// it (call it only for a container that has ended or whose shim is gone).
pub fn cleanup(cgroup_path: &str) -> Result<(), RuntimeError> {
    let cg = Cgroup::open(Path::new(cgroup::CGROUP_ROOT), cgroup_path)?;
    if cg.paths().iter().any(|p| p.exists()) {
        cg.kill_all()?;
        cg.remove()?;
    }
    Ok(())
}

/// The names of the cgroups directly under `parent` (relative to each hierarchy's root), in
/// any hierarchy: what start-up reconciliation compares with the containers it knows.
pub fn child_cgroups(parent: &str) -> Result<Vec<String>, RuntimeError> {
    let cg = Cgroup::open(Path::new(cgroup::CGROUP_ROOT), parent)?;
    let mut names: Vec<String> = cg
        .paths()
        .iter()
        .filter_map(|dir| std::fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// Freezes every task of the container (`berth pause`) and returns once the kernel reports
/// it frozen.
pub fn pause(spec: &ContainerSpec) -> Result<(), RuntimeError> {
    Ok(cgroup::pause(spec)?)
}

/// Thaws a paused container (`berth unpause`).
pub fn resume(spec: &ContainerSpec) -> Result<(), RuntimeError> {
    Ok(cgroup::resume(spec)?)
}

/// Creates the container's cgroup (and its parents), then starts the grace period that the
/// shim's cgroup move will wait for (see cgroup::warm): call it when a container start
/// begins, from a blocking thread, and let it finish before the shim is spawned.
///
/// The order matters. The warm-up's move holds the kernel's global `cgroup_mutex` for its
/// whole grace period (kernel/cgroup/cgroup.c: `cgroup_procs_write` takes it through
/// `cgroup_kn_lock_live` before `percpu_down_write`), and `cgroup_mkdir` takes the same mutex,
/// so a shim that made its cgroup after the warm-up had begun waited out most of the grace
/// period in `mkdir` (5 ms of a 15 ms period, seen with `perf trace`). Made here first, the
/// shim finds the directories and only writes its limits, which takes no such lock.
///
/// An error is returned for the caller to log: the shim tries again and reports it.
pub fn prepare_cgroup(cgroup_path: &str) -> Result<(), RuntimeError> {
    let root = Path::new(cgroup::CGROUP_ROOT);
    let created = Cgroup::open(root, cgroup_path).and_then(|cg| cg.create());
    cgroup::warm_migration(root);
    Ok(created?)
}

/// Writes the exit record atomically: a temp file in the same directory, then a rename.
/// Readers see no record or a whole one. There is no fsync: the record has to survive the
/// daemon's death, which the page cache does, not the host's, which the container does not
/// either (after a reboot a record that did not reach the disk reads as "no record", and the
/// container is reconciled as exited without a known code). That saves two disk flushes on
/// every exit.
pub(crate) fn write_exit_record(path: &Path, record: &ExitRecord) -> Result<(), RuntimeError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let json = serde_json::to_vec(record).map_err(|source| RuntimeError::Json {
        what: "exit record",
        path: path.to_path_buf(),
        source,
    })?;
    let write = || -> io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&json)
    };
    if let Err(e) = write() {
        let _ = std::fs::remove_file(&tmp);
        return Err(RuntimeError::io("write", &tmp, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        RuntimeError::io("rename exit record to", path, e)
    })
}

/// Room for the exit record, taken when the container starts: on a full disk (which the
/// container itself may have filled) the record is written into blocks allocated long before,
/// so the exit is never lost for want of space.
pub(crate) struct ExitSlot {
    path: PathBuf,
    reserved: Option<(PathBuf, std::fs::File)>,
}

impl Drop for ExitSlot {
    /// A slot never written (the container did not start) leaves no file behind.
    fn drop(&mut self) {
        if let Some((tmp, _)) = self.reserved.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Bytes reserved: an exit record is about a hundred.
const EXIT_SLOT_BYTES: libc::off_t = 4096;

impl ExitSlot {
    /// Reserves the space beside `path` (none when even that fails: the record is then
    /// written the ordinary way).
    pub(crate) fn reserve(path: &Path) -> ExitSlot {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = path.with_file_name(format!(".{name}.slot-{}", std::process::id()));
        let reserved = std::fs::File::create(&tmp).and_then(|file| {
            use std::os::fd::AsRawFd;
            // SAFETY: fallocate(2) on our own descriptor; mode 0 allocates the blocks.
            match unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, EXIT_SLOT_BYTES) } {
                0 => Ok(file),
                _ => Err(io::Error::last_os_error()),
            }
        });
        match reserved {
            Ok(file) => ExitSlot {
                path: path.to_path_buf(),
                reserved: Some((tmp, file)),
            },
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
                ExitSlot {
                    path: path.to_path_buf(),
                    reserved: None,
                }
            }
        }
    }

    /// Writes the record into the reserved blocks and renames it into place; without a
    /// reservation (or a record too big for it), as [`write_exit_record`] does.
    pub(crate) fn write(mut self, record: &ExitRecord) -> Result<(), RuntimeError> {
        use std::os::unix::fs::FileExt;
        let json = serde_json::to_vec(record).map_err(|source| RuntimeError::Json {
            what: "exit record",
            path: self.path.clone(),
            source,
        })?;
        let (tmp, file) = match self.reserved.take() {
            Some(reserved) if json.len() as i64 <= EXIT_SLOT_BYTES => reserved,
            other => {
                if let Some((tmp, _)) = other {
                    let _ = std::fs::remove_file(tmp);
                }
                return write_exit_record(&self.path, record);
            }
        };
        // Overwriting allocated blocks and shrinking the file need no new space.
        let written = file
            .write_all_at(&json, 0)
            .and_then(|()| file.set_len(json.len() as u64));
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(RuntimeError::io("write", &tmp, e));
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            RuntimeError::io("rename exit record to", &self.path, e)
        })
    }
}

/// Checks what the kernel would otherwise reject with a less clear message.
pub(crate) fn validate_spec(spec: &ContainerSpec) -> Result<(), RuntimeError> {
    let bad = |m: String| Err(RuntimeError::InvalidSpec(m));
    if spec.args.is_empty() {
        return bad("no command specified".into());
    }
    if !spec.cwd.starts_with('/') {
        return bad(format!("working directory {:?} is not absolute", spec.cwd));
    }
    if spec.hostname.len() > 64 {
        return bad(format!(
            "hostname {:?} is longer than 64 bytes",
            spec.hostname
        ));
    }
    cgroup::relative_path(&spec.cgroup_path)?;
    for (what, p) in [
        ("rootfs mountpoint", &spec.rootfs.mountpoint),
        ("upper dir", &spec.rootfs.upper),
        ("work dir", &spec.rootfs.work),
        ("log path", &spec.log_path),
        ("exit path", &spec.exit_path),
    ] {
        if !p.is_absolute() {
            return bad(format!("{what} {} is not absolute", p.display()));
        }
    }
    if spec.rootfs.lower.is_empty() {
        return bad("rootfs has no lower layer".into());
    }
    capabilities::resolve(&spec.security).map_err(|e| RuntimeError::InvalidSpec(e.to_string()))?;
    if let SeccompSpec::Profile(json) = &spec.security.seccomp {
        seccomp::validate(json).map_err(|e| RuntimeError::InvalidSpec(e.to_string()))?;
    }
    if !spec.seccomp.matches(&spec.security) {
        return bad(format!(
            "the spec's seccomp program ({}) is not what its security settings choose",
            match spec.seccomp.filter() {
                Some(_) => "a filter",
                None => "none",
            }
        ));
    }
    if let Some(m) = spec.mounts.iter().find(|m| !m.destination.starts_with('/')) {
        return bad(format!(
            "mount destination {:?} is not absolute",
            m.destination
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample_spec(dir: &Path) -> ContainerSpec {
        ContainerSpec {
            id: "a".repeat(64),
            hostname: "aaaaaaaaaaaa".into(),
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            groups: vec![],
            rootfs: RootfsSpec {
                lower: vec![dir.join("layer")],
                upper: dir.join("upper"),
                work: dir.join("work"),
                mountpoint: dir.join("rootfs"),
                readonly: false,
            },
            cgroup_path: "berth/aaaa".into(),
            log_path: dir.join("log"),
            exit_path: dir.join("exit.json"),
            resources: Default::default(),
            security: Default::default(),
            seccomp: seccomp::SeccompProgram::compile(&Default::default()).unwrap(),
            init: false,
            mounts: Vec::new(),
            log: Default::default(),
            tty: false,
            stdin: false,
            control_path: None,
            console_size: None,
            network: Default::default(),
            devices: Vec::new(),
        }
    }

    #[test]
    fn exit_record_round_trips_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exit.json");
        assert_eq!(read_exit_record(&path).unwrap(), None);
        let rec = ExitRecord {
            exit_code: 137,
            signal: Some(9),
            finished_at_ms: 1_700_000_000_000,
            oom_killed: false,
        };
        write_exit_record(&path, &rec).unwrap();
        assert_eq!(read_exit_record(&path).unwrap(), Some(rec));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("exit.json")]);
    }

    #[test]
    fn garbage_exit_record_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exit.json");
        std::fs::write(&path, "{").unwrap();
        let err = read_exit_record(&path).unwrap_err().to_string();
        assert!(
            err.starts_with("invalid exit record") && err.contains("exit.json"),
            "{err}"
        );
    }

    #[test]
    fn spawn_shim_reports_a_missing_program() {
        let err = spawn_shim(Path::new("/nonexistent/berth"), Path::new("/x.json")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("failed to run shim /nonexistent/berth"),
            "{err}"
        );
    }

    #[test]
    fn spawn_shim_passes_on_the_shim_error_and_parses_the_report() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake-shim");
        std::fs::write(
            &fake,
            "#!/bin/sh\n[ \"$1\" = shim ] || exit 9\ncase \"$2\" in\n\
             *ok*) echo '{\"shim_pid\":12,\"pid\":34}';;\n\
             *notfound*) echo 'exec: \"x\": executable file not found in $PATH' >&2; exit 127;;\n\
             *noexec*) echo 'exec: \"/x\": permission denied' >&2; exit 126;;\n\
             *) echo 'exec: \"x\": executable file not found in $PATH' >&2; exit 1;;\nesac\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let started = spawn_shim(&fake, Path::new("/c/ok.json")).unwrap();
        assert_eq!(
            started,
            Started {
                shim_pid: 12,
                pid: 34
            }
        );
        let err = spawn_shim(&fake, Path::new("/c/bad.json")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec: \"x\": executable file not found in $PATH"
        );
        // The kind comes from the shim's exit status, not from the message's words.
        assert!(matches!(err, RuntimeError::Start(_)), "{err:?}");
        let err = spawn_shim(&fake, Path::new("/c/notfound.json")).unwrap_err();
        assert!(matches!(err, RuntimeError::CommandNotFound(_)), "{err:?}");
        let err = spawn_shim(&fake, Path::new("/c/noexec.json")).unwrap_err();
        assert!(
            matches!(&err, RuntimeError::CommandNotExecutable(m) if m.contains("permission denied")),
            "{err:?}"
        );
    }

    #[test]
    fn validate_spec_catches_relative_paths_and_empty_commands() {
        let dir = tempfile::tempdir().unwrap();
        let good = sample_spec(dir.path());
        validate_spec(&good).unwrap();
        let mut s = good.clone();
        s.args.clear();
        assert!(validate_spec(&s).is_err());
        let mut s = good.clone();
        s.cwd = "work".into();
        assert!(validate_spec(&s)
            .unwrap_err()
            .to_string()
            .contains("not absolute"));
        let mut s = good.clone();
        s.cgroup_path = "../escape".into();
        assert!(matches!(validate_spec(&s), Err(RuntimeError::Cgroup(_))));
        let mut s = good.clone();
        s.log_path = "log".into();
        assert!(validate_spec(&s).is_err());
        // A default container whose spec carries no filter is refused, not run unfiltered.
        let mut s = good;
        s.seccomp = seccomp::SeccompProgram::Unfiltered;
        assert!(validate_spec(&s)
            .unwrap_err()
            .to_string()
            .contains("seccomp program (none)"));
        s.security.privileged = true;
        validate_spec(&s).unwrap();
    }
}
