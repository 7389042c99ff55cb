//! One sampler per watched container, shared by all its viewers, and the last hour of
//! everybody's readings.
//!
//! - [`StatsHub::subscribe`] starts the container's sampler (read every [`HubConfig::tick`],
//!   1 s, by the one task that reads all watched containers in one blocking job) if none
//!   runs and counts a viewer; every subscription gets the same points through one
//!   `broadcast` channel. When the last subscription is dropped the
//!   sampler stays [`HubConfig::linger`] (5 s) longer, so a reload finds it running.
//! - A sampler ends when its container stops ([`StatsHub::stopped`], from the engine's exit
//!   handling) or cannot be read any more (its cgroup is gone): its subscriptions' streams
//!   then end — [`Subscription::recv`] returns `None`; there is no final message, the
//!   history stays. Subscribing again after a restart starts a new sampler.
//! - A background pass every [`HubConfig::background`] (10 s) reads every running container
//!   nobody watches, in one blocking job (the host files once, then each container's cgroup
//!   files), so history exists before anyone looks. No task per container.
//! - [`StatsHub::subscribe_host`] does the same for the host totals (1 s while any host
//!   subscriber exists; the background pass adds a host point every 10 s otherwise).
//!
//! What is read, and how, is a [`StatsSource`]: the engine's reads cgroups and /proc; the
//! tests' is a fake.

use super::history::History;
use super::host::{self, HostReading};
use super::{to_point, HostPoint, Sample, StatsError, StatsPoint};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::task::AbortHandle;
use tokio::time::{Instant, MissedTickBehavior};

/// A running container as the sampler needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: String,
    /// Its cgroup, relative to each hierarchy's root (`ContainerSpec::cgroup_path`).
    pub cgroup_path: String,
    /// Its init's host pid (for its network namespace's counters).
    pub pid: i32,
}

/// Where readings come from. `host` and `sample` are small blocking file reads; the hub
/// calls them on the blocking pool.
pub trait StatsSource: Send + Sync + 'static {
    /// The containers running (or paused) now.
    fn running(&self) -> BoxFuture<'_, Vec<Target>>;
    /// The host's CPU time and memory.
    fn host(&self) -> Result<HostReading, StatsError>;
    /// One container, against a host reading of the same moment.
    fn sample(&self, target: &Target, host: &HostReading) -> Result<Sample, StatsError>;
}

#[derive(Debug, Clone, Copy)]
pub struct HubConfig {
    /// How often a watched container (and the host, when watched) is read.
    pub tick: Duration,
    /// How long a sampler outlives its last viewer.
    pub linger: Duration,
    /// How often the background pass reads every running container.
    pub background: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            tick: Duration::from_secs(1),
            linger: Duration::from_secs(5),
            background: Duration::from_secs(10),
        }
    }
}

/// Points a slow subscriber may fall behind by before it skips to the newest.
const CHANNEL: usize = 16;
/// A previous reading older than this does not make a CPU % (the next reading does).
const MAX_GAP_NS: i64 = 60_000_000_000;
/// Containers' latest points older than this are left out of the host's sums.
const SUM_MAX_AGE_MS: i64 = 30_000;

/// The stats of all containers and of the host; owned by the engine
/// ([`crate::Containers::stats_hub`]). Its methods take a std mutex briefly and never block.
pub struct StatsHub {
    inner: Arc<HubInner>,
}

struct HubInner {
    source: Arc<dyn StatsSource>,
    config: HubConfig,
    state: Mutex<State>,
    /// Moves after every watched pass has sent its points and whenever a sampler ends, so
    /// one task can poll many subscriptions ([`StatsHub::ticks`], [`Subscription::try_recv`]).
    ticks: watch::Sender<u64>,
}

