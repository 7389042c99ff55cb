//! Health checks against a real daemon: `--health-*` flags, the probe run as an exec in the
//! container, starting → unhealthy → healthy with `health_status` events, `(healthy)` in
//! `ps`, `-f health=`, `State.Health` and `Config.Healthcheck` in inspect, timeouts, and
//! `--no-healthcheck`.

mod common;

use common::{eventually, Daemon};
use std::time::Duration;

fn health(d: &Daemon, name: &str) -> String {
    d.ok(&["inspect", "-f", "{{.State.Health.Status}}", name])
        .trim()
        .to_string()
}

fn events_of(d: &Daemon, name: &str) -> Vec<String> {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock");
    let until = format!("{}.{:09}", t.as_secs(), t.subsec_nanos());
    let filter = format!("container={name}");
    d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        &filter,
        "--format",
        "{{.Action}}",
    ])
    .lines()
    .map(str::to_string)
    .collect()
}

#[test]
fn a_health_check_turns_unhealthy_and_back_with_its_events() {
    let d = Daemon::start();
    d.load_busybox();
    let id = d
        .ok(&[
            "run",
            "-d",
            "--name",
            "checked",
            "--health-cmd",
            "test -e /tmp/ok",
            "--health-interval",
            "200ms",
            "--health-retries",
            "2",
            "--health-timeout",
            "5s",
            "busybox",
            "sleep",
            "1000",
        ])
        .trim()
        .to_string();
    let inspect = d.inspect("checked");
    assert_eq!(
        inspect["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "test -e /tmp/ok"])
    );
    assert_eq!(inspect["Config"]["Healthcheck"]["Interval"], 200_000_000);
    assert!(
        eventually(Duration::from_secs(20), || health(&d, "checked")
            == "unhealthy"),
        "never unhealthy: {}",
        health(&d, "checked")
    );
    let state = &d.inspect("checked")["State"]["Health"];
    assert!(state["FailingStreak"].as_u64().unwrap_or(0) >= 2, "{state}");
    assert_eq!(
        state["Log"].as_array().map(|l| l[0]["ExitCode"].clone()),
        Some(1.into())
    );
    assert!(d.ok(&["ps"]).contains("(unhealthy)"));
    assert_eq!(
        d.ok(&["ps", "-q", "--no-trunc", "-f", "health=unhealthy"])
            .trim(),
        id
    );
    assert_eq!(d.ok(&["ps", "-q", "-f", "health=healthy"]), "");

    // The probe runs in the container: a file made there turns it healthy.
    d.ok(&["exec", "checked", "touch", "/tmp/ok"]);
    assert!(
        eventually(Duration::from_secs(20), || health(&d, "checked")
            == "healthy"),
        "never healthy again: {}",
        health(&d, "checked")
    );
    let state = &d.inspect("checked")["State"]["Health"];
    assert_eq!(state["FailingStreak"], 0);
    let log = state["Log"].as_array().expect("log");
    assert!(log.len() <= 5, "the last five results only");
    assert_eq!(log.last().expect("a result")["ExitCode"], 0);
    let ps = d.ok(&["ps"]);
    assert!(ps.contains("(healthy)"), "{ps}");
    assert_eq!(
        d.ok(&["ps", "-q", "--no-trunc", "-f", "health=healthy"])
            .trim(),
        id
    );

    // Each change of status is one event; the probes' own execs are not left behind.
    let health_events: Vec<String> = events_of(&d, "checked")
        .into_iter()
        .filter(|a| a.starts_with("health_status"))
        .collect();
    assert_eq!(
        health_events,
        ["health_status: unhealthy", "health_status: healthy"]
    );
    // Stopped, it has no health any more.
    d.ok(&["stop", "-t", "1", "checked"]);
    assert!(d.inspect("checked")["State"]["Health"].is_null());
    assert_eq!(d.ok(&["ps", "-aq", "-f", "health=none"]).lines().count(), 1);
}

#[test]
fn a_check_past_its_timeout_fails_and_no_healthcheck_switches_checks_off() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 30",
        "--health-timeout",
        "300ms",
        "--health-interval",
        "100ms",
        "--health-retries",
        "1",
        "busybox",
        "sleep",
        "1000",
    ]);
    assert!(eventually(Duration::from_secs(20), || health(&d, "slow")
        == "unhealthy"));
    let log = d.inspect("slow")["State"]["Health"]["Log"].clone();
    let last = &log.as_array().expect("log")[0];
    assert_eq!(last["ExitCode"], -1, "{log}");
    assert!(
        last["Output"]
            .as_str()
            .unwrap_or_default()
            .contains("exceeded timeout"),
        "{log}"
    );
    // Timed-out probes are killed: besides the container's own sleep, at most the probe
    // under way runs (without the kill, one more would pile up every 400 ms).
    std::thread::sleep(Duration::from_millis(1500));
    let top = d.ok(&["exec", "slow", "ps", "-o", "args"]);
    assert!(top.matches("sleep 30").count() <= 1, "{top}");

    d.ok(&[
        "run",
        "-d",
        "--name",
        "unchecked",
        "--no-healthcheck",
        "busybox",
        "sleep",
        "1000",
    ]);
    let inspect = d.inspect("unchecked");
    assert_eq!(
        inspect["Config"]["Healthcheck"]["Test"],
        serde_json::json!(["NONE"])
    );
    assert!(inspect["State"]["Health"].is_null());
    let out = d.berth(&[
        "run",
        "--no-healthcheck",
        "--health-cmd",
        "true",
        "busybox",
        "true",
    ]);
    assert_ne!(out.status.code(), Some(0));
}
