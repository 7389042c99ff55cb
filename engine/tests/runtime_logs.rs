//! Real containers, as root: the shim rotates a chatty container's log as its spec says, and
//! a reader following the log while it rotates sees every line once, in order. This binary
//! doubles as berth's shim (`<exe> shim <spec>`).
//! Run: `cargo test -p berth-engine --test runtime_logs [-- <name filter>]`.

use berth_engine::logs::{self, LogReader, ReadOptions};
use berth_engine::runtime::cgroup::{Cgroup, CgroupManager, CGROUP_ROOT};
use berth_engine::runtime::{self, ContainerSpec, Started};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

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
        println!("runtime_logs: skipped, real containers need root");
        return;
    }
    let filters: Vec<&String> = args[1..].iter().filter(|a| !a.starts_with('-')).collect();
    let cases: &[TestCase] = &[
        (
            "follower_sees_every_line_while_the_shim_rotates",
            follower_sees_every_line_while_the_shim_rotates,
        ),
        (
            "rotation_keeps_max_files_and_the_newest_lines",
            rotation_keeps_max_files_and_the_newest_lines,
        ),
    ];
    let suite = Suite::new();
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        match catch_unwind(AssertUnwindSafe(|| case(&suite))) {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(_) => {
                failed += 1;
                println!("test {name} ... FAILED");
            }
        }
    }
    drop(suite);
    println!("runtime_logs: {passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

/// A busybox layer shared by the cases and a cgroup parent unique to this run.
struct Suite {
    dir: tempfile::TempDir,
    lower: PathBuf,
    cgroup_parent: String,
}

impl Suite {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-rtlogs-")
            .tempdir()
            .expect("temp dir");
        let lower = dir.path().join("layer");
        for sub in ["bin", "etc", "tmp", "proc", "sys", "dev"] {
            std::fs::create_dir_all(lower.join(sub)).expect("layer dirs");
        }
        std::fs::copy("/bin/busybox", lower.join("bin/busybox")).expect("copy /bin/busybox");
        for applet in ["sh", "seq"] {
            std::os::unix::fs::symlink("busybox", lower.join("bin").join(applet))
                .expect("applet link");
        }
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Suite {
            dir,
            lower,
            cgroup_parent: format!("berth-logtest-{}-{nanos}", std::process::id()),
        }
    }

    /// A container running `args` whose log rotates at `max_size` bytes, keeping `max_files`.
    fn case(&self, name: &str, args: &[&str], max_size: u64, max_files: u32) -> Case {
        let dir = tempfile::Builder::new()
            .prefix(&format!("{name}-"))
            .tempdir_in(self.dir.path())
            .expect("case dir");
        for sub in ["upper", "work", "rootfs"] {
            std::fs::create_dir(dir.path().join(sub)).expect("case dirs");
        }
        // Through JSON, so fields other engineers add with defaults need no change here.
        let spec: ContainerSpec = serde_json::from_value(serde_json::json!({
            "id": format!("{:0>64}", format!("{:x}", name.len() * 7919 + dir.path().as_os_str().len())),
            "hostname": "logs",
            "args": args,
            "env": ["PATH=/bin"],
            "cwd": "/",
            "uid": 0,
            "gid": 0,
            "rootfs": {
                "lower": [self.lower],
                "upper": dir.path().join("upper"),
                "work": dir.path().join("work"),
                "mountpoint": dir.path().join("rootfs"),
                "readonly": false,
            },
            "cgroup_path": format!("{}/{name}", self.cgroup_parent),
            "log_path": dir.path().join("container.log"),
            "exit_path": dir.path().join("exit.json"),
            "log": { "max_size": max_size, "max_files": max_files },
        }))
        .expect("spec");
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

struct Case {
    dir: tempfile::TempDir,
    spec: ContainerSpec,
    spec_path: PathBuf,
    started: Option<Started>,
}

impl Case {
    fn start(&mut self) {
        let json = serde_json::to_vec_pretty(&self.spec).expect("spec json");
        std::fs::write(&self.spec_path, json).expect("write spec");
        let exe = std::env::current_exe().expect("current exe");
        self.started = Some(runtime::spawn_shim(&exe, &self.spec_path).expect("container starts"));
    }

    fn exited(&self) -> bool {
        runtime::read_exit_record(&self.spec.exit_path)
            .expect("exit record")
            .is_some()
    }

    fn wait_exit(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.exited() {
            assert!(Instant::now() < deadline, "container did not exit in 60 s");
            std::thread::sleep(Duration::from_millis(10));
        }
        if let Some(started) = self.started {
            wait_gone(started.shim_pid);
        }
    }

    fn log_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("case dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("container.log"))
            .collect();
        names.sort();
        names
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

fn wait_gone(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z') && !rest.starts_with('X'))
    }) {
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

const LINES: u32 = 300_000;

fn follower_sees_every_line_while_the_shim_rotates(s: &Suite) {
    // About 2 MB of output into 128 KiB files, all kept, read while it is written.
    let lines = LINES.to_string();
    let mut c = s.case("follow", &["seq", "1", &lines], 128 * 1024, 10_000);
    c.start();
    let mut reader = LogReader::open(&c.spec.log_path).expect("open log");
    let mut next = 1u32;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = c.exited();
        while let Some(rec) = reader.next_record().expect("read log") {
            assert!(!rec.partial, "seq writes whole lines");
            assert_eq!(
                String::from_utf8_lossy(&rec.line),
                next.to_string(),
                "line lost or repeated"
            );
            next += 1;
        }
        if done {
            break;
        }
        assert!(Instant::now() < deadline, "stuck at line {next}");
        std::thread::sleep(Duration::from_millis(2));
    }
    c.wait_exit();
    assert_eq!(next, LINES + 1, "every line once");
    assert!(!reader.missed_records());
    let files = c.log_files();
    assert!(
        files.len() >= 2 * 10,
        "the shim must have rotated: {files:?}"
    );
}

fn rotation_keeps_max_files_and_the_newest_lines(s: &Suite) {
    let lines = LINES.to_string();
    let mut c = s.case("retain", &["seq", "1", &lines], 64 * 1024, 3);
    c.start();
    c.wait_exit();
    assert_eq!(
        c.log_files(),
        [
            "container.log",
            "container.log.1",
            "container.log.1.idx",
            "container.log.2",
            "container.log.2.idx",
            "container.log.idx"
        ]
    );
    let last = logs::tail(&c.spec.log_path, 3).expect("tail");
    let last: Vec<String> = last
        .iter()
        .map(|r| String::from_utf8_lossy(&r.line).into_owned())
        .collect();
    assert_eq!(last, ["299998", "299999", "300000"]);
    // What is kept is the newest output, whole and in order.
    let mut reader = LogReader::open_with(&c.spec.log_path, ReadOptions::default()).expect("open");
    let mut kept = Vec::new();
    while let Some(rec) = reader.next_record().expect("read") {
        kept.push(
            String::from_utf8_lossy(&rec.line)
                .parse::<u32>()
                .expect("number"),
        );
    }
    assert!(
        kept.len() > 10_000 && kept.len() < 60_000,
        "{} lines kept",
        kept.len()
    );
    assert_eq!(kept[kept.len() - 1], LINES);
    assert!(
        kept.windows(2).all(|w| w[1] == w[0] + 1),
        "a hole in the kept lines"
    );
}
