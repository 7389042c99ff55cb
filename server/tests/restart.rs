//! The daemon can die and come back: containers keep running under their shims, a restarted
//! daemon re-attaches to them, and exits that happened meanwhile are recorded with their codes.

mod common;

use common::{eventually, Daemon};
use std::time::Duration;

#[test]
fn twenty_containers_keep_running_and_logging_across_a_daemon_kill() {
    let mut d = Daemon::start();
    d.load_busybox();
    let counter = "i=0; while true; do echo c $i; i=$((i+1)); sleep 0.05; done";
    for i in 0..20 {
        let name = format!("c{i:02}");
        if i % 2 == 0 {
            d.ok(&["run", "-d", "--name", &name, "busybox", "sh", "-c", counter]);
        } else {
            d.ok(&["run", "-d", "--name", &name, "busybox", "sleep", "600"]);
        }
    }
    assert!(eventually(Duration::from_secs(10), || d
        .ok(&["logs", "c00"])
        .contains("c 5")));
    d.kill9();
    std::thread::sleep(Duration::from_secs(2));
    d.spawn();
    let running = d.ok(&["ps", "-q"]);
    assert_eq!(running.lines().count(), 20, "{}", d.ok(&["ps", "-a"]));
    std::thread::sleep(Duration::from_millis(500));
    for i in (0..20).step_by(2) {
        let logs = d.ok(&["logs", &format!("c{i:02}")]);
        assert!(
            logs.lines().count() > 40,
            "c{i:02} stopped logging: {}",
            logs.lines().count()
        );
        for (n, line) in logs.lines().enumerate() {
            assert_eq!(
                line,
                format!("c {n}"),
                "c{i:02} lost a line across the restart"
            );
        }
    }
    let names: Vec<String> = (0..20).map(|i| format!("c{i:02}")).collect();
    let mut stop = vec!["stop", "-t", "1"];
    stop.extend(names.iter().map(String::as_str));
    d.ok(&stop);
    assert_eq!(
        d.ok(&["ps", "-q"]).trim(),
        "",
        "containers still running after stop"
    );
}

#[test]
fn containers_outlive_a_killed_daemon_and_are_reattached() {
    let mut d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "survivor",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do echo beat $i; i=$((i+1)); sleep 0.1; done",
    ]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "short",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 7",
    ]);
    assert!(eventually(Duration::from_secs(10), || d
        .ok(&["logs", "survivor"])
        .contains("beat 2")));
    d.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    d.spawn();
    let ps = d.ok(&["ps", "-a"]);
    assert!(ps.contains("survivor") && ps.contains("Up "), "{ps}");
    assert!(
        eventually(Duration::from_secs(10), || d
            .ok(&["ps", "-a"])
            .contains("Exited (7)")),
        "the exit that happened while the daemon was down was not recorded: {}",
        d.ok(&["ps", "-a"])
    );
    // Logs went on being written while no daemon watched: the counter has no gap.
    assert!(eventually(Duration::from_secs(10), || d
        .ok(&["logs", "survivor"])
        .contains("beat 25")));
    let logs = d.ok(&["logs", "survivor"]);
    for (i, line) in logs.lines().enumerate() {
        assert_eq!(line, format!("beat {i}"), "a log line was lost");
    }
    d.ok(&["stop", "-t", "1", "survivor"]);
    assert!(d.ok(&["ps", "-a"]).contains("Exited (137)"));
}
