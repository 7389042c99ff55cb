//! A small HTTP/1.1 client for tests that talk to a daemon's TCP port as a browser or a script
//! would: any method, headers and body; and logging in to get a session cookie and its CSRF
//! token.

use super::{Daemon, ADMIN_PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An answer: status, headers (lower-cased names) and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Sends one request to `127.0.0.1:port` with `Connection: close` and reads the whole answer.
/// `headers` may set Host (else `127.0.0.1:port`).
pub async fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("send");
    stream.write_all(body).await.expect("send body");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect::<Vec<_>>();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut text: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = text.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            out.push_str(rest.get(..size.min(rest.len())).unwrap_or_default());
            break;
        }
        out.push_str(&rest[..size]);
        text = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// A browser's session: the cookie and the CSRF token that goes with it.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    /// The headers a same-origin dashboard request carries.
    pub fn headers(&self, port: u16) -> Vec<(String, String)> {
        vec![
            ("Cookie".into(), format!("berth_session={}", self.cookie)),
            ("X-CSRF-Token".into(), self.csrf.clone()),
            ("Origin".into(), format!("http://127.0.0.1:{port}")),
        ]
    }
}

/// Logs in over `POST /api/v1/auth/login`; panics unless it succeeds.
pub async fn login(d: &Daemon, user: &str, password: &str) -> Session {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let answer = send(
        d.port,
        "POST",
        "/api/v1/auth/login",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 200, "login of {user}: {answer:?}");
    let cookie = answer
        .header("set-cookie")
        .and_then(|c| c.strip_prefix("berth_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    let csrf = answer.json()["csrf_token"]
        .as_str()
        .expect("a csrf token")
        .to_string();
    Session { cookie, csrf }
}

/// The admin's session on a test daemon.
pub async fn admin(d: &Daemon) -> Session {
    login(d, "admin", ADMIN_PASSWORD).await
}

/// Sends a request with a session's headers plus `extra`.
pub async fn as_session(
    d: &Daemon,
    session: &Session,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let owned = session.headers(d.port);
    let mut headers: Vec<(&str, &str)> = owned
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    headers.extend_from_slice(extra);
    send(d.port, method, path, &headers, body).await
}
