//! Cross-site tests over the whole router: a foreign Host, a foreign Origin or Fetch-Metadata
//! site, and a cookie request without its CSRF token are refused on every route that changes
//! state (server functions and forms included), nothing changes, and each refusal is audited.

use super::access::{is_unsafe, Access, BodyKind};
use super::{Security, SecurityConfig};
use crate::peer::Peer;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use berth_engine::Engine;
use berth_wire::Role;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

async fn setup() -> (tempfile::TempDir, Engine, Router, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = crate::testing::engine(&dir).await;
    engine
        .auth()
        .add_user("admin", PASSWORD, Role::Admin)
        .await
        .expect("admin");
    let new = engine
        .auth()
        .login("admin", PASSWORD, "127.0.0.1".parse().unwrap())
        .await
        .expect("login");
    let app = crate::router::app(Security::new(engine.clone(), SecurityConfig::default()));
    (dir, engine, app, new.secret, new.session.csrf_token)
}

fn address(path: &str) -> String {
    path.replace("{name}", "admin")
        .replace("{*name}", "repo/tags")
        .replace("{host}", "127.0.0.1:1")
        .replace("{id}", "victim")
}

struct Attempt<'a> {
    host: &'a str,
    origin: Option<&'a str>,
    fetch_site: Option<&'a str>,
    content_type: &'a str,
    csrf: Option<&'a str>,
}

