//! Isolation and privileges of real containers, as root: capabilities, no_new_privs,
//! `--privileged`, `--init`, pid-namespace isolation between containers and the spec's extra
//! mounts. Like runtime_shim, this binary doubles as berth's shim (`<exe> shim <spec>`).
//! Run: `cargo test -p berth-engine --test runtime_security [-- <name filter>]`.

use berth_engine::logs::Stream;
use berth_engine::runtime::cgroup::CgroupManager;
use berth_engine::runtime::exec::{self, ExecSpec, Report};
use berth_engine::runtime::seccomp::KernelVersion;
use berth_engine::runtime::{self, MountKind, MountSpec, SeccompSpec, SecuritySpec};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Docker's default capability set as /proc/PID/status prints it.
const DOCKER_CAPS: &str = "00000000a80425fb";
const NO_CAPS: &str = "0000000000000000";

mod support;

use support::{alive, Case, Suite, TestCase};

fn main() {
    let cases: &[TestCase] = &[
        (
            "default_capabilities_are_dockers",
            default_capabilities_are_dockers,
        ),
        ("cap_drop_all_leaves_none", cap_drop_all_leaves_none),
        (
            "cap_add_sys_admin_allows_mount",
            cap_add_sys_admin_allows_mount,
        ),
        (
            "unknown_capability_is_refused",
            unknown_capability_is_refused,
        ),
        (
            "non_root_user_has_no_effective_caps",
            non_root_user_has_no_effective_caps,
        ),
        (
            "no_new_privs_is_set_by_default",
            no_new_privs_is_set_by_default,
        ),
        ("privileged_gets_everything", privileged_gets_everything),
        (
            "init_is_pid_1_and_reaps_zombies",
            init_is_pid_1_and_reaps_zombies,
        ),
        (
            "without_init_orphans_stay_zombies",
            without_init_orphans_stay_zombies,
        ),
        ("init_forwards_signals", init_forwards_signals),
        (
            "init_exits_with_the_commands_status",
            init_exits_with_the_commands_status,
        ),
        (
            "init_is_opaque_and_unprivileged",
            init_is_opaque_and_unprivileged,
        ),
        ("init_reports_a_failed_exec", init_reports_a_failed_exec),
        (
            "containers_cannot_see_or_signal_each_other",
            containers_cannot_see_or_signal_each_other,
        ),
        ("bind_and_tmpfs_mounts", bind_and_tmpfs_mounts),
        (
            "symlinks_cannot_send_mounts_to_the_host",
            symlinks_cannot_send_mounts_to_the_host,
        ),
        ("bad_mounts_fail_cleanly", bad_mounts_fail_cleanly),
        (
            "seccomp_default_runs_an_ordinary_workload",
            seccomp_default_runs_an_ordinary_workload,
        ),
        (
            "seccomp_default_refuses_what_docker_refuses",
            seccomp_default_refuses_what_docker_refuses,
        ),
        (
            "seccomp_unconfined_and_privileged_refuse_nothing",
            seccomp_unconfined_and_privileged_refuse_nothing,
        ),
        (
            "seccomp_added_capabilities_unlock_their_calls",
            seccomp_added_capabilities_unlock_their_calls,
        ),
        ("seccomp_ptrace_as_docker", seccomp_ptrace_as_docker),
        (
            "seccomp_without_no_new_privileges",
            seccomp_without_no_new_privileges,
        ),
        ("seccomp_user_profile", seccomp_user_profile),
        ("seccomp_applies_to_exec", seccomp_applies_to_exec),
    ];
    support::main("runtime_security", security_suite, cases);
}

/// One busybox layer shared by every case (with /mnt and an /etc/hostname of its own), and a
/// cgroup parent unique to this run.
fn security_suite() -> Suite {
    let suite = Suite::new("berth-sec-", "berth-sectest");
    std::fs::create_dir_all(suite.lower.join("mnt")).expect("layer dirs");
    std::fs::write(suite.lower.join("etc/hostname"), "from-the-image\n").expect("hostname");
    suite
}

impl Suite {
    fn case(&self, name: &str, args: &[&str]) -> Case {
        let dir = self.case_dir(name, true);
        let args = args.iter().map(|a| a.to_string()).collect();
        let mut spec = self.spec(name, dir.path(), args);
        spec.id = format!("{:0>64}", dir.path().as_os_str().len() * 7 + name.len());
        spec.hostname = "sec".into();
        spec.env = vec!["PATH=/usr/bin:/bin".into(), "HOME=/".into()];
        self.container(dir, spec)
    }
}

