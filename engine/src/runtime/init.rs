//! The container's init before it becomes the container's command: runs in the cloned child,
//! waits for the shim's go, builds the container's world, and execs.
//!
//! Failures are written to the error pipe (close-on-exec, so a successful exec closes it with
//! nothing written) and end the child with 127 (command not found), 126 (not executable) or 1.

use super::seccomp::Filter;
use super::spec::{ContainerSpec, NetworkMode};
use super::{capabilities, cgroup, net, pid1, pty, rootfs};
use nix::errno::Errno;
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{sigprocmask, SigSet, SigmaskHow};
use nix::unistd::{setgid, setgroups, setsid, setuid, Gid, Uid};
use std::convert::Infallible;
use std::ffi::CString;
use std::fmt::Display;
use std::os::fd::RawFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// `PATH` when the spec's environment has none (docker's default).
pub(crate) const DEFAULT_PATH: &str =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Why the init could not exec the command: the one line the shim reports.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub(crate) struct InitError {
    pub(crate) message: String,
    /// The child's exit status (shell conventions: 127 not found, 126 cannot execute).
    pub(crate) code: i32,
}

impl InitError {
    pub(crate) fn setup(message: String) -> Self {
        Self { message, code: 1 }
    }
}

/// `"<what>: <errno text>"`, lower-case like the rest of berth's messages.
pub(crate) fn sys_err(what: impl Display, errno: Errno) -> InitError {
    InitError::setup(format!("{what}: {}", errno_text(errno)))
}

fn errno_text(errno: Errno) -> String {
    let desc = errno.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => desc.to_string(),
    }
}

/// The child's ends of the pipes the shim made; all but the three stdio fds are close-on-exec.
pub(crate) struct InitFds {
    /// Read end: the shim writes one byte once the child is in its cgroup.
    pub sync: RawFd,
    /// Write end: the error message, if the child fails before exec.
    pub error: RawFd,
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
    /// With `spec.tty`: the socket the init sends the terminal's master on (then the three
    /// stdio fds above are /dev/null until the terminal replaces them).
    pub console: Option<RawFd>,
}

/// The body of the cloned child, with the container's seccomp filter if it has one. Never
/// returns: it execs the command or exits.
pub(crate) fn run(spec: &ContainerSpec, fds: &InitFds, filter: Option<&Filter>) -> ! {
    let err = match setup_and_exec(spec, fds, filter) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    write_all(fds.error, err.message.as_bytes());
    // SAFETY: _exit skips atexit handlers and buffered std streams that belong to the shim.
    unsafe { libc::_exit(err.code) }
}

