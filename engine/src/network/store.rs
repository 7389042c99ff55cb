//! Network, attachment, endpoint and published-port rows in the catalogue; endpoint insertion
//! is where an address is allocated (the lowest free one; UNIQUE(network_id, ip) guards it).

use super::{PortBinding, Proto, Subnet};
use crate::db::{now_ms, Db};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

/// A network, as `network ls` and `network inspect` show it: the wire's
/// [`NetworkSummary`](berth_wire::network::NetworkSummary), which is also its catalogue row.
pub use berth_wire::network::NetworkSummary as NetworkRow;

/// The columns of a network row, in [`NETWORK_COLUMNS`] order.
type Columns = (String, String, String, String, String, String, i64);

fn network_row((id, name, driver, subnet, gateway, bridge, created_at): Columns) -> NetworkRow {
    NetworkRow {
        id,
        name,
        driver,
        subnet,
        gateway,
        bridge,
        created_at,
    }
}

/// What the engine reads out of a network row.
pub trait NetworkRowExt {
    fn subnet(&self) -> Option<Subnet>;

    fn gateway(&self) -> Option<Ipv4Addr>;
}

impl NetworkRowExt for NetworkRow {
    fn subnet(&self) -> Option<Subnet> {
        self.subnet.parse().ok()
    }

    fn gateway(&self) -> Option<Ipv4Addr> {
        self.gateway.parse().ok()
    }
}

/// A running container's interface on one network.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, PartialEq)]
pub struct EndpointRow {
    pub container_id: String,
    pub network_id: String,
    pub ip: String,
    pub mac: String,
    pub ifname: String,
    pub host_veth: String,
}

const NETWORK_COLUMNS: &str = "id, name, driver, subnet, gateway, bridge, created_at";

pub(crate) async fn list(db: &Db) -> Result<Vec<NetworkRow>> {
    let rows: Vec<Columns> = sqlx::query_as(&format!(
        "SELECT {NETWORK_COLUMNS} FROM networks ORDER BY created_at, name"
    ))
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(network_row).collect())
}

/// A network by exact name, exact id or unique id prefix.
pub(crate) async fn find(db: &Db, key: &str) -> Result<NetworkRow> {
    let all = list(db).await?;
    if let Some(row) = all.iter().find(|n| n.name == key || n.id == key) {
        return Ok(row.clone());
    }
    let matches: Vec<&NetworkRow> = all
        .iter()
        .filter(|n| !key.is_empty() && n.id.starts_with(key))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(Error::not_found("network", key)),
        _ => Err(Error::Conflict(format!(
            "network {key} is ambiguous ({} matches found)",
            matches.len()
        ))),
    }
}

pub(crate) async fn insert(db: &Db, row: &NetworkRow) -> Result<()> {
    let result = sqlx::query(&format!(
        "INSERT INTO networks ({NETWORK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.driver)
    .bind(&row.subnet)
    .bind(&row.gateway)
    .bind(&row.bridge)
    .bind(row.created_at)
    .execute(db)
    .await;
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(format!(
            "network with name {} already exists",
            row.name
        ))),
        other => other.map(|_| ()).map_err(Error::from),
    }
}

