//! Networks on the wire: the shapes of docker's `network inspect`, `inspect`'s
//! NetworkSettings, the `network create` body, and a container's ports as lists show them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A port's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }

    pub fn parse(s: &str) -> Result<Proto, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            "sctp" => Err("invalid proto: sctp is not supported (tcp or udp)".to_string()),
            _ => Err(format!("invalid proto: {s}")),
        }
    }
}

/// One port of a container as `ps` and the list API show it (docker's `Ports` entries): a
/// published one has the host address and port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct PortSummary {
    #[serde(rename = "IP", default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub private_port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub proto: Proto,
}

/// A network as `network ls`, create and remove answer it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkSummary {
    pub id: String,
    pub name: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// CIDR; empty until the default bridge is first used.
    pub subnet: String,
    pub gateway: String,
    /// The Linux bridge (bridge driver).
    pub bridge: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

impl NetworkSummary {
    /// The three networks docker predefines.
    pub fn is_predefined(&self) -> bool {
        matches!(self.name.as_str(), "bridge" | "host" | "none")
    }
}

/// One host socket a container port is published on (`{"HostIp": "0.0.0.0", "HostPort": "8080"}`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct HostPort {
    pub host_ip: String,
    pub host_port: String,
}

/// An interface's addressing (in NetworkSettings, that of the first network).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Addressing {
    #[serde(rename = "Gateway")]
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u8,
    #[serde(rename = "MacAddress")]
    pub mac_address: String,
}

/// A container's interface on one network.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndpointSettings {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(flatten)]
    pub addressing: Addressing,
    #[serde(rename = "Aliases")]
    pub aliases: Vec<String>,
}

/// `inspect`'s NetworkSettings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkSettings {
    /// The network namespace file, empty when the container has none of berth's.
    #[serde(rename = "SandboxKey")]
    pub sandbox_key: String,
    /// `"80/tcp"` → its host sockets (`null` when not published while stopped).
    #[serde(rename = "Ports")]
    pub ports: BTreeMap<String, Option<Vec<HostPort>>>,
    #[serde(flatten)]
    pub addressing: Addressing,
    #[serde(rename = "Networks")]
    pub networks: BTreeMap<String, EndpointSettings>,
}

/// A container on a network, in `network inspect`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkContainer {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    #[serde(rename = "MacAddress")]
    pub mac_address: String,
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IpamConfig {
    #[serde(rename = "Subnet")]
    pub subnet: String,
    #[serde(rename = "Gateway")]
    pub gateway: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Ipam {
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "Config")]
    pub config: Vec<IpamConfig>,
}

/// `network inspect` of one network.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkInspect {
    #[serde(rename = "Name")]
    pub name: String,
    #[serde(rename = "Id")]
    pub id: String,
    #[serde(rename = "Created")]
    pub created: String,
    #[serde(rename = "Scope")]
    pub scope: String,
    #[serde(rename = "Driver")]
    pub driver: String,
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    #[serde(rename = "Internal")]
    pub internal: bool,
    #[serde(rename = "Containers")]
    pub containers: BTreeMap<String, NetworkContainer>,
    #[serde(rename = "Options")]
    pub options: BTreeMap<String, String>,
    #[serde(rename = "Labels")]
    pub labels: BTreeMap<String, String>,
}

/// What `network create` asks for.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkCreate {
    pub name: String,
    /// Only `bridge` (the default).
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub subnet: Option<String>,
    #[serde(default)]
    pub gateway: Option<String>,
}

/// What `network prune` removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NetworkPruneResponse {
    #[serde(rename = "NetworksDeleted")]
    pub networks_deleted: Vec<String>,
}

/// The body of connect and disconnect (docker's wire name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainerRef {
    #[serde(rename = "Container")]
    pub container: String,
}
