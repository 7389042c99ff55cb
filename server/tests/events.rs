//! `berth events` and `GET /api/v1/events` against a real daemon: container lifecycle events in
//! order with their attributes, filters, replay of persisted events after a daemon restart,
//! `--until` ending the stream, resuming from a sequence cursor, and a live follower.

mod common;

use common::{fails, Daemon, BERTH};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Now as unix seconds with nanoseconds, as `--until` takes it.
fn now() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    format!("{}.{:09}", t.as_secs(), t.subsec_nanos())
}

/// Every event so far that passes `filters` (the stream ends at `--until` now).
fn past_events(d: &Daemon, filters: &[&str], format: Option<&str>) -> Vec<String> {
    let until = now();
    let mut args = vec!["events", "--since", "0", "--until", until.as_str()];
    for f in filters {
        args.extend(["--filter", f]);
    }
    if let Some(format) = format {
        args.extend(["--format", format]);
    }
    d.ok(&args).lines().map(str::to_string).collect()
}

fn actions(d: &Daemon, filters: &[&str]) -> Vec<String> {
    past_events(d, filters, Some("{{.Action}}"))
}

#[test]
fn a_container_lifecycle_is_recorded_in_order_with_docker_attributes() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&["run", "--name", "ev-life", "busybox", "sh", "-c", "exit 3"]);
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    let id = d.inspect("ev-life")["Id"].as_str().unwrap().to_string();
    d.ok(&["rename", "ev-life", "ev-life2"]);
    d.ok(&["rm", "ev-life2"]);
    let lines = past_events(&d, &["type=container"], None);
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l.split(' ').nth(2).unwrap_or(""))
        .collect();
    assert_eq!(
        kinds,
        ["create", "start", "die", "rename", "destroy"],
        "{lines:#?}"
    );
    // docker's text line: time, type, action, id, (sorted attributes).
    let die = &lines[2];
    let expected = format!("container die {id} (exitCode=3, image=busybox, name=ev-life)");
    assert!(die.ends_with(&expected), "{die}");
    let time = die.split(' ').next().unwrap();
    assert!(time.ends_with('Z') && time.len() == 30, "{time}");
    assert!(lines[3].contains("name=ev-life2") && lines[3].contains("oldName=/ev-life"));
    // {{json .}}: docker's object, with the sequence number.
    let json = past_events(&d, &["event=die"], Some("{{json .}}"));
    let event: serde_json::Value = serde_json::from_str(&json[0]).unwrap();
    assert_eq!(event["Type"], "container");
    assert_eq!(event["Action"], "die");
    assert_eq!(event["Actor"]["ID"], id.as_str());
    assert_eq!(event["Actor"]["Attributes"]["exitCode"], "3");
    assert!(event["timeNano"].as_i64().unwrap() / 1_000_000_000 == event["time"].as_i64().unwrap());
    assert!(event["seq"].as_u64().unwrap() > 0);
}

#[test]
fn filters_select_by_type_event_container_and_image() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "--name", "ev-a", "busybox", "true"]);
    let out = d.berth(&["run", "--name", "ev-b", "busybox", "sh", "-c", "exit 1"]);
    assert_eq!(out.status.code(), Some(1));
    d.ok(&["tag", "busybox", "mine:1"]);
    assert_eq!(actions(&d, &["type=image"]), ["load", "tag"]);
    assert_eq!(actions(&d, &["container=ev-b"]), ["create", "start", "die"]);
    assert_eq!(
        past_events(
            &d,
            &["event=die"],
            Some("{{.Actor.Attributes.name}}={{.Actor.Attributes.exitCode}}")
        ),
        ["ev-a=0", "ev-b=1"]
    );
    // Values of one key are alternatives; keys are all required.
    assert_eq!(
        actions(&d, &["container=ev-a", "event=create", "event=die"]),
        ["create", "die"]
    );
    // image= matches containers by their image, and image events by name.
    assert_eq!(
        actions(&d, &["image=busybox:latest", "type=container"]).len(),
        6
    );
    assert_eq!(actions(&d, &["image=mine:1"]), ["tag"]);
    fails(
        &d.berth(&["events", "--filter", "colour=red"]),
        "invalid filter 'colour'",
    );
    fails(
        &d.berth(&["events", "--filter", "type=plugin"]),
        "invalid filter 'type=plugin'",
    );
    fails(
        &d.berth(&["events", "--since", "yesterday-ish"]),
        "invalid time",
    );
}

