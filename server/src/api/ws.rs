//! `GET /api/v1/ws`: the dashboard's one WebSocket per tab, carrying many subscriptions by id
//! (logs, a container's stats, the host's, events; see `berth_wire::ws`).
//!
//! Back-pressure: each connection has one bounded outgoing queue ([`QUEUE_MESSAGES`] messages,
//! [`QUEUE_BYTES`] bytes). A subscription whose message does not fit is paused for good: its
//! producer stops reading (so the daemon holds no more than the queue for a slow client) and
//! the client gets `Lagged` with the cursor to resubscribe from. `Lagged`, `End` and `Error`
//! are outside the budget (one per subscription at most, plus one per client message,
//! capped) but in the same queue, *behind* the data produced before them: a client that
//! stops reading at `End` has had every line. A client that does not take a message for
//! [`WRITE_TIMEOUT`] is dropped. Subscriptions never wait on each other: producers never
//! block on the queue. One data message may exceed the byte budget when nothing else is
//! queued (an hour of a container's stats history is about 140 KB), so no message is
//! refused for ever.
//!
//! A terminal subscription (an exec with a TTY: ws_terminal.rs) needs an operator; its output
//! is never dropped: its producer waits for room in the queue instead of lagging.
//!
//! Stats subscriptions are not a task each: their subscriptions sit in the connection's
//! [`StatsGroup`], which one task polls at each of the hub's ticks, sending the new points of
//! all of them as one message (a viewer of 128 containers: 1 wake-up and 1 frame a second,
//! not 128).

