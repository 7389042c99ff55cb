//! Real containers against the devices cgroup, as root, on whichever hierarchy the host has
//! (v1 `devices.*` here; a BPF device program inside the VM of scripts/test-cgroup-v2.sh): a
//! default container may create any node but open only its /dev's, a privileged one opens
//! anything; `--device` nodes are made and opened exactly as their permissions say. This binary doubles as berth's shim (`<exe> shim <spec>`).
//! Run: `cargo test -p berth-engine --test runtime_devices [-- <name filter>]`.

use berth_engine::container::devices;
use berth_engine::runtime::cgroup::{
    self, Cgroup, CgroupManager, CgroupV2, DevicePolicy, CGROUP_ROOT, DEFAULT_RULES,
};
use berth_engine::runtime::{DeviceSpec, SecuritySpec};
use berth_testkit::devnode;
use berth_wire::container::DeviceMapping;
use std::collections::{BTreeSet, HashMap};
use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod support;

use support::{Case, Suite, TestCase};

fn main() {
    let cases: &[TestCase] = &[
        (
            "default_denies_opening_nodes_outside_the_list",
            default_denies_opening_nodes_outside_the_list,
        ),
        (
            "default_allows_the_dev_nodes_and_ptys",
            default_allows_the_dev_nodes_and_ptys,
        ),
        ("privileged_opens_any_device", privileged_opens_any_device),
        (
            "user_devices_are_made_and_allowed_exactly",
            user_devices_are_made_and_allowed_exactly,
        ),
        (
            "privileged_user_devices_ignore_permissions",
            privileged_user_devices_ignore_permissions,
        ),
        (
            "bpf_filter_on_a_cgroup2_mount",
            bpf_filter_on_a_cgroup2_mount,
        ),
    ];
    support::main("runtime_devices", devices_suite, cases);
}

/// One busybox layer shared by every case, and a cgroup parent unique to this run; what a case
/// leaves running is killed through its cgroup.
fn devices_suite() -> Suite {
    let mut suite = Suite::new("berth-dev-", "berth-devtest");
    suite.kill_cgroup = true;
    suite.gone_within = Duration::from_secs(20);
    println!(
        "runtime_devices: cgroup {:?}",
        cgroup::detect(Path::new(CGROUP_ROOT))
    );
    suite
}

impl Suite {
    /// A container running `PROBE` then `script` as root, with docker's default security or
    /// `--privileged`.
    fn case(&self, name: &str, script: &str, privileged: bool) -> Case {
        self.case_with_devices(name, script, privileged, Vec::new())
    }

    /// [`Suite::case`] with `--device` nodes.
    fn case_with_devices(
        &self,
        name: &str,
        script: &str,
        privileged: bool,
        devices: Vec<DeviceSpec>,
    ) -> Case {
        let dir = self.case_dir(name, false);
        let args = vec!["sh".into(), "-c".into(), format!("{PROBE}\n{script}")];
        let mut spec = self.spec(name, dir.path(), args);
        spec.hostname = "devices".into();
        spec.security = SecuritySpec {
            privileged,
            ..Default::default()
        };
        spec.devices = devices;
        self.container(dir, spec)
    }
}

/// A shell function: `try NAME CMD…` runs CMD and appends "NAME STATUS STDERR" to /tmp/out.
const PROBE: &str = r#"try() { n=$1; shift; "$@" >/dev/null 2>/tmp/err; echo "$n $? $(cat /tmp/err)" >>/tmp/out; }"#;

/// What `try` recorded: the status and the error message.
struct Outcome {
    status: i32,
    message: String,
}