pub(crate) async fn set_addressing(
    db: &Db,
    id: &str,
    subnet: &Subnet,
    gateway: Ipv4Addr,
    bridge: &str,
) -> Result<()> {
    sqlx::query("UPDATE networks SET subnet = ?, gateway = ?, bridge = ? WHERE id = ?")
        .bind(subnet.to_string())
        .bind(gateway.to_string())
        .bind(bridge)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

pub(crate) async fn delete(db: &Db, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM attachments WHERE network_id = ?")
        .bind(id)
        .execute(db)
        .await?;
    sqlx::query("DELETE FROM networks WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// A new row with a fresh id, created now.
pub(crate) fn new_row(name: &str, driver: &str) -> NetworkRow {
    NetworkRow {
        id: crate::ids::new_id(),
        name: name.to_string(),
        driver: driver.to_string(),
        subnet: String::new(),
        gateway: String::new(),
        bridge: String::new(),
        created_at: now_ms(),
    }
}

// ----- attachments -----

/// The networks a container is connected to, in connection order.
pub(crate) async fn attachments(db: &Db, container: &str) -> Result<Vec<NetworkRow>> {
    let rows: Vec<Columns> = sqlx::query_as(
        "SELECT n.id, n.name, n.driver, n.subnet, n.gateway, n.bridge, n.created_at \
         FROM attachments a JOIN networks n ON n.id = a.network_id \
         WHERE a.container_id = ? ORDER BY a.seq",
    )
    .bind(container)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(network_row).collect())
}

/// Every container's networks, by container id, in connection order (one query for a list).
pub(crate) async fn all_attachments(
    db: &Db,
) -> Result<std::collections::HashMap<String, Vec<berth_wire::container::ListedNetwork>>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT a.container_id, n.id, n.name FROM attachments a \
         JOIN networks n ON n.id = a.network_id ORDER BY a.seq",
    )
    .fetch_all(db)
    .await?;
    let mut all: std::collections::HashMap<String, Vec<berth_wire::container::ListedNetwork>> =
        Default::default();
    for (container, id, name) in rows {
        all.entry(container)
            .or_default()
            .push(berth_wire::container::ListedNetwork { id, name });
    }
    Ok(all)
}

/// Whether any container is connected to the network (running or not).
pub(crate) async fn in_use(db: &Db, network: &str) -> Result<bool> {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM attachments WHERE network_id = ?1) \
              + (SELECT COUNT(*) FROM endpoints WHERE network_id = ?1)",
    )
    .bind(network)
    .fetch_one(db)
    .await?;
    Ok(count > 0)
}

pub(crate) async fn attach(db: &Db, container: &str, network: &str) -> Result<()> {
    let result = sqlx::query("INSERT INTO attachments (container_id, network_id) VALUES (?, ?)")
        .bind(container)
        .bind(network)
        .execute(db)
        .await;
    match result {
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(
            "endpoint with name already exists in network".to_string(),
        )),
        other => other.map(|_| ()).map_err(Error::from),
    }
}

pub(crate) async fn detach(db: &Db, container: &str, network: &str) -> Result<()> {
    sqlx::query("DELETE FROM attachments WHERE container_id = ? AND network_id = ?")
        .bind(container)
        .bind(network)
        .execute(db)
        .await?;
    Ok(())
}

pub(crate) async fn detach_all(db: &Db, container: &str) -> Result<()> {
    sqlx::query("DELETE FROM attachments WHERE container_id = ?")
        .bind(container)
        .execute(db)
        .await?;
    Ok(())
}

/// Containers that still hold network rows (endpoints, attachments, published ports) but have
/// no container row: what a daemon killed mid-create or mid-remove leaves behind.
pub(crate) async fn orphan_containers(db: &Db) -> Result<Vec<String>> {
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT container_id FROM endpoints WHERE container_id NOT IN (SELECT id FROM containers) \
         UNION SELECT container_id FROM attachments WHERE container_id NOT IN (SELECT id FROM containers) \
         UNION SELECT container_id FROM port_bindings WHERE container_id NOT IN (SELECT id FROM containers)",
    )
    .fetch_all(db)
    .await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

// ----- endpoints (IPAM) -----

/// Allocates the lowest free address of `network` (not the gateway) and records the endpoint.
pub(crate) async fn allocate(
    db: &Db,
    container: &str,
    network: &NetworkRow,
    ifname: &str,
    host_veth: &str,
) -> Result<EndpointRow> {
    let subnet = network
        .subnet()
        .ok_or_else(|| Error::Corrupt(format!("network {} has no subnet", network.name)))?;
    let gateway = network.gateway();
    // Each lost race means a concurrent start got an address, so every retry makes progress
    // (30 concurrent runs lost up to 29 times); the bound only guards against a loop.
    for _attempt in 0..1024 {
        let used: Vec<String> = sqlx::query_scalar("SELECT ip FROM endpoints WHERE network_id = ?")
            .bind(&network.id)
            .fetch_all(db)
            .await?;
        let free = (1u32..)
            .map_while(|n| subnet.host(n))
            .find(|ip| Some(*ip) != gateway && !used.contains(&ip.to_string()))
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "no available IPv4 addresses on network {}",
                    network.name
                ))
            })?;
        let octets = free.octets();
        let row = EndpointRow {
            container_id: container.to_string(),
            network_id: network.id.clone(),
            ip: free.to_string(),
            // docker's scheme: 02:42 and the IPv4 address.
            mac: format!(
                "02:42:{:02x}:{:02x}:{:02x}:{:02x}",
                octets[0], octets[1], octets[2], octets[3]
            ),
            ifname: ifname.to_string(),
            host_veth: host_veth.to_string(),
        };
        let result = sqlx::query(
            "INSERT INTO endpoints (container_id, network_id, ip, mac, ifname, host_veth) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.container_id)
        .bind(&row.network_id)
        .bind(&row.ip)
        .bind(&row.mac)
        .bind(&row.ifname)
        .bind(&row.host_veth)
        .execute(db)
        .await;
        match result {
            Ok(_) => return Ok(row),
            // Taken by a concurrent start: try the next free one.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Conflict(format!(
        "could not allocate an address on network {}",
        network.name
    )))
}

