//! Lifecycle verbs through the CLI and a real daemon: stop signals and grace, kill -s, restart,
//! pause/unpause, rename, rm -f, container prune and a docker-shaped inspect.

mod common;

use common::{eventually, stderr, Daemon};
use std::time::{Duration, Instant};

const COUNTER: &str = "i=0; while true; do echo n $i; i=$((i+1)); sleep 0.1; done";

#[test]
fn stop_uses_the_stop_signal_and_the_grace_period() {
    let d = Daemon::start();
    d.load_busybox();
    // A trap makes SIGTERM end the container at once, with the trap's exit code.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "polite",
        "busybox",
        "sh",
        "-c",
        "trap 'echo bye; exit 42' TERM; while true; do sleep 0.1; done",
    ]);
    assert!(eventually(Duration::from_secs(5), || d.inspect("polite")
        ["State"]["Running"]
        == true));
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    d.ok(&["stop", "-t", "20", "polite"]);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "stop waited for the grace period"
    );
    let state = d.inspect("polite")["State"].clone();
    assert_eq!(state["ExitCode"], 42, "{state}");
    assert!(d.ok(&["logs", "polite"]).contains("bye"));
    // --stop-signal: USR1 is what this one handles.
    d.ok(&[
        "run",
        "-d",
        "--name",
        "usr1",
        "--stop-signal",
        "USR1",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 7' USR1; while true; do sleep 0.1; done",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    d.ok(&["stop", "-t", "20", "usr1"]);
    assert_eq!(d.inspect("usr1")["State"]["ExitCode"], 7);
    assert_eq!(d.inspect("usr1")["Config"]["StopSignal"], "SIGUSR1");
}

#[test]
fn kill_sends_the_named_signal() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "killme",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 9' HUP; while true; do sleep 0.1; done",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    d.ok(&["kill", "-s", "HUP", "killme"]);
    assert!(eventually(Duration::from_secs(5), || d.inspect("killme")
        ["State"]["ExitCode"]
        == 9));
    let bad = d.berth(&["kill", "-s", "NOPE", "killme"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("invalid signal"), "{}", stderr(&bad));
}

#[test]
fn pause_freezes_and_unpause_resumes() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run", "-d", "--name", "pauser", "busybox", "sh", "-c", COUNTER,
    ]);
    assert!(eventually(Duration::from_secs(5), || d
        .ok(&["logs", "pauser"])
        .contains("n 3")));
    d.ok(&["pause", "pauser"]);
    assert!(d.ok(&["ps"]).contains("(Paused)"));
    assert_eq!(d.inspect("pauser")["State"]["Paused"], true);
    let frozen = d.ok(&["logs", "pauser"]).lines().count();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        d.ok(&["logs", "pauser"]).lines().count(),
        frozen,
        "a paused container kept running"
    );
    let again = d.berth(&["pause", "pauser"]);
    assert!(
        stderr(&again).contains("already paused"),
        "{}",
        stderr(&again)
    );
    d.ok(&["unpause", "pauser"]);
    assert!(eventually(Duration::from_secs(5), || d
        .ok(&["logs", "pauser"])
        .lines()
        .count()
        > frozen + 2));
    // A paused container can be stopped and force-removed.
    d.ok(&["pause", "pauser"]);
    d.ok(&["rm", "-f", "pauser"]);
    assert!(!d.ok(&["ps", "-a"]).contains("pauser"));
}

#[test]
fn restart_rename_and_prune() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "restarter",
        "busybox",
        "sh",
        "-c",
        COUNTER,
    ]);
    let first_pid = d.inspect("restarter")["State"]["Pid"]
        .as_i64()
        .expect("pid");
    d.ok(&["restart", "-t", "1", "restarter"]);
    let state = d.inspect("restarter")["State"].clone();
    assert_eq!(state["Running"], true);
    assert_ne!(state["Pid"].as_i64(), Some(first_pid));
    d.ok(&["rename", "restarter", "renamed"]);
    assert!(d.ok(&["ps"]).contains("renamed"));
    d.ok(&["run", "--name", "taken", "busybox", "true"]);
    let clash = d.berth(&["rename", "renamed", "taken"]);
    assert!(
        stderr(&clash).contains("already in use"),
        "{}",
        stderr(&clash)
    );
    d.ok(&["run", "--name", "done1", "busybox", "true"]);
    d.ok(&["create", "--name", "never", "busybox", "true"]);
    let pruned = d.ok(&["container", "prune", "-f"]);
    assert!(pruned.contains("Total reclaimed space"), "{pruned}");
    let left = d.ok(&["ps", "-a"]);
    assert!(
        left.contains("renamed"),
        "prune removed a running container: {left}"
    );
    for gone in ["taken", "done1", "never"] {
        assert!(!left.contains(gone), "{gone} survived prune: {left}");
    }
}

#[test]
fn inspect_reports_limits_and_security_like_docker() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "create",
        "--name",
        "limited",
        "--memory",
        "64m",
        "--cpus",
        "0.5",
        "--pids-limit",
        "50",
        "--cap-add",
        "net_admin",
        "--read-only",
        "--init",
        "busybox",
        "true",
    ]);
    let v = d.inspect("limited");
    let host = &v["HostConfig"];
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["NanoCpus"], 500_000_000);
    assert_eq!(host["PidsLimit"], 50);
    assert_eq!(host["CapAdd"][0], "NET_ADMIN");
    assert_eq!(host["ReadonlyRootfs"], true);
    assert_eq!(host["Init"], true);
    assert_eq!(v["State"]["Status"], "created");
    assert_eq!(v["GraphDriver"]["Name"], "overlay2");
    for bad in [
        &["create", "--memory", "1k", "busybox"][..],
        &["create", "--cpus", "-1", "busybox"],
        &["create", "--cap-add", "FLY", "busybox"],
        &["create", "--memory", "lots", "busybox"],
    ] {
        let out = d.berth(bad);
        assert_ne!(out.status.code(), Some(0), "{bad:?} was accepted");
        assert_eq!(stderr(&out).lines().count(), 1, "{bad:?}: {}", stderr(&out));
    }
}

#[test]
fn many_concurrent_unnamed_runs_all_start() {
    let d = Daemon::start();
    d.load_busybox();
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..30)
            .map(|_| scope.spawn(|| d.berth(&["run", "-d", "busybox", "sleep", "60"])))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    for out in &results {
        assert_eq!(out.status.code(), Some(0), "{}", stderr(out));
    }
    assert_eq!(d.ok(&["ps", "-q"]).lines().count(), 30);
}
