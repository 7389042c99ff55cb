//! `ps` against a real daemon: docker's filters, `-n`/`-l`, `--no-trunc`, `--format` (lines,
//! `json`, `table`), container labels (`-l`, `--label-file`) in inspect, ps and events, and
//! restarting containers listed without `-a`.

mod common;

use common::{eventually, fails, soon, Daemon};
use std::time::Duration;

/// The names `ps ARGS --format {{.Names}}` lists, in order.
fn names(d: &Daemon, args: &[&str]) -> Vec<String> {
    let mut all = vec!["ps"];
    all.extend_from_slice(args);
    all.extend(["--format", "{{.Names}}"]);
    d.ok(&all).lines().map(str::to_string).collect()
}

#[test]
fn filters_limits_and_formats_select_and_show_containers_as_docker_does() {
    let d = Daemon::start();
    d.load_busybox();
    let dir = tempfile::tempdir().unwrap();
    let label_file = dir.path().join("labels");
    std::fs::write(&label_file, "# team labels\nowner=ops\n\ntier=cache\n").unwrap();
    let label_file = label_file.to_str().unwrap();
    let a = d.ok(&[
        "run",
        "-d",
        "--name",
        "pa",
        "--network",
        "none",
        "-l",
        "tier=web",
        "-v",
        "psvol:/data",
        "busybox",
        "sleep",
        "300",
    ]);
    let a = a.trim();
    let exited = d.berth(&[
        "run",
        "--name",
        "pb",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "exit 3",
    ]);
    assert_eq!(exited.status.code(), Some(3));
    // A --label overrides the file's label of the same key.
    d.ok(&[
        "create",
        "--name",
        "pc",
        "--network",
        "none",
        "--label-file",
        label_file,
        "--label",
        "tier=db",
        "busybox",
        "true",
    ]);

    assert_eq!(names(&d, &[]), ["pa"]);
    assert_eq!(d.ok(&["ps", "-q", "--no-trunc"]).trim(), a);
    assert_eq!(names(&d, &["-a"]), ["pc", "pb", "pa"]);
    // A status filter lists stopped containers without -a; values of one key are alternatives.
    assert_eq!(names(&d, &["-f", "status=exited"]), ["pb"]);
    assert_eq!(
        names(&d, &["-f", "status=created", "-f", "status=running"]),
        ["pc", "pa"]
    );
    assert_eq!(names(&d, &["-a", "-f", "exited=3"]), ["pb"]);
    assert!(names(&d, &["-a", "-f", "exited=0"]).is_empty());
    assert_eq!(names(&d, &["-a", "-f", "label=tier"]), ["pc", "pa"]);
    assert_eq!(names(&d, &["-a", "-f", "label=tier=web"]), ["pa"]);
    assert_eq!(names(&d, &["-a", "-f", "label=owner=ops"]), ["pc"]);
    assert_eq!(names(&d, &["-a", "-f", "name=^p[ab]$"]), ["pb", "pa"]);
    assert_eq!(names(&d, &["-a", "-f", &format!("id={}", &a[..6])]), ["pa"]);
    assert_eq!(names(&d, &["-a", "-f", "volume=psvol"]), ["pa"]);
    assert_eq!(names(&d, &["-a", "-f", "volume=/data"]), ["pa"]);
    assert_eq!(names(&d, &["-a", "-f", "network=none"]), ["pc", "pb", "pa"]);
    assert_eq!(
        names(&d, &["-a", "-f", "ancestor=busybox:latest"]),
        ["pc", "pb", "pa"]
    );
    assert!(names(&d, &["-a", "-f", "ancestor=alpine"]).is_empty());
    // Different keys must all match.
    assert_eq!(
        names(&d, &["-a", "-f", "label=tier", "-f", "status=running"]),
        ["pa"]
    );
    assert_eq!(names(&d, &["-a", "-f", "before=pc"]), ["pb", "pa"]);
    assert_eq!(names(&d, &["-a", "-f", "since=pa"]), ["pc", "pb"]);
    // -n and -l: the newest, of every state.
    assert_eq!(names(&d, &["-n", "2"]), ["pc", "pb"]);
    assert_eq!(names(&d, &["-l"]), ["pc"]);

    let table = d.ok(&[
        "ps",
        "-a",
        "-f",
        "name=pc",
        "--format",
        "table {{.Names}}\\t{{.Labels}}\\t{{.State}}",
    ]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(lines[0]), ["NAMES", "LABELS", "STATE"], "{table}");
    assert_eq!(
        words(lines[1]),
        ["pc", "owner=ops,tier=db", "created"],
        "{table}"
    );
    assert_eq!(lines[0].find("LABELS"), lines[1].find("owner"), "{table}");
    assert_eq!(lines[0].find("STATE"), lines[1].find("created"), "{table}");
    let json = d.ok(&["ps", "--format", "json"]);
    let row: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(row["Names"], "pa");
    assert_eq!(row["ID"], &a[..12]);
    assert_eq!(row["State"], "running");
    assert_eq!(row["Mounts"], "psvol");
    assert_eq!(row["Networks"], "none");
    assert!(row["Status"].as_str().unwrap().starts_with("Up "), "{row}");
    assert!(
        row["CreatedAt"].as_str().unwrap().ends_with(" +0000 UTC"),
        "{row}"
    );
    let default = d.ok(&["ps"]);
    assert!(
        default.starts_with("CONTAINER ID   IMAGE     COMMAND       CREATED"),
        "{default}"
    );

    // Labels: inspect's Config.Labels and the container's events carry them.
    let labels = &d.inspect("pc")["Config"]["Labels"];
    assert_eq!(labels, &serde_json::json!({"owner": "ops", "tier": "db"}));
    let until = soon();
    let created = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "-f",
        "label=tier=db",
        "-f",
        "event=create",
        "--format",
        "{{.Actor.Attributes.name}} {{.Actor.Attributes.owner}}",
    ]);
    assert_eq!(created.trim(), "pc ops");

    // -s: the writable layer's size and, "virtual", with the image's.
    d.ok(&[
        "run",
        "--name",
        "pw",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "head -c 100000 /dev/zero > /file",
    ]);
    let sized = d.ok(&[
        "ps",
        "-a",
        "-s",
        "-f",
        "name=^pw$",
        "--format",
        "{{.Names}} {{.Size}}",
    ]);
    assert!(
        sized.starts_with("pw 100") && sized.contains("kB (virtual "),
        "{sized}"
    );
    let header = d.ok(&["ps", "-s"]);
    assert!(
        header.lines().next().unwrap().ends_with("NAMES   SIZE"),
        "{header}"
    );
    d.ok(&["rm", "pw"]);

    // Bad input: clear errors.
    fails(
        &d.berth(&["ps", "-f", "colour=red"]),
        "invalid filter 'colour'",
    );
    fails(
        &d.berth(&["ps", "-f", "status=sleeping"]),
        "invalid filter 'status=sleeping'",
    );
    fails(&d.berth(&["ps", "-f", "exited=one"]), "whole number");
    fails(&d.berth(&["ps", "-f", "status"]), "expected name=value");
    fails(
        &d.berth(&["ps", "-f", "before=nothing-here"]),
        "no such container",
    );
    fails(
        &d.berth(&["ps", "--format", "{{.Nope}}"]),
        "can't evaluate field Nope",
    );
    fails(
        &d.berth(&["create", "-l", "=x", "--network", "none", "busybox", "true"]),
        "a label needs a key",
    );
    fails(
        &d.berth(&[
            "create",
            "--label-file",
            "/nonexistent/labels",
            "busybox",
            "true",
        ]),
        "cannot read label file",
    );
    assert_eq!(
        names(&d, &["-a"]),
        ["pc", "pb", "pa"],
        "a failed create left a container"
    );
    d.ok(&["rm", "-f", "pa", "pb", "pc"]);
    d.ok(&["volume", "rm", "psvol"]);
}

