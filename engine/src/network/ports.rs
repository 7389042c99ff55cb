//! Published ports: docker's `-p [HOSTIP:][HOSTPORT:]CONTAINERPORT[/PROTO]` syntax (ports or
//! equal-length ranges), parsed and checked when the container is created.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

pub use berth_wire::network::{PortSummary, Proto};

/// One published port. `host_port` 0 means "any free port", chosen when the container starts;
/// an empty `host_ip` means every address (0.0.0.0).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortBinding {
    pub proto: Proto,
    pub container_port: u16,
    pub host_ip: String,
    pub host_port: u16,
}

impl PortBinding {
    /// The address the proxy listens on.
    pub fn listen_ip(&self) -> &str {
        if self.host_ip.is_empty() {
            "0.0.0.0"
        } else {
            &self.host_ip
        }
    }
}

impl fmt::Display for PortBinding {
    /// As `docker port` prints it: `80/tcp -> 0.0.0.0:8080`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{} -> {}:{}",
            self.container_port,
            self.proto.as_str(),
            self.listen_ip(),
            self.host_port
        )
    }
}

/// Parses one `-p` value into its bindings (several for a range).
pub fn parse_publish(spec: &str) -> Result<Vec<PortBinding>, String> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((rest, proto)) => (rest, Proto::parse(proto)?),
        None => (spec, Proto::Tcp),
    };
    // The host IP may be an IPv6 literal in brackets: [::1]:8080:80.
    let (host_ip, rest) = match rest.strip_prefix('[') {
        Some(bracketed) => {
            let (ip, after) = bracketed
                .split_once("]:")
                .ok_or_else(|| format!("invalid port spec {spec:?}"))?;
            (ip.to_string(), after)
        }
        None => match rest.matches(':').count() {
            0 | 1 => (String::new(), rest),
            2 => {
                let (ip, after) = rest.split_once(':').unwrap_or_default();
                (ip.to_string(), after)
            }
            _ => return Err(format!("invalid port spec {spec:?}")),
        },
    };
    if !host_ip.is_empty() && host_ip.parse::<IpAddr>().is_err() {
        return Err(format!("invalid IP address: {host_ip}"));
    }
    let (host, container) = match rest.split_once(':') {
        Some((host, container)) => (host, container),
        None => ("", rest),
    };
    let container =
        port_range(container).ok_or_else(|| format!("invalid containerPort: {container}"))?;
    let host = if host.is_empty() {
        None
    } else {
        Some(port_range(host).ok_or_else(|| format!("invalid hostPort: {host}"))?)
    };
    let count = container.1 - container.0 + 1;
    if let Some((low, high)) = host {
        // A host range for one container port lets docker pick one of them; berth takes the first.
        if high - low + 1 != count && count != 1 {
            return Err(format!(
                "invalid ranges specified for container and host ports: {spec}"
            ));
        }
    }
    Ok((0..count)
        .map(|i| PortBinding {
            proto,
            container_port: container.0 + i,
            host_ip: host_ip.clone(),
            host_port: host.map(|(low, _)| low + i).unwrap_or(0),
        })
        .collect())
}

/// Parses one `--expose` value, `PORT[/PROTO]` or `START-END[/PROTO]`, into docker's
/// `PORT/PROTO` keys.
pub fn parse_expose(spec: &str) -> Result<Vec<String>, String> {
    let (ports, proto) = match spec.rsplit_once('/') {
        Some((ports, proto)) => (ports, Proto::parse(proto)?),
        None => (spec, Proto::Tcp),
    };
    let (low, high) =
        port_range(ports).ok_or_else(|| format!("invalid range format for --expose: {spec}"))?;
    Ok((low..=high)
        .map(|port| format!("{port}/{}", proto.as_str()))
        .collect())
}

/// The container port and protocol of a `PORT/PROTO` key.
pub fn exposed_port(key: &str) -> Option<(u16, Proto)> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    Some((port.parse().ok()?, Proto::parse(proto).ok()?))
}

