//! The event bus: numbers and times each event under one lock (so the broadcast order is the
//! sequence order), sends it to live subscribers, and hands it to a background writer that
//! persists batches and reports how far it has got.

use super::{store, Actor, Event, Scope};
use crate::db::Db;
pub(super) use crate::logs::now_ns;
use crate::Result;
use std::sync::{Arc, Mutex};
use tokio::sync::{broadcast, mpsc, watch};

/// How many events a live subscriber may fall behind before it re-reads from the table.
const LIVE_BUFFER: usize = 1024;
/// Events written per transaction at most.
const BATCH: usize = 512;
/// Events read per query by [`EventBus::recent`], and the most it reads to fill a page.
const RECENT_BATCH: u32 = 500;
const RECENT_SCAN: usize = 20_000;
/// Retention runs after this many writes.
const PRUNE_EVERY: u64 = 4096;

#[derive(Clone)]
pub(crate) struct EventBus {
    inner: Arc<BusInner>,
}

struct BusInner {
    db: Db,
    clock: Mutex<Clock>,
    live: broadcast::Sender<Arc<Event>>,
    to_disk: mpsc::UnboundedSender<Arc<Event>>,
    /// The highest sequence number the writer has dealt with (written, or failed and logged).
    persisted: watch::Receiver<u64>,
}

struct Clock {
    /// The last sequence number given out.
    seq: u64,
    /// The last time given out: times never go backwards, even if the wall clock does.
    time_ns: i64,
}

impl EventBus {
    /// Opens the bus over the catalogue, continuing its numbering, and starts the writer
    /// (which ends when the bus is dropped).
    pub(crate) async fn open(db: Db) -> Result<EventBus> {
        let last = store::last_seq(&db).await?;
        if let Err(e) = store::prune(&db, last, now_ns()).await {
            tracing::warn!("event retention: {e}");
        }
        let (live, _) = broadcast::channel(LIVE_BUFFER);
        let (to_disk, queue) = mpsc::unbounded_channel();
        let (done, persisted) = watch::channel(last);
        tokio::spawn(write_events(db.clone(), queue, done));
        Ok(EventBus {
            inner: Arc::new(BusInner {
                db,
                clock: Mutex::new(Clock {
                    seq: last,
                    time_ns: 0,
                }),
                live,
                to_disk,
                persisted,
            }),
        })
    }

    pub(crate) fn emit(
        &self,
        scope: Scope,
        action: &str,
        actor_id: &str,
        attributes: &[(&str, &str)],
    ) {
        let mut clock = self.inner.clock.lock().unwrap_or_else(|e| e.into_inner());
        clock.seq += 1;
        clock.time_ns = now_ns().max(clock.time_ns);
        let event = Arc::new(Event {
            kind: scope,
            action: action.to_string(),
            actor: Actor {
                id: actor_id.to_string(),
                attributes: attributes
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            scope: "local".into(),
            time: clock.time_ns.div_euclid(1_000_000_000),
            time_nano: clock.time_ns,
            seq: clock.seq,
        });
        if self.inner.to_disk.send(event.clone()).is_err() {
            tracing::warn!(
                seq = event.seq,
                "the event writer has stopped; event not persisted"
            );
        }
        // No live subscriber is not an error.
        let _ = self.inner.live.send(event);
    }

    /// A live receiver and the last sequence number given out before it was subscribed:
    /// everything after that number reaches the receiver (or makes it lag).
    pub(super) fn subscribe(&self) -> (broadcast::Receiver<Arc<Event>>, u64) {
        let clock = self.inner.clock.lock().unwrap_or_else(|e| e.into_inner());
        (self.inner.live.subscribe(), clock.seq)
    }

    /// The last sequence number given out.
    pub(crate) fn head(&self) -> u64 {
        self.inner
            .clock
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seq
    }

    /// Waits until every event up to `seq` has been dealt with by the writer.
    pub(super) async fn persisted(&self, seq: u64) {
        let mut rx = self.inner.persisted.clone();
        // An error means the writer is gone: nothing more will be written, stop waiting.
        let _ = rx.wait_for(|&done| done >= seq).await;
    }

    /// Up to `limit` of the newest events before `before` (a sequence number; the newest of
    /// all without one) that `filter` matches, newest first: a page of the history, for lists
    /// that show the latest events and page back. Reads at most [`RECENT_SCAN`] events.
    pub(crate) async fn recent(
        &self,
        before: Option<u64>,
        limit: u32,
        filter: &super::EventFilter,
    ) -> Result<Vec<Event>> {
        let head = self.head();
        // What was given out so far is in the table first.
        self.persisted(head).await;
        let mut cursor = before.unwrap_or(u64::MAX).min(head.saturating_add(1));
        let mut found = Vec::new();
        let mut scanned = 0;
        while found.len() < limit as usize && scanned < RECENT_SCAN && cursor > 1 {
            let batch = store::read_back(&self.inner.db, cursor, RECENT_BATCH).await?;
            let Some(last) = batch.last() else { break };
            cursor = last.seq;
            scanned += batch.len();
            found.extend(batch.into_iter().filter(|e| filter.matches(e)));
        }
        found.truncate(limit as usize);
        Ok(found)
    }

    pub(super) fn db(&self) -> &Db {
        &self.inner.db
    }
}

/// The background writer: drains the queue in batches, one transaction each.
async fn write_events(
    db: Db,
    mut queue: mpsc::UnboundedReceiver<Arc<Event>>,
    done: watch::Sender<u64>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut since_prune = 0u64;
    while queue.recv_many(&mut batch, BATCH).await > 0 {
        let last = batch.last().map(|e| e.seq).unwrap_or(0);
        if let Err(e) = store::insert(&db, &batch).await {
            tracing::error!(
                "cannot persist events {}..={last}: {e}",
                batch.first().map(|e| e.seq).unwrap_or(0)
            );
        }
        since_prune += batch.len() as u64;
        batch.clear();
        done.send_replace(last);
        if since_prune >= PRUNE_EVERY {
            since_prune = 0;
            if let Err(e) = store::prune(&db, last, now_ns()).await {
                tracing::warn!("event retention: {e}");
            }
        }
    }
}