/// A spawned task, aborted when this is dropped.
struct Task(AbortHandle);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running sampler: removing it from the state closes the channel (and aborts the host's
/// task; containers' samplers are read together by one task, [`watched_pass`]).
struct Slot<P> {
    serial: u64,
    viewers: usize,
    idle_since: Option<Instant>,
    tx: broadcast::Sender<P>,
    /// What a container's sampler reads; `None` for the host's.
    target: Option<Target>,
    _task: Option<Task>,
}

impl<P> Slot<P> {
    /// No viewer for the whole linger: the sampler ends.
    fn expired(&self, linger: Duration) -> bool {
        self.viewers == 0 && self.idle_since.is_some_and(|t| t.elapsed() >= linger)
    }
}

#[derive(Default)]
struct Track {
    history: History<StatsPoint>,
    /// The last reading, for the next one's CPU %.
    last: Option<Sample>,
}

#[derive(Default)]
struct HostTrack {
    history: History<HostPoint>,
    last: Option<HostReading>,
}

#[derive(Default)]
struct State {
    serial: u64,
    /// Container samplers started so far.
    starts: u64,
    samplers: HashMap<String, Slot<StatsPoint>>,
    containers: HashMap<String, Track>,
    host_sampler: Option<Slot<HostPoint>>,
    host: HostTrack,
    background: Option<Task>,
    /// The task reading every watched container each tick, while any is watched.
    watched: Option<Task>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Container(String),
    Host,
}

/// A viewer of one container's points ([`StatsSubscription`]) or of the host's
/// ([`HostSubscription`]). Dropping it releases the viewer.
pub struct Subscription<P: Clone> {
    key: Key,
    serial: u64,
    rx: broadcast::Receiver<P>,
    hub: Weak<HubInner>,
    history: Vec<P>,
}

pub type StatsSubscription = Subscription<StatsPoint>;
pub type HostSubscription = Subscription<HostPoint>;

/// What [`Subscription::try_recv`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum Polled<P> {
    Point(P),
    /// Nothing new yet.
    Empty,
    /// The sampler has ended, as when [`Subscription::recv`] returns `None`.
    Ended,
}

impl<P: Clone> Subscription<P> {
    /// The next point if one is waiting, without waiting. A subscriber that fell behind
    /// skips to the newest points.
    pub fn try_recv(&mut self) -> Polled<P> {
        use broadcast::error::TryRecvError;
        loop {
            return match self.rx.try_recv() {
                Ok(p) => Polled::Point(p),
                Err(TryRecvError::Empty) => Polled::Empty,
                Err(TryRecvError::Lagged(_)) => continue,
                Err(TryRecvError::Closed) => Polled::Ended,
            };
        }
    }

    /// The next point; `None` once the sampler has ended (the container stopped, was
    /// removed or cannot be read). A subscriber that fell behind skips to the newest points.
    pub async fn recv(&mut self) -> Option<P> {
        loop {
            match self.rx.recv().await {
                Ok(p) => return Some(p),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The history as it was when subscribing, oldest first; `recv` continues it without a
    /// gap or a repeat.
    pub fn history(&self) -> &[P] {
        &self.history
    }

    /// Takes [`Subscription::history`] out (to send it once).
    pub fn take_history(&mut self) -> Vec<P> {
        std::mem::take(&mut self.history)
    }

    /// The container watched; `None` for the host.
    pub fn container_id(&self) -> Option<&str> {
        match &self.key {
            Key::Container(id) => Some(id),
            Key::Host => None,
        }
    }
}

impl<P: Clone> Drop for Subscription<P> {
    fn drop(&mut self) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let mut state = hub.lock();
        let state = &mut *state;
        let slot = match &self.key {
            Key::Container(id) => state
                .samplers
                .get_mut(id)
                .map(|s| (&mut s.serial, &mut s.viewers, &mut s.idle_since)),
            Key::Host => state
                .host_sampler
                .as_mut()
                .map(|s| (&mut s.serial, &mut s.viewers, &mut s.idle_since)),
        };
        if let Some((serial, viewers, idle_since)) = slot {
            if *serial == self.serial {
                *viewers = viewers.saturating_sub(1);
                if *viewers == 0 {
                    *idle_since = Some(Instant::now());
                }
            }
        }
    }
}

impl HubInner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// At the host sampler's tick: whether it goes on (its slot is still its own and has
    /// viewers or is within the linger); ends it otherwise.
    fn keep_host(&self, serial: u64) -> bool {
        let mut state = self.lock();
        let linger = self.config.linger;
        match &state.host_sampler {
            Some(s) if s.serial == serial => {
                if s.expired(linger) {
                    state.host_sampler = None;
                    return false;
                }
                true
            }
            _ => false,
        }
    }
}

impl State {
    /// Adds a reading of a container to its history; the point, unless it is the first (or
    /// the first after a long gap), which only sets the base for CPU %.
    fn record(&mut self, id: &str, sample: Sample, fine: bool) -> Option<StatsPoint> {
        let track = self.containers.entry(id.to_string()).or_default();
        let prev = track.last.replace(sample);
        let cur = track.last.as_ref()?;
        let prev = prev.filter(|p| (1..=MAX_GAP_NS).contains(&(cur.read_at_ns - p.read_at_ns)))?;
        let point = to_point(Some(&prev), cur);
        track.history.push(point, fine);
        Some(point)
    }

