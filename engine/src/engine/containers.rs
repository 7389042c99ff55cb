//! The containers service ([`Containers`], `engine.containers()`): the in-memory state of
//! the container lifecycle beside the rows of the catalogue (locks, exit watches, root mounts,
//! caches, execs, restarts, health, stats), and the lifecycle itself (create, start, stop,
//! kill, restart, pause, rename, remove, prune, wait, logs, inspect). The lifecycle crosses
//! every other service (a create resolves the image, attaches volumes and a network; an exit
//! tears the network down and releases volume mounts), so the service holds handles to them;
//! attach, exec, health, list, restart, reconcile, session and stats are its other files.

use super::events::Events;
use super::prepared_cgroup::PreparedCgroup;
use super::restart::RestartTimers;
use super::{Images, Networks, Volumes};
use crate::catalog;
use crate::container::inspect::ContainerInspect;
use crate::container::{
    generate_name, is_shim_of, process_exit, resolve_user, signal_container, validate_name,
    ContainerConfig, ContainerRow, ContainerState, ContainerSummary, CreateOptions, ExitWatch,
    LogFollower, LogOptions, RootHolds, Status,
};
use crate::container::{ConfigCache, ListCache};
use crate::db::{now_ms, Db};
use crate::fs_size::{tree_size, Unreadable};
use crate::ids::new_id;
use crate::runtime::seccomp::SeccompProgram;
use crate::runtime::{self, ContainerSpec, MountKind, MountSpec, RootfsSpec, SecuritySpec};
use crate::units::parse_signal;
use crate::{Error, Result};
use nix::sys::signal::Signal;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// The containers service: every container verb (create, start, stop, kill, restart, pause,
/// rename, remove, prune, wait, logs, inspect, list, attach, exec, stats), over the lifecycle
/// state it owns. A cheap handle (one `Arc`): the watchers it spawns hold one.
#[derive(Clone)]
pub struct Containers {
    pub(super) inner: Arc<ContainersInner>,
}

/// The containers service's state, and handles to the services its lifecycle crosses.
pub(super) struct ContainersInner {
    /// The catalogue: containers' rows.
    pub(super) db: Db,
    pub(super) events: Events,
    /// A create resolves its image; a start stacks the image's layers.
    pub(super) images: Arc<Images>,
    /// A create records its volumes; a start mounts them; a removal drops anonymous ones.
    pub(super) volumes: Arc<Volumes>,
    /// A create attaches a network; a start sets it up; an exit tears it down.
    pub(super) networks: Arc<Networks>,
    /// The data root: containers' folders are in `containers/`.
    pub(super) root: PathBuf,
    /// Space held back on the data root for the writes that end containers on a full disk.
    pub(super) reserve: crate::reserve::Reserve,
    /// Where removed containers' folders go to be deleted.
    pub(super) discard: crate::discard::Discard,
    /// The program run as `<shim_program> shim <spec.json>`.
    pub(super) shim_program: PathBuf,
    /// Where new containers' cgroups go.
    pub(super) cgroup_parent: String,
    /// Each container's state as its subscribers (waiters, log followers) see it.
    pub(super) status: ExitWatch,
    /// The root mounts of running containers, held so that exits do not wait for overlayfs.
    pub(super) roots: RootHolds,
    /// Serialises lifecycle changes of one container (start, exit handling, removal).
    pub(super) locks: Arc<ContainerLocks>,
    /// Containers' parsed configs, for lists.
    pub(super) configs: ConfigCache,
    /// The container list as of the catalogue's last change.
    pub(super) lists: ListCache,
    /// `exec` instances, in memory as docker keeps them.
    pub(super) execs: crate::exec::ExecStore,
    /// Back-off and pending restarts of containers with a restart policy.
    pub(super) restarts: RestartTimers,
    /// Containers' seccomp filters, compiled once per profile and capability set.
    pub(super) seccomp: crate::runtime::seccomp::FilterCache,
    /// Health checks of running containers.
    pub(super) health: crate::health::HealthMonitors,
    /// Stats: one sampler per watched container, the last hour of every container's and
    /// the host's readings.
    pub(super) stats: crate::stats::StatsHub,
}

/// A container's folder under the data root: its writable layer, log, exit record, /etc files.
pub(super) fn container_dir(root: &Path, id: &str) -> PathBuf {
    root.join("containers").join(id)
}

/// One lock per container, serialising its lifecycle changes (start, exit handling, removal,
/// network connect and disconnect).
#[derive(Default)]
pub(super) struct ContainerLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ContainerLocks {
    /// The container's lock (made on first use).
    pub(super) fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.entry(id.to_string()).or_default().clone()
    }

    /// Drops a removed container's lock.
    pub(super) fn forget(&self, id: &str) {
        let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
        locks.remove(id);
    }
}

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

