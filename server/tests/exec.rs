//! `berth exec` against a real daemon: the command joins every namespace and the cgroup of a
//! running container, gets its user, environment and working directory, its exit status comes
//! back, stdin is piped with -i, and -t drives a real terminal (prompt, resize, exit code).

mod common;

use common::terminal::{exit_status, Terminal};
use common::{berth_with_stdin, eventually, fails, stderr, stdout, Daemon};
use std::io::{Read, Write};
use std::time::Duration;

fn running(d: &Daemon, name: &str, extra: &[&str]) {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["busybox", "sleep", "1000"]);
    d.ok(&args);
}

#[test]
fn exec_returns_output_and_exit_code_and_pipes_stdin() {
    let d = Daemon::start();
    d.load_busybox();
    running(&d, "box", &["-e", "FROM_RUN=1"]);
    let out = d.berth(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert_eq!(out.status.code(), Some(3), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "out\n");
    assert_eq!(stderr(&out), "err\n");

    let out = berth_with_stdin(&d, &["exec", "-i", "box", "cat"], "hi\nthere\n");
    assert_eq!(stdout(&out), "hi\nthere\n", "stderr: {}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    // Without -i the command's stdin is empty.
    let out = berth_with_stdin(&d, &["exec", "box", "cat"], "ignored\n");
    assert_eq!(stdout(&out), "");

    assert_eq!(
        d.ok(&["exec", "-u", "nobody", "box", "id", "-u"]),
        "65534\n"
    );
    assert_eq!(
        d.ok(&["exec", "-u", "1234:5678", "box", "id", "-g"]),
        "5678\n"
    );
    assert_eq!(d.ok(&["exec", "-w", "/tmp", "box", "pwd"]), "/tmp\n");
    assert_eq!(
        d.ok(&[
            "exec",
            "-e",
            "FOO=bar",
            "box",
            "sh",
            "-c",
            "echo $FOO $FROM_RUN"
        ]),
        "bar 1\n"
    );
    assert_eq!(
        d.ok(&[
            "exec",
            "-e",
            "FROM_RUN=2",
            "box",
            "sh",
            "-c",
            "echo $FROM_RUN"
        ]),
        "2\n"
    );
}

#[test]
fn exec_joins_the_containers_namespaces_and_cgroup() {
    let d = Daemon::start();
    d.load_busybox();
    running(&d, "ns", &[]);
    let inspect = d.inspect("ns");
    let init = inspect["State"]["Pid"].as_i64().expect("pid");
    let id = inspect["Id"].as_str().expect("id").to_string();
    for ns in ["mnt", "uts", "ipc", "net", "pid", "cgroup"] {
        let inside = d.ok(&["exec", "ns", "readlink", &format!("/proc/self/ns/{ns}")]);
        let host = std::fs::read_link(format!("/proc/{init}/ns/{ns}")).expect("host ns link");
        assert_eq!(
            inside.trim(),
            host.to_string_lossy(),
            "{ns} namespace differs"
        );
    }
    // The container's processes, its command as PID 1.
    let ps = d.ok(&["exec", "ns", "ps", "-o", "pid,args"]);
    assert!(
        ps.lines().any(|l| l.trim() == "1 sleep 1000"),
        "ps inside the container:\n{ps}"
    );
    assert_eq!(d.ok(&["exec", "ns", "hostname"]).trim(), &id[..12]);
    // The same cgroup as the init, seen from the same cgroup namespace.
    assert_eq!(
        d.ok(&["exec", "ns", "cat", "/proc/self/cgroup"]),
        d.ok(&["exec", "ns", "cat", "/proc/1/cgroup"])
    );
    // The same mounts (the container's rootfs and /etc files, not the host's).
    assert_eq!(
        d.ok(&["exec", "ns", "cat", "/proc/self/mountinfo"]),
        d.ok(&["exec", "ns", "cat", "/proc/1/mountinfo"])
    );
}

#[test]
fn exec_errors_are_clear() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "--name", "done", "busybox", "true"]);
    let out = d.berth(&["exec", "done", "true"]);
    fails(&out, "container done is not running");

    running(&d, "box", &[]);
    let out = d.berth(&["exec", "box", "nosuchcmd"]);
    assert_eq!(out.status.code(), Some(127), "stderr: {}", stderr(&out));
    assert!(
        stderr(&out).contains("executable file not found in $PATH"),
        "{}",
        stderr(&out)
    );
    let out = d.berth(&["exec", "box", "/etc/passwd"]);
    assert_eq!(out.status.code(), Some(126), "stderr: {}", stderr(&out));
    let out = d.berth(&["exec", "-u", "nosuchuser", "box", "true"]);
    fails(&out, "unable to find user nosuchuser");
    let out = d.berth(&["exec", "-w", "/nonexistent", "box", "true"]);
    assert_eq!(out.status.code(), Some(126), "stderr: {}", stderr(&out));
    fails(&out, "/nonexistent");
    d.ok(&["pause", "box"]);
    fails(&d.berth(&["exec", "box", "true"]), "is paused");
    d.ok(&["unpause", "box"]);
    // Nothing the failed attempts started is left in the container.
    let ps = d.ok(&["exec", "box", "ps", "-o", "pid,args"]);
    assert_eq!(ps.lines().count(), 3, "{ps}");
}