impl Case {
    /// Runs the container, expects exit 0, returns its stdout lines.
    fn output(&mut self) -> Vec<String> {
        let rec = self.run();
        assert_eq!(
            rec.exit_code,
            0,
            "stdout {:?} stderr {:?}",
            self.lines(Stream::Stdout),
            self.lines(Stream::Stderr)
        );
        self.lines(Stream::Stdout)
    }

    /// Waits until the container printed `line` on stdout.
    fn wait_for_line(&self, line: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.lines(Stream::Stdout).iter().any(|l| l == line) {
            assert!(
                Instant::now() < deadline,
                "no {line:?} in {:?} / {:?}",
                self.lines(Stream::Stdout),
                self.lines(Stream::Stderr)
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// `Cap*` lines of /proc/self/status, as `name value` pairs.
const CAPS_SCRIPT: &str = "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status \
                           | tr -d '\\t'";

fn status_field<'a>(lines: &'a [String], name: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {name} in {lines:?}"))
}

/// The test process's own bounding set: what a privileged container gets (all of the
/// kernel's capabilities when berth itself runs unconfined).
fn own_caps() -> String {
    let status = std::fs::read_to_string("/proc/self/status").expect("own status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapBnd:"))
        .expect("CapBnd")
        .trim()
        .to_string()
}

// ---- capabilities ----

fn default_capabilities_are_dockers(s: &Suite) {
    let mut c = s.case("caps-default", &["sh", "-c", CAPS_SCRIPT]);
    let out = c.output();
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(status_field(&out, set), DOCKER_CAPS, "{set}: {out:?}");
    }
    // Empty inheritable set: docker's since CVE-2022-24769.
    assert_eq!(status_field(&out, "CapInh"), NO_CAPS);
    assert_eq!(status_field(&out, "CapAmb"), NO_CAPS);
}

fn cap_drop_all_leaves_none(s: &Suite) {
    let mut c = s.case("caps-none", &["sh", "-c", CAPS_SCRIPT]);
    c.spec.security.cap_drop = vec!["ALL".into()];
    let out = c.output();
    for set in ["CapPrm", "CapEff", "CapBnd"] {
        assert_eq!(status_field(&out, set), NO_CAPS, "{set}: {out:?}");
    }
    // Without CAP_CHOWN, root cannot give a file away.
    let mut c = s.case(
        "caps-nochown",
        &[
            "sh",
            "-c",
            "touch /f; chown 5 /f 2>/dev/null && echo chowned || echo denied",
        ],
    );
    c.spec.security.cap_drop = vec!["all".into()];
    assert_eq!(c.output(), vec!["denied"]);
    let mut c = s.case(
        "caps-chown",
        &[
            "sh",
            "-c",
            "touch /f; chown 5 /f 2>/dev/null && echo chowned || echo denied",
        ],
    );
    c.spec.security.cap_drop = vec!["ALL".into()];
    c.spec.security.cap_add = vec!["cap_chown".into()];
    assert_eq!(c.output(), vec!["chowned"]);
}

fn cap_add_sys_admin_allows_mount(s: &Suite) {
    let script = "mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo refused";
    let mut c = s.case("caps-mount-default", &["sh", "-c", script]);
    assert_eq!(c.output(), vec!["refused"]);
    let mut c = s.case("caps-mount-admin", &["sh", "-c", script]);
    c.spec.security.cap_add = vec!["SYS_ADMIN".into()];
    assert_eq!(c.output(), vec!["mounted"]);
    let mut c = s.case("caps-sysadmin", &["sh", "-c", CAPS_SCRIPT]);
    c.spec.security.cap_add = vec!["CAP_SYS_ADMIN".into()];
    c.spec.security.cap_drop = vec!["NET_RAW".into()];
    let out = c.output();
    // + bit 21, - bit 13.
    assert_eq!(status_field(&out, "CapEff"), "00000000a82405fb");
    assert_eq!(status_field(&out, "CapBnd"), "00000000a82405fb");
}

fn unknown_capability_is_refused(s: &Suite) {
    let mut c = s.case("caps-unknown", &["true"]);
    c.spec.security.cap_add = vec!["SYS_WIZARD".into()];
    let err = c.start().expect_err("must not start").to_string();
    assert!(err.contains("unknown capability \"SYS_WIZARD\""), "{err}");
    assert!(c.started.is_none());
    for dir in c.cgroup().paths() {
        assert!(
            !dir.exists(),
            "cgroup {} made for a refused spec",
            dir.display()
        );
    }
    assert!(!c.spec.exit_path.exists());
}

fn non_root_user_has_no_effective_caps(s: &Suite) {
    let mut c = s.case("caps-user", &["sh", "-c", CAPS_SCRIPT]);
    c.spec.uid = 1000;
    c.spec.gid = 1000;
    let out = c.output();
    assert_eq!(status_field(&out, "CapEff"), NO_CAPS, "{out:?}");
    assert_eq!(status_field(&out, "CapPrm"), NO_CAPS, "{out:?}");
    assert_eq!(status_field(&out, "CapBnd"), DOCKER_CAPS, "{out:?}");
}

fn no_new_privs_is_set_by_default(s: &Suite) {
    let mut c = s.case("nnp-on", &["sh", "-c", CAPS_SCRIPT]);
    assert_eq!(status_field(&c.output(), "NoNewPrivs"), "1");
    let mut c = s.case("nnp-off", &["sh", "-c", CAPS_SCRIPT]);
    c.spec.security.no_new_privileges = false;
    assert_eq!(status_field(&c.output(), "NoNewPrivs"), "0");
}

/// A device of the host's /dev that a default container does not get.
fn host_only_device() -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    let standard = [
        "null", "zero", "full", "random", "urandom", "tty", "console", "ptmx",
    ];
    let mut names: Vec<String> = std::fs::read_dir("/dev")
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_type()
                .is_ok_and(|t| t.is_char_device() || t.is_block_device())
        })
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !standard.contains(&n.as_str()))
        .collect();
    names.sort();
    names.into_iter().next()
}

