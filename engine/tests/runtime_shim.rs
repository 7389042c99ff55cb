//! Real containers, as root: this test binary doubles as berth's shim (`<exe> shim <spec>`),
//! runs busybox containers through `runtime::spawn_shim`, and checks what they saw and what
//! the shim recorded. Run: `cargo test -p berth-engine --test runtime_shim [-- <name filter>]`.

use berth_engine::logs::{LogReader, LogRecord, Stream};
use berth_engine::runtime::cgroup::{Cgroup, CgroupManager, CGROUP_ROOT};
use berth_engine::runtime::{self};
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

mod support;

use support::{alive, wait_gone, Case, Suite, TestCase};

fn main() {
    let cases: &[TestCase] = &[
        ("echo_output_is_logged", echo_output_is_logged),
        ("exit_code_is_recorded", exit_code_is_recorded),
        ("command_is_pid_1", command_is_pid_1),
        ("hostname_is_the_specs", hostname_is_the_specs),
        (
            "stdout_and_stderr_are_kept_apart",
            stdout_and_stderr_are_kept_apart,
        ),
        ("upper_layers_are_private", upper_layers_are_private),
        (
            "unknown_command_fails_cleanly",
            unknown_command_fails_cleanly,
        ),
        (
            "unexecutable_file_fails_cleanly",
            unexecutable_file_fails_cleanly,
        ),
        (
            "sigkill_gives_137_and_cgroup_lives_as_long",
            sigkill_gives_137_and_cgroup_lives_as_long,
        ),
        (
            "namespaces_are_the_containers_own",
            namespaces_are_the_containers_own,
        ),
        (
            "dev_and_kernel_files_are_set_up",
            dev_and_kernel_files_are_set_up,
        ),
        ("user_env_and_cwd_are_applied", user_env_and_cwd_are_applied),
        (
            "readonly_rootfs_refuses_writes",
            readonly_rootfs_refuses_writes,
        ),
        ("signals_start_clean", signals_start_clean),
        (
            "large_output_is_complete_and_ordered",
            large_output_is_complete_and_ordered,
        ),
        (
            "unterminated_last_line_is_kept",
            unterminated_last_line_is_kept,
        ),
        (
            "cgroup_v2_on_the_unified_mount",
            cgroup_v2_on_the_unified_mount,
        ),
        ("oom_kill_is_recorded", oom_kill_is_recorded),
    ];
    support::main(
        "runtime_shim",
        || Suite::new("berth-rt-", "berth-test"),
        cases,
    );
}

impl Suite {
    fn case(&self, name: &str, args: &[&str]) -> Case {
        let dir = self.case_dir(name, true);
        let args = args.iter().map(|a| a.to_string()).collect();
        let mut spec = self.spec(name, dir.path(), args);
        spec.id = format!("{:0>64}", name.len() * 1000 + dir.path().as_os_str().len());
        spec.hostname = format!("c-{}", &name[..name.len().min(20)]);
        spec.env = vec!["PATH=/usr/bin:/bin".into(), "HOME=/".into()];
        self.container(dir, spec)
    }
}

impl Case {
    fn records(&self) -> Vec<LogRecord> {
        let mut reader = LogReader::open(&self.spec.log_path).expect("open log");
        let mut out = Vec::new();
        while let Some(rec) = reader.next_record().expect("read log") {
            out.push(rec);
        }
        out
    }
}

/// Live processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            if String::from_utf8_lossy(&cmdline).contains(needle) && alive(pid) {
                found.push(pid);
            }
        }
    }
    found
}

fn stat_field(pid: i32, index_after_comm: usize) -> i32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let (_, rest) = stat.rsplit_once(") ").expect("stat format");
    rest.split(' ')
        .nth(index_after_comm)
        .expect("field")
        .parse()
        .expect("number")
}

// ---- cases ----

fn echo_output_is_logged(s: &Suite) {
    let mut c = s.case("echo", &["echo", "hello"]);
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    let rec = c.run();
    assert_eq!(
        (rec.exit_code, rec.signal, rec.oom_killed),
        (0, None, false)
    );
    let records = c.records();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].line, b"hello");
    assert_eq!(
        (records[0].stream, records[0].partial),
        (Stream::Stdout, false)
    );
    assert!(records[0].time_ns >= before, "log time before the run");
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert!((now_ms - rec.finished_at_ms).abs() < 60_000);
}

