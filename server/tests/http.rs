//! The HTTP side of a real daemon: the JSON container list, the server-rendered page, and the
//! live log WebSocket read with tokio-tungstenite.

mod common;

use common::web::{self, Session};
use common::{eventually, Daemon};
use futures::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A GET as the logged-in admin's browser sends it.
async fn get(d: &Daemon, session: &Session, path: &str) -> (u16, String) {
    let answer = web::as_session(d, session, "GET", path, &[("Accept", "text/html")], b"").await;
    (answer.status, answer.body)
}

/// A WebSocket handshake request carrying the session cookie.
fn ws_request(
    url: &str,
    session: &Session,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("ws request");
    request.headers_mut().insert(
        "cookie",
        format!("berth_session={}", session.cookie)
            .parse()
            .expect("header"),
    );
    request
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_list_and_the_page_show_the_same_containers() {
    let d = Daemon::start();
    d.load_busybox();
    let out = d.berth(&[
        "run",
        "--name",
        "listed-one",
        "busybox",
        "sh",
        "-c",
        "exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4));
    let session = web::admin(&d).await;
    let (status, body) = get(&d, &session, "/api/v1/containers").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"listed-one\""), "{body}");
    assert!(body.contains("\"exit_code\":4"), "{body}");
    let (status, page) = get(&d, &session, "/containers").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("listed-one"),
        "the page has no server-rendered row: {page}"
    );
    let (status, _) = get(&d, &session, "/api/v1/containers/nope").await;
    assert_eq!(status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_log_websocket_sends_old_and_new_lines_then_the_exit_code() {
    let d = Daemon::start();
    d.load_busybox();
    let id = d.ok(&[
        "run",
        "-d",
        "busybox",
        "sh",
        "-c",
        "i=0; while [ $i -lt 15 ]; do echo line $i; i=$((i+1)); sleep 0.1; done; exit 5",
    ]);
    let id = id.trim().to_string();
    assert!(eventually(Duration::from_secs(10), || d
        .ok(&["logs", &id])
        .contains("line 2")));
    let url = format!("ws://127.0.0.1:{}/api/v1/containers/{id}/logs/ws", d.port);
    let session = web::admin(&d).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_request(&url, &session))
        .await
        .expect("websocket");
    let mut lines = Vec::new();
    let mut exit_code = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while let Ok(Some(message)) = tokio::time::timeout_at(deadline, socket.next()).await {
        match message.expect("websocket message") {
            Message::Text(text) => {
                let value: serde_json::Value = serde_json::from_str(&text).expect("json");
                if let Some(batch) = value["lines"].as_array() {
                    for line in batch {
                        assert_eq!(line["stream"], "stdout");
                        assert!(line["time"].as_str().is_some_and(|t| t.ends_with('Z')));
                        lines.push(line["line"].as_str().expect("line").to_string());
                    }
                } else if let Some(code) = value["exit_code"].as_i64() {
                    exit_code = Some(code);
                }
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    let expected: Vec<String> = (0..15).map(|i| format!("line {i}")).collect();
    assert_eq!(lines, expected);
    assert_eq!(exit_code, Some(5));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_websocket_of_an_unknown_container_is_refused() {
    let d = Daemon::start();
    let url = format!("ws://127.0.0.1:{}/api/v1/containers/nope/logs/ws", d.port);
    let session = web::admin(&d).await;
    assert!(tokio_tungstenite::connect_async(ws_request(&url, &session))
        .await
        .is_err());
}
