//! Reading a container's log forwards across its rotated files while the shim may still append
//! and rotate; starting points for `tail`, `since` and `until` found through the index; `tail`.
//!
//! Readers hold their own buffers and file descriptors and never lock. At the current end of
//! the log (including a record the writer has only half written) a reader returns `None`,
//! keeps what it has, and picks up from there on the next call. When it reaches the end of a
//! file that is no longer the current one (its name now points at another inode), it reads that
//! file to its end once more, then goes on with the file numbered one higher: no record is
//! lost or repeated across a rotation, unless the reader fell so far behind that the file it
//! needed was deleted (then it goes on with the oldest file still there).

use super::files::{self, find_seq, load_index, open_chain, with_path, LogFile, Next};
use super::format::{self, IndexEntry, RecordHead, HEADER_LEN};
use super::LogRecord;
use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};

const READ_CHUNK: usize = 64 * 1024;

/// What part of the log to read. The default is everything, oldest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Only the last N lines (counted over both streams; a line split into partial records
    /// counts once).
    pub tail: Option<usize>,
    /// Only lines that began at or after this time (unix ns).
    pub since: Option<i64>,
    /// Stop at the first line that began after this time (unix ns).
    pub until: Option<i64>,
}

/// Decodes the records of one log file from a given offset.
struct FileReader {
    log: LogFile,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    start: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    prev_time: Option<i64>,
    bytes_read: u64,
}

impl FileReader {
    /// A reader at `offset`, which must be the end of the header or a checkpoint.
    fn at(log: LogFile, offset: u64) -> Self {
        FileReader {
            log,
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            pos: offset,
            prev_time: None,
            bytes_read: 0,
        }
    }

    /// Decodes the next record without copying its bytes: its head (with the line's range
    /// relative to `begin`) and where it starts in `self.buf`.
    fn next_head(&mut self) -> io::Result<Option<(RecordHead, usize)>> {
        loop {
            match format::decode_record(&self.buf[self.start..], self.prev_time) {
                Ok(Some((head, used))) => {
                    let begin = self.start;
                    self.start += used;
                    self.pos += used as u64;
                    self.prev_time = Some(head.time_ns);
                    return Ok(Some((head, begin)));
                }
                Ok(None) => {
                    if self.fill()? == 0 {
                        return Ok(None);
                    }
                }
                Err(e) => return Err(self.corrupt(e)),
            }
        }
    }

    /// Reads more of the file after the buffered bytes; returns how many were read.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old = self.buf.len();
        let at = self.pos + (old - self.start) as u64;
        self.buf.resize(old + READ_CHUNK, 0);
        match files::read_full_at(&self.log.file, &mut self.buf[old..], at) {
            Ok(n) => {
                self.buf.truncate(old + n);
                self.bytes_read += n as u64;
                Ok(n)
            }
            Err(e) => {
                self.buf.truncate(old);
                Err(with_path(e, "failed to read log", &self.log.path))
            }
        }
    }

    fn corrupt(&self, e: format::FormatError) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "corrupt log {} at offset {}: {e}",
                self.log.path.display(),
                self.pos
            ),
        )
    }
}

/// Lines that begin in `log` (records without the `continued` bit), counted from the last
/// checkpoint; returns the count and the bytes read.
fn count_lines(log: &LogFile, last: IndexEntry, len: u64) -> io::Result<(u64, u64)> {
    if last.offset >= len {
        return Ok((last.lines, 0));
    }
    let file = log
        .file
        .try_clone()
        .map_err(|e| with_path(e, "failed to open log", &log.path))?;
    let mut r = FileReader::at(
        LogFile {
            file,
            path: log.path.clone(),
            seq: log.seq,
        },
        last.offset,
    );
    let mut lines = last.lines;
    while let Some((head, _)) = r.next_head()? {
        if !head.continued {
            lines += 1;
        }
    }
    Ok((lines, r.bytes_read))
}

/// Follows a container's log, across rotations, from the start point its options select.
pub struct LogReader {
    base: PathBuf,
    cur: FileReader,
    /// Newer files that already existed when the reader was opened, oldest first.
    newer: VecDeque<LogFile>,
    /// The current file is complete: a newer one exists, so the writer is done with it.
    closed: bool,
    /// Lines begun so far in the current file.
    line: u64,
    /// Lines before this (file sequence number, line number) are skipped (`tail`).
    from_line: Option<(u64, u64)>,
    since: Option<i64>,
    until: Option<i64>,
    /// Per stream: whether the line being read is skipped (its first record was).
    skipping: [bool; 2],
    done: bool,
    /// Bytes read by file readers already left behind, and from indexes.
    bytes_done: u64,
    /// Whether a file was lost to retention while this reader was behind.
    gap: bool,
}

