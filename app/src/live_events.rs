//! The browser side of "the list changed" (hydrate only): an events subscription on the
//! daemon's one WebSocket (`/api/v1/ws`), which bumps a counter signal when events arrive, at
//! most every [`SETTLE`], so a page's list is fetched again after a change made anywhere (the
//! CLI, another tab, a restart policy) instead of by polling. A dropped connection is opened
//! again (1 s, doubling to 10 s) and bumps the counter once open: what happened meanwhile is
//! in the next fetch.

use crate::live_state::ConnState;
use crate::socket::Socket;
use berth_wire::ws::{ClientMsg, ServerMsg, StreamSpec};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

/// Events closer together than this make one refresh (a `run` is create, attach, start).
const SETTLE: Duration = Duration::from_millis(250);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// The events connection of a page; [`LiveEvents::close`] ends it.
pub struct LiveEvents {
    shared: Rc<Shared>,
}

impl LiveEvents {
    pub fn close(self) {
        self.shared.stopped.set(true);
        if let Some(conn) = self.shared.conn.borrow_mut().take() {
            conn.close();
        }
    }
}

struct Shared {
    changes: RwSignal<u64>,
    state: RwSignal<ConnState>,
    conn: RefCell<Option<Socket>>,
    /// A bump is scheduled.
    scheduled: Cell<bool>,
    /// A connection was open before: the next open is a reconnect (events may be missed).
    opened_before: Cell<bool>,
    retry: Cell<Duration>,
    stopped: Cell<bool>,
}

impl Shared {
    fn send(&self, msg: &ClientMsg) {
        if let Some(conn) = self.conn.borrow().as_ref() {
            conn.send(msg);
        }
    }

    fn changed(self: &Rc<Self>) {
        if self.scheduled.replace(true) {
            return;
        }
        let shared = Rc::clone(self);
        set_timeout(
            move || {
                shared.scheduled.set(false);
                if !shared.stopped.get() {
                    // The page may be gone already.
                    let _ = shared.changes.try_update(|n| *n += 1);
                }
            },
            SETTLE,
        );
    }

    fn reconnect_later(self: &Rc<Self>) {
        if self.stopped.get() {
            return;
        }
        let delay = self.retry.get();
        self.retry.set((delay * 2).min(LAST_RETRY));
        let shared = Rc::clone(self);
        set_timeout(
            move || {
                if !shared.stopped.get() {
                    if let Err(e) = open(&shared) {
                        leptos::logging::warn!("{e}");
                        shared.reconnect_later();
                    }
                }
            },
            delay,
        );
    }
}

/// Live events from now on (what came before is in the list already).
const SUBSCRIBE: ClientMsg = ClientMsg::Subscribe {
    id: 1,
    stream: StreamSpec::Events { cursor: None },
};

fn open(shared: &Rc<Shared>) -> Result<(), String> {
    let on_open = {
        let shared = Rc::clone(shared);
        move || {
            shared.send(&SUBSCRIBE);
            shared.retry.set(FIRST_RETRY);
            let _ = shared.state.try_set(ConnState::Live);
            if shared.opened_before.replace(true) {
                shared.changed();
            }
        }
    };
    let on_text = {
        let shared = Rc::clone(shared);
        move |text: String| match serde_json::from_str::<ServerMsg>(&text) {
            Ok(ServerMsg::Events { .. }) => shared.changed(),
            // Behind: subscribe again (live from now) and refresh for what was skipped.
            Ok(ServerMsg::Lagged { .. }) => {
                shared.changed();
                shared.send(&SUBSCRIBE);
            }
            Ok(_) => {}
            Err(e) => leptos::logging::warn!("unreadable message from the daemon: {e}"),
        }
    };
    let on_close = {
        let shared = Rc::clone(shared);
        move || {
            // Dropped on the next turn, not from inside its own handler.
            let old = shared.conn.borrow_mut().take();
            if !shared.stopped.get() {
                let _ = shared.state.try_set(ConnState::Reconnecting);
            }
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

/// Watches the daemon's events, bumping `changes` after each burst of them and keeping
/// `state` up to date.
pub fn connect(changes: RwSignal<u64>, state: RwSignal<ConnState>) -> Result<LiveEvents, String> {
    let shared = Rc::new(Shared {
        changes,
        state,
        conn: RefCell::new(None),
        scheduled: Cell::new(false),
        opened_before: Cell::new(false),
        retry: Cell::new(FIRST_RETRY),
        stopped: Cell::new(false),
    });
    open(&shared)?;
    Ok(LiveEvents { shared })
}
