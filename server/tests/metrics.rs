//! `GET /metrics` scraped over the unix socket (no token needed there): container gauges,
//! HTTP request counters by matched route, and the request id echoed or generated.

mod common;

use common::{eventually, Daemon};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// One raw request over the socket: the response's head and body.
fn get(d: &Daemon, path: &str, extra: &str) -> (String, String) {
    let mut stream = UnixStream::connect(&d.socket).expect("connect");
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let (head, body) = text.split_once("\r\n\r\n").expect("a response");
    (head.to_string(), body.to_string())
}

fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_containers_and_requests_by_route() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["run", "-d", "--name", "metered", "busybox", "sleep", "300"]);
    assert!(eventually(Duration::from_secs(5), || d.inspect("metered")
        ["State"]["Running"]
        == true));
    // Two requests on a route with a parameter: counted under its template.
    for _ in 0..2 {
        let (head, _) = get(&d, "/api/v1/containers/metered", "");
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    }

    let (head, body) = get(&d, "/metrics", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert_eq!(
        value(&body, "berth_containers{state=\"running\"}"),
        Some(1.0),
        "{body}"
    );
    assert_eq!(
        value(&body, "berth_containers{state=\"exited\"}"),
        Some(0.0),
        "{body}"
    );
    let counter = "berth_http_requests_total{method=\"GET\",route=\"/api/v1/containers/{id}\",status=\"200\"}";
    assert!(
        value(&body, counter).is_some_and(|n| n >= 2.0),
        "{counter} in:\n{body}"
    );
    assert!(
        !body.contains("metered\",status"),
        "a raw path as a label:\n{body}"
    );
    assert!(body.contains("berth_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/containers/{id}\",le=\"+Inf\"}"));
    assert!(value(&body, "berth_websocket_clients").is_some(), "{body}");
    assert!(value(&body, "berth_stats_samplers").is_some(), "{body}");

    // The request id: a client's is echoed, else one is made.
    let (head, _) = get(&d, "/healthz", "X-Request-Id: abc-123\r\n");
    assert!(
        head.to_ascii_lowercase().contains("x-request-id: abc-123"),
        "{head}"
    );
    let (head, _) = get(&d, "/healthz", "");
    assert!(
        head.to_ascii_lowercase().contains("x-request-id: "),
        "{head}"
    );
    d.ok(&["rm", "-f", "metered"]);
}
