//! The attacks of issue 12 against a real daemon, and the login rules: a foreign Host (DNS
//! rebinding) creating a privileged container, a cross-origin text/plain POST removing one, a
//! cross-origin WebSocket reading the event history; anonymous calls; token revocation and user
//! removal taking effect on the next request; the login rate limit.

mod common;

use common::web::{self, send};
use common::{Daemon, ADMIN_PASSWORD};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

fn running(d: &Daemon, name: &str) -> bool {
    d.ok(&["ps", "-a", "--format", "{{.Names}}"])
        .lines()
        .any(|l| l.trim() == name)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_attacks_of_a_foreign_page_change_nothing() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "victim", "busybox", "sleep", "600"]);
    let session = web::admin(&d).await;

    // DNS rebinding: a foreign Host, even with the admin's cookie, is not answered.
    let body = br#"{"image":"busybox","privileged":true,"volumes":["/:/h"],"cmd":["sh"]}"#;
    let cookie = format!("berth_session={}", session.cookie);
    let answer = send(
        d.port,
        "POST",
        "/api/v1/containers",
        &[
            ("Host", "evil.example"),
            ("Content-Type", "application/json"),
            ("Cookie", &cookie),
        ],
        body,
    )
    .await;
    assert_eq!(answer.status, 421, "{answer:?}");
    assert_eq!(answer.json()["error"]["code"], "misdirected_request");
    assert_eq!(
        d.ok(&["ps", "-a", "-q"]).lines().count(),
        1,
        "a container was created"
    );

    // A "simple" cross-origin POST (text/plain: no preflight) to the server function.
    for origin in ["http://evil.example", "http://127.0.0.2:9999"] {
        let answer = send(
            d.port,
            "POST",
            "/ui/fn/apply_action",
            &[
                ("Origin", origin),
                ("Content-Type", "text/plain"),
                ("Cookie", &cookie),
                ("Sec-Fetch-Site", "cross-site"),
            ],
            br#"{"id":"victim","action":"forceremove"}"#,
        )
        .await;
        assert_eq!(answer.status, 403, "{origin}: {answer:?}");
    }
    // Query-string-only POSTs with a foreign Origin.
    for path in [
        "/api/v1/containers/victim/kill",
        "/api/v1/containers/prune",
        "/api/v1/images/prune",
    ] {
        let answer = send(
            d.port,
            "POST",
            path,
            &[("Origin", "http://evil.example"), ("Cookie", &cookie)],
            b"",
        )
        .await;
        assert_eq!(answer.status, 403, "{path}: {answer:?}");
    }
    // The same origin without the CSRF token.
    let origin = format!("http://127.0.0.1:{}", d.port);
    let answer = send(
        d.port,
        "DELETE",
        "/api/v1/containers/victim?force=true",
        &[("Origin", &origin), ("Cookie", &cookie)],
        b"",
    )
    .await;
    assert_eq!(answer.status, 403, "{answer:?}");
    assert!(running(&d, "victim"), "the container was removed");

    // A cross-origin WebSocket cannot read the event history.
    let url = format!("ws://127.0.0.1:{}/api/v1/events/ws?cursor=0", d.port);
    let mut request = url.as_str().into_client_request().expect("request");
    request
        .headers_mut()
        .insert("origin", "http://127.0.0.2:9999".parse().unwrap());
    request
        .headers_mut()
        .insert("cookie", cookie.parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 403)
        }
        other => panic!(
            "the upgrade was not refused: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }

    // Every refusal is in the audit log.
    let audit = web::as_session(&d, &session, "GET", "/api/v1/audit?limit=100", &[], b"").await;
    assert_eq!(audit.status, 200, "{audit:?}");
    let entries = audit.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let refused = entries.iter().filter(|e| e["status"] == 403).count();
    assert!(refused >= 7, "{refused} refusals audited: {entries:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn anonymous_calls_are_refused_and_pages_lead_to_the_login() {
    let d = Daemon::start();
    let answer = send(d.port, "GET", "/api/v1/containers", &[], b"").await;
    assert_eq!(answer.status, 401, "{answer:?}");
    assert_eq!(answer.json()["error"]["code"], "unauthorized");
    let answer = send(
        d.port,
        "GET",
        "/containers?all=1",
        &[("Accept", "text/html")],
        b"",
    )
    .await;
    assert_eq!(answer.status, 303, "{answer:?}");
    assert_eq!(
        answer.header("location"),
        Some("/login?next=/containers%3Fall%3D1")
    );
    let answer = send(d.port, "GET", "/healthz", &[], b"").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "ok\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_tokens_and_removed_users_stop_at_the_next_request() {
    let d = Daemon::start();
    let admin = web::admin(&d).await;
    let created = web::as_session(
        &d,
        &admin,
        "POST",
        "/api/v1/tokens",
        &[("Content-Type", "application/json")],
        br#"{"name":"ci","role":"operator"}"#,
    )
    .await;
    assert_eq!(created.status, 201, "{created:?}");
    let token = created.json()["token"].as_str().expect("token").to_string();
    let id = created.json()["info"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    let bearer = format!("Bearer {token}");
    let me = send(
        d.port,
        "GET",
        "/api/v1/auth/me",
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_eq!(me.status, 200, "{me:?}");
    assert_eq!(me.json()["role"], "operator");
    // An operator token cannot reach admin routes.
    let users = send(
        d.port,
        "GET",
        "/api/v1/users",
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_eq!(users.status, 403, "{users:?}");
    let revoked = web::as_session(
        &d,
        &admin,
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        &[],
        b"",
    )
    .await;
    assert_eq!(revoked.status, 204, "{revoked:?}");
    let me = send(
        d.port,
        "GET",
        "/api/v1/auth/me",
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_eq!(me.status, 401, "a revoked token still works: {me:?}");

    // A viewer's session ends when the user is removed.
    let added = web::as_session(
        &d,
        &admin,
        "POST",
        "/api/v1/users",
        &[("Content-Type", "application/json")],
        br#"{"name":"wall","role":"viewer","password":"a long password"}"#,
    )
    .await;
    assert_eq!(added.status, 201, "{added:?}");
    let wall = web::login(&d, "wall", "a long password").await;
    let list = web::as_session(&d, &wall, "GET", "/api/v1/containers", &[], b"").await;
    assert_eq!(list.status, 200);
    let stop = web::as_session(&d, &wall, "POST", "/api/v1/containers/x/stop", &[], b"").await;
    assert_eq!(stop.status, 403, "a viewer may not stop: {stop:?}");
    let removed = web::as_session(&d, &admin, "DELETE", "/api/v1/users/wall", &[], b"").await;
    assert_eq!(removed.status, 204, "{removed:?}");
    let list = web::as_session(&d, &wall, "GET", "/api/v1/containers", &[], b"").await;
    assert_eq!(
        list.status, 401,
        "a removed user's session still works: {list:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_logins_are_rate_limited_per_user() {
    let d = Daemon::start();
    let wrong = br#"{"username":"admin","password":"not the password"}"#;
    let mut statuses = Vec::new();
    for _ in 0..7 {
        let answer = send(
            d.port,
            "POST",
            "/api/v1/auth/login",
            &[("Content-Type", "application/json")],
            wrong,
        )
        .await;
        statuses.push(answer.status);
        if answer.status == 429 {
            assert!(answer.header("retry-after").is_some(), "{answer:?}");
        }
    }
    assert_eq!(statuses[..5], [401; 5], "{statuses:?}");
    assert_eq!(statuses[5..], [429, 429], "{statuses:?}");
    // Even the right password waits out the limit.
    let right = serde_json::json!({"username": "admin", "password": ADMIN_PASSWORD}).to_string();
    let answer = send(
        d.port,
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json")],
        right.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 429, "{answer:?}");
}
