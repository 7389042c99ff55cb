//! Isolation and privileges of real containers, as root: capabilities, no_new_privs,
//! `--privileged`, `--init`, pid-namespace isolation between containers and the spec's extra
//! mounts. Like runtime_shim, this binary doubles as berth's shim (`<exe> shim <spec>`).
//! Run: `cargo test -p berth-engine --test runtime_security [-- <name filter>]`.

use berth_engine::logs::Stream;
use berth_engine::runtime::cgroup::CgroupManager;
use berth_engine::runtime::{self, MountKind, MountSpec};
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
