//! Alerts against a real daemon (issue 13): rules added with `berth alert rule add` fire a
//! webhook POST to a receiver on the loopback, once per occurrence — a non-zero exit (not a
//! zero one), an OOM kill, a restart loop — a failing webhook is retried with back-off with
//! every attempt in `berth alert deliveries`, a redirect to another origin is not followed,
//! and a pending delivery survives a daemon restart. A health check turning unhealthy fires
//! once per turn, not once per failed probe.

mod common;

use common::{eventually, fails, stdout, Daemon};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(60);

/// A webhook receiver on 127.0.0.1: records each POST's JSON body; answers `fail_first`
/// requests with 500 (or a redirect to `redirect_to`), the rest with 200.
struct Receiver {
    port: u16,
    bodies: Arc<Mutex<Vec<Value>>>,
    /// Requests answered so far.
    hits: Arc<AtomicUsize>,
}

impl Receiver {
    fn start(fail_first: usize, redirect_to: Option<String>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
        let port = listener.local_addr().expect("receiver address").port();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        // Requests still to answer with a failure.
        let failing = Arc::new(AtomicUsize::new(fail_first));
        let (b, h, f) = (bodies.clone(), hits.clone(), failing);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (b, h, f, r) = (b.clone(), h.clone(), f.clone(), redirect_to.clone());
                std::thread::spawn(move || answer(stream, &b, &h, &f, r.as_deref()));
            }
        });
        Receiver { port, bodies, hits }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().expect("bodies").clone()
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// Waits until `n` bodies have come; returns them all.
    fn wait_for(&self, n: usize, d: &Daemon) -> Vec<Value> {
        assert!(
            eventually(PATIENCE, || self.bodies().len() >= n),
            "{} of {n} alerts arrived: {:?}\ndeliveries: {}\ndaemon: {}",
            self.bodies().len(),
            self.bodies(),
            d.ok(&["alert", "deliveries"]),
            d.daemon_log()
        );
        self.bodies()
    }
}