    /// Adds a reading of the host, with the sums of the `running` containers' latest points.
    fn record_host(
        &mut self,
        reading: HostReading,
        running: &[Target],
        fine: bool,
    ) -> Option<HostPoint> {
        let prev = self.host.last.replace(reading);
        let prev =
            prev.filter(|p| (1..=MAX_GAP_NS).contains(&(reading.read_at_ns - p.read_at_ns)))?;
        let time_ms = reading.read_at_ns / 1_000_000;
        let (mut cpu, mut memory) = (0.0, 0u64);
        for target in running {
            let latest = self
                .containers
                .get(&target.id)
                .and_then(|t| t.history.latest());
            if let Some(p) = latest.filter(|p| time_ms - p.time_ms <= SUM_MAX_AGE_MS) {
                cpu += p.cpu_percent;
                memory += p.memory_bytes;
            }
        }
        let point = HostPoint {
            time_ms,
            cpu_percent: host::cpu_percent(&prev, &reading),
            online_cpus: reading.online_cpus,
            memory_used_bytes: reading.memory_used_bytes(),
            memory_total_bytes: reading.memory_total_bytes,
            containers_running: running.len() as u32,
            containers_cpu_percent: cpu,
            containers_memory_bytes: memory,
        };
        self.host.history.push(point, fine);
        Some(point)
    }

    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }
}

/// Moves the hub's tick when dropped. Declared before the state's guard, it drops after it
/// (locals drop in reverse order): a woken viewer finds the points sent and the lock free.
struct Tick<'a>(&'a watch::Sender<u64>);

impl Drop for Tick<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.wrapping_add(1));
    }
}