/// docker's PORTS column: `0.0.0.0:8080->80/tcp, 443/tcp`, consecutive ports of one address
/// and protocol as ranges (`0.0.0.0:8000-8002->8000-8002/tcp`), in container port order.
pub fn display_ports(ports: &[PortSummary]) -> String {
    let mut sorted = ports.to_vec();
    sorted.sort_by(|a, b| {
        (a.proto.as_str(), &a.ip, a.private_port).cmp(&(b.proto.as_str(), &b.ip, b.private_port))
    });
    // Runs of (first, last) entries that continue each other.
    let mut runs: Vec<(PortSummary, PortSummary)> = Vec::new();
    for port in sorted {
        if let Some((_, last)) = runs.last_mut() {
            let next = |p: Option<u16>| p.map(|p| p.checked_add(1));
            if last.proto == port.proto
                && last.ip == port.ip
                && last.private_port.checked_add(1) == Some(port.private_port)
                && next(last.public_port) == port.public_port.map(Some)
            {
                *last = port;
                continue;
            }
        }
        runs.push((port.clone(), port));
    }
    runs.sort_by_key(|(first, _)| (first.private_port, first.proto.as_str()));
    let span = |a: u16, b: u16| match a == b {
        true => a.to_string(),
        false => format!("{a}-{b}"),
    };
    runs.iter()
        .map(|(first, last)| {
            let private = span(first.private_port, last.private_port);
            let proto = first.proto.as_str();
            match (&first.ip, first.public_port, last.public_port) {
                (Some(ip), Some(a), Some(b)) => format!("{ip}:{}->{private}/{proto}", span(a, b)),
                _ => format!("{private}/{proto}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `N` or `N-M` with 1 ≤ N ≤ M ≤ 65535.
pub(crate) fn port_range(s: &str) -> Option<(u16, u16)> {
    let port = |p: &str| p.parse::<u16>().ok().filter(|p| *p > 0);
    match s.split_once('-') {
        Some((low, high)) => {
            let (low, high) = (port(low)?, port(high)?);
            (low <= high).then_some((low, high))
        }
        None => port(s).map(|p| (p, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(spec: &str) -> PortBinding {
        let mut all = parse_publish(spec).unwrap();
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    #[test]
    fn docker_forms() {
        let b = one("8080:80");
        assert_eq!(
            (b.host_port, b.container_port, b.proto),
            (8080, 80, Proto::Tcp)
        );
        assert_eq!(b.listen_ip(), "0.0.0.0");
        let b = one("127.0.0.1:18080:80/udp");
        assert_eq!(
            (b.host_ip.as_str(), b.host_port, b.proto),
            ("127.0.0.1", 18080, Proto::Udp)
        );
        assert_eq!(one("80").host_port, 0);
        assert_eq!(one("127.0.0.1::80").host_port, 0);
        assert_eq!(one("[::1]:9000:90").host_ip, "::1");
        assert_eq!(one("8080:80").to_string(), "80/tcp -> 0.0.0.0:8080");
    }

    #[test]
    fn ranges_expand() {
        let all = parse_publish("9000-9001:80-81").unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[1].host_port, all[1].container_port), (9001, 81));
        assert!(parse_publish("9000-9002:80-81").is_err());
    }

    #[test]
    fn expose_takes_ports_ranges_and_protocols() {
        assert_eq!(parse_expose("80").unwrap(), ["80/tcp"]);
        assert_eq!(parse_expose("53/udp").unwrap(), ["53/udp"]);
        assert_eq!(
            parse_expose("8000-8002").unwrap(),
            ["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(parse_expose("http").is_err());
        assert!(parse_expose("90-80").is_err());
        assert!(parse_expose("80/icmp").is_err());
        assert_eq!(exposed_port("53/udp"), Some((53, Proto::Udp)));
    }

    #[test]
    fn ports_display_as_docker_groups_them() {
        let published = |private, public| PortSummary {
            ip: Some("0.0.0.0".into()),
            private_port: private,
            public_port: Some(public),
            proto: Proto::Tcp,
        };
        let exposed = |private, proto| PortSummary {
            ip: None,
            private_port: private,
            public_port: None,
            proto,
        };
        assert_eq!(display_ports(&[]), "");
        assert_eq!(
            display_ports(&[published(80, 8080), exposed(443, Proto::Tcp)]),
            "0.0.0.0:8080->80/tcp, 443/tcp"
        );
        assert_eq!(
            display_ports(&[
                published(8001, 9001),
                published(8000, 9000),
                published(8002, 9002)
            ]),
            "0.0.0.0:9000-9002->8000-8002/tcp"
        );
        // Not consecutive on the host: separate entries.
        assert_eq!(
            display_ports(&[published(80, 32768), published(81, 32770)]),
            "0.0.0.0:32768->80/tcp, 0.0.0.0:32770->81/tcp"
        );
        assert_eq!(
            display_ports(&[
                exposed(53, Proto::Udp),
                exposed(1000, Proto::Tcp),
                exposed(1001, Proto::Tcp)
            ]),
            "53/udp, 1000-1001/tcp"
        );
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        assert_eq!(
            parse_publish("99999:80").unwrap_err(),
            "invalid hostPort: 99999"
        );
        assert_eq!(
            parse_publish("abc").unwrap_err(),
            "invalid containerPort: abc"
        );
        assert_eq!(
            parse_publish("80:80/sctpx").unwrap_err(),
            "invalid proto: sctpx"
        );
        assert_eq!(
            parse_publish("1.2.3:80:80").unwrap_err(),
            "invalid IP address: 1.2.3"
        );
        assert!(parse_publish("0:80").is_err());
        assert!(parse_publish("80:0").is_err());
    }
}

/// Property tests: port specs from users parse or are refused, never panic; what a binding
/// prints (`80/tcp -> 0.0.0.0:8080`) as a `-p` spec parses back to it.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    use crate::proptest_cases::config;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_spec_is_parsed_or_refused(text in any::<String>(), shaped in "(\\[?[0-9a-f:.]{0,12}\\]?:)?[0-9]{0,6}(-[0-9]{0,6})?(:[0-9]{0,6}(-[0-9]{0,6})?)?(/[a-z]{0,5})?") {
            for spec in [&text, &shaped] {
                let _ = parse_expose(spec);
                let _ = exposed_port(spec);
                if let Ok(bindings) = parse_publish(spec) {
                    prop_assert!(!bindings.is_empty());
                    prop_assert!(bindings.iter().all(|b| b.container_port > 0));
                }
            }
        }

        #[test]
        fn bindings_round_trip(container in 1u16.., host in any::<u16>(), ip in prop::option::of(any::<std::net::Ipv4Addr>()), udp in any::<bool>()) {
            let binding = PortBinding {
                proto: if udp { Proto::Udp } else { Proto::Tcp },
                container_port: container,
                host_ip: ip.map(|ip| ip.to_string()).unwrap_or_default(),
                host_port: host,
            };
            let host_part = if host == 0 { String::new() } else { host.to_string() };
            let spec = match &ip {
                Some(ip) => format!("{ip}:{host_part}:{container}/{}", binding.proto.as_str()),
                None if host == 0 => format!("{container}/{}", binding.proto.as_str()),
                None => format!("{host}:{container}/{}", binding.proto.as_str()),
            };
            prop_assert_eq!(parse_publish(&spec), Ok(vec![binding]));
        }
    }
}
