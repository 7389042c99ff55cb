//! Containers: their state model, the settings they are created with, and the catalogue rows.
//! The lifecycle itself (create, start, stop, remove, wait, logs) is driven by the containers
//! service, [`crate::Containers`] (`engine.containers()`).

mod config;
mod config_cache;
pub mod devices;
pub mod filter;
mod follow;
pub(crate) mod list_cache;
mod monitor;
mod names;
pub mod restart;
mod root_hold;
mod signal;
pub(crate) use monitor::{is_shim_of, process_exit};
pub mod inspect;
mod store;

pub use config::{
    resolve_user, ContainerConfig, CreateOptions, ResolvedUser, DEFAULT_CGROUP_PARENT,
};
pub(crate) use config_cache::ConfigCache;
pub use filter::ContainerFilter;
pub use follow::{LogFollower, LogOptions, PositionedBatch};
pub(crate) use list_cache::ListCache;
pub(crate) use monitor::{ExitWatch, Status};
pub(crate) use names::{generate_name, validate_name};
pub(crate) use root_hold::RootHolds;
pub(crate) use signal::{signal_container, signal_container_group};
pub(crate) use store::ContainerRow;

pub use berth_wire::container::{ContainerState, ContainerSummary, ListedMount, ListedNetwork};

/// A listed container's ports as docker lists them: each published binding with its host
/// address, then each exposed port that is not published.
pub fn list_ports(
    exposed: &[String],
    published: Vec<crate::network::PortBinding>,
) -> Vec<crate::network::PortSummary> {
    use crate::network::PortSummary;
    let mut ports: Vec<PortSummary> = published
        .iter()
        .map(|b| PortSummary {
            ip: Some(b.listen_ip().to_string()),
            private_port: b.container_port,
            public_port: Some(b.host_port),
            proto: b.proto,
        })
        .collect();
    for (port, proto) in exposed
        .iter()
        .filter_map(|key| crate::network::ports::exposed_port(key))
    {
        if !published
            .iter()
            .any(|b| b.container_port == port && b.proto == proto)
        {
            ports.push(PortSummary {
                ip: None,
                private_port: port,
                public_port: None,
                proto,
            });
        }
    }
    ports
}