fn interval(every: Duration) -> tokio::time::Interval {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

/// Every tick while any container is watched: ends the samplers whose linger is over, then
/// one blocking job reads the host once and every watched container against it, and one lock
/// records and sends the points. One task and one job a tick however many containers are
/// watched (a task and a job per container cost 500 watched containers 15 % of a core).
async fn watched_pass(hub: Weak<HubInner>, tick: Duration) {
    let mut ticks = interval(tick);
    loop {
        ticks.tick().await;
        let Some(h) = hub.upgrade() else { return };
        let (source, targets) = {
            let mut state = h.lock();
            let linger = h.config.linger;
            state.samplers.retain(|_, s| !s.expired(linger));
            if state.samplers.is_empty() {
                // The next subscription starts a new pass (under this same lock).
                state.watched = None;
                return;
            }
            let targets: Vec<(Target, u64)> = state
                .samplers
                .values()
                .filter_map(|s| s.target.clone().map(|t| (t, s.serial)))
                .collect();
            (h.source.clone(), targets)
        };
        drop(h);
        let read = tokio::task::spawn_blocking(move || {
            let host = source.host()?;
            let results: Vec<(String, u64, Result<Sample, StatsError>)> = targets
                .into_iter()
                .map(|(t, serial)| {
                    let sample = source.sample(&t, &host);
                    (t.id, serial, sample)
                })
                .collect();
            Ok::<_, StatsError>(results)
        })
        .await;
        let Some(h) = hub.upgrade() else { return };
        let results = match read {
            Ok(Ok(results)) => results,
            Ok(Err(e)) => {
                tracing::warn!("stats of watched containers: {e}");
                continue;
            }
            Err(e) => {
                tracing::warn!("stats of watched containers: {e}");
                continue;
            }
        };
        let _ticked = Tick(&h.ticks);
        let mut state = h.lock();
        for (id, serial, result) in results {
            // Stopped, forgotten or started anew meanwhile: not this reading's any more.
            if state.samplers.get(&id).is_none_or(|s| s.serial != serial) {
                continue;
            }
            match result {
                Ok(sample) => {
                    if let Some(point) = state.record(&id, sample, true) {
                        let _ = state.samplers[&id].tx.send(point);
                    }
                }
                Err(e) => {
                    tracing::debug!(container = %id, "stats sampler ends: {e}");
                    state.samplers.remove(&id);
                }
            }
        }
    }
}

/// The host's sampler, while the host is watched.
async fn host_sampler(hub: Weak<HubInner>, serial: u64, tick: Duration) {
    let mut ticks = interval(tick);
    loop {
        ticks.tick().await;
        let source = match hub.upgrade() {
            Some(h) if h.keep_host(serial) => h.source.clone(),
            _ => return,
        };
        let running = source.running().await;
        let read = {
            let source = source.clone();
            tokio::task::spawn_blocking(move || source.host()).await
        };
        let Some(hub) = hub.upgrade() else { return };
        let mut state = hub.lock();
        if state
            .host_sampler
            .as_ref()
            .is_none_or(|s| s.serial != serial)
        {
            return;
        }
        match read {
            Ok(Ok(reading)) => {
                if let Some(point) = state.record_host(reading, &running, true) {
                    if let Some(slot) = &state.host_sampler {
                        let _ = slot.tx.send(point);
                    }
                }
            }
            Ok(Err(e)) => tracing::warn!("host stats: {e}"),
            Err(e) => tracing::warn!("host stats: {e}"),
        }
    }
}

/// Every `every`: one blocking job reads the host once and every running container that no
/// sampler watches, then one lock records them all.
async fn background_pass(hub: Weak<HubInner>, every: Duration) {
    let mut ticks = interval(every);
    loop {
        ticks.tick().await;
        let Some(source) = hub.upgrade().map(|h| h.source.clone()) else {
            return;
        };
        let running = source.running().await;
        let Some(h) = hub.upgrade() else { return };
        let unwatched: Vec<Target> = {
            let state = h.lock();
            running
                .iter()
                .filter(|t| !state.samplers.contains_key(&t.id))
                .cloned()
                .collect()
        };
        drop(h);
        let read = tokio::task::spawn_blocking(move || {
            let host = source.host()?;
            let samples: Vec<(String, Sample)> = unwatched
                .into_iter()
                .filter_map(|t| match source.sample(&t, &host) {
                    Ok(s) => Some((t.id, s)),
                    // Stopped between the listing and the read, most likely.
                    Err(e) => {
                        tracing::debug!(container = %t.id, "stats: {e}");
                        None
                    }
                })
                .collect();
            Ok::<_, StatsError>((host, samples))
        })
        .await;
        let Some(h) = hub.upgrade() else { return };
        let (host, samples) = match read {
            Ok(Ok(read)) => read,
            Ok(Err(e)) => {
                tracing::warn!("stats background pass: {e}");
                continue;
            }
            Err(e) => {
                tracing::warn!("stats background pass: {e}");
                continue;
            }
        };
        let mut state = h.lock();
        for (id, sample) in samples {
            // A sampler started meanwhile has the container now.
            if !state.samplers.contains_key(&id) {
                state.record(&id, sample, false);
            }
        }
        if state.host_sampler.is_none() {
            state.record_host(host, &running, false);
        }
    }
}

impl StatsHub {
    pub fn new(source: Arc<dyn StatsSource>, config: HubConfig) -> Self {
        Self {
            inner: Arc::new(HubInner {
                source,
                config,
                state: Mutex::default(),
                ticks: watch::Sender::new(0),
            }),
        }
    }

    /// Moves each time watched containers' points have been sent or a sampler has ended:
    /// a viewer of many containers waits on this, then polls its subscriptions with
    /// [`Subscription::try_recv`] (one task and one message per tick instead of one each).
    pub fn ticks(&self) -> watch::Receiver<u64> {
        self.inner.ticks.subscribe()
    }

    /// Starts the background pass (once; inside a tokio runtime). Its first pass is now.
    pub fn start_background(&self) {
        let mut state = self.inner.lock();
        if state.background.is_none() {
            let task = tokio::spawn(background_pass(
                Arc::downgrade(&self.inner),
                self.inner.config.background,
            ));
            state.background = Some(Task(task.abort_handle()));
        }
    }

    /// Watches a running container (inside a tokio runtime): its sampler starts unless one
    /// runs. The subscription's history is this container's so far.
    pub fn subscribe(&self, target: Target) -> StatsSubscription {
        let mut state = self.inner.lock();
        let state = &mut *state;
        if !state.samplers.contains_key(&target.id) {
            let serial = state.next_serial();
            state.starts += 1;
            state.samplers.insert(
                target.id.clone(),
                Slot {
                    serial,
                    viewers: 0,
                    idle_since: None,
                    tx: broadcast::channel(CHANNEL).0,
                    target: Some(target.clone()),
                    _task: None,
                },
            );
        }
        if state.watched.is_none() {
            let task = tokio::spawn(watched_pass(
                Arc::downgrade(&self.inner),
                self.inner.config.tick,
            ));
            state.watched = Some(Task(task.abort_handle()));
        }
        let slot = state.samplers.get_mut(&target.id).expect("inserted above");
        slot.viewers += 1;
        slot.idle_since = None;
        let (serial, rx) = (slot.serial, slot.tx.subscribe());
        let history = state
            .containers
            .get(&target.id)
            .map(|t| t.history.points())
            .unwrap_or_default();
        Subscription {
            key: Key::Container(target.id),
            serial,
            rx,
            hub: Arc::downgrade(&self.inner),
            history,
        }
    }

    /// Watches the host totals (inside a tokio runtime).
    pub fn subscribe_host(&self) -> HostSubscription {
        let mut state = self.inner.lock();
        let state = &mut *state;
        if state.host_sampler.is_none() {
            let serial = state.next_serial();
            let task = tokio::spawn(host_sampler(
                Arc::downgrade(&self.inner),
                serial,
                self.inner.config.tick,
            ));
            state.host_sampler = Some(Slot {
                serial,
                viewers: 0,
                idle_since: None,
                tx: broadcast::channel(CHANNEL).0,
                target: None,
                _task: Some(Task(task.abort_handle())),
            });
        }
        let slot = state.host_sampler.as_mut().expect("set above");
        slot.viewers += 1;
        slot.idle_since = None;
        Subscription {
            key: Key::Host,
            serial: slot.serial,
            rx: slot.tx.subscribe(),
            hub: Arc::downgrade(&self.inner),
            history: state.host.history.points(),
        }
    }

    /// Container samplers running (lingering ones included; not the host's).
    pub fn sampler_count(&self) -> usize {
        self.inner.lock().samplers.len()
    }

    /// Container samplers started since the hub was made (a counter for `/metrics`).
    pub fn sampler_starts(&self) -> u64 {
        self.inner.lock().starts
    }

    /// Subscriptions to this container's sampler (0 when none runs or it lingers).
    pub fn viewers(&self, id: &str) -> usize {
        self.inner.lock().samplers.get(id).map_or(0, |s| s.viewers)
    }

    /// Subscriptions to the host totals.
    pub fn host_viewers(&self) -> usize {
        self.inner
            .lock()
            .host_sampler
            .as_ref()
            .map_or(0, |s| s.viewers)
    }

    /// Whether the host's 1 s sampler runs.
    pub fn host_sampler_running(&self) -> bool {
        self.inner.lock().host_sampler.is_some()
    }

    /// Containers with a history.
    pub fn tracked(&self) -> usize {
        self.inner.lock().containers.len()
    }

    /// Bytes the histories' buffers hold (containers and host).
    pub fn history_bytes(&self) -> usize {
        let state = self.inner.lock();
        state
            .containers
            .values()
            .map(|t| t.history.heap_bytes())
            .sum::<usize>()
            + state.host.history.heap_bytes()
    }

    /// A container's last hour, oldest first (empty if it was never read).
    pub fn history(&self, id: &str) -> Vec<StatsPoint> {
        self.inner
            .lock()
            .containers
            .get(id)
            .map(|t| t.history.points())
            .unwrap_or_default()
    }

    pub fn host_history(&self) -> Vec<HostPoint> {
        self.inner.lock().host.history.points()
    }

    /// The newest point of a container and the reading it was made from.
    pub fn latest(&self, id: &str) -> Option<(StatsPoint, Sample)> {
        let state = self.inner.lock();
        let track = state.containers.get(id)?;
        let sample = track.last.clone()?;
        let point = *track.history.latest()?;
        (point.time_ms == sample.read_at_ns / 1_000_000).then_some((point, sample))
    }

    /// The last reading of a container (the base of the next CPU %).
    pub fn last_sample(&self, id: &str) -> Option<Sample> {
        self.inner.lock().containers.get(id)?.last.clone()
    }

    /// Records a reading taken elsewhere (a one-off `stats` call), as a fine point; the point,
    /// unless it is the first.
    pub fn record(&self, id: &str, sample: Sample) -> Option<StatsPoint> {
        self.inner.lock().record(id, sample, true)
    }

    /// The container stopped: its sampler ends (its streams end) and its next reading starts
    /// CPU % afresh; its history stays.
    pub fn stopped(&self, id: &str) {
        let _ticked = Tick(&self.inner.ticks);
        let mut state = self.inner.lock();
        state.samplers.remove(id);
        if let Some(track) = state.containers.get_mut(id) {
            track.last = None;
        }
    }

    /// The container was removed: its sampler and its history go.
    pub fn forget(&self, id: &str) {
        let _ticked = Tick(&self.inner.ticks);
        let mut state = self.inner.lock();
        state.samplers.remove(id);
        state.containers.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const BASE_NS: i64 = 1_700_000_000_000_000_000;
    const MIB: u64 = 1 << 20;

    /// A host with 2 CPUs, half busy, 2 GiB of 8 used; every container uses half a CPU
    /// (50 %) and 100 MiB. Times follow tokio's (paused) clock.
    struct Fake {
        start: Instant,
        running: Mutex<Vec<Target>>,
        reads: Mutex<HashMap<String, u64>>,
        host_reads: std::sync::atomic::AtomicU64,
        failing: Mutex<HashSet<String>>,
    }

    impl Fake {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                start: Instant::now(),
                running: Mutex::default(),
                reads: Mutex::default(),
                host_reads: Default::default(),
                failing: Mutex::default(),
            })
        }
        fn elapsed_ns(&self) -> i64 {
            self.start.elapsed().as_nanos() as i64
        }
        fn reads(&self, id: &str) -> u64 {
            self.reads.lock().unwrap().get(id).copied().unwrap_or(0)
        }
        fn run(&self, ids: &[&str]) {
            *self.running.lock().unwrap() = ids.iter().map(|id| target(id)).collect();
        }
        fn fail(&self, id: &str) {
            self.failing.lock().unwrap().insert(id.into());
        }
    }

    impl StatsSource for Fake {
        fn running(&self) -> BoxFuture<'_, Vec<Target>> {
            Box::pin(async move { self.running.lock().unwrap().clone() })
        }
        fn host(&self) -> Result<HostReading, StatsError> {
            self.host_reads
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let e = self.elapsed_ns() as u64;
            Ok(HostReading {
                read_at_ns: BASE_NS + e as i64,
                system_cpu_ns: 1_000_000 + 2 * e,
                idle_cpu_ns: e,
                online_cpus: 2,
                memory_total_bytes: 8192 * MIB,
                memory_available_bytes: 6144 * MIB,
            })
        }
        fn sample(&self, target: &Target, host: &HostReading) -> Result<Sample, StatsError> {
            *self
                .reads
                .lock()
                .unwrap()
                .entry(target.id.clone())
                .or_default() += 1;
            if self.failing.lock().unwrap().contains(&target.id) {
                return Err(StatsError::NoController("cpuacct"));
            }
            Ok(Sample {
                read_at_ns: host.read_at_ns,
                cpu_usage_ns: self.elapsed_ns() as u64 / 2,
                system_cpu_ns: host.system_cpu_ns,
                online_cpus: host.online_cpus,
                memory_working_set_bytes: 100 * MIB,
                memory_limit_bytes: 1024 * MIB,
                pids: 2,
                ..Default::default()
            })
        }
    }

    fn target(id: &str) -> Target {
        Target {
            id: id.into(),
            cgroup_path: format!("berth/{id}"),
            pid: 1,
        }
    }

    fn hub(fake: &Arc<Fake>) -> StatsHub {
        StatsHub::new(fake.clone(), HubConfig::default())
    }

    async fn sleep_s(s: f64) {
        tokio::time::sleep(Duration::from_secs_f64(s)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn two_viewers_share_one_sampler_that_lingers_after_the_last_leaves() {
        let fake = Fake::new();
        let hub = hub(&fake);
        let mut a = hub.subscribe(target("c1"));
        let mut b = hub.subscribe(target("c1"));
        assert_eq!((hub.sampler_count(), hub.viewers("c1")), (1, 2));
        let mut times = Vec::new();
        for _ in 0..3 {
            let (pa, pb) = (a.recv().await.unwrap(), b.recv().await.unwrap());
            assert_eq!(pa, pb, "both viewers get the same points");
            assert!((pa.cpu_percent - 50.0).abs() < 1e-6, "{}", pa.cpu_percent);
            assert_eq!((pa.memory_bytes, pa.pids), (100 * MIB, 2));
            assert!((pa.memory_percent - 100.0 / 1024.0 * 100.0).abs() < 1e-9);
            times.push(pa.time_ms);
        }
        assert_eq!(
            times.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>(),
            [1000, 1000]
        );
        // One read a tick for both viewers: the first (at 0 s) only set the CPU base.
        assert_eq!(fake.reads("c1"), 4);
        assert_eq!(
            hub.history("c1")
                .iter()
                .map(|p| p.time_ms)
                .collect::<Vec<_>>(),
            times
        );

        drop(a);
        assert_eq!(hub.viewers("c1"), 1);
        drop(b);
        assert_eq!((hub.sampler_count(), hub.viewers("c1")), (1, 0));
        sleep_s(3.5).await;
        assert_eq!(hub.sampler_count(), 1, "lingering");
        sleep_s(2.0).await;
        assert_eq!(
            hub.sampler_count(),
            0,
            "stopped 5 s after the last viewer left"
        );
        let reads = fake.reads("c1");
        sleep_s(10.0).await;
        assert_eq!(fake.reads("c1"), reads, "no more reads");
        // Read while lingering at 4, 5, 6 and 7 s; at 8 s the linger was over.
        assert_eq!(hub.history("c1").len(), 3 + 4, "the history stays");
        assert_eq!(hub.sampler_starts(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn five_hundred_watched_containers_cost_one_host_read_a_tick() {
        let fake = Fake::new();
        let hub = hub(&fake);
        let ids: Vec<String> = (0..500).map(|i| format!("c{i}")).collect();
        let mut subs: Vec<_> = ids.iter().map(|id| hub.subscribe(target(id))).collect();
        for sub in &mut subs {
            sub.recv().await.expect("a point");
        }
        for sub in &mut subs {
            sub.recv().await.expect("a second point");
        }
        assert_eq!(hub.sampler_count(), 500);
        // Reads at 0, 1 and 2 s: each container three times, the host once per pass.
        assert!(ids.iter().all(|id| fake.reads(id) == 3));
        let host_reads = fake.host_reads.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(host_reads, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn one_task_polls_many_subscriptions_at_each_tick_and_sees_them_end() {
        let fake = Fake::new();
        let hub = hub(&fake);
        let mut ticks = hub.ticks();
        let mut subs: Vec<_> = ["c1", "c2", "c3"]
            .iter()
            .map(|id| hub.subscribe(target(id)))
            .collect();
        assert!(subs.iter_mut().all(|s| s.try_recv() == Polled::Empty));
        // The pass at 0 s only sets the CPU base; at 1 s each has its point when the tick moves.
        for _ in 0..2 {
            ticks.changed().await.unwrap();
        }
        for sub in &mut subs {
            let Polled::Point(p) = sub.try_recv() else {
                panic!("a point at the tick")
            };
            assert!((p.cpu_percent - 50.0).abs() < 1e-6);
            assert_eq!(sub.try_recv(), Polled::Empty, "one point a tick");
        }
        // A container that stops moves the tick at once (with no pass after it, a poller
        // would wait for ever), and only its subscription ends.
        hub.stopped("c2");
        tokio::time::timeout(Duration::from_millis(1), ticks.changed())
            .await
            .expect("the tick moved on the stop")
            .unwrap();
        assert_eq!(subs[1].try_recv(), Polled::Ended);
        assert_eq!(subs[0].try_recv(), Polled::Empty);
        ticks.changed().await.unwrap();
        assert!(matches!(subs[0].try_recv(), Polled::Point(_)));
        assert!(matches!(subs[2].try_recv(), Polled::Point(_)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reload_within_the_linger_keeps_the_sampler_and_gets_the_history() {
        let fake = Fake::new();
        let hub = hub(&fake);
        let mut a = hub.subscribe(target("c1"));
        assert!(a.history().is_empty());
        let first = a.recv().await.unwrap();
        drop(a);
        sleep_s(2.5).await;
        let mut again = hub.subscribe(target("c1"));
        assert_eq!((hub.sampler_starts(), hub.viewers("c1")), (1, 1));
        // The history so far (the point seen, and those read while lingering) …
        let history = again.take_history();
        assert_eq!(history.len(), 3);
        assert_eq!(history[0], first);
        // … and the stream continues it.
        let next = again.recv().await.unwrap();
        assert_eq!(next.time_ms - history[2].time_ms, 1000);
        sleep_s(30.0).await;
        assert_eq!(hub.sampler_count(), 1, "still watched");
    }

    #[tokio::test(start_paused = true)]
    async fn the_stream_ends_when_the_container_stops_or_cannot_be_read() {
        let fake = Fake::new();
        let hub = hub(&fake);
        let mut a = hub.subscribe(target("c1"));
        let mut b = hub.subscribe(target("c2"));
        assert_eq!(hub.sampler_count(), 2);
        a.recv().await.unwrap();
        b.recv().await.unwrap();
        hub.stopped("c1");
        assert_eq!(a.recv().await, None);
        assert_eq!(hub.sampler_count(), 1);
        assert!(
            !hub.history("c1").is_empty(),
            "a stopped container keeps its history"
        );
        fake.fail("c2");
        assert_eq!(b.recv().await, None);
        assert_eq!(hub.sampler_count(), 0);
        // Dropping the ended subscriptions touches no new sampler of the same container.
        let c = hub.subscribe(target("c1"));
        drop(a);
        assert_eq!(hub.viewers("c1"), 1);
        drop(c);
        hub.forget("c1");
        assert!(hub.history("c1").is_empty());
        assert_eq!(hub.sampler_count(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_background_pass_reads_the_unwatched_every_10_s_with_host_totals() {
        let fake = Fake::new();
        fake.run(&["c1", "c2", "c3"]);
        let hub = hub(&fake);
        let _watch = hub.subscribe(target("c1"));
        hub.start_background();
        sleep_s(24.5).await;
        // Passes at 0, 10 and 20 s: the first is the CPU base, so 2 points each.
        for id in ["c2", "c3"] {
            let h = hub.history(id);
            assert_eq!(h.len(), 2, "{id}");
            assert_eq!(h[1].time_ms - h[0].time_ms, 10_000);
            assert!((h[1].cpu_percent - 50.0).abs() < 1e-6);
        }
        assert_eq!(hub.sampler_count(), 1, "no task per container");
        assert_eq!(
            fake.reads("c1"),
            25,
            "the watched one is read by its sampler only"
        );
        assert_eq!(hub.history("c1").len(), 24);
        let host = hub.host_history();
        assert_eq!(host.len(), 2);
        let p = host[1];
        assert!((p.cpu_percent - 50.0).abs() < 1e-6, "{}", p.cpu_percent);
        assert_eq!(
            (p.memory_used_bytes, p.memory_total_bytes),
            (2048 * MIB, 8192 * MIB)
        );
        assert_eq!((p.containers_running, p.online_cpus), (3, 2));
        assert!((p.containers_cpu_percent - 150.0).abs() < 1e-6);
        assert_eq!(p.containers_memory_bytes, 300 * MIB);
        hub.start_background();
        sleep_s(10.0).await;
        assert_eq!(hub.history("c2").len(), 3, "one background pass, not two");
    }

    #[tokio::test(start_paused = true)]
    async fn the_host_is_sampled_every_second_while_watched() {
        let fake = Fake::new();
        fake.run(&["c1"]);
        let hub = hub(&fake);
        let mut a = hub.subscribe_host();
        let mut b = hub.subscribe_host();
        assert_eq!(hub.host_viewers(), 2);
        let (p1, p2) = (a.recv().await.unwrap(), a.recv().await.unwrap());
        assert_eq!(b.recv().await, Some(p1));
        assert_eq!(p2.time_ms - p1.time_ms, 1000);
        assert!((p2.cpu_percent - 50.0).abs() < 1e-6);
        assert_eq!(p2.containers_running, 1);
        assert_eq!(a.container_id(), None);
        drop((a, b));
        sleep_s(6.5).await;
        assert!(!hub.host_sampler_running());
        assert!(hub.host_history().len() >= 2);
    }

    #[tokio::test(start_paused = true)]
    async fn one_off_readings_make_points_from_the_second() {
        let fake = Fake::new();
        let hub = hub(&fake);
        let read = || fake.sample(&target("c1"), &fake.host().unwrap()).unwrap();
        assert_eq!(
            hub.record("c1", read()),
            None,
            "the first only sets the base"
        );
        assert!(hub.latest("c1").is_none());
        sleep_s(0.5).await;
        let p = hub.record("c1", read()).unwrap();
        assert!((p.cpu_percent - 50.0).abs() < 1e-6);
        let (latest, sample) = hub.latest("c1").unwrap();
        assert_eq!(latest, p);
        assert_eq!(hub.last_sample("c1"), Some(sample));
    }

    #[tokio::test(start_paused = true)]
    async fn an_hour_of_500_containers_stays_bounded() {
        let fake = Fake::new();
        let ids: Vec<String> = (0..500).map(|i| format!("c{i}")).collect();
        fake.run(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        let hub = hub(&fake);
        hub.start_background();
        sleep_s(2.0 * 3600.0).await;
        assert_eq!(hub.tracked(), 500);
        let h = hub.history("c7");
        assert_eq!(h.len(), 360, "an hour of 10 s points");
        assert!(h.last().unwrap().time_ms - h[0].time_ms < 3_600_000);
        let per = super::super::history::COARSE_LEN * std::mem::size_of::<StatsPoint>();
        assert!(
            hub.history_bytes() <= 500 * per + 2 * per,
            "{}",
            hub.history_bytes()
        );
    }
}
