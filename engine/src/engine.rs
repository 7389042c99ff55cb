//! The engine facade: one handle over the per-concept services (`engine/<concept>.rs`); it
//! only opens them and hands them out.

mod attach;
mod containers;
mod events;
mod exec;
mod health;
mod images;
mod list;
mod networks;
mod prepared_cgroup;
pub mod pull_queue;
mod reconcile;
mod restart;
pub mod session;
mod stats;
mod system;
mod volumes;

pub use attach::Attached;
pub use containers::{Containers, ExitWaiter};
use events::Events;
pub use images::Images;
pub use images::{ImagePruneReport, SavedArchive};
pub use images::{PullResult, PushResult};
pub use list::{ContainerQuery, ListStamp};
pub use networks::Networks;
pub use system::System;
pub use volumes::Volumes;

use crate::container::{ExitWatch, RootHolds};
use crate::db;
use crate::image::registry::RegistryConfig;
use crate::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the engine keeps its data, and which program is its shim.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Default `/var/lib/berth`.
    pub data_root: PathBuf,
    /// The program run as `<shim_program> shim <spec.json>`: the berth binary itself.
    pub shim_program: PathBuf,
    /// Mirrors, insecure registries and extra CAs for pulls.
    pub registry: RegistryConfig,
    /// The default bridge and user networks' bridge names.
    pub network: crate::network::NetworkConfig,
    /// The cgroup new containers' cgroups are made in (relative to each hierarchy's root;
    /// docker's `--cgroup-parent`, default [`crate::DEFAULT_CGROUP_PARENT`]).
    pub cgroup_parent: String,
    /// Session lifetimes, login limits and how long the audit log is kept.
    pub auth: crate::auth::AuthPolicy,
    /// How alert webhooks are called: timeout, attempts, back-off, queue size.
    pub alerts: crate::alerts::AlertConfig,
}

/// A cheap-to-clone handle to the engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

/// The engine's state: one service per concept, each owning its stores (they share the
/// catalogue and the events service), plus auth and alerts.
struct Inner {
    system: System,
    events: Events,
    images: Arc<Images>,
    volumes: Arc<Volumes>,
    networks: Arc<Networks>,
    containers: Containers,
    /// Users, sessions, tokens and the audit log of the TCP API.
    auth: crate::auth::Auth,
    /// Alert rules, their matching and the webhook deliveries.
    alerts: crate::alerts::Alerts,
}

pub use berth_wire::stats::ContainerStats;

impl Engine {
    /// Opens the engine on its data root: creates the folders, opens the catalogue, and
    /// re-attaches to the shims of containers that were running (reconciling those that
    /// exited while no daemon watched them).
    pub async fn open(config: EngineConfig) -> Result<Engine> {
        let root = config.data_root;
        crate::runtime::cgroup::relative_path(&config.cgroup_parent).map_err(|_| {
            Error::InvalidInput(format!(
                "invalid cgroup parent {:?}: a relative cgroup path like berth or ci/berth",
                config.cgroup_parent
            ))
        })?;
        for dir in [root.clone(), root.join("containers"), root.join("tmp")] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        }
        let db = db::open(&root.join("berth.db")).await?;
        let bus = crate::events::EventBus::open(db.clone()).await?;
        let events = Events { bus };
        let images = Images::open(db.clone(), events.clone(), &root, config.registry)?;
        // Alerts hear every event from here on, the reconciling below included.
        let alerts_after = events.bus.head();
        let alerts = crate::alerts::Alerts::new(db.clone(), config.alerts)?;
        let volumes = Volumes::open(db.clone(), events.clone(), &root)?;
        let auth = crate::auth::Auth::new(db.clone(), config.auth);
        let stats = stats::hub(db.clone());
        let reserve = crate::reserve::Reserve::open(&root);
        let discard =
            crate::discard::Discard::open(&root).map_err(|e| Error::io("create", &root, e))?;
        let locks = Arc::new(containers::ContainerLocks::default());
        let networks = Networks::open(
            db.clone(),
            events.clone(),
            &root,
            locks.clone(),
            config.network,
        )
        .await?;
        let images = Arc::new(images);
        let volumes = Arc::new(volumes);
        let networks = Arc::new(networks);
        let containers = Containers {
            inner: Arc::new(containers::ContainersInner {
                db: db.clone(),
                events: events.clone(),
                images: images.clone(),
                volumes: volumes.clone(),
                networks: networks.clone(),
                root: root.clone(),
                reserve,
                discard,
                shim_program: config.shim_program,
                cgroup_parent: config.cgroup_parent,
                status: ExitWatch::default(),
                roots: RootHolds::default(),
                locks,
                configs: Default::default(),
                lists: Default::default(),
                execs: Default::default(),
                restarts: restart::RestartTimers::default(),
                seccomp: Default::default(),
                health: Default::default(),
                stats,
            }),
        };
        let system = System {
            root,
            db,
            images: images.clone(),
            volumes: volumes.clone(),
            networks: networks.clone(),
            containers: containers.clone(),
        };
        containers.start_up().await?;
        alerts.start(events.bus.clone(), alerts_after).await?;
        Ok(Engine {
            inner: Arc::new(Inner {
                system,
                events,
                images,
                volumes,
                networks,
                containers,
                auth,
                alerts,
            }),
        })
    }

    /// Containers: create, start, stop, kill, restart, pause, rename, remove, prune, wait,
    /// logs, inspect, list, attach, exec, stats.
    pub fn containers(&self) -> &Containers {
        &self.inner.containers
    }

    /// The data root, `system df`, `system prune` and `info`.
    pub fn system(&self) -> &System {
        &self.inner.system
    }

    /// Users, logins, sessions, API tokens, board links and the audit log.
    pub fn auth(&self) -> &crate::auth::Auth {
        &self.inner.auth
    }

    /// Images: load, import, pull, push, tag, inspect, save, remove, prune; registry logins.
    pub fn images(&self) -> &Images {
        &self.inner.images
    }

    /// Volumes: create, list, inspect, remove, prune.
    pub fn volumes(&self) -> &Volumes {
        &self.inner.volumes
    }

    /// Networks: create, list, inspect, connect, disconnect, remove, prune.
    pub fn networks(&self) -> &Networks {
        &self.inner.networks
    }

    /// Alert rules, their webhook deliveries and the delivery log.
    pub fn alerts(&self) -> &crate::alerts::Alerts {
        &self.inner.alerts
    }

    /// Events from the point `query.since` names (persisted ones first), then live ones until
    /// `query.until` (if set), as far as they pass `query.filter`.
    pub fn events(&self, query: crate::events::EventQuery) -> Result<crate::events::EventStream> {
        self.inner.events.stream(query)
    }

    /// Up to `limit` (at most 500) of the newest events before the sequence number `before`
    /// that `filter` matches, newest first (the dashboard's event lists).
    pub async fn recent_events(
        &self,
        before: Option<u64>,
        limit: u32,
        filter: &crate::events::EventFilter,
    ) -> Result<Vec<crate::events::Event>> {
        self.inner
            .events
            .recent(before, limit.min(500), filter)
            .await
    }
}
