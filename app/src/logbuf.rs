//! The browser's model of a container log: the WebSocket message format and a bounded buffer
//! of the most recent lines, so a log of millions of lines keeps a fixed number of DOM rows.

use serde::Deserialize;
use std::collections::VecDeque;

/// How many lines the log view keeps; older ones are dropped from the page.
pub const MAX_LINES: usize = 5_000;

/// One line as the log WebSocket sends it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct WireLine {
    /// RFC 3339 with nanoseconds, UTC.
    pub time: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    pub line: String,
    /// The line did not end with a newline: the next one of the same stream continues it.
    #[serde(default)]
    pub partial: bool,
}

/// One text message of the log WebSocket.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum WsMessage {
    Lines { lines: Vec<WireLine> },
    Exit { exit_code: i32 },
}

/// Why a log WebSocket message could not be understood.
#[derive(Debug, thiserror::Error)]
#[error("unreadable log message: {0}")]
pub struct WsMessageError(#[from] serde_json::Error);

impl WsMessage {
    pub fn parse(text: &str) -> Result<WsMessage, WsMessageError> {
        Ok(serde_json::from_str(text)?)
    }
}

/// A line as the page shows it; `seq` is a stable key for keyed rendering.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub seq: u64,
    pub time: String,
    pub stream: String,
    pub text: String,
    pub partial: bool,
}

/// The newest `cap` lines of a log, partial lines joined.
#[derive(Debug, Clone, PartialEq)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    cap: usize,
    next_seq: u64,
    dropped: u64,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::with_capacity(MAX_LINES)
    }
}

impl LogBuffer {
    pub fn with_capacity(cap: usize) -> Self {
        LogBuffer {
            lines: VecDeque::new(),
            cap: cap.max(1),
            next_seq: 0,
            dropped: 0,
        }
    }

    /// Appends lines (oldest first), dropping the oldest kept ones beyond the capacity.
    pub fn extend(&mut self, wire: impl IntoIterator<Item = WireLine>) {
        for w in wire {
            self.push(w);
        }
    }

    fn push(&mut self, w: WireLine) {
        let continues = self
            .lines
            .back()
            .is_some_and(|last| last.partial && last.stream == w.stream);
        let (time, text) = match self.lines.pop_back() {
            // A continuation replaces the row it extends (new key: its text changed).
            Some(last) if continues => (last.time, last.text + &w.line),
            Some(last) => {
                self.lines.push_back(last);
                (w.time, w.line)
            }
            None => (w.time, w.line),
        };
        self.lines.push_back(LogLine {
            seq: self.next_seq,
            time,
            stream: w.stream,
            text,
            partial: w.partial,
        });
        self.next_seq += 1;
        while self.lines.len() > self.cap {
            self.lines.pop_front();
            self.dropped += 1;
        }
    }

    pub fn lines(&self) -> impl Iterator<Item = &LogLine> {
        self.lines.iter()
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// How many older lines were dropped to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Where the live log connection is, as the page says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogStatus {
    Connecting,
    Live,
    Exited(i32),
    /// The connection ended before the container did.
    Closed,
    Failed(String),
}

impl LogStatus {
    pub fn text(&self) -> String {
        match self {
            LogStatus::Connecting => "connecting…".to_string(),
            LogStatus::Live => "live".to_string(),
            LogStatus::Exited(code) => format!("exited with code {code}"),
            LogStatus::Closed => "disconnected".to_string(),
            LogStatus::Failed(why) => why.clone(),
        }
    }

    /// A short word for styling and tests: connecting, live, exited, closed, failed.
    pub fn kind(&self) -> &'static str {
        match self {
            LogStatus::Connecting => "connecting",
            LogStatus::Live => "live",
            LogStatus::Exited(_) => "exited",
            LogStatus::Closed => "closed",
            LogStatus::Failed(_) => "failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(stream: &str, line: &str, partial: bool) -> WireLine {
        WireLine {
            time: "2026-11-27T21:11:12.123456789Z".into(),
            stream: stream.into(),
            line: line.into(),
            partial,
        }
    }

    #[test]
    fn parses_both_message_kinds() {
        let m = WsMessage::parse(
            r#"{"lines":[{"time":"2026-11-27T21:11:12.123456789Z","stream":"stdout","line":"hi","partial":false}]}"#,
        )
        .expect("lines message");
        assert_eq!(
            m,
            WsMessage::Lines {
                lines: vec![wire("stdout", "hi", false)]
            }
        );
        let m = WsMessage::parse(r#"{"exit_code":137}"#).expect("exit message");
        assert_eq!(m, WsMessage::Exit { exit_code: 137 });
    }

    #[test]
    fn partial_defaults_to_false_and_garbage_is_an_error() {
        let m = WsMessage::parse(r#"{"lines":[{"time":"t","stream":"stderr","line":"x"}]}"#)
            .expect("no partial field");
        assert_eq!(
            m,
            WsMessage::Lines {
                lines: vec![WireLine {
                    time: "t".into(),
                    ..wire("stderr", "x", false)
                }]
            }
        );
        assert!(WsMessage::parse("{}").is_err());
        assert!(WsMessage::parse("line 1").is_err());
    }

    #[test]
    fn keeps_only_the_newest_lines_beyond_capacity() {
        let mut b = LogBuffer::with_capacity(3);
        b.extend((0..10).map(|i| wire("stdout", &format!("line {i}"), false)));
        let texts: Vec<_> = b.lines().map(|l| l.text.as_str()).collect();
        assert_eq!(texts, ["line 7", "line 8", "line 9"]);
        assert_eq!(b.dropped(), 7);
        let seqs: Vec<_> = b.lines().map(|l| l.seq).collect();
        assert_eq!(seqs, [7, 8, 9]);
    }

    #[test]
    fn joins_partial_lines_of_the_same_stream() {
        let mut b = LogBuffer::default();
        b.extend([
            wire("stdout", "hel", true),
            wire("stdout", "lo", false),
            wire("stdout", "next", false),
        ]);
        let texts: Vec<_> = b.lines().map(|l| (l.text.as_str(), l.partial)).collect();
        assert_eq!(texts, [("hello", false), ("next", false)]);
        // The joined row got a new key, so a keyed list re-renders it.
        assert_eq!(b.lines().next().map(|l| l.seq), Some(1));
    }

    #[test]
    fn does_not_join_a_partial_line_with_another_stream() {
        let mut b = LogBuffer::default();
        b.extend([wire("stdout", "out", true), wire("stderr", "err", false)]);
        assert_eq!(b.len(), 2);
        assert!(b.lines().next().is_some_and(|l| l.partial));
    }

    #[test]
    fn status_says_the_exit_code() {
        assert_eq!(LogStatus::Exited(3).text(), "exited with code 3");
        assert_eq!(LogStatus::Exited(3).kind(), "exited");
        assert_eq!(
            LogStatus::Failed("log stream failed".into()).text(),
            "log stream failed"
        );
    }
}