fn setup_and_exec(
    spec: &ContainerSpec,
    fds: &InitFds,
    filter: Option<&Filter>,
) -> Result<Infallible, InitError> {
    // If the shim dies before releasing us, do not linger (cleared again before exec).
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) };
    // Our own session: signals to the shim's session do not reach the container.
    setsid().map_err(|e| sys_err("setsid", e))?;
    for (fd, target) in [(fds.stdin, 0), (fds.stdout, 1), (fds.stderr, 2)] {
        // SAFETY: dup2 onto the standard descriptors of this single-threaded child.
        if unsafe { libc::dup2(fd, target) } < 0 {
            return Err(sys_err(format!("dup2 onto fd {target}"), Errno::last()));
        }
    }

    // Names were checked before the clone (process::start); resolving again cannot fail.
    let caps =
        capabilities::resolve(&spec.security).map_err(|e| InitError::setup(e.to_string()))?;
    // The root filesystem, hostname and loopback are built while the shim moves us into the
    // container's cgroup: on cgroup v1 that move waits for an RCU grace period (tens of ms),
    // and none of this opens a device node or runs the container's code, so the devices
    // controller and the limits need not be in place yet.
    // Joined before /sys is mounted: sysfs shows the network devices of the namespace of the
    // process that mounts it (sysfs(5)).
    net::join(&spec.network)?;
    rootfs::enter(
        &spec.rootfs,
        &spec.mounts,
        &spec.devices,
        spec.security.privileged,
    )?;
    nix::unistd::sethostname(&spec.hostname).map_err(|e| sys_err("sethostname", e))?;
    if spec.network == NetworkMode::New {
        net::loopback_up()?;
    }

    let mut go = [0u8; 1];
    // SAFETY: reading into a 1-byte buffer we own.
    let n = retry_eintr(|| unsafe { libc::read(fds.sync, go.as_mut_ptr().cast(), 1) });
    if n != 1 {
        return Err(InitError::setup(
            "shim did not release the container init".to_string(),
        ));
    }
    // The shim has put us into the container's cgroup by now, so the new cgroup namespace is
    // rooted there and the container sees itself at "/" (cgroup_namespaces(7)). Unsharing at
    // clone time would have rooted it at the shim's cgroup instead.
    unshare(CloneFlags::CLONE_NEWCGROUP).map_err(|e| sys_err("unshare cgroup namespace", e))?;
    // So mounted from inside the namespace, /sys/fs/cgroup shows the container's own cgroups.
    cgroup::inside::mount_own_cgroups(spec.security.privileged)?;
    if let Some(console) = fds.console {
        // In the container's /dev/pts, while still root; we lead our own session (above).
        pty::attach_in_container(console, spec.uid, spec.console_size)?;
    }
    let cwd = Path::new(&spec.cwd);
    std::fs::create_dir_all(cwd)
        .map_err(|e| InitError::setup(format!("create working directory {}: {e}", spec.cwd)))?;
    if spec.rootfs.readonly {
        rootfs::make_readonly()?;
    }
    nix::unistd::chdir(cwd).map_err(|e| sys_err(format!("chdir {}", spec.cwd), e))?;

    let who = Identity {
        caps,
        uid: spec.uid,
        gid: spec.gid,
        groups: &spec.groups,
        no_new_privileges: spec.security.no_new_privileges,
    };
    let command = Command::prepare(&spec.args, &spec.env, who, filter)?;
    if spec.init {
        // Returns in the child that execs the command; the parent stays as PID 1.
        pid1::fork_command()?;
    }
    // SAFETY: prctl with integer arguments only.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, 0, 0, 0, 0) };
    Err(command.exec())
}

/// Who the command runs as: the last steps before its exec, shared by the container's init
/// and `exec`'s helper.
pub(crate) struct Identity<'a> {
    pub caps: capabilities::CapSet,
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (setgroups(2)).
    pub groups: &'a [u32],
    pub no_new_privileges: bool,
}

/// A command ready to exec: resolved, the user it runs as taken on, its filter in place or
/// still to install just before execve.
pub(crate) struct Command<'a> {
    program: PathBuf,
    argv: Vec<CString>,
    envp: Vec<CString>,
    /// The seccomp filter still to install (installed early without no_new_privs).
    filter: Option<&'a Filter>,
}

impl<'a> Command<'a> {
    /// Resolves `args` (in the `PATH` of `env`), then becomes `who` under `filter`.
    pub(crate) fn prepare(
        args: &[String],
        env: &[String],
        who: Identity<'_>,
        filter: Option<&'a Filter>,
    ) -> Result<Command<'a>, InitError> {
        let program = resolve_program(args, env)?;
        let argv = cstrings(args, "argument")?;
        let envp = cstrings(env, "environment variable")?;
        let filter = install_early(filter, who.no_new_privileges)?;
        drop_privileges(&who)?;
        Ok(Command {
            program,
            argv,
            envp,
            filter,
        })
    }

    /// Gives the command clean signal dispositions and no inherited descriptor beyond its
    /// stdio, installs the filter (when it was not installed earlier) and execs the command;
    /// returns only on failure, with the shell's exit status for it.
    pub(crate) fn exec(self) -> InitError {
        if let Err(e) = reset_signals() {
            return e;
        }
        // Nothing the shim had open may leak into the container (close_range(2), 5.11+; on
        // older kernels std's descriptors are close-on-exec anyway).
        // SAFETY: marks descriptors close-on-exec; closes nothing now.
        unsafe { libc::close_range(3, u32::MAX, libc::CLOSE_RANGE_CLOEXEC as libc::c_int) };

        let Ok(path) = CString::new(self.program.as_os_str().as_encoded_bytes()) else {
            return InitError::setup("program path contains a NUL byte".to_string());
        };
        // The last call before execve, so that the filter sees none of the runtime's own
        // calls but execve's (no_new_privs is set by now: see install_early).
        if let Some(filter) = self.filter {
            if let Err(e) = filter.install() {
                return sys_err("install the seccomp filter", e);
            }
        }
        let errno = match nix::unistd::execve(&path, &self.argv, &self.envp) {
            Err(e) => e,
            Ok(never) => match never {},
        };
        InitError {
            message: format!(
                "exec: {:?}: {}",
                self.program.display().to_string(),
                errno_text(errno)
            ),
            code: if errno == Errno::ENOENT { 127 } else { 126 },
        }
    }
}

