//! The networks service: `network ls/create/rm/inspect/connect/disconnect`, and the hooks
//! of a container's lifecycle (create: attach; start: namespace, interfaces, ports, hosts;
//! exit and removal: undo it all, idempotently; daemon start: proxies back for running ones).

use super::containers::{container_dir, ContainerLocks};
use super::events::Events;
use crate::container::{ContainerConfig, ContainerRow};
use crate::db::Db;
use crate::network::link::{self, Interface};
use crate::network::settings::{
    Addressing, EndpointSettings, HostPort, Ipam, IpamConfig, NetworkContainer, NetworkCreate,
    NetworkInspect, NetworkSettings,
};
use crate::network::NetworkRowExt;
use crate::network::{
    hosts, netns, proxy, store, EndpointRow, NetworkError, NetworkRow, Subnet, MODE_BRIDGE,
    MODE_HOST, MODE_NONE,
};
use crate::phases::Phases;
use crate::runtime::NetworkMode;
use crate::{Error, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The networks service: network settings, the published ports' proxies, and the network
/// namespaces under the data root.
pub struct Networks {
    db: Db,
    events: Events,
    /// The data root: network namespaces are mounted in `netns/`, and containers' /etc/hosts
    /// are in their folders.
    root: PathBuf,
    /// The containers' lifecycle locks, shared with the containers service: connect and
    /// disconnect change a container as start and exit do.
    locks: Arc<ContainerLocks>,
    net: crate::network::NetState,
}

/// The host-wide lock held while subnets are chosen and bridges created, so that two daemons
/// never take the same subnet (flock(2); released when the file is closed).
type HostLock = nix::fcntl::Flock<std::fs::File>;

impl Networks {
    /// At open: the predefined networks are in the catalogue, the namespace folder exists.
    pub(super) async fn open(
        db: Db,
        events: Events,
        root: &Path,
        locks: Arc<ContainerLocks>,
        config: crate::network::NetworkConfig,
    ) -> Result<Networks> {
        let networks = Networks {
            db,
            events,
            root: root.to_path_buf(),
            locks,
            net: crate::network::NetState {
                config,
                proxies: Default::default(),
                allocating: Default::default(),
            },
        };
        networks.init().await?;
        Ok(networks)
    }

    /// The default bridge's Linux bridge name (`info`).
    pub(super) fn default_bridge(&self) -> &str {
        &self.net.config.bridge_name
    }

    async fn init(&self) -> Result<()> {
        let db = &self.db;
        let existing = store::list(db).await?;
        for (name, driver) in [
            (MODE_BRIDGE, "bridge"),
            (MODE_HOST, "host"),
            (MODE_NONE, "null"),
        ] {
            if !existing.iter().any(|n| n.name == name) {
                let mut row = store::new_row(name, driver);
                if name == MODE_BRIDGE {
                    row.bridge = self.net.config.bridge_name.clone();
                }
                store::insert(db, &row).await?;
            }
        }
        let dir = self.root.join("netns");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))
    }

    // ----- verbs -----

    /// The networks docker's `network ls --filter` selects.
    pub async fn find(&self, filters: crate::filters::Filters) -> Result<Vec<NetworkRow>> {
        let filter = crate::network::filter::NetworkFilter::new(filters)?;
        let mut networks = store::list(&self.db).await?;
        networks.retain(|n| filter.matches(n));
        Ok(networks)
    }

    /// Creates a user-defined bridge network with its Linux bridge.
    pub async fn create(&self, request: NetworkCreate) -> Result<NetworkRow> {
        let db = &self.db;
        let name = request.name.trim().to_string();
        // docker's rule, with the first character alphanumeric (so no `.`, `..`, `-x`), and a
        // length cap: names reach bridge labels, DNS and logs.
        if name.len() > 255
            || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            let shown: String = name.chars().take(64).collect();
            return Err(Error::InvalidInput(format!(
                "invalid network name {shown:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-], at most 255 characters, are allowed"
            )));
        }
        match request.driver.as_deref() {
            None | Some("bridge") => {}
            Some(other) => {
                return Err(Error::InvalidInput(format!("plugin \"{other}\" not found")))
            }
        }
        if store::list(db).await?.iter().any(|n| n.name == name) {
            return Err(Error::Conflict(format!(
                "network with name {name} already exists"
            )));
        }
        let subnet = match &request.subnet {
            Some(s) => Some(s.parse::<Subnet>().map_err(Error::InvalidInput)?),
            None => None,
        };
        let gateway = match (&request.gateway, subnet) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(Error::InvalidInput(
                    "a gateway needs a --subnet to belong to".into(),
                ))
            }
            (Some(g), Some(subnet)) => {
                let ip: Ipv4Addr = g
                    .parse()
                    .map_err(|_| Error::InvalidInput(format!("invalid gateway address: {g}")))?;
                if !subnet.contains(ip)
                    || subnet
                        .host(u32::from(ip) - u32::from(subnet.base))
                        .is_none()
                {
                    return Err(Error::InvalidInput(format!(
                        "no matching subnet for gateway {g}"
                    )));
                }
                Some(ip)
            }
        };
        let mut row = store::new_row(&name, "bridge");
        let prefix = &self.net.config.bridge_prefix;
        row.bridge = format!(
            "{prefix}{}",
            &row.id[..15usize.saturating_sub(prefix.len())]
        );
        let _lock = self.host_lock().await?;
        let subnet = self.free_subnet(subnet, None).await?;
        let gateway = gateway.or_else(|| subnet.host(1)).ok_or_else(|| {
            Error::InvalidInput(format!("subnet {subnet} has no room for a gateway"))
        })?;
        link::ensure_bridge(&row.bridge, gateway, subnet.prefix).await?;
        row.subnet = subnet.to_string();
        row.gateway = gateway.to_string();
        if let Err(e) = store::insert(db, &row).await {
            let _ = link::delete(&row.bridge).await;
            return Err(e);
        }
        self.emit(&row, "create", None);
        Ok(row)
    }

    /// Removes a user-defined network and its bridge; refused while containers use it.
    pub async fn remove(&self, key: &str) -> Result<NetworkRow> {
        let db = &self.db;
        let row = store::find(db, key).await?;
        if row.is_predefined() {
            return Err(Error::Conflict(format!(
                "{} is a pre-defined network and cannot be removed",
                row.name
            )));
        }
        if !store::endpoints_on(db, &row.id).await?.is_empty() {
            return Err(Error::Conflict(format!(
                "error while removing network: network {} id {} has active endpoints",
                row.name, row.id
            )));
        }
        link::delete(&row.bridge).await?;
        store::delete(db, &row.id).await?;
        self.emit(&row, "destroy", None);
        Ok(row)
    }

    /// Removes every user-defined network no container is connected to, running or not
    /// (`network prune`; docker keeps only those with running containers): their names.
    pub async fn prune(&self) -> Result<Vec<String>> {
        let db = &self.db;
        let mut removed = Vec::new();
        for row in store::list(db).await? {
            if row.is_predefined() || store::in_use(db, &row.id).await? {
                continue;
            }
            match self.remove(&row.id).await {
                Ok(row) => removed.push(row.name),
                // A container connected meanwhile: the network stays.
                Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    pub async fn inspect(&self, key: &str) -> Result<NetworkInspect> {
        let db = &self.db;
        let row = store::find(db, key).await?;
        let mut containers = BTreeMap::new();
        let prefix = row.subnet().map(|s| s.prefix).unwrap_or(0);
        for ep in store::endpoints_on(db, &row.id).await? {
            let name = match ContainerRow::find(db, &ep.container_id).await {
                Ok(c) => c.name,
                Err(_) => continue,
            };
            containers.insert(
                ep.container_id.clone(),
                NetworkContainer {
                    name,
                    endpoint_id: endpoint_id(&ep),
                    mac_address: ep.mac.clone(),
                    ipv4_address: format!("{}/{prefix}", ep.ip),
                },
            );
        }
        let mut options = BTreeMap::new();
        if !row.bridge.is_empty() {
            options.insert(
                "com.docker.network.bridge.name".to_string(),
                row.bridge.clone(),
            );
        }
        Ok(NetworkInspect {
            name: row.name.clone(),
            id: row.id.clone(),
            created: humantime::format_rfc3339_millis(
                std::time::UNIX_EPOCH + std::time::Duration::from_millis(row.created_at as u64),
            )
            .to_string(),
            scope: "local".into(),
            driver: row.driver.clone(),
            enable_ipv6: false,
            ipam: Ipam {
                driver: "default".into(),
                config: if row.subnet.is_empty() {
                    Vec::new()
                } else {
                    vec![IpamConfig {
                        subnet: row.subnet.clone(),
                        gateway: row.gateway.clone(),
                    }]
                },
            },
            internal: false,
            containers,
            options,
            labels: BTreeMap::new(),
        })
    }

    /// Connects a container to a bridge network; a running one gets its interface at once.
    pub async fn connect(&self, network: &str, container: &str) -> Result<()> {
        let db = &self.db;
        let net = store::find(db, network).await?;
        let row = ContainerRow::find(db, container).await?;
        let mode = row.config()?.network;
        if net.driver != "bridge" || mode == MODE_HOST || mode == MODE_NONE {
            return Err(Error::Conflict(
                "container cannot be disconnected from host network or connected to host network"
                    .into(),
            ));
        }
        let lock = self.locks.lock(&row.id);
        let _guard = lock.lock().await;
        let row = ContainerRow::find(db, &row.id).await?;
        store::attach(db, &row.id, &net.id).await?;
        if row.state()?.is_alive() {
            let endpoints = store::endpoints_of(db, &row.id).await?;
            let ifname = (0..)
                .map(|i| format!("eth{i}"))
                .find(|n| !endpoints.iter().any(|e| &e.ifname == n))
                .unwrap_or_default();
            let added = async {
                let net = self.ensure_bridge(net.clone()).await?;
                self.add_endpoint(
                    &row.id,
                    &net,
                    &ifname,
                    endpoints.is_empty(),
                    &mut Phases::new(),
                )
                .await
            }
            .await;
            if let Err(e) = added {
                store::detach(db, &row.id, &net.id).await?;
                return Err(e);
            }
            self.refresh_hosts(Some(&row.id), std::slice::from_ref(&net.id))
                .await;
        }
        self.emit(&net, "connect", Some(&row.id));
        Ok(())
    }

    /// Disconnects a container from a network; a running one loses the interface at once.
    pub async fn disconnect(&self, network: &str, container: &str) -> Result<()> {
        let db = &self.db;
        let net = store::find(db, network).await?;
        let row = ContainerRow::find(db, container).await?;
        let lock = self.locks.lock(&row.id);
        let _guard = lock.lock().await;
        if !store::attachments(db, &row.id)
            .await?
            .iter()
            .any(|n| n.id == net.id)
        {
            return Err(Error::Conflict(format!(
                "container {} is not connected to network {}",
                row.name, net.name
            )));
        }
        if let Some(ep) = store::endpoints_of(db, &row.id)
            .await?
            .into_iter()
            .find(|e| e.network_id == net.id)
        {
            // Deleting the host end deletes its peer inside the container too.
            link::delete(&ep.host_veth).await?;
            store::release(db, &row.id, &net.id).await?;
        }
        store::detach(db, &row.id, &net.id).await?;
        self.refresh_hosts(Some(&row.id), std::slice::from_ref(&net.id))
            .await;
        self.emit(&net, "disconnect", Some(&row.id));
        Ok(())
    }

    /// A container's network settings as `inspect` shows them.
    pub(super) async fn settings(&self, row: &ContainerRow) -> Result<NetworkSettings> {
        let db = &self.db;
        let config = row.config()?;
        let mut settings = NetworkSettings::default();
        let endpoints = store::endpoints_of(db, &row.id).await?;
        if !endpoints.is_empty() || (row.state()?.is_alive() && !is_special(&config.network)) {
            settings.sandbox_key = self.netns_path(&row.id).display().to_string();
        }
        let actual = store::ports(db, &row.id).await?;
        for binding in &config.ports {
            let key = format!("{}/{}", binding.container_port, binding.proto.as_str());
            let hosts: Vec<HostPort> = actual
                .iter()
                .filter(|a| a.container_port == binding.container_port && a.proto == binding.proto)
                .map(|a| HostPort {
                    host_ip: a.listen_ip().to_string(),
                    host_port: a.host_port.to_string(),
                })
                .collect();
            settings
                .ports
                .insert(key, (!hosts.is_empty()).then_some(hosts));
        }
        for net in store::attachments(db, &row.id).await? {
            let ep = endpoints.iter().find(|e| e.network_id == net.id);
            let prefix = net.subnet().map(|s| s.prefix).unwrap_or(0);
            let addressing = match ep {
                Some(ep) => Addressing {
                    gateway: net.gateway.clone(),
                    ip_address: ep.ip.clone(),
                    ip_prefix_len: prefix,
                    mac_address: ep.mac.clone(),
                },
                None => Addressing::default(),
            };
            if settings.addressing.ip_address.is_empty() {
                settings.addressing = addressing.clone();
            }
            let entry = EndpointSettings {
                network_id: net.id.clone(),
                endpoint_id: ep.map(endpoint_id).unwrap_or_default(),
                addressing,
                aliases: if !resolves_names(&net) {
                    Vec::new()
                } else {
                    vec![row.name.clone(), row.id[..12].to_string()]
                },
            };
            settings.networks.insert(net.name.clone(), entry);
        }
        if is_special(&config.network) {
            if let Ok(net) = store::find(db, &config.network).await {
                settings.networks.insert(
                    net.name.clone(),
                    EndpointSettings {
                        network_id: net.id,
                        ..Default::default()
                    },
                );
            }
        }
        Ok(settings)
    }

    // ----- lifecycle hooks -----

    /// Checks the `--network` of a container being created; returns the network to attach.
    pub(super) async fn for_create(&self, config: &ContainerConfig) -> Result<Option<NetworkRow>> {
        if is_special(&config.network) {
            return Ok(None);
        }
        match store::find(&self.db, &config.network).await {
            Ok(net) if net.driver == "bridge" => Ok(Some(net)),
            Ok(net) => Err(Error::InvalidInput(format!(
                "network {} cannot be used with other networks",
                net.name
            ))),
            Err(Error::NotFound { .. }) => Err(Error::NotFound {
                kind: "network",
                id: config.network.clone(),
            }),
            Err(e) => Err(e),
        }
    }

    /// Records a created container's first network.
    pub(super) async fn attach_created(
        &self,
        id: &str,
        network: Option<&NetworkRow>,
    ) -> Result<()> {
        match network {
            Some(net) => store::attach(&self.db, id, &net.id).await,
            None => Ok(()),
        }
    }

    /// Before a start: the container's network namespace, with an interface per attached
    /// network, its published ports bound and proxied, its /etc/hosts. Nothing is left behind
    /// on error.
    pub(super) async fn setup(&self, row: &ContainerRow) -> Result<NetworkMode> {
        let config = row.config()?;
        match config.network.as_str() {
            MODE_NONE => return Ok(NetworkMode::New),
            MODE_HOST => return Ok(NetworkMode::Host),
            _ => {}
        }
        // Whatever a crash left of an earlier run goes first.
        self.teardown(&row.id).await;
        let result = self.setup_steps(row, &config).await;
        if result.is_err() {
            self.teardown(&row.id).await;
        }
        result
    }

    async fn setup_steps(
        &self,
        row: &ContainerRow,
        config: &ContainerConfig,
    ) -> Result<NetworkMode> {
        let db = &self.db;
        let mut phases = Phases::new();
        // The ports first: a taken one is the likeliest failure and the cheapest to undo.
        let listeners = proxy::bind_all(&config.ports).map_err(Error::Conflict)?;
        phases.mark("ports");
        let path = self.netns_path(&row.id);
        let create = path.clone();
        tokio::task::spawn_blocking(move || netns::create(&create))
            .await
            .map_err(|e| Error::Conflict(format!("network setup was interrupted: {e}")))??;
        phases.mark("netns");
        let networks = store::attachments(db, &row.id).await?;
        phases.mark("attachments");
        if networks.is_empty() {
            link::loopback_up_inside(&path).await?;
        }
        let mut first_ip = None;
        for (i, net) in networks.into_iter().enumerate() {
            let net = self.ensure_bridge(net).await?;
            phases.mark("bridge");
            let ep = self
                .add_endpoint(&row.id, &net, &format!("eth{i}"), i == 0, &mut phases)
                .await?;
            first_ip.get_or_insert(ep.ip);
            // docker reports a container's start on a network as a connect.
            self.emit(&net, "connect", Some(&row.id));
        }
        if let Some(ip) = first_ip {
            let target: IpAddr = ip
                .parse()
                .map_err(|_| Error::Corrupt(format!("endpoint address {ip}")))?;
            let actual: Vec<_> = listeners.iter().map(|(b, _)| b.clone()).collect();
            store::record_ports(db, &row.id, &actual).await?;
            self.net.proxies.start(&row.id, listeners, target);
        }
        phases.mark("proxies");
        let networks: Vec<String> = store::endpoints_of(db, &row.id)
            .await?
            .into_iter()
            .map(|e| e.network_id)
            .collect();
        self.refresh_hosts(Some(&row.id), &networks).await;
        phases.mark("hosts");
        phases.log("network setup timings", &row.id);
        Ok(NetworkMode::Join(path))
    }

    /// After the container ended (or its start failed): proxies stopped, namespace unmounted,
    /// host veths deleted, addresses released, peers' /etc/hosts updated. Idempotent; problems
    /// are logged, not returned, so that exits and removals always complete.
    pub(super) async fn teardown(&self, id: &str) {
        let db = &self.db;
        let mut phases = Phases::new();
        self.net.proxies.stop(id);
        if let Err(e) = store::forget_ports(db, id).await {
            tracing::warn!(container = %id, "forgetting published ports: {e}");
        }
        if let Err(e) = netns::remove(&self.netns_path(id)) {
            tracing::warn!(container = %id, "network namespace: {e}");
        }
        phases.mark("netns");
        let endpoints = store::endpoints_of(db, id).await.unwrap_or_default();
        for ep in &endpoints {
            if let Err(e) = link::delete(&ep.host_veth).await {
                tracing::warn!(container = %id, "veth {}: {e}", ep.host_veth);
            }
            if let Err(e) = store::release(db, id, &ep.network_id).await {
                tracing::warn!(container = %id, "releasing {}: {e}", ep.ip);
            }
            if let Ok(net) = store::find(db, &ep.network_id).await {
                self.emit(&net, "disconnect", Some(id));
            }
        }
        phases.mark("endpoints");
        let networks: Vec<String> = endpoints.into_iter().map(|e| e.network_id).collect();
        self.refresh_hosts(None, &networks).await;
        phases.mark("hosts");
        phases.log("network teardown timings", id);
    }

    /// On removal: torn down, and no longer connected to any network.
    pub(super) async fn forget(&self, id: &str) -> Result<()> {
        self.teardown(id).await;
        store::detach_all(&self.db, id).await
    }

    /// At daemon start, for a container still running: its proxies listen again.
    pub(super) async fn resume(&self, row: &ContainerRow) -> Result<()> {
        let db = &self.db;
        let ports = store::ports(db, &row.id).await?;
        let Some(ep) = store::endpoints_of(db, &row.id).await?.into_iter().next() else {
            return Ok(());
        };
        let target: IpAddr = ep
            .ip
            .parse()
            .map_err(|_| Error::Corrupt(format!("endpoint address {}", ep.ip)))?;
        let listeners = proxy::bind_all(&ports).map_err(Error::Conflict)?;
        self.net.proxies.start(&row.id, listeners, target);
        Ok(())
    }

    // ----- internals -----

    /// docker's network events: the network is the actor; `container` on (dis)connect.
    fn emit(&self, net: &NetworkRow, action: &str, container: Option<&str>) {
        let mut attributes = vec![("name", net.name.as_str()), ("type", net.driver.as_str())];
        if let Some(container) = container {
            attributes.push(("container", container));
        }
        self.events
            .emit(crate::events::Scope::Network, action, &net.id, &attributes);
    }

    fn netns_path(&self, id: &str) -> PathBuf {
        self.root.join("netns").join(id)
    }

    async fn host_lock(&self) -> Result<HostLock> {
        let path = self.net.config.lock_path.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            }
            let file = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|e| Error::io("open", &path, e))?;
            nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, e)| Error::io("lock", &path, e.into()))
        })
        .await
        .map_err(|e| Error::Conflict(format!("network lock was interrupted: {e}")))?
    }

    /// `wanted` if it overlaps no network of this host or of the catalogue (but `own`'s
    /// bridge), else an error; without `wanted`, the first free candidate. Call under the lock.
    async fn free_subnet(
        &self,
        wanted: Option<Subnet>,
        own: Option<&NetworkRow>,
    ) -> Result<Subnet> {
        let mut taken: Vec<(Subnet, String)> = link::host_networks()
            .await?
            .into_iter()
            .filter(|(_, dev)| own.is_none_or(|o| *dev != o.bridge))
            .collect();
        for net in store::list(&self.db).await? {
            if let (Some(s), false) = (net.subnet(), own.is_some_and(|o| o.id == net.id)) {
                taken.push((s, format!("network {}", net.name)));
            }
        }
        match wanted {
            Some(subnet) => match taken.iter().find(|(t, _)| t.overlaps(&subnet)) {
                Some((t, on)) => Err(Error::Conflict(format!(
                    "Pool overlaps with other one on this address space: {subnet} overlaps {t} ({on})"
                ))),
                None => Ok(subnet),
            },
            None => Subnet::auto_candidates()
                .find(|c| !taken.iter().any(|(t, _)| t.overlaps(c)))
                .ok_or_else(|| {
                    Error::Conflict(
                        "could not find an available, non-overlapping IPv4 address pool".into(),
                    )
                }),
        }
    }

    /// The network's bridge exists, with its gateway address; the default bridge gets its
    /// subnet (`--bridge-subnet`, or a free one) the first time it is needed.
    async fn ensure_bridge(&self, net: NetworkRow) -> Result<NetworkRow> {
        if net.subnet().is_some() && link::exists(&net.bridge).await? {
            return Ok(net);
        }
        let _lock = self.host_lock().await?;
        let net = store::find(&self.db, &net.id).await?;
        let (subnet, gateway) = match (net.subnet(), net.gateway()) {
            (Some(subnet), Some(gateway)) => {
                (self.free_subnet(Some(subnet), Some(&net)).await?, gateway)
            }
            _ => {
                let subnet = self
                    .free_subnet(self.net.config.bridge_subnet, Some(&net))
                    .await
                    .map_err(|e| match e {
                        Error::Conflict(m) => Error::Conflict(format!(
                            "cannot set up the default bridge {}: {m}: choose another with `berth serve --bridge-subnet`",
                            net.bridge
                        )),
                        other => other,
                    })?;
                let gateway = subnet.host(1).ok_or_else(|| {
                    Error::InvalidInput(format!("subnet {subnet} has no room for a gateway"))
                })?;
                (subnet, gateway)
            }
        };
        link::ensure_bridge(&net.bridge, gateway, subnet.prefix).await?;
        if net.subnet().is_none() {
            store::set_addressing(&self.db, &net.id, &subnet, gateway, &net.bridge).await?;
        }
        store::find(&self.db, &net.id).await
    }

    /// Allocates an address on `net` and gives the running container its interface there.
    async fn add_endpoint(
        &self,
        id: &str,
        net: &NetworkRow,
        ifname: &str,
        default_route: bool,
        phases: &mut Phases,
    ) -> Result<EndpointRow> {
        let host_veth = format!("veth{:07x}", rand::random::<u32>() & 0x0fff_ffff);
        let ep = {
            // One allocation at a time: concurrent ones would each pick the same lowest free
            // address, and every loser read and inserted again (140 ms of each of 50
            // concurrent starts went there). The unique index still guards the table.
            let _one = self.net.allocating.lock().await;
            store::allocate(&self.db, id, net, ifname, &host_veth).await?
        };
        phases.mark("allocate");
        let setup = async {
            let ip: Ipv4Addr = ep
                .ip
                .parse()
                .map_err(|_| NetworkError::Setup(format!("bad address {}", ep.ip)))?;
            let octets = ip.octets();
            let iface = Interface {
                host_veth: &host_veth,
                ifname,
                bridge: &net.bridge,
                ip,
                prefix: net.subnet().map(|s| s.prefix).unwrap_or(16),
                mac: [0x02, 0x42, octets[0], octets[1], octets[2], octets[3]],
                default_gateway: if default_route { net.gateway() } else { None },
            };
            link::add_interface(&self.netns_path(id), &iface, phases).await
        };
        if let Err(e) = setup.await {
            store::release(&self.db, id, &net.id).await?;
            return Err(e.into());
        }
        Ok(ep)
    }

    /// Rewrites /etc/hosts of `own` and of every running container on those of these
    /// networks that resolve names. The default bridge does not (see [`Self::write_hosts`]),
    /// so a start there rewrites only its own file: rewriting every peer's made 50 concurrent
    /// starts quadratic (400 ms of each went there).
    async fn refresh_hosts(&self, own: Option<&str>, networks: &[String]) {
        let db = &self.db;
        let mut containers: BTreeSet<String> = own.into_iter().map(str::to_string).collect();
        for net in networks {
            match store::find(db, net).await {
                Ok(row) if !resolves_names(&row) => continue,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(network = %net, "/etc/hosts of its containers: {e}");
                    continue;
                }
            }
            for ep in store::endpoints_on(db, net).await.unwrap_or_default() {
                containers.insert(ep.container_id);
            }
        }
        for id in containers {
            if let Err(e) = self.write_hosts(&id).await {
                tracing::warn!(container = %id, "/etc/hosts: {e}");
            }
        }
    }

    /// One container's /etc/hosts: its own address, and its peers on user-defined networks
    /// (the default bridge does not resolve names, as docker's).
    pub(super) async fn write_hosts(&self, id: &str) -> Result<()> {
        let db = &self.db;
        let row = ContainerRow::find(db, id).await?;
        let config = row.config()?;
        let own = store::endpoints_of(db, id).await?;
        let mut peers = Vec::new();
        for ep in &own {
            let net = store::find(db, &ep.network_id).await?;
            if !resolves_names(&net) {
                continue;
            }
            for peer in store::endpoints_on(db, &net.id).await? {
                if peer.container_id == id {
                    continue;
                }
                if let Ok(other) = ContainerRow::find(db, &peer.container_id).await {
                    let mut names = vec![other.name.clone(), other.id[..12].to_string()];
                    if let Ok(c) = other.config() {
                        if !names.contains(&c.hostname) {
                            names.push(c.hostname);
                        }
                    }
                    peers.push((peer.ip.clone(), names));
                }
            }
        }
        let content = hosts::render(&config.hostname, own.first().map(|e| e.ip.as_str()), &peers);
        let path = container_dir(&self.root, id).join("hosts");
        hosts::rewrite(&path, &content).map_err(|e| Error::io("write", &path, e))
    }
}

/// Whether containers on `net` find each other by name (aliases, peers in /etc/hosts): on
/// user-defined networks, not on the default bridge, as docker's.
fn resolves_names(net: &NetworkRow) -> bool {
    net.name != MODE_BRIDGE
}

/// `none` and `host` are namespaces, not networks a container attaches to.
fn is_special(mode: &str) -> bool {
    mode == MODE_NONE || mode == MODE_HOST
}

/// docker shows a 64-hex endpoint id; berth derives one from the container and network.
fn endpoint_id(ep: &EndpointRow) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(format!(
        "{}/{}",
        ep.container_id, ep.network_id
    )))
}
