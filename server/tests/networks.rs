//! Networks: published ports reach a container's server from 127.0.0.1, `--network none` and
//! `host`, the default route, user networks resolving names, and bad input refused with nothing
//! left behind (namespace mounts, veths, addresses, proxy sockets), also after a daemon crash.

mod common;

use common::{eventually, fails, free_port, stdout, Daemon};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const HTTPD: &str =
    "mkdir -p /www && echo hello-from-berth > /www/index.html && exec httpd -f -p 80 -h /www";

/// GET / on 127.0.0.1:port; the body when the server answered.
fn http_get(port: u16) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    Some(answer)
}

fn serves(port: u16) -> bool {
    eventually(Duration::from_secs(30), || {
        http_get(port).is_some_and(|a| a.contains("hello-from-berth"))
    })
}

/// Runs busybox httpd published on a free port of 127.0.0.1; its id and that port, once it answers.
fn run_httpd(d: &Daemon, name: &str) -> (String, u16) {
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let id = d
        .ok(&[
            "run", "-d", "--name", name, "-p", &publish, "busybox", "sh", "-c", HTTPD,
        ])
        .trim()
        .to_string();
    assert!(
        serves(port),
        "no answer on 127.0.0.1:{port}\n{}",
        d.daemon_log()
    );
    (id, port)
}

/// Nothing of the container's networking is left on the host.
fn assert_no_leak(d: &Daemon, id: &str, port: u16) {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mountinfo.contains(id), "a netns mount of {id} is left");
    let netns = std::fs::read_dir(d.data_root.join("netns"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(netns, 0, "a netns file is left");
    let bridge = format!("{}0", d.bridge_tag);
    let ports = std::process::Command::new("ip")
        .args(["-o", "link", "show", "master", &bridge])
        .output()
        .unwrap();
    assert_eq!(stdout(&ports).trim(), "", "veths left on {bridge}");
    let inspect: serde_json::Value =
        serde_json::from_str(&d.ok(&["network", "inspect", "bridge"])).unwrap();
    assert_eq!(
        inspect[0]["Containers"].as_object().map(|c| c.len()),
        Some(0),
        "an address is still allocated: {inspect}"
    );
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the proxy still listens on {port}"
    );
}

#[test]
fn published_port_reaches_httpd_and_the_default_route_goes_via_the_bridge() {
    let d = Daemon::start();
    d.load_busybox();
    let (id, port) = run_httpd(&d, "web");
    assert_eq!(
        d.ok(&["port", "web"]).trim(),
        format!("80/tcp -> 127.0.0.1:{port}")
    );

    let inspect = d.inspect("web");
    let settings = &inspect["NetworkSettings"];
    let gateway = settings["Gateway"].as_str().unwrap().to_string();
    let ip = settings["IPAddress"].as_str().unwrap().to_string();
    assert!(!gateway.is_empty() && !ip.is_empty(), "{settings}");
    assert_eq!(settings["Networks"]["bridge"]["IPAddress"], ip.as_str());
    assert_eq!(
        settings["Ports"]["80/tcp"][0]["HostPort"],
        port.to_string().as_str()
    );

    let routes = d.ok(&["run", "--rm", "busybox", "ip", "route"]);
    assert!(
        routes.contains(&format!("default via {gateway}")),
        "{routes}"
    );
    // Each container has its own address; the second one got another. Its eth0 was made
    // inside its namespace with docker's MAC (02:42 and the address), and it is up.
    let other = d.ok(&[
        "run",
        "--rm",
        "--hostname",
        "second",
        "busybox",
        "sh",
        "-c",
        "ip -o -4 addr show eth0; cat /sys/class/net/eth0/address /sys/class/net/eth0/operstate; \
         grep second /etc/hosts",
    ]);
    let own = other
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .and_then(|a| a.split('/').next())
        .unwrap_or_else(|| panic!("no address in {other}"))
        .to_string();
    assert_ne!(own, ip, "{other}");
    let octets: Vec<u8> = own.split('.').map(|o| o.parse().unwrap()).collect();
    let mac = format!(
        "02:42:{:02x}:{:02x}:{:02x}:{:02x}",
        octets[0], octets[1], octets[2], octets[3]
    );
    assert!(other.contains(&mac), "{mac} not in {other}");
    assert!(other.lines().any(|l| l.trim() == "up"), "{other}");
    // Its /etc/hosts gives its own name its own address.
    assert!(
        other
            .lines()
            .any(|l| l.split_whitespace().next() == Some(own.as_str()) && l.contains("second")),
        "{other}"
    );

    d.ok(&["rm", "-f", "web"]);
    assert_no_leak(&d, &id, port);
}

