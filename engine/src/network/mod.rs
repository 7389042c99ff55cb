//! Container networking: networks (docker's predefined bridge, host and none, and user-defined
//! bridges) with their IPAM, each container's network namespace with its veth pairs, the
//! published ports' proxies, and /etc/hosts. The lifecycle glue is in `engine/networks.rs`.

pub mod filter;
pub(crate) mod hosts;
pub(crate) mod link;
pub(crate) mod netns;
pub mod ports;
pub(crate) mod proxy;
pub mod settings;
pub mod store;
pub mod subnet;

pub use ports::{display_ports, parse_expose, parse_publish, PortBinding, PortSummary, Proto};
pub use settings::{NetworkCreate, NetworkInspect, NetworkSettings};
pub use store::{EndpointRow, NetworkRow, NetworkRowExt};
pub use subnet::Subnet;

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("netlink: failed to {what}: {source}")]
    Netlink {
        what: String,
        #[source]
        source: Box<rtnetlink::Error>,
    },
    #[error("failed to {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}

/// The daemon's network settings (`berth serve --bridge-…`).
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// The default bridge's Linux name (docker0 for docker).
    pub bridge_name: String,
    /// The default bridge's subnet; `None` picks a free one when it is first needed.
    pub bridge_subnet: Option<Subnet>,
    /// User networks' bridges are named this plus the start of their id (docker: `br-`).
    pub bridge_prefix: String,
    /// Where the host-wide lock taken while choosing subnets and creating bridges lives.
    pub lock_path: PathBuf,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            bridge_name: "berth0".into(),
            bridge_subnet: Some(Subnet {
                base: std::net::Ipv4Addr::new(172, 29, 0, 0),
                prefix: 16,
            }),
            bridge_prefix: "br-".into(),
            lock_path: PathBuf::from("/run/berth/network.lock"),
        }
    }
}

/// The engine's networking state: settings and the running proxies.
#[derive(Default)]
pub(crate) struct NetState {
    pub config: NetworkConfig,
    pub proxies: proxy::Proxies,
    /// Held while an endpoint's address is chosen and recorded.
    pub allocating: tokio::sync::Mutex<()>,
}

/// `--network` values that are not networks of the catalogue.
pub const MODE_NONE: &str = "none";
pub const MODE_HOST: &str = "host";
/// docker's `default` is the bridge.
pub const MODE_BRIDGE: &str = "bridge";
