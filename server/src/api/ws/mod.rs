//! `GET /api/v1/ws`: the dashboard's one WebSocket per tab, carrying many subscriptions by id
//! (logs, a container's stats, the host's, events, terminals; see `berth_wire::ws`). This file
//! reads the client's messages and starts, feeds and ends the subscriptions; what goes out is
//! queued in the connection's [`Outbox`] (outbox.rs: the back-pressure rules).
//!
//! Subscriptions never wait on each other: producers never block on the queue, and a
//! terminal's input is handed over without waiting. Logs, host stats and events are a
//! producer task each (streams.rs); a container's stats sit in the connection's
//! [`StatsGroup`] (stats.rs); a terminal (an exec with a TTY, terminal.rs) needs an operator.

mod outbox;
mod stats;
mod streams;
mod terminal;

use crate::peer::Peer;
use crate::security::principal::Principal;
use crate::security::Security;
use crate::transport::limits::WsLimiter;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_engine::Engine;
use berth_wire::ws::{split_terminal_frame, ClientMsg, EndReason, ServerMsg, StreamSpec};
use berth_wire::ErrorCode;
use futures::StreamExt;
use outbox::Outbox;
use stats::StatsGroup;
use std::collections::HashMap;
use terminal::{TerminalInput, INPUT_QUEUE};
use tokio::sync::mpsc;
use tokio::task::AbortHandle;

const MAX_SUBSCRIPTIONS: usize = 128;
/// Control messages waiting beyond this mean a client that sends but does not read: dropped.
const MAX_CONTROL: usize = 1024;

/// Who opened the connection: what a terminal subscription checks and audits.
#[derive(Clone)]
pub(super) struct Caller {
    pub principal: Principal,
    pub security: Security,
    pub peer: Peer,
}

pub async fn upgrade(
    State(engine): State<Engine>,
    Extension(limiter): Extension<WsLimiter>,
    Extension(principal): Extension<Principal>,
    Extension(security): Extension<Security>,
    peer: Option<Extension<Peer>>,
    ws: WebSocketUpgrade,
) -> Response {
    let permit = match limiter.try_acquire() {
        Ok(permit) => permit,
        Err(refused) => return refused.into_response(),
    };
    let caller = Caller {
        principal,
        security,
        peer: peer.map_or(Peer::Unix { uid: None }, |p| p.0),
    };
    WsLimiter::bounded(ws).on_upgrade(move |socket| async move {
        serve(socket, engine, caller).await;
        drop(permit);
    })
}

/// A subscription of the connection.
enum Sub {
    /// A producer task (streams.rs).
    Task(AbortHandle),
    /// A container's stats: `setup` (finding the container, sending the history) puts it in
    /// the [`StatsGroup`].
    Stats { setup: AbortHandle },
    /// Not aborted when it goes: dropping `input` detaches it (its terminal is hung up, its
    /// output drained until the command ends).
    Terminal {
        task: AbortHandle,
        input: mpsc::Sender<TerminalInput>,
    },
}

/// One connection's subscriptions and what starting one needs.
struct Connection {
    engine: Engine,
    caller: Caller,
    out: Outbox,
    subs: HashMap<u32, Sub>,
    stats: StatsGroup,
}

impl Connection {
    /// Forgets the subscriptions that have ended by themselves.
    fn prune(&mut self) {
        let stats = &self.stats;
        self.subs.retain(|&id, sub| match sub {
            Sub::Task(task) | Sub::Terminal { task, .. } => !task.is_finished(),
            Sub::Stats { setup } => !setup.is_finished() || stats.contains(id),
        });
    }

    fn subscribe(&mut self, id: u32, stream: StreamSpec) {
        let out = &self.out;
        if self.subs.contains_key(&id) {
            return out.error(
                Some(id),
                ErrorCode::Conflict,
                format!("subscription {id} exists"),
            );
        }
        if self.subs.len() >= MAX_SUBSCRIPTIONS {
            return out.error(
                Some(id),
                ErrorCode::TooManyRequests,
                format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
            );
        }
        let engine = self.engine.clone();
        let sub = match stream {
            StreamSpec::Logs(spec) => producer(streams::logs(engine, id, spec, out.clone())),
            StreamSpec::HostStats => producer(streams::host_stats(engine, id, out.clone())),
            StreamSpec::Events { cursor } => {
                producer(streams::events(engine, id, cursor, out.clone()))
            }
            StreamSpec::Stats { container } => Sub::Stats {
                setup: self.stats.subscribe(&engine, id, container, out),
            },
            StreamSpec::Terminal(spec) => {
                let (input, inputs) = mpsc::channel(INPUT_QUEUE);
                let caller = self.caller.clone();
                let run = terminal::run(engine, caller, id, spec, out.clone(), inputs);
                Sub::Terminal {
                    task: tokio::spawn(run).abort_handle(),
                    input,
                }
            }
        };
        self.subs.insert(id, sub);
    }