pub(crate) async fn endpoints_of(db: &Db, container: &str) -> Result<Vec<EndpointRow>> {
    endpoints_where(db, "container_id = ? ORDER BY ifname", container).await
}

pub(crate) async fn endpoints_on(db: &Db, network: &str) -> Result<Vec<EndpointRow>> {
    endpoints_where(db, "network_id = ? ORDER BY ip", network).await
}

async fn endpoints_where(db: &Db, filter: &str, value: &str) -> Result<Vec<EndpointRow>> {
    Ok(sqlx::query_as::<_, EndpointRow>(&format!(
        "SELECT container_id, network_id, ip, mac, ifname, host_veth FROM endpoints WHERE {filter}"
    ))
    .bind(value)
    .fetch_all(db)
    .await?)
}

pub(crate) async fn release(db: &Db, container: &str, network: &str) -> Result<()> {
    sqlx::query("DELETE FROM endpoints WHERE container_id = ? AND network_id = ?")
        .bind(container)
        .bind(network)
        .execute(db)
        .await?;
    Ok(())
}

// ----- published ports -----

pub(crate) async fn record_ports(db: &Db, container: &str, ports: &[PortBinding]) -> Result<()> {
    for p in ports {
        sqlx::query(
            "INSERT OR REPLACE INTO port_bindings (container_id, proto, container_port, host_ip, host_port) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(container)
        .bind(p.proto.as_str())
        .bind(i64::from(p.container_port))
        .bind(&p.host_ip)
        .bind(i64::from(p.host_port))
        .execute(db)
        .await?;
    }
    Ok(())
}

/// The actual bindings of a running container.
pub(crate) async fn ports(db: &Db, container: &str) -> Result<Vec<PortBinding>> {
    let rows: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT container_id, proto, container_port, host_ip, host_port FROM port_bindings \
         WHERE container_id = ? ORDER BY container_port, proto, host_ip",
    )
    .bind(container)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(port_binding)
        .map(|r| r.map(|(_, b)| b))
        .collect()
}

/// The actual bindings of every running container, by container id (one query for a list).
pub(crate) async fn all_ports(
    db: &Db,
) -> Result<std::collections::HashMap<String, Vec<PortBinding>>> {
    let rows: Vec<(String, String, i64, String, i64)> = sqlx::query_as(
        "SELECT container_id, proto, container_port, host_ip, host_port FROM port_bindings",
    )
    .fetch_all(db)
    .await?;
    let mut all: std::collections::HashMap<String, Vec<PortBinding>> = Default::default();
    for row in rows {
        let (container, binding) = port_binding(row)?;
        all.entry(container).or_default().push(binding);
    }
    Ok(all)
}

fn port_binding(
    (container, proto, container_port, host_ip, host_port): (String, String, i64, String, i64),
) -> Result<(String, PortBinding)> {
    Ok((
        container,
        PortBinding {
            proto: Proto::parse(&proto).map_err(Error::Corrupt)?,
            container_port: container_port as u16,
            host_ip,
            host_port: host_port as u16,
        },
    ))
}

pub(crate) async fn forget_ports(db: &Db, container: &str) -> Result<()> {
    sqlx::query("DELETE FROM port_bindings WHERE container_id = ?")
        .bind(container)
        .execute(db)
        .await?;
    Ok(())
}
