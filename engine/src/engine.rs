//! The engine facade: one handle over the per-concept services (`engine/<concept>.rs`), with
//! the container lifecycle (create, start, stop, kill, remove, wait, logs) and its rules.

mod attach;
mod containers;
mod events;
mod exec;
mod health;
mod images;
mod list;
mod networks;
pub mod pull_queue;
mod reconcile;
mod restart;
pub mod session;
mod stats;
mod system;
mod volumes;

pub use attach::Attached;
use containers::Containers;
use events::Events;
pub use images::Images;
pub use images::{ImagePruneReport, SavedArchive};
pub use images::{PullResult, PushResult};
pub use list::{ContainerQuery, ListStamp};
pub use networks::Networks;
use system::System;
pub use volumes::Volumes;

use crate::catalog;
use crate::container::inspect::ContainerInspect;
use crate::container::{
    generate_name, is_shim_of, process_exit, resolve_user, signal_container, validate_name,
    ContainerConfig, ContainerRow, ContainerState, ContainerSummary, CreateOptions, ExitWatch,
    LogFollower, LogOptions, RootHolds, Status,
};
use crate::db::{self, now_ms, Db};
use crate::fs_size::{tree_size, Unreadable};
use crate::ids::new_id;
use crate::image::registry::RegistryConfig;
use crate::runtime::seccomp::SeccompProgram;
use crate::runtime::{self, ContainerSpec, MountKind, MountSpec, RootfsSpec, SecuritySpec};
use crate::units::parse_signal;
use crate::{Error, Result};
use nix::sys::signal::Signal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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

/// The engine's state: one service per concept, each owning its stores, plus the catalogue
/// they share and the two concepts that are services of their own (auth, alerts).
struct Inner {
    /// The catalogue (SQLite): every concept's rows.
    db: Db,
    system: System,
    events: Events,
    images: Images,
    volumes: Volumes,
    networks: Networks,
    containers: Containers,
    /// Users, sessions, tokens and the audit log of the TCP API.
    auth: crate::auth::Auth,
    /// Alert rules, their matching and the webhook deliveries.
    alerts: crate::alerts::Alerts,
}

pub use berth_wire::stats::ContainerStats;

/// Resolves to a container's exit code once it has exited.
pub struct ExitWaiter {
    id: String,
    rx: watch::Receiver<Status>,
    /// A `--rm` container: the wait also covers its removal, as `docker run --rm` does, so a
    /// client that got the exit code finds the container (and its hold on the image) gone.
    auto_remove: bool,
}

/// How long a waiter gives an auto-removed container's removal after its exit.
const AUTO_REMOVE_WAIT: Duration = Duration::from_secs(30);

