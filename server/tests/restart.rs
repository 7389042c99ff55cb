//! The daemon can die and come back: containers keep running under their shims, a restarted
//! daemon re-attaches to them, and exits that happened meanwhile are recorded with their codes.

mod common;

use common::{eventually, Daemon};
use std::time::Duration;

#[test]
fn containers_outlive_a_killed_daemon_and_are_reattached() {
    let mut d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run", "-d", "--name", "survivor", "busybox", "sh", "-c",
        "i=0; while true; do echo beat $i; i=$((i+1)); sleep 0.1; done",
    ]);
    d.ok(&["run", "-d", "--name", "short", "busybox", "sh", "-c", "sleep 1; exit 7"]);
    assert!(eventually(Duration::from_secs(10), || d.ok(&["logs", "survivor"]).contains("beat 2")));
    d.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    d.spawn();
    let ps = d.ok(&["ps", "-a"]);
    assert!(ps.contains("survivor") && ps.contains("Up "), "{ps}");
    assert!(
        eventually(Duration::from_secs(10), || d.ok(&["ps", "-a"]).contains("Exited (7)")),
        "the exit that happened while the daemon was down was not recorded: {}",
        d.ok(&["ps", "-a"])
    );
    // Logs went on being written while no daemon watched: the counter has no gap.
    assert!(eventually(Duration::from_secs(10), || d.ok(&["logs", "survivor"]).contains("beat 25")));
    let logs = d.ok(&["logs", "survivor"]);
    for (i, line) in logs.lines().enumerate() {
        assert_eq!(line, format!("beat {i}"), "a log line was lost");
    }
    d.ok(&["stop", "-t", "1", "survivor"]);
    assert!(d.ok(&["ps", "-a"]).contains("Exited (137)"));
}