/// A tiny HTTP/1.1 request over the daemon's loopback port.
fn http(d: &Daemon, method: &str, path: &str, body: &str) -> (u16, serde_json::Value) {
    let mut stream = std::os::unix::net::UnixStream::connect(&d.socket).expect("connect");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or_default())
}

#[test]
fn exec_inspect_shows_the_exit_code_and_no_exec_survives_the_container() {
    let d = Daemon::start();
    d.load_busybox();
    running(&d, "box", &[]);
    let container_id = d.inspect("box")["Id"].as_str().expect("id").to_string();
    let (status, created) = http(
        &d,
        "POST",
        "/api/v1/containers/box/exec",
        r#"{"Cmd":["sh","-c","exit 5"],"User":"nobody"}"#,
    );
    assert_eq!(status, 201, "{created}");
    let id = created["Id"].as_str().expect("exec id").to_string();
    let (status, _) = http(
        &d,
        "POST",
        &format!("/api/v1/exec/{id}/start"),
        r#"{"Detach":true}"#,
    );
    assert_eq!(status, 200);
    let json = |id: &str| http(&d, "GET", &format!("/api/v1/exec/{id}/json"), "").1;
    assert!(eventually(Duration::from_secs(30), || json(&id)["Running"] == false));
    let inspect = json(&id);
    assert_eq!(inspect["ExitCode"], 5, "{inspect}");
    assert_eq!(inspect["ContainerID"], container_id.as_str());
    assert_eq!(inspect["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(inspect["ProcessConfig"]["arguments"][1], "exit 5");
    assert_eq!(inspect["ProcessConfig"]["user"], "nobody");
    assert!(inspect["Pid"].as_i64().unwrap_or(0) > 0, "{inspect}");
    // An instance runs once.
    let (status, _) = http(
        &d,
        "POST",
        &format!("/api/v1/exec/{id}/start"),
        r#"{"Detach":true}"#,
    );
    assert_eq!(status, 409);
    assert_eq!(http(&d, "GET", "/api/v1/exec/nosuch/json", "").0, 404);

    // A long-running exec dies with its container, helper included.
    d.ok(&["exec", "-d", "box", "sleep", "999"]);
    let (_, created) = http(
        &d,
        "POST",
        "/api/v1/containers/box/exec",
        r#"{"Cmd":["sleep","998"]}"#,
    );
    let id = created["Id"].as_str().expect("exec id").to_string();
    http(
        &d,
        "POST",
        &format!("/api/v1/exec/{id}/start"),
        r#"{"Detach":true}"#,
    );
    let pid = json(&id)["Pid"].as_i64().expect("pid");
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    d.ok(&["kill", "box"]);
    assert_eq!(d.ok(&["wait", "box"]).trim(), "137");
    assert!(eventually(Duration::from_secs(30), || json(&id)["Running"] == false));
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    let helpers = processes_mentioning(&container_id);
    assert!(helpers.is_empty(), "left behind: {helpers:?}");
}

/// Command lines of live processes that mention `text`.
fn processes_mentioning(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(text) {
                found.push(cmdline);
            }
        }
    }
    found
}

#[test]
fn exec_it_drives_a_terminal_with_resize_and_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    running(&d, "tty", &[]);
    let (mut term, mut cli) = Terminal::spawn(&d, &["exec", "-it", "tty", "sh"], 30, 100);
    term.expect("# ");
    // The initial size is the CLI's terminal's.
    term.send(b"stty size; tty\r");
    term.expect("30 100");
    term.expect("/dev/pts/");
    term.send(b"echo $((6*7))\r");
    term.expect("42");
    // Resizing the outer terminal reaches the exec's terminal (SIGWINCH → resize API).
    term.resize(50, 132);
    let mut resized = false;
    for _ in 0..100 {
        term.send(b"stty size\r");
        let seen = term.expect("# ");
        if seen.contains("50 132") {
            resized = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(resized, "stty size never reported 50 132");
    term.send(b"exit 7\r");
    assert_eq!(exit_status(&mut cli), Some(7));
}