/// Installs the seccomp filter now when it cannot wait until just before execve: seccomp(2)
/// accepts a filter only from a process with no_new_privs set or holding CAP_SYS_ADMIN, and
/// without no_new_privs the container's command may not keep CAP_SYS_ADMIN. So, as runc,
/// install it while still root with every capability (the calls that follow, setuid, capset,
/// prctl, execve…, are ones every profile must allow anyway). Returns the filter still to be
/// installed before execve.
fn install_early(
    filter: Option<&Filter>,
    no_new_privileges: bool,
) -> Result<Option<&Filter>, InitError> {
    match filter {
        Some(filter) if !no_new_privileges => {
            filter
                .install()
                .map_err(|e| sys_err("install the seccomp filter", e))?;
            Ok(None)
        }
        late => Ok(late),
    }
}

/// Becomes `who` (user, group, supplementary groups, capability set, and no_new_privs when
/// asked), from root with every capability.
fn drop_privileges(who: &Identity<'_>) -> Result<(), InitError> {
    let Identity {
        caps,
        uid,
        gid,
        groups,
        no_new_privileges,
    } = *who;
    // Bounding set first, while CAP_SETPCAP is still effective; setuid then clears the
    // effective set, and capset restores the container's (capabilities(7)).
    capabilities::limit_bounding_set(caps)?;
    let groups: Vec<Gid> = groups.iter().map(|&g| Gid::from_raw(g)).collect();
    setgroups(&groups).map_err(|e| sys_err("setgroups", e))?;
    setgid(Gid::from_raw(gid)).map_err(|e| sys_err(format!("setgid {gid}"), e))?;
    setuid(Uid::from_raw(uid)).map_err(|e| sys_err(format!("setuid {uid}"), e))?;
    capabilities::set_process_caps(caps)?;
    if no_new_privileges {
        // Inherited by every descendant and kept across execve: setuid binaries and file
        // capabilities grant nothing any more (prctl(2), PR_SET_NO_NEW_PRIVS).
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } < 0 {
            return Err(sys_err("set no_new_privs", Errno::last()));
        }
    }
    Ok(())
}

