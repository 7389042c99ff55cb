//! Bad input never panics the daemon: malformed JSON, wrong content types, unknown fields on
//! credential bodies, hostile ids and names get a 4xx with the API's error body; a broken
//! WebSocket frame gets a close frame with the code that says why. After each case the daemon
//! still answers, and nothing outside its data root was touched.

mod common;

use common::web::{self, Answer, Session};
use common::Daemon;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The daemon still answers.
async fn alive(d: &Daemon) {
    let answer = web::send(d.port, "GET", "/healthz", &[], b"").await;
    assert_eq!(answer.status, 200, "the daemon died: {}", d.daemon_log());
}

/// A 4xx, with the API's `{"error":{"code","message"}}` when the body is JSON.
fn client_error(answer: &Answer, what: &str) {
    assert!(
        (400..500).contains(&answer.status),
        "{what}: expected a 4xx, got {answer:?}"
    );
    if answer
        .header("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
    {
        let body = answer.json();
        assert!(body["error"]["code"].is_string(), "{what}: {body}");
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
    }
}

async fn post_json(d: &Daemon, s: &Session, path: &str, body: &[u8]) -> Answer {
    web::as_session(
        d,
        s,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body,
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_bodies_are_refused() {
    let d = Daemon::start();
    let s = web::admin(&d).await;
    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let nested_object = format!("{{\"image\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", br#"{"image":"busybox","cmd":["ec"#.to_vec()),
        ("empty", Vec::new()),
        ("not json", b"image=busybox".to_vec()),
        ("wrong type", br#"{"image":5}"#.to_vec()),
        ("null", b"null".to_vec()),
        (
            "huge integer",
            br#"{"image":"busybox","memory":123456789012345678901234567890}"#.to_vec(),
        ),
        (
            "huge float",
            br#"{"image":"busybox","memory":1e400}"#.to_vec(),
        ),
        (
            "negative size",
            br#"{"image":"busybox","memory":-1e300}"#.to_vec(),
        ),
        ("nested 10k deep", nested.into_bytes()),
        ("nested in a field", nested_object.into_bytes()),
        ("invalid utf-8", b"{\"image\":\"\xff\xfe\"}".to_vec()),
        (
            "nul in a string",
            b"{\"image\":\"busy\\u0000box\"}".to_vec(),
        ),
    ];
    // Volumes are left out: every field of their create body is optional and unknown fields
    // are ignored (as docker does), so `{"image":5}` is a valid anonymous volume.
    for path in [
        "/api/v1/containers",
        "/api/v1/networks",
        "/api/v1/registries/login",
        "/api/v1/users",
    ] {
        for (what, body) in &cases {
            let answer = post_json(&d, &s, path, body).await;
            client_error(&answer, &format!("{what} to {path}"));
            alive(&d).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_content_types_get_415_and_credential_bodies_refuse_unknown_fields() {
    let d = Daemon::start();
    let s = web::admin(&d).await;
    let body = br#"{"image":"busybox"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let headers: Vec<(&str, &str)> = content_type
            .map(|t| vec![("Content-Type", t)])
            .unwrap_or_default();
        let answer = web::as_session(&d, &s, "POST", "/api/v1/containers", &headers, body).await;
        assert_eq!(answer.status, 415, "{content_type:?}: {answer:?}");
        client_error(&answer, "content type");
        alive(&d).await;
    }
    // Credentials with a misspelt field are refused, not half-read.
    let answer = post_json(
        &d,
        &s,
        "/api/v1/registries/login",
        br#"{"registry":"127.0.0.1:1","username":"u","passwd":"p"}"#,
    )
    .await;
    client_error(&answer, "unknown field in a registry login");
    assert!(answer.body.contains("passwd"), "{answer:?}");
    let answer = post_json(
        &d,
        &s,
        "/api/v1/auth/login",
        br#"{"username":"admin","password":"x","admin":true}"#,
    )
    .await;
    client_error(&answer, "unknown field in a login");
    alive(&d).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_ids_and_names_touch_nothing_outside_the_data_root() {
    let d = Daemon::start();
    let s = web::admin(&d).await;
    // Bait next to the data root, where `..` from a store directory would lead.
    let outside = d.dir.path().join("bait");
    std::fs::create_dir_all(outside.join("_data")).expect("bait dir");
    std::fs::write(outside.join("_data/file"), "keep").expect("bait file");
    let long = "a".repeat(4096);
    let long_hex = "0".repeat(4096);
    let names = [
        "..%2fbait".to_string(),
        "..%2f..%2fbait".to_string(),
        "%2e%2e%2fbait".to_string(),
        "%2e%2e%2f%2e%2e%2fbait".to_string(),
        "..%5cbait".to_string(),
        "%2e%2e".to_string(),
        "..".to_string(),
        "bait%00".to_string(),
        "%00".to_string(),
        "bait%0a".to_string(),
        "%ff%fe".to_string(),
        long.clone(),
        long_hex,
    ];
    let routes = [
        ("GET", "/api/v1/containers/{}"),
        ("DELETE", "/api/v1/containers/{}"),
        ("POST", "/api/v1/containers/{}/start"),
        ("POST", "/api/v1/containers/{}/kill"),
        ("GET", "/api/v1/containers/{}/logs"),
        ("GET", "/api/v1/images/{}/json"),
        ("DELETE", "/api/v1/images/{}"),
        ("POST", "/api/v1/images/{}/tag?repo=x&tag=y"),
        ("GET", "/api/v1/volumes/{}"),
        ("DELETE", "/api/v1/volumes/{}"),
        ("GET", "/api/v1/networks/{}"),
        ("DELETE", "/api/v1/networks/{}"),
    ];
    for name in &names {
        for (method, route) in routes {
            let path = route.replace("{}", name);
            let answer = web::as_session(&d, &s, method, &path, &[], b"").await;
            client_error(
                &answer,
                &format!("{method} {}", &path[..path.len().min(80)]),
            );
            alive(&d).await;
        }
    }
    // Creating under a hostile name is refused too.
    for name in ["../bait", "..", "a/b", "bait\u{0}", long.as_str()] {
        for (path, field) in [("/api/v1/volumes", "Name"), ("/api/v1/networks", "name")] {
            let body = serde_json::json!({ field: name }).to_string();
            let answer = post_json(&d, &s, path, body.as_bytes()).await;
            client_error(
                &answer,
                &format!("create {path} named {:?}", &name[..name.len().min(20)]),
            );
        }
        let body = serde_json::json!({ "image": "busybox", "name": name }).to_string();
        let answer = post_json(&d, &s, "/api/v1/containers", body.as_bytes()).await;
        client_error(&answer, "container name");
    }
    // A raw NUL and a raw `..` segment in the request line.
    for target in ["/api/v1/volumes/bait\0", "/api/v1/volumes/../../bait"] {
        let answer = raw_request(d.port, &s, "DELETE", target).await;
        assert!(
            answer.starts_with("HTTP/1.1 4"),
            "{target:?}: {}",
            answer.lines().next().unwrap_or_default()
        );
        alive(&d).await;
    }
    assert_eq!(
        std::fs::read_to_string(outside.join("_data/file")).expect("the bait is still there"),
        "keep"
    );
}

/// Sends a request line as given (no encoding) and returns the raw answer.
async fn raw_request(port: u16, s: &Session, method: &str, target: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\n");
    for (name, value) in s.headers(port) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    String::from_utf8_lossy(&raw).into_owned()
}

/// Opens a WebSocket on `path` by hand (so that frames can be broken on purpose).
async fn ws_open(d: &Daemon, s: &Session, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n",
        d.port
    );
    for (name, value) in s.headers(d.port) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("handshake");
    let mut answer = Vec::new();
    while !answer.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        let n = stream.read(&mut byte).await.expect("handshake answer");
        assert_eq!(
            n,
            1,
            "closed during the handshake: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.push(byte[0]);
    }
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 101"), "{answer}");
    stream
}

/// A client frame: `first` is FIN and opcode; masked unless `masked` is false.
fn frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut out = vec![first];
    let bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(bit | n as u8),
        n if n <= 0xffff => {
            out.push(bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// Reads server frames until a close frame; its code (None if the connection just ended).
async fn close_code(stream: &mut TcpStream) -> Option<u16> {
    let read = async {
        loop {
            let mut head = [0u8; 2];
            stream.read_exact(&mut head).await.ok()?;
            let mut len = (head[1] & 0x7f) as u64;
            if len == 126 {
                let mut ext = [0u8; 2];
                stream.read_exact(&mut ext).await.ok()?;
                len = u16::from_be_bytes(ext) as u64;
            } else if len == 127 {
                let mut ext = [0u8; 8];
                stream.read_exact(&mut ext).await.ok()?;
                len = u64::from_be_bytes(ext);
            }
            let mut payload = vec![0u8; len as usize];
            stream.read_exact(&mut payload).await.ok()?;
            if head[0] & 0x0f == 0x8 {
                return (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("a close frame in time")
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_websocket_frames_get_a_close_code() {
    let d = Daemon::start();
    let s = web::admin(&d).await;
    let path = "/api/v1/events/ws";
    // A text message that is not UTF-8: 1007.
    let mut ws = ws_open(&d, &s, path).await;
    ws.write_all(&frame(0x81, b"ok \xff\xfe\xfd", true))
        .await
        .expect("send");
    assert_eq!(close_code(&mut ws).await, Some(1007));
    alive(&d).await;
    // A fragmented text message whose pieces are not UTF-8 together: 1007 as well.
    let mut ws = ws_open(&d, &s, path).await;
    ws.write_all(&frame(0x01, b"\xe2\x82", true))
        .await
        .expect("send");
    ws.write_all(&frame(0x80, b"\xff", true))
        .await
        .expect("send");
    assert_eq!(close_code(&mut ws).await, Some(1007));
    alive(&d).await;
    // A message over the 64 KiB limit: 1009.
    let mut ws = ws_open(&d, &s, path).await;
    ws.write_all(&frame(0x82, &vec![b'x'; 65 * 1024], true))
        .await
        .expect("send");
    assert_eq!(close_code(&mut ws).await, Some(1009));
    alive(&d).await;
    // An unmasked client frame and an unknown opcode: 1002.
    for broken in [frame(0x81, b"hello", false), frame(0x83, b"?", true)] {
        let mut ws = ws_open(&d, &s, path).await;
        ws.write_all(&broken).await.expect("send");
        assert_eq!(close_code(&mut ws).await, Some(1002));
        alive(&d).await;
    }
}
