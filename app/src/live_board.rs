//! The browser side of a board (hydrate only): follows `/api/v1/boards/<secret>/ws`, puts
//! each snapshot on the page, and reconnects by itself with a back-off (1 s doubling to 30 s),
//! asking the board's server function first whether the link is still valid.

use crate::model::AppError;
use crate::pages::board::{load_board, LiveStatus};
use crate::socket::Socket;
use berth_wire::board::{BoardMessage, BoardSnapshot};
use leptos::prelude::*;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

const FIRST_DELAY_MS: u64 = 1_000;
const MAX_DELAY_MS: u64 = 30_000;

struct Follower {
    secret: String,
    board: RwSignal<BoardSnapshot>,
    status: RwSignal<LiveStatus>,
    socket: RefCell<Option<Socket>>,
    delay_ms: Cell<u64>,
    /// The page is gone or the link is dead: no more connections.
    stopped: Cell<bool>,
}

/// Starts following the board of `secret` until the current owner is cleaned up.
pub fn follow(secret: String, board: RwSignal<BoardSnapshot>, status: RwSignal<LiveStatus>) {
    let follower = Rc::new(Follower {
        secret,
        board,
        status,
        socket: RefCell::new(None),
        delay_ms: Cell::new(FIRST_DELAY_MS),
        stopped: Cell::new(false),
    });
    connect(&follower);
    let on_leave = StoredValue::new_local(Rc::clone(&follower));
    on_cleanup(move || {
        let _ = on_leave.try_with_value(|f| {
            f.stopped.set(true);
            if let Some(socket) = f.socket.borrow_mut().take() {
                socket.close();
            }
        });
    });
}

fn connect(f: &Rc<Follower>) {
    if f.stopped.get() {
        return;
    }
    let on_open = {
        let f = Rc::clone(f);
        move || {
            f.delay_ms.set(FIRST_DELAY_MS);
            let _ = f.status.try_set(LiveStatus::Connected);
        }
    };
    let on_text = {
        let f = Rc::clone(f);
        move |text: String| match serde_json::from_str::<BoardMessage>(&text) {
            Ok(BoardMessage::Snapshot { snapshot }) => {
                let _ = f.board.try_set(snapshot);
            }
            Ok(BoardMessage::Invalid) => invalid(&f),
            Err(e) => leptos::logging::warn!("a board message that does not parse: {e}"),
        }
    };
    let on_close = {
        let f = Rc::clone(f);
        move || {
            // Drop the closed socket's handlers later, not from inside one of them.
            let old = f.socket.borrow_mut().take();
            set_timeout(move || drop(old), Duration::ZERO);
            if !f.stopped.get() {
                let _ = f.status.try_set(LiveStatus::Reconnecting);
                retry_later(&f);
            }
        }
    };
    let secret: String = js_sys::encode_uri_component(&f.secret).into();
    let path = format!("/api/v1/boards/{secret}/ws");
    match Socket::open(&path, on_open, on_text, on_close) {
        Ok(socket) => *f.socket.borrow_mut() = Some(socket),
        Err(e) => {
            leptos::logging::warn!("{e}");
            retry_later(f);
        }
    }
}

fn invalid(f: &Rc<Follower>) {
    f.stopped.set(true);
    let _ = f.status.try_set(LiveStatus::Invalid);
}

/// Waits out the back-off, then asks whether the link is still valid before reconnecting.
fn retry_later(f: &Rc<Follower>) {
    let delay = f.delay_ms.get();
    f.delay_ms.set((delay * 2).min(MAX_DELAY_MS));
    let f = Rc::clone(f);
    set_timeout(
        move || {
            if f.stopped.get() {
                return;
            }
            leptos::task::spawn_local(async move {
                match load_board(f.secret.clone()).await {
                    Ok(snapshot) => {
                        let _ = f.board.try_set(snapshot);
                        connect(&f);
                    }
                    Err(AppError::NotFound(_)) => invalid(&f),
                    // The daemon is away: try again later.
                    Err(_) => retry_later(&f),
                }
            });
        },
        Duration::from_millis(delay),
    );
}
