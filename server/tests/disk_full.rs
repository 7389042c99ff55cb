//! A data root that containers fill to the last block (a small tmpfs): the containers that
//! filled it can still be stopped and removed, every exit is recorded, no shim dies, and the
//! daemon works again once the space is back.

mod common;

use common::{eventually, stderr, Daemon};
use std::path::Path;
use std::time::Duration;

fn free_bytes(path: &Path) -> u64 {
    let stat = nix::sys::statvfs::statvfs(path).expect("statvfs");
    stat.blocks_available() as u64 * stat.fragment_size() as u64
}

fn state(d: &Daemon, name: &str) -> (String, i64) {
    let inspect = d.inspect(name);
    (
        inspect["State"]["Status"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        inspect["State"]["ExitCode"].as_i64().unwrap_or(-1),
    )
}

#[test]
fn containers_that_fill_the_disk_are_stopped_and_removed_and_every_exit_is_recorded() {
    let d = Daemon::start_on_tmpfs(96);
    d.load_busybox();
    // Waits for SIGUSR1, then exits 3: an exit to record while the disk is full.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "quick",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 3' USR1; while true; do sleep 0.1; done",
    ]);
    // A log writer whose log may grow past the disk, and a file writer in its layer.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "logger",
        "--log-opt",
        "max-size=1g",
        "busybox",
        "yes",
        "0123456789abcdef0123456789abcdef0123456789abcdef",
    ]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "filler",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/fill bs=1M; sleep 1000",
    ]);
    assert!(
        eventually(Duration::from_secs(120), || free_bytes(&d.data_root)
            < 1 << 20),
        "the disk never filled: {} bytes free",
        free_bytes(&d.data_root)
    );
    std::thread::sleep(Duration::from_secs(1));

    // The fast writer stops on a full disk, and its exit is recorded.
    let out = d.berth(&["stop", "-t", "1", "logger"]);
    assert!(
        out.status.success(),
        "stop: {}\n{}",
        stderr(&out),
        d.daemon_log()
    );
    assert!(
        eventually(Duration::from_secs(20), || state(&d, "logger").0
            == "exited"),
        "logger: {:?}\n{}",
        state(&d, "logger"),
        d.daemon_log()
    );
    // A container that exits by itself while the disk is full: its code is kept.
    d.ok(&["kill", "-s", "USR1", "quick"]);
    assert!(
        eventually(Duration::from_secs(20), || state(&d, "quick")
            == ("exited".into(), 3)),
        "quick: {:?}\n{}",
        state(&d, "quick"),
        d.daemon_log()
    );
    // The file writer is removed while the disk is still full, and the space comes back.
    let out = d.berth(&["rm", "-f", "filler"]);
    assert!(
        out.status.success(),
        "rm -f: {}\n{}",
        stderr(&out),
        d.daemon_log()
    );
    // The container's files are deleted after the rename that removes it (engine
    // `discard`): the space comes back soon after the answer, not with it.
    assert!(
        eventually(Duration::from_secs(20), || free_bytes(&d.data_root)
            > 32 << 20),
        "space back after removal: {} bytes free",
        free_bytes(&d.data_root)
    );

    // No shim died on the full disk (a panic would leave exit code 101 and no record).
    for name in ["logger", "quick"] {
        let id = d.inspect(name)["Id"].as_str().expect("id").to_string();
        let shim_log = d.data_root.join("containers").join(&id).join("shim.log");
        let text = std::fs::read_to_string(shim_log).unwrap_or_default();
        assert!(!text.contains("panicked"), "{name}'s shim: {text}");
    }
    assert!(!d.daemon_log().contains("panicked"), "{}", d.daemon_log());
    // What the daemon met on the way (shown with --nocapture).
    for line in d.daemon_log().lines() {
        if line.contains("WARN") || line.contains("ERROR") {
            println!("daemon: {line}");
        }
    }
    // The logger's log is readable to its end, and the daemon runs containers again.
    let tail = d.ok(&["logs", "--tail", "1", "logger"]);
    // (Its last record may be a piece of a line: writes were cut off by the full disk.)
    let last = tail.trim_end();
    assert!(
        !last.is_empty() && last.bytes().all(|b| b.is_ascii_hexdigit()),
        "{tail:?}"
    );
    assert_eq!(d.ok(&["run", "--rm", "busybox", "echo", "ok"]), "ok\n");
    d.ok(&["rm", "-f", "logger", "quick"]);
}
