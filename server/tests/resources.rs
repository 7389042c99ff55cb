//! Resource limits and usage through the whole stack: `run --memory` ending in an OOM kill that
//! `inspect` reports, `--pids-limit` holding a fork bomb, and `stats --no-stream`.

mod common;

use common::{eventually, stdout, Daemon};
use serde_json::Value;
use std::time::Duration;

#[test]
fn a_container_over_its_memory_limit_is_oom_killed_and_says_so() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[&["run", "--name", "hog"][..], &common::MEMORY_HOG].concat());
    assert_eq!(out.status.code(), Some(137), "stdout: {}", stdout(&out));
    let state = d.inspect("hog")["State"].clone();
    assert_eq!(state["OOMKilled"], true, "{state}");
    assert_eq!(state["ExitCode"], 137);
    // docker's events: oom, then die with the exit code.
    let until = common::soon();
    let events = |extra: &[&str]| {
        let mut args = vec!["events", "--since", "0", "--until", &until];
        args.extend_from_slice(&["--filter", "container=hog", "--filter", "event=oom"]);
        args.extend_from_slice(&["--filter", "event=die"]);
        args.extend_from_slice(extra);
        d.ok(&args)
    };
    assert_eq!(events(&["--format", "{{.Action}}"]), "oom\ndie\n");
    assert!(events(&[]).contains("exitCode=137"));
}

#[test]
fn a_fork_bomb_is_held_by_the_pids_limit() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "bomb",
        "--pids-limit",
        "50",
        "busybox",
        "sh",
        "-c",
        "b() { b | b & }; b; sleep 30",
    ]);
    std::thread::sleep(Duration::from_secs(2));
    let stats: Vec<Value> = {
        let out = d.ok(&["inspect", "bomb"]);
        serde_json::from_str(&out).expect("json")
    };
    assert_eq!(stats[0]["HostConfig"]["PidsLimit"], 50);
    let table = d.ok(&["stats", "--no-stream", "bomb"]);
    let pids: u64 = table
        .lines()
        .nth(1)
        .and_then(|l| l.split_whitespace().last())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no pids column (the last, as docker's) in {table}"));
    assert!(pids <= 50, "{pids} tasks under a limit of 50");
    // The host still forks happily.
    assert!(std::process::Command::new("true")
        .status()
        .expect("fork on the host")
        .success());
    d.ok(&["rm", "-f", "bomb"]);
}

#[test]
fn stats_report_usage_of_running_containers() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "busy",
        "--memory",
        "64m",
        "busybox",
        "sh",
        "-c",
        "while true; do :; done",
    ]);
    assert!(eventually(Duration::from_secs(5), || {
        d.inspect("busy")["State"]["Running"] == true
    }));
    let table = d.ok(&["stats", "--no-stream", "busy"]);
    let mut lines = table.lines();
    assert!(
        lines.next().is_some_and(|h| h.starts_with("CONTAINER ID")),
        "{table}"
    );
    let row = lines.next().unwrap_or_else(|| panic!("no row in {table}"));
    assert!(row.contains("busy"), "{row}");
    assert!(row.contains("/ 64MiB"), "the limit is not shown: {row}");
    let cpu: f64 = row
        .split_whitespace()
        .nth(2)
        .and_then(|c| c.trim_end_matches('%').parse().ok())
        .unwrap_or_else(|| panic!("no cpu column in {row}"));
    assert!(cpu > 20.0, "a busy loop used only {cpu}% CPU");
    // The shim's resident memory is reported (asked for with --format): the small companion
    // shim stays under 2 MiB here (scripts/bench.sh measures it against the peers): the daemon
    // compiles the seccomp filter, the shim only installs it.
    let shim = d.ok(&["stats", "--no-stream", "--format", "{{.ShimMem}}", "busy"]);
    let shim = shim.trim();
    let mib: f64 = shim
        .strip_suffix("MiB")
        .and_then(|m| m.parse().ok())
        .or_else(|| {
            shim.strip_suffix("KiB")
                .and_then(|k| k.parse::<f64>().ok())
                .map(|k| k / 1024.0)
        })
        .unwrap_or_else(|| panic!("no shim memory column in {row}"));
    assert!(
        (0.2..2.0).contains(&mib),
        "shim resident memory {mib} MiB: {row}"
    );
    let stopped = d.berth(&["stats", "--no-stream", "nope"]);
    assert_eq!(stopped.status.code(), Some(1));
}

#[test]
fn containers_cgroups_live_under_the_daemons_cgroup_parent() {
    let d = Daemon::start();
    d.load_busybox();
    let id = d.ok(&["run", "-d", "--network", "none", "busybox", "sleep", "300"]);
    let id = id.trim();
    let parent = d.cgroup_parent();
    assert_eq!(d.inspect(id)["HostConfig"]["CgroupParent"], parent.as_str());
    let pid = d.inspect(id)["State"]["Pid"].to_string();
    let dirs = common::cgroup_dirs(&format!("{parent}/{id}"));
    assert!(!dirs.is_empty(), "no cgroup {parent}/{id}");
    for dir in &dirs {
        let procs = std::fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(
            procs.lines().any(|p| p == pid),
            "{}: {procs}",
            dir.display()
        );
    }
    d.ok(&["rm", "-f", id]);
    assert!(dirs.iter().all(|dir| !dir.exists()), "{dirs:?}");

    // A parent outside the hierarchies is refused before the daemon serves.
    let tmp = tempfile::tempdir().unwrap();
    let mut serve = std::process::Command::new(common::BERTH)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--cgroup-parent",
            "../escape",
        ])
        .arg("--data-root")
        .arg(tmp.path().join("data"))
        .arg("--socket")
        .arg(tmp.path().join("berth.sock"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = eventually(Duration::from_secs(20), || {
        serve.try_wait().ok().flatten().is_some()
    });
    if !exited {
        let _ = serve.kill();
    }
    let out = serve.wait_with_output().unwrap();
    assert!(exited && !out.status.success(), "the daemon served");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid cgroup parent \"../escape\""), "{err}");
}
