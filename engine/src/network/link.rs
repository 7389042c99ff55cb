//! Netlink (rtnetlink) operations on links, addresses and routes: bridges, veth pairs, and
//! the interface, loopback and default route inside a container's network namespace.

use super::{netns, NetworkError, Subnet};
use crate::phases::Phases;
use futures::TryStreamExt;
use netlink_packet_route::address::AddressAttribute;
use netlink_packet_route::link::{
    InfoData, InfoKind, InfoVeth, LinkAttribute, LinkFlag, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute};
use rtnetlink::{Handle, IpVersion};
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

fn nl(what: impl Into<String>) -> impl FnOnce(rtnetlink::Error) -> NetworkError {
    let what = what.into();
    move |source| NetworkError::Netlink {
        what,
        source: Box::new(source),
    }
}

/// A netlink connection in the calling thread's network namespace, driven on the current
/// runtime; it closes when the handle is dropped.
fn connect() -> Result<Handle, NetworkError> {
    let (connection, handle, _) =
        rtnetlink::new_connection().map_err(|source| NetworkError::Io {
            what: "open a netlink socket".into(),
            source,
        })?;
    tokio::spawn(connection);
    Ok(handle)
}

fn link_name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

/// Every link's (index, name).
async fn links(handle: &Handle) -> Result<Vec<(u32, String)>, NetworkError> {
    let mut stream = handle.link().get().execute();
    let mut out = Vec::new();
    while let Some(link) = stream.try_next().await.map_err(nl("list links"))? {
        if let Some(name) = link_name(&link) {
            out.push((link.header.index, name.to_string()));
        }
    }
    Ok(out)
}

/// The index of the link called `name`, asked for by name (`RTM_GETLINK` with
/// `IFLA_IFNAME`) rather than found in a dump of every link, which grows with the containers.
async fn index_of(handle: &Handle, name: &str) -> Result<Option<u32>, NetworkError> {
    let mut stream = handle.link().get().match_name(name.to_string()).execute();
    match stream.try_next().await {
        Ok(link) => Ok(link.map(|l| l.header.index)),
        Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => Ok(None),
        Err(e) => Err(nl(format!("look up link {name}"))(e)),
    }
}

/// The index of the link called `name` in a listing.
fn index_in(links: &[(u32, String)], name: &str) -> Option<u32> {
    links.iter().find(|(_, n)| n == name).map(|(i, _)| *i)
}

fn vanished(name: &str) -> NetworkError {
    NetworkError::Setup(format!("link {name} vanished"))
}

async fn set_up(handle: &Handle, index: u32, name: &str) -> Result<(), NetworkError> {
    handle
        .link()
        .set(index)
        .up()
        .execute()
        .await
        .map_err(nl(format!("bring up {name}")))
}

async fn add_address(
    handle: &Handle,
    index: u32,
    ip: Ipv4Addr,
    prefix: u8,
    name: &str,
) -> Result<(), NetworkError> {
    handle
        .address()
        .add(index, IpAddr::V4(ip), prefix)
        .execute()
        .await
        .map_err(nl(format!("add {ip}/{prefix} to {name}")))
}

/// Whether a link of that name exists in the daemon's namespace.
pub(crate) async fn exists(name: &str) -> Result<bool, NetworkError> {
    Ok(index_of(&connect()?, name).await?.is_some())
}

