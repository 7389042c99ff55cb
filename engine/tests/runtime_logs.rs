//! Real containers, as root: the shim rotates a chatty container's log as its spec says, and
//! a reader following the log while it rotates sees every line once, in order. This binary
//! doubles as berth's shim (`<exe> shim <spec>`).
//! Run: `cargo test -p berth-engine --test runtime_logs [-- <name filter>]`.

use berth_engine::logs::{self, LogReader, ReadOptions};
use std::time::{Duration, Instant};

mod support;

use support::{Case, Suite, TestCase};

fn main() {
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
    support::main(
        "runtime_logs",
        || Suite::with_applets("berth-rtlogs-", "berth-logtest", &["sh", "seq"]),
        cases,
    );
}

impl Suite {
    /// A container running `args` whose log rotates at `max_size` bytes, keeping `max_files`.
    fn case(&self, name: &str, args: &[&str], max_size: u64, max_files: u32) -> Case {
        let dir = self.case_dir(name, true);
        let args = args.iter().map(|a| a.to_string()).collect();
        let mut spec = self.spec(name, dir.path(), args);
        spec.id = format!(
            "{:0>64}",
            format!("{:x}", name.len() * 7919 + dir.path().as_os_str().len())
        );
        spec.hostname = "logs".into();
        spec.log.max_size = max_size;
        spec.log.max_files = max_files;
        self.container(dir, spec)
    }
}

impl Case {
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

const LINES: u32 = 300_000;

fn follower_sees_every_line_while_the_shim_rotates(s: &Suite) {
    // About 2 MB of output into 128 KiB files, all kept, read while it is written.
    let lines = LINES.to_string();
    let mut c = s.case("follow", &["seq", "1", &lines], 128 * 1024, 10_000);
    c.start().expect("container starts");
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
    c.wait_done_within(Duration::from_secs(60));
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
    c.start().expect("container starts");
    c.wait_done_within(Duration::from_secs(60));
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