/// Reads one HTTP request, records its body, answers it and closes.
fn answer(
    mut stream: std::net::TcpStream,
    bodies: &Mutex<Vec<Value>>,
    hits: &AtomicUsize,
    failing: &AtomicUsize,
    redirect_to: Option<&str>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let fail = failing
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if !fail {
        bodies
            .lock()
            .expect("bodies")
            .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
    }
    hits.fetch_add(1, Ordering::SeqCst);
    let head = match (fail, redirect_to) {
        (true, Some(to)) => format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\n"),
        (true, None) => "HTTP/1.1 500 Internal Server Error\r\n".to_string(),
        (false, _) => "HTTP/1.1 200 OK\r\n".to_string(),
    };
    let _ = stream
        .write_all(format!("{head}Content-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
}

/// `berth alert rule add ARGS… --webhook URL`: the new rule's id.
fn add_rule(d: &Daemon, args: &[&str], url: &str) -> String {
    let mut all = vec!["alert", "rule", "add"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--webhook", url]);
    let id = d.ok(&all).trim().to_string();
    assert!(id.parse::<i64>().is_ok(), "not an id: {id:?}");
    id
}

/// The delivery log as the API objects, newest first.
fn log(d: &Daemon) -> Vec<Value> {
    d.ok(&["alert", "deliveries", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("a log line"))
        .collect()
}

/// Proves that nothing else is on its way: a test delivery (queued after anything already
/// fired) arrives, and a moment later no other body has.
fn settle(d: &Daemon, receiver: &Receiver, rule: &str) -> Vec<Value> {
    let before = receiver.bodies().len();
    d.ok(&["alert", "test", rule]);
    receiver.wait_for(before + 1, d);
    std::thread::sleep(Duration::from_millis(500));
    let bodies = receiver.bodies();
    bodies
        .into_iter()
        .filter(|b| b["alert"] != "test")
        .collect()
}

#[test]
fn a_died_rule_fires_once_for_a_non_zero_exit_and_not_for_zero() {
    let d = Daemon::start();
    d.load_busybox();
    let receiver = Receiver::start(0, None);
    let rule = add_rule(&d, &["--on", "died"], &receiver.url());
    d.ok(&["run", "--name", "fine", "busybox", "true"]);
    let out = d.berth(&["run", "--name", "three", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let bodies = receiver.wait_for(1, &d);
    let alert = &bodies[0];
    assert_eq!(alert["alert"], "died", "{alert}");
    assert_eq!(alert["rule"].to_string(), rule);
    assert_eq!(alert["container"]["name"], "three", "{alert}");
    assert_eq!(alert["container"]["image"], "busybox");
    assert_eq!(alert["container"]["id"].as_str().map(str::len), Some(64));
    assert_eq!(alert["event"]["action"], "die");
    assert_eq!(alert["event"]["attributes"]["exitCode"], "3");
    assert!(alert["event"]["time"].as_i64().is_some_and(|t| t > 0));
    assert!(alert["host"].as_str().is_some_and(|h| !h.is_empty()));
    assert!(
        alert["message"]
            .as_str()
            .is_some_and(|m| m.contains("three") && m.contains("exit code 3")),
        "{alert}"
    );
    // A user's stop ends a container with 137 or 143: asked for, no alert.
    d.ok(&["run", "-d", "--name", "stopped", "busybox", "sleep", "600"]);
    d.ok(&["stop", "-t", "1", "stopped"]);
    let fired = settle(&d, &receiver, &rule);
    assert_eq!(fired.len(), 1, "{fired:?}");
    // Every attempt is in the log: the died one and the test, both delivered.
    let log = log(&d);
    assert!(
        log.iter()
            .any(|a| a["alert"] == "died" && a["outcome"] == "delivered" && a["status"] == 200),
        "{log:?}"
    );
    let table = d.ok(&["alert", "deliveries"]);
    assert!(table.starts_with("TIME"), "{table}");
    assert!(table.contains("delivered"), "{table}");
}

#[test]
fn an_unhealthy_rule_fires_once_each_time_the_health_check_turns_unhealthy() {
    let d = Daemon::start();
    d.load_busybox();
    let receiver = Receiver::start(0, None);
    let rule = add_rule(&d, &["--on", "unhealthy"], &receiver.url());
    let health = |d: &Daemon| {
        d.ok(&["inspect", "-f", "{{.State.Health.Status}}", "checked"])
            .trim()
            .to_string()
    };
    d.ok(&[
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
        "busybox",
        "sleep",
        "1000",
    ]);
    let bodies = receiver.wait_for(1, &d);
    let alert = &bodies[0];
    assert_eq!(alert["alert"], "unhealthy", "{alert}");
    assert_eq!(alert["rule"].to_string(), rule);
    assert_eq!(alert["container"]["name"], "checked", "{alert}");
    assert_eq!(alert["event"]["action"], "health_status: unhealthy");
    assert!(
        alert["message"]
            .as_str()
            .is_some_and(|m| m.contains("checked") && m.contains("unhealthy")),
        "{alert}"
    );
    // More failed probes while it stays unhealthy: no second alert.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(health(&d), "unhealthy");
    assert_eq!(receiver.bodies().len(), 1, "{:?}", receiver.bodies());
    // Healthy again, then unhealthy again: a second alert, for the second turn.
    d.ok(&["exec", "checked", "touch", "/tmp/ok"]);
    assert!(
        eventually(PATIENCE, || health(&d) == "healthy"),
        "never healthy again: {}",
        health(&d)
    );
    assert_eq!(receiver.bodies().len(), 1, "{:?}", receiver.bodies());
    d.ok(&["exec", "checked", "rm", "/tmp/ok"]);
    let bodies = receiver.wait_for(2, &d);
    assert_eq!(bodies[1]["alert"], "unhealthy", "{:?}", bodies[1]);
    let fired = settle(&d, &receiver, &rule);
    assert_eq!(fired.len(), 2, "{fired:?}");
    d.ok(&["rm", "-f", "checked"]);
}

#[test]
fn an_oom_kill_fires_the_oom_rule_for_oom_and_the_died_rule_for_its_exit() {
    let d = Daemon::start();
    d.load_busybox();
    let receiver = Receiver::start(0, None);
    let oom = add_rule(&d, &["--on", "oom", "--container", "hog"], &receiver.url());
    let died = add_rule(&d, &["--on", "died", "--container", "hog"], &receiver.url());
    let out = d.berth(&[&["run", "--name", "hog"][..], &common::MEMORY_HOG].concat());
    assert_eq!(out.status.code(), Some(137), "stdout: {}", stdout(&out));
    // The engine really saw an OOM kill on this host.
    assert_eq!(d.inspect("hog")["State"]["OOMKilled"], true);
    receiver.wait_for(2, &d);
    let fired = settle(&d, &receiver, &oom);
    assert_eq!(fired.len(), 2, "{fired:?}");
    let by_rule = |rule: &str| {
        fired
            .iter()
            .filter(|b| b["rule"].as_i64() == rule.parse().ok())
            .cloned()
            .collect::<Vec<_>>()
    };
    let oom_alerts = by_rule(&oom);
    assert_eq!(oom_alerts.len(), 1, "{fired:?}");
    assert_eq!(oom_alerts[0]["alert"], "oom");
    assert_eq!(oom_alerts[0]["event"]["action"], "oom");
    assert_eq!(oom_alerts[0]["container"]["name"], "hog");
    let died_alerts = by_rule(&died);
    assert_eq!(died_alerts.len(), 1, "{fired:?}");
    assert_eq!(died_alerts[0]["event"]["attributes"]["exitCode"], "137");
}

#[test]
fn a_restart_loop_rule_fires_once_for_a_container_that_keeps_failing() {
    let d = Daemon::start();
    d.load_busybox();
    let receiver = Receiver::start(0, None);
    let rule = add_rule(
        &d,
        &["--on", "restart-loop", "--restarts", "3", "--minutes", "1"],
        &receiver.url(),
    );
    // A bystander that fails once and is not restarted: no loop.
    let _ = d.berth(&["run", "--name", "once", "busybox", "sh", "-c", "exit 1"]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "looper",
        "--restart",
        "on-failure",
        "busybox",
        "sh",
        "-c",
        "exit 1",
    ]);
    let bodies = receiver.wait_for(1, &d);
    assert_eq!(bodies[0]["alert"], "restart_loop", "{:?}", bodies[0]);
    assert_eq!(bodies[0]["container"]["name"], "looper");
    assert_eq!(bodies[0]["event"]["action"], "start");
    assert!(
        bodies[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("restarted 3 times within 1 minute")),
        "{:?}",
        bodies[0]
    );
    // It goes on restarting (back-off 100 ms, 200 ms, 400 ms …) well past the third, all
    // within the minute: still one alert.
    assert!(
        eventually(PATIENCE, || d.inspect("looper")["RestartCount"]
            .as_u64()
            .is_some_and(|n| n >= 6)),
        "{}",
        d.inspect("looper")
    );
    d.ok(&["rm", "-f", "looper"]);
    let fired = settle(&d, &receiver, &rule);
    assert_eq!(fired.len(), 1, "{fired:?}");
}

#[test]
fn a_failing_webhook_is_retried_with_every_attempt_logged() {
    let d = Daemon::start_with(&["--alert-retry-base-ms".into(), "50".into()]);
    let receiver = Receiver::start(2, None);
    let rule = add_rule(&d, &["--on", "died"], &receiver.url());
    // The first attempt gets a 500: the test says it was not delivered (yet).
    let out = d.berth(&["alert", "test", &rule]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("not delivered"), "{}", stdout(&out));
    let bodies = receiver.wait_for(1, &d);
    assert_eq!(bodies[0]["alert"], "test");
    assert_eq!(bodies[0]["rule"].to_string(), rule);
    assert!(
        eventually(PATIENCE, || log(&d)
            .first()
            .is_some_and(|a| a["outcome"] == "delivered")),
        "{:?}",
        log(&d)
    );
    assert_eq!(receiver.hits(), 3);
    let mut attempts = log(&d);
    attempts.reverse();
    let summary: Vec<(u64, u64, &str)> = attempts
        .iter()
        .map(|a| {
            (
                a["attempt"].as_u64().unwrap_or(0),
                a["status"].as_u64().unwrap_or(0),
                a["outcome"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, 500, "retrying"),
            (2, 500, "retrying"),
            (3, 200, "delivered")
        ]
    );
    assert!(attempts
        .iter()
        .all(|a| a["delivery"] == attempts[0]["delivery"]));
    assert!(attempts[0]["next_retry_ms"].as_i64().is_some());
    assert!(attempts[2].get("next_retry_ms").is_none());
}

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let d = Daemon::start_with(&["--alert-retry-base-ms".into(), "60000".into()]);
    let elsewhere = Receiver::start(0, None);
    let bouncer = Receiver::start(usize::MAX, Some(elsewhere.url()));
    let rule = add_rule(&d, &["--on", "died"], &bouncer.url());
    let out = d.berth(&["alert", "test", &rule]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let first = &log(&d)[0];
    assert_eq!(first["status"], 302, "{first}");
    assert_eq!(first["outcome"], "retrying");
    assert!(
        first["error"]
            .as_str()
            .is_some_and(|e| e.contains("not followed")),
        "{first}"
    );
    assert_eq!(bouncer.hits(), 1);
    assert_eq!(elsewhere.hits(), 0);
    // Removing the rule cancels its retries.
    d.ok(&["alert", "rule", "rm", &rule]);
    assert!(!d.ok(&["alert", "rule", "ls"]).contains(&bouncer.url()));
}

#[test]
fn a_pending_delivery_is_resumed_after_a_daemon_restart() {
    let mut d = Daemon::start_with(&["--alert-retry-base-ms".into(), "3000".into()]);
    let receiver = Receiver::start(1, None);
    let rule = add_rule(&d, &["--on", "died"], &receiver.url());
    assert_eq!(d.berth(&["alert", "test", &rule]).status.code(), Some(1));
    d.kill9();
    d.spawn();
    let bodies = receiver.wait_for(1, &d);
    assert_eq!(bodies[0]["alert"], "test");
    let log = log(&d);
    assert_eq!(log[0]["attempt"], 2, "{log:?}");
    assert_eq!(log[0]["outcome"], "delivered");
    assert_eq!(log[0]["delivery"], log[1]["delivery"]);
}

#[test]
fn rules_are_listed_checked_and_removed() {
    let d = Daemon::start();
    let id = add_rule(
        &d,
        &[
            "--on",
            "restart-loop",
            "--restarts",
            "5",
            "--minutes",
            "10",
            "--label",
            "tier=web",
        ],
        "https://hooks.example.org/berth",
    );
    let table = d.ok(&["alert", "rule", "ls"]);
    assert!(table.starts_with("ID"), "{table}");
    assert!(table.contains("restart-loop 5 in 10m"), "{table}");
    assert!(table.contains("label=tier=web"), "{table}");
    assert!(table.contains("https://hooks.example.org/berth"), "{table}");
    let json = d.ok(&["alert", "rule", "ls", "--format", "json"]);
    let rule: Value = serde_json::from_str(json.trim()).expect("a rule");
    assert_eq!(rule["kind"], "restart_loop");
    assert_eq!(rule["enabled"], true);
    for (on, webhook, error) in [
        ("died", "ftp://example.org/x", "invalid webhook"),
        ("restart-loop", "http://h/", "needs restarts and minutes"),
        ("crash", "http://h/", "invalid alert"),
    ] {
        let args = ["alert", "rule", "add", "--on", on, "--webhook", webhook];
        fails(&d.berth(&args), error);
    }
    assert_eq!(d.ok(&["alert", "rule", "rm", &id]).trim(), id);
    fails(
        &d.berth(&["alert", "rule", "rm", &id]),
        "no such alert rule",
    );
    fails(&d.berth(&["alert", "test", "x"]), "invalid alert rule id");
    assert_eq!(d.ok(&["alert", "rule", "ls"]).lines().count(), 1);
    // The changes are audited like every other state change.
    let audit = d.ok(&["audit"]);
    assert!(audit.contains("POST /api/v1/alerts/rules"), "{audit}");
    assert!(
        audit.contains("DELETE /api/v1/alerts/rules/{id}"),
        "{audit}"
    );
}