    fn unsubscribe(&mut self, id: u32) {
        let Some(sub) = self.subs.remove(&id) else {
            return self.out.error(
                Some(id),
                ErrorCode::NotFound,
                format!("no subscription {id}"),
            );
        };
        match sub {
            Sub::Task(task) => task.abort(),
            // Dropped: detached.
            Sub::Terminal { .. } => {}
            Sub::Stats { setup } => {
                setup.abort();
                self.stats.remove(id);
            }
        }
        self.out.control(&ServerMsg::End {
            id,
            reason: EndReason::Unsubscribed,
            exit_code: None,
        });
    }

    /// Hands terminal `id` its input without waiting: input the command does not read for
    /// [`INPUT_QUEUE`] messages is dropped, with an error, rather than stalling the connection.
    /// Input for what is no terminal is refused: frames as a bad request (they belong to no
    /// subscription), a resize as an unknown subscription.
    fn to_terminal(&self, id: u32, message: TerminalInput) {
        let Some(Sub::Terminal { input, .. }) = self.subs.get(&id) else {
            return match message {
                TerminalInput::Data(_) => self.out.error(
                    None,
                    ErrorCode::BadRequest,
                    "binary messages are a terminal subscription's input",
                ),
                TerminalInput::Resize { .. } => self.out.error(
                    Some(id),
                    ErrorCode::NotFound,
                    format!("no terminal subscription {id}"),
                ),
            };
        };
        if input.try_send(message).is_err() {
            self.out.error(
                Some(id),
                ErrorCode::TooManyRequests,
                "the terminal is not reading its input: input dropped",
            );
        }
    }
}

/// A producer task's subscription.
fn producer(task: impl std::future::Future<Output = ()> + Send + 'static) -> Sub {
    Sub::Task(tokio::spawn(task).abort_handle())
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.out.close();
        for sub in self.subs.values() {
            match sub {
                Sub::Task(task) | Sub::Stats { setup: task } => task.abort(),
                // Detached when `subs` drops.
                Sub::Terminal { .. } => {}
            }
        }
    }
}

async fn serve(socket: WebSocket, engine: Engine, caller: Caller) {
    let (sink, mut incoming) = socket.split();
    let out = Outbox::new();
    let mut writer = tokio::spawn(outbox::write(out.clone(), sink));
    let mut conn = Connection {
        engine,
        caller,
        out: out.clone(),
        subs: HashMap::new(),
        stats: StatsGroup::default(),
    };
    loop {
        let message = tokio::select! {
            _ = &mut writer => break,
            m = incoming.next() => m,
        };
        let text = match message {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(frame))) => {
                match split_terminal_frame(&frame) {
                    Some((id, data)) => {
                        let data = bytes::Bytes::copy_from_slice(data);
                        conn.to_terminal(id, TerminalInput::Data(data));
                    }
                    None => out.error(
                        None,
                        ErrorCode::BadRequest,
                        "binary messages are a terminal subscription's input",
                    ),
                }
                continue;
            }
            Some(Ok(_)) => continue,
        };
        if out.control_queued() > MAX_CONTROL {
            break;
        }
        let msg: ClientMsg = match serde_json::from_str(text.as_str()) {
            Ok(msg) => msg,
            Err(e) => {
                out.error(None, ErrorCode::BadRequest, format!("invalid message: {e}"));
                continue;
            }
        };
        conn.prune();
        match msg {
            ClientMsg::Subscribe { id, stream } => conn.subscribe(id, stream),
            ClientMsg::Unsubscribe { id } => conn.unsubscribe(id),
            ClientMsg::Resize { id, rows, columns } => {
                conn.to_terminal(id, TerminalInput::Resize { rows, columns })
            }
        }
    }
    drop(conn);
    writer.abort();
}
