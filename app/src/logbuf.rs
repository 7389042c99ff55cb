//! The browser's model of a container log: a bounded buffer of the most recent lines (as the
//! daemon's WebSocket sends them, `berth_wire::ws::LogLine`), so a log of millions of lines
//! keeps a fixed number of DOM rows.

use berth_wire::ws::LogLine as WireLine;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// How many lines the log view keeps; older ones are dropped from the page.
pub const MAX_LINES: usize = 5_000;

/// How long received lines wait before they are put on the page together, given how many the
/// last update brought: 100 ms for a calm log, up to 1 s for a flood. The page then costs a
/// few updates a second however fast the container writes, and skips lines nobody could read
/// (only the newest [`MAX_LINES`] are kept anyway).
pub fn flush_delay(last_batch: usize) -> Duration {
    let ms = 100 + (last_batch / 2).min(900);
    Duration::from_millis(ms as u64)
}

/// A line as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Unix milliseconds.
    pub time_ms: i64,
    pub stream: String,
    pub text: String,
    pub partial: bool,
}

/// How many lines one rendered block holds at most. The page re-renders whole blocks, so a
/// frame costs at most a few blocks however long the log is.
pub const CHUNK_LINES: usize = 200;

/// Consecutive lines rendered together; `seq` is a stable key for keyed rendering and changes
/// whenever the block's lines do.
#[derive(Debug, Clone, PartialEq)]
pub struct LogChunk {
    pub seq: u64,
    pub lines: Vec<LogLine>,
}

/// The newest `cap` lines of a log in blocks of at most [`CHUNK_LINES`], partial lines joined.
#[derive(Debug, Clone, PartialEq)]
pub struct LogBuffer {
    chunks: VecDeque<Arc<LogChunk>>,
    total: usize,
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
            chunks: VecDeque::new(),
            total: 0,
            cap: cap.max(1),
            next_seq: 0,
            dropped: 0,
        }
    }

    /// Appends lines (oldest first), dropping the oldest kept ones beyond the capacity.
    pub fn extend(&mut self, wire: impl IntoIterator<Item = WireLine>) {
        let mut wire = wire.into_iter().peekable();
        if wire.peek().is_none() {
            return;
        }
        // The last block takes new lines while it has room; it is replaced (new key) since
        // its content changes.
        let mut current = match self.chunks.back() {
            Some(last) if last.lines.len() < CHUNK_LINES || ends_partial(&last.lines) => {
                let last = self.chunks.pop_back().map(Arc::unwrap_or_clone);
                last.map(|c| c.lines).unwrap_or_default()
            }
            _ => Vec::new(),
        };
        self.total -= current.len();
        for w in wire {
            let continues = current
                .last()
                .is_some_and(|last| last.partial && last.stream == w.stream);
            if continues {
                if let Some(last) = current.last_mut() {
                    last.text.push_str(&w.line);
                    last.partial = w.partial;
                }
                continue;
            }
            if current.len() >= CHUNK_LINES {
                self.push_chunk(std::mem::take(&mut current));
            }
            current.push(LogLine {
                time_ms: w.time_ms,
                stream: w.stream,
                text: w.line,
                partial: w.partial,
            });
        }
        self.push_chunk(current);
        self.trim();
    }

    fn push_chunk(&mut self, lines: Vec<LogLine>) {
        if lines.is_empty() {
            return;
        }
        self.total += lines.len();
        self.chunks.push_back(Arc::new(LogChunk {
            seq: self.next_seq,
            lines,
        }));
        self.next_seq += 1;
    }

    fn trim(&mut self) {
        while self.total > self.cap {
            let Some(front) = self.chunks.pop_front() else {
                break;
            };
            let excess = self.total - self.cap;
            if front.lines.len() <= excess {
                self.total -= front.lines.len();
                self.dropped += front.lines.len() as u64;
                continue;
            }
            let kept = front.lines[excess..].to_vec();
            self.total -= excess;
            self.dropped += excess as u64;
            self.chunks.push_front(Arc::new(LogChunk {
                seq: self.next_seq,
                lines: kept,
            }));
            self.next_seq += 1;
        }
    }

    /// The blocks, oldest first (cheap to clone: shared).
    pub fn chunks(&self) -> impl Iterator<Item = &Arc<LogChunk>> {
        self.chunks.iter()
    }

    pub fn lines(&self) -> impl Iterator<Item = &LogLine> {
        self.chunks.iter().flat_map(|c| c.lines.iter())
    }

    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// How many older lines were dropped to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

fn ends_partial(lines: &[LogLine]) -> bool {
    lines.last().is_some_and(|l| l.partial)
}