fn exit_code_is_recorded(s: &Suite) {
    let mut c = s.case("exit3", &["sh", "-c", "exit 3"]);
    // The shim makes the overlay's directories when the engine has not.
    for dir in [&c.spec.rootfs.mountpoint, &c.spec.rootfs.work] {
        std::fs::remove_dir(dir).unwrap();
    }
    let rec = c.run();
    assert_eq!((rec.exit_code, rec.signal), (3, None));
}

fn command_is_pid_1(s: &Suite) {
    let mut c = s.case("pid1", &["sh", "-c", "echo $$"]);
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(c.lines(Stream::Stdout), vec!["1"]);
}

fn hostname_is_the_specs(s: &Suite) {
    let mut c = s.case("hostname", &["hostname"]);
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(c.lines(Stream::Stdout), vec![c.spec.hostname.clone()]);
    assert_ne!(
        nix::unistd::gethostname().unwrap().to_string_lossy(),
        c.spec.hostname,
        "the host's name must not change"
    );
}

fn stdout_and_stderr_are_kept_apart(s: &Suite) {
    let mut c = s.case(
        "streams",
        &["sh", "-c", "echo out; echo err >&2; echo out2"],
    );
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(c.lines(Stream::Stdout), vec!["out", "out2"]);
    assert_eq!(c.lines(Stream::Stderr), vec!["err"]);
}

fn upper_layers_are_private(s: &Suite) {
    let mut writer = s.case(
        "writer",
        &["sh", "-c", "echo secret > /data.txt && cat /data.txt"],
    );
    assert_eq!(writer.run().exit_code, 0);
    assert_eq!(writer.lines(Stream::Stdout), vec!["secret"]);
    assert_eq!(
        std::fs::read_to_string(writer.spec.rootfs.upper.join("data.txt")).unwrap(),
        "secret\n"
    );
    assert!(
        !s.lower.join("data.txt").exists(),
        "the lower layer changed"
    );

    let mut reader = s.case("reader", &["cat", "/data.txt"]);
    assert_eq!(reader.run().exit_code, 1);
    let err = reader.lines(Stream::Stderr).join("\n");
    assert!(err.contains("No such file"), "{err}");
    // Nothing stays mounted on the host.
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(!mounts.contains(writer.spec.rootfs.mountpoint.to_str().unwrap()));
}

fn unknown_command_fails_cleanly(s: &Suite) {
    let mut c = s.case("nosuchcmd", &["nosuchcmd"]);
    let err = c.start().expect_err("must not start");
    assert_eq!(
        err.to_string(),
        "exec: \"nosuchcmd\": executable file not found in $PATH"
    );
    assert_nothing_left(&c);
}

fn unexecutable_file_fails_cleanly(s: &Suite) {
    let mut c = s.case("noexec", &["/notes.txt"]);
    std::fs::write(c.spec.rootfs.upper.join("notes.txt"), "just text\n").unwrap();
    let err = c.start().expect_err("must not start");
    assert_eq!(err.to_string(), "exec: \"/notes.txt\": permission denied");
    assert_nothing_left(&c);
}

fn assert_nothing_left(c: &Case) {
    for dir in c.cgroup().paths() {
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }
    let left = processes_mentioning(c.spec_path.to_str().unwrap());
    assert!(left.is_empty(), "processes left: {left:?}");
    assert!(
        !c.spec.exit_path.exists(),
        "no exit record for a container that never ran"
    );
}

