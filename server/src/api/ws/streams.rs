//! The producers of the log, host-stats and events subscriptions: each reads its engine
//! stream and queues messages until the stream ends (`End`) or the client falls behind
//! (`Lagged`, with the cursor to resume from).

use super::outbox::Outbox;
use berth_engine::container::LogOptions;
use berth_engine::events::{EventQuery, Since};
use berth_engine::logs::{LogPos, Stream};
use berth_engine::{Engine, OutputSession};
use berth_wire::ws::{Cursor, EndReason, LogCursor, LogLine, LogsSpec, ServerMsg};
use std::time::Duration;

/// Log lines per message, at most about this many bytes.
const LOG_MESSAGE_BYTES: usize = 32 * 1024;
/// How long a finished log subscription waits for its container's exit code.
const EXIT_WAIT: Duration = Duration::from_secs(5);

fn finished(out: &Outbox, id: u32) {
    out.control(&ServerMsg::End {
        id,
        reason: EndReason::Finished,
        exit_code: None,
    })
}

/// A container's log, from where `spec` says, to the container's exit (or `until_ms`).
pub(super) async fn logs(engine: Engine, id: u32, spec: LogsSpec, out: Outbox) {
    let LogsSpec {
        container,
        tail,
        since_ms,
        until_ms,
        stdout,
        stderr,
        resume,
    } = spec;
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
        match engine.containers().follow_output(&container, options).await {
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

/// The host totals: the history, then a point a second.
pub(super) async fn host_stats(engine: Engine, id: u32, out: Outbox) {
    let mut sub = engine.containers().stats_subscribe_host();
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
    finished(&out, id);
}

/// The daemon's events, live, after `cursor` when given.
pub(super) async fn events(engine: Engine, id: u32, cursor: Option<u64>, out: Outbox) {
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
    finished(&out, id);
}
