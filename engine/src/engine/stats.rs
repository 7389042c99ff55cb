//! The engine's stats verbs, over its [`StatsHub`]: a one-off reading (`berth stats`), a
//! subscription (the dashboard's stream), histories; and the [`StatsSource`] that reads the
//! engine's containers.

use super::containers::cgroup_path;
use super::Containers;
use crate::container::{is_shim_of, ContainerRow};
use crate::db::{now_ms, Db};
use crate::runtime::cgroup::CGROUP_ROOT;
use crate::stats::{
    self, HostReading, HostSubscription, HubConfig, Sample, Sampler, StatsError, StatsHub,
    StatsPoint, StatsSource, StatsSubscription, Target,
};
use crate::{ContainerStats, Error, Result};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A hub reading the engine's containers (the background pass starts with the engine).
pub(super) fn hub(db: Db) -> StatsHub {
    let source = EngineSource {
        db,
        cache: Mutex::default(),
    };
    StatsHub::new(Arc::new(source), HubConfig::default())
}

/// Reads the running containers from the catalogue and their cgroups from the cgroup files.
struct EngineSource {
    db: Db,
    cache: Mutex<Cache>,
}

/// What is worth keeping between passes: each running container's cgroup path (its config
/// parsed once) and its sampler (opened cgroup, kept files) for that path and init pid.
#[derive(Default)]
struct Cache {
    paths: HashMap<String, String>,
    samplers: HashMap<String, ((String, i32), Arc<Sampler>)>,
}

impl StatsSource for EngineSource {
    fn running(&self) -> BoxFuture<'_, Vec<Target>> {
        Box::pin(async move {
            let rows = match ContainerRow::list(&self.db, false).await {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::warn!("stats: cannot list the running containers: {e}");
                    return Vec::new();
                }
            };
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let mut targets = Vec::with_capacity(rows.len());
            for row in rows {
                let Some(pid) = row.pid.filter(|_| row.state().is_ok_and(|s| s.is_alive())) else {
                    continue;
                };
                let path = match cache.paths.get(&row.id) {
                    Some(path) => path.clone(),
                    None => match row.config() {
                        Ok(config) => cgroup_path(&config, &row.id),
                        Err(_) => continue,
                    },
                };
                cache.paths.insert(row.id.clone(), path.clone());
                targets.push(Target {
                    id: row.id,
                    cgroup_path: path,
                    pid: pid as i32,
                });
            }
            let cache = &mut *cache;
            cache
                .paths
                .retain(|id, _| targets.iter().any(|t| &t.id == id));
            cache.samplers.retain(|id, _| cache.paths.contains_key(id));
            targets
        })
    }

    fn host(&self) -> std::result::Result<HostReading, StatsError> {
        stats::host::read(Path::new("/proc"))
    }

    fn sample(
        &self,
        target: &Target,
        host: &HostReading,
    ) -> std::result::Result<Sample, StatsError> {
        let cached = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .samplers
                .get(&target.id)
                .filter(|((path, pid), _)| path == &target.cgroup_path && *pid == target.pid)
                .map(|(_, s)| s.clone())
        };
        let sampler = match cached {
            Some(sampler) => sampler,
            None => {
                let sampler = Arc::new(Sampler::open(
                    Path::new(CGROUP_ROOT),
                    Path::new("/proc"),
                    &target.cgroup_path,
                )?);
                let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
                cache.samplers.insert(
                    target.id.clone(),
                    ((target.cgroup_path.clone(), target.pid), sampler.clone()),
                );
                sampler
            }
        };
        sampler.sample_with_host(target.pid, host)
    }
}

/// A reading younger than this is served as is by [`Containers::stats`] (a sampler's).
const SERVE_LATEST: i64 = 2_000_000_000;

impl Containers {
    /// The stats hub: samplers, viewers and histories (for the API and `/metrics`).
    pub fn stats_hub(&self) -> &StatsHub {
        &self.inner.stats
    }

    /// What the hub needs to sample a container; a conflict unless it runs.
    fn stats_target(&self, row: &ContainerRow) -> Result<Target> {
        match (row.state()?.is_alive(), row.pid) {
            (true, Some(pid)) => Ok(Target {
                id: row.id.clone(),
                cgroup_path: cgroup_path(&row.config()?, &row.id),
                pid: pid as i32,
            }),
            _ => Err(Error::Conflict(format!(
                "container {} is not running",
                row.name
            ))),
        }
    }