impl LogReader {
    /// A reader of the whole log, oldest kept file first. `path` is the current file
    /// (`container.log`); rotated files are found beside it.
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::open_with(path, ReadOptions::default())
    }

    /// A reader of the part of the log `options` selects. `tail` and `since` seek through the
    /// index: opening reads about one checkpoint interval per file it has to count, never the
    /// whole log. Times are assumed to grow through the file (they are the shim's clock).
    pub fn open_with(path: &Path, options: ReadOptions) -> io::Result<Self> {
        let chain = open_chain(path)?;
        let mut bytes = 0u64;
        let mut indexes: Vec<Option<(Vec<IndexEntry>, u64)>> = chain.iter().map(|_| None).collect();
        let mut index_of = |i: usize, bytes: &mut u64| -> io::Result<(Vec<IndexEntry>, u64)> {
            if let Some(done) = &indexes[i] {
                return Ok(done.clone());
            }
            let len = chain[i].len()?;
            let (entries, read) = load_index(&chain[i], len);
            *bytes += read;
            indexes[i] = Some((entries.clone(), len));
            Ok((entries, len))
        };
        let oldest = chain.len() - 1;
        let header_end = IndexEntry {
            offset: HEADER_LEN as u64,
            time_ns: i64::MIN,
            lines: 0,
        };
        // Where to start: (index in `chain`, checkpoint). Later points are nearer the end.
        let mut start = (oldest, header_end);
        let later = |a: (usize, IndexEntry), b: (usize, IndexEntry)| {
            if (chain[a.0].seq, a.1.offset) >= (chain[b.0].seq, b.1.offset) {
                a
            } else {
                b
            }
        };
        let mut from_line = None;
        if let Some(n) = options.tail {
            let mut remaining = n as u64;
            from_line = Some((chain[oldest].seq, 0));
            for (i, log) in chain.iter().enumerate() {
                let (entries, len) = index_of(i, &mut bytes)?;
                let last = entries[entries.len() - 1];
                let (count, read) = count_lines(log, last, len)?;
                bytes += read;
                if count >= remaining {
                    let first = count - remaining;
                    let at = entries
                        .iter()
                        .rev()
                        .find(|e| e.lines <= first)
                        .copied()
                        .unwrap_or(header_end);
                    from_line = Some((log.seq, first));
                    start = (i, at);
                    break;
                }
                remaining -= count;
            }
        }
        if let Some(since) = options.since {
            for i in 0..chain.len() {
                let (entries, _) = index_of(i, &mut bytes)?;
                // Everything before a checkpoint older than `since` is older too.
                if let Some(at) = entries.iter().rev().find(|e| e.time_ns < since) {
                    start = later(start, (i, *at));
                    break;
                }
            }
        }
        let (at_i, at) = start;
        let mut chain = chain;
        let newer: VecDeque<LogFile> = chain.drain(..at_i).rev().collect();
        let Some(log) = chain.into_iter().next() else {
            return Err(io::Error::other(format!(
                "log {} has no file to read",
                path.display()
            )));
        };
        let filtering = options.tail.is_some() || options.since.is_some();
        Ok(LogReader {
            base: path.to_path_buf(),
            closed: !newer.is_empty(),
            cur: FileReader::at(log, at.offset),
            newer,
            line: at.lines,
            from_line,
            since: options.since,
            until: options.until,
            skipping: [filtering; 2],
            done: false,
            bytes_done: bytes,
            gap: false,
        })
    }

    /// The next record, or `None` at the current end of the log (call again once it grew),
    /// or for good once a line after `until` was reached (see [`LogReader::is_done`]).
    pub fn next_record(&mut self) -> io::Result<Option<LogRecord>> {
        let Some((head, begin)) = self.next_head()? else {
            return Ok(None);
        };
        Ok(Some(head.to_record(&self.cur.buf[begin..])))
    }

    /// Whether the reader has passed `until`: it will return no more records.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes this reader has read from log and index files so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_done + self.cur.bytes_read
    }

    /// Whether records were lost to rotation because this reader fell behind by more than
    /// the kept files.
    pub fn missed_records(&self) -> bool {
        self.gap
    }

    /// The next record that passes the options, undecoded.
    fn next_head(&mut self) -> io::Result<Option<(RecordHead, usize)>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let Some((head, begin)) = self.cur.next_head()? else {
                if self.next_file()? {
                    continue;
                }
                return Ok(None);
            };
            let stream = head.stream.index();
            if !head.continued {
                let number = self.line;
                self.line += 1;
                if self.until.is_some_and(|until| head.time_ns > until) {
                    self.done = true;
                    return Ok(None);
                }
                let before_tail = self
                    .from_line
                    .is_some_and(|first| (self.cur.log.seq, number) < first);
                let before_since = self.since.is_some_and(|since| head.time_ns < since);
                self.skipping[stream] = before_tail || before_since;
            }
            if !self.skipping[stream] {
                return Ok(Some((head, begin)));
            }
        }
    }

    /// At the end of the current file: moves to the next one if the writer has moved on.
    /// Returns whether it did (the caller then reads on).
    fn next_file(&mut self) -> io::Result<bool> {
        if !self.closed {
            if self.cur.log.is_at(&self.base)? {
                return Ok(false);
            }
            // Rotated: the writer finished this file before renaming it, so reading it to the
            // end once more (the caller's next call) gets everything it holds.
            self.closed = true;
            return Ok(true);
        }
        let next = match self.newer.pop_front() {
            Some(f) => f,
            None => match find_seq(&self.base, self.cur.log.seq + 1)? {
                Next::Found(f) => f,
                Next::Gone(f) => {
                    self.gap = true;
                    f
                }
                Next::NotYet => return Ok(false),
            },
        };
        self.bytes_done += self.cur.bytes_read;
        self.closed = !self.newer.is_empty();
        self.line = 0;
        self.cur = FileReader::at(next, HEADER_LEN as u64);
        Ok(true)
    }
}

