//! One subscriber: replays persisted events from its starting point, then follows the live
//! broadcast. It subscribes to the broadcast *before* reading the table and skips what it has
//! already sent, so nothing between replay and live is lost or repeated; when it lags behind
//! the broadcast it re-reads the missed events from the table.

use super::bus::{now_ns, EventBus};
use super::{store, Event, EventFilter};
use crate::Result;
use tokio::sync::{broadcast, mpsc};

/// Events read from the table per query.
const PAGE: u32 = 500;

/// Where a subscription starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Since {
    /// Events at or after this time (unix nanoseconds).
    Time(i64),
    /// Events after this sequence number (a client resuming where it stopped).
    After(u64),
}

#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Without it, only events from now on — unless `until` is set, which replays from the
    /// oldest kept event, as docker does.
    pub since: Option<Since>,
    /// Unix nanoseconds: the stream ends once it is past this time.
    pub until: Option<i64>,
    pub filter: EventFilter,
}

/// The subscriber's end: events in sequence order; `None` once `until` has passed; an error
/// (then the end) if the table could not be read.
pub struct EventStream {
    rx: mpsc::Receiver<Result<Event>>,
}

impl EventStream {
    pub async fn next(&mut self) -> Option<Result<Event>> {
        self.rx.recv().await
    }

    pub fn into_stream(self) -> impl futures::Stream<Item = Result<Event>> + Send + 'static {
        futures::stream::unfold(self, |mut s| async move { s.next().await.map(|e| (e, s)) })
    }
}

pub(super) fn start(bus: EventBus, query: EventQuery) -> EventStream {
    let (tx, rx) = mpsc::channel(256);
    // Subscribed before returning: every event emitted after `start` reaches the stream.
    let (live, head) = bus.subscribe();
    tokio::spawn(async move {
        let mut pump = Pump {
            bus,
            query,
            tx,
            sent: 0,
        };
        if let Err(e) = pump.run(live, head).await {
            let _ = pump.tx.send(Err(e)).await;
        }
    });
    EventStream { rx }
}

struct Pump {
    bus: EventBus,
    query: EventQuery,
    tx: mpsc::Sender<Result<Event>>,
    /// The last sequence number dealt with (sent or filtered out).
    sent: u64,
}

/// Why a pump stops early.
enum Flow {
    Go,
    Stop,
}

