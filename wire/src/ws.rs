//! The dashboard's one WebSocket (`GET /api/v1/ws`): many subscriptions by id over one
//! connection. The client sends [`ClientMsg`], the server [`ServerMsg`], one JSON text message
//! each. A terminal's bytes travel in binary messages instead, both ways: the subscription id
//! (4 bytes, big-endian), then the bytes ([`terminal_frame`], [`split_terminal_frame`]).

use crate::{ErrorCode, HostPoint, StatsPoint};
use serde::{Deserialize, Serialize};

/// Where a log line ends in the log; resume after it with [`LogsSpec::resume`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogCursor {
    /// The log file's sequence number.
    pub file: u64,
    /// The offset just past the line in that file.
    pub offset: u64,
}

/// Where a lagged subscription resumes: a log position, or the last event's `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Cursor {
    Log(LogCursor),
    Event(u64),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamSpec {
    Logs(LogsSpec),
    Stats {
        container: String,
    },
    HostStats,
    Events {
        /// Resume after this event `seq`; without it, live events only.
        #[serde(default)]
        cursor: Option<u64>,
    },
    Terminal(TerminalSpec),
}

/// A container's log (its fields sit beside `"type": "logs"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogsSpec {
    pub container: String,
    #[serde(default)]
    pub tail: Option<u32>,
    #[serde(default)]
    pub since_ms: Option<i64>,
    #[serde(default)]
    pub until_ms: Option<i64>,
    #[serde(default = "yes")]
    pub stdout: bool,
    #[serde(default = "yes")]
    pub stderr: bool,
    /// Only the lines after this one (takes the place of `tail` and `since_ms`).
    #[serde(default)]
    pub resume: Option<LogCursor>,
}

/// A command with a terminal in a running container (an exec; operators and admins only):
/// its output comes as binary messages of the subscription's id, the client's binary messages
/// of that id are its input, [`ClientMsg::Resize`] sizes it; `End` carries its exit code.
/// Unsubscribing (or closing the connection) hangs its terminal up: a shell then exits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TerminalSpec {
    pub container: String,
    /// The command; `/bin/sh` when empty.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// `USER[:GROUP]`; else the container's.
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub working_dir: Option<String>,
    pub rows: u16,
    pub columns: u16,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    Subscribe {
        id: u32,
        stream: StreamSpec,
    },
    Unsubscribe {
        id: u32,
    },
    /// A terminal subscription's new window size.
    Resize {
        id: u32,
        rows: u16,
        columns: u16,
    },
}

/// The bytes of terminal subscription `id` as one binary message.
pub fn terminal_frame(id: u32, data: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(4 + data.len());
    frame.extend_from_slice(&id.to_be_bytes());
    frame.extend_from_slice(data);
    frame
}

/// A binary message's subscription id and bytes; `None` when it is shorter than the id.
pub fn split_terminal_frame(frame: &[u8]) -> Option<(u32, &[u8])> {
    let (id, data) = frame.split_first_chunk::<4>()?;
    Some((u32::from_be_bytes(*id), data))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub time_ms: i64,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub line: String,
    /// The line does not end here (it goes on in the next of its stream).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    pub cursor: LogCursor,
}

/// New points of one stats subscription, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatsUpdate {
    pub id: u32,
    pub points: Vec<StatsPoint>,
}

/// Why a subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The container exited (logs, stats) or the `until` passed.
    Finished,
    /// The client unsubscribed.
    Unsubscribed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    Logs {
        id: u32,
        lines: Vec<LogLine>,
    },
    /// Container stats. A subscription's first is its history alone; after that one message
    /// a second carries the new point of every stats subscription of the connection (500
    /// watched containers are one message a second, not 500).
    Stats {
        updates: Vec<StatsUpdate>,
        /// Samplers running in the hub now (one per watched container, however many viewers).
        samplers: u32,
    },
    HostStats {
        id: u32,
        points: Vec<HostPoint>,
    },
    Events {
        id: u32,
        #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
        events: Vec<serde_json::Value>,
    },
    /// The client did not read fast enough: the subscription is paused for good; subscribe
    /// again with `resume` to go on without a gap.
    Lagged {
        id: u32,
        resume: Option<Cursor>,
    },
    End {
        id: u32,
        reason: EndReason,
        /// A log subscription that finished because its container exited: the exit code.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
    },
    Error {
        id: Option<u32>,
        code: ErrorCode,
        message: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_their_tags() {
        let m: ClientMsg = serde_json::from_str(
            r#"{"type":"subscribe","id":3,"stream":{"type":"logs","container":"c","resume":{"file":1,"offset":90}}}"#,
        )
        .unwrap();
        let ClientMsg::Subscribe {
            id: 3,
            stream: StreamSpec::Logs(logs),
        } = &m
        else {
            panic!("{m:?}")
        };
        assert!(logs.stdout && logs.stderr, "both streams by default");
        assert_eq!(
            logs.resume,
            Some(LogCursor {
                file: 1,
                offset: 90
            })
        );
        let lag = ServerMsg::Lagged {
            id: 1,
            resume: Some(Cursor::Event(7)),
        };
        let json = serde_json::to_string(&lag).unwrap();
        assert_eq!(json, r#"{"type":"lagged","id":1,"resume":7}"#);
        assert_eq!(serde_json::from_str::<ServerMsg>(&json).unwrap(), lag);
    }

    #[test]
    fn terminal_frames_carry_their_subscription() {
        let frame = terminal_frame(0x0102_0304, b"ls\n");
        assert_eq!(frame, b"\x01\x02\x03\x04ls\n");
        assert_eq!(
            split_terminal_frame(&frame),
            Some((0x0102_0304, &b"ls\n"[..]))
        );
        assert_eq!(
            split_terminal_frame(&frame[..4]),
            Some((0x0102_0304, &b""[..]))
        );
        assert_eq!(split_terminal_frame(b"\x00\x01"), None);
        let m: ClientMsg = serde_json::from_str(
            r#"{"type":"subscribe","id":2,"stream":{"type":"terminal","container":"web","rows":24,"columns":80}}"#,
        )
        .unwrap();
        let ClientMsg::Subscribe {
            stream: StreamSpec::Terminal(t),
            ..
        } = &m
        else {
            panic!("{m:?}")
        };
        assert_eq!((t.rows, t.columns, t.container.as_str()), (24, 80, "web"));
        assert!(t.cmd.is_empty() && t.user.is_none());
        // The fields sit beside the tag, as before they were a struct.
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["stream"]["type"], "terminal");
        assert_eq!(json["stream"]["rows"], 24);
    }
}
