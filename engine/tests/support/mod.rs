//! The harness shared by the engine's real-container test binaries (`harness = false`, each
//! doubling as berth's shim): a busybox layer built from /bin/busybox, one container per case
//! run through `runtime::spawn_shim`, its exit record and log, cleanup even after a panic, and
//! a `main` that dispatches `shim <spec>`, filters cases by name and prints a summary.
//! Each binary includes it with `mod support;` and keeps its own helpers.

// Every binary uses only part of the harness.
#![allow(dead_code)]

use berth_engine::logs::{self, Stream};
use berth_engine::runtime::cgroup::{Cgroup, CgroupManager, CGROUP_ROOT};
use berth_engine::runtime::seccomp::{FilterCache, SeccompProgram};
use berth_engine::runtime::{self, ContainerSpec, ExitRecord, RootfsSpec, SecuritySpec, Started};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A test case: its name and body.
pub type TestCase = (&'static str, fn(&Suite));

/// The whole test binary: `<exe> shim <spec>` runs berth's shim (`shim-exec <spec>` its exec
/// helper), and the binary run under the name `probe` (`/probe <call> [arg]`) makes one
/// system call (see [`probe`]: for use inside a container); otherwise, as root, builds
/// the suite with `setup` and runs the `cases` whose names contain one of the arguments that
/// do not start with `-` (all when there are none), printing `<bin>: N passed, N failed` and
/// exiting 1 when any failed.
pub fn main(bin: &str, setup: impl FnOnce() -> Suite, cases: &[TestCase]) {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("shim") {
        let code = match args.get(2) {
            Some(spec) => runtime::shim::main(Path::new(spec)),
            None => {
                eprintln!("usage: shim <spec.json>");
                2
            }
        };
        std::process::exit(code);
    }
    if args.get(1).map(String::as_str) == Some(runtime::exec::VERB) {
        let code = match args.get(2) {
            Some(spec) => runtime::exec::main(Path::new(spec)),
            None => 2,
        };
        std::process::exit(code);
    }
    // Run as `…/probe CALL` (bind-mounted under that name), like a busybox applet.
    if args.first().and_then(|a| Path::new(a).file_name()) == Some(PROBE.as_ref()) {
        std::process::exit(probe(&args[1..]));
    }
    if !nix::unistd::Uid::effective().is_root() {
        // A test that cannot run has not passed: say so and fail.
        eprintln!("{bin}: FAILED: these tests run real containers and need root");
        std::process::exit(1);
    }
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let suite = setup();
    let (mut passed, mut failed) = (0, 0);
    for &(name, case) in cases {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let start = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| case(&suite))) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({} ms)", start.elapsed().as_millis());
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    drop(suite);
    println!("{bin}: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// The file name [`probe`] is run under.
pub const PROBE: &str = "probe";

/// Makes one system call and prints `ok` or the errno's name (`EPERM`, `ENOSYS`…), exiting 0
/// either way (2 for bad usage). The arguments are chosen so that the kernel itself gives an
/// answer other than EPERM where it can (an invalid operation, a missing file), so that EPERM
/// means the seccomp filter refused the call:
/// - `keyctl`, `add_key`, `request_key`: an invalid operation, an unknown key type, a key
///   that does not exist (kernel: EOPNOTSUPP, ENODEV, ENOKEY);
/// - `swapon`, `swapoff`: on a missing file (kernel: EPERM without CAP_SYS_ADMIN, else
///   ENOENT);
/// - `ptrace PID`: PTRACE_ATTACH to PID, then detach;
/// - `kcmp`: compares the caller's fd 0 with itself (kernel: ok);
/// - `clone-newuser`: clone(2) of a child in a new user namespace (kernel: ok);
/// - `clone3`: with no arguments (kernel: EINVAL);
/// - `personality VALUE` (hex);
/// - `thread`: starts and joins a thread (C library: clone3, then clone).
pub fn probe(args: &[String]) -> i32 {
    fn answer(r: libc::c_long) -> String {
        if r < 0 {
            format!("{:?}", nix::errno::Errno::last())
        } else {
            "ok".to_string()
        }
    }
    let arg = args.get(1).map(String::as_str).unwrap_or("");
    let missing = c"/nonexistent-berth-swap";
    // SAFETY (every call): raw system calls with integer arguments or pointers to values that
    // live across the call; the clone child only _exits.
    let result = unsafe {
        match args.first().map(String::as_str) {
            Some("keyctl") => answer(libc::syscall(libc::SYS_keyctl, 9999, 0, 0, 0, 0)),
            Some("add_key") => answer(libc::syscall(
                libc::SYS_add_key,
                c"berth-no-such-type".as_ptr(),
                c"d".as_ptr(),
                c"x".as_ptr(),
                1usize,
                -2i32,
            )),
            Some("request_key") => answer(libc::syscall(
                libc::SYS_request_key,
                c"berth-no-such-type".as_ptr(),
                c"d".as_ptr(),
                std::ptr::null::<libc::c_char>(),
                0i32,
            )),
            Some("swapon") => answer(libc::syscall(libc::SYS_swapon, missing.as_ptr(), 0)),
            Some("swapoff") => answer(libc::syscall(libc::SYS_swapoff, missing.as_ptr())),
            Some("ptrace") => {
                let Ok(pid) = arg.parse::<libc::pid_t>() else {
                    return 2;
                };
                let r = libc::ptrace(libc::PTRACE_ATTACH, pid, 0, 0);
                if r == 0 {
                    let mut status = 0;
                    libc::waitpid(pid, &mut status, libc::__WALL);
                    libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0);
                }
                answer(r)
            }
            Some("kcmp") => {
                let pid = libc::getpid();
                // KCMP_FILE is 0.
                answer(libc::syscall(libc::SYS_kcmp, pid, pid, 0, 0, 0))
            }
            Some("clone-newuser") => {
                let flags = (libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong;
                let r = libc::syscall(libc::SYS_clone, flags, 0, 0, 0, 0);
                if r == 0 {
                    libc::_exit(0);
                }
                if r > 0 {
                    let mut status = 0;
                    libc::waitpid(r as libc::pid_t, &mut status, 0);
                }
                answer(r)
            }
            Some("clone3") => answer(libc::syscall(libc::SYS_clone3, 0usize, 0usize)),
            Some("personality") => {
                let Ok(value) = u64::from_str_radix(arg.trim_start_matches("0x"), 16) else {
                    return 2;
                };
                answer(libc::syscall(libc::SYS_personality, value))
            }
            Some("thread") => match std::thread::Builder::new().spawn(|| 7).map(|t| t.join()) {
                Ok(Ok(7)) => "ok".to_string(),
                Ok(_) => "thread failed".to_string(),
                Err(e) => format!("{:?}", e.raw_os_error().map(nix::errno::Errno::from_raw)),
            },
            _ => {
                eprintln!("usage: probe keyctl|add_key|request_key|swapon|swapoff|ptrace PID|kcmp|clone-newuser|clone3|personality HEX|thread");
                return 2;
            }
        }
    };
    println!("{result}");
    0
}

/// What all cases share: one busybox layer (read-only lower of every container), a cgroup
/// parent unique to this run, and how a case's leftovers are cleaned up.
pub struct Suite {
    pub dir: tempfile::TempDir,
    pub lower: PathBuf,
    pub cgroup_parent: String,
    /// Kill what a case left running through its cgroup (which also reaches frozen
    /// processes) rather than by signalling the container's init.
    pub kill_cgroup: bool,
    /// How long a shim may take to go once its container is done.
    pub gone_within: Duration,
}

impl Suite {
    /// A layer in a temp dir named `<dir_prefix>…` with every busybox applet, and the cgroup
    /// parent `<cgroup_prefix>-<pid>-<nanos>`.
    pub fn new(dir_prefix: &str, cgroup_prefix: &str) -> Self {
        Self::build(dir_prefix, cgroup_prefix, None)
    }

    /// Like [`Suite::new`], with links for just these `applets`.
    pub fn with_applets(dir_prefix: &str, cgroup_prefix: &str, applets: &[&str]) -> Self {
        Self::build(dir_prefix, cgroup_prefix, Some(applets))
    }

    fn build(dir_prefix: &str, cgroup_prefix: &str, applets: Option<&[&str]>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix(dir_prefix)
            .tempdir()
            .expect("temp dir");
        let lower = dir.path().join("layer");
        for sub in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
            std::fs::create_dir_all(lower.join(sub)).expect("layer dirs");
        }
        std::fs::copy("/bin/busybox", lower.join("bin/busybox")).expect("copy /bin/busybox");
        let link = |applet: &str| {
            std::os::unix::fs::symlink("busybox", lower.join("bin").join(applet))
                .expect("applet link");
        };
        match applets {
            Some(applets) => applets.iter().copied().for_each(link),
            None => {
                let list = Command::new("/bin/busybox")
                    .arg("--list")
                    .output()
                    .expect("busybox --list");
                for applet in String::from_utf8_lossy(&list.stdout).lines() {
                    if applet != "busybox" && !applet.contains('/') && !applet.is_empty() {
                        link(applet);
                    }
                }
            }
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Suite {
            dir,
            lower,
            cgroup_parent: format!("{cgroup_prefix}-{}-{nanos}", std::process::id()),
            kill_cgroup: false,
            gone_within: Duration::from_secs(10),
        }
    }

    /// A new case directory `<name>-…`, with the overlay's `upper`, `work` and `rootfs` made
    /// when `overlay_dirs` (the shim makes them otherwise).
    pub fn case_dir(&self, name: &str, overlay_dirs: bool) -> tempfile::TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(self.dir.path())
            .expect("case dir");
        if overlay_dirs {
            for sub in ["upper", "work", "rootfs"] {
                std::fs::create_dir(dir.path().join(sub)).expect("case dirs");
            }
        }
        dir
    }

    /// The spec of a container running `args` as root in `/` with everything else default,
    /// its files in `dir` and its cgroup `<parent>/<name>`; callers set the rest.
    pub fn spec(&self, name: &str, dir: &Path, args: Vec<String>) -> ContainerSpec {
        ContainerSpec {
            id: format!("{:0>64}", name.len()),
            hostname: String::new(),
            args,
            env: vec!["PATH=/bin".into()],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            groups: vec![],
            rootfs: RootfsSpec {
                lower: vec![self.lower.clone()],
                upper: dir.join("upper"),
                work: dir.join("work"),
                mountpoint: dir.join("rootfs"),
                readonly: false,
            },
            cgroup_path: format!("{}/{name}", self.cgroup_parent),
            log_path: dir.join("container.log"),
            exit_path: dir.join("exit.json"),
            resources: Default::default(),
            security: Default::default(),
            seccomp: seccomp_of(&SecuritySpec::default()),
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

    /// One container of this suite, not started yet.
    pub fn container(&self, dir: tempfile::TempDir, spec: ContainerSpec) -> Case {
        Case {
            spec_path: dir.path().join("shim.json"),
            dir,
            spec,
            started: None,
            kill_cgroup: self.kill_cgroup,
            gone_within: self.gone_within,
        }
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        // Every case removed its own cgroup; the run's parent goes last.
        if let Ok(cg) = Cgroup::open(Path::new(CGROUP_ROOT), &self.cgroup_parent) {
            if let Err(e) = cg.remove() {
                eprintln!("leaving cgroup {}: {e}", self.cgroup_parent);
            }
        }
    }
}

/// The seccomp program of a container with these settings, compiled once per run and
/// setting, as the daemon's cache does.
pub fn seccomp_of(security: &SecuritySpec) -> SeccompProgram {
    let program = filters()
        .program(security)
        .expect("the seccomp program of the case");
    SeccompProgram::clone(&program)
}

fn filters() -> &'static FilterCache {
    static FILTERS: std::sync::OnceLock<FilterCache> = std::sync::OnceLock::new();
    FILTERS.get_or_init(FilterCache::default)
}

/// One container: its directory, spec and, once started, its pids. Dropping it kills what is
/// left and removes its cgroup, even when the case panicked.
pub struct Case {
    pub dir: tempfile::TempDir,
    pub spec: ContainerSpec,
    pub spec_path: PathBuf,
    pub started: Option<Started>,
    kill_cgroup: bool,
    gone_within: Duration,
}

impl Case {
    /// Writes the spec and starts the shim.
    pub fn start(&mut self) -> Result<Started, runtime::RuntimeError> {
        // As the daemon does: the filter its security settings choose (set after `spec`).
        // Settings that cannot be compiled keep the default's program: the cases that give
        // them check that the shim refuses the spec for what is wrong with them.
        if let Ok(program) = filters().program(&self.spec.security) {
            self.spec.seccomp = SeccompProgram::clone(&program);
        }
        let json = serde_json::to_vec_pretty(&self.spec).expect("spec json");
        std::fs::write(&self.spec_path, json).expect("write spec");
        let exe = std::env::current_exe().expect("current exe");
        let started = runtime::spawn_shim(&exe, &self.spec_path)?;
        self.started = Some(started);
        Ok(started)
    }

    /// Whether the shim has written the exit record.
    pub fn exited(&self) -> bool {
        runtime::read_exit_record(&self.spec.exit_path)
            .expect("exit record")
            .is_some()
    }

    /// The exit record, once the shim wrote it (within 30 s).
    pub fn wait_exit(&self) -> ExitRecord {
        self.wait_exit_within(Duration::from_secs(30))
    }

    pub fn wait_exit_within(&self, within: Duration) -> ExitRecord {
        let deadline = Instant::now() + within;
        loop {
            if let Some(rec) = runtime::read_exit_record(&self.spec.exit_path).expect("exit record")
            {
                return rec;
            }
            assert!(
                Instant::now() < deadline,
                "container did not exit in {} s",
                within.as_secs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The exit record (within 30 s), once the shim is gone too.
    pub fn wait_done(&self) -> ExitRecord {
        self.wait_done_within(Duration::from_secs(30))
    }

    pub fn wait_done_within(&self, within: Duration) -> ExitRecord {
        let rec = self.wait_exit_within(within);
        if let Some(started) = self.started {
            wait_gone_within(started.shim_pid, self.gone_within);
        }
        rec
    }

    /// Starts the container and waits for it and its shim to end.
    pub fn run(&mut self) -> ExitRecord {
        self.start().expect("container starts");
        self.wait_done()
    }

    /// Whole lines of one stream (pieces of a line the shim flushed early joined back).
    pub fn lines(&self, stream: Stream) -> Vec<String> {
        logs::tail(&self.spec.log_path, usize::MAX)
            .expect("tail log")
            .into_iter()
            .filter(|r| r.stream == stream)
            .map(|r| String::from_utf8_lossy(&r.line).into_owned())
            .collect()
    }

    pub fn cgroup(&self) -> Cgroup {
        Cgroup::open(Path::new(CGROUP_ROOT), &self.spec.cgroup_path).expect("cgroup")
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            if !self.spec.exit_path.exists() {
                if self.kill_cgroup {
                    let _ = self.cgroup().kill_all();
                } else {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(started.pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
            wait_gone_within(started.shim_pid, self.gone_within);
        }
        if let Err(e) = runtime::cleanup(&self.spec.cgroup_path) {
            eprintln!("cleanup of {}: {e}", self.dir.path().display());
        }
    }
}

/// Whether `pid` is a live (not zombie) process.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

/// Waits (10 s) until `pid` is gone; kills it and panics if it is not.
pub fn wait_gone(pid: i32) {
    wait_gone_within(pid, Duration::from_secs(10));
}

pub fn wait_gone_within(pid: i32, within: Duration) {
    let deadline = Instant::now() + within;
    while alive(pid) {
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("process {pid} still running after {} s", within.as_secs());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
