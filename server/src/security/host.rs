//! The Host allow-list: a TCP request is answered only when its `Host` names this daemon —
//! a loopback name or address, or a name the admin configured (`--public-url`,
//! `--allowed-host`). Anything else is a DNS-rebinding attempt (a foreign name that resolves
//! to 127.0.0.1 in the victim's browser) and gets 421 before routing.

use std::net::IpAddr;

/// The names (without ports) this daemon answers to over TCP.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl AllowedHosts {
    /// Loopback names and addresses are always allowed; `extra` adds configured names or
    /// addresses (lower-cased, without a port).
    pub fn new(extra: impl IntoIterator<Item = String>) -> AllowedHosts {
        let mut names: Vec<String> = extra
            .into_iter()
            .map(|n| n.trim().trim_end_matches('.').to_ascii_lowercase())
            .filter(|n| !n.is_empty())
            .collect();
        names.sort();
        names.dedup();
        AllowedHosts { names }
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) is allowed.
    pub fn allows(&self, host_header: &str) -> bool {
        let Some(name) = host_name(host_header) else {
            return false;
        };
        is_loopback_name(&name) || self.names.contains(&name)
    }
}

/// The name part of a Host header, lower-cased, without port or brackets; None when the
/// header is malformed (RFC 9110 §7.2: `uri-host [ ":" port ]`).
pub fn host_name(host_header: &str) -> Option<String> {
    let text = host_header.trim();
    if text.is_empty() || text.contains(['/', '@', ' ', '\\']) {
        return None;
    }
    let name = if let Some(rest) = text.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        if !(after.is_empty() || valid_port(after.strip_prefix(':')?)) {
            return None;
        }
        inside.to_string()
    } else {
        match text.rsplit_once(':') {
            Some((name, port)) if !name.contains(':') => {
                if !valid_port(port) {
                    return None;
                }
                name.to_string()
            }
            Some(_) => return None, // a bare IPv6 address must be bracketed
            None => text.to_string(),
        }
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    (!name.is_empty()).then_some(name)
}

fn valid_port(port: &str) -> bool {
    !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
}

/// `localhost` (and names under it, RFC 6761 §6.3), 127.0.0.0/8 and ::1.
pub fn is_loopback_name(name: &str) -> bool {
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_allowed_with_or_without_a_port() {
        let hosts = AllowedHosts::new([]);
        for ok in [
            "localhost",
            "localhost:7878",
            "127.0.0.1:7878",
            "127.0.0.2",
            "[::1]:7878",
            "[::1]",
            "LOCALHOST:1",
            "app.localhost:80",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
    }

    #[test]
    fn foreign_and_malformed_hosts_are_refused() {
        let hosts = AllowedHosts::new(["berth.example.org".to_string()]);
        for bad in [
            "evil.example",
            "evil.example:7878",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "",
            "::1",
            "[::1",
            "127.0.0.1:port",
            "127.0.0.1:123456",
            "user@127.0.0.1",
            "127.0.0.1/x",
            "10.0.0.1",
        ] {
            assert!(!hosts.allows(bad), "{bad}");
        }
        assert!(hosts.allows("berth.example.org:443"));
        assert!(hosts.allows("Berth.Example.Org."));
    }
}

/// Property tests: any Host header is judged without a panic; a name it yields is
/// lower-case, has no trailing dot and is its own host name.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
        ))]

        #[test]
        fn any_host_header_is_judged(text in any::<String>(), shaped in "\\[?[a-zA-Z0-9.:\\-]{0,20}\\]?(:[0-9]{0,7})?") {
            let hosts = AllowedHosts::new(["berth.example".to_string()]);
            for header in [&text, &shaped] {
                let allowed = hosts.allows(header);
                if let Some(name) = host_name(header) {
                    prop_assert!(!name.is_empty());
                    prop_assert!(!name.ends_with('.'));
                    prop_assert_eq!(name.to_ascii_lowercase(), name.clone());
                    if !name.contains(':') {
                        prop_assert_eq!(host_name(&name), Some(name.clone()));
                        prop_assert_eq!(hosts.allows(&name), allowed);
                    }
                } else {
                    prop_assert!(!allowed);
                }
            }
        }
    }
}