/// The IPv4 networks this host uses: those of its addresses, and its routes' destinations
/// (the default route aside), each with the link it is on.
pub(crate) async fn host_networks() -> Result<Vec<(Subnet, String)>, NetworkError> {
    let handle = connect()?;
    let names = links(&handle).await?;
    let name_of = |index: u32| {
        names
            .iter()
            .find(|(i, _)| *i == index)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut addresses = handle.address().get().execute();
    while let Some(msg) = addresses.try_next().await.map_err(nl("list addresses"))? {
        for attribute in &msg.attributes {
            if let AddressAttribute::Address(IpAddr::V4(ip)) = attribute {
                out.push((
                    Subnet::containing(*ip, msg.header.prefix_len),
                    name_of(msg.header.index),
                ));
            }
        }
    }
    let mut routes = handle.route().get(IpVersion::V4).execute();
    while let Some(msg) = routes.try_next().await.map_err(nl("list routes"))? {
        let prefix = msg.header.destination_prefix_length;
        if prefix == 0 {
            continue;
        }
        let mut dst = None;
        let mut oif = 0;
        for attribute in &msg.attributes {
            match attribute {
                RouteAttribute::Destination(RouteAddress::Inet(ip)) => dst = Some(*ip),
                RouteAttribute::Oif(index) => oif = *index,
                _ => {}
            }
        }
        if let Some(dst) = dst {
            out.push((Subnet::containing(dst, prefix), name_of(oif)));
        }
    }
    Ok(out)
}

/// Creates the bridge `name` (if missing) with `gateway/prefix` on it, up.
pub(crate) async fn ensure_bridge(
    name: &str,
    gateway: Ipv4Addr,
    prefix: u8,
) -> Result<(), NetworkError> {
    let handle = connect()?;
    let index = match index_of(&handle, name).await? {
        Some(index) => index,
        None => {
            handle
                .link()
                .add()
                .bridge(name.to_string())
                .execute()
                .await
                .map_err(nl(format!("create bridge {name}")))?;
            index_of(&handle, name)
                .await?
                .ok_or_else(|| vanished(name))?
        }
    };
    let mut present = false;
    let mut addresses = handle
        .address()
        .get()
        .set_link_index_filter(index)
        .execute();
    while let Some(msg) = addresses.try_next().await.map_err(nl("list addresses"))? {
        present |= msg
            .attributes
            .iter()
            .any(|a| matches!(a, AddressAttribute::Address(IpAddr::V4(ip)) if *ip == gateway));
    }
    if !present {
        add_address(&handle, index, gateway, prefix, name).await?;
    }
    set_up(&handle, index, name).await
}

/// Deletes a link of the daemon's namespace (a bridge, a veth end); a missing one is fine.
pub(crate) async fn delete(name: &str) -> Result<(), NetworkError> {
    let handle = connect()?;
    if let Some(index) = index_of(&handle, name).await? {
        match handle.link().del(index).execute().await {
            Ok(()) => {}
            // Gone meanwhile (its namespace went, taking the pair with it).
            Err(rtnetlink::Error::NetlinkError(e)) if e.raw_code() == -libc::ENODEV => {}
            Err(e) => return Err(nl(format!("delete {name}"))(e)),
        }
    }
    Ok(())
}

/// One interface of a container: its veth pair and what goes inside.
pub(crate) struct Interface<'a> {
    pub host_veth: &'a str,
    /// Name inside the namespace (eth0, eth1 …).
    pub ifname: &'a str,
    pub bridge: &'a str,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub mac: [u8; 6],
    /// Set for the first interface: the default route goes via this gateway.
    pub default_gateway: Option<Ipv4Addr>,
}

/// Creates a veth pair whose host end is on the bridge (up) and whose other end is made
/// inside the namespace at `netns_path` already named and addressed as the container sees it
/// (MAC included); then, inside, gives it its address, brings it and `lo` up and adds the
/// default route. On error the pair is deleted.
pub(crate) async fn add_interface(
    netns_path: &Path,
    iface: &Interface<'_>,
    phases: &mut Phases,
) -> Result<(), NetworkError> {
    let result = add_interface_steps(netns_path, iface, phases).await;
    if result.is_err() {
        let _ = delete(iface.host_veth).await;
    }
    result
}

