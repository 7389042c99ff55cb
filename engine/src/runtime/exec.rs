//! `berth-shim shim-exec <spec.json>`: runs one more process inside a running container (`berth
//! exec`). A small helper process, never the daemon, joins the container's cgroup and
//! namespaces, forks the command into its pid namespace and relays the command's exit
//! status as its own.
//!
//! The daemon starts the helper with the command's stdio (pipes, or /dev/null with a
//! terminal) and a SOCK_SEQPACKET socket on fd 3, on which the helper sends one report:
//! `ok <host pid>` (with the terminal's master attached when the spec asks for a terminal) once
//! the command was exec'd, or `err <code> <message>` when it could not be (127: not found,
//! 126: not executable, as docker's exec).
//!
//! No async runtime and no threads: `setns(2)` into a mount namespace is refused to a
//! multi-threaded process, and the child runs Rust code between fork and exec.

use super::capabilities;
use super::cgroup::{Cgroup, CgroupManager, CGROUP_ROOT};
use super::fdpass;
use super::init::{self, sys_err, InitError};
use super::pty;
use super::seccomp::{Filter, SeccompProgram};
use super::shim::{wait_status, Status};
use super::spec::SecuritySpec;
use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sched::{setns, CloneFlags};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::unistd::{fork, pipe2, ForkResult, Pid};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

/// The descriptor the helper reports on.
pub const REPORT_FD: RawFd = 3;

/// What the helper runs, and where: written by the engine, read by `berth-shim exec`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExecSpec {
    /// Host pid of the container's init: its namespaces are joined.
    pub init_pid: i32,
    /// The container's cgroup, relative to each hierarchy's root (`berth/<id>`).
    pub cgroup_path: String,
    /// argv; `args[0]` without a `/` is looked up in the `PATH` of `env`.
    pub args: Vec<String>,
    pub env: Vec<String>,
    /// Absolute working directory inside the container; it must exist.
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (setgroups(2)).
    #[serde(default)]
    pub groups: Vec<u32>,
    /// The container's capabilities and no_new_privs (all capabilities with `--privileged`).
    pub security: SecuritySpec,
    /// The container's seccomp filter (compiled from the container's own settings by the
    /// daemon): an exec runs under it even with `exec --privileged`, as docker's does.
    pub seccomp: SeccompProgram,
    /// Give the command a terminal from the container's devpts (`exec -t`).
    pub tty: bool,
    /// The terminal's first window size, rows and columns (else 24x80).
    #[serde(default)]
    pub console_size: Option<(u16, u16)>,
}

/// The namespaces joined, in order. The mount namespace comes last: the namespace files are
/// all opened before any is joined, and setns(2) into the mount namespace changes the root
/// (and so what /proc is). Joining the pid namespace affects only children created
/// afterwards (setns(2), CLONE_NEWPID): hence the fork before the exec.
const NAMESPACES: [(&str, CloneFlags); 6] = [
    ("cgroup", CloneFlags::CLONE_NEWCGROUP),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
    ("mnt", CloneFlags::CLONE_NEWNS),
];