    /// A running container's resource usage. When a sampler watches it (or another call
    /// just read it), its latest reading; otherwise a new one, with CPU % measured against
    /// the hub's previous reading (the background pass's, at most 10 s old) or, without
    /// one, against a reading 100 ms before.
    pub async fn stats(&self, key: &str) -> Result<ContainerStats> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        let target = self.stats_target(&row)?;
        let hub = &self.inner.stats;
        let age = |s: &Sample| now_ms() * 1_000_000 - s.read_at_ns;
        let latest = hub
            .latest(&row.id)
            .filter(|(_, s)| (0..SERVE_LATEST).contains(&age(s)));
        let (cpu_percent, sample) = match latest {
            Some((point, sample)) => (point.cpu_percent, sample),
            None => {
                let read = || {
                    let (path, pid) = (target.cgroup_path.clone(), target.pid);
                    async move {
                        tokio::task::spawn_blocking(move || stats::sample(&path, pid))
                            .await
                            .map_err(|e| Error::Conflict(format!("stats were interrupted: {e}")))?
                            .map_err(Error::from)
                    }
                };
                let fresh = |s: &Sample| (50_000_000..60_000_000_000).contains(&age(s));
                if hub.last_sample(&row.id).filter(fresh).is_none() {
                    hub.record(&row.id, read().await?);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                let sample = read().await?;
                let point = hub.record(&row.id, sample.clone());
                (point.map_or(0.0, |p| p.cpu_percent), sample)
            }
        };
        let shim_rss_bytes = row
            .shim_pid
            .filter(|&shim| is_shim_of(shim as i32, &row.id))
            .and_then(|shim| stats::resident_bytes(shim as i32));
        Ok(ContainerStats {
            id: row.id,
            name: row.name,
            cpu_percent,
            memory_percent: stats::memory_percent(&sample),
            shim_rss_bytes,
            sample,
        })
    }

    /// Watches a running container's stats: one point a second, shared with every other
    /// viewer of it; the stream ends when the container stops.
    pub async fn stats_subscribe(&self, key: &str) -> Result<StatsSubscription> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        let target = self.stats_target(&row)?;
        Ok(self.inner.stats.subscribe(target))
    }

    /// The resource use of many containers at once (`berth stats`): the named ones (an
    /// unknown or stopped one is an error), or every running one (those that stop meanwhile
    /// are left out). The readings are taken together, so the whole answer waits for at most
    /// one 100 ms CPU baseline, not one per container.
    pub async fn stats_many(&self, keys: Option<&[String]>) -> Result<Vec<ContainerStats>> {
        use futures::stream::{self as s, StreamExt, TryStreamExt};
        /// Readings taken at once: each is a few small cgroup and /proc files.
        const PARALLEL: usize = 32;
        let rows = match keys {
            Some(keys) => {
                let mut rows = Vec::with_capacity(keys.len());
                for key in keys {
                    let row = ContainerRow::find(&self.inner.db, key).await?;
                    self.stats_target(&row)?;
                    rows.push(row);
                }
                rows
            }
            None => ContainerRow::list(&self.inner.db, false).await?,
        };
        let hub = &self.inner.stats;
        let age = |s: &Sample| now_ms() * 1_000_000 - s.read_at_ns;
        // Baselines for those that have no recent reading, all at once.
        let unread: Vec<Target> = rows
            .iter()
            .filter(|row| {
                let latest = hub.latest(&row.id).map(|(_, s)| s);
                let recent = latest.or_else(|| hub.last_sample(&row.id));
                !recent.is_some_and(|s| (0..SERVE_LATEST).contains(&age(&s)))
            })
            .filter_map(|row| self.stats_target(row).ok())
            .collect();
        if !unread.is_empty() {
            s::iter(unread)
                .map(|target| async move {
                    let read = tokio::task::spawn_blocking(move || {
                        let sample = stats::sample(&target.cgroup_path, target.pid);
                        (target.id, sample)
                    })
                    .await;
                    if let Ok((id, Ok(sample))) = read {
                        hub.record(&id, sample);
                    }
                })
                .buffer_unordered(PARALLEL)
                .collect::<Vec<()>>()
                .await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let named = keys.is_some();
        let answers = s::iter(rows)
            .map(|row| async move {
                match self.stats(&row.id).await {
                    Ok(stats) => Ok(Some(stats)),
                    Err(e) if named => Err(e),
                    Err(_) => Ok(None),
                }
            })
            .buffered(PARALLEL)
            .try_collect::<Vec<Option<ContainerStats>>>()
            .await?;
        Ok(answers.into_iter().flatten().collect())
    }

    /// Watches the host totals: one point a second.
    pub fn stats_subscribe_host(&self) -> HostSubscription {
        self.inner.stats.subscribe_host()
    }

    /// A container's last hour of readings, oldest first (running or not).
    pub async fn stats_history(&self, key: &str) -> Result<Vec<StatsPoint>> {
        let row = ContainerRow::find(&self.inner.db, key).await?;
        Ok(self.inner.stats.history(&row.id))
    }
}
