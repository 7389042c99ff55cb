//! `berth version` against a real daemon: the client's and the daemon's versions.

mod common;

use common::Daemon;

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
