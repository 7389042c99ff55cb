//! `berth version` against a real daemon: the client's and the daemon's versions.

mod common;

use common::{Daemon, BERTH};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn version_shows_the_client_and_the_daemon() {
    let d = Daemon::start();
    let out = d.ok(&["version"]);
    assert!(out.starts_with("Client:\n"), "{out}");
    assert!(out.contains("\nServer:\n"), "{out}");
    let expected = format!(" Version:    {}\n", env!("CARGO_PKG_VERSION"));
    assert_eq!(out.matches(&expected).count(), 2, "{out}");
    assert!(out.contains(" API:        v1\n"), "{out}");
}

/// `berth version | head -1`, `berth ps | head`: a client whose reader went ends as a Unix
/// filter does (killed by SIGPIPE, nothing on stderr), not with a panic in `println!`.
#[test]
fn a_client_whose_stdout_reader_went_ends_quietly() {
    let d = Daemon::start();
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = Command::new(BERTH)
        .arg("-H")
        .arg(d.host())
        .arg("version")
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run berth");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGPIPE),
        "{:?}: {stderr}",
        out.status
    );
    assert!(stderr.is_empty(), "{stderr}");
    // Other failures are still reported on stderr with an exit code, not a silent death.
    let gone = Command::new(BERTH)
        .args(["-H", "unix:///nonexistent/berth.sock", "ps"])
        .stdin(Stdio::null())
        .output()
        .expect("run berth");
    assert_eq!(gone.status.signal(), None, "{:?}", gone.status);
    assert!(!gone.status.success());
    assert!(!gone.stderr.is_empty());
}
