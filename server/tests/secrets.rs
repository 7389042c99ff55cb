//! Secrets stay secret, and the login durations are the operator's: passwords, API tokens,
//! board-link secrets and session cookies never appear in any answer but the one that hands
//! them out, in the daemon's log (at debug level), in the audit log or in the database file;
//! `--session-idle` and `--session-max` end sessions, and a contradictory pair is refused.

mod common;

use common::web::{self, as_session, send};
use common::{Daemon, ADMIN_PASSWORD};
use std::time::Duration;

const CAROL_FIRST: &str = "carol-first-Secret-4411";
const CAROL_SECOND: &str = "carol-second-Secret-9920";
const WRONG: &str = "a-wrong-Secret-7755";

fn json(value: serde_json::Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

/// Every byte of the data root's database (and its write-ahead log), as lossy text.
fn database_text(d: &Daemon) -> String {
    let mut text = String::new();
    for name in ["berth.db", "berth.db-wal"] {
        if let Ok(bytes) = std::fs::read(d.data_root.join(name)) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_shows_in_answers_logs_audit_or_database() {
    let d = Daemon::start_with_env(&[], &[("BERTH_LOG", "debug")]);
    let admin = web::admin(&d).await;
    let mut answers: Vec<String> = Vec::new();
    let json_type = [("Content-Type", "application/json")];

    // A failed login, and login bodies that are not what the server expects.
    let wrong = json(serde_json::json!({"username": "admin", "password": WRONG}));
    let answer = send(d.port, "POST", "/api/v1/auth/login", &json_type, &wrong).await;
    assert_eq!(answer.status, 401, "{answer:?}");
    answers.push(answer.body);
    for body in [
        format!(r#"{{"username":"admin","password":"{WRONG}""#),
        format!(r#"{{"username":"admin","password":"{WRONG}","otp":1}}"#),
        format!(r#"{{"username":["{WRONG}"],"password":"{WRONG}"}}"#),
    ] {
        let answer = send(
            d.port,
            "POST",
            "/api/v1/auth/login",
            &json_type,
            body.as_bytes(),
        )
        .await;
        assert!(
            (400..500).contains(&answer.status),
            "{body}: {}",
            answer.status
        );
        answers.push(answer.body);
    }

    // A user made, given a new password, logged in and out.
    let create =
        json(serde_json::json!({"name": "carol", "role": "operator", "password": CAROL_FIRST}));
    let answer = as_session(&d, &admin, "POST", "/api/v1/users", &json_type, &create).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    answers.push(answer.body);
    let change = json(serde_json::json!({"password": CAROL_SECOND}));
    let answer = as_session(
        &d,
        &admin,
        "PUT",
        "/api/v1/users/carol/password",
        &json_type,
        &change,
    )
    .await;
    assert!(answer.status < 300, "{answer:?}");
    answers.push(answer.body);
    let carol = web::login(&d, "carol", CAROL_SECOND).await;
    let answer = as_session(&d, &carol, "GET", "/api/v1/auth/me", &[], b"").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answers.push(answer.body);
    let answer = as_session(&d, &carol, "POST", "/api/v1/auth/logout", &[], b"").await;
    assert!(answer.status < 300, "{answer:?}");
    answers.push(answer.body);

    // A token: its value is in the answer that creates it, and nowhere after.
    let request = json(serde_json::json!({"name": "ci", "role": "viewer"}));
    let answer = as_session(&d, &admin, "POST", "/api/v1/tokens", &json_type, &request).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let token = answer.json()["token"]
        .as_str()
        .expect("a token value")
        .to_string();
    let bearer = format!("Bearer {token}");
    let answer = send(
        d.port,
        "GET",
        "/api/v1/containers",
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answers.push(answer.body);
    // A refused mutation by the token is audited too.
    let answer = send(
        d.port,
        "POST",
        "/api/v1/volumes",
        &[
            ("Authorization", &bearer),
            ("Content-Type", "application/json"),
        ],
        br#"{"name":"v"}"#,
    )
    .await;
    assert_eq!(answer.status, 403, "{answer:?}");
    answers.push(answer.body);

    // A board link: its secret likewise.
    let request = json(serde_json::json!({"name": "wall"}));
    let answer = as_session(&d, &admin, "POST", "/api/v1/boards", &json_type, &request).await;
    assert_eq!(answer.status, 201, "{answer:?}");
    let path = answer.json()["path"].as_str().expect("a path").to_string();
    let board_secret = path
        .strip_prefix("/board/")
        .expect("/board/<secret>")
        .to_string();
    let answer = send(d.port, "GET", &path, &[], b"").await;
    assert_eq!(answer.status, 200, "{}", answer.status);

    // Everything a reader can see afterwards.
    for path in [
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/boards",
        "/api/v1/audit?limit=1000",
        "/api/v1/auth/me",
        "/metrics",
    ] {
        let answer = as_session(&d, &admin, "GET", path, &[], b"").await;
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
        answers.push(answer.body);
    }
    let audit = as_session(&d, &admin, "GET", "/api/v1/audit?limit=1000", &[], b"").await;
    let entries = audit.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        entries.len() >= 6,
        "the mutations were audited: {}",
        audit.body
    );

    let secrets = [
        ("the admin's password", ADMIN_PASSWORD.to_string()),
        ("a wrong password", WRONG.to_string()),
        ("carol's first password", CAROL_FIRST.to_string()),
        ("carol's second password", CAROL_SECOND.to_string()),
        ("the API token", token.clone()),
        ("the board link's secret", board_secret.clone()),
        ("the admin's session cookie", admin.cookie.clone()),
        ("carol's session cookie", carol.cookie.clone()),
    ];
    let log = d.daemon_log();
    assert!(
        log.contains("DEBUG"),
        "the daemon logged at debug level: {log}"
    );
    let database = database_text(&d);
    for (what, secret) in &secrets {
        for answer in &answers {
            assert!(!answer.contains(secret), "{what} is in an answer: {answer}");
        }
        assert!(!log.contains(secret), "{what} is in the daemon's log");
        assert!(!database.contains(secret), "{what} is in the database file");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_after_the_configured_idle_time() {
    let d = Daemon::start_with(&["--session-idle".into(), "2s".into()]);
    let session = web::admin(&d).await;
    let answer = as_session(&d, &session, "GET", "/api/v1/auth/me", &[], b"").await;
    assert_eq!(answer.status, 200, "{answer:?}");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let answer = as_session(&d, &session, "GET", "/api/v1/auth/me", &[], b"").await;
    assert_eq!(answer.status, 401, "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_end_at_the_configured_maximum_however_used() {
    let d = Daemon::start_with(&[
        "--session-idle".into(),
        "2s".into(),
        "--session-max".into(),
        "3s".into(),
    ]);
    let session = web::admin(&d).await;
    // Used every half second, so never idle: only the maximum can end it.
    let start = std::time::Instant::now();
    let mut ended = None;
    while start.elapsed() < Duration::from_secs(6) {
        let answer = as_session(&d, &session, "GET", "/api/v1/auth/me", &[], b"").await;
        if answer.status == 401 {
            ended = Some(start.elapsed());
            break;
        }
        assert_eq!(answer.status, 200, "{answer:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ended = ended.expect("the session ended");
    assert!(
        ended >= Duration::from_millis(2500),
        "ended after {ended:?}"
    );
}

#[test]
fn an_idle_time_longer_than_the_maximum_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(common::BERTH)
        .args(["serve", "--data-root"])
        .arg(dir.path().join("data"))
        .args(["--socket"])
        .arg(dir.path().join("s.sock"))
        .args(["--listen", &format!("127.0.0.1:{}", common::free_port())])
        .args(["--session-idle", "2d", "--session-max", "1d"])
        .output()
        .expect("run berth serve");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--session-idle") && stderr.contains("--session-max"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("s.sock").exists(),
        "refused before serving"
    );
}