/// The body of `berth-shim shim-exec <spec_path>`: the command's exit status (128 + signal when it
/// was killed), or the failure's status when it could not be started.
pub fn main(spec_path: &Path) -> i32 {
    // SAFETY: F_GETFD only inspects the descriptor.
    if unsafe { libc::fcntl(REPORT_FD, libc::F_GETFD) } < 0 {
        note!("usage: berth-shim shim-exec <spec.json> with a report socket on fd 3 (started by the berth daemon)");
        return 2;
    }
    // SAFETY: the daemon passed this descriptor to us alone (see the module doc).
    let report = unsafe { OwnedFd::from_raw_fd(REPORT_FD) };
    let (pid, master) = match start(spec_path) {
        Ok(started) => started,
        Err(e) => {
            let _ = fdpass::send(
                report.as_raw_fd(),
                format!("err {} {}", e.code, e.message).as_bytes(),
                None,
            );
            return e.code;
        }
    };
    if fdpass::send(
        report.as_raw_fd(),
        format!("ok {pid}").as_bytes(),
        master.as_ref(),
    )
    .is_err()
    {
        // Nobody will hear of this command: do not leave it running.
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    }
    drop((report, master));
    // The command's stdio is its own now: the helper must not keep its pipes open (the
    // daemon's reader sees their end when the command and its children close them).
    if let Ok(null) = File::options().read(true).write(true).open("/dev/null") {
        for target in 0..=2 {
            // SAFETY: dup2 onto our own standard descriptors.
            unsafe { libc::dup2(null.as_raw_fd(), target) };
        }
    }
    match wait_status(pid) {
        Some(Status::Exited(code)) => code,
        Some(Status::Signaled(sig)) => 128 + sig,
        None => 255,
    }
}

/// What the helper reported.
#[derive(Debug)]
pub enum Report {
    /// The command runs with host pid `pid`; with a terminal, its master.
    Started { pid: i32, terminal: Option<OwnedFd> },
    /// It could not be started: the exit status (126/127/1) and why.
    Failed { code: i32, message: String },
}

/// The helper's verb, in `berth-shim` and in `berth` (where `exec` is the CLI's verb).
pub const VERB: &str = "shim-exec";