/// The `RTM_NEWLINK` of a veth pair: the host end (`IFLA_MASTER` the bridge, up) and, as its
/// `VETH_INFO_PEER`, the container's end with its name, MAC and `IFLA_NET_NS_FD`.
///
/// Making the peer inside its namespace (as `ip link add … peer name eth0 netns NS` does)
/// rather than moving it there afterwards spares the move's `synchronize_net()` RCU wait in
/// `dev_change_net_namespace`, measured at 14–27 ms of each bridge start here.
fn veth_pair(iface: &Interface<'_>, bridge_index: u32, netns_fd: RawFd) -> LinkMessage {
    let mut peer = LinkMessage::default();
    peer.attributes.extend([
        LinkAttribute::IfName(iface.ifname.to_string()),
        LinkAttribute::Address(iface.mac.to_vec()),
        LinkAttribute::NetNsFd(netns_fd),
    ]);
    let mut host = LinkMessage::default();
    host.header.flags.push(LinkFlag::Up);
    host.header.change_mask.push(LinkFlag::Up);
    host.attributes.extend([
        LinkAttribute::IfName(iface.host_veth.to_string()),
        LinkAttribute::Controller(bridge_index),
        LinkAttribute::LinkInfo(vec![
            LinkInfo::Kind(InfoKind::Veth),
            LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))),
        ]),
    ]);
    host
}

async fn add_interface_steps(
    netns_path: &Path,
    iface: &Interface<'_>,
    phases: &mut Phases,
) -> Result<(), NetworkError> {
    let handle = connect()?;
    let host = iface.host_veth;
    let bridge_index = index_of(&handle, iface.bridge)
        .await?
        .ok_or_else(|| vanished(iface.bridge))?;
    let ns = std::fs::File::open(netns_path).map_err(|source| NetworkError::Io {
        what: format!("open {}", netns_path.display()),
        source,
    })?;
    let mut request = handle.link().add();
    *request.message_mut() = veth_pair(iface, bridge_index, ns.as_raw_fd());
    request
        .execute()
        .await
        .map_err(nl(format!("create veth pair {host} on {}", iface.bridge)))?;
    drop(ns);
    drop(handle);
    phases.mark("veth");
    let (ifname, ip, prefix, gateway) = (
        iface.ifname.to_string(),
        iface.ip,
        iface.prefix,
        iface.default_gateway,
    );
    let path = netns_path.to_path_buf();
    let inside = tokio::task::spawn_blocking(move || {
        netns::run_inside(path, move || async move {
            configure_inside(&ifname, ip, prefix, gateway).await
        })
    })
    .await
    .map_err(|e| NetworkError::Setup(format!("network setup was interrupted: {e}")))?;
    phases.mark("inside");
    inside
}

/// Inside the namespace: `ifname` gets its address and goes up; lo up; the default route.
async fn configure_inside(
    ifname: &str,
    ip: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<(), NetworkError> {
    let handle = connect()?;
    let names = links(&handle).await?;
    let index = index_in(&names, ifname).ok_or_else(|| vanished(ifname))?;
    add_address(&handle, index, ip, prefix, ifname).await?;
    set_up(&handle, index, ifname).await?;
    if let Some(lo) = index_in(&names, "lo") {
        set_up(&handle, lo, "lo").await?;
    }
    if let Some(gateway) = gateway {
        handle
            .route()
            .add()
            .v4()
            .gateway(gateway)
            .execute()
            .await
            .map_err(nl(format!("add the default route via {gateway}")))?;
    }
    Ok(())
}

/// Brings up `lo` inside a namespace that has no other interface.
pub(crate) async fn loopback_up_inside(netns_path: &Path) -> Result<(), NetworkError> {
    let path = netns_path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        netns::run_inside(path, || async {
            let handle = connect()?;
            let lo = index_of(&handle, "lo")
                .await?
                .ok_or_else(|| vanished("lo"))?;
            set_up(&handle, lo, "lo").await
        })
    })
    .await
    .map_err(|e| NetworkError::Setup(format!("network setup was interrupted: {e}")))?
}