/// `args[0]`, looked up in the `PATH` of the spec's environment when it has no `/` (as
/// execvp(3) does, but with the container's environment rather than the shim's).
fn resolve_program(args: &[String], env: &[String]) -> Result<PathBuf, InitError> {
    let Some(arg0) = args.first() else {
        return Err(InitError::setup("no command specified".to_string()));
    };
    if arg0.contains('/') {
        return Ok(PathBuf::from(arg0));
    }
    let path = env
        .iter()
        .rev()
        .find_map(|kv| kv.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    find_in_path(arg0, path).ok_or_else(|| InitError {
        message: format!("exec: {arg0:?}: executable file not found in $PATH"),
        code: 127,
    })
}

/// The first `<dir>/<name>` in `path` that is a regular file with an execute bit. An empty
/// entry means the current directory.
pub(crate) fn find_in_path(name: &str, path: &str) -> Option<PathBuf> {
    path.split(':').find_map(|dir| {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(name);
        let meta = std::fs::metadata(&candidate).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some(candidate)
    })
}

fn cstrings(items: &[String], what: &str) -> Result<Vec<CString>, InitError> {
    items
        .iter()
        .map(|s| {
            CString::new(s.as_bytes())
                .map_err(|_| InitError::setup(format!("{what} {s:?} contains a NUL byte")))
        })
        .collect()
}

/// Dispositions set to "ignore" survive execve (the shim ignores SIGPIPE and SIGHUP; Rust's
/// runtime ignores SIGPIPE; whoever started the daemon may have ignored more), as does the
/// signal mask: give the command a clean slate.
fn reset_signals() -> Result<(), InitError> {
    for sig in 1..=libc::SIGRTMAX() {
        if sig != libc::SIGKILL && sig != libc::SIGSTOP {
            set_default_disposition(sig);
        }
    }
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .map_err(|e| sys_err("reset signal mask", e))
}

/// rt_sigaction(2) straight to the kernel: glibc refuses to touch the two real-time signals
/// it reserves for itself (32 and 33), yet an inherited SIG_IGN on them would reach the
/// command. The kernel's struct is `handler, flags, restorer, mask` on these architectures.
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
fn set_default_disposition(sig: libc::c_int) {
    #[repr(C)]
    struct KernelSigaction {
        handler: libc::sighandler_t,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let act = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: a valid kernel sigaction for the default disposition; failures (invalid
    // signal numbers) change nothing.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigaction,
            sig,
            &act as *const KernelSigaction,
            std::ptr::null_mut::<KernelSigaction>(),
            std::mem::size_of::<u64>(),
        )
    };
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
fn set_default_disposition(sig: libc::c_int) {
    // SAFETY: installing the default disposition; fails harmlessly for reserved signals.
    unsafe { libc::signal(sig, libc::SIG_DFL) };
}

fn retry_eintr(mut f: impl FnMut() -> isize) -> isize {
    loop {
        let n = f();
        if n < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        return n;
    }
}

pub(crate) fn write_all(fd: RawFd, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: writing from a live slice.
        let n = retry_eintr(|| unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) });
        if n <= 0 {
            return;
        }
        data = &data[n as usize..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn path_lookup_takes_first_executable_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(b.join("tool")).unwrap(); // a directory is not a program
        std::fs::write(a.join("tool"), "").unwrap(); // not executable
        std::fs::write(a.join("run"), "").unwrap();
        std::fs::set_permissions(a.join("run"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let c = dir.path().join("c");
        std::fs::create_dir_all(&c).unwrap();
        std::fs::write(c.join("tool"), "").unwrap();
        std::fs::set_permissions(c.join("tool"), std::fs::Permissions::from_mode(0o700)).unwrap();

        let path = format!("{}:{}:{}", a.display(), b.display(), c.display());
        assert_eq!(find_in_path("tool", &path), Some(c.join("tool")));
        assert_eq!(find_in_path("run", &path), Some(a.join("run")));
        assert_eq!(find_in_path("missing", &path), None);
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn unresolvable_command_reports_like_docker() {
        let dir = tempfile::tempdir().unwrap();
        let env = format!("PATH={}", dir.path().display());
        let err = resolve_program(&strings(&["nosuchcmd"]), &strings(&[&env])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec: \"nosuchcmd\": executable file not found in $PATH"
        );
        assert_eq!(err.code, 127);
        let err = resolve_program(&[], &[]).unwrap_err();
        assert_eq!(err.to_string(), "no command specified");
    }

    #[test]
    fn commands_with_a_slash_are_not_looked_up() {
        let program = resolve_program(&strings(&["./run.sh"]), &strings(&["PATH=/nowhere"]));
        assert_eq!(program.unwrap(), PathBuf::from("./run.sh"));
    }

    #[test]
    fn errno_text_is_lower_case() {
        assert_eq!(errno_text(Errno::ENOENT), "no such file or directory");
        assert_eq!(
            sys_err("mount proc on /x", Errno::EPERM).to_string(),
            "mount proc on /x: operation not permitted"
        );
    }
}
