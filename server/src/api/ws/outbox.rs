//! A connection's outgoing side: one bounded queue in the order messages were produced, shared
//! by its producers, and the writer that drains it into the socket.
//!
//! Back-pressure: the queue holds at most [`QUEUE_MESSAGES`] data messages and [`QUEUE_BYTES`]
//! bytes. A producer whose message does not fit is told so (`try_push` is false) and pauses
//! for good with `Lagged`, except a terminal's, which waits for room ([`Outbox::push_binary`]).
//! `Lagged`, `End` and `Error` are outside the budget but in the same queue, *behind* the data
//! produced before them: a client that stops reading at `End` has had every line. One data
//! message may exceed the byte budget when nothing else is queued (an hour of a container's
//! stats history is about 140 KB), so no message is refused for ever. A client that takes no
//! message for [`WRITE_TIMEOUT`] is dropped.

use crate::api::ApiError;
use axum::extract::ws::{Message, WebSocket};
use berth_wire::ws::ServerMsg;
use berth_wire::ErrorCode;
use futures::stream::SplitSink;
use futures::SinkExt;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

const QUEUE_MESSAGES: usize = 256;
/// A connection's data budget. Small on purpose: a hundred followers of a fast log cost the
/// daemon at most this much each, and a client that falls behind loses nothing (it resumes).
const QUEUE_BYTES: usize = 128 * 1024;
/// Messages written to the socket before one flush.
const WRITE_BATCH: usize = 64;
/// A client that takes no message for this long is dropped.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

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
    pub(super) fn new() -> Outbox {
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
    pub(super) fn try_push(&self, msg: &ServerMsg) -> bool {
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
    pub(super) fn close(&self) {
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

    pub(super) fn control_queued(&self) -> usize {
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

/// Writes the queued messages to the socket, a batch and one flush at a time, until the
/// socket fails or the client has read nothing for [`WRITE_TIMEOUT`].
pub(super) async fn write(out: Outbox, mut sink: SplitSink<WebSocket, Message>) {
    loop {
        let batch = out.take(WRITE_BATCH);
        if batch.is_empty() {
            out.wake.notified().await;
            continue;
        }
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
}
