//! Reads that must end and answer at once however busy the host: `logs --tail` of a container
//! writing as fast as it can, and `stats` of 500 running containers in one answer.

mod common;

use common::{stderr, Daemon};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `berth ARGS` and waits at most `limit` for it; None if it did not end.
fn bounded(d: &Daemon, args: &[&str], limit: Duration) -> Option<std::process::Output> {
    let child = Command::new(common::BERTH)
        .arg("-H")
        .arg(d.host())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => Some(out.expect("output")),
        Err(_) => {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            None
        }
    }
}

#[test]
fn logs_without_follow_end_while_the_container_writes_fast() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "fast",
        "--network",
        "none",
        "busybox",
        "yes",
        "line",
    ]);
    std::thread::sleep(Duration::from_millis(500));
    for args in [
        &["logs", "--tail", "3", "fast"][..],
        &["logs", "fast"][..],
        &["logs", "--since", "1s", "fast"][..],
    ] {
        let out = bounded(&d, args, Duration::from_secs(60))
            .unwrap_or_else(|| panic!("berth {args:?} never returned"));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        // (The last line may be one the shim had only begun: a piece of "line".)
        assert!(
            text.lines().all(|l| !l.is_empty() && "line".starts_with(l)),
            "{args:?}: {text:?}"
        );
        if args[1] == "--tail" {
            assert_eq!(text.lines().count(), 3, "{args:?}");
        }
    }
    d.ok(&["rm", "-f", "fast"]);
}

#[test]
fn stats_of_500_containers_come_in_one_answer() {
    let d = Daemon::start();
    d.load_busybox();
    const N: usize = 500;
    // Created in parallel batches: the test is about stats, not start-up.
    let names: Vec<String> = (0..N).map(|i| format!("s{i}")).collect();
    for batch in names.chunks(25) {
        let runs: Vec<std::process::Child> = batch
            .iter()
            .map(|name| {
                Command::new(common::BERTH)
                    .arg("-H")
                    .arg(d.host())
                    .args([
                        "run",
                        "-d",
                        "--name",
                        name,
                        "--network",
                        "none",
                        "busybox",
                        "sleep",
                        "1000",
                    ])
                    .stdin(Stdio::null())
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("berth run")
            })
            .collect();
        for mut run in runs {
            assert!(run.wait().expect("wait").success());
        }
    }
    let started = Instant::now();
    let out = bounded(&d, &["stats", "--no-stream"], Duration::from_secs(60))
        .expect("stats never returned");
    let took = started.elapsed();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), N + 1, "a header and one line per container");
    assert!(lines[0].starts_with("CONTAINER ID"), "{}", lines[0]);
    for name in &names {
        assert!(
            lines
                .iter()
                .any(|l| l.split_whitespace().nth(1) == Some(name.as_str())),
            "{name} missing"
        );
    }
    println!("stats of {N} containers: first screen in {took:?}");
    // One 100 ms CPU baseline for them all, not one per container (that was 50 s).
    assert!(took < Duration::from_secs(15), "stats took {took:?}");
    // Named containers come in the same answer; an unknown one is an error.
    let two = d.ok(&["stats", "--no-stream", "s1", "s2"]);
    assert_eq!(two.lines().count(), 3, "{two}");
    let out = d.berth(&["stats", "--no-stream", "s1", "nosuch"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("nosuch"), "{}", stderr(&out));
}
