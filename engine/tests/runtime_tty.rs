//! Real `--tty` containers, as root: this test binary doubles as berth's shim
//! (`<exe> shim <spec>`), runs busybox containers with and without a terminal and checks what
//! they saw and what the shim logged. Run: `cargo test -p berth-engine --test runtime_tty`.

use berth_engine::logs::{self, Stream};
use berth_engine::runtime::cgroup::{Cgroup, CgroupManager, CGROUP_ROOT};
use berth_engine::runtime::{self, ContainerSpec, ExitRecord, RootfsSpec, Started};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A test case: its name and body.
type TestCase = (&'static str, fn(&Suite));

fn main() {
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
    if !nix::unistd::Uid::effective().is_root() {
        println!("runtime_tty: skipped, real containers need root");
        return;
    }
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let suite = Suite::new();
    let cases: &[TestCase] = &[
        ("tty_is_stdio_and_one_stream", tty_is_stdio_and_one_stream),
        ("no_tty_without_the_flag", no_tty_without_the_flag),
        (
            "tty_is_the_controlling_terminal_and_console",
            tty_is_the_controlling_terminal_and_console,
        ),
        (
            "tty_with_init_user_and_readonly_rootfs",
            tty_with_init_user_and_readonly_rootfs,
        ),
        (
            "tty_in_a_privileged_container",
            tty_in_a_privileged_container,
        ),
        ("large_tty_output_is_complete", large_tty_output_is_complete),
        (
            "killed_tty_container_gives_137",
            killed_tty_container_gives_137,
        ),
    ];
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
    println!("runtime_tty: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// One busybox layer shared by all cases and a cgroup parent unique to this run.
struct Suite {
    dir: tempfile::TempDir,
    lower: PathBuf,
    cgroup_parent: String,
}

impl Suite {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-tty-")
            .tempdir()
            .expect("temp dir");
        let lower = dir.path().join("layer");
        for sub in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
            std::fs::create_dir_all(lower.join(sub)).expect("layer dirs");
        }
        std::fs::copy("/bin/busybox", lower.join("bin/busybox")).expect("copy /bin/busybox");
        let list = Command::new("/bin/busybox")
            .arg("--list")
            .output()
            .expect("busybox --list");
        for applet in String::from_utf8_lossy(&list.stdout).lines() {
            if applet != "busybox" && !applet.contains('/') && !applet.is_empty() {
                std::os::unix::fs::symlink("busybox", lower.join("bin").join(applet))
                    .expect("applet link");
            }
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Suite {
            dir,
            lower,
            cgroup_parent: format!("berth-tty-test-{}-{nanos}", std::process::id()),
        }
    }

    /// A container running `sh -c <script>`, with a terminal when `tty`.
    fn case(&self, name: &str, script: &str, tty: bool) -> Case {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(self.dir.path())
            .expect("case dir");
        for sub in ["upper", "work", "rootfs"] {
            std::fs::create_dir(dir.path().join(sub)).expect("case dirs");
        }
        let spec = ContainerSpec {
            id: format!("{:0>64}", name.len() * 1000 + dir.path().as_os_str().len()),
            hostname: "tty-test".into(),
            args: vec!["sh".into(), "-c".into(), script.into()],
            env: vec!["PATH=/usr/bin:/bin".into(), "HOME=/".into()],
            cwd: "/".into(),
            uid: 0,
            gid: 0,
            rootfs: RootfsSpec {
                lower: vec![self.lower.clone()],
                upper: dir.path().join("upper"),
                work: dir.path().join("work"),
                mountpoint: dir.path().join("rootfs"),
                readonly: false,
            },
            cgroup_path: format!("{}/{name}", self.cgroup_parent),
            log_path: dir.path().join("container.log"),
            exit_path: dir.path().join("exit.json"),
            resources: Default::default(),
            security: Default::default(),
            init: false,
            mounts: Vec::new(),
            log: Default::default(),
            tty,
        };
        Case {
            spec_path: dir.path().join("shim.json"),
            dir,
            spec,
            started: None,
        }
    }
}

impl Drop for Suite {
    fn drop(&mut self) {
        if let Ok(cg) = Cgroup::open(Path::new(CGROUP_ROOT), &self.cgroup_parent) {
            if let Err(e) = cg.remove() {
                eprintln!("leaving cgroup {}: {e}", self.cgroup_parent);
            }
        }
    }
}

/// One container; dropping it kills what is left and removes its cgroup.
struct Case {
    dir: tempfile::TempDir,
    spec: ContainerSpec,
    spec_path: PathBuf,
    started: Option<Started>,
}

impl Case {
    fn start(&mut self) -> Started {
        let json = serde_json::to_vec_pretty(&self.spec).expect("spec json");
        std::fs::write(&self.spec_path, json).expect("write spec");
        let exe = std::env::current_exe().expect("current exe");
        let started = runtime::spawn_shim(&exe, &self.spec_path).expect("container starts");
        self.started = Some(started);
        started
    }

    fn wait_exit(&self) -> ExitRecord {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(rec) = runtime::read_exit_record(&self.spec.exit_path).expect("exit record")
            {
                if let Some(started) = self.started {
                    wait_gone(started.shim_pid);
                }
                return rec;
            }
            assert!(Instant::now() < deadline, "container did not exit in 30 s");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn run(&mut self) -> ExitRecord {
        self.start();
        self.wait_exit()
    }

    /// Whole lines of one stream, bytes as logged.
    fn lines(&self, stream: Stream) -> Vec<String> {
        logs::tail(&self.spec.log_path, usize::MAX)
            .expect("tail log")
            .into_iter()
            .filter(|r| r.stream == stream)
            .map(|r| String::from_utf8_lossy(&r.line).into_owned())
            .collect()
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            if !self.spec.exit_path.exists() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(started.pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            wait_gone(started.shim_pid);
        }
        if let Err(e) = runtime::cleanup(&self.spec) {
            eprintln!("cleanup of {}: {e}", self.dir.path().display());
        }
    }
}

fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X')),
        Err(_) => false,
    }
}

fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) {
        if Instant::now() > deadline {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("process {pid} still running after 10 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

// ---- cases ----

/// The terminal turns "\n" into "\r\n" (ONLCR); the log keeps the "\r" as docker does.
fn tty_is_stdio_and_one_stream(s: &Suite) {
    let script = "tty; test -t 0 && test -t 1 && test -t 2 && echo all-tty; stty size; \
                  echo to-stderr >&2; exit 5";
    let mut c = s.case("stdio", script, true);
    let rec = c.run();
    assert_eq!((rec.exit_code, rec.signal), (5, None));
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["/dev/pts/0\r", "all-tty\r", "24 80\r", "to-stderr\r"]
    );
    assert!(
        c.lines(Stream::Stderr).is_empty(),
        "a terminal has one stream"
    );
}

fn no_tty_without_the_flag(s: &Suite) {
    let script = "test -t 1 || echo not-a-tty; tty";
    let mut c = s.case("notty", script, false);
    assert_eq!(c.run().exit_code, 1, "tty fails without a terminal");
    assert_eq!(c.lines(Stream::Stdout), vec!["not-a-tty", "not a tty"]);
}

fn tty_is_the_controlling_terminal_and_console(s: &Suite) {
    // /dev/tty opens only for a process with a controlling terminal; the session's leader is
    // the command itself (PID 1), whose group is the terminal's foreground group.
    let script = "echo via-dev-tty > /dev/tty; \
                  [ /dev/console -ef /dev/pts/0 ] && echo console-is-tty; \
                  cut -d' ' -f6,7,8 /proc/1/stat; ls /dev/pts | tr '\\n' ' '";
    let mut c = s.case("ctty", script, true);
    assert_eq!(c.run().exit_code, 0);
    let out = c.lines(Stream::Stdout);
    assert_eq!(out[..2], ["via-dev-tty\r", "console-is-tty\r"], "{out:?}");
    // PID 1's session, tty_nr and foreground group: it leads session 1, its terminal is
    // /dev/pts/0 ((136 << 8) | 0 = 34816), and its group is in the foreground.
    assert_eq!(out[2], "1 34816 1\r", "{out:?}");
    // The container's own devpts instance: its ptmx and the one terminal, nothing of the host.
    assert_eq!(out[3].trim(), "0 ptmx", "{out:?}");
    assert_eq!(out.len(), 4, "{out:?}");
}

fn tty_with_init_user_and_readonly_rootfs(s: &Suite) {
    let script = "tty; id -u; stat -c %u /dev/pts/0; echo reopened > /dev/tty; \
                  echo direct > /dev/pts/0; cat /proc/1/cmdline | head -c 3; echo";
    let mut c = s.case("init", script, true);
    c.spec.init = true;
    c.spec.uid = 1000;
    c.spec.gid = 1000;
    c.spec.rootfs.readonly = true;
    assert_eq!(c.run().exit_code, 0);
    let out = c.lines(Stream::Stdout);
    assert_eq!(
        out[..5],
        ["/dev/pts/0\r", "1000\r", "1000\r", "reopened\r", "direct\r"],
        "{out:?}"
    );
    // PID 1 is berth's init (not `sh`), and the command still has the terminal.
    assert_ne!(out[5], "sh\r", "{out:?}");
}

fn tty_in_a_privileged_container(s: &Suite) {
    let script = "tty; [ /dev/console -ef /dev/pts/0 ] && echo console-is-tty";
    let mut c = s.case("privileged", script, true);
    c.spec.security.privileged = true;
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["/dev/pts/0\r", "console-is-tty\r"]
    );
}

/// More than a terminal's buffer, written just before exit: drained until EIO, nothing lost.
fn large_tty_output_is_complete(s: &Suite) {
    let mut c = s.case("seq", "seq 1 50000", true);
    assert_eq!(c.run().exit_code, 0);
    let lines = c.lines(Stream::Stdout);
    assert_eq!(lines.len(), 50_000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &format!("{}\r", i + 1));
    }
}

fn killed_tty_container_gives_137(s: &Suite) {
    let mut c = s.case("kill", "echo ready; exec sleep 1000", true);
    let started = c.start();
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.lines(Stream::Stdout).is_empty() {
        assert!(Instant::now() < deadline, "container never got ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(started.pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let rec = c.wait_exit();
    assert_eq!((rec.exit_code, rec.signal), (137, Some(9)));
    assert_eq!(c.lines(Stream::Stdout), vec!["ready\r"]);
}