fn privileged_gets_everything(s: &Suite) {
    let device = host_only_device();
    let probe = format!(
        "{CAPS_SCRIPT}; grep ' /sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1; \
         grep -c -E ' /proc/(kcore|keys|sys) ' /proc/mounts; ls /dev | grep -cx '{}' || true",
        device.as_deref().unwrap_or("no-such-device")
    );
    let mut c = s.case("privileged", &["sh", "-c", &probe]);
    c.spec.security.privileged = true;
    let out = c.output();
    let own = own_caps();
    assert_eq!(status_field(&out, "CapEff"), own, "{out:?}");
    assert_eq!(status_field(&out, "CapBnd"), own, "{out:?}");
    let tail = &out[out.len() - 3..];
    assert_eq!(tail[0], "rw", "/sys is writable: {out:?}");
    assert_eq!(
        tail[1], "0",
        "nothing masked or read-only in /proc: {out:?}"
    );
    if device.is_some() {
        assert_eq!(tail[2], "1", "host device {device:?} visible: {out:?}");
    }

    // The same probe unprivileged: the opposite on every line.
    let mut c = s.case("unprivileged", &["sh", "-c", &probe]);
    let out = c.output();
    let tail = &out[out.len() - 3..];
    assert_eq!(tail[0], "ro", "{out:?}");
    assert_ne!(tail[1], "0", "{out:?}");
    assert_eq!(tail[2], "0", "{out:?}");
}

// ---- --init and pid isolation ----

/// Zombie children of `parent` (an exited task leaves its cgroup, so the host's /proc is
/// searched: orphans of the container are reparented to its PID 1).
fn zombies_of(parent: i32) -> Vec<i32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let mut fields = rest.split(' ');
        let (state, ppid) = (fields.next(), fields.next());
        if state == Some("Z") && ppid == Some(parent.to_string().as_str()) {
            found.push(pid);
        }
    }
    found
}

/// `sh` starts a subshell that puts a short sleep in the background and exits: the sleep is
/// orphaned to PID 1, then ends. `sh` itself execs a long sleep, which never reaps anything.
const ORPHAN_SCRIPT: &str = "(sleep 0.1 &); echo $$; cat /proc/1/comm; echo ready; exec sleep 1000";

fn init_is_pid_1_and_reaps_zombies(s: &Suite) {
    let mut c = s.case("init-reaps", &["sh", "-c", ORPHAN_SCRIPT]);
    c.spec.init = true;
    let started = c.start().expect("starts");
    c.wait_for_line("ready");
    std::thread::sleep(Duration::from_millis(600));
    let out = c.lines(Stream::Stdout);
    assert_eq!(
        out[..2],
        ["2", "init"],
        "the command is PID 2 under the init"
    );
    assert_eq!(
        zombies_of(started.pid),
        Vec::<i32>::new(),
        "the init reaps orphans"
    );
    // The init holds no capabilities and cannot be inspected through /proc.
    let status = std::fs::read_to_string(format!("/proc/{}/status", started.pid)).unwrap();
    assert!(status.contains(&format!("CapEff:\t{NO_CAPS}")), "{status}");
    kill(Pid::from_raw(started.pid), Signal::SIGKILL).unwrap();
    let rec = c.wait_exit();
    assert_eq!(rec.exit_code, 137);
}

