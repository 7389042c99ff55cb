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
    /// Only records after this position (one a reader returned with
    /// [`LogReader::position`]): resuming where an earlier reader stopped, with no record lost
    /// or repeated (unless the file it was in has been deleted since).
    pub after: Option<LogPos>,
}

/// Where a record ends in the log: the sequence number of its file (which it keeps across
/// renames) and the offset just past it. Positions grow with the log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogPos {
    pub file: u64,
    pub offset: u64,
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
    /// No byte at or past this offset is read (the length a count was taken at).
    limit: u64,
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
            limit: u64::MAX,
        }
    }

    /// A reader at `offset` that reads nothing past `limit`.
    fn bounded(log: LogFile, offset: u64, limit: u64) -> Self {
        FileReader {
            limit,
            ..FileReader::at(log, offset)
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
        let room = self.limit.saturating_sub(at).min(READ_CHUNK as u64) as usize;
        if room == 0 {
            return Ok(0);
        }
        self.buf.resize(old + room, 0);
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

/// What [`count_lines`] found.
struct LineCount {
    lines: u64,
    bytes_read: u64,
    /// Where the last complete record before the length counted to ends.
    end: u64,
}

/// Lines that begin in the first `len` bytes of `log` (records without the `continued` bit),
/// counted from the last checkpoint. Bytes appended after `len` are not read: a writer that
/// keeps appending cannot make the count run past the end the caller will stop at.
fn count_lines(log: &LogFile, last: IndexEntry, len: u64) -> io::Result<LineCount> {
    if last.offset >= len {
        return Ok(LineCount {
            lines: last.lines,
            bytes_read: 0,
            end: last.offset,
        });
    }
    let mut r = FileReader::bounded(log.duplicate()?, last.offset, len);
    let mut lines = last.lines;
    while let Some((head, _)) = r.next_head()? {
        if !head.continued {
            lines += 1;
        }
    }
    Ok(LineCount {
        lines,
        bytes_read: r.bytes_read,
        end: r.pos,
    })
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
    after: Option<LogPos>,
    /// Per stream: whether the line being read is skipped (its first record was).
    skipping: [bool; 2],
    done: bool,
    /// Bytes read by file readers already left behind, and from indexes.
    bytes_done: u64,
    /// Whether a file was lost to retention while this reader was behind.
    gap: bool,
    /// The end of the log when the reader was opened.
    end_at_open: Option<LogPos>,
    /// Return no record at or past this position ([`LogReader::stop_at_open_end`]).
    stop: Option<LogPos>,
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
        // Where the current file's counted records end, if `tail` counted them.
        let mut counted_end = None;
        if let Some(n) = options.tail {
            let mut remaining = n as u64;
            from_line = Some((chain[oldest].seq, 0));
            for (i, log) in chain.iter().enumerate() {
                let (entries, len) = index_of(i, &mut bytes)?;
                let last = entries[entries.len() - 1];
                let counted = count_lines(log, last, len)?;
                bytes += counted.bytes_read;
                if i == 0 {
                    counted_end = Some(counted.end);
                }
                let count = counted.lines;
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
        if let Some(after) = options.after {
            let newest = chain[0].seq;
            if after.file > newest {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "log position {}:{} is past the end of the log",
                        after.file, after.offset
                    ),
                ));
            }
            // The file it is in, from the last checkpoint at or before it; when that file is
            // gone, the oldest file kept (all of it is after the position).
            if let Some(i) = chain.iter().position(|log| log.seq == after.file) {
                let (entries, _) = index_of(i, &mut bytes)?;
                let at = entries
                    .iter()
                    .rev()
                    .find(|e| e.offset <= after.offset)
                    .copied()
                    .unwrap_or(header_end);
                start = later(start, (i, at));
            }
        }
        // Where a read that does not follow ends: the current file (newest first) where the
        // records `tail` counted back from end, if it did, so that the last N lines are
        // exactly those; else its length now.
        let end_at_open = match (chain.first(), counted_end) {
            (Some(current), Some(end)) => Some(LogPos {
                file: current.seq,
                offset: end,
            }),
            (Some(current), None) => Some(LogPos {
                file: current.seq,
                offset: current.len()?,
            }),
            (None, _) => None,
        };
        let (at_i, at) = start;
        let mut chain = chain;
        let newer: VecDeque<LogFile> = chain.drain(..at_i).rev().collect();
        let Some(log) = chain.into_iter().next() else {
            return Err(io::Error::other(format!(
                "log {} has no file to read",
                path.display()
            )));
        };
        // (A resumed reader delivers the rest of a line begun before its position.)
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
            after: options.after,
            skipping: [filtering; 2],
            done: false,
            bytes_done: bytes,
            gap: false,
            end_at_open,
            stop: None,
        })
    }

    /// Makes the reader end where the log ended when it was opened (`logs` without
    /// `--follow`): a writer that keeps appending cannot keep it reading for ever.
    pub fn stop_at_open_end(&mut self) {
        self.stop = self.end_at_open;
    }

    /// The next record, or `None` at the current end of the log (call again once it grew),
    /// or for good once a line after `until` was reached (see [`LogReader::is_done`]).
    pub fn next_record(&mut self) -> io::Result<Option<LogRecord>> {
        if self.stop.is_some_and(|stop| self.position() >= stop) {
            self.done = true;
            return Ok(None);
        }
        let Some((head, begin)) = self.next_head()? else {
            return Ok(None);
        };
        Ok(Some(head.to_record(&self.cur.buf[begin..])))
    }

    /// Where the record returned last ends (before the first: where reading starts).
    pub fn position(&self) -> LogPos {
        LogPos {
            file: self.cur.log.seq,
            offset: self.cur.pos,
        }
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
            // A resumed reader skips records up to its position, pieces of lines included.
            if self.after.is_some_and(|after| self.position() <= after) {
                continue;
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
        let mut r = FileReader::at(log.duplicate()?, from.offset);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::files::open_log_file;
    use crate::logs::format::{encode_record, header};
    use crate::logs::{LogWriter, Rotation, Stream};
    use std::io::Write;

    fn read_all(r: &mut LogReader) -> Vec<LogRecord> {
        let mut v = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            v.push(rec);
        }
        v
    }

    fn text(recs: &[LogRecord]) -> Vec<String> {
        recs.iter()
            .map(|r| String::from_utf8_lossy(&r.line).into_owned())
            .collect()
    }

    fn names(r: std::ops::Range<u32>) -> Vec<String> {
        r.map(|i| format!("line {i}")).collect()
    }

    /// Writes `line {i}` for each i, one write per line at time `t0 + i`.
    fn write_lines(w: &mut LogWriter, r: std::ops::Range<u32>, t0: i64) {
        for i in r {
            w.write_at(
                Stream::Stdout,
                format!("line {i}\n").as_bytes(),
                t0 + i64::from(i),
            )
            .unwrap();
        }
    }

    fn dir_names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn empty_log_has_no_records_and_a_missing_one_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        assert_eq!(
            LogReader::open(&p).err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
        std::fs::write(&p, header(0)).unwrap();
        assert!(read_all(&mut LogReader::open(&p).unwrap()).is_empty());
        assert!(tail(&p, 5).unwrap().is_empty());
    }

    #[test]
    fn foreign_file_is_invalid_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, b"hello world\n, a text file").unwrap();
        let err = LogReader::open(&p).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("bad magic"), "{err}");
    }

    #[test]
    fn torn_record_at_the_end_is_returned_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut full = header(0).to_vec();
        encode_record(&mut full, Stream::Stdout, false, false, 100, None, b"first");
        encode_record(
            &mut full,
            Stream::Stderr,
            false,
            false,
            150,
            Some(100),
            b"second",
        );
        let cut = full.len() - 3;
        std::fs::write(&p, &full[..cut]).unwrap();

        let mut r = LogReader::open(&p).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().line, b"first");
        assert_eq!(r.next_record().unwrap(), None, "torn record must wait");
        assert_eq!(r.next_record().unwrap(), None);
        let log = files::open_log_file(&p).unwrap().unwrap();
        assert_eq!(find_end(&log).unwrap().lines, 1);

        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&full[cut..]).unwrap();
        let second = r.next_record().unwrap().unwrap();
        assert_eq!(
            (second.stream, second.time_ns, &second.line[..]),
            (Stream::Stderr, 150, &b"second"[..])
        );
        assert_eq!(find_end(&log).unwrap().end, full.len() as u64);
    }

    #[test]
    fn rotation_keeps_exactly_max_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 1000,
            max_files: 3,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        write_lines(&mut w, 0..2000, 0);
        drop(w);
        assert_eq!(
            dir_names(dir.path()),
            [
                "container.log",
                "container.log.1",
                "container.log.1.idx",
                "container.log.2",
                "container.log.2.idx",
                "container.log.idx"
            ]
        );
        let seqs: Vec<u64> = (0..3)
            .map(|i| {
                let f = files::open_log_file(&files::rotated_path(&p, i)).unwrap();
                f.unwrap().seq
            })
            .collect();
        assert_eq!(seqs[0], seqs[1] + 1);
        assert_eq!(seqs[1], seqs[2] + 1);
        for i in 1..3 {
            let len = std::fs::metadata(files::rotated_path(&p, i)).unwrap().len();
            assert!(
                (1000..1000 + 64).contains(&len),
                "file .{i} has {len} bytes"
            );
        }
        // What is kept is the newest part of the output, without a hole.
        let all = text(&read_all(&mut LogReader::open(&p).unwrap()));
        let first: u32 = all[0]["line ".len()..].parse().unwrap();
        assert_eq!(all, names(first..2000));
        assert!(
            all.len() > 100 && all.len() < 300,
            "{} lines kept",
            all.len()
        );

        // Fewer files kept after a restart: the surplus goes at the next rotation; one file
        // kept means no rotated file at all.
        let mut w = LogWriter::open_with(
            &p,
            Rotation {
                max_size: 1000,
                max_files: 1,
            },
        )
        .unwrap();
        write_lines(&mut w, 2000..2200, 0);
        drop(w);
        assert_eq!(
            dir_names(dir.path()),
            ["container.log", "container.log.idx"]
        );
    }

    #[test]
    fn reader_follows_while_the_writer_rotates_many_times() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 2048,
            max_files: 100_000,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        const N: u32 = 50_000;
        let mut r = LogReader::open(&p).unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0..N {
                // Lines of varied length, some long enough to be split across records.
                let mut line = format!("line {i}");
                if i.is_multiple_of(997) {
                    line.push_str(&"x".repeat(MAX_SPLIT));
                }
                line.push('\n');
                for piece in line.as_bytes().chunks(7000) {
                    w.write(Stream::Stdout, piece).unwrap();
                }
            }
        });
        let mut seen = 0u32;
        let mut joined = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while seen < N {
            match r.next_record().unwrap() {
                Some(rec) => {
                    joined.extend_from_slice(&rec.line);
                    if rec.partial {
                        continue;
                    }
                    let mut want = format!("line {seen}").into_bytes();
                    if seen.is_multiple_of(997) {
                        want.extend_from_slice("x".repeat(MAX_SPLIT).as_bytes());
                    }
                    assert!(
                        joined == want,
                        "record {seen} lost, repeated or mangled: got {:?} (file seq {})",
                        String::from_utf8_lossy(&joined[..joined.len().min(40)]),
                        r.cur.log.seq
                    );
                    joined.clear();
                    seen += 1;
                }
                None => {
                    assert!(std::time::Instant::now() < deadline, "stuck at {seen}");
                    std::thread::yield_now();
                }
            }
        }
        writer.join().unwrap();
        assert_eq!(r.next_record().unwrap(), None);
        assert!(!r.missed_records());
        assert!(
            files::rotated_path(&p, 300).exists(),
            "the writer must have rotated hundreds of times"
        );
    }

    /// Longer than a record, so such a line is split into partial records.
    const MAX_SPLIT: usize = crate::logs::MAX_RECORD_LEN + 100;

    #[test]
    fn a_reader_left_behind_by_retention_goes_on_with_the_oldest_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 500,
            max_files: 2,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        write_lines(&mut w, 0..10, 0);
        let mut r = LogReader::open(&p).unwrap();
        assert_eq!(text(&[r.next_record().unwrap().unwrap()]), names(0..1));
        write_lines(&mut w, 10..1000, 0);
        let rest = text(&read_all(&mut r));
        assert!(r.missed_records());
        // All of its first file, then a jump to the oldest kept file, then all of it.
        let numbers: Vec<u32> = rest
            .iter()
            .map(|l| l["line ".len()..].parse().unwrap())
            .collect();
        let jump = numbers.windows(2).position(|w| w[1] != w[0] + 1).unwrap() + 1;
        assert_eq!(rest[..jump], names(1..numbers[jump - 1] + 1)[..]);
        assert!(numbers[jump] > numbers[jump - 1] + 10, "{numbers:?}");
        assert_eq!(rest[jump..], names(numbers[jump]..1000)[..]);
    }

    #[test]
    fn a_read_that_does_not_follow_ends_where_the_log_ended_when_it_began() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 400,
            max_files: 50,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        write_lines(&mut w, 0..100, 1_000);
        let open = |tail| {
            let mut r = LogReader::open_with(
                &p,
                ReadOptions {
                    tail,
                    ..ReadOptions::default()
                },
            )
            .unwrap();
            r.stop_at_open_end();
            r
        };
        let (mut tail3, mut all) = (open(Some(3)), open(None));
        // A fast writer goes on, across rotations, while the readers read.
        let mut got = Vec::new();
        for i in 100..400 {
            write_lines(&mut w, i..i + 1, 1_000);
            if let Some(rec) = tail3.next_record().unwrap() {
                got.push(rec);
            }
        }
        got.extend(read_all(&mut tail3));
        assert_eq!(text(&got), names(97..100));
        assert!(tail3.is_done());
        assert_eq!(text(&read_all(&mut all)), names(0..100));
        // An empty log ends at once; a following reader (no stop) sees the new lines.
        let q = dir.path().join("empty.log");
        let mut e = LogWriter::open_with(&q, rotation).unwrap();
        let mut r = LogReader::open(&q).unwrap();
        let mut stopped = LogReader::open(&q).unwrap();
        stopped.stop_at_open_end();
        write_lines(&mut e, 0..2, 1_000);
        assert_eq!(read_all(&mut stopped), []);
        assert_eq!(text(&read_all(&mut r)), names(0..2));
    }

    #[test]
    fn lines_appended_after_the_length_counted_to_are_not_counted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let mut w = LogWriter::open_with(&p, Rotation::default()).unwrap();
        write_lines(&mut w, 0..5, 1_000);
        let log = open_log_file(&p).unwrap().unwrap();
        let len = log.len().unwrap();
        // The writer goes on between the length being taken and the count (the race a
        // `logs --tail` of a fast writer hit: the count ran past the end it stopped at).
        write_lines(&mut w, 5..50, 1_000);
        let start = IndexEntry {
            offset: HEADER_LEN as u64,
            time_ns: i64::MIN,
            lines: 0,
        };
        let counted = count_lines(&log, start, len).unwrap();
        assert_eq!((counted.lines, counted.end), (5, len));
        assert!(counted.bytes_read <= len);
    }

    #[test]
    fn tail_since_and_until_work_across_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 300,
            max_files: 50,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        write_lines(&mut w, 0..500, 1_000);
        // A long line that starts in one file and ends in the next.
        w.write_at(Stream::Stderr, &[b'y'; 600], 2_000).unwrap();
        w.flush_partial_at(2_001).unwrap();
        w.write_at(Stream::Stderr, &[b'z'; 600], 2_002).unwrap();
        w.write_at(Stream::Stderr, b"\n", 2_003).unwrap();
        w.write_at(Stream::Stdout, b"last\n", 2_004).unwrap();
        drop(w);
        assert!(files::rotated_path(&p, 10).exists());

        let open = |o: ReadOptions| LogReader::open_with(&p, o).unwrap();
        let tail_of = |n| ReadOptions {
            tail: Some(n),
            ..ReadOptions::default()
        };
        // The long line counts once, even though it is two records in two files.
        let recs = read_all(&mut open(tail_of(2)));
        assert_eq!(recs.len(), 3);
        assert_eq!((&recs[0].line, recs[0].partial), (&vec![b'y'; 600], true));
        assert_eq!((&recs[1].line, recs[1].partial), (&vec![b'z'; 600], false));
        assert_eq!(text(&recs[2..]), ["last"]);
        // Starting inside the long line skips its rest: tail 1 is the last line alone.
        assert_eq!(text(&read_all(&mut open(tail_of(1)))), ["last"]);
        let recs = read_all(&mut open(tail_of(5)));
        assert_eq!(text(&recs[..3]), names(497..500));
        assert_eq!(read_all(&mut open(tail_of(0))), []);
        let all = read_all(&mut open(tail_of(1_000_000)));
        assert_eq!(text(&all[..3]), names(0..3));
        let joined = tail(&p, 3).unwrap();
        assert_eq!(joined.len(), 3);
        assert_eq!(joined[1].line.len(), 1200);
        assert!(!joined[1].partial);
        // A line's time is that of its first record: when the shim flushed its start.
        assert_eq!(joined[1].time_ns, 2_001);

        let since = |s, u| ReadOptions {
            since: Some(s),
            until: u,
            ..ReadOptions::default()
        };
        assert_eq!(
            text(&read_all(&mut open(since(1_100, Some(1_109))))),
            names(100..110)
        );
        let mut r = open(since(1_499, Some(1_499)));
        assert_eq!(text(&read_all(&mut r)), names(499..500));
        assert!(r.is_done());
        // `since` joined with `tail`: the later of the two wins.
        let both = ReadOptions {
            since: Some(1_250),
            tail: Some(260),
            until: Some(1_259),
            after: None,
        };
        assert_eq!(text(&read_all(&mut open(both))), names(250..260));
        let both = ReadOptions {
            since: Some(1_250),
            tail: Some(4),
            until: None,
            after: None,
        };
        let recs = read_all(&mut open(both));
        assert_eq!(text(&recs[..2]), names(498..500));
        assert_eq!(recs.len(), 5);
        // Nothing after `since`: an empty read.
        assert_eq!(read_all(&mut open(since(9_999, None))), []);
    }

    /// A 20 MiB log of short lines written as the shim writes it (pipe-sized chunks).
    fn big_log(dir: &Path) -> (PathBuf, u32, i64) {
        let p = dir.join("container.log");
        let mut w = LogWriter::open(&p).unwrap();
        let t0 = 1_700_000_000_000_000_000i64;
        let mut chunk = Vec::new();
        let mut i = 0u32;
        let mut n = 0i64;
        while std::fs::metadata(&p).unwrap().len() < 20 * 1024 * 1024 - 128 * 1024 {
            chunk.clear();
            while chunk.len() < 60_000 {
                chunk.extend_from_slice(format!("line {i} of a big log\n").as_bytes());
                i += 1;
            }
            w.write_at(Stream::Stdout, &chunk, t0 + n * 1_000).unwrap();
            n += 1;
        }
        drop(w);
        assert!(!files::rotated_path(&p, 1).exists());
        (p, i, t0)
    }

    #[test]
    fn tail_and_since_of_a_20_mib_log_read_a_bounded_number_of_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (p, lines, t0) = big_log(dir.path());
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(size > 19 * 1024 * 1024);

        let mut r = LogReader::open_with(
            &p,
            ReadOptions {
                tail: Some(10),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let recs = read_all(&mut r);
        assert_eq!(
            String::from_utf8_lossy(&recs[0].line),
            format!("line {} of a big log", lines - 10)
        );
        assert_eq!(recs.len(), 10);
        assert!(
            r.bytes_read() < 400 * 1024,
            "tail read {} of {size} bytes",
            r.bytes_read()
        );

        // Batch 150 was stamped t0 + 150 µs; lines from it on.
        let mut r = LogReader::open_with(
            &p,
            ReadOptions {
                since: Some(t0 + 150 * 1_000),
                until: Some(t0 + 150 * 1_000),
                ..ReadOptions::default()
            },
        )
        .unwrap();
        let recs = read_all(&mut r);
        assert!(recs.len() > 1000);
        assert!(recs.iter().all(|rec| rec.time_ns == t0 + 150 * 1_000));
        assert!(
            r.bytes_read() < 400 * 1024,
            "since read {} of {size} bytes",
            r.bytes_read()
        );
    }
}
