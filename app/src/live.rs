//! The browser side of a container's live log (hydrate only): a WebSocket to the daemon whose
//! lines are batched into the page at most ten times a second, less often when the log is fast.

use crate::logbuf::{flush_delay, LogBuffer, LogStatus, WireLine, WsMessage, MAX_LINES};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// An open log connection; dropping it does not close it, [`LiveLog::close`] does.
pub struct LiveLog {
    socket: WebSocket,
    _on_open: Closure<dyn FnMut()>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut()>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl LiveLog {
    /// Detaches the handlers and closes the socket.
    pub fn close(self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onerror(None);
        self.socket.set_onclose(None);
        // Closing an already closed socket is not an error worth reporting.
        let _ = self.socket.close();
    }
}

/// The log WebSocket's address for container `id` on the page's own origin.
fn ws_url(id: &str) -> Result<String, JsValue> {
    let location = window().location();
    let scheme = if location.protocol()? == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    let host = location.host()?;
    let id: String = js_sys::encode_uri_component(id).into();
    Ok(format!(
        "{scheme}//{host}/api/v1/containers/{id}/logs/ws?tail={MAX_LINES}"
    ))
}

/// Lines received but not yet put on the page.
#[derive(Default)]
struct Pending {
    lines: RefCell<Vec<WireLine>>,
    scheduled: Cell<bool>,
    /// How many lines the last flush put on the page; a fast log is flushed less often.
    last_batch: Cell<usize>,
}

impl Pending {
    fn push(&self, lines: Vec<WireLine>) {
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

/// Opens the live log of container `id`, appending to `log` and reporting to `status`.
pub fn connect(
    id: &str,
    log: RwSignal<LogBuffer>,
    status: RwSignal<LogStatus>,
) -> Result<LiveLog, String> {
    let url = ws_url(id).map_err(|e| format!("cannot build the log address: {e:?}"))?;
    let socket =
        WebSocket::new(&url).map_err(|e| format!("cannot open the log connection: {e:?}"))?;
    let pending = Rc::new(Pending::default());

    let on_open = Closure::<dyn FnMut()>::new(move || {
        let _ = status.try_set(LogStatus::Live);
    });

    let on_message = {
        let pending = Rc::clone(&pending);
        Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(text) = event.data().as_string() else {
                return;
            };
            match WsMessage::parse(&text) {
                Ok(WsMessage::Lines { lines }) => {
                    pending.push(lines);
                    if !pending.scheduled.replace(true) {
                        let pending = Rc::clone(&pending);
                        let delay = flush_delay(pending.last_batch.get());
                        set_timeout(move || pending.flush(log), delay);
                    }
                }
                Ok(WsMessage::Exit { exit_code }) => {
                    pending.flush(log);
                    let _ = status.try_set(LogStatus::Exited(exit_code));
                }
                Err(e) => leptos::logging::warn!("{e}"),
            }
        })
    };

    let on_error = Closure::<dyn FnMut()>::new(move || {
        let _ = status.try_update(|s| {
            if matches!(s, LogStatus::Connecting) {
                *s = LogStatus::Failed("the log stream could not be opened".to_string());
            }
        });
    });

    let on_close = {
        let pending = Rc::clone(&pending);
        Closure::<dyn FnMut(CloseEvent)>::new(move |_event: CloseEvent| {
            pending.flush(log);
            let _ = status.try_update(|s| {
                if matches!(s, LogStatus::Live | LogStatus::Connecting) {
                    *s = LogStatus::Closed;
                }
            });
        })
    };

    socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    Ok(LiveLog {
        socket,
        _on_open: on_open,
        _on_message: on_message,
        _on_error: on_error,
        _on_close: on_close,
    })
}
