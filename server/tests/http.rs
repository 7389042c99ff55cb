//! The HTTP side of a real daemon: the JSON container list, the server-rendered page, and the
//! live log WebSocket read with tokio-tungstenite.

mod common;

use common::{eventually, Daemon};
use futures::StreamExt;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn get(url: &str) -> (u16, String) {
    // A tiny HTTP/1.1 GET over loopback, enough for tests.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = tokio::net::TcpStream::connect(host).await.expect("connect");
    let request = format!("GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    common::parse_response(&String::from_utf8_lossy(&response))
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
    let (status, body) = get(&d.url("/api/v1/containers")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"name\":\"listed-one\""), "{body}");
    assert!(body.contains("\"exit_code\":4"), "{body}");
    let (status, page) = get(&d.url("/containers")).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("listed-one"),
        "the page has no server-rendered row: {page}"
    );
    let (status, _) = get(&d.url("/api/v1/containers/nope")).await;
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
    let (mut socket, _) = tokio_tungstenite::connect_async(&url)
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
    assert!(tokio_tungstenite::connect_async(&url).await.is_err());
}