impl Case {
    /// The probes' outcomes, once the script has written its last line ("end").
    fn outcomes(&self) -> HashMap<String, Outcome> {
        let out = self.spec.rootfs.upper.join("tmp/out");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            if text.lines().any(|l| l.starts_with("end ")) {
                return text
                    .lines()
                    .filter_map(|line| {
                        let mut parts = line.splitn(3, ' ');
                        let name = parts.next()?.to_string();
                        let status = parts.next()?.parse().ok()?;
                        let message = parts.next().unwrap_or("").to_string();
                        Some((name, Outcome { status, message }))
                    })
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "the container never finished; it wrote {text:?}; log: {:?}",
                std::fs::read(&self.spec.log_path)
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn get<'a>(outcomes: &'a HashMap<String, Outcome>, name: &str) -> &'a Outcome {
    outcomes
        .get(name)
        .unwrap_or_else(|| panic!("no outcome for {name}"))
}

fn assert_ok(outcomes: &HashMap<String, Outcome>, name: &str) {
    let o = get(outcomes, name);
    assert_eq!(o.status, 0, "{name} failed: {}", o.message);
}

/// Failed with `want` in its message (e.g. "Operation not permitted" for EPERM).
fn assert_fails_with(outcomes: &HashMap<String, Outcome>, name: &str, want: &str) {
    let o = get(outcomes, name);
    assert_ne!(o.status, 0, "{name} succeeded");
    assert!(
        o.message.contains(want),
        "{name}: {:?}, not {want:?}",
        o.message
    );
}

const EPERM: &str = "Operation not permitted";

/// The v1 devices.list of the running container, or `None` on v2 (no such file there).
fn v1_device_list(c: &Case) -> Option<BTreeSet<String>> {
    match c.cgroup() {
        Cgroup::V1(v1) => {
            let dir = v1.controller_dir("devices").expect("devices controller");
            let list = std::fs::read_to_string(dir.join("devices.list")).expect("devices.list");
            Some(list.lines().map(str::to_string).collect())
        }
        Cgroup::V2(_) => None,
    }
}

// ---- cases ----

/// Nodes of a disk and of /dev/kmsg may be created but not opened. /dev/kmsg opened for
/// writing needs no capability, so only the device rules refuse it (the privileged case
/// below opens it); block 8:0 would otherwise open or fail with ENXIO, never EPERM.
fn default_denies_opening_nodes_outside_the_list(s: &Suite) {
    let script = r#"
try mknod_disk mknod /tmp/sda b 8 0
try open_disk head -c 1 /tmp/sda
try mknod_kmsg mknod /tmp/kmsg c 1 11
try open_kmsg sh -c 'exec 3>/tmp/kmsg'
try open_disk_rw sh -c 'exec 3<>/tmp/sda'
echo "end 0" >>/tmp/out
sleep 1000
"#;
    let mut c = s.case("deny", script, false);
    c.start().expect("start");
    let o = c.outcomes();
    assert_ok(&o, "mknod_disk");
    assert_ok(&o, "mknod_kmsg");
    assert_fails_with(&o, "open_disk", EPERM);
    assert_fails_with(&o, "open_kmsg", EPERM);
    assert_fails_with(&o, "open_disk_rw", EPERM);
    if let Some(list) = v1_device_list(&c) {
        let want: BTreeSet<String> = DEFAULT_RULES.iter().map(|r| r.v1_line()).collect();
        assert_eq!(list, want, "v1 devices.list");
    }
}

/// /dev's nodes work, a node the container makes of null works, and the container's own
/// ptys open: a new pty's slave is locked (EIO), which the kernel says only after the
/// device rules let the open through.
fn default_allows_the_dev_nodes_and_ptys(s: &Suite) {
    let script = r#"
try dev_null sh -c 'echo x >/dev/null'
try dev_zero sh -c '[ "$(head -c 4 /dev/zero | wc -c)" -eq 4 ]'
try dev_random sh -c '[ "$(head -c 4 /dev/random | wc -c)" -eq 4 ]'
try dev_urandom sh -c '[ "$(head -c 4 /dev/urandom | wc -c)" -eq 4 ]'
try dev_full sh -c 'echo x >/dev/full'
try dev_tty sh -c 'exec 3<>/dev/tty'
try mknod_null mknod /tmp/null c 1 3
try open_made_null sh -c 'echo x >/tmp/null && [ ! -s /tmp/null ]'
try ptmx sh -c 'exec 3<>/dev/ptmx && [ -e /dev/pts/0 ]'
try pts sh -c 'exec 3<>/dev/ptmx; exec 4<>/dev/pts/0'
echo "end 0" >>/tmp/out
"#;
    let mut c = s.case("allow", script, false);
    c.start().expect("start");
    let o = c.outcomes();
    for name in [
        "dev_null",
        "dev_zero",
        "dev_random",
        "dev_urandom",
        "mknod_null",
        "open_made_null",
        "ptmx",
    ] {
        assert_ok(&o, name);
    }
    // Opened, then the write fails (ENOSPC); no controlling terminal (ENXIO).
    assert_fails_with(&o, "dev_full", "No space left on device");
    assert_fails_with(&o, "dev_tty", "No such device or address");
    assert_fails_with(&o, "pts", "Input/output error");
}

/// `--privileged`: no device rule at all, so /dev/kmsg opens and a disk node at most fails
/// with "no such device".
fn privileged_opens_any_device(s: &Suite) {
    let script = r#"
try mknod_kmsg mknod /tmp/kmsg c 1 11
try open_kmsg sh -c 'exec 3>/tmp/kmsg'
try mknod_disk mknod /tmp/sda b 8 0
try open_disk sh -c 'exec 3</tmp/sda'
echo "end 0" >>/tmp/out
sleep 1000
"#;
    let mut c = s.case("privileged", script, true);
    c.start().expect("start");
    let o = c.outcomes();
    assert_ok(&o, "mknod_kmsg");
    assert_ok(&o, "open_kmsg");
    assert_ok(&o, "mknod_disk");
    let disk = get(&o, "open_disk");
    assert!(
        disk.status == 0 || !disk.message.contains(EPERM),
        "privileged disk open: {}",
        disk.message
    );
    if let Some(list) = v1_device_list(&c) {
        assert_eq!(list, BTreeSet::from(["a *:* rwm".to_string()]));
    }
}

/// A char node `major:minor` made on the host at `path`, mode and owner set exactly.
fn host_node(path: &Path, major: u32, minor: u32, mode: u32, owner: (u32, u32)) {
    devnode::char_node(path, major, minor, mode, owner.0, owner.1).expect("mknod on the host");
}

fn mapping(host: &Path, container: &str, permissions: &str) -> DeviceMapping {
    DeviceMapping {
        path_on_host: host.display().to_string(),
        path_in_container: container.into(),
        cgroup_permissions: permissions.into(),
    }
}

const ENXIO: &str = "No such device or address";

/// `--device`: nodes of an unregistered major (berth_testkit::devnode), read-only and
/// read-write, and the host's zero at /dev/null. Each node has the host node's numbers, mode
/// and owner; the rules allow exactly the numbers given with exactly their access (an open
/// they let through fails with ENXIO, one they refuse with EPERM); a default node a device
/// replaces is not made.
fn user_devices_are_made_and_allowed_exactly(s: &Suite) {
    let major = devnode::free_char_major().expect("a free char major");
    let (ro, rw) = (s.dir.path().join("ro"), s.dir.path().join("rw"));
    host_node(&ro, major, 0, 0o640, (1234, 5678));
    host_node(&rw, major, 1, 0o600, (0, 0));
    let nodes = devices::resolve_all(&[
        mapping(&ro, "/dev/ro", "r"),
        mapping(&rw, "/dev/sub/rw", "rw"),
        mapping(Path::new("/dev/zero"), "/dev/null", "rwm"),
    ])
    .expect("resolve the devices");
    let script = format!(
        r#"
try stat_ro sh -c '[ "$(stat -c "%F %t:%T %a %u:%g" /dev/ro)" = "character special file {major:x}:0 640 1234:5678" ]'
try stat_rw sh -c '[ "$(stat -c "%t:%T %a" /dev/sub/rw)" = "{major:x}:1 600" ]'
try null_is_zero sh -c '[ "$(stat -c "%t:%T" /dev/null)" = "1:5" ]'
try ro_read sh -c 'exec 3</dev/ro'
try ro_write sh -c 'exec 3>/dev/ro'
try rw_read sh -c 'exec 3</dev/sub/rw'
try rw_write sh -c 'exec 3>/dev/sub/rw'
try mknod_other mknod /tmp/other c {major} 2
try other_read sh -c 'exec 3</tmp/other'
try mknod_ro mknod /tmp/ro c {major} 0
try made_ro_read sh -c 'exec 3</tmp/ro'
try made_ro_write sh -c 'exec 3>/tmp/ro'
echo "end 0" >>/tmp/out
sleep 1000
"#
    );
    let mut c = s.case_with_devices("user", &script, false, nodes);
    c.start().expect("start");
    let o = c.outcomes();
    for name in [
        "stat_ro",
        "stat_rw",
        "null_is_zero",
        "mknod_other",
        "mknod_ro",
    ] {
        assert_ok(&o, name);
    }
    for name in ["ro_read", "rw_read", "rw_write", "made_ro_read"] {
        assert_fails_with(&o, name, ENXIO);
    }
    for name in ["ro_write", "other_read", "made_ro_write"] {
        assert_fails_with(&o, name, EPERM);
    }
    if let Some(list) = v1_device_list(&c) {
        let mut want: BTreeSet<String> = DEFAULT_RULES.iter().map(|r| r.v1_line()).collect();
        want.insert(format!("c {major}:0 r"));
        want.insert(format!("c {major}:1 rw"));
        assert_eq!(list, want, "v1 devices.list");
    }
}

/// `--privileged` with `--device`: every device is allowed whatever the permissions say, and
/// the node is still made at its container path.
fn privileged_user_devices_ignore_permissions(s: &Suite) {
    let major = devnode::free_char_major().expect("a free char major");
    let ro = s.dir.path().join("pro");
    host_node(&ro, major, 4, 0o644, (0, 0));
    let nodes = devices::resolve_all(&[mapping(&ro, "/dev/pro", "r")]).expect("resolve");
    let script = r#"
try write sh -c 'exec 3>/dev/pro'
echo "end 0" >>/tmp/out
sleep 1000
"#;
    let mut c = s.case_with_devices("privdev", script, true, nodes);
    c.start().expect("start");
    let o = c.outcomes();
    assert_fails_with(&o, "write", ENXIO);
}

/// The v2 program straight on a cgroup2 mount (the root in the VM, `unified` on a hybrid
/// host, where the kernel runs it before the v1 rules): a process in the cgroup opens
/// /dev/null but not /dev/kmsg; without the program (AllowAll) it opens both.
fn bpf_filter_on_a_cgroup2_mount(s: &Suite) {
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
    if !Path::new("/dev/kmsg").exists() {
        println!("  (no /dev/kmsg here)");
        return;
    }
    let parent = CgroupV2::new(root, &format!("{}-bpf", s.cgroup_parent)).unwrap();
    let run = |name: &str, policy: DevicePolicy| {
        let cg = CgroupV2::new(root, &format!("{}-bpf/{name}", s.cgroup_parent)).unwrap();
        cg.create().unwrap();
        let result = catch_unwind(AssertUnwindSafe(|| {
            cg.restrict_devices(&policy).expect("restrict devices");
            let procs = CString::new(
                cg.dir()
                    .join("cgroup.procs")
                    .into_os_string()
                    .into_encoded_bytes(),
            )
            .unwrap();
            let mut cmd = Command::new("/bin/busybox");
            cmd.args([
                "sh",
                "-c",
                "exec 3>/dev/null && echo null-ok && exec 4>/dev/kmsg",
            ]);
            // SAFETY: open(2) and write(2) only, in the child before exec; "0" moves the
            // writer itself into the cgroup (cgroup.procs, cgroup-v2.rst).
            unsafe {
                cmd.pre_exec(move || {
                    let fd = libc::open(procs.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                    Ok(())
                });
            }
            cmd.output().expect("run busybox in the cgroup")
        }));
        cg.remove().unwrap();
        match result {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    };
    let restricted = run("restricted", DevicePolicy::default());
    let open = run("open", DevicePolicy::AllowAll);
    parent.remove().unwrap();
    let stderr = String::from_utf8_lossy(&restricted.stderr);
    assert_eq!(String::from_utf8_lossy(&restricted.stdout), "null-ok\n");
    assert!(
        !restricted.status.success() && stderr.contains(EPERM),
        "{stderr}"
    );
    assert!(
        open.status.success(),
        "{}",
        String::from_utf8_lossy(&open.stderr)
    );
}