#[test]
fn restarting_containers_say_so_and_are_listed_without_all() {
    let d = Daemon::start();
    d.load_busybox();
    let flap = "--name=flap --network=none --restart=always busybox sh -c";
    let mut args: Vec<&str> = vec!["run", "-d"];
    args.extend(flap.split(' '));
    args.push("exit 3");
    d.ok(&args);
    // The back-off doubles from 100 ms, so the container soon spends most of its time waiting.
    assert!(
        eventually(Duration::from_secs(60), || {
            names(&d, &["-f", "status=restarting"]) == ["flap"]
                && d.ok(&["ps", "--format", "{{.Names}} {{.State}} {{.Status}}"])
                    .starts_with("flap restarting Restarting (3) ")
        }),
        "{}",
        d.ok(&["ps", "-a"])
    );
    d.ok(&["rm", "-f", "flap"]);
    assert!(names(&d, &["-a"]).is_empty());
}

/// The daemon keeps list answers between changes: every change is in the very next list of
/// the same query, with no wait (create, rename, start, a published port, a network attached,
/// stop, remove).
#[test]
fn every_change_is_in_the_next_list_of_the_same_query() {
    let d = Daemon::start();
    d.load_busybox();
    let list = || {
        d.ok(&[
            "ps",
            "-a",
            "--format",
            "{{.Names}} {{.State}} {{.Ports}} {{.Networks}}",
        ])
    };
    assert_eq!(list(), "");
    d.ok(&["network", "create", "cachenet"]);
    d.ok(&[
        "create",
        "--name",
        "c1",
        "-p",
        "127.0.0.1::80",
        "busybox",
        "sleep",
        "60",
    ]);
    assert!(list().starts_with("c1 created"), "{}", list());
    d.ok(&["rename", "c1", "c2"]);
    assert!(list().starts_with("c2 created"), "{}", list());
    d.ok(&["start", "c2"]);
    let running = list();
    assert!(running.starts_with("c2 running 127.0.0.1:"), "{running}");
    assert!(running.trim_end().ends_with("bridge"), "{running}");
    d.ok(&["network", "connect", "cachenet", "c2"]);
    assert!(list().trim_end().ends_with("bridge,cachenet"), "{}", list());
    d.ok(&["stop", "-t", "0", "c2"]);
    assert!(list().starts_with("c2 exited"), "{}", list());
    d.ok(&["rm", "c2"]);
    assert_eq!(list(), "");
    d.ok(&["network", "rm", "cachenet"]);
}
