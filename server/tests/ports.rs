//! `-P` and `--expose` against a real daemon: every exposed port published on a port the
//! kernel picks, reachable on 127.0.0.1, shown alike by `port`, `inspect` and ps's PORTS
//! column.

mod common;

use common::{eventually, fails, Daemon};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const HTTPD: &str =
    "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www";

fn serves(port: u16) -> bool {
    eventually(Duration::from_secs(30), || {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut answer = String::new();
        stream.write_all(b"GET / HTTP/1.0\r\n\r\n").is_ok()
            && stream.read_to_string(&mut answer).is_ok()
            && answer.contains("hello-from-berth")
    })
}

/// The ps line of a container.
fn ps_line(d: &Daemon, name: &str) -> String {
    d.ok(&["ps", "-a"])
        .lines()
        .find(|l| l.ends_with(name))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn publish_all_publishes_every_exposed_port_on_a_free_host_port() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-P",
        "--expose",
        "80",
        "--expose",
        "8000-8001/udp",
        "busybox",
        "sh",
        "-c",
        HTTPD,
    ]);
    let listed = d.ok(&["port", "web"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    let host_port = |key: &str| -> u16 {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("{key} -> 0.0.0.0:")))
            .unwrap_or_else(|| panic!("{key} is not published: {listed}"));
        line.rsplit(':').next().unwrap().parse().unwrap()
    };
    let http = host_port("80/tcp");
    let (udp0, udp1) = (host_port("8000/udp"), host_port("8001/udp"));
    assert!(http > 0 && udp0 > 0 && udp1 > 0 && udp0 != udp1, "{listed}");
    assert!(serves(http), "no answer on 127.0.0.1:{http}");

    let inspect = d.inspect("web");
    let exposed: Vec<&String> = inspect["Config"]["ExposedPorts"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(exposed, ["80/tcp", "8000/udp", "8001/udp"]);
    assert_eq!(inspect["HostConfig"]["PublishAllPorts"], true);
    assert_eq!(
        inspect["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"],
        http.to_string()
    );
    let line = ps_line(&d, "web");
    assert!(line.contains(&format!("0.0.0.0:{http}->80/tcp")), "{line}");
    assert!(
        line.contains(&format!("0.0.0.0:{udp0}->8000/udp")),
        "{line}"
    );

    // Exposed without -P: listed, not published.
    d.ok(&[
        "run", "-d", "--name", "quiet", "--expose", "443", "busybox", "sleep", "1000",
    ]);
    assert!(
        ps_line(&d, "quiet").contains(" 443/tcp "),
        "{}",
        ps_line(&d, "quiet")
    );
    assert_eq!(d.ok(&["port", "quiet"]), "");
    fails(
        &d.berth(&["run", "--expose", "http", "busybox", "true"]),
        "invalid range format for --expose: http",
    );
    d.ok(&["rm", "-f", "web", "quiet"]);
    assert!(
        TcpStream::connect(("127.0.0.1", http)).is_err(),
        "the proxy of a removed container still listens"
    );
}
