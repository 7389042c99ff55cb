//! The browser side of a container's live log (hydrate only): a logs subscription on the
//! daemon's one WebSocket (`/api/v1/ws`, messages typed by `berth_wire::ws`), whose lines are
//! batched into the page at most ten times a second, less often when the log is fast.
//!
//! A dropped connection is opened again (after 1 s, then up to 10 s apart) and a lagged
//! subscription taken up again, both from the cursor of the last line received: the page
//! gets every line once, with no gap and no repeat.

use crate::logbuf::{flush_delay, LogBuffer, LogStatus, MAX_LINES};
use crate::socket::Socket;
use berth_wire::ws::{
    ClientMsg, Cursor, EndReason, LogCursor, LogLine, LogsSpec, ServerMsg, StreamSpec,
};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(10);

/// An open log connection; dropping it does not close it, [`LiveLog::close`] does.
pub struct LiveLog {
    shared: Rc<Shared>,
}

impl LiveLog {
    /// Closes the connection for good.
    pub fn close(self) {
        self.shared.stopped.set(true);
        if let Some(conn) = self.shared.conn.borrow_mut().take() {
            conn.close();
        }
    }
}

/// What the connections of one log view share.
struct Shared {
    container: String,
    log: RwSignal<LogBuffer>,
    status: RwSignal<LogStatus>,
    pending: Pending,
    conn: RefCell<Option<Socket>>,
    /// The subscription whose messages are taken (a resubscription gets a new id, so a late
    /// message of the old one is ignored).
    sub: Cell<u32>,
    /// Where the last line received ends.
    last: Cell<Option<LogCursor>>,
    retry: Cell<Duration>,
    /// The container exited, the view was closed, or the daemon refused: no reconnect.
    stopped: Cell<bool>,
}

/// Lines received but not yet put on the page.
#[derive(Default)]
struct Pending {
    lines: RefCell<Vec<LogLine>>,
    scheduled: Cell<bool>,
    /// How many lines the last flush put on the page; a fast log is flushed less often.
    last_batch: Cell<usize>,
}

impl Pending {
    fn push(&self, lines: Vec<LogLine>) {
        let mut pending = self.lines.borrow_mut();
        pending.extend(lines);
        // A hidden tab's timers are slowed down: keep no more than the page would show.
        if pending.len() > MAX_LINES {
            let excess = pending.len() - MAX_LINES;
            pending.drain(..excess);
        }
    }

    fn flush(&self, log: RwSignal<LogBuffer>) {
        self.scheduled.set(false);
        let batch = std::mem::take(&mut *self.lines.borrow_mut());
        self.last_batch.set(batch.len());
        if !batch.is_empty() {
            // The page may be gone already; then there is nothing to update.
            let _ = log.try_update(|b| b.extend(batch));
        }
    }
}

impl Shared {
    /// The subscription for the lines after the last one received (the last screenful
    /// first, when nothing was received yet).
    fn subscribe(&self) -> ClientMsg {
        let resume = self.last.get();
        ClientMsg::Subscribe {
            id: self.sub.get(),
            stream: StreamSpec::Logs(LogsSpec {
                container: self.container.clone(),
                tail: resume.is_none().then_some(MAX_LINES as u32),
                since_ms: None,
                until_ms: None,
                stdout: true,
                stderr: true,
                resume,
            }),
        }
    }

    fn send(&self, msg: &ClientMsg) {
        if let Some(conn) = self.conn.borrow().as_ref() {
            conn.send(msg);
        }
    }

    fn on_message(self: &Rc<Self>, msg: ServerMsg) {
        match msg {
            ServerMsg::Logs { id, lines } if id == self.sub.get() => {
                if let Some(last) = lines.last() {
                    self.last.set(Some(last.cursor));
                }
                self.retry.set(FIRST_RETRY);
                self.pending.push(lines);
                if !self.pending.scheduled.replace(true) {
                    let shared = Rc::clone(self);
                    let delay = flush_delay(self.pending.last_batch.get());
                    set_timeout(move || shared.pending.flush(shared.log), delay);
                }
            }
            ServerMsg::Lagged { id, resume } if id == self.sub.get() => {
                // The daemon's cursor is the last line it queued, which is the last one
                // received here too; take the later of the two, to be sure.
                if let Some(Cursor::Log(cursor)) = resume {
                    self.last.set(self.last.get().max(Some(cursor)));
                }
                self.sub.set(self.sub.get() + 1);
                self.send(&self.subscribe());
            }
            ServerMsg::End {
                id,
                reason: EndReason::Finished,
                exit_code,
            } if id == self.sub.get() => {
                self.stopped.set(true);
                self.pending.flush(self.log);
                let status = match exit_code {
                    Some(code) => LogStatus::Exited(code),
                    None => LogStatus::Closed,
                };
                let _ = self.status.try_set(status);
            }
            ServerMsg::Error {
                id: Some(id),
                message,
                ..
            } if id == self.sub.get() => {
                self.stopped.set(true);
                let _ = self.status.try_set(LogStatus::Failed(message));
            }
            _ => {}
        }
    }

    /// After a dropped connection: wait, then open a new one that resumes.
    fn reconnect_later(self: &Rc<Self>) {
        if self.stopped.get() {
            return;
        }
        let _ = self.status.try_set(LogStatus::Reconnecting);
        let delay = self.retry.get();
        self.retry.set((delay * 2).min(LAST_RETRY));
        let shared = Rc::clone(self);
        set_timeout(
            move || {
                if !shared.stopped.get() {
                    if let Err(e) = open(&shared) {
                        let _ = shared.status.try_set(LogStatus::Failed(e));
                    }
                }
            },
            delay,
        );
    }
}

/// Opens a connection for `shared`, replacing the old one.
fn open(shared: &Rc<Shared>) -> Result<(), String> {
    let on_open = {
        let shared = Rc::clone(shared);
        move || {
            shared.send(&shared.subscribe());
            let _ = shared.status.try_set(LogStatus::Live);
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
            shared.pending.flush(shared.log);
            // The handlers of this connection are dropped with it: not from inside one of
            // them, but on the next turn.
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

/// Opens the live log of container `id`, appending to `log` and reporting to `status`.
pub fn connect(
    id: &str,
    log: RwSignal<LogBuffer>,
    status: RwSignal<LogStatus>,
) -> Result<LiveLog, String> {
    let shared = Rc::new(Shared {
        container: id.to_string(),
        log,
        status,
        pending: Pending::default(),
        conn: RefCell::new(None),
        sub: Cell::new(1),
        last: Cell::new(None),
        retry: Cell::new(FIRST_RETRY),
        stopped: Cell::new(false),
    });
    open(&shared)?;
    Ok(LiveLog { shared })
}
