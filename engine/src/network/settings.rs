//! How networks and a container's network settings are shown: the wire shapes of docker's
//! `network inspect` and of `inspect`'s NetworkSettings.

pub use berth_wire::network::{
    Addressing, EndpointSettings, HostPort, Ipam, IpamConfig, NetworkContainer, NetworkCreate,
    NetworkInspect, NetworkSettings,
};