/// `<program> shim-exec <spec_path>`, with a report socket on the helper's fd 3; returns the
/// command (the caller sets stdio and spawns it, then drops it, which closes the helper's
/// end) and the daemon's end of the socket.
pub fn command(
    program: &Path,
    spec_path: &Path,
) -> std::io::Result<(std::process::Command, OwnedFd)> {
    use std::os::unix::process::CommandExt;
    let (daemon_end, helper_end) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?;
    let mut command = std::process::Command::new(program);
    command.arg(VERB).arg(spec_path);
    // SAFETY: between fork and exec only async-signal-safe calls (dup2, fcntl) are made.
    unsafe {
        command.pre_exec(move || {
            let fd = helper_end.as_raw_fd();
            let r = if fd == REPORT_FD {
                // dup2 onto itself would keep close-on-exec.
                libc::fcntl(fd, libc::F_SETFD, 0)
            } else {
                libc::dup2(fd, REPORT_FD)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    };
    Ok((command, daemon_end))
}

/// Waits for the helper's report (blocking: call it from a blocking thread).
pub fn read_report(socket: &OwnedFd) -> Report {
    let mut buf = vec![0u8; 64 * 1024];
    let (n, terminal) = match fdpass::receive(socket.as_raw_fd(), &mut buf) {
        Ok(received) => received,
        Err(e) => {
            return Report::Failed {
                code: 126,
                message: format!("read the exec helper's report: {e}"),
            }
        }
    };
    parse_report(&String::from_utf8_lossy(&buf[..n]), terminal)
}

fn parse_report(text: &str, terminal: Option<OwnedFd>) -> Report {
    if let Some(pid) = text.strip_prefix("ok ").and_then(|p| p.parse().ok()) {
        return Report::Started { pid, terminal };
    }
    if let Some((code, message)) = text.strip_prefix("err ").and_then(|t| t.split_once(' ')) {
        if let Ok(code) = code.parse() {
            return Report::Failed {
                code,
                message: message.to_string(),
            };
        }
    }
    Report::Failed {
        code: 126,
        message: "the exec helper ended without a report".to_string(),
    }
}

/// Sets the window size of an exec's terminal from its master; the kernel signals SIGWINCH
/// to the terminal's foreground process group (tty_ioctl(4), TIOCSWINSZ).
pub fn resize_terminal(master: &OwnedFd, rows: u16, columns: u16) -> std::io::Result<()> {
    pty::resize(master, rows, columns).map_err(std::io::Error::from)
}

/// Joins the container and starts the command: its host pid and the terminal's master.
fn start(spec_path: &Path) -> Result<(Pid, Option<OwnedFd>), InitError> {
    let spec = load(spec_path)?;
    let caps =
        capabilities::resolve(&spec.security).map_err(|e| InitError::setup(e.to_string()))?;
    // Compiled by the daemon: the child only installs it (runtime::seccomp).
    let filter = spec.seccomp.filter().cloned();
    let mut namespaces = Vec::with_capacity(NAMESPACES.len());
    for (name, flag) in NAMESPACES {
        let path = format!("/proc/{}/ns/{name}", spec.init_pid);
        let file = File::open(&path).map_err(|e| {
            InitError::setup(if e.kind() == std::io::ErrorKind::NotFound {
                "the container is not running".to_string()
            } else {
                format!("open {path}: {e}")
            })
        })?;
        namespaces.push((name, flag, file));
    }
    // The host's cgroup file system is reachable until the mount namespace is joined.
    let cgroup = Cgroup::open(Path::new(CGROUP_ROOT), &spec.cgroup_path)
        .map_err(|e| InitError::setup(e.to_string()))?;
    cgroup
        .add_task(std::process::id() as i32)
        .map_err(|e| InitError::setup(format!("join the container's cgroup: {e}")))?;
    for (name, flag, file) in &namespaces {
        setns(file, *flag).map_err(|e| sys_err(format!("join the {name} namespace"), e))?;
    }
    drop(namespaces);
    // setns(2) into a mount namespace sets the root and working directory to its root: the
    // container's /dev is /dev now.
    let terminal = match spec.tty {
        true => Some(open_terminal(&spec)?),
        false => None,
    };
    let (error_r, error_w) = pipe2(OFlag::O_CLOEXEC).map_err(|e| sys_err("pipe", e))?;
    // SAFETY: the helper is single-threaded (see the module doc).
    match unsafe { fork() }.map_err(|e| sys_err("fork", e))? {
        ForkResult::Child => {
            drop(error_r);
            let slave = terminal.as_ref().map(|t| t.slave.as_raw_fd());
            let err = match run_command(&spec, caps, slave, filter.as_ref()) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            init::write_all(error_w.as_raw_fd(), err.message.as_bytes());
            // SAFETY: end the child without running the helper's code after `main`.
            unsafe { libc::_exit(err.code) }
        }
        ForkResult::Parent { child } => {
            drop(error_w);
            let master = terminal.map(|t| t.master);
            let mut message = String::new();
            // EOF without a message: the exec succeeded and closed the close-on-exec pipe.
            let _ = File::from(error_r).read_to_string(&mut message);
            if message.is_empty() {
                return Ok((child, master));
            }
            let code = match wait_status(child) {
                Some(Status::Exited(code)) if code != 0 => code,
                _ => 126,
            };
            Err(InitError { message, code })
        }
    }
}

fn load(path: &Path) -> Result<ExecSpec, InitError> {
    let bytes = std::fs::read(path)
        .map_err(|e| InitError::setup(format!("read {}: {e}", path.display())))?;
    let spec: ExecSpec = serde_json::from_slice(&bytes)
        .map_err(|e| InitError::setup(format!("invalid exec spec {}: {e}", path.display())))?;
    if spec.args.is_empty() {
        return Err(InitError::setup("no command specified".to_string()));
    }
    if !spec.cwd.starts_with('/') {
        return Err(InitError::setup(format!(
            "working directory {:?} is not absolute",
            spec.cwd
        )));
    }
    Ok(spec)
}

/// A terminal from the container's devpts, owned by the command's user, at the asked size.
fn open_terminal(spec: &ExecSpec) -> Result<pty::Pty, InitError> {
    let terminal = pty::open(Path::new("/dev"))?;
    nix::unistd::fchown(
        &terminal.slave,
        Some(nix::unistd::Uid::from_raw(spec.uid)),
        None,
    )
    .map_err(|e| sys_err(format!("chown {}", terminal.slave_path.display()), e))?;
    if let Some((rows, columns)) = spec.console_size {
        pty::resize(&terminal.master, rows, columns)
            .map_err(|e| sys_err("set the terminal's window size", e))?;
    }
    Ok(terminal)
}

/// The forked child, inside the container's pid namespace: becomes the command.
fn run_command(
    spec: &ExecSpec,
    caps: capabilities::CapSet,
    slave: Option<RawFd>,
    filter: Option<&Filter>,
) -> Result<Infallible, InitError> {
    // Its own session, so that the terminal can be its controlling one and signals for the
    // helper's session do not reach it.
    nix::unistd::setsid().map_err(|e| sys_err("setsid", e))?;
    if let Some(slave) = slave {
        // SAFETY: TIOCSCTTY with 0 on a new terminal no session has; dup2 onto our stdio.
        unsafe {
            if libc::ioctl(slave, libc::TIOCSCTTY, 0) < 0 {
                return Err(sys_err("make the terminal controlling", Errno::last()));
            }
            for target in 0..=2 {
                if libc::dup2(slave, target) < 0 {
                    return Err(sys_err(
                        format!("dup2 terminal onto fd {target}"),
                        Errno::last(),
                    ));
                }
            }
        }
    }
    nix::unistd::chdir(Path::new(&spec.cwd)).map_err(|e| InitError {
        message: format!(
            "chdir to cwd {:?} failed: {}",
            spec.cwd,
            e.desc().to_lowercase()
        ),
        code: 126,
    })?;
    let who = init::Identity {
        caps,
        uid: spec.uid,
        gid: spec.gid,
        groups: &spec.groups,
        no_new_privileges: spec.security.no_new_privileges,
    };
    Err(init::Command::prepare(&spec.args, &spec.env, who, filter)?.exec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_parse_and_garbage_is_a_failure() {
        assert!(matches!(
            parse_report("ok 42", None),
            Report::Started {
                pid: 42,
                terminal: None
            }
        ));
        match parse_report(
            "err 127 exec: \"x\": executable file not found in $PATH",
            None,
        ) {
            Report::Failed { code, message } => {
                assert_eq!(code, 127);
                assert_eq!(message, "exec: \"x\": executable file not found in $PATH");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_report("", None),
            Report::Failed { code: 126, .. }
        ));
    }

    #[test]
    fn a_helper_that_cannot_report_reads_as_a_failure() {
        let (command, report) = command(Path::new("/bin/true"), Path::new("/x.json")).unwrap();
        let mut command = command;
        let status = command.status().unwrap();
        assert!(status.success());
        drop(command);
        assert!(matches!(
            read_report(&report),
            Report::Failed { code: 126, .. }
        ));
    }

    #[test]
    fn mount_namespace_is_joined_last() {
        assert_eq!(NAMESPACES.last().map(|n| n.0), Some("mnt"));
        let names: Vec<&str> = NAMESPACES.iter().map(|n| n.0).collect();
        for ns in ["cgroup", "ipc", "uts", "net", "pid", "mnt"] {
            assert!(names.contains(&ns), "{ns} is not joined");
        }
    }

    #[test]
    fn specs_without_a_command_or_with_a_relative_cwd_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("exec.json");
        let mut spec = ExecSpec {
            init_pid: 1,
            cgroup_path: "berth/x".into(),
            args: vec![],
            env: vec![],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            groups: vec![],
            security: SecuritySpec::default(),
            seccomp: SeccompProgram::Unfiltered,
            tty: false,
            console_size: None,
        };
        std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
        assert_eq!(load(&path).unwrap_err().message, "no command specified");
        spec.args = vec!["sh".into()];
        spec.cwd = "tmp".into();
        std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
        assert!(load(&path).unwrap_err().message.contains("not absolute"));
        spec.cwd = "/tmp".into();
        std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
        assert_eq!(load(&path).unwrap(), spec);
    }
}
