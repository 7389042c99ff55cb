//! The daemon's transport: the header-read timeout (slowloris, idle kept-alive connections),
//! the connection cap, body limits (413 with the error body, 507 without room), the
//! WebSocket cap and message limit, TLS, the refusal of plain HTTP off loopback and the
//! socket's `--group`.

mod common;

use common::{Daemon, BERTH};
use futures::{SinkExt, StreamExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// Reads until the peer closes (or fails) or `limit` passes: the bytes and whether it closed.
async fn read_until_closed<S: AsyncRead + Unpin>(
    stream: &mut S,
    limit: Duration,
) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return (out, false),
            Ok(Ok(0)) | Ok(Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buffer[..n]),
        }
    }
}

/// One request on a kept-alive connection; reads exactly one response (its head and its
/// Content-Length body) and returns its status.
async fn request_on<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S, path: &str) -> u16 {
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut byte))
            .await
            .expect("a response in time")
            .expect("read");
        assert_eq!(
            n,
            1,
            "closed before the response: {}",
            String::from_utf8_lossy(&head)
        );
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map(|v| v.trim().parse().expect("a length"))
        .expect("a Content-Length");
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.expect("the body");
    common::parse_response(&head).0
}

/// A raw request over the daemon's unix socket (the CLI's way in); the status and body.
async fn unix_request(d: &Daemon, head: &str, body: &[u8]) -> (u16, String) {
    let mut stream = UnixStream::connect(&d.socket).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send");
    // The daemon may answer (and close) before it read everything: a failed write is fine.
    let _ = stream.write_all(body).await;
    let (response, _) = read_until_closed(&mut stream, Duration::from_secs(20)).await;
    common::parse_response(&String::from_utf8_lossy(&response))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_client_is_closed_after_the_header_timeout_and_so_is_an_idle_one() {
    let d = Daemon::start_with(&args(&["--header-timeout", "1s"]));
    // Slowloris: part of a request line, then nothing.
    let mut slow = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    slow.write_all(b"GET /api/v1/ver").await.expect("send");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut slow, Duration::from_secs(6)).await;
    let waited = started.elapsed();
    assert!(
        closed,
        "the slow client is still connected after {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(4),
        "closed after {waited:?}, not after the 1 s header timeout"
    );

    // Kept alive: one request answered, then idle past the timeout: closed.
    let mut idle = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    let first = request_on(&mut idle, "/api/v1/version").await;
    assert!(first > 0, "no answer on the fresh connection");
    let second = request_on(&mut idle, "/api/v1/version").await;
    assert_eq!(
        first, second,
        "the connection is kept alive between requests"
    );
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut idle, Duration::from_secs(6)).await;
    let waited = started.elapsed();
    assert!(closed, "the idle connection is still open after {waited:?}");
    assert!(waited < Duration::from_secs(4), "closed after {waited:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_over_the_cap_are_closed_while_open_ones_are_answered() {
    let d = Daemon::start_with(&args(&["--max-connections", "3"]));
    let mut first = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    let status = request_on(&mut first, "/api/v1/version").await;
    let mut second = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    let third = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    assert_eq!(request_on(&mut second, "/api/v1/version").await, status);

    // The fourth is accepted by the kernel and closed by the daemon at once.
    let mut over = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    let _ = over
        .write_all(b"GET /api/v1/version HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let (answer, closed) = read_until_closed(&mut over, Duration::from_secs(5)).await;
    assert!(
        closed && answer.is_empty(),
        "over the cap: {:?}",
        String::from_utf8_lossy(&answer)
    );

    // The open ones still work; closing one frees its slot.
    assert_eq!(request_on(&mut first, "/api/v1/version").await, status);
    drop(third);
    let mut freed = false;
    for _ in 0..50 {
        let mut again = TcpStream::connect(("127.0.0.1", d.port))
            .await
            .expect("connect");
        again
            .write_all(b"GET /api/v1/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .expect("send");
        let (answer, _) = read_until_closed(&mut again, Duration::from_secs(5)).await;
        if answer.starts_with(b"HTTP/1.1 ") {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "a closed connection's slot was not freed");
    // The unix socket has its own cap: the CLI still works.
    d.ok(&["version"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_json_body_over_a_mebibyte_is_413_with_the_error_body() {
    let d = Daemon::start();
    let name = "x".repeat(1024 * 1024 + 1024);
    let body = format!("{{\"Name\":\"{name}\"}}");
    let head = format!(
        "POST /api/v1/volumes HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, response) = unix_request(&d, &head, body.as_bytes()).await;
    assert_eq!(status, 413, "{response}");
    let error: serde_json::Value = serde_json::from_str(&response).expect("a JSON body");
    assert_eq!(error["error"]["code"], "payload_too_large", "{response}");
    assert!(error["error"]["message"].as_str().is_some(), "{response}");

    // A small body on the same route is served as before.
    let body = r#"{"Name":"small-one"}"#;
    let head = format!(
        "POST /api/v1/volumes HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let (status, response) = unix_request(&d, &head, body.as_bytes()).await;
    assert!((200..300).contains(&status), "{status}: {response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upload_without_room_on_the_data_root_is_507_and_leaves_nothing() {
    // Asks to keep more free than any disk has: every upload lacks room.
    let d = Daemon::start_with(&args(&["--upload-reserve", "1000000000000000000"]));
    let tmp = d.data_root.join("tmp");
    let before = Daemon::tree(&tmp);
    let body = vec![0u8; 64 * 1024];
    for route in ["/api/v1/images/load", "/api/v1/images/import?repo=x:1"] {
        let head = format!(
            "POST {route} HTTP/1.1\r\nHost: berth\r\nContent-Type: application/x-tar\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let (status, response) = unix_request(&d, &head, &body).await;
        assert_eq!(status, 507, "{route}: {response}");
        let error: serde_json::Value = serde_json::from_str(&response).expect("a JSON body");
        assert_eq!(error["error"]["code"], "insufficient_storage", "{response}");
    }
    // Chunked (no length announced): refused all the same.
    let head = "POST /api/v1/images/load HTTP/1.1\r\nHost: berth\r\nTransfer-Encoding: chunked\r\n\
                Connection: close\r\n\r\n";
    let (status, response) = unix_request(&d, head, b"4\r\nabcd\r\n0\r\n\r\n").await;
    assert_eq!(status, 507, "{response}");
    assert_eq!(
        Daemon::tree(&tmp),
        before,
        "an upload left something behind"
    );
    assert!(d.ok(&["images", "-q"]).trim().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn uploads_bigger_than_the_json_limit_still_load() {
    let d = Daemon::start();
    let tar = common::images().busybox_docker.clone();
    assert!(
        std::fs::metadata(&tar).expect("the test image").len() > 1024 * 1024,
        "the test image is not over the 1 MiB default"
    );
    d.load_busybox();
}

#[tokio::test(flavor = "multi_thread")]
async fn websockets_are_capped_and_their_messages_bounded() {
    let d = Daemon::start_with(&args(&["--max-websockets", "1", "--group", "12345"]));
    // The socket is the group's, mode 0660.
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(&d.socket).expect("the socket");
    assert_eq!(meta.gid(), 12345);
    assert_eq!(meta.mode() & 0o777, 0o660);

    let url = "ws://berth/api/v1/events/ws";
    let connect = || async {
        let stream = UnixStream::connect(&d.socket).await.expect("connect");
        tokio_tungstenite::client_async(url, stream).await
    };
    let (mut first, _) = connect().await.expect("the first WebSocket");
    match connect().await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
            let body = response.body().clone().unwrap_or_default();
            let error: serde_json::Value = serde_json::from_slice(&body).expect("a JSON body");
            assert_eq!(error["error"]["code"], "service_unavailable");
        }
        Err(e) => panic!("the second WebSocket failed otherwise: {e}"),
        Ok(_) => panic!("a second WebSocket was let in over the cap of 1"),
    }

    // A message over 64 KiB ends the socket (and frees its slot).
    let big = "x".repeat(100 * 1024);
    let _ = first
        .send(tokio_tungstenite::tungstenite::Message::Text(big.into()))
        .await;
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match first.next().await {
                None | Some(Err(_)) => break,
                Some(Ok(tokio_tungstenite::tungstenite::Message::Close(_))) => break,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the oversized message did not end the socket"
    );
    let mut again = None;
    for _ in 0..50 {
        if let Ok((socket, _)) = connect().await {
            again = Some(socket);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "the slot was not freed");
}

/// A self-signed certificate for 127.0.0.1 made with the openssl CLI: (cert, key) paths.
fn self_signed(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let status = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        // An end-entity certificate (webpki refuses a CA as the server's own).
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success(), "openssl failed");
    (cert, key)
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_serves_https_and_refuses_plain_http() {
    let certs = tempfile::tempdir().expect("tempdir");
    let (cert, key) = self_signed(certs.path());
    let d = Daemon::start_with(&[
        "--tls-cert".to_string(),
        cert.display().to_string(),
        "--tls-key".to_string(),
        key.display().to_string(),
        "--tls-handshake-timeout".to_string(),
        "1s".to_string(),
    ]);
    let pem = std::fs::read(&cert).expect("the cert");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("a PEM cert"))
        .tls_built_in_root_certs(false)
        .https_only(true)
        .build()
        .expect("a client");
    let url = format!("https://127.0.0.1:{}/api/v1/version", d.port);
    // Any answer (auth may want a token over TCP) proves the TLS connection is served.
    let response = client.get(&url).send().await.expect("an answer over TLS");
    assert!(response.status().as_u16() >= 200, "{:?}", response.status());

    // Plain HTTP to the TLS port gets no HTTP answer.
    let mut plain = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    plain
        .write_all(b"GET /api/v1/version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("send");
    let (answer, closed) = read_until_closed(&mut plain, Duration::from_secs(15)).await;
    assert!(closed, "the plain connection stays open");
    assert!(!answer.starts_with(b"HTTP/"), "plain HTTP was answered");
    // A client that connects and never starts the handshake is closed after its timeout.
    let mut silent = TcpStream::connect(("127.0.0.1", d.port))
        .await
        .expect("connect");
    let started = Instant::now();
    let (_, closed) = read_until_closed(&mut silent, Duration::from_secs(6)).await;
    let waited = started.elapsed();
    assert!(
        closed,
        "the silent client is still connected after {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(4),
        "closed after {waited:?}, not after the 1 s handshake timeout"
    );
    // A client that does not trust the certificate fails.
    let untrusting = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .build()
        .expect("a client");
    assert!(untrusting.get(&url).send().await.is_err());
    // The CLI still works over the socket.
    d.ok(&["version"]);
}

/// `berth serve ARGS…` that must fail at start: its stderr.
fn serve_fails(extra: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(BERTH)
        .args(["serve", "--data-root"])
        .arg(dir.path().join("data"))
        .arg("--socket")
        .arg(dir.path().join("berth.sock"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn berth serve");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut stderr = String::new();
            use std::io::Read;
            child
                .stderr
                .take()
                .expect("stderr")
                .read_to_string(&mut stderr)
                .expect("read stderr");
            assert!(!status.success(), "berth serve {extra:?} succeeded");
            assert!(
                !dir.path().join("data").exists(),
                "the data root was opened before the flags were checked"
            );
            return stderr;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("berth serve {extra:?} did not refuse to start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn plain_http_off_loopback_and_half_tls_flags_are_refused_at_start() {
    // Never reached: the daemon refuses before it binds.
    let port = common::free_port().to_string();
    let stderr = serve_fails(&["--listen", &format!("0.0.0.0:{port}")]);
    assert!(stderr.contains("--tls-cert/--tls-key"), "{stderr}");
    assert!(stderr.contains("--insecure-listen"), "{stderr}");

    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not PEM\n").expect("write");
    let garbage = garbage.display().to_string();
    let stderr = serve_fails(&["--tls-cert", &garbage]);
    assert!(stderr.contains("--tls-cert needs --tls-key"), "{stderr}");
    let stderr = serve_fails(&["--tls-key", &garbage]);
    assert!(stderr.contains("--tls-key needs --tls-cert"), "{stderr}");
    let stderr = serve_fails(&["--tls-cert", &garbage, "--tls-key", &garbage]);
    assert!(stderr.contains("PEM"), "{stderr}");
    let missing = dir.path().join("missing.pem").display().to_string();
    let stderr = serve_fails(&["--tls-cert", &missing, "--tls-key", &garbage]);
    assert!(stderr.contains("cannot read"), "{stderr}");
}