fn sigkill_gives_137_and_cgroup_lives_as_long(s: &Suite) {
    let mut c = s.case("sigkill", &["sleep", "1000"]);
    // A descriptor the "daemon" lets leak into the shim (not close-on-exec).
    let (leak_r, leak_w) = nix::unistd::pipe().unwrap();
    let started = c.start().expect("starts");
    let leaked = std::fs::read_link(format!("/proc/self/fd/{}", leak_r.as_raw_fd())).unwrap();
    drop((leak_r, leak_w));
    for pid in [started.shim_pid, started.pid] {
        for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))
            .unwrap()
            .flatten()
        {
            assert_ne!(
                std::fs::read_link(fd.path()).ok(),
                Some(leaked.clone()),
                "pid {pid}"
            );
        }
    }
    // The shim is not our child and has its own session.
    assert_ne!(
        stat_field(started.shim_pid, 1),
        std::process::id() as i32,
        "shim's parent"
    );
    assert_eq!(
        stat_field(started.shim_pid, 3),
        started.shim_pid,
        "shim's session"
    );
    // The container's init is the shim's child, in the container's cgroup.
    assert_eq!(stat_field(started.pid, 1), started.shim_pid);
    let cg = c.cgroup();
    for dir in cg.paths() {
        assert!(dir.is_dir(), "{} missing while running", dir.display());
    }
    assert_eq!(cg.pids().unwrap(), vec![started.pid]);
    let own = std::fs::read_to_string(format!("/proc/{}/cgroup", started.pid)).unwrap();
    assert!(own.contains(&c.spec.cgroup_path), "{own}");
    assert!(runtime::read_exit_record(&c.spec.exit_path)
        .unwrap()
        .is_none());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(started.pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let rec = c.wait_exit();
    assert_eq!((rec.exit_code, rec.signal), (137, Some(9)));
    for dir in cg.paths() {
        assert!(!dir.exists(), "{} left after exit", dir.display());
    }
    wait_gone(started.shim_pid);
}

fn namespaces_are_the_containers_own(s: &Suite) {
    let script = "ls /sys/class/net; cat /sys/class/net/lo/flags; \
                  cat /proc/self/cgroup | grep -v ':/$' | wc -l; \
                  ls /proc | grep -c '^[0-9]'; grep ' / ' /proc/mounts | cut -d' ' -f3";
    let mut c = s.case("namespaces", &["sh", "-c", script]);
    assert_eq!(c.run().exit_code, 0);
    let out = c.lines(Stream::Stdout);
    assert_eq!(out[0], "lo", "only loopback in the new netns: {out:?}");
    // IFF_UP | IFF_LOOPBACK (and RUNNING is not in `flags`): lo was brought up.
    assert_eq!(out[1], "0x9");
    assert_eq!(
        out[2], "0",
        "every cgroup line is rooted at the container: {out:?}"
    );
    let procs: i32 = out[3].parse().unwrap();
    assert!(
        procs <= 5,
        "only the container's processes in /proc: {procs}"
    );
    assert_eq!(out[4], "overlay");
    assert_eq!(out.len(), 5, "{out:?}");
}

fn dev_and_kernel_files_are_set_up(s: &Suite) {
    let script = "ls /dev | tr '\\n' ' '; echo; echo x > /dev/null && echo null-ok; \
                  head -c 16 /dev/urandom | wc -c; cat /proc/kcore | wc -c; \
                  touch /sys/x 2>/dev/null || echo sys-ro; \
                  echo 1 > /proc/sys/kernel/hostname 2>/dev/null || echo proc-sys-ro; \
                  touch /dev/shm/x && echo shm-ok";
    let mut c = s.case("dev", &["sh", "-c", script]);
    assert_eq!(c.run().exit_code, 0);
    let out = c.lines(Stream::Stdout);
    let devs: Vec<&str> = out[0].split_whitespace().collect();
    for want in [
        "null", "zero", "full", "random", "urandom", "tty", "pts", "shm", "mqueue", "ptmx", "fd",
        "stdin", "stdout", "stderr",
    ] {
        assert!(devs.contains(&want), "/dev lacks {want}: {devs:?}");
    }
    assert_eq!(
        &out[1..],
        ["null-ok", "16", "0", "sys-ro", "proc-sys-ro", "shm-ok"],
        "{out:?}"
    );
}

fn user_env_and_cwd_are_applied(s: &Suite) {
    let mut c = s.case("user", &["sh", "-c", "id -u; id -g; pwd; echo $GREETING"]);
    c.spec.uid = 1000;
    c.spec.gid = 1001;
    c.spec.cwd = "/work/here".into();
    c.spec.env.push("GREETING=hi there".into());
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["1000", "1001", "/work/here", "hi there"]
    );
}

fn readonly_rootfs_refuses_writes(s: &Suite) {
    let script = "if touch /x 2>/dev/null; then echo rw; else echo ro; fi; \
                  touch /dev/shm/y && echo shm-rw; pwd";
    let mut c = s.case("readonly", &["sh", "-c", script]);
    c.spec.rootfs.readonly = true;
    c.spec.cwd = "/made/for/you".into();
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["ro", "shm-rw", "/made/for/you"]
    );
}