use super::ws_terminal::{self, TerminalInput, INPUT_QUEUE};
use super::ApiError;
use crate::peer::Peer;
use crate::security::principal::Principal;
use crate::security::Security;
use crate::transport::limits::WsLimiter;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_engine::container::LogOptions;
use berth_engine::events::{EventQuery, Since};
use berth_engine::logs::{LogPos, Stream};
use berth_engine::stats::{Polled, StatsSubscription};
use berth_engine::{Engine, OutputSession};
use berth_wire::ws::{
    ClientMsg, Cursor, EndReason, LogCursor, LogLine, ServerMsg, StatsUpdate, StreamSpec,
};
use berth_wire::ErrorCode;
use futures::{SinkExt, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::AbortHandle;

pub const QUEUE_MESSAGES: usize = 256;
/// A connection's data budget. Small on purpose: a hundred followers of a fast log cost the
/// daemon at most this much each, and a client that falls behind loses nothing (it resumes).
pub const QUEUE_BYTES: usize = 128 * 1024;
/// Messages written to the socket before one flush.
const WRITE_BATCH: usize = 64;
/// A client that takes no message for this long is dropped.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Log lines per message, at most about this many bytes.
const LOG_MESSAGE_BYTES: usize = 32 * 1024;
const MAX_SUBSCRIPTIONS: usize = 128;
/// How long a finished log subscription waits for its container's exit code.
const EXIT_WAIT: Duration = Duration::from_secs(5);
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

/// The connection's outgoing side, shared by its producers: one queue in the order messages
/// were produced, so a subscription's `End` or `Lagged` never overtakes its own data.
#[derive(Clone)]
pub(super) struct Outbox {
    queue: Arc<Mutex<Queue>>,
    wake: Arc<Notify>,
    /// Told whenever the writer has taken messages (or the connection ended).
    drained: Arc<Notify>,
}

#[derive(Default)]
struct Queue {
    items: VecDeque<Item>,
    /// Data messages queued, and their bytes: bounded by the budget.
    data: usize,
    data_bytes: usize,
    /// Control messages queued (`End`, `Lagged`, `Error`): outside the budget, capped.
    control: usize,
    /// The connection has ended: nothing is queued any more.
    closed: bool,
}

struct Item {
    message: Outgoing,
    control: bool,
}

/// A message for the socket: JSON text, or a terminal's binary frame.
enum Outgoing {
    Text(String),
    Binary(Vec<u8>),
}

impl Outgoing {
    fn len(&self) -> usize {
        match self {
            Outgoing::Text(text) => text.len(),
            Outgoing::Binary(bytes) => bytes.len(),
        }
    }
}

impl Outbox {
    fn new() -> Outbox {
        Outbox {
            queue: Arc::default(),
            wake: Arc::new(Notify::new()),
            drained: Arc::new(Notify::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a data message, or returns false when the budget is spent (a message larger
    /// than the whole budget goes when no other data is queued).
    fn try_push(&self, msg: &ServerMsg) -> bool {
        self.try_push_data(Outgoing::Text(encode(msg))).is_ok()
    }

    /// Queues a data message, or hands it back when the budget is spent or the connection
    /// has ended.
    fn try_push_data(&self, message: Outgoing) -> Result<(), Outgoing> {
        let mut queue = self.lock();
        let len = message.len();
        if queue.closed
            || (queue.data > 0
                && (queue.data >= QUEUE_MESSAGES || queue.data_bytes + len > QUEUE_BYTES))
        {
            return Err(message);
        }
        queue.data += 1;
        queue.data_bytes += len;
        queue.items.push_back(Item {
            message,
            control: false,
        });
        drop(queue);
        self.wake.notify_one();
        Ok(())
    }

    /// Queues a binary message, waiting for room as long as the connection lasts; false once
    /// it has ended.
    pub(super) async fn push_binary(&self, bytes: Vec<u8>) -> bool {
        let mut message = Outgoing::Binary(bytes);
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            // Registered before trying, so a take between the try and the wait is not missed.
            drained.as_mut().enable();
            match self.try_push_data(message) {
                Ok(()) => return true,
                Err(back) if !self.lock().closed => message = back,
                Err(_) => return false,
            }
            drained.await;
        }
    }

    /// The connection has ended: producers waiting for room stop.
    fn close(&self) {
        self.lock().closed = true;
        self.drained.notify_waiters();
    }

    /// Queues a control message, which is never refused (its count is checked per client
    /// message: see [`MAX_CONTROL`]).
    pub(super) fn control(&self, msg: &ServerMsg) {
        let mut queue = self.lock();
        queue.control += 1;
        queue.items.push_back(Item {
            message: Outgoing::Text(encode(msg)),
            control: true,
        });
        drop(queue);
        self.wake.notify_one();
    }

    fn control_queued(&self) -> usize {
        self.lock().control
    }

    /// Takes up to `max` queued messages, oldest first.
    fn take(&self, max: usize) -> Vec<Outgoing> {
        let mut queue = self.lock();
        let n = queue.items.len().min(max);
        let taken: Vec<Item> = queue.items.drain(..n).collect();
        for item in &taken {
            if item.control {
                queue.control -= 1;
            } else {
                queue.data -= 1;
                queue.data_bytes -= item.message.len();
            }
        }
        drop(queue);
        if n > 0 {
            self.drained.notify_waiters();
        }
        taken.into_iter().map(|item| item.message).collect()
    }

    pub(super) fn error(&self, id: Option<u32>, code: ErrorCode, message: impl Into<String>) {
        self.control(&ServerMsg::Error {
            id,
            code,
            message: message.into(),
        });
    }

    pub(super) fn engine_error(&self, id: u32, e: berth_engine::Error) {
        let e = ApiError::from(e);
        self.error(Some(id), e.code, e.message);
    }
}

fn encode(msg: &ServerMsg) -> String {
    serde_json::to_string(msg).unwrap_or_else(|e| {
        format!(r#"{{"type":"error","id":null,"code":"internal","message":"{e}"}}"#)
    })
}

/// A subscription of the connection: a producer task, or a stats subscription, whose
/// setup task (finding the container, sending the history) puts it in the [`StatsGroup`].
enum Sub {
    Task(AbortHandle),
    Stats {
        setup: AbortHandle,
    },
    /// Not aborted when it goes: dropping `input` detaches it (its input closes, its output
    /// is drained until the command ends).
    Terminal {
        task: AbortHandle,
        input: tokio::sync::mpsc::Sender<TerminalInput>,
    },
}

/// The connection's stats subscriptions, by id, polled together at each hub tick.
type StatsGroup = Arc<Mutex<HashMap<u32, StatsSubscription>>>;

fn lock_group(group: &StatsGroup) -> std::sync::MutexGuard<'_, HashMap<u32, StatsSubscription>> {
    group.lock().unwrap_or_else(|e| e.into_inner())
}

async fn serve(socket: WebSocket, engine: Engine, caller: Caller) {
    let (mut sink, mut incoming) = socket.split();
    let out = Outbox::new();
    let stats: StatsGroup = Arc::default();
    // Started with the first stats subscription.
    let mut stats_task: Option<tokio::task::JoinHandle<()>> = None;
    let writer_out = out.clone();
    let mut writer = tokio::spawn(async move {
        let out = writer_out;
        loop {
            let batch = out.take(WRITE_BATCH);
            if batch.is_empty() {
                out.wake.notified().await;
                continue;
            }
            // Queued messages go out together, with one flush.
            let write = async {
                for message in batch {
                    sink.feed(match message {
                        Outgoing::Text(text) => Message::Text(text.into()),
                        Outgoing::Binary(bytes) => Message::Binary(bytes.into()),
                    })
                    .await?;
                }
                sink.flush().await
            };
            match tokio::time::timeout(WRITE_TIMEOUT, write).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return,
                Err(_) => {
                    tracing::info!(
                        "dropping a WebSocket client that read nothing for {WRITE_TIMEOUT:?}"
                    );
                    return;
                }
            }
        }
    });
    let mut subs: HashMap<u32, Sub> = HashMap::new();
    loop {
        let message = tokio::select! {
            _ = &mut writer => break,
            m = incoming.next() => m,
        };
        let text = match message {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Binary(frame))) => {
                let terminal =
                    berth_wire::ws::split_terminal_frame(&frame).and_then(|(id, data)| match subs
                        .get(&id)
                    {
                        Some(Sub::Terminal { input, .. }) => Some((id, input, data)),
                        _ => None,
                    });
                match terminal {
                    Some((id, input, data)) => {
                        let data = bytes::Bytes::copy_from_slice(data);
                        to_terminal(&out, id, input, TerminalInput::Data(data));
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
        subs.retain(|id, sub| match sub {
            Sub::Task(task) | Sub::Terminal { task, .. } => !task.is_finished(),
            Sub::Stats { setup } => !setup.is_finished() || lock_group(&stats).contains_key(id),
        });
        match msg {
            ClientMsg::Subscribe { id, stream } => {
                if subs.contains_key(&id) {
                    out.error(
                        Some(id),
                        ErrorCode::Conflict,
                        format!("subscription {id} exists"),
                    );
                } else if subs.len() >= MAX_SUBSCRIPTIONS {
                    out.error(
                        Some(id),
                        ErrorCode::TooManyRequests,
                        format!("at most {MAX_SUBSCRIPTIONS} subscriptions per connection"),
                    );
                } else if let StreamSpec::Terminal { .. } = stream {
                    let (input, inputs) = tokio::sync::mpsc::channel(INPUT_QUEUE);
                    let task = ws_terminal::run(
                        engine.clone(),
                        caller.clone(),
                        id,
                        stream,
                        out.clone(),
                        inputs,
                    );
                    let task = tokio::spawn(task).abort_handle();
                    subs.insert(id, Sub::Terminal { task, input });
                } else {
                    let is_stats = matches!(stream, StreamSpec::Stats { .. });
                    if is_stats && stats_task.is_none() {
                        let ticks = stats_ticks(engine.clone(), stats.clone(), out.clone());
                        stats_task = Some(tokio::spawn(ticks));
                    }
                    let task = produce(engine.clone(), id, stream, out.clone(), stats.clone());
                    let task = tokio::spawn(task).abort_handle();
                    subs.insert(
                        id,
                        match is_stats {
                            true => Sub::Stats { setup: task },
                            false => Sub::Task(task),
                        },
                    );
                }
            }
            ClientMsg::Unsubscribe { id } => match subs.remove(&id) {
                Some(sub) => {
                    match sub {
                        Sub::Task(task) => task.abort(),
                        // Dropped: detached.
                        Sub::Terminal { .. } => {}
                        Sub::Stats { setup } => {
                            setup.abort();
                            // Under the group's lock: a message with its points went before.
                            lock_group(&stats).remove(&id);
                        }
                    }
                    out.control(&ServerMsg::End {
                        id,
                        reason: EndReason::Unsubscribed,
                        exit_code: None,
                    });
                }
                None => out.error(
                    Some(id),
                    ErrorCode::NotFound,
                    format!("no subscription {id}"),
                ),
            },
            ClientMsg::Resize { id, rows, columns } => match subs.get(&id) {
                Some(Sub::Terminal { input, .. }) => {
                    to_terminal(&out, id, input, TerminalInput::Resize { rows, columns });
                }
                _ => out.error(
                    Some(id),
                    ErrorCode::NotFound,
                    format!("no terminal subscription {id}"),
                ),
            },
        }
    }
    out.close();
    for sub in subs.values() {
        match sub {
            Sub::Task(task) | Sub::Stats { setup: task } => task.abort(),
            // Detached when `subs` drops.
            Sub::Terminal { .. } => {}
        }
    }
    if let Some(task) = stats_task {
        task.abort();
    }
    // The viewers are released now, not when the last clone of the group goes.
    lock_group(&stats).clear();
    writer.abort();
}

/// Hands a terminal its input without waiting: input the command does not read for
/// [`INPUT_QUEUE`] messages is dropped, with an error, rather than stalling the connection.
fn to_terminal(
    out: &Outbox,
    id: u32,
    input: &tokio::sync::mpsc::Sender<TerminalInput>,
    message: TerminalInput,
) {
    if input.try_send(message).is_err() {
        out.error(
            Some(id),
            ErrorCode::TooManyRequests,
            "the terminal is not reading its input: input dropped",
        );
    }
}

/// Subscribes to a container's stats, sends its history and hands the subscription to the
/// connection's group.
async fn stats_setup(engine: Engine, id: u32, container: String, out: Outbox, group: StatsGroup) {
    let mut sub = match engine.stats_subscribe(&container).await {
        Ok(sub) => sub,
        Err(e) => return out.engine_error(id, e),
    };
    let points = sub.take_history();
    let samplers = engine.stats_hub().sampler_count() as u32;
    // Under the group's lock, so no tick's message overtakes the history.
    let mut group = lock_group(&group);
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
async fn stats_ticks(engine: Engine, group: StatsGroup, out: Outbox) {
    let mut ticks = engine.stats_hub().ticks();
    while ticks.changed().await.is_ok() {
        let mut subs = lock_group(&group);
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
                samplers: engine.stats_hub().sampler_count() as u32,
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

/// A subscription's producer; a stats subscription's only sets it up in the `group`.
async fn produce(engine: Engine, id: u32, spec: StreamSpec, out: Outbox, group: StatsGroup) {
    let end = |out: &Outbox| {
        out.control(&ServerMsg::End {
            id,
            reason: EndReason::Finished,
            exit_code: None,
        })
    };
    match spec {
        StreamSpec::Logs {
            container,
            tail,
            since_ms,
            until_ms,
            stdout,
            stderr,
            resume,
        } => {
            let options = LogOptions {
                tail: if resume.is_some() {
                    None
                } else {
                    tail.map(|n| n as usize)
                },
                since: if resume.is_some() {
                    None
                } else {
                    since_ms.map(|ms| ms.saturating_mul(1_000_000))
                },
                until: until_ms.map(|ms| ms.saturating_mul(1_000_000)),
                after: resume.map(|c| LogPos {
                    file: c.file,
                    offset: c.offset,
                }),
                ..Default::default()
            };
            // Until a time: the end may come before the container's exit, which is not
            // waited for then.
            let bounded = options.until.is_some();
            let OutputSession { mut follower, exit } =
                match engine.follow_output(&container, options).await {
                    Ok(session) => session,
                    Err(e) => return out.engine_error(id, e),
                };
            // The last line queued: where a lagged client resumes.
            let mut last = resume;
            let mut lines = Vec::new();
            let mut size = 0;
            while let Some(batch) = follower.next_positioned().await {
                let batch = match batch {
                    Ok(batch) => batch,
                    Err(e) => return out.engine_error(id, e),
                };
                let count = batch.records.len();
                for (i, (record, end)) in batch.records.into_iter().zip(batch.ends).enumerate() {
                    let wanted = match record.stream {
                        Stream::Stdout => stdout,
                        Stream::Stderr => stderr,
                    };
                    if wanted {
                        size += record.line.len() + 80;
                        lines.push(LogLine {
                            time_ms: record.time_ns.div_euclid(1_000_000),
                            stream: match record.stream {
                                Stream::Stdout => "stdout",
                                Stream::Stderr => "stderr",
                            }
                            .to_string(),
                            line: String::from_utf8_lossy(&record.line).into_owned(),
                            partial: record.partial,
                            cursor: LogCursor {
                                file: end.file,
                                offset: end.offset,
                            },
                        });
                    }
                    if !lines.is_empty() && (size >= LOG_MESSAGE_BYTES || i + 1 == count) {
                        let newest = lines.last().map(|l: &LogLine| l.cursor);
                        let msg = ServerMsg::Logs {
                            id,
                            lines: std::mem::take(&mut lines),
                        };
                        size = 0;
                        if !out.try_push(&msg) {
                            // Paused: dropping the follower stops its reading.
                            return out.control(&ServerMsg::Lagged {
                                id,
                                resume: last.map(Cursor::Log),
                            });
                        }
                        last = newest;
                        // Many followers of one fast log are CPU work: let other tasks (and
                        // other requests) run between messages.
                        tokio::task::yield_now().await;
                    }
                }
            }
            // A container restarted by its policy may be running again already: its exit
            // code is then not waited for long.
            let exit_code = match bounded {
                true => None,
                false => tokio::time::timeout(EXIT_WAIT, exit.wait())
                    .await
                    .ok()
                    .and_then(Result::ok),
            };
            out.control(&ServerMsg::End {
                id,
                reason: EndReason::Finished,
                exit_code,
            });
        }
        StreamSpec::Stats { container } => stats_setup(engine, id, container, out, group).await,
        // Run by ws_terminal, with its input (see `serve`).
        StreamSpec::Terminal { .. } => {}
        StreamSpec::HostStats => {
            let mut sub = engine.stats_subscribe_host();
            let mut points = sub.take_history();
            loop {
                if !out.try_push(&ServerMsg::HostStats { id, points }) {
                    return out.control(&ServerMsg::Lagged { id, resume: None });
                }
                match sub.recv().await {
                    Some(p) => points = vec![p],
                    None => break,
                }
            }
            end(&out);
        }
        StreamSpec::Events { cursor } => {
            let query = EventQuery {
                since: cursor.map(Since::After),
                until: None,
                filter: Default::default(),
            };
            let mut stream = match engine.events(query) {
                Ok(s) => s,
                Err(e) => return out.engine_error(id, e),
            };
            let mut last = cursor;
            while let Some(event) = stream.next().await {
                let event = match event {
                    Ok(event) => event,
                    Err(e) => return out.engine_error(id, e),
                };
                let seq = event.seq;
                let value = serde_json::to_value(&event).unwrap_or_default();
                if !out.try_push(&ServerMsg::Events {
                    id,
                    events: vec![value],
                }) {
                    return out.control(&ServerMsg::Lagged {
                        id,
                        resume: last.map(Cursor::Event),
                    });
                }
                last = Some(seq);
            }
            end(&out);
        }
    }
}