/// Where the live log connection is, as the page says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogStatus {
    Connecting,
    Live,
    /// The connection dropped; a new one will resume after the last line shown.
    Reconnecting,
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
            LogStatus::Reconnecting => "reconnecting…".to_string(),
            LogStatus::Exited(code) => format!("exited with code {code}"),
            LogStatus::Closed => "disconnected".to_string(),
            LogStatus::Failed(why) => why.clone(),
        }
    }

    /// A short word for styling and tests: connecting, live, reconnecting, exited, closed,
    /// failed.
    pub fn kind(&self) -> &'static str {
        match self {
            LogStatus::Connecting => "connecting",
            LogStatus::Live => "live",
            LogStatus::Reconnecting => "reconnecting",
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
            time_ms: 1_795_900_272_123,
            stream: stream.into(),
            line: line.into(),
            partial,
            cursor: Default::default(),
        }
    }

    fn texts(b: &LogBuffer) -> Vec<String> {
        b.lines().map(|l| l.text.clone()).collect()
    }

    fn numbered(range: std::ops::Range<usize>) -> Vec<WireLine> {
        range
            .map(|i| wire("stdout", &format!("line {i}"), false))
            .collect()
    }

    #[test]
    fn keeps_only_the_newest_lines_beyond_capacity() {
        let mut b = LogBuffer::with_capacity(3);
        b.extend(numbered(0..10));
        assert_eq!(texts(&b), ["line 7", "line 8", "line 9"]);
        assert_eq!((b.len(), b.dropped()), (3, 7));
        b.extend(numbered(10..11));
        assert_eq!(texts(&b), ["line 8", "line 9", "line 10"]);
        assert_eq!(b.dropped(), 8);
    }

    #[test]
    fn a_long_log_stays_bounded_in_lines_and_blocks() {
        let mut b = LogBuffer::with_capacity(1_000);
        for start in (0..100_000).step_by(700) {
            b.extend(numbered(start..start + 700));
        }
        assert_eq!(b.len(), 1_000);
        assert_eq!(b.lines().count(), 1_000);
        assert_eq!(
            b.lines().last().map(|l| l.text.as_str()),
            Some("line 100099")
        );
        assert_eq!(
            b.lines().next().map(|l| l.text.as_str()),
            Some("line 99100")
        );
        assert!(b
            .chunks()
            .all(|c| !c.lines.is_empty() && c.lines.len() <= CHUNK_LINES));
        assert!(
            b.chunks().count() <= 1_000 / CHUNK_LINES + 2,
            "{}",
            b.chunks().count()
        );
        assert_eq!(b.dropped(), 100_100 - 1_000);
    }

    #[test]
    fn small_batches_fill_the_last_block_under_a_new_key() {
        let mut b = LogBuffer::default();
        b.extend(numbered(0..1));
        let first_key = b.chunks().next().map(|c| c.seq);
        b.extend(numbered(1..2));
        assert_eq!(b.chunks().count(), 1);
        assert_ne!(b.chunks().next().map(|c| c.seq), first_key);
        b.extend(numbered(2..CHUNK_LINES + 1));
        assert_eq!(b.chunks().count(), 2);
        // A full block is left alone by later lines: its key stays.
        let full_key = b.chunks().next().map(|c| c.seq);
        b.extend(numbered(CHUNK_LINES + 1..CHUNK_LINES + 5));
        assert_eq!(b.chunks().next().map(|c| c.seq), full_key);
        assert_eq!(texts(&b).len(), CHUNK_LINES + 5);
    }

    #[test]
    fn keys_are_unique() {
        let mut b = LogBuffer::with_capacity(500);
        for start in (0..5_000).step_by(37) {
            b.extend(numbered(start..start + 37));
        }
        let mut keys: Vec<_> = b.chunks().map(|c| c.seq).collect();
        let n = keys.len();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), n);
    }

    #[test]
    fn joins_partial_lines_of_the_same_stream() {
        let mut b = LogBuffer::default();
        b.extend([wire("stdout", "hel", true)]);
        b.extend([wire("stdout", "lo", false), wire("stdout", "next", false)]);
        let got: Vec<_> = b.lines().map(|l| (l.text.as_str(), l.partial)).collect();
        assert_eq!(got, [("hello", false), ("next", false)]);
    }

    #[test]
    fn joins_a_partial_line_at_the_end_of_a_full_block() {
        let mut b = LogBuffer::default();
        let mut first = numbered(0..CHUNK_LINES - 1);
        first.push(wire("stdout", "to be ", true));
        b.extend(first);
        b.extend([wire("stdout", "continued", false)]);
        assert_eq!(b.len(), CHUNK_LINES);
        assert_eq!(
            b.lines().last().map(|l| l.text.as_str()),
            Some("to be continued")
        );
    }

    #[test]
    fn does_not_join_a_partial_line_with_another_stream() {
        let mut b = LogBuffer::default();
        b.extend([wire("stdout", "out", true), wire("stderr", "err", false)]);
        assert_eq!(b.len(), 2);
        assert!(b.lines().next().is_some_and(|l| l.partial));
    }

    #[test]
    fn fast_logs_are_flushed_less_often() {
        assert_eq!(flush_delay(0), Duration::from_millis(100));
        assert_eq!(flush_delay(10), Duration::from_millis(105));
        assert_eq!(flush_delay(1_000), Duration::from_millis(600));
        assert_eq!(flush_delay(1_000_000), Duration::from_secs(1));
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
