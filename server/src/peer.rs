//! Who is at the other end of a connection: a TCP address (with or without TLS) or a local
//! process on the unix socket. The listeners put it into every request's extensions; the
//! security layer decides on it (the unix socket is root's, as docker's).

use std::net::SocketAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// A client over TCP; `tls` when the connection is TLS.
    Tcp { addr: SocketAddr, tls: bool },
    /// A local process over the unix socket, with its uid when the kernel told it
    /// (SO_PEERCRED).
    Unix { uid: Option<u32> },
}

// The security layer decides on these; until it lands only `describe` is used.
#[allow(dead_code)]
impl Peer {
    /// How the audit log names the peer: `127.0.0.1:51234`, `unix (uid 0)`.
    pub fn describe(&self) -> String {
        match self {
            Peer::Tcp { addr, .. } => addr.to_string(),
            Peer::Unix { uid: Some(uid) } => format!("unix (uid {uid})"),
            Peer::Unix { uid: None } => "unix".to_string(),
        }
    }

    pub fn is_unix(&self) -> bool {
        matches!(self, Peer::Unix { .. })
    }

    /// The client's IP address over TCP (what login rate limits count by).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        match self {
            Peer::Tcp { addr, .. } => Some(addr.ip()),
            Peer::Unix { .. } => None,
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self, Peer::Tcp { tls: true, .. })
    }
}
