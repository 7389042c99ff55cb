//! The per-container log: format, writer (used by the shim) and reader (used by the daemon).
//!
//! A log is a set of files: `container.log`, being written, and the rotated `container.log.1`,
//! `.2` … (3 × 20 MiB by default). Each is a header (magic, format version, file number)
//! followed by binary records, one per line or line fragment, each stamped with its stream and
//! time, and has a small sidecar index of checkpoints (`container.log.idx`) so `tail` and
//! `since` seek instead of scanning. See [`format`] for the byte layouts. The writer only ever
//! appends and renames, so any number of readers can follow the log while the shim writes and
//! rotates it; nothing is locked and no reader can slow the writer down.

mod files;
mod format;
mod reader;
mod writer;

pub use format::{FORMAT_VERSION, MAX_RECORD_LEN};
pub use reader::{tail, LogPos, LogReader, ReadOptions};
pub(crate) use writer::now_ns;
pub use writer::{LogWriter, Rotation};

use serde::{Deserialize, Serialize};

/// Which of the container's output pipes a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    /// Position of the stream in per-stream tables (stdout 0, stderr 1).
    pub(crate) fn index(self) -> usize {
        match self {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }
}

/// One record of a log file: a whole line, or a fragment of one when `partial` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRecord {
    /// When the shim read the bytes, in nanoseconds since the Unix epoch.
    pub time_ns: i64,
    pub stream: Stream,
    /// `true` when the line goes on in the next record of the same stream (the line was longer
    /// than [`MAX_RECORD_LEN`], or the program had not ended it when the shim flushed).
    pub partial: bool,
    /// The bytes, without the trailing `'\n'`.
    pub line: Vec<u8>,
}