fn request(
    method: &axum::http::Method,
    path: &str,
    cookie: &str,
    attempt: &Attempt,
) -> Request<Body> {
    let mut builder = Request::builder()
        .method(method.clone())
        .uri(address(path))
        .header(header::HOST, attempt.host)
        .header(header::COOKIE, format!("berth_session={cookie}"))
        .header(header::CONTENT_TYPE, attempt.content_type);
    if let Some(origin) = attempt.origin {
        builder = builder.header(header::ORIGIN, origin);
    }
    if let Some(site) = attempt.fetch_site {
        builder = builder.header("sec-fetch-site", site);
    }
    if let Some(csrf) = attempt.csrf {
        builder = builder.header("x-csrf-token", csrf);
    }
    let mut request = builder
        .body(Body::from(r#"{"id":"victim","action":"forceremove","name":"evil","role":"admin","password":"pwned-pwned"}"#))
        .expect("request");
    request.extensions_mut().insert(Peer::Tcp {
        addr: "127.0.0.1:40000".parse().unwrap(),
        tls: false,
    });
    request
}

async fn state(engine: &Engine) -> (usize, usize, usize) {
    let auth = engine.auth();
    let users = auth.users().await.expect("users").len();
    let tokens = auth.tokens(None).await.expect("tokens").len();
    let boards = auth.board_links().await.expect("boards").len();
    (users, tokens, boards)
}

#[tokio::test]
async fn cross_site_state_changes_are_refused_everywhere_and_change_nothing() {
    let (_dir, engine, app, cookie, csrf) = setup().await;
    let before = state(&engine).await;
    let audit_before = engine
        .auth()
        .audit(berth_engine::auth::AuditQuery {
            before: None,
            limit: 1000,
            since_ms: None,
        })
        .await
        .expect("audit")
        .entries
        .len();
    let mutating: Vec<_> = crate::router::route_entries()
        .into_iter()
        .filter(|e| is_unsafe(&e.method))
        .collect();
    assert!(mutating.len() > 40, "{}", mutating.len());
    let attempts = [
        // A "simple" cross-origin request: text/plain, no preflight (the issue's attack).
        (
            "foreign origin, text/plain",
            Attempt {
                host: "127.0.0.1:7878",
                origin: Some("http://evil.example"),
                fetch_site: None,
                content_type: "text/plain",
                csrf: Some(&csrf),
            },
            StatusCode::FORBIDDEN,
        ),
        (
            "another loopback origin, a form",
            Attempt {
                host: "127.0.0.1:7878",
                origin: Some("http://127.0.0.2:9999"),
                fetch_site: Some("cross-site"),
                content_type: "application/x-www-form-urlencoded",
                csrf: None,
            },
            StatusCode::FORBIDDEN,
        ),
        (
            "fetch metadata only",
            Attempt {
                host: "127.0.0.1:7878",
                origin: None,
                fetch_site: Some("cross-site"),
                content_type: "application/json",
                csrf: Some(&csrf),
            },
            StatusCode::FORBIDDEN,
        ),
        (
            "DNS rebinding: a foreign Host",
            Attempt {
                host: "evil.example:7878",
                origin: Some("http://evil.example:7878"),
                fetch_site: Some("same-origin"),
                content_type: "application/json",
                csrf: Some(&csrf),
            },
            StatusCode::MISDIRECTED_REQUEST,
        ),
    ];
    let mut failures = Vec::new();
    for entry in &mutating {
        for (what, attempt, expected) in &attempts {
            let response = app
                .clone()
                .oneshot(request(&entry.method, &entry.path, &cookie, attempt))
                .await
                .expect("infallible");
            if response.status() != *expected {
                failures.push(format!(
                    "{} {} ({what}): {}",
                    entry.method,
                    entry.path,
                    response.status()
                ));
            }
        }
        // Same origin, but a cookie without its CSRF token (forms carry it in their body).
        if entry.body != BodyKind::Form && entry.access != Access::Public {
            let attempt = Attempt {
                host: "127.0.0.1:7878",
                origin: Some("http://127.0.0.1:7878"),
                fetch_site: Some("same-origin"),
                content_type: "application/json",
                csrf: None,
            };
            let response = app
                .clone()
                .oneshot(request(&entry.method, &entry.path, &cookie, &attempt))
                .await
                .expect("infallible");
            if response.status() != StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{} {} (no CSRF token): {}",
                    entry.method,
                    entry.path,
                    response.status()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "not refused:\n{}", failures.join("\n"));
    assert_eq!(
        state(&engine).await,
        before,
        "a refused request changed something"
    );
    assert!(
        engine
            .auth()
            .session(&cookie)
            .await
            .expect("session")
            .is_some(),
        "the session was ended"
    );
    let audit_after = engine
        .auth()
        .audit(berth_engine::auth::AuditQuery {
            before: None,
            limit: 1000,
            since_ms: None,
        })
        .await
        .expect("audit")
        .entries;
    let refusals = audit_after.len() - audit_before;
    // Every refused state change is audited (the foreign-Host ones are refused before anything).
    assert!(
        refusals >= mutating.len() * 3,
        "{refusals} audit lines for {} routes",
        mutating.len()
    );
    assert!(audit_after.iter().all(|e| e.status >= 400));
}

#[tokio::test]
async fn websocket_upgrades_from_another_origin_are_refused() {
    let (_dir, _engine, app, cookie, _csrf) = setup().await;
    for path in ["/api/v1/events/ws?cursor=0", "/api/v1/ws"] {
        let mut request = Request::builder()
            .uri(path)
            .header(header::HOST, "127.0.0.1:7878")
            .header(header::ORIGIN, "http://127.0.0.2:9999")
            .header(header::COOKIE, format!("berth_session={cookie}"))
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header("sec-websocket-version", "13")
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
            .body(Body::empty())
            .expect("request");
        request.extensions_mut().insert(Peer::Tcp {
            addr: "127.0.0.1:40000".parse().unwrap(),
            tls: false,
        });
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

#[tokio::test]
async fn a_foreign_host_is_refused_before_routing_even_for_reads() {
    let (_dir, _engine, app, cookie, _csrf) = setup().await;
    for path in [
        "/api/v1/containers",
        "/containers",
        "/login",
        "/healthz",
        "/pkg/berth.js",
    ] {
        let mut request = Request::builder()
            .uri(path)
            .header(header::HOST, "rebound.evil.example")
            .header(header::COOKIE, format!("berth_session={cookie}"))
            .body(Body::empty())
            .expect("request");
        request.extensions_mut().insert(Peer::Tcp {
            addr: "127.0.0.1:40000".parse().unwrap(),
            tls: false,
        });
        let response = app.clone().oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::MISDIRECTED_REQUEST, "{path}");
    }
}

#[tokio::test]
async fn the_unix_socket_is_root_and_needs_no_token_or_origin() {
    let (_dir, _engine, app, _cookie, _csrf) = setup().await;
    let mut request = Request::builder()
        .uri("/api/v1/auth/me")
        .header(header::HOST, "berth")
        .body(Body::empty())
        .expect("request");
    request.extensions_mut().insert(Peer::Unix { uid: Some(0) });
    let response = app.clone().oneshot(request).await.expect("infallible");
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    let me: berth_wire::auth::Me = serde_json::from_slice(&bytes).expect("me");
    assert_eq!((me.username.as_str(), me.role), ("root", Role::Admin));
}