impl Containers {
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
    ///
    /// Its cgroup is made meanwhile, and the cgroup migration warm-up begun
    /// ([`runtime::prepare_cgroup`]): most containers are created to be started at once
    /// (`run`), and the kernel's grace period that the start's cgroup move waits for is then
    /// already running when the start request comes. A create that fails takes the cgroup
    /// away again; one that succeeds answers only once the cgroup is made, so a removal
    /// right after it finds the cgroup to remove.
    pub async fn create(&self, options: CreateOptions) -> Result<ContainerSummary> {
        let mut phases = crate::phases::Phases::new();
        let image = catalog::resolve(&self.inner.db, &options.image).await?;
        let id = new_id();
        let mut config = ContainerConfig::derive(&id, &image.defaults()?, &options)?;
        config.cgroup_parent = self.inner.cgroup_parent.clone();
        phases.mark("config");
        let mut cgroup = PreparedCgroup::begin(cgroup_path(&config, &id));
        let created = self
            .create_row(&id, &image, &options, config, &mut phases)
            .await;
        let row = match created {
            Ok(row) => row,
            Err(e) => {
                cgroup.undo(&id, "create").await;
                return Err(e);
            }
        };
        cgroup.ready(&id).await;
        phases.mark("cgroup");
        self.inner.events.container(&row, "create", &[]);
        phases.log("create timings", &id);
        row.summary()
    }