fn signals_start_clean(s: &Suite) {
    let mut c = s.case(
        "signals",
        &["grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"],
    );
    assert_eq!(c.run().exit_code, 0);
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["SigBlk:\t0000000000000000", "SigIgn:\t0000000000000000"]
    );
}

fn large_output_is_complete_and_ordered(s: &Suite) {
    let mut c = s.case("seq", &["seq", "1", "200000"]);
    assert_eq!(c.run().exit_code, 0);
    let lines = c.lines(Stream::Stdout);
    assert_eq!(lines.len(), 200_000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line, &(i + 1).to_string());
    }
    let size = std::fs::metadata(&c.spec.log_path).unwrap().len();
    let raw: usize = lines.iter().map(|l| l.len() + 1).sum();
    assert!(
        size <= 2 * raw as u64,
        "log {size} bytes for {raw} bytes of output"
    );
}

fn unterminated_last_line_is_kept(s: &Suite) {
    let mut c = s.case("partial", &["sh", "-c", "echo first; printf 'no newline'"]);
    assert_eq!(c.run().exit_code, 0);
    let records = c.records();
    let shape: Vec<(&[u8], bool)> = records.iter().map(|r| (&r.line[..], r.partial)).collect();
    assert_eq!(
        shape,
        vec![(&b"first"[..], false), (&b"no newline"[..], true)]
    );
}

/// The v2 implementation against the host's real cgroup2 mount (the unified hierarchy of a
/// hybrid host, or the root of a v2 host): create, move a process in, remove.
fn cgroup_v2_on_the_unified_mount(s: &Suite) {
    let unified = Path::new(CGROUP_ROOT).join("unified");
    let root = [Path::new(CGROUP_ROOT), unified.as_path()]
        .into_iter()
        .find(|p| {
            nix::sys::statfs::statfs(*p)
                .is_ok_and(|f| f.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        });
    let Some(root) = root else {
        println!("  (no cgroup2 mount on this host)");
        return;
    };
    let path = format!("{}/v2probe", s.cgroup_parent);
    let cg = Cgroup::V2(runtime::cgroup::CgroupV2::new(root, &path).unwrap());
    let parent = Cgroup::V2(runtime::cgroup::CgroupV2::new(root, &s.cgroup_parent).unwrap());
    cg.create().unwrap();
    let mut child = Command::new("/bin/busybox")
        .args(["sleep", "100"])
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let result = catch_unwind(AssertUnwindSafe(|| {
        cg.add_task(pid).unwrap();
        assert_eq!(cg.pids().unwrap(), vec![pid]);
        cg.kill_all().unwrap();
    }));
    let _ = child.kill();
    let _ = child.wait();
    cg.remove().unwrap();
    parent.remove().unwrap();
    assert!(!cg.paths()[0].exists());
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// A container over its memory limit is killed by the kernel; the record says so. (Limits
/// are not in the spec yet, so the test sets one on the container's cgroup directly.)
fn oom_kill_is_recorded(s: &Suite) {
    let script =
        "trap 'x=$(head -c 40000000 /dev/zero | tr \"\\0\" a); echo survived; exit 0' USR1; \
                  echo ready; while :; do sleep 0.05; done";
    let mut c = s.case("oom", &["sh", "-c", script]);
    let started = c.start().expect("starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.lines(Stream::Stdout).is_empty() {
        assert!(Instant::now() < deadline, "container never got ready");
        std::thread::sleep(Duration::from_millis(10));
    }
    let (file, limit) = match c.cgroup() {
        Cgroup::V1(v1) => (
            v1.controller_dir("memory")
                .expect("memory controller")
                .join("memory.limit_in_bytes"),
            "16M",
        ),
        Cgroup::V2(v2) => (v2.dir().join("memory.max"), "16M"),
    };
    std::fs::write(&file, limit).expect("set memory limit");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(started.pid),
        nix::sys::signal::Signal::SIGUSR1,
    )
    .unwrap();
    let rec = c.wait_exit();
    assert_eq!(
        (rec.exit_code, rec.signal, rec.oom_killed),
        (137, Some(9), true)
    );
    assert_eq!(c.lines(Stream::Stdout), vec!["ready"]);
}
