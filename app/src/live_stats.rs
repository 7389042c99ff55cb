//! The browser side of a container's Stats tab (hydrate only): a stats subscription on the
//! daemon's WebSocket (`/api/v1/ws`): its first message is the container's last hour, then a
//! point a second. A dropped connection is opened again (1 s, doubling to 10 s) and subscribes
//! again; the history it gets then fills the gap, and [`StatsSeries::extend`] keeps each point
//! once.

use crate::socket::Socket;
use crate::stats_series::{StatsSeries, StatsStatus};
use berth_wire::ws::{ClientMsg, EndReason, ServerMsg, StreamSpec};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// An open stats connection; [`LiveStats::close`] ends it.
pub struct LiveStats {
    shared: Rc<Shared>,
}

impl LiveStats {
    pub fn close(self) {
        self.shared.stopped.set(true);
        if let Some(conn) = self.shared.conn.borrow_mut().take() {
            conn.close();
        }
    }
}

struct Shared {
    container: String,
    series: RwSignal<StatsSeries>,
    status: RwSignal<StatsStatus>,
    conn: RefCell<Option<Socket>>,
    sub: Cell<u32>,
    retry: Cell<Duration>,
    stopped: Cell<bool>,
}

impl Shared {
    fn subscribe(&self) -> ClientMsg {
        ClientMsg::Subscribe {
            id: self.sub.get(),
            stream: StreamSpec::Stats {
                container: self.container.clone(),
            },
        }
    }

    fn send(&self, msg: &ClientMsg) {
        if let Some(conn) = self.conn.borrow().as_ref() {
            conn.send(msg);
        }
    }

    fn on_message(&self, msg: ServerMsg) {
        let id = self.sub.get();
        match msg {
            ServerMsg::Stats { updates, .. } => {
                let points: Vec<_> = updates
                    .into_iter()
                    .filter(|u| u.id == id)
                    .flat_map(|u| u.points)
                    .collect();
                if !points.is_empty() {
                    self.retry.set(FIRST_RETRY);
                    let _ = self.series.try_update(|s| s.extend(points));
                }
            }
            ServerMsg::Lagged { id: lagged, .. } if lagged == id => {
                self.sub.set(id + 1);
                self.send(&self.subscribe());
            }
            ServerMsg::End {
                id: ended,
                reason: EndReason::Finished,
                ..
            } if ended == id => {
                self.stopped.set(true);
                let _ = self.status.try_set(StatsStatus::Stopped);
            }
            ServerMsg::Error {
                id: Some(failed),
                message,
                ..
            } if failed == id => {
                self.stopped.set(true);
                let _ = self.status.try_set(StatsStatus::Failed(message));
            }
            _ => {}
        }
    }

    fn reconnect_later(self: &Rc<Self>) {
        if self.stopped.get() {
            return;
        }
        let _ = self.status.try_set(StatsStatus::Reconnecting);
        let delay = self.retry.get();
        self.retry.set((delay * 2).min(LAST_RETRY));
        let shared = Rc::clone(self);
        set_timeout(
            move || {
                if !shared.stopped.get() {
                    if let Err(e) = open(&shared) {
                        let _ = shared.status.try_set(StatsStatus::Failed(e));
                    }
                }
            },
            delay,
        );
    }
}

fn open(shared: &Rc<Shared>) -> Result<(), String> {
    let on_open = {
        let shared = Rc::clone(shared);
        move || {
            shared.send(&shared.subscribe());
            let _ = shared.status.try_set(StatsStatus::Live);
        }
    };
    let on_text = {
        let shared = Rc::clone(shared);
        move |text: String| match serde_json::from_str::<ServerMsg>(&text) {
            Ok(msg) => shared.on_message(msg),
            Err(e) => leptos::logging::warn!("unreadable message from the daemon: {e}"),
        }
    };
    let on_close = {
        let shared = Rc::clone(shared);
        move || {
            // Dropped on the next turn, not from inside its own handler.
            let old = shared.conn.borrow_mut().take();
            let shared = Rc::clone(&shared);
            set_timeout(
                move || {
                    if let Some(old) = old {
                        old.close();
                    }
                    shared.reconnect_later();
                },
                Duration::ZERO,
            );
        }
    };
    let conn = Socket::open("/api/v1/ws", on_open, on_text, on_close)?;
    if let Some(old) = shared.conn.borrow_mut().replace(conn) {
        old.close();
    }
    Ok(())
}

/// Follows container `id`'s stats into `series`, reporting to `status`.
pub fn connect(
    id: &str,
    series: RwSignal<StatsSeries>,
    status: RwSignal<StatsStatus>,
) -> Result<LiveStats, String> {
    let shared = Rc::new(Shared {
        container: id.to_string(),
        series,
        status,
        conn: RefCell::new(None),
        sub: Cell::new(1),
        retry: Cell::new(FIRST_RETRY),
        stopped: Cell::new(false),
    });
    open(&shared)?;
    Ok(LiveStats { shared })
}
