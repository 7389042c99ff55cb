//! IPv4 subnets as IPAM needs them: parse `a.b.c.d/n`, overlap tests, the n-th host address,
//! and the candidates an automatically chosen subnet is taken from.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network: its base address (host bits zero) and prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subnet {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Subnet {
    /// The network that `addr/prefix` belongs to (host bits cleared).
    pub fn containing(addr: Ipv4Addr, prefix: u8) -> Subnet {
        let prefix = prefix.min(32);
        Subnet {
            base: Ipv4Addr::from(u32::from(addr) & mask(prefix)),
            prefix,
        }
    }

    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & mask(self.prefix) == u32::from(self.base)
    }

    /// Whether the two networks share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        let prefix = self.prefix.min(other.prefix);
        u32::from(self.base) & mask(prefix) == u32::from(other.base) & mask(prefix)
    }

    /// The address `n` places after the base (1 is docker's gateway), if it is a host address
    /// of this network (not the base, not the broadcast address).
    pub fn host(&self, n: u32) -> Option<Ipv4Addr> {
        let size = 1u64 << (32 - u32::from(self.prefix));
        if n == 0 || u64::from(n) >= size.saturating_sub(1) {
            return None;
        }
        Some(Ipv4Addr::from(u32::from(self.base) + n))
    }

    /// Candidates for a subnet chosen automatically: /24s of 172.18.0.0–172.31.255.0 (docker's
    /// pool for bridge networks), without 172.29.0.0/16, berth's default bridge.
    pub fn auto_candidates() -> impl Iterator<Item = Subnet> {
        (18u8..=31).filter(|b| *b != 29).flat_map(|b| {
            (0u8..=255).map(move |c| Subnet::containing(Ipv4Addr::new(172, b, c, 0), 24))
        })
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

impl FromStr for Subnet {
    type Err = String;

    /// `a.b.c.d/n` with 8 ≤ n ≤ 30 (a bridge needs room for a gateway and a container) and no
    /// host bits set, as docker requires.
    fn from_str(s: &str) -> Result<Subnet, String> {
        let invalid = || format!("invalid subnet {s:?}: expected an IPv4 CIDR such as 10.1.0.0/16");
        let (addr, prefix) = s.split_once('/').ok_or_else(invalid)?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| invalid())?;
        let prefix: u8 = prefix.parse().map_err(|_| invalid())?;
        if !(8..=30).contains(&prefix) {
            return Err(format!(
                "invalid subnet {s}: the prefix length must be between 8 and 30"
            ));
        }
        let subnet = Subnet::containing(addr, prefix);
        if subnet.base != addr {
            return Err(format!(
                "invalid subnet {s}: host bits are set (the network is {subnet})"
            ));
        }
        Ok(subnet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks_cidrs() {
        let s: Subnet = "10.1.0.0/16".parse().unwrap();
        assert_eq!(s.to_string(), "10.1.0.0/16");
        assert!("10.1.2.3/16"
            .parse::<Subnet>()
            .unwrap_err()
            .contains("10.1.0.0/16"));
        assert!("10.1.0.0".parse::<Subnet>().is_err());
        assert!("10.1.0.0/31".parse::<Subnet>().is_err());
        assert!("abc/8".parse::<Subnet>().is_err());
    }

    #[test]
    fn overlap_and_membership() {
        let a: Subnet = "172.20.0.0/16".parse().unwrap();
        let b: Subnet = "172.20.5.0/24".parse().unwrap();
        let c: Subnet = "172.21.0.0/24".parse().unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
        assert!(!a.overlaps(&c));
        assert!(a.contains(Ipv4Addr::new(172, 20, 9, 9)));
        assert!(!b.contains(Ipv4Addr::new(172, 20, 6, 1)));
    }

    #[test]
    fn host_addresses_exclude_network_and_broadcast() {
        let s: Subnet = "10.0.0.0/30".parse().unwrap();
        assert_eq!(s.host(0), None);
        assert_eq!(s.host(1), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(s.host(2), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(s.host(3), None);
    }

    #[test]
    fn auto_candidates_avoid_the_default_bridge() {
        let default: Subnet = "172.29.0.0/16".parse().unwrap();
        assert!(Subnet::auto_candidates().all(|c| !c.overlaps(&default)));
        assert_eq!(
            Subnet::auto_candidates().next().unwrap().to_string(),
            "172.18.0.0/24"
        );
    }
}