fn without_init_orphans_stay_zombies(s: &Suite) {
    // Proves the test above can fail: the same command as PID 1 leaves its orphan unreaped.
    let mut c = s.case("noinit-zombie", &["sh", "-c", ORPHAN_SCRIPT]);
    let started = c.start().expect("starts");
    c.wait_for_line("ready");
    let deadline = Instant::now() + Duration::from_secs(5);
    while zombies_of(started.pid).is_empty() {
        assert!(Instant::now() < deadline, "no zombie appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(c.lines(Stream::Stdout)[0], "1");
    kill(Pid::from_raw(started.pid), Signal::SIGKILL).unwrap();
    c.wait_exit();
}

fn init_forwards_signals(s: &Suite) {
    let script = "trap 'echo got-hup' HUP; trap 'echo got-usr1' USR1; \
                  trap 'echo got-term; exit 7' TERM; echo ready; \
                  while :; do sleep 0.05; done";
    let mut c = s.case("init-signals", &["sh", "-c", script]);
    c.spec.init = true;
    let started = c.start().expect("starts");
    let init = Pid::from_raw(started.pid);
    c.wait_for_line("ready");
    kill(init, Signal::SIGHUP).unwrap();
    c.wait_for_line("got-hup");
    kill(init, Signal::SIGUSR1).unwrap();
    c.wait_for_line("got-usr1");
    kill(init, Signal::SIGTERM).unwrap();
    let rec = c.wait_exit();
    assert_eq!((rec.exit_code, rec.signal), (7, None));
    assert_eq!(
        c.lines(Stream::Stdout),
        vec!["ready", "got-hup", "got-usr1", "got-term"]
    );
}

fn init_exits_with_the_commands_status(s: &Suite) {
    let mut c = s.case("init-status", &["sh", "-c", "exit 42"]);
    c.spec.init = true;
    assert_eq!(c.run().exit_code, 42);
    // A command killed by a signal: the init ends with 128 + signal, as docker's does.
    let mut c = s.case("init-killed", &["sleep", "1000"]);
    c.spec.init = true;
    let started = c.start().expect("starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.cgroup().pids().unwrap_or_default().len() < 2 {
        assert!(Instant::now() < deadline, "command never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    kill(Pid::from_raw(started.pid), Signal::SIGTERM).unwrap();
    let rec = c.wait_exit();
    assert_eq!((rec.exit_code, rec.signal), (143, None));
}

fn init_is_opaque_and_unprivileged(s: &Suite) {
    // The init is a copy of berth: the container must not reach the host's binary or the
    // init's memory through /proc/1 (a root command without CAP_SYS_PTRACE).
    let script = "readlink /proc/1/exe 2>/dev/null || echo exe-hidden; \
                  head -c 1 /proc/1/environ 2>/dev/null || echo environ-hidden";
    let mut c = s.case("init-opaque", &["sh", "-c", script]);
    c.spec.init = true;
    assert_eq!(c.output(), vec!["exe-hidden", "environ-hidden"]);
    // With --user the init runs as that user too.
    let mut c = s.case(
        "init-user",
        &[
            "sh",
            "-c",
            "id -u; grep -E '^(Uid|CapEff)' /proc/1/status | tr -d '\\t'",
        ],
    );
    c.spec.init = true;
    c.spec.uid = 1000;
    c.spec.gid = 1000;
    assert_eq!(
        c.output(),
        vec![
            "1000".to_string(),
            "Uid:1000100010001000".to_string(),
            format!("CapEff:{NO_CAPS}")
        ]
    );
}

fn init_reports_a_failed_exec(s: &Suite) {
    let mut c = s.case("init-nosuchcmd", &["/bin/nosuchcmd"]);
    c.spec.init = true;
    let err = c.start().expect_err("must not start").to_string();
    assert_eq!(err, "exec: \"/bin/nosuchcmd\": no such file or directory");
    for dir in c.cgroup().paths() {
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }
}

fn containers_cannot_see_or_signal_each_other(s: &Suite) {
    let mut a = s.case("victim", &["sleep", "1000"]);
    let victim = a.start().expect("victim starts");
    let script = format!(
        "ps -o pid,comm | grep -c sleep; ls /proc | grep -c '^[0-9]'; \
         kill -9 {pid} 2>/dev/null && echo killed-pid || echo no-such-pid; \
         kill -9 -1 2>/dev/null; echo done",
        pid = victim.pid
    );
    let mut b = s.case("attacker", &["sh", "-c", &script]);
    let out = b.output();
    assert_eq!(
        out[0], "0",
        "the other container's sleep is invisible: {out:?}"
    );
    let procs: i32 = out[1].parse().unwrap();
    assert!(
        procs <= 4,
        "only the attacker's processes in /proc: {out:?}"
    );
    assert_eq!(out[2], "no-such-pid", "{out:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        alive(victim.pid),
        "the victim survived kill -9 -1 from another container"
    );
    assert!(runtime::read_exit_record(&a.spec.exit_path)
        .unwrap()
        .is_none());
    kill(Pid::from_raw(victim.pid), Signal::SIGKILL).unwrap();
    a.wait_exit();
}

// ---- mounts ----

fn bind(source: &Path, destination: &str, readonly: bool) -> MountSpec {
    MountSpec {
        kind: MountKind::Bind,
        source: source.to_path_buf(),
        destination: destination.into(),
        readonly,
        options: Default::default(),
    }
}

fn bind_and_tmpfs_mounts(s: &Suite) {
    let host = tempfile::tempdir_in(s.dir.path()).unwrap();
    let (rw, ro) = (host.path().join("rw"), host.path().join("ro"));
    std::fs::create_dir_all(&rw).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(ro.join("kept"), "read me\n").unwrap();
    let hostname = host.path().join("hostname");
    std::fs::write(&hostname, "from-the-engine\n").unwrap();
    let script = "cat /etc/hostname; echo hi > /data/rw/new && echo rw-ok; \
                  cat /data/ro/kept; touch /data/ro/x 2>/dev/null && echo ro-broken || echo ro-ok; \
                  echo x > /etc/hostname 2>/dev/null && echo file-rw || echo file-ro; \
                  grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4; \
                  touch /scratch/t && echo tmpfs-ok";
    let mut c = s.case("mounts", &["sh", "-c", script]);
    c.spec.mounts = vec![
        bind(&hostname, "/etc/hostname", true),
        bind(&rw, "/data/rw", false),
        bind(&ro, "/data/ro/", true),
        MountSpec {
            kind: MountKind::Tmpfs,
            source: PathBuf::new(),
            destination: "/scratch".into(),
            readonly: false,
            options: Default::default(),
        },
    ];
    let out = c.output();
    assert_eq!(
        out,
        vec![
            "from-the-engine",
            "rw-ok",
            "read me",
            "ro-ok",
            "file-ro",
            "tmpfs rw,nosuid,nodev,noexec,relatime",
            "tmpfs-ok"
        ]
    );
    assert_eq!(std::fs::read_to_string(rw.join("new")).unwrap(), "hi\n");
    assert!(!ro.join("x").exists());
    assert_eq!(
        std::fs::read_to_string(&hostname).unwrap(),
        "from-the-engine\n"
    );
    // The mount points were made in the container's upper layer, not in the image.
    assert!(c.spec.rootfs.upper.join("data/rw").is_dir());
    assert!(!s.lower.join("data").exists());
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    assert!(!mounts.contains(c.spec.rootfs.mountpoint.to_str().unwrap()));
}

fn symlinks_cannot_send_mounts_to_the_host(s: &Suite) {
    let host = tempfile::tempdir_in(s.dir.path()).unwrap();
    let secret = host.path().join("secret");
    std::fs::create_dir_all(&secret).unwrap();
    let target = host.path().join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("planted"), "planted\n").unwrap();
    let script = "cat /escape-abs/x/planted /escape-rel/y/planted";
    let mut c = s.case("escape", &["sh", "-c", script]);
    // The "image" (here the upper layer) carries symlinks pointing at the host's directory,
    // absolutely and through enough `..` to climb out of the rootfs.
    let upper = &c.spec.rootfs.upper;
    std::os::unix::fs::symlink(&secret, upper.join("escape-abs")).unwrap();
    let climb = format!("{}{}", "../".repeat(20), secret.display());
    std::os::unix::fs::symlink(&climb, upper.join("escape-rel")).unwrap();
    c.spec.mounts = vec![
        bind(&target, "/escape-abs/x", false),
        bind(&target, "/escape-rel/y", false),
    ];
    assert_eq!(c.output(), vec!["planted", "planted"]);
    // Nothing was created or mounted in the host's directory…
    assert_eq!(
        std::fs::read_dir(&secret).unwrap().count(),
        0,
        "host dir touched"
    );
    // …the mounts went to the same path inside the rootfs instead.
    let inside = c.spec.rootfs.upper.join(secret.strip_prefix("/").unwrap());
    assert!(inside.join("x").is_dir() && inside.join("y").is_dir());
}

fn bad_mounts_fail_cleanly(s: &Suite) {
    let mut c = s.case("mount-relative", &["true"]);
    c.spec.mounts = vec![bind(Path::new("/etc"), "data", false)];
    let err = c.start().expect_err("relative destination").to_string();
    assert!(err.contains("is not absolute"), "{err}");

    let mut c = s.case("mount-nosource", &["true"]);
    c.spec.mounts = vec![bind(Path::new("/nonexistent/berth-src"), "/data", false)];
    let err = c.start().expect_err("missing source").to_string();
    assert!(err.contains("/nonexistent/berth-src"), "{err}");
    for dir in c.cgroup().paths() {
        assert!(!dir.exists(), "cgroup {} left behind", dir.display());
    }

    // A directory onto a file of the image.
    let mut c = s.case("mount-kind", &["true"]);
    c.spec.mounts = vec![bind(s.dir.path(), "/etc/hostname", false)];
    let err = c.start().expect_err("dir onto file").to_string();
    assert!(err.contains("cannot bind directory"), "{err}");
}

// ---- seccomp ----

/// This test binary at /probe (support::probe makes single system calls with it), with the
/// host's libraries it loads, read-only.
fn probe_mounts() -> Vec<MountSpec> {
    let exe = std::env::current_exe().expect("current exe");
    let mut mounts = vec![bind(&exe, "/probe", true)];
    for dir in ["/lib", "/lib64"] {
        // Merged /usr: /lib is a symlink on the host; the container gets the directory.
        let real = std::fs::canonicalize(dir).expect("host library dir");
        mounts.push(bind(&real, dir, true));
    }
    mounts
}

/// A case running `script` with /probe available.
fn probe_case(s: &Suite, name: &str, script: &str) -> Case {
    let mut c = s.case(name, &["sh", "-c", script]);
    c.spec.mounts.extend(probe_mounts());
    c
}

/// `call=answer` lines for each probe, in order (support::probe).
fn probe_script(calls: &[&str]) -> String {
    calls
        .iter()
        .map(|call| format!("echo \"{call}=$(/probe {call} 2>&1)\""))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The answers of `probe_script(calls)` by call.
fn answers(out: &[String]) -> std::collections::BTreeMap<String, String> {
    out.iter()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Every probe of the filter's decisions: keyrings, swap, ptrace's relatives, namespaces,
/// clone3, personality.
const CALLS: &[&str] = &[
    "keyctl",
    "add_key",
    "request_key",
    "swapon",
    "swapoff",
    "kcmp",
    "clone-newuser",
    "clone3",
    "personality 40000",
    "personality 8",
    "personality ffffffff",
    "thread",
];

/// Runs every probe plus busybox's unshare and mount in a container made by `setup`.
fn probe_all(s: &Suite, name: &str, setup: impl FnOnce(&mut Case)) -> BTreeMap<String, String> {
    let script = format!(
        "{}; unshare -U true 2>/dev/null && echo unshare-user=ok || echo unshare-user=refused; \
         unshare -m true 2>/dev/null && echo unshare-mount=ok || echo unshare-mount=refused; \
         mount -t tmpfs none /mnt 2>/dev/null && echo mount=ok || echo mount=refused; \
         grep '^Seccomp:' /proc/self/status | tr -d '\\t' | tr : =",
        probe_script(CALLS)
    );
    let mut c = probe_case(s, name, &script);
    setup(&mut c);
    answers(&c.output())
}

use std::collections::BTreeMap;

fn expect(got: &BTreeMap<String, String>, want: &[(&str, &str)]) {
    for (call, answer) in want {
        assert_eq!(
            got.get(*call).map(String::as_str),
            Some(*answer),
            "{call}: {got:?}"
        );
    }
}

fn seccomp_default_runs_an_ordinary_workload(s: &Suite) {
    let script = "echo ok; cat /proc/self/status > /tmp/status; \
                  grep -E '^(Seccomp|Seccomp_filters|NoNewPrivs):' /tmp/status | tr -d '\\t'; \
                  ls / > /dev/null && echo ls-ok; (sleep 0.01; echo subshell-ok) | cat; \
                  date +%Y > /dev/null && echo date-ok; /probe thread";
    let mut c = probe_case(s, "seccomp-workload", script);
    assert_eq!(
        c.output(),
        [
            "ok",
            "NoNewPrivs:1",
            "Seccomp:2",
            "Seccomp_filters:1",
            "ls-ok",
            "subshell-ok",
            "date-ok",
            "ok"
        ]
    );
}

fn seccomp_default_refuses_what_docker_refuses(s: &Suite) {
    let got = probe_all(s, "seccomp-default", |_| {});
    expect(
        &got,
        &[
            ("Seccomp", "2"),
            // Keyrings are not namespaced: refused outright.
            ("keyctl", "EPERM"),
            ("add_key", "EPERM"),
            ("request_key", "EPERM"),
            ("swapon", "EPERM"),
            ("swapoff", "EPERM"),
            // kcmp is for CAP_SYS_PTRACE only.
            ("kcmp", "EPERM"),
            // No new namespaces without CAP_SYS_ADMIN, not even a user namespace (which the
            // kernel alone would allow: see the unconfined case).
            ("clone-newuser", "EPERM"),
            ("unshare-user", "refused"),
            ("unshare-mount", "refused"),
            ("mount", "refused"),
            // clone3 answers ENOSYS, so the C library falls back to clone: threads work.
            ("clone3", "ENOSYS"),
            ("thread", "ok"),
            // personality: PER_LINUX32 and the query pass, ADDR_NO_RANDOMIZE does not.
            ("personality 40000", "EPERM"),
            ("personality 8", "ok"),
            ("personality ffffffff", "ok"),
        ],
    );
}

fn seccomp_unconfined_and_privileged_refuse_nothing(s: &Suite) {
    // The same probes: what the kernel itself answers (so the EPERMs above were the filter's).
    let unconfined = probe_all(s, "seccomp-unconfined", |c| {
        c.spec.security.seccomp = SeccompSpec::Unconfined;
    });
    expect(
        &unconfined,
        &[
            ("Seccomp", "0"),
            ("keyctl", "EOPNOTSUPP"),
            ("add_key", "ENODEV"),
            ("request_key", "ENOKEY"),
            // Without CAP_SYS_ADMIN the kernel refuses swapon itself.
            ("swapon", "EPERM"),
            ("kcmp", "ok"),
            ("clone-newuser", "ok"),
            ("unshare-user", "ok"),
            ("unshare-mount", "refused"),
            ("clone3", "EINVAL"),
            ("personality 40000", "ok"),
            ("thread", "ok"),
        ],
    );
    let privileged = probe_all(s, "seccomp-privileged", |c| {
        c.spec.security.privileged = true;
    });
    expect(
        &privileged,
        &[
            ("Seccomp", "0"),
            ("keyctl", "EOPNOTSUPP"),
            ("swapon", "ENOENT"),
            ("swapoff", "ENOENT"),
            ("kcmp", "ok"),
            ("unshare-user", "ok"),
            ("unshare-mount", "ok"),
            ("mount", "ok"),
            ("clone3", "EINVAL"),
        ],
    );
}

fn seccomp_added_capabilities_unlock_their_calls(s: &Suite) {
    let admin = probe_all(s, "seccomp-sysadmin", |c| {
        c.spec.security.cap_add = vec!["SYS_ADMIN".into()];
    });
    expect(
        &admin,
        &[
            ("Seccomp", "2"),
            ("mount", "ok"),
            ("unshare-mount", "ok"),
            ("unshare-user", "ok"),
            ("clone-newuser", "ok"),
            ("clone3", "EINVAL"),
            // As docker's: swap stays refused by the filter even with CAP_SYS_ADMIN (the
            // kernel would answer ENOENT: see the privileged case), and so do keyrings.
            ("swapon", "EPERM"),
            ("keyctl", "EPERM"),
            ("kcmp", "EPERM"),
        ],
    );
    let ptrace = probe_all(s, "seccomp-sysptrace", |c| {
        c.spec.security.cap_add = vec!["SYS_PTRACE".into()];
    });
    expect(
        &ptrace,
        &[("kcmp", "ok"), ("mount", "refused"), ("keyctl", "EPERM")],
    );
}

fn seccomp_ptrace_as_docker(s: &Suite) {
    // ptrace of a sibling: docker's default allows the call from Linux 4.8 on (a tracer can
    // no longer bypass its tracee's filter), then the kernel's own checks decide (same user,
    // same capabilities: allowed). Before 4.8 it needs CAP_SYS_PTRACE.
    let script = "sleep 30 & echo \"ptrace=$(/probe ptrace $!)\"; kill $!";
    let mut c = probe_case(s, "seccomp-ptrace", script);
    let kernel = KernelVersion::running().expect("kernel version");
    let want = if kernel >= KernelVersion(4, 8) {
        "ptrace=ok"
    } else {
        "ptrace=EPERM"
    };
    assert_eq!(c.output(), [want]);
    // With a profile that leaves ptrace out, the same call is the filter's EPERM.
    let mut c = probe_case(s, "seccomp-noptrace", script);
    c.spec.security.seccomp = SeccompSpec::Profile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_ERRNO"}]}"#
            .into(),
    );
    assert_eq!(c.output(), ["ptrace=EPERM"]);
}

fn seccomp_without_no_new_privileges(s: &Suite) {
    // Without no_new_privs the init installs the filter while it still holds CAP_SYS_ADMIN
    // (seccomp(2)), before it becomes the container's user: root, and a user with no
    // capabilities at all.
    for (name, uid) in [("seccomp-nnp-off-root", 0), ("seccomp-nnp-off-user", 1000)] {
        let script = format!(
            "{}; grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status | tr -d '\\t' | tr : =",
            probe_script(&["keyctl", "thread"])
        );
        let mut c = probe_case(s, name, &script);
        c.spec.security.no_new_privileges = false;
        c.spec.uid = uid;
        c.spec.gid = uid;
        expect(
            &answers(&c.output()),
            &[
                ("keyctl", "EPERM"),
                ("thread", "ok"),
                ("Seccomp", "2"),
                ("NoNewPrivs", "0"),
            ],
        );
    }
}

fn seccomp_user_profile(s: &Suite) {
    // docker's format: allow everything but mkdir (EACCES) and keyctl (ENOSYS).
    let profile = r#"{
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [{"architecture": "SCMP_ARCH_X86_64",
                     "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
        "syscalls": [
            {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
        ]
    }"#;
    let script = format!(
        "mkdir /made 2>&1 | grep -o 'Permission denied'; {}",
        probe_script(&["keyctl", "kcmp", "clone-newuser"])
    );
    let mut c = probe_case(s, "seccomp-profile", &script);
    c.spec.security.seccomp = SeccompSpec::Profile(profile.into());
    let out = c.output();
    assert_eq!(out[0], "Permission denied", "{out:?}");
    expect(
        &answers(&out),
        &[
            ("keyctl", "ENOSYS"),
            ("kcmp", "ok"),
            ("clone-newuser", "ok"),
        ],
    );
    // A profile that cannot be compiled is refused before anything runs.
    let mut c = s.case("seccomp-bad-profile", &["true"]);
    c.spec.security.seccomp = SeccompSpec::Profile(
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["no_such_call"], "action": "SCMP_ACT_ERRNO"}]}"#
            .into(),
    );
    let err = c.start().expect_err("must not start").to_string();
    assert!(
        err.contains("unknown system call \"no_such_call\""),
        "{err}"
    );
    assert!(c.started.is_none());
}

/// Runs `args` in the running container `c` through the exec helper; its stdout lines.
fn exec_in(
    c: &Case,
    security: SecuritySpec,
    container: SecuritySpec,
    args: &[&str],
) -> Vec<String> {
    let started = c.started.expect("running");
    let spec = ExecSpec {
        init_pid: started.pid,
        cgroup_path: c.spec.cgroup_path.clone(),
        args: args.iter().map(|a| a.to_string()).collect(),
        env: c.spec.env.clone(),
        cwd: "/".into(),
        uid: 0,
        gid: 0,
        groups: vec![],
        security,
        seccomp: support::seccomp_of(&container),
        tty: false,
        console_size: None,
    };
    let path = c.dir.path().join("exec.json");
    std::fs::write(&path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let exe = std::env::current_exe().expect("current exe");
    let (mut command, report) = exec::command(&exe, &path).expect("exec command");
    command.stdout(std::process::Stdio::piped());
    let child = command.spawn().expect("exec helper");
    drop(command);
    match exec::read_report(&report) {
        Report::Started { .. } => {}
        Report::Failed { code, message } => panic!("exec failed ({code}): {message}"),
    }
    let out = child.wait_with_output().expect("exec output");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn seccomp_applies_to_exec(s: &Suite) {
    let status = "grep '^Seccomp:' /proc/self/status | tr -d '\\t'; /probe keyctl; /probe kcmp";
    let mut c = probe_case(s, "seccomp-exec", "sleep 1000");
    let default = c.spec.security.clone();
    c.start().expect("starts");
    let out = exec_in(&c, default.clone(), default.clone(), &["sh", "-c", status]);
    assert_eq!(out, ["Seccomp:2", "EPERM", "EPERM"]);
    // exec --privileged gets every capability but keeps the container's filter (docker's):
    // kcmp is still refused, because the container has no CAP_SYS_PTRACE.
    let privileged = SecuritySpec {
        privileged: true,
        ..default.clone()
    };
    let out = exec_in(&c, privileged, default.clone(), &["sh", "-c", status]);
    assert_eq!(out, ["Seccomp:2", "EPERM", "EPERM"]);
    // Without no_new_privs: installed before the user switch, still in force.
    let nnp_off = SecuritySpec {
        no_new_privileges: false,
        ..default.clone()
    };
    let out = exec_in(&c, nnp_off.clone(), nnp_off, &["sh", "-c", status]);
    assert_eq!(out, ["Seccomp:2", "EPERM", "EPERM"]);
    // An unconfined container's execs are unconfined.
    let unconfined = SecuritySpec {
        seccomp: SeccompSpec::Unconfined,
        ..default
    };
    let out = exec_in(&c, unconfined.clone(), unconfined, &["sh", "-c", status]);
    assert_eq!(out, ["Seccomp:0", "EOPNOTSUPP", "ok"]);
}