impl Pump {
    async fn run(
        &mut self,
        mut live: broadcast::Receiver<std::sync::Arc<Event>>,
        head: u64,
    ) -> Result<()> {
        let since_ns = match self.query.since {
            Some(Since::Time(ns)) => ns,
            _ => i64::MIN,
        };
        self.sent = match self.query.since {
            Some(Since::After(seq)) => seq,
            Some(Since::Time(_)) => 0,
            None if self.query.until.is_some() => 0,
            None => head,
        };
        if let Flow::Stop = self.replay(head, since_ns).await? {
            return Ok(());
        }
        let until = self.query.until;
        if until.is_some_and(|u| u <= now_ns()) {
            return Ok(());
        }
        let deadline = async move {
            match until {
                Some(u) => {
                    let wait = (u - now_ns()).max(0) as u64;
                    tokio::time::sleep(std::time::Duration::from_nanos(wait)).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::pin!(deadline);
        loop {
            let received = tokio::select! {
                r = live.recv() => r,
                () = &mut deadline => return Ok(()),
                () = self.tx.closed() => return Ok(()),
            };
            match received {
                Ok(event) => {
                    if let Flow::Stop = self.offer(&event).await {
                        return Ok(());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::debug!("an event subscriber lagged by {missed}; re-reading");
                    let head = self.bus.head();
                    if let Flow::Stop = self.replay(head, i64::MIN).await? {
                        return Ok(());
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return Ok(()),
            }
        }
    }

    /// Sends the persisted events after `self.sent` up to `head` (waiting for the writer to
    /// have stored them).
    async fn replay(&mut self, head: u64, since_ns: i64) -> Result<Flow> {
        if self.sent >= head {
            return Ok(Flow::Go);
        }
        self.bus.persisted(head).await;
        loop {
            let page = store::read(self.bus.db(), self.sent, head, since_ns, PAGE).await?;
            if page.is_empty() {
                // Nothing more is stored up to head (retention, or writes that failed).
                self.sent = self.sent.max(head);
                return Ok(Flow::Go);
            }
            for event in page {
                if let Flow::Stop = self.offer(&event).await {
                    return Ok(Flow::Stop);
                }
            }
        }
    }

    /// Sends one event unless already sent or filtered out; stops past `until` or when the
    /// subscriber has gone.
    async fn offer(&mut self, event: &Event) -> Flow {
        if event.seq <= self.sent {
            return Flow::Go;
        }
        if self.query.until.is_some_and(|u| event.time_nano > u) {
            return Flow::Stop;
        }
        self.sent = event.seq;
        let early = matches!(self.query.since, Some(Since::Time(ns)) if event.time_nano < ns);
        if early || !self.query.filter.matches(event) {
            return Flow::Go;
        }
        match self.tx.send(Ok(event.clone())).await {
            Ok(()) => Flow::Go,
            Err(_) => Flow::Stop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Scope;

    async fn bus() -> (tempfile::TempDir, EventBus) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open(&dir.path().join("berth.db")).await.unwrap();
        (dir, EventBus::open(db).await.unwrap())
    }

    async fn collect(stream: &mut EventStream, n: usize) -> Vec<Event> {
        let mut out = Vec::new();
        while out.len() < n {
            // A lost event would leave the stream silent: fail, never hang.
            let next = tokio::time::timeout(std::time::Duration::from_secs(30), stream.next())
                .await
                .unwrap_or_else(|_| panic!("only {} of {n} events arrived", out.len()));
            match next {
                Some(event) => out.push(event.unwrap()),
                None => break,
            }
        }
        out
    }

    fn emit_many(bus: &EventBus, from: usize, to: usize) {
        for i in from..to {
            bus.emit(
                Scope::Container,
                "start",
                &format!("c{i}"),
                &[("name", "x")],
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lagging_follower_rereads_and_loses_nothing() {
        let (_dir, bus) = bus().await;
        let mut stream = start(bus.clone(), EventQuery::default());
        // Subscribed before anything is emitted: a first event proves it.
        bus.emit(Scope::Image, "pull", "busybox:latest", &[]);
        assert_eq!(collect(&mut stream, 1).await[0].seq, 1);
        // Far more than the live buffer holds, while the follower reads nothing.
        emit_many(&bus, 0, 5000);
        let got = collect(&mut stream, 5000).await;
        let seqs: Vec<u64> = got.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (2..=5001).collect::<Vec<u64>>());
        assert_eq!(got[4999].actor.id, "c4999");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn replay_then_live_has_no_gap_and_no_duplicate() {
        let (_dir, bus) = bus().await;
        emit_many(&bus, 0, 300);
        let query = EventQuery {
            since: Some(Since::After(100)),
            ..Default::default()
        };
        let mut stream = start(bus.clone(), query);
        // Emitted while the stream replays: each must come exactly once, after the replay.
        emit_many(&bus, 300, 600);
        let seqs: Vec<u64> = collect(&mut stream, 500)
            .await
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, (101..=600).collect::<Vec<u64>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn until_in_the_past_ends_after_the_replay_and_filters_apply() {
        let (_dir, bus) = bus().await;
        emit_many(&bus, 0, 3);
        bus.emit(Scope::Container, "die", "c9", &[("exitCode", "3")]);
        let mut filter = EventFilter::default();
        filter.add("event", "die");
        let query = EventQuery {
            since: Some(Since::Time(0)),
            until: Some(now_ns()),
            filter,
        };
        let mut stream = start(bus.clone(), query);
        let got = collect(&mut stream, 10).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].actor.attributes["exitCode"], "3");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn numbering_continues_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db");
        {
            let bus = EventBus::open(crate::db::open(&path).await.unwrap())
                .await
                .unwrap();
            emit_many(&bus, 0, 10);
            bus.persisted(10).await;
        }
        let bus = EventBus::open(crate::db::open(&path).await.unwrap())
            .await
            .unwrap();
        bus.emit(Scope::Volume, "create", "v", &[]);
        let query = EventQuery {
            since: Some(Since::After(8)),
            until: Some(now_ns()),
            ..Default::default()
        };
        let seqs: Vec<u64> = collect(&mut start(bus, query), 10)
            .await
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, vec![9, 10, 11]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn recent_pages_back_newest_first_through_the_filter() {
        let (_dir, bus) = bus().await;
        emit_many(&bus, 0, 1200);
        bus.emit(Scope::Container, "die", "c-last", &[("exitCode", "1")]);
        let all = EventFilter::default();
        let newest = bus.recent(None, 3, &all).await.unwrap();
        let seqs: Vec<u64> = newest.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1201, 1200, 1199]);
        assert_eq!(newest[0].actor.id, "c-last");
        // The next page starts below the last one shown.
        let older = bus.recent(Some(1199), 2, &all).await.unwrap();
        assert_eq!(
            older.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1198, 1197]
        );
        // A filter looks further back than one batch to fill the page.
        let mut starts = EventFilter::default();
        starts.add("event", "start");
        let page = bus.recent(None, 2, &starts).await.unwrap();
        assert_eq!(
            page.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![1200, 1199]
        );
        let mut dies = EventFilter::default();
        dies.add("event", "die");
        let page = bus.recent(Some(1201), 5, &dies).await.unwrap();
        assert!(page.is_empty(), "{page:?}");
        assert!(bus.recent(Some(1), 5, &all).await.unwrap().is_empty());
    }
}