    /// The part of [`Self::create`] that makes the container: its directory and empty log,
    /// its row (under a generated name when none was given), its volumes and network.
    async fn create_row(
        &self,
        id: &str,
        image: &catalog::ImageRow,
        options: &CreateOptions,
        config: ContainerConfig,
        phases: &mut crate::phases::Phases,
    ) -> Result<ContainerRow> {
        let db = &self.inner.db;
        let fixed_name = match &options.name {
            Some(name) => {
                let name = name.strip_prefix('/').unwrap_or(name).to_string();
                validate_name(&name)?;
                Some(name)
            }
            None => None,
        };
        let network = self.inner.networks.for_create(&config).await?;
        let config_json = serde_json::to_string(&config)
            .map_err(|e| Error::Corrupt(format!("container config: {e}")))?;
        let mut row = ContainerRow {
            id: id.to_string(),
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
        phases.mark("network");
        let dir = self.container_dir(id);
        for sub in ["upper", "work", "rootfs"] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(|e| Error::io("create", &path, e))?;
        }
        // An empty log with its header, so that readers can attach before the first line.
        let log = dir.join("container.log");
        crate::logs::LogWriter::open(&log).map_err(|e| Error::io("create", &log, e))?;
        phases.mark("files");
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
                    phases.mark("row");
                    if let Err(e) = self.inner.volumes.attach(id, &config).await {
                        let _ = ContainerRow::delete(db, id).await;
                        let _ = std::fs::remove_dir_all(&dir);
                        return Err(e);
                    }
                    phases.mark("volumes");
                    self.inner
                        .networks
                        .attach_created(id, network.as_ref())
                        .await?;
                    phases.mark("attached");
                    return Ok(row);
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
    pub(super) async fn start_as(&self, key: &str, manual: bool) -> Result<ContainerSummary> {
        let mut phases = crate::phases::Phases::new();
        let id = ContainerRow::find(&self.inner.db, key).await?.id;
        let lock = self.lock(&id);
        let _guard = lock.lock().await;
        phases.mark("lock");
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
        phases.mark("checks");
        let mut cgroup = PreparedCgroup::begin(cgroup_path(&row.config()?, &id));
        match self.launch(&row, &dir, &mut cgroup, &mut phases).await {
            Ok(started) => self.record_start(&id, started, phases).await,
            Err(e) => {
                // The cgroup made for this start (the shim removes it only once it ran).
                cgroup.undo(&id, "start").await;
                Err(e)
            }
        }
    }

    /// The part of a start between its checks and a running shim: the shim's spec written
    /// (see [`Self::shim_spec`]), then the shim spawned once `cgroup` (made meanwhile on a
    /// blocking thread) is ready.
    async fn launch(
        &self,
        row: &ContainerRow,
        dir: &Path,
        cgroup: &mut PreparedCgroup,
        phases: &mut crate::phases::Phases,
    ) -> Result<runtime::Started> {
        let id = &row.id;
        let spec_path = self.shim_spec(row, dir, phases).await?;
        cgroup.ready(id).await;
        phases.mark("cgroup");
        let program = self.inner.shim_program.clone();
        let started =
            tokio::task::spawn_blocking(move || runtime::spawn_shim(&program, &spec_path))
                .await
                .map_err(|e| Error::Conflict(format!("container start was interrupted: {e}")))
                .and_then(|r| r.map_err(Error::from));
        if started.is_err() {
            self.inner.networks.teardown(id).await;
        }
        phases.mark("shim");
        started
    }

    /// Writes the shim's spec for a start (after the container's /etc files and its network,
    /// which the spec names) and returns its path. A network set up here is torn down again
    /// when the spec cannot be written.
    async fn shim_spec(
        &self,
        row: &ContainerRow,
        dir: &Path,
        phases: &mut crate::phases::Phases,
    ) -> Result<PathBuf> {
        let mut spec = self.spec_for(row).await?;
        // The host's nodes as they are now (one may have gone since create).
        spec.devices = crate::container::devices::resolve_all(&row.config()?.devices)
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        phases.mark("spec");
        self.inner.roots.settled(&row.id).await;
        self.write_etc_files(row, dir)?;
        phases.mark("etc");
        spec.network = self.inner.networks.setup(row).await?;
        phases.mark("network");
        let _ = std::fs::remove_file(&spec.exit_path);
        let _ = std::fs::remove_file(dir.join(runtime::STARTED_RECORD));
        let spec_path = dir.join("shim.json");
        if let Err(e) = write_spec(&spec_path, &spec) {
            self.inner.networks.teardown(&row.id).await;
            return Err(e);
        }
        Ok(spec_path)
    }

    /// Records a started container: its row, its status, its root and shim watched, its
    /// volumes' mount events and its start event, its health check.
    async fn record_start(
        &self,
        id: &str,
        started: runtime::Started,
        mut phases: crate::phases::Phases,
    ) -> Result<ContainerSummary> {
        let id = id.to_string();
        let at = now_ms();
        ContainerRow::set_running(&self.inner.db, &id, started.pid, started.shim_pid, at).await?;
        self.inner.status.publish(
            &id,
            Status {
                state: ContainerState::Running,
                exit_code: None,
                removed: false,
            },
        );
        self.inner.roots.hold(&id, started.pid);
        self.watch_shim(id.clone(), started.shim_pid);
        let row = ContainerRow::find(&self.inner.db, &id).await?;
        self.inner
            .volumes
            .emit_mounts(&row.id, &row.config()?, "mount");
        self.inner.events.container(&row, "start", &[]);
        self.health_start(&row);
        phases.mark("record");
        phases.log("start timings", &id);
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

    pub(super) async fn set_frozen(&self, key: &str, frozen: bool) -> Result<ContainerSummary> {
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
        self.inner.status.publish(&id, status);
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
        let lower = self.inner.images.lower_dirs(&row.image_id).await?;
        let mut inspect =
            crate::container::inspect::build(&row, &self.container_dir(&row.id), &lower)?;
        inspect.mounts = self.inner.volumes.inspect_mounts(&row.config()?);
        inspect.restart_count = self.restart_count(&row.id).await?;
        inspect.state.restarting = self.restart_pending(&row.id);
        inspect.state.health = self.inner.health.health(&row.id);
        inspect.network_settings = self.inner.networks.settings(&row).await?;
        Ok(inspect)
    }

    /// Removes a container and its writable layer; a running one only with `force` (killed).
    pub async fn remove(&self, key: &str, force: bool) -> Result<()> {
        self.remove_container(key, force, false).await
    }

    /// [`Containers::remove`], and with `volumes` its anonymous volumes too (`rm -v`).
    pub async fn remove_container(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let mut phases = crate::phases::Phases::new();
        let row = ContainerRow::find(&self.inner.db, key).await?;
        self.stop_restarts_for_removal(&row.id, row.state()?.is_alive())
            .await;
        phases.mark("mark");
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
        phases.mark("lock");
        self.inner.roots.release(&row.id);
        self.health_stop(&row.id);
        runtime::cleanup(&cgroup_path(&row.config()?, &row.id))?;
        phases.mark("cleanup");
        self.inner.networks.forget(&row.id).await?;
        phases.mark("network");
        let dir = self.container_dir(&row.id);
        let discarded = self
            .inner
            .discard
            .take(&dir)
            .map_err(|e| Error::io("remove", &dir, e))?;
        phases.mark("files");
        ContainerRow::delete(&self.inner.db, &row.id).await?;
        phases.mark("row");
        self.inner.configs.forget(&row.id);
        self.inner.events.container(&row, "destroy", &[]);
        self.inner.volumes.release(&row.config()?, volumes).await;
        phases.mark("volumes");
        self.inner.status.publish(
            &row.id,
            Status {
                state: ContainerState::Exited,
                exit_code: row.exit_code.map(|c| c as i32),
                removed: true,
            },
        );
        self.forget_lock(&row.id);
        self.inner.execs.forget_container(&row.id);
        self.inner.stats.forget(&row.id);
        phases.mark("published");
        // Waiters (`run --rm`) have been told; this call returns once the files are gone,
        // so `rm` gives the space back before it answers, as docker's does.
        if let Some(discarded) = discarded {
            discarded.delete().await;
        }
        phases.mark("deleted");
        phases.log("remove timings", &row.id);
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

    pub(super) fn container_dir(&self, id: &str) -> PathBuf {
        container_dir(&self.inner.root, id)
    }

    pub(super) fn lock(&self, id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.inner.locks.lock(id)
    }

    pub(super) fn forget_lock(&self, id: &str) {
        self.inner.locks.forget(id)
    }

    pub(super) fn subscribe(&self, row: &ContainerRow) -> Result<watch::Receiver<Status>> {
        Ok(self.inner.status.subscribe(
            &row.id,
            Status {
                state: row.state()?,
                exit_code: row.exit_code.map(|c| c as i32),
                removed: false,
            },
        ))
    }

    /// What the shim needs to create this container.
    pub(super) async fn spec_for(&self, row: &ContainerRow) -> Result<ContainerSpec> {
        let config = row.config()?;
        let lower = self.inner.images.lower_dirs(&row.image_id).await?;
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
    pub(super) async fn seccomp_program(&self, security: &SecuritySpec) -> Result<SeccompProgram> {
        let engine = self.clone();
        let security = security.clone();
        let program = tokio::task::spawn_blocking(move || engine.inner.seccomp.program(&security))
            .await
            .map_err(|e| Error::Conflict(format!("compiling the seccomp filter stopped: {e}")))?
            .map_err(|e| Error::InvalidInput(e.to_string()))?;
        Ok(SeccompProgram::clone(&program))
    }

    /// Writes the container's /etc/hostname, /etc/hosts and /etc/resolv.conf (bind-mounted
    /// over the image's, as docker does, so they follow the container's settings).
    pub(super) fn write_etc_files(&self, row: &ContainerRow, dir: &Path) -> Result<()> {
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
    pub(super) fn watch_shim(&self, id: String, shim_pid: i32) {
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
                        engine.inner.reserve.restore();
                        break;
                    }
                    Err(e @ (Error::Db(_) | Error::Io { .. })) => {
                        tracing::error!(container = %id, "recording the exit failed, retrying in {delay:?}: {e}");
                        // The disk may be full: the space held back makes room for it.
                        if engine.inner.reserve.release() {
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
    pub(super) async fn on_exit(&self, id: &str) -> Result<()> {
        let mut phases = crate::phases::Phases::new();
        let auto_remove = {
            let lock = self.lock(id);
            let _guard = lock.lock().await;
            let row = ContainerRow::find(&self.inner.db, id).await?;
            if !row.state()?.is_alive() {
                return Ok(());
            }
            phases.mark("lock");
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
            phases.mark("record");
            if let Err(e) = runtime::cleanup(&cgroup_path(&row.config()?, id)) {
                tracing::warn!(container = %id, "cgroup cleanup: {e}");
            }
            phases.mark("cleanup");
            self.health_stop(id);
            self.inner.networks.teardown(id).await;
            self.inner.stats.stopped(id);
            phases.mark("network");
            ContainerRow::set_exited(&self.inner.db, id, exit_code, oom_killed, finished).await?;
            phases.mark("row");
            if oom_killed {
                self.inner.events.container(&row, "oom", &[]);
            }
            self.inner
                .events
                .container(&row, "die", &[("exitCode", &exit_code.to_string())]);
            self.inner
                .volumes
                .emit_mounts(id, &row.config()?, "unmount");
            self.inner.status.publish(
                id,
                Status {
                    state: ContainerState::Exited,
                    exit_code: Some(exit_code),
                    removed: false,
                },
            );
            self.inner.roots.release(id);
            self.restart_after_exit(&row, exit_code, finished).await?;
            phases.mark("published");
            row.config()?.auto_remove
        };
        if auto_remove {
            // `run --rm` also removes the container's anonymous volumes (docker).
            match self.remove_container(id, false, true).await {
                Ok(()) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
            phases.mark("removed");
        }
        phases.log("exit timings", id);
        Ok(())
    }
}

/// A container's cgroup, relative to each hierarchy's root: the parent it was created
/// under, then its id.
pub(super) fn cgroup_path(config: &ContainerConfig, id: &str) -> String {
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

/// Writes the shim's spec to a temp file beside `path` and renames it into place, so the shim
/// never reads half a spec. No fsync (it took 1 ms of every start): the shim reads the file at
/// once, from the page cache, and every start writes it anew; after a host crash no shim is
/// left to read it.
fn write_spec(path: &Path, spec: &crate::runtime::ContainerSpec) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec(spec)
        .map_err(|e| Error::Corrupt(format!("cannot encode {}: {e}", path.display())))?;
    std::fs::write(&tmp, bytes).map_err(|e| Error::io("write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io("rename", &tmp, e))?;
    Ok(())
}
