//! The auth verbs against a real daemon (issue 12): `berth user …`, `berth token …`,
//! `berth board …`, `berth audit`, `berth whoami`, over the unix socket (root) and over TCP
//! with a token. Written against the API contract of wire/src/auth.rs; they need the
//! daemon's auth routes and middleware.

mod common;

use common::{berth_with_stdin, fails, stderr, stdout, Daemon, BERTH};
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};

/// `berth -H tcp://127.0.0.1:PORT ARGS…` with `BERTH_TOKEN` set to `token` (or unset).
fn over_tcp(d: &Daemon, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(BERTH);
    command
        .arg("-H")
        .arg(format!("tcp://127.0.0.1:{}", d.port))
        .args(args)
        .env_remove("BERTH_HOST")
        .env_remove("BERTH_TOKEN")
        .stdin(Stdio::null());
    if let Some(token) = token {
        command.env("BERTH_TOKEN", token);
    }
    command.output().expect("run berth")
}

fn add_user(d: &Daemon, name: &str, role: &str, password: &str) {
    let out = berth_with_stdin(
        d,
        &["user", "add", name, "--role", role, "--password-stdin"],
        &format!("{password}\n"),
    );
    assert!(
        out.status.success(),
        "user add {name}: {}\n{}",
        stderr(&out),
        d.daemon_log()
    );
    assert_eq!(stdout(&out), format!("{name}\n"));
}

#[test]
fn without_a_terminal_user_add_asks_for_password_stdin() {
    // Needs no daemon route: the password is read before any request. setsid(2) leaves the
    // controlling terminal behind, so /dev/tty cannot be opened.
    let d = Daemon::start();
    let mut command = Command::new(BERTH);
    command
        .arg("-H")
        .arg(d.host())
        .args(["user", "add", "alice"])
        .stdin(Stdio::null());
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let out = command.output().expect("run berth");
    fails(&out, "--password-stdin");
}