impl ExitWaiter {
    pub async fn wait(mut self) -> Result<i32> {
        let status = *self
            .rx
            .wait_for(|s| s.state == ContainerState::Exited || s.removed)
            .await
            .map_err(|_| Error::not_found("container", &self.id))?;
        let code = status.exit_code.ok_or_else(|| {
            Error::Conflict(format!(
                "container {} was removed before it exited",
                self.id
            ))
        })?;
        if self.auto_remove && !status.removed {
            // A failed removal is logged by the engine; the exit code stands either way.
            let removed = self.rx.wait_for(|s| s.removed);
            let _ = tokio::time::timeout(AUTO_REMOVE_WAIT, removed).await;
        }
        Ok(code)
    }
}

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
        let locks = Arc::new(containers::ContainerLocks::default());
        let networks = Networks::open(
            db.clone(),
            events.clone(),
            &root,
            locks.clone(),
            config.network,
        )
        .await?;
        let engine = Engine {
            inner: Arc::new(Inner {
                db,
                system: System { root, reserve },
                events,
                images,
                volumes,
                networks,
                containers: Containers {
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
                },
                auth,
                alerts,
            }),
        };
        // The filter nearly every container gets, compiled before the first start needs it.
        let warm = engine.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = warm
                .inner
                .containers
                .seccomp
                .program(&SecuritySpec::default())
            {
                tracing::warn!("compiling the default seccomp filter failed: {e}");
            }
        });
        engine.reconcile().await?;
        engine.inner.containers.stats.start_background();
        engine
            .inner
            .alerts
            .start(engine.inner.events.bus.clone(), alerts_after)
            .await?;
        Ok(engine)
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

    pub fn data_root(&self) -> &Path {
        &self.inner.system.root
    }

    /// A scratch folder on the data root's file system (for uploads being received).
    pub fn tmp_dir(&self) -> PathBuf {
        self.inner.system.root.join("tmp")
    }

    // ----- containers: queries -----

    /// One container, by id, unique id prefix or name.
    pub async fn container(&self, key: &str) -> Result<ContainerSummary> {
        ContainerRow::find(&self.inner.db, key).await?.summary()
    }

    /// The container's resolved settings (command, env, working dir …).
    pub async fn container_config(&self, key: &str) -> Result<ContainerConfig> {
        ContainerRow::find(&self.inner.db, key).await?.config()
    }

    // ----- containers: lifecycle -----

    /// Creates a container from an image; it does not start it.
    pub async fn create(&self, options: CreateOptions) -> Result<ContainerSummary> {
        let db = &self.inner.db;
        let image = catalog::resolve(db, &options.image).await?;
        let id = new_id();
        let fixed_name = match &options.name {
            Some(name) => {
                let name = name.strip_prefix('/').unwrap_or(name).to_string();
                validate_name(&name)?;
                Some(name)
            }
            None => None,
        };
        let mut config = ContainerConfig::derive(&id, &image.defaults()?, &options)?;
        config.cgroup_parent = self.inner.containers.cgroup_parent.clone();
        let network = self.inner.networks.for_create(&config).await?;
        let config_json = serde_json::to_string(&config)
            .map_err(|e| Error::Corrupt(format!("container config: {e}")))?;
        let mut row = ContainerRow {
            id: id.clone(),
            name: fixed_name.clone().unwrap_or_default(),
            image_ref: options.image.clone(),
            image_id: image.id.clone(),
            config_json,
            state: ContainerState::Created.as_str().to_string(),
            pid: None,
            shim_pid: None,
            exit_code: None,
            created_at: now_ms(),
            started_at: None,
            finished_at: None,
            oom_killed: 0,
        };
        let dir = self.container_dir(&id);
        for sub in ["upper", "work", "rootfs"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| Error::io("create", &path, e))?;
        }
        // An empty log with its header, so that readers can attach before the first line.
        let log = dir.join("container.log");
        crate::logs::LogWriter::open(&log).map_err(|e| Error::io("create", &log, e))?;
        // A generated name can be taken by a concurrent create: try another, and after a few
        // clashes one with a number, as docker's generator does.
        let mut tried: Vec<String> = Vec::new();
        loop {
            if fixed_name.is_none() {
                row.name = generate_name(|n| {
                    tried.iter().any(|t| t == n)
                        || (tried.len() >= 4 && !n.chars().any(|c| c.is_ascii_digit()))
                });
            }
            match row.insert(db).await {
                Ok(()) => {
                    if let Err(e) = self.inner.volumes.attach(&id, &config).await {
                        let _ = ContainerRow::delete(db, &id).await;
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(e);
                    }
                    self.inner
                        .networks
                        .attach_created(&id, network.as_ref())
                        .await?;
                    self.inner.events.container(&row, "create", &[]);
                    return row.summary();
                }
                Err(Error::Conflict(_)) if fixed_name.is_none() && tried.len() < 32 => {
                    tried.push(row.name.clone());
                }
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            }
        }
    }

    /// Starts a created or exited container; a running one is left as it is.
    pub async fn start(&self, key: &str) -> Result<ContainerSummary> {
        self.start_as(key, true).await
    }

    /// Starts a container for a user (`manual`: resets its restart policy state) or for its
    /// restart policy.
    async fn start_as(&self, key: &str, manual: bool) -> Result<ContainerSummary> {
        let id = ContainerRow::find(&self.inner.db, key).await?.id;
        let lock = self.lock(&id);
        let _guard = lock.lock().await;
        let row = ContainerRow::find(&self.inner.db, &id).await?;
        if row.state()?.is_alive() {
            return row.summary();
        }
        if manual {
            self.reset_restarts(&id).await?;
        }
        let dir = self.container_dir(&id);
        // A shim still running this container (its start was recorded only by the shim, the
        // daemon having died meanwhile) must not get a second copy beside it.
        if let Some(running) = runtime::read_started_record(&dir) {
            if is_shim_of(running.shim_pid, &id) {
                return Err(Error::Conflict(format!(
                    "container {} is still running under shim {} (restart the daemon to adopt it)",
                    row.name, running.shim_pid
                )));
            }
        }
        runtime::warm_cgroup_migration();
        let mut spec = self.spec_for(&row).await?;
        // The host's nodes as they are now (one may have gone since create).
        spec.devices = crate::container::devices::resolve_all(&row.config()?.devices)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        self.inner.containers.roots.settled(&id).await;
        self.write_etc_files(&row, &dir)?;
        spec.network = self.inner.networks.setup(&row).await?;
        let _ = std::fs::remove_file(&spec.exit_path);
        let _ = std::fs::remove_file(dir.join(runtime::STARTED_RECORD));
        let spec_path = dir.join("shim.json");
        write_json_atomically(&spec_path, &spec)?;
        let program = self.inner.containers.shim_program.clone();
        let started =
            tokio::task::spawn_blocking(move || runtime::spawn_shim(&program, &spec_path))
                .await
                .map_err(|e| Error::Conflict(format!("container start was interrupted: {e}")))
                .and_then(|r| r.map_err(Error::from));
        let started = match started {
            Ok(started) => started,
            Err(e) => {
                self.inner.networks.teardown(&id).await;
                return Err(e);
            }
        };
        let at = now_ms();
        ContainerRow::set_running(&self.inner.db, &id, started.pid, started.shim_pid, at).await?;
        self.inner.containers.status.publish(
            &id,
            Status {
                state: ContainerState::Running,
                exit_code: None,
                removed: false,
            },
        );
        self.inner.containers.roots.hold(&id, started.pid);
        self.watch_shim(id.clone(), started.shim_pid);
        let row = ContainerRow::find(&self.inner.db, &id).await?;
        self.inner
            .volumes
            .emit_mounts(&row.id, &row.config()?, "mount");
        self.inner.events.container(&row, "start", &[]);
        self.health_start(&row);
        row.summary()
    }

    /// Subscribes to a container's exit before anything else happens to it (attach, `run`).
    pub async fn exit_waiter(&self, key: &str) -> Result<ExitWaiter> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        Ok(ExitWaiter {
            rx: self.subscribe(&row)?,
            auto_remove: row.config()?.auto_remove,
            id: row.id,
        })
    }

    /// Waits until the container has exited and returns its exit code.
    pub async fn wait(&self, key: &str) -> Result<i32> {
        self.exit_waiter(key).await?.wait().await
    }

    /// Sends `signal` to the container's init process.
    pub async fn kill(&self, key: &str, signal: Signal) -> Result<()> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        match (row.state()?, row.pid) {
            (ContainerState::Running, Some(pid)) => {
                // Marked before the signal, so that the exit it causes is not restarted by
                // the policy; a row that cannot be written (a full disk) never keeps a
                // container from being killed.
                self.mark_manually_stopped_or_warn(&row.id).await;
                signal_container(pid, &row.id, signal)?;
                self.inner.events.container(
                    &row,
                    "kill",
                    &[("signal", &(signal as i32).to_string())],
                );
                Ok(())
            }
            (ContainerState::Paused, _) => Err(Error::Conflict(format!(
                "container {} is paused: unpause it first",
                row.name
            ))),
            _ => Err(Error::Conflict(format!(
                "container {} is not running",
                row.name
            ))),
        }
    }

    /// Stops a container: its stop signal (the image's StopSignal, else SIGTERM), then SIGKILL
    /// after `grace` (else its stop timeout, default 10 s), as docker does. A paused container
    /// is thawed first so that it can handle the signal.
    pub async fn stop(&self, key: &str, grace: Option<Duration>) -> Result<ContainerSummary> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        self.mark_manually_stopped_or_warn(&row.id).await;
        if row.state()?.is_alive() {
            let config = row.config()?;
            let grace = grace.unwrap_or(Duration::from_secs(config.stop_timeout));
            let signal = parse_signal(&config.stop_signal)?;
            let rx = self.subscribe(&row)?;
            if row.state()? == ContainerState::Paused {
                self.unpause(&row.id).await?;
            }
            if let Some(pid) = row.pid {
                signal_container(pid, &row.id, signal)?;
                self.inner.events.container(
                    &row,
                    "kill",
                    &[("signal", &(signal as i32).to_string())],
                );
            }
            if !wait_exited(rx.clone(), grace).await {
                if let Some(pid) = row.pid {
                    signal_container(pid, &row.id, Signal::SIGKILL)?;
                    self.inner
                        .events
                        .container(&row, "kill", &[("signal", "9")]);
                }
                wait_exited(rx, Duration::from_secs(30)).await;
            }
            self.inner.events.container(&row, "stop", &[]);
        }
        ContainerRow::find(&self.inner.db, &row.id).await?.summary()
    }

    /// Stops (if running) and starts a container again, as `docker restart`.
    pub async fn restart(&self, key: &str, grace: Option<Duration>) -> Result<ContainerSummary> {
        let stopped = self.stop(key, grace).await?;
        let started = self.start(&stopped.id).await?;
        let row = ContainerRow::find(&self.inner.db, &started.id).await?;
        self.inner.events.container(&row, "restart", &[]);
        Ok(started)
    }

    /// Freezes every process of a running container (cgroup freezer).
    pub async fn pause(&self, key: &str) -> Result<ContainerSummary> {
        self.set_frozen(key, true).await
    }

    /// Thaws a paused container.
    pub async fn unpause(&self, key: &str) -> Result<ContainerSummary> {
        self.set_frozen(key, false).await
    }

    async fn set_frozen(&self, key: &str, frozen: bool) -> Result<ContainerSummary> {
        let id = ContainerRow::find(&self.inner.db, key).await?.id;
        let lock = self.lock(&id);
        let _guard = lock.lock().await;
        let row = ContainerRow::find(&self.inner.db, &id).await?;
        let (from, verb) = if frozen {
            (ContainerState::Running, "pause")
        } else {
            (ContainerState::Paused, "unpause")
        };
        let state = row.state()?;
        if state != from {
            let why = match state {
                ContainerState::Paused => "is already paused",
                ContainerState::Running => "is not paused",
                _ => "is not running",
            };
            return Err(Error::Conflict(format!(
                "cannot {verb} container {}: it {why}",
                row.name
            )));
        }
        let spec = self.spec_for(&row).await?;
        tokio::task::spawn_blocking(move || {
            if frozen {
                runtime::pause(&spec)
            } else {
                runtime::resume(&spec)
            }
        })
        .await
        .map_err(|e| Error::Conflict(format!("{verb} was interrupted: {e}")))??;
        ContainerRow::set_paused(&self.inner.db, &id, frozen).await?;
        let status = Status {
            state: if frozen {
                ContainerState::Paused
            } else {
                ContainerState::Running
            },
            exit_code: None,
            removed: false,
        };
        self.inner.containers.status.publish(&id, status);
        let row = ContainerRow::find(&self.inner.db, &id).await?;
        self.inner.events.container(&row, verb, &[]);
        row.summary()
    }

    /// Gives a container a new name.
    pub async fn rename(&self, key: &str, new_name: &str) -> Result<ContainerSummary> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        let new_name = new_name.strip_prefix('/').unwrap_or(new_name);
        validate_name(new_name)?;
        ContainerRow::rename(&self.inner.db, &row.id, new_name).await?;
        let renamed = ContainerRow::find(&self.inner.db, &row.id).await?;
        let old_name = format!("/{}", row.name);
        self.inner
            .events
            .container(&renamed, "rename", &[("oldName", &old_name)]);
        renamed.summary()
    }

    /// Removes every container that is not running or paused; returns their ids and the
    /// bytes their writable layers held.
    pub async fn prune_containers(&self) -> Result<(Vec<String>, u64)> {
        let mut removed = Vec::new();
        let mut reclaimed = 0;
        for row in ContainerRow::list(&self.inner.db, true).await? {
            if row.state()?.is_alive() {
                continue;
            }
            let upper = self.container_dir(&row.id).join("upper");
            let size = tree_size(&upper, Unreadable::Skip).unwrap_or(0);
            match self.remove(&row.id, false).await {
                Ok(()) => {
                    removed.push(row.id);
                    reclaimed += size;
                }
                Err(Error::NotFound { .. }) | Err(Error::Conflict(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((removed, reclaimed))
    }

    /// Everything known about a container, shaped like `docker inspect`.
    pub async fn inspect(&self, key: &str) -> Result<ContainerInspect> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        let image = catalog::resolve(&self.inner.db, &row.image_id).await?;
        let lower: Vec<PathBuf> = image
            .layers()?
            .iter()
            .rev()
            .map(|layer| self.inner.images.layer_dir(&layer.chain_id))
            .collect();
        let mut inspect =
            crate::container::inspect::build(&row, &self.container_dir(&row.id), &lower)?;
        inspect.mounts = self.inner.volumes.inspect_mounts(&row.config()?);
        inspect.restart_count = self.restart_count(&row.id).await?;
        inspect.state.restarting = self.restart_pending(&row.id);
        inspect.state.health = self.inner.containers.health.health(&row.id);
        inspect.network_settings = self.inner.networks.settings(&row).await?;
        Ok(inspect)
    }

    /// Removes a container and its writable layer; a running one only with `force` (killed).
    pub async fn remove(&self, key: &str, force: bool) -> Result<()> {
        self.remove_container(key, force, false).await
    }

    /// [`Engine::remove`], and with `volumes` its anonymous volumes too (`rm -v`).
    pub async fn remove_container(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        self.mark_manually_stopped_or_warn(&row.id).await;
        if row.state()?.is_alive() {
            if !force {
                return Err(Error::Conflict(format!(
                    "cannot remove container \"{}\": container is running: stop the container before removing or force remove",
                    row.name
                )));
            }
            let rx = self.subscribe(&row)?;
            if row.state()? == ContainerState::Paused {
                // SIGKILL is delivered to frozen tasks only once they are thawed.
                self.unpause(&row.id).await?;
            }
            if let Some(pid) = row.pid {
                signal_container(pid, &row.id, Signal::SIGKILL)?;
                self.inner
                    .events
                    .container(&row, "kill", &[("signal", "9")]);
            }
            if !wait_exited(rx, Duration::from_secs(30)).await {
                return Err(Error::Conflict(format!(
                    "container {} did not exit after SIGKILL",
                    row.name
                )));
            }
        }
        let lock = self.lock(&row.id);
        let _guard = lock.lock().await;
        let row = ContainerRow::find(&self.inner.db, &row.id).await?;
        if row.state()?.is_alive() {
            return Err(Error::Conflict(format!(
                "container {} was started again while being removed",
                row.name
            )));
        }
        self.inner.containers.roots.release(&row.id);
        self.health_stop(&row.id);
        if let Ok(spec) = self.spec_for(&row).await {
            runtime::cleanup(&spec)?;
        }
        self.inner.networks.forget(&row.id).await?;
        let dir = self.container_dir(&row.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io("remove", &dir, e))?;
        }
        ContainerRow::delete(&self.inner.db, &row.id).await?;
        self.inner.containers.configs.forget(&row.id);
        self.inner.events.container(&row, "destroy", &[]);
        self.inner.volumes.release(&row.config()?, volumes).await;
        self.inner.containers.status.publish(
            &row.id,
            Status {
                state: ContainerState::Exited,
                exit_code: row.exit_code.map(|c| c as i32),
                removed: true,
            },
        );
        self.forget_lock(&row.id);
        self.inner.containers.execs.forget_container(&row.id);
        self.inner.containers.stats.forget(&row.id);
        Ok(())
    }

    /// The container's log, from the start or its last lines, optionally followed until it exits.
    pub async fn logs(&self, key: &str, options: LogOptions) -> Result<LogFollower> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        let rx = self.subscribe(&row)?;
        LogFollower::start(
            self.container_dir(&row.id).join("container.log"),
            options,
            rx,
        )
    }

    // ----- internals -----

    fn container_dir(&self, id: &str) -> PathBuf {
        containers::container_dir(&self.inner.system.root, id)
    }

    fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.inner.containers.locks.lock(id)
    }

    fn forget_lock(&self, id: &str) {
        self.inner.containers.locks.forget(id)
    }

    fn subscribe(&self, row: &ContainerRow) -> Result<watch::Receiver<Status>> {
        Ok(self.inner.containers.status.subscribe(
            &row.id,
            Status {
                state: row.state()?,
                exit_code: row.exit_code.map(|c| c as i32),
                removed: false,
            },
        ))
    }

    /// What the shim needs to create this container.
    async fn spec_for(&self, row: &ContainerRow) -> Result<ContainerSpec> {
        let config = row.config()?;
        let image = catalog::resolve(&self.inner.db, &row.image_id).await?;
        // overlayfs lists lowerdirs top first; the catalogue keeps layers bottom first.
        let lower: Vec<PathBuf> = image
            .layers()?
            .iter()
            .rev()
            .map(|layer| self.inner.images.layer_dir(&layer.chain_id))
            .collect();
        let user = resolve_user(&config.user, &config.group_add, &lower)?;
        let seccomp = self.seccomp_program(&config.security).await?;
        let dir = self.container_dir(&row.id);
        let mut env = config.env.clone();
        // docker sets HOME from the user's passwd entry unless the image or user set it.
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            env.push(format!("HOME={}", user.home));
        }
        Ok(ContainerSpec {
            id: row.id.clone(),
            hostname: config.hostname.clone(),
            args: config.args.clone(),
            env,
            cwd: config.cwd.clone(),
            uid: user.uid,
            gid: user.gid,
            groups: user.groups,
            rootfs: RootfsSpec {
                lower,
                upper: dir.join("upper"),
                work: dir.join("work"),
                mountpoint: dir.join("rootfs"),
                readonly: config.read_only,
            },
            cgroup_path: cgroup_path(&config, &row.id),
            log_path: dir.join("container.log"),
            exit_path: dir.join("exit.json"),
            resources: config.resources.clone(),
            security: config.security.clone(),
            seccomp,
            init: config.init,
            mounts: ETC_FILES
                .iter()
                .map(|name| MountSpec {
                    kind: MountKind::Bind,
                    source: dir.join(name),
                    destination: format!("/etc/{name}"),
                    readonly: false,
                    options: Default::default(),
                })
                .chain(self.inner.volumes.mounts(&config))
                .collect(),
            log: config.log.clone(),
            tty: config.tty,
            stdin: config.open_stdin,
            control_path: Some(dir.join(crate::runtime::control::SOCKET_NAME)),
            console_size: config.console_size.map(|[rows, columns]| (rows, columns)),
            // Set by `start` once the network is ready (network_setup).
            network: Default::default(),
            // Resolved by `start` from the host's nodes (container::devices::resolve).
            devices: Vec::new(),
        })
    }

    /// The seccomp filter of a container with these settings, from the cache (compiled on a
    /// blocking thread the first time).
    async fn seccomp_program(&self, security: &SecuritySpec) -> Result<SeccompProgram> {
        let engine = self.clone();
        let security = security.clone();
        let program =
            tokio::task::spawn_blocking(move || engine.inner.containers.seccomp.program(&security))
                .await
                .map_err(|e| Error::Conflict(format!("compiling the seccomp filter stopped: {e}")))?
                .map_err(|e| Error::InvalidInput(e.to_string()))?;
        Ok(SeccompProgram::clone(&program))
    }

    /// Writes the container's /etc/hostname, /etc/hosts and /etc/resolv.conf (bind-mounted
    /// over the image's, as docker does, so they follow the container's settings).
    fn write_etc_files(&self, row: &ContainerRow, dir: &Path) -> Result<()> {
        let config = row.config()?;
        let hostname = format!("{}\n", config.hostname);
        let hosts = crate::network::hosts::render(&config.hostname, None, &[]);
        let resolv = resolv_conf(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default());
        for (name, content) in [
            ("hostname", hostname),
            ("hosts", hosts),
            ("resolv.conf", resolv),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, content).map_err(|e| Error::io("write", &path, e))?;
        }
        Ok(())
    }

    /// Watches a shim until it exits, then records the container's exit.
    fn watch_shim(&self, id: String, shim_pid: i32) {
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = process_exit(shim_pid).await {
                tracing::warn!(container = %id, "cannot watch shim {shim_pid}: {e}; polling");
                while is_shim_of(shim_pid, &id) {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            // An exit is never lost: a write that fails for want of space (the database or
            // the data root full) is tried again, with back-off, until it is recorded.
            let mut delay = Duration::from_millis(100);
            loop {
                match engine.on_exit(&id).await {
                    Ok(()) => {
                        engine.inner.system.reserve.restore();
                        break;
                    }
                    Err(e @ (Error::Db(_) | Error::Io { .. })) => {
                        tracing::error!(container = %id, "recording the exit failed, retrying in {delay:?}: {e}");
                        // The disk may be full: the space held back makes room for it.
                        if engine.inner.system.reserve.release() {
                            continue;
                        }
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                    }
                    Err(e) => {
                        tracing::error!(container = %id, "recording the exit failed: {e}");
                        break;
                    }
                }
            }
        });
    }

    /// Records that a container's shim has gone: its exit code (from the shim's exit record),
    /// cgroup cleanup, subscribers told; auto-removed containers are removed.
    async fn on_exit(&self, id: &str) -> Result<()> {
        let auto_remove = {
            let lock = self.lock(id);
            let _guard = lock.lock().await;
            let row = ContainerRow::find(&self.inner.db, id).await?;
            if !row.state()?.is_alive() {
                return Ok(());
            }
            let dir = self.container_dir(id);
            let (exit_code, oom_killed, finished) =
                match runtime::read_exit_record(&dir.join("exit.json")) {
                    Ok(Some(record)) => {
                        (record.exit_code, record.oom_killed, record.finished_at_ms)
                    }
                    Ok(None) => {
                        tracing::warn!(container = %id, "shim ended without an exit record");
                        (255, false, now_ms())
                    }
                    Err(e) => {
                        tracing::warn!(container = %id, "unreadable exit record: {e}");
                        (255, false, now_ms())
                    }
                };
            if let Ok(spec) = self.spec_for(&row).await {
                if let Err(e) = runtime::cleanup(&spec) {
                    tracing::warn!(container = %id, "cgroup cleanup: {e}");
                }
            }
            self.health_stop(id);
            self.inner.networks.teardown(id).await;
            self.inner.containers.stats.stopped(id);
            ContainerRow::set_exited(&self.inner.db, id, exit_code, oom_killed, finished).await?;
            if oom_killed {
                self.inner.events.container(&row, "oom", &[]);
            }
            self.inner
                .events
                .container(&row, "die", &[("exitCode", &exit_code.to_string())]);
            self.inner
                .volumes
                .emit_mounts(id, &row.config()?, "unmount");
            self.inner.containers.status.publish(
                id,
                Status {
                    state: ContainerState::Exited,
                    exit_code: Some(exit_code),
                    removed: false,
                },
            );
            self.inner.containers.roots.release(id);
            self.restart_after_exit(&row, exit_code, finished).await?;
            row.config()?.auto_remove
        };
        if auto_remove {
            // `run --rm` also removes the container's anonymous volumes (docker).
            match self.remove_container(id, false, true).await {
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A container's cgroup, relative to each hierarchy's root: the parent it was created
/// under, then its id.
fn cgroup_path(config: &ContainerConfig, id: &str) -> String {
    format!("{}/{id}", config.cgroup_parent)
}

/// Files the engine provides in each container's /etc.
const ETC_FILES: [&str; 3] = ["hostname", "hosts", "resolv.conf"];

/// The host's resolv.conf without loopback name servers, which a container's own network
/// namespace cannot reach (docker filters them the same way).
fn resolv_conf(host: &str) -> String {
    let mut out = String::new();
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let server = words.next().unwrap_or_default();
            if server.starts_with("127.") || server == "::1" {
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Waits up to `limit` for the container to be exited; says whether it is.
async fn wait_exited(mut rx: watch::Receiver<Status>, limit: Duration) -> bool {
    let exited = rx.wait_for(|s| s.state == ContainerState::Exited || s.removed);
    matches!(tokio::time::timeout(limit, exited).await, Ok(Ok(_)))
}

/// Writes JSON to a temp file beside `path`, fsyncs it and renames it into place.
fn write_json_atomically<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Corrupt(format!("cannot encode {}: {e}", path.display())))?;
    let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io("create", &tmp, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", &tmp, e))?;
    Ok(())
}