/// The last `n` lines of the log, oldest first, across rotated files. A line split over
/// partial records is joined back into one record (with the time of its first piece); a line
/// still unterminated at the end of the log is included with `partial: true`.
pub fn tail(path: &Path, n: usize) -> io::Result<Vec<LogRecord>> {
    let mut reader = LogReader::open_with(
        path,
        ReadOptions {
            tail: Some(n),
            ..ReadOptions::default()
        },
    )?;
    // Lines finished so far, in the order their last piece was written.
    let mut done: VecDeque<LogRecord> = VecDeque::with_capacity(n.min(4096));
    let push = |done: &mut VecDeque<LogRecord>, line: LogRecord| {
        if n == 0 {
            return;
        }
        if done.len() == n {
            done.pop_front();
        }
        done.push_back(line);
    };
    let mut open: [Option<LogRecord>; 2] = [None, None];
    while let Some((head, begin)) = reader.next_head()? {
        let record = &reader.cur.buf[begin..];
        let slot = &mut open[head.stream.index()];
        let line = match slot.take() {
            Some(mut started) if head.continued => {
                started.line.extend_from_slice(&record[head.line.clone()]);
                started
            }
            unended => {
                // A new line while one was open: a writer session ended without ending it.
                if let Some(unended) = unended {
                    push(&mut done, unended);
                }
                head.to_record(record)
            }
        };
        if head.partial {
            *slot = Some(line);
        } else {
            push(
                &mut done,
                LogRecord {
                    partial: false,
                    ..line
                },
            );
        }
    }
    let mut unfinished: Vec<LogRecord> = open.into_iter().flatten().collect();
    unfinished.sort_by_key(|r| r.time_ns);
    for line in unfinished {
        push(
            &mut done,
            LogRecord {
                partial: true,
                ..line
            },
        );
    }
    Ok(done.into())
}

/// Where the complete records of the log file being appended to end, and how many lines
/// began before that point.
pub(crate) struct FileEnd {
    pub end: u64,
    pub lines: u64,
}

/// Scans `log` from its last checkpoint (or its start, if the index does not lead to a clean
/// end) to find where its last complete record ends.
pub(crate) fn find_end(log: &LogFile) -> io::Result<FileEnd> {
    let len = log.len()?;
    let (entries, _) = load_index(log, len);
    let last = entries[entries.len() - 1];
    let scan = |from: IndexEntry| -> io::Result<FileEnd> {
        let file = log
            .file
            .try_clone()
            .map_err(|e| with_path(e, "failed to open log", &log.path))?;
        let mut r = FileReader::at(
            LogFile {
                file,
                path: log.path.clone(),
                seq: log.seq,
            },
            from.offset,
        );
        let mut lines = from.lines;
        while let Some((head, _)) = r.next_head()? {
            if !head.continued {
                lines += 1;
            }
        }
        Ok(FileEnd { end: r.pos, lines })
    };
    match scan(last) {
        Err(_) if last.offset > HEADER_LEN as u64 => scan(entries[0]),
        other => other,
    }
}
