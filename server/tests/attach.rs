//! Attaching to containers against a real daemon: `run -i` pipes stdin and ends it with the
//! client's, `run -it` drives a terminal (size, resize, detach keys), `attach` comes back to a
//! running container's stdin and output and returns its exit code, `start -ai` re-runs a
//! stopped one showing only the new run's output; docker's errors for the rest.

mod common;

use common::terminal::{exit_status, Terminal};
use common::{berth_with_stdin, eventually, fails, soon, stdout, Daemon, BERTH};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Echoes each line as `got:LINE` until `quit`, which exits 3.
const SCRIPT: &str = "while read l; do [ \"$l\" = quit ] && exit 3; echo got:$l; done";

fn running(d: &Daemon, name: &str) -> bool {
    d.inspect(name)["State"]["Running"].as_bool() == Some(true)
}

#[test]
fn run_i_pipes_stdin_and_its_end_ends_the_containers() {
    let d = Daemon::start();
    d.load_busybox();
    let out = berth_with_stdin(
        &d,
        &["run", "-i", "--rm", "busybox", "cat"],
        "hello\nworld\n",
    );
    assert_eq!(stdout(&out), "hello\nworld\n");
    assert_eq!(out.status.code(), Some(0));
    let out = berth_with_stdin(
        &d,
        &[
            "run",
            "-i",
            "busybox",
            "sh",
            "-c",
            "read x; echo got $x >&2; exit $x",
        ],
        "5\n",
    );
    assert_eq!(out.status.code(), Some(5));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "got 5\n");
    // Without -i the container's stdin is empty, whatever the CLI's is.
    let out = berth_with_stdin(&d, &["run", "--rm", "busybox", "cat"], "ignored\n");
    assert_eq!(stdout(&out), "");
    assert_eq!(out.status.code(), Some(0));
    // -t with -i needs a terminal, as docker says.
    fails(
        &berth_with_stdin(&d, &["run", "-it", "busybox", "true"], ""),
        "the input device is not a TTY",
    );
}

#[test]
fn run_it_drives_a_terminal_and_attach_comes_back_after_detaching() {
    let d = Daemon::start();
    d.load_busybox();
    let (mut term, mut cli) = Terminal::spawn(
        &d,
        &["run", "-it", "--name", "shell", "busybox", "sh"],
        30,
        100,
    );
    term.expect("# ");
    term.send(b"stty size; tty\r");
    term.expect("30 100");
    term.expect("/dev/pts/0");
    term.resize(41, 123);
    let mut resized = false;
    for _ in 0..100 {
        term.send(b"stty size\r");
        if term.expect("# ").contains("41 123") {
            resized = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(resized, "stty size never reported 41 123");
    // ctrl-p ctrl-q: the CLI leaves with 0, the container runs on.
    term.send(b"\x10\x11");
    assert_eq!(exit_status(&mut cli), Some(0));
    assert!(running(&d, "shell"), "detaching stopped the container");

    // Back in, with other detach keys: the same shell, its state kept.
    let (mut term, mut cli) = Terminal::spawn(
        &d,
        &["attach", "--detach-keys", "ctrl-x,x", "shell"],
        30,
        100,
    );
    term.send(b"V=kept; echo $((6*7))\r");
    term.expect("42");
    term.send(b"\x18x");
    assert_eq!(exit_status(&mut cli), Some(0));
    assert!(running(&d, "shell"));
    let (mut term, mut cli) = Terminal::spawn(&d, &["attach", "shell"], 30, 100);
    term.send(b"echo v=$V\r");
    term.expect("v=kept");
    term.send(b"exit 7\r");
    assert_eq!(exit_status(&mut cli), Some(7));
    assert!(!running(&d, "shell"));
}

#[test]
fn attach_relays_stdin_and_output_and_returns_the_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run", "-d", "-i", "--name", "reader", "busybox", "sh", "-c", SCRIPT,
    ]);
    converse(&d, "reader");
    assert!(eventually(Duration::from_secs(30), || !running(
        &d, "reader"
    )));

    let events = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &soon(),
        "--filter",
        "event=attach",
        "--format",
        "{{.Actor.Attributes.name}}",
    ]);
    assert_eq!(events, "reader\n");

    // docker's refusals.
    fails(
        &d.berth(&["attach", "reader"]),
        "You cannot attach to a stopped container, start it first",
    );
    fails(&d.berth(&["attach", "nosuch"]), "no such container");
    d.ok(&["run", "-d", "--name", "paused", "busybox", "sleep", "1000"]);
    d.ok(&["pause", "paused"]);
    fails(
        &d.berth(&["attach", "paused"]),
        "You cannot attach to a paused container, unpause it first",
    );
    d.ok(&["rm", "-f", "paused"]);
    fails(
        &d.berth(&["attach", "--detach-keys", "alt-q", "reader"]),
        "invalid detach keys",
    );
}

#[test]
fn start_ai_reruns_a_container_and_shows_only_the_new_runs_output() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "create",
        "-i",
        "--name",
        "again",
        "busybox",
        "sh",
        "-c",
        "read x; echo got $x; exit 4",
    ]);
    let config = &d.inspect("again")["Config"];
    assert_eq!(config["OpenStdin"], true);
    assert_eq!(config["StdinOnce"], true);
    let out = berth_with_stdin(&d, &["start", "-a", "-i", "again"], "first\n");
    assert_eq!(stdout(&out), "got first\n");
    assert_eq!(out.status.code(), Some(4));
    let out = berth_with_stdin(&d, &["start", "-ai", "again"], "second\n");
    assert_eq!(
        stdout(&out),
        "got second\n",
        "the earlier run's output came back"
    );
    assert_eq!(out.status.code(), Some(4));
    fails(
        &d.berth(&["start", "-a", "again", "again"]),
        "cannot start and attach multiple containers",
    );
    // Resizing needs a running container with a terminal.
    d.ok(&["run", "-d", "--name", "plain", "busybox", "sleep", "1000"]);
    let (status, body) = post(&d, "/api/v1/containers/plain/resize?h=10&w=10");
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("no terminal"), "{body}");
    d.ok(&["rm", "-f", "plain"]);
}

/// `berth attach NAME` with piped stdio: a line in, its echo out, then `quit` ends the
/// container's loop with exit code 3, which the CLI returns.
fn converse(d: &Daemon, name: &str) {
    let mut cli = Command::new(BERTH)
        .args(["-H", &d.host(), "attach", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth attach");
    let mut input = cli.stdin.take().unwrap();
    let mut output = BufReader::new(cli.stdout.take().unwrap());
    input.write_all(b"one\n").unwrap();
    let mut line = String::new();
    output.read_line(&mut line).unwrap();
    assert_eq!(line, "got:one\n");
    input.write_all(b"quit\n").unwrap();
    drop(input);
    let status = cli.wait().unwrap();
    assert_eq!(status.code(), Some(3));
}

#[test]
fn attach_works_after_the_daemon_was_killed() {
    let mut d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run", "-d", "-i", "--name", "survivor", "busybox", "sh", "-c", SCRIPT,
    ]);
    d.kill9();
    d.spawn();
    converse(&d, "survivor");
}

fn post(d: &Daemon, path: &str) -> (u16, String) {
    use std::io::Read;
    let mut stream = std::os::unix::net::UnixStream::connect(&d.socket).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.0\r\nHost: berth\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    common::parse_response(&text)
}