#[test]
fn users_are_added_listed_changed_and_removed() {
    let d = Daemon::start();
    add_user(&d, "alice", "operator", "correct horse battery");
    add_user(&d, "bob", "viewer", "tr0ub4dor&3");

    let ls = d.ok(&["user", "ls"]);
    let mut lines = ls.lines();
    let header = lines.next().unwrap();
    for column in ["NAME", "ROLE", "CREATED", "PASSWORD CHANGED"] {
        assert!(header.contains(column), "{ls}");
    }
    assert!(
        ls.lines()
            .any(|l| l.starts_with("alice") && l.contains("operator")),
        "{ls}"
    );
    assert!(
        ls.lines()
            .any(|l| l.starts_with("bob") && l.contains("viewer")),
        "{ls}"
    );

    let json = d.ok(&["user", "ls", "--format", "json"]);
    let users: Vec<berth_wire::auth::User> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("a User a line"))
        .collect();
    assert!(users
        .iter()
        .any(|u| u.name == "alice" && u.role == berth_wire::Role::Operator));

    d.ok(&["user", "role", "bob", "admin"]);
    assert!(d
        .ok(&["user", "ls"])
        .lines()
        .any(|l| l.starts_with("bob") && l.contains("admin")));
    let out = d.berth(&["user", "role", "bob", "root"]);
    fails(&out, "invalid role");

    let out = berth_with_stdin(
        &d,
        &["user", "passwd", "alice", "--password-stdin"],
        "new pass\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // A duplicate is refused; removing one that is not there fails, the others go.
    let out = berth_with_stdin(
        &d,
        &["user", "add", "alice", "--password-stdin"],
        "whatever pw\n",
    );
    assert!(!out.status.success(), "a second alice");
    let out = d.berth(&["user", "rm", "bob", "nosuchuser"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "bob\n");
    assert!(!d.ok(&["user", "ls"]).contains("bob"));
}

#[test]
fn a_token_lets_the_cli_in_over_tcp() {
    let d = Daemon::start();
    // Over the socket the CLI is root.
    let me = d.ok(&["whoami"]);
    assert!(me.contains("User:  root") && me.contains("admin"), "{me}");

    // Over TCP without a token: refused, with how to get one.
    let out = over_tcp(&d, None, &["ps"]);
    fails(&out, "set BERTH_TOKEN or --token-file");

    add_user(&d, "alice", "operator", "correct horse battery");
    // Root makes a token (its own); only the value goes to stdout.
    let created = d.berth(&["token", "create", "--name", "ci", "--expires", "30d"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_string();
    assert_eq!(stdout(&created).lines().count(), 1, "{}", stdout(&created));
    assert!(!token.is_empty() && !token.contains(' '), "{token:?}");

    let me = over_tcp(&d, Some(&token), &["whoami"]);
    assert!(me.status.success(), "{}", stderr(&me));
    assert!(
        stdout(&me).contains("Via:   an API token"),
        "{}",
        stdout(&me)
    );
    let ps = over_tcp(&d, Some(&token), &["ps"]);
    assert!(ps.status.success(), "{}", stderr(&ps));

    // --token-file does the same, trimmed.
    let file = d.dir.path().join("token");
    std::fs::write(&file, format!("  {token}\n")).unwrap();
    let out = Command::new(BERTH)
        .args(["-H", &format!("tcp://127.0.0.1:{}", d.port), "--token-file"])
        .arg(&file)
        .arg("whoami")
        .env_remove("BERTH_TOKEN")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    // Listed (never with its value), then revoked: refused from then on.
    let ls = d.ok(&["token", "ls"]);
    for column in [
        "ID",
        "NAME",
        "OWNER",
        "ROLE",
        "CREATED",
        "EXPIRES",
        "LAST USED",
    ] {
        assert!(ls.lines().next().unwrap().contains(column), "{ls}");
    }
    let row = ls
        .lines()
        .find(|l| l.contains(" ci "))
        .expect("the ci token");
    assert!(row.contains("in 4 weeks"), "{row}");
    assert!(!ls.contains(&token), "a token's value is never listed");
    let id = row.split_whitespace().next().unwrap();
    assert_eq!(d.ok(&["token", "revoke", id]), format!("{id}\n"));
    let out = over_tcp(&d, Some(&token), &["whoami"]);
    assert!(!out.status.success(), "a revoked token still works");
    assert!(!d.ok(&["token", "ls"]).contains(" ci "));
}

#[test]
fn boards_and_the_audit_log() {
    let d = Daemon::start();
    let token = d.ok(&["token", "create"]).trim().to_string();

    // Over the socket: the path, and a hint to prefix the dashboard's address.
    let out = d.berth(&["board", "create", "--name", "wall"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("/board/"), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("dashboard's address"),
        "{}",
        stderr(&out)
    );

    // Over TCP: the full address, which serves the board without a login.
    let out = over_tcp(&d, Some(&token), &["board", "create", "--expires", "12h"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let url = stdout(&out).trim().to_string();
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{}/board/", d.port)),
        "{url}"
    );

    let ls = d.ok(&["board", "ls"]);
    assert!(ls.contains("wall"), "{ls}");
    let id = ls
        .lines()
        .find(|l| l.contains("wall"))
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    assert_eq!(d.ok(&["board", "revoke", &id]), format!("{id}\n"));
    assert!(!d.ok(&["board", "ls"]).contains("wall"));

    // The token's use over TCP is in the audit log, newest first.
    let audit = d.ok(&["audit", "--limit", "100"]);
    let header = audit.lines().next().unwrap();
    for column in [
        "TIME", "ACTOR", "KIND", "PEER", "ACTION", "OBJECT", "STATUS",
    ] {
        assert!(header.contains(column), "{audit}");
    }
    assert!(audit.contains("POST /api/v1/boards"), "{audit}");
    let json = d.ok(&["audit", "--limit", "2", "--format", "json"]);
    let entries: Vec<berth_wire::auth::AuditEntry> = json
        .lines()
        .map(|l| serde_json::from_str(l).expect("an AuditEntry a line"))
        .collect();
    assert_eq!(entries.len(), 2, "{json}");
    assert!(entries[0].seq > entries[1].seq, "newest first: {json}");
}
