//! The browser side of a container's Terminal tab (hydrate only): one terminal subscription on
//! its own WebSocket (`/api/v1/ws`): the command's output arrives as binary frames of the
//! subscription's id and goes into xterm.js; what the user types goes back as binary frames;
//! a new size of the terminal's box is a `resize`. The end of the command (its exit code), a
//! refusal (not running, not allowed, no such command) or a lost connection is reported to
//! the tab, which offers to connect again: a dropped terminal is not reopened by itself, as
//! its shell was hung up.

use crate::js::Terminal;
use crate::socket::Socket;
use crate::terminal_session::{Session, TermStatus};
use berth_wire::ws::{
    split_terminal_frame, terminal_frame, ClientMsg, EndReason, ServerMsg, StreamSpec,
};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use web_sys::HtmlElement;

/// The terminal of a tab and its current connection.
pub struct LiveTerminal {
    shared: Rc<Shared>,
}

struct Shared {
    term: RefCell<Option<Terminal>>,
    conn: RefCell<Option<Socket>>,
    status: RwSignal<TermStatus>,
    /// The subscription of the current connection (a new one for each connect).
    sub: Cell<u32>,
    /// The current connection is past its subscribe and not ended.
    live: Cell<bool>,
}

impl Shared {
    fn send(&self, msg: &ClientMsg) {
        if let Some(conn) = self.conn.borrow().as_ref() {
            conn.send(msg);
        }
    }

    fn size(&self) -> (u16, u16) {
        self.term
            .borrow()
            .as_ref()
            .map_or((24, 80), |t| (t.term.rows(), t.term.columns()))
    }

    fn write_note(&self, text: &str) {
        if let Some(t) = self.term.borrow().as_ref() {
            t.term.writeln(&format!("\r\n\x1b[2m{text}\x1b[0m"));
        }
    }

    fn end(&self, status: TermStatus) {
        self.live.set(false);
        if let Some(note) = status.note() {
            self.write_note(&note);
        }
        let _ = self.status.try_set(status);
        if let Some(conn) = self.conn.borrow_mut().take() {
            conn.close();
        }
    }

    fn on_text(&self, msg: ServerMsg) {
        let id = self.sub.get();
        match msg {
            ServerMsg::End {
                id: ended,
                reason: EndReason::Finished,
                exit_code,
            } if ended == id => self.end(TermStatus::Exited(exit_code)),
            ServerMsg::Error {
                id: Some(failed),
                message,
                ..
            } if failed == id => self.end(TermStatus::Failed(message)),
            ServerMsg::Error {
                id: None, message, ..
            } => self.end(TermStatus::Failed(message)),
            _ => {}
        }
    }

    fn on_binary(&self, frame: &[u8]) {
        if let Some((id, data)) = split_terminal_frame(frame) {
            if id == self.sub.get() {
                if let Some(t) = self.term.borrow().as_ref() {
                    t.term.write(data);
                }
            }
        }
    }
}

impl LiveTerminal {
    /// A terminal in `el` (not connected yet).
    pub fn open(el: &HtmlElement, status: RwSignal<TermStatus>) -> Result<LiveTerminal, String> {
        let shared = Rc::new(Shared {
            term: RefCell::new(None),
            conn: RefCell::new(None),
            status,
            sub: Cell::new(0),
            live: Cell::new(false),
        });
        let on_input = {
            let shared = Rc::clone(&shared);
            move |bytes: Vec<u8>| {
                if shared.live.get() {
                    if let Some(conn) = shared.conn.borrow().as_ref() {
                        conn.send_binary(&terminal_frame(shared.sub.get(), &bytes));
                    }
                }
            }
        };
        let on_resize = {
            let shared = Rc::clone(&shared);
            move |rows: u16, columns: u16| {
                if shared.live.get() {
                    shared.send(&ClientMsg::Resize {
                        id: shared.sub.get(),
                        rows,
                        columns,
                    });
                }
            }
        };
        let term = Terminal::open(el, on_input, on_resize)?;
        *shared.term.borrow_mut() = Some(term);
        Ok(LiveTerminal { shared })
    }

    /// Runs `session` in the container, on a new connection (an old one is closed first).
    pub fn connect(&self, session: Session) {
        let shared = &self.shared;
        if let Some(old) = shared.conn.borrow_mut().take() {
            old.close();
        }
        shared.live.set(false);
        shared.sub.set(shared.sub.get() + 1);
        if let Some(t) = shared.term.borrow().as_ref() {
            t.term.reset();
            t.term.focus();
        }
        let _ = shared.status.try_set(TermStatus::Connecting);
        let on_open = {
            let shared = Rc::clone(shared);
            move || {
                let (rows, columns) = shared.size();
                shared.send(&ClientMsg::Subscribe {
                    id: shared.sub.get(),
                    stream: StreamSpec::Terminal(session.spec(rows, columns)),
                });
                shared.live.set(true);
                let _ = shared.status.try_set(TermStatus::Live);
            }
        };
        let on_text = {
            let shared = Rc::clone(shared);
            move |text: String| match serde_json::from_str::<ServerMsg>(&text) {
                Ok(msg) => shared.on_text(msg),
                Err(e) => leptos::logging::warn!("unreadable message from the daemon: {e}"),
            }
        };
        let on_binary = {
            let shared = Rc::clone(shared);
            move |frame: Vec<u8>| shared.on_binary(&frame)
        };
        let on_close = {
            let shared = Rc::clone(shared);
            move || {
                // Dropped on the next turn, not from inside its own handler.
                let shared = Rc::clone(&shared);
                set_timeout(
                    move || {
                        if shared.conn.borrow().is_some() {
                            shared.end(TermStatus::Disconnected);
                        }
                    },
                    Duration::ZERO,
                );
            }
        };
        match Socket::open_binary("/api/v1/ws", on_open, on_text, on_binary, on_close) {
            Ok(conn) => *shared.conn.borrow_mut() = Some(conn),
            Err(e) => shared.end(TermStatus::Failed(e)),
        }
    }

    /// Closes the connection (the command is hung up) and the terminal.
    pub fn close(self) {
        self.shared.live.set(false);
        if let Some(conn) = self.shared.conn.borrow_mut().take() {
            conn.close();
        }
        self.shared.term.borrow_mut().take();
    }
}