#[test]
fn persisted_events_replay_after_a_daemon_restart_and_numbering_goes_on() {
    let mut d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "ev-old",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    let before = past_events(&d, &[], Some("{{.seq}} {{.Action}}"));
    // load, create, start, die (no network: no connect/disconnect)
    assert_eq!(before.len(), 4, "{before:?}");
    d.kill9();
    d.spawn();
    d.ok(&["rm", "ev-old"]);
    let after = past_events(&d, &[], Some("{{.seq}} {{.Action}}"));
    assert_eq!(&after[..4], &before[..], "the old events were not replayed");
    let last_old: u64 = before[3].split(' ').next().unwrap().parse().unwrap();
    assert_eq!(after[4], format!("{} destroy", last_old + 1));
    // --since a time: only what happened from then on.
    let since = now();
    d.ok(&[
        "run",
        "--name",
        "ev-new",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    let until = now();
    let recent = d.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        &until,
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(
        recent.lines().collect::<Vec<_>>(),
        ["create", "start", "die"]
    );
}

/// A GET over HTTP/1.0 (the answer is not chunked), read to the end.
fn http_get(d: &Daemon, path: &str) -> (u16, String) {
    let mut stream = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: berth\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    common::parse_response(&text)
}

#[test]
fn the_api_resumes_after_a_cursor_and_until_ends_the_stream() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "--name",
        "ev-api",
        "--network",
        "none",
        "busybox",
        "true",
    ]);
    let (status, body) = http_get(&d, &format!("/api/v1/events?since=0&until={}", now()));
    assert_eq!(status, 200, "{body}");
    let all: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(all.len(), 4, "{body}");
    let cursor = all[1]["seq"].as_u64().unwrap();
    let (_, body) = http_get(
        &d,
        &format!("/api/v1/events?cursor={cursor}&until={}", now()),
    );
    let rest: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rest, all[2..].to_vec(), "resuming repeated or lost events");
    let filters = "%7B%22event%22%3A%5B%22die%22%5D%7D"; // {"event":["die"]}
    let (_, body) = http_get(
        &d,
        &format!("/api/v1/events?since=0&until={}&filters={filters}", now()),
    );
    assert_eq!(body.lines().count(), 1, "{body}");
    let (status, _) = http_get(&d, "/api/v1/events?filters=%7Bbad");
    assert_eq!(status, 400);
    // An --until in the future: the stream follows, then ends by itself at that time.
    let soon = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 2;
    let out = d.ok(&["events", "--until", &soon.to_string(), "--since", "0"]);
    assert_eq!(out.lines().count(), 4, "{out}");
}

#[test]
fn a_live_follower_sees_events_as_they_happen() {
    let d = Daemon::start();
    d.load_busybox();
    let since = now();
    let mut follower = Command::new(BERTH)
        .args(["-H", &d.host(), "events", "--since", &since])
        .args(["--filter", "container=ev-live", "--format", "{{.Action}}"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = follower.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    let next = || {
        rx.recv_timeout(Duration::from_secs(60))
            .expect("an event within a minute")
    };
    d.ok(&["create", "--name", "ev-live", "busybox", "sleep", "600"]);
    assert_eq!(next(), "create");
    // The follower has printed: from here on, what it sees comes live.
    d.ok(&["start", "ev-live"]);
    assert_eq!(next(), "start");
    d.ok(&["pause", "ev-live"]);
    assert_eq!(next(), "pause");
    d.ok(&["unpause", "ev-live"]);
    assert_eq!(next(), "unpause");
    d.ok(&["kill", "ev-live"]);
    assert_eq!(next(), "kill");
    assert_eq!(next(), "die");
    d.ok(&["rm", "ev-live"]);
    assert_eq!(next(), "destroy");
    let _ = follower.kill();
    let _ = follower.wait();
}