#[test]
fn network_none_has_only_lo_and_host_sees_the_hosts_interfaces() {
    let d = Daemon::start();
    d.load_busybox();
    let none = d.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "cat",
        "/proc/net/dev",
    ]);
    let interfaces: Vec<&str> = none
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(interfaces, ["lo"], "{none}");

    let host = d.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "cat",
        "/proc/net/dev",
    ]);
    let ours = std::fs::read_to_string("/proc/net/dev").unwrap();
    let first_non_lo = ours
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .find(|n| *n != "lo")
        .expect("the host has an interface besides lo");
    assert!(host.contains(&format!("{first_non_lo}:")), "{host}");
}

#[test]
fn containers_on_a_user_network_reach_each_other_by_name() {
    let d = Daemon::start();
    d.load_busybox();
    let net_id = d.ok(&["network", "create", "appnet"]).trim().to_string();
    assert_eq!(net_id.len(), 64, "{net_id}");
    assert!(d.ok(&["network", "ls"]).contains("appnet"));
    let server = d
        .ok(&[
            "run",
            "-d",
            "--network",
            "appnet",
            "--name",
            "db",
            "busybox",
            "sleep",
            "600",
        ])
        .trim()
        .to_string();
    let ping = d.berth(&[
        "run",
        "--rm",
        "--network",
        "appnet",
        "busybox",
        "ping",
        "-c",
        "1",
        "-W",
        "10",
        "db",
    ]);
    assert!(
        ping.status.success(),
        "{}\n{}",
        stdout(&ping),
        common::stderr(&ping)
    );

    // The default bridge does not resolve names, as docker's.
    let on_bridge = d.berth(&["run", "--rm", "busybox", "ping", "-c", "1", "-W", "2", "db"]);
    assert!(!on_bridge.status.success());

    fails(
        &d.berth(&["network", "rm", "appnet"]),
        "has active endpoints",
    );
    fails(
        &d.berth(&["network", "rm", "bridge"]),
        "pre-defined network",
    );
    d.ok(&["rm", "-f", &server]);
    d.ok(&["network", "rm", "appnet"]);
    let bridges = common::links_named(&format!("{}-", d.bridge_tag));
    assert!(bridges.is_empty(), "bridge left: {bridges:?}");

    // docker's network events: the network is the actor, the container an attribute.
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let until = format!("{}.{:09}", t.as_secs(), t.subsec_nanos());
    let events = d.ok(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "type=network",
        "--filter",
        "network=appnet",
        "--format",
        "{{json .}}",
    ]);
    let actions: Vec<String> = events
        .lines()
        .map(|line| {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            let container = e["Actor"]["Attributes"]["container"].as_str().unwrap_or("");
            format!("{} {container}", e["Action"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(
        actions.first().map(String::as_str),
        Some("create "),
        "{events}"
    );
    assert!(actions.contains(&format!("connect {server}")), "{events}");
    assert!(
        actions.contains(&format!("disconnect {server}")),
        "{events}"
    );
    assert_eq!(
        actions.last().map(String::as_str),
        Some("destroy "),
        "{events}"
    );
}

#[test]
fn connect_and_disconnect_change_a_running_containers_interfaces() {
    let d = Daemon::start();
    d.load_busybox();
    d.ok(&["network", "create", "--subnet", "10.213.77.0/24", "side"]);
    // Shows the container's interfaces every 100 ms.
    d.ok(&[
        "run", "-d", "--name", "probe", "busybox", "sh", "-c",
        "while true; do cat /proc/net/dev > /tmp/dev.new; mv /tmp/dev.new /tmp/dev; sleep 0.1; done",
    ]);
    d.ok(&["network", "connect", "side", "probe"]);
    let settings = d.inspect("probe")["NetworkSettings"]["Networks"]["side"].clone();
    assert!(
        settings["IPAddress"]
            .as_str()
            .unwrap()
            .starts_with("10.213.77."),
        "{settings}"
    );
    let upper = |d: &Daemon| {
        let id = d.inspect("probe")["Id"].as_str().unwrap().to_string();
        std::fs::read_to_string(
            d.data_root
                .join("containers")
                .join(id)
                .join("upper/tmp/dev"),
        )
        .unwrap_or_default()
    };
    assert!(eventually(Duration::from_secs(20), || upper(&d).contains("eth1:")));
    d.ok(&["network", "disconnect", "side", "probe"]);
    assert!(eventually(Duration::from_secs(20), || {
        let dev = upper(&d);
        dev.contains("eth0:") && !dev.contains("eth1:")
    }));
    fails(
        &d.berth(&["network", "disconnect", "side", "probe"]),
        "is not connected",
    );
    d.ok(&["rm", "-f", "probe"]);
    d.ok(&["network", "rm", "side"]);
}

#[test]
fn bad_port_specs_taken_ports_and_unknown_networks_are_refused_without_leaks() {
    let d = Daemon::start();
    d.load_busybox();
    fails(
        &d.berth(&["run", "-d", "-p", "99999:80", "busybox", "true"]),
        "invalid hostPort: 99999",
    );
    fails(
        &d.berth(&["run", "-d", "-p", "abc", "busybox", "true"]),
        "invalid containerPort: abc",
    );
    fails(
        &d.berth(&["run", "-d", "-p", "80:80/sctpx", "busybox", "true"]),
        "invalid proto: sctpx",
    );
    fails(
        &d.berth(&["run", "-d", "--network", "nosuch", "busybox", "true"]),
        "nosuch",
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let publish = format!("127.0.0.1:{port}:80");
    let out = d.berth(&[
        "run", "-d", "--name", "clash", "-p", &publish, "busybox", "sleep", "60",
    ]);
    fails(
        &out,
        &format!("Bind for 127.0.0.1:{port} failed: port is already allocated"),
    );
    let id = d.inspect("clash")["Id"].as_str().unwrap().to_string();
    drop(taken);
    assert_no_leak(&d, &id, port);
    d.ok(&["rm", "-f", "clash"]);
}

#[test]
fn after_a_daemon_crash_ports_come_back_and_removal_leaves_nothing() {
    let mut d = Daemon::start();
    d.load_busybox();
    let (id, port) = run_httpd(&d, "web");
    let ip = d.inspect("web")["NetworkSettings"]["IPAddress"].to_string();
    d.kill9();
    d.spawn();
    assert!(
        serves(port),
        "the proxy did not come back\n{}",
        d.daemon_log()
    );
    // IPAM is persisted: the running container keeps its address and a new one gets another.
    assert_eq!(
        d.inspect("web")["NetworkSettings"]["IPAddress"].to_string(),
        ip
    );
    let other = d.ok(&[
        "run", "--rm", "busybox", "ip", "-o", "-4", "addr", "show", "eth0",
    ]);
    let ip = ip.trim_matches('"');
    assert!(
        other.contains("inet ") && !other.contains(&format!("inet {ip}/")),
        "{other}"
    );
    d.ok(&["rm", "-f", "web"]);
    assert_no_leak(&d, &id, port);

    // A container that exited while no daemon watched is cleaned up by the next one.
    let (id, port) = run_httpd(&d, "web2");
    let pid = d.inspect("web2")["State"]["Pid"].as_i64().unwrap() as i32;
    d.kill9();
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    );
    d.spawn();
    assert!(eventually(Duration::from_secs(30), || {
        d.inspect("web2")["State"]["Status"] == "exited"
    }));
    assert_no_leak(&d, &id, port);
}
