//! A connection's stats subscriptions: not a task each, but one group that one task polls at
//! each of the hub's ticks, sending the new points of all of them as one message (a viewer of
//! 128 containers: one wake-up and one frame a second, not 128).

use super::outbox::Outbox;
use berth_engine::stats::{Polled, StatsSubscription};
use berth_engine::Engine;
use berth_wire::ws::{EndReason, ServerMsg, StatsUpdate};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::task::{AbortHandle, JoinHandle};

type Subs = Arc<Mutex<HashMap<u32, StatsSubscription>>>;

/// The stats subscriptions by id, and the task polling them (from the first subscription).
/// Dropping it ends the task and releases every viewer at once.
#[derive(Default)]
pub(super) struct StatsGroup {
    subs: Subs,
    ticking: Option<JoinHandle<()>>,
}

fn lock(subs: &Subs) -> MutexGuard<'_, HashMap<u32, StatsSubscription>> {
    subs.lock().unwrap_or_else(|e| e.into_inner())
}

impl StatsGroup {
    /// Starts subscription `id` to `container`'s stats; the handle is its setup's.
    pub(super) fn subscribe(
        &mut self,
        engine: &Engine,
        id: u32,
        container: String,
        out: &Outbox,
    ) -> AbortHandle {
        if self.ticking.is_none() {
            let ticks = poll_ticks(engine.clone(), self.subs.clone(), out.clone());
            self.ticking = Some(tokio::spawn(ticks));
        }
        let setup = setup(
            engine.clone(),
            id,
            container,
            out.clone(),
            self.subs.clone(),
        );
        tokio::spawn(setup).abort_handle()
    }

    /// Whether subscription `id` is set up and has not ended.
    pub(super) fn contains(&self, id: u32) -> bool {
        lock(&self.subs).contains_key(&id)
    }

    /// Ends subscription `id`. Under the group's lock: a message with its points went before.
    pub(super) fn remove(&self, id: u32) {
        lock(&self.subs).remove(&id);
    }
}

impl Drop for StatsGroup {
    fn drop(&mut self) {
        if let Some(task) = &self.ticking {
            task.abort();
        }
        lock(&self.subs).clear();
    }
}

/// Subscribes to a container's stats, sends its history and hands the subscription to the
/// connection's group.
async fn setup(engine: Engine, id: u32, container: String, out: Outbox, group: Subs) {
    let mut sub = match engine.containers().stats_subscribe(&container).await {
        Ok(sub) => sub,
        Err(e) => return out.engine_error(id, e),
    };
    let points = sub.take_history();
    let samplers = engine.containers().stats_hub().sampler_count() as u32;
    // Under the group's lock, so no tick's message overtakes the history.
    let mut group = lock(&group);
    let history = ServerMsg::Stats {
        updates: vec![StatsUpdate { id, points }],
        samplers,
    };
    if out.try_push(&history) {
        group.insert(id, sub);
    } else {
        out.control(&ServerMsg::Lagged { id, resume: None });
    }
}

/// At each hub tick: the new points of every stats subscription of the connection, in one
/// message; `End` for those whose container stopped. A message that does not fit pauses all
/// the subscriptions in it (`Lagged`), as a producer's would.
async fn poll_ticks(engine: Engine, group: Subs, out: Outbox) {
    let mut ticks = engine.containers().stats_hub().ticks();
    while ticks.changed().await.is_ok() {
        let mut subs = lock(&group);
        let mut updates = Vec::new();
        let mut ended = Vec::new();
        for (&id, sub) in subs.iter_mut() {
            let mut points = Vec::new();
            loop {
                match sub.try_recv() {
                    Polled::Point(p) => points.push(p),
                    Polled::Empty => break,
                    Polled::Ended => {
                        ended.push(id);
                        break;
                    }
                }
            }
            if !points.is_empty() {
                updates.push(StatsUpdate { id, points });
            }
        }
        if !updates.is_empty() {
            updates.sort_by_key(|u| u.id);
            let ids: Vec<u32> = updates.iter().map(|u| u.id).collect();
            let msg = ServerMsg::Stats {
                updates,
                samplers: engine.containers().stats_hub().sampler_count() as u32,
            };
            if !out.try_push(&msg) {
                for id in ids {
                    subs.remove(&id);
                    out.control(&ServerMsg::Lagged { id, resume: None });
                }
            }
        }
        ended.sort_unstable();
        for id in ended {
            if subs.remove(&id).is_some() {
                out.control(&ServerMsg::End {
                    id,
                    reason: EndReason::Finished,
                    exit_code: None,
                });
            }
        }
    }
}
