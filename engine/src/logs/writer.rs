//! Appending a container's output to its log: splitting into lines, stamping, batching,
//! indexing, rotating.
//!
//! One `write` call (one chunk read from a pipe) becomes one `write(2)` of all the records it
//! completes, all stamped with the time of the call. Bytes after the last `'\n'` wait in a
//! per-stream buffer until the line ends, grows past [`MAX_RECORD_LEN`], or the caller flushes
//! it as a partial record. A batch that starts [`INDEX_EVERY`] bytes after the last checkpoint
//! becomes one, and its index entry is appended to the sidecar index once the batch is on
//! disk, so an entry never points at bytes that are not there.
//!
//! Rotation happens between batches, when the current file has reached `max_size`: the next
//! file is prepared under a temporary name, older files shift up one number (the oldest beyond
//! `max_files` is deleted), the current file gets a second name `.1` (a hard link, so its main
//! name never disappears) and the new file is renamed over the main name. Nothing here ever
//! waits for a reader.

use super::files::{
    index_path, open_log_file, read_index, rotated_path, suffixed, with_path, LogFile,
};
use super::format::{self, encode_record, IndexEntry, HEADER_LEN, INDEX_EVERY, MAX_RECORD_LEN};
use super::reader::{find_end, FileEnd};
use super::Stream;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// When the writer starts a new file, and how many it keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Rotate once the current file has this many bytes; 0 never rotates. A file can exceed
    /// it by the one batch that crossed it.
    pub max_size: u64,
    /// Files kept, the current one included (at least 1).
    pub max_files: u32,
}

impl Default for Rotation {
    /// Three files of 20 MiB, so a chatty container never fills the disk.
    fn default() -> Self {
        Rotation {
            max_size: 20 * 1024 * 1024,
            max_files: 3,
        }
    }
}

/// Appends records to a container's log. Only one writer may have a log open at a time (the
/// container's shim); readers need no coordination with it.
pub struct LogWriter {
    /// The current file's name (`container.log`).
    path: PathBuf,
    rotation: Rotation,
    file: File,
    /// Sequence number of the current file.
    seq: u64,
    /// The current file's index; `None` after it failed (the log goes on without it).
    index: Option<File>,
    /// Length of the file as this writer has written it (used to cut off a failed write).
    len: u64,
    /// Lines begun in the current file.
    lines: u64,
    /// Offset of the last checkpoint written in the current file in this session.
    last_checkpoint: Option<u64>,
    /// The checkpoint that starts the batch being encoded, written to the index after it.
    entry: Option<IndexEntry>,
    /// Do not try rotating again before the file has this length (after a failed rotation).
    retry_rotation_at: u64,
    /// Time of the last record written by this writer; `None` before a checkpoint.
    prev_time: Option<i64>,
    /// Per stream: the last record written was partial (the next one continues its line).
    open: [bool; 2],
    /// The unterminated end of the last line of each stream.
    pending: [Vec<u8>; 2],
    out: Vec<u8>,
}

impl LogWriter {
    /// [`LogWriter::open_with`] and the default rotation (3 × 20 MiB).
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::open_with(path, Rotation::default())
    }

    /// Opens the log whose current file is `path` for appending, creating it with a header if
    /// it does not exist. A torn record left at the end by a writer that crashed mid-write is
    /// cut off first. Refuses a file that is not a berth log (it is left alone).
    pub fn open_with(path: &Path, rotation: Rotation) -> io::Result<Self> {
        // `None`: not there, or only a torn header: start afresh after the last rotated file.
        let (file, seq, index, FileEnd { end, lines }) = match open_log_file(path)? {
            Some(log) => {
                let end = find_end(&log)?;
                let file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| with_path(e, "failed to open log", path))?;
                let size = file
                    .metadata()
                    .map_err(|e| with_path(e, "failed to stat log", path))?
                    .len();
                if end.end < size {
                    file.set_len(end.end)
                        .map_err(|e| with_path(e, "failed to truncate log", path))?;
                }
                let index = reopen_index(&log, end.end);
                (file, log.seq, index, end)
            }
            None => {
                let seq = match open_log_file(&rotated_path(path, 1)) {
                    Ok(Some(older)) => older.seq + 1,
                    _ => 0,
                };
                let (file, index) = prepare_file(path, seq)?;
                commit_file(path)?;
                let end = FileEnd {
                    end: HEADER_LEN as u64,
                    lines: 0,
                };
                (file, seq, index, end)
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            rotation: Rotation {
                max_size: rotation.max_size,
                max_files: rotation.max_files.max(1),
            },
            file,
            seq,
            index,
            len: end,
            lines,
            last_checkpoint: None,
            entry: None,
            retry_rotation_at: 0,
            prev_time: None,
            open: [false; 2],
            pending: [Vec::new(), Vec::new()],
            out: Vec::with_capacity(64 * 1024),
        })
    }

    /// Appends `data` read from `stream`: every completed line becomes a record, the rest is
    /// kept until its line ends (lines longer than [`MAX_RECORD_LEN`] are cut into partial
    /// records as they grow, so nothing is held back without bound).
    pub fn write(&mut self, stream: Stream, data: &[u8]) -> io::Result<()> {
        self.write_at(stream, data, now_ns())
    }

    /// Writes every buffered unterminated line as a `partial` record. The shim calls this
    /// when a pipe has been idle for a while and at EOF, so prompts and progress bars show.
    pub fn flush_partial(&mut self) -> io::Result<()> {
        self.flush_partial_at(now_ns())
    }

    /// Whether some stream has bytes waiting for the end of their line.
    pub fn has_pending(&self) -> bool {
        self.pending.iter().any(|p| !p.is_empty())
    }

    pub(crate) fn write_at(&mut self, stream: Stream, data: &[u8], time_ns: i64) -> io::Result<()> {
        let rotated = self.begin_batch(time_ns);
        let mut lines = Lines {
            out: &mut self.out,
            prev_time: &mut self.prev_time,
            open: &mut self.open[stream.index()],
            count: &mut self.lines,
            stream,
            time_ns,
        };
        let pending = &mut self.pending[stream.index()];
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if pending.is_empty() {
                lines.emit(&rest[..nl], false);
            } else {
                pending.extend_from_slice(&rest[..nl]);
                lines.emit(pending, false);
                pending.clear();
            }
            rest = &rest[nl + 1..];
        }
        if !rest.is_empty() {
            pending.extend_from_slice(rest);
            // Keep at most one record's worth buffered; the rest goes out as partial records.
            let full = (pending.len() - 1) / MAX_RECORD_LEN * MAX_RECORD_LEN;
            if full > 0 {
                lines.emit(&pending[..full], true);
                pending.drain(..full);
            }
        }
        self.write_out()?;
        rotated
    }

    pub(crate) fn flush_partial_at(&mut self, time_ns: i64) -> io::Result<()> {
        if !self.has_pending() {
            return Ok(());
        }
        let rotated = self.begin_batch(time_ns);
        for stream in [Stream::Stdout, Stream::Stderr] {
            let pending = &mut self.pending[stream.index()];
            if !pending.is_empty() {
                Lines {
                    out: &mut self.out,
                    prev_time: &mut self.prev_time,
                    open: &mut self.open[stream.index()],
                    count: &mut self.lines,
                    stream,
                    time_ns,
                }
                .emit(pending, true);
                pending.clear();
            }
        }
        self.write_out()?;
        rotated
    }

    /// Before encoding a batch: rotates if the file is full, and makes the batch a checkpoint
    /// if the last one is far enough back. A failed rotation is returned (after the batch has
    /// been written to the current file, so no output is lost to it).
    fn begin_batch(&mut self, time_ns: i64) -> io::Result<()> {
        let mut result = Ok(());
        let Rotation { max_size, .. } = self.rotation;
        if max_size > 0
            && self.len >= max_size
            && self.len > HEADER_LEN as u64
            && self.len >= self.retry_rotation_at
        {
            result = self.rotate();
            if result.is_err() {
                self.retry_rotation_at = self.len.saturating_add(max_size.max(INDEX_EVERY));
            }
        }
        if self
            .last_checkpoint
            .is_none_or(|at| self.len - at >= INDEX_EVERY)
        {
            self.prev_time = None;
            self.entry = Some(IndexEntry {
                offset: self.len,
                time_ns,
                lines: self.lines,
            });
        }
        result
    }

    /// Starts the next file (see the module comment for the order of the steps).
    fn rotate(&mut self) -> io::Result<()> {
        let next = self.seq + 1;
        let (file, index) = prepare_file(&self.path, next)?;
        // The old file's index ends with its end, so a reader counts its lines without a scan.
        self.write_index_entry(IndexEntry {
            offset: self.len,
            time_ns: self.prev_time.unwrap_or(i64::MAX),
            lines: self.lines,
        });
        if let Err(e) = self
            .shift_older(self.rotation.max_files)
            .and_then(|()| commit_file(&self.path))
        {
            let _ = std::fs::remove_file(suffixed(&self.path, ".new"));
            let _ = std::fs::remove_file(suffixed(&index_path(&self.path), ".new"));
            // Going on in this file: the entry just written must point at a checkpoint.
            self.prev_time = None;
            self.last_checkpoint = Some(self.len);
            return Err(e);
        }
        self.file = file;
        self.index = index;
        self.seq = next;
        self.len = HEADER_LEN as u64;
        self.lines = 0;
        self.last_checkpoint = None;
        self.prev_time = None;
        Ok(())
    }

    /// Deletes the files beyond retention, shifts the kept ones up a number and gives the
    /// current file its rotated name `.1` (when more than one file is kept).
    fn shift_older(&self, keep: u32) -> io::Result<()> {
        let base = &self.path;
        // Leftovers beyond retention (e.g. from a larger `max_files` before).
        let mut i = keep.max(1);
        loop {
            let log = remove_if_there(&rotated_path(base, i))?;
            let idx = remove_if_there(&index_path(&rotated_path(base, i)))?;
            if !log && !idx {
                break;
            }
            i += 1;
        }
        if keep < 2 {
            return Ok(());
        }
        // Rotated files are numbered without holes: shift from the highest one there is.
        let mut top = 0;
        while top + 2 < keep && rotated_path(base, top + 1).exists() {
            top += 1;
        }
        for i in (1..=top).rev() {
            for (from, to) in [
                (rotated_path(base, i), rotated_path(base, i + 1)),
                (
                    index_path(&rotated_path(base, i)),
                    index_path(&rotated_path(base, i + 1)),
                ),
            ] {
                match std::fs::rename(&from, &to) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => {
                        return Err(with_path(e, "failed to rotate log", &from));
                    }
                    _ => {}
                }
            }
        }
        let first = rotated_path(base, 1);
        remove_if_there(&first)?;
        std::fs::hard_link(base, &first).map_err(|e| with_path(e, "failed to rotate log", base))?;
        let idx = index_path(base);
        let first_idx = index_path(&first);
        remove_if_there(&first_idx)?;
        match std::fs::hard_link(&idx, &first_idx) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                Err(with_path(e, "failed to rotate log", &idx))
            }
            _ => Ok(()),
        }
    }

    /// Writes the encoded batch with one `write(2)`; on failure cuts the file back to its
    /// last complete record so a short write never leaves a torn record mid-file. Then
    /// records the batch's checkpoint in the index.
    fn write_out(&mut self) -> io::Result<()> {
        let entry = self.entry.take();
        if self.out.is_empty() {
            return Ok(());
        }
        let res = self.file.write_all(&self.out);
        let written = self.out.len() as u64;
        self.out.clear();
        match res {
            Ok(()) => {
                self.len += written;
                if let Some(entry) = entry {
                    self.last_checkpoint = Some(entry.offset);
                    self.write_index_entry(entry);
                }
                Ok(())
            }
            Err(e) => {
                // Best effort: the write error is the one worth reporting.
                let _ = self.file.set_len(self.len);
                // The records that failed are gone; the next one must not be relative to them.
                self.prev_time = None;
                Err(with_path(e, "failed to write log", &self.path))
            }
        }
    }

    /// Appends an entry to the index. The index only speeds reading up, so when it cannot be
    /// written the log goes on without it (a later `open` cuts a torn entry off).
    fn write_index_entry(&mut self, entry: IndexEntry) {
        if let Some(index) = &mut self.index {
            let mut buf = Vec::with_capacity(format::ENTRY_LEN);
            entry.encode(&mut buf);
            if index.write_all(&buf).is_err() {
                self.index = None;
            }
        }
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Best effort: keep buffered fragments rather than lose them silently.
        let _ = self.flush_partial();
    }
}

/// Encodes the lines of one stream in one batch.
struct Lines<'a> {
    out: &'a mut Vec<u8>,
    prev_time: &'a mut Option<i64>,
    /// The stream's last record was partial.
    open: &'a mut bool,
    /// Lines begun in the file.
    count: &'a mut u64,
    stream: Stream,
    time_ns: i64,
}

impl Lines<'_> {
    /// Encodes one line (or fragment when `partial`) as records of at most [`MAX_RECORD_LEN`]
    /// bytes; all but the last piece are partial.
    fn emit(&mut self, line: &[u8], partial: bool) {
        let mut pieces = line.chunks(MAX_RECORD_LEN).peekable();
        if pieces.peek().is_none() {
            self.record(b"", partial);
            return;
        }
        while let Some(piece) = pieces.next() {
            let last = pieces.peek().is_none();
            self.record(piece, partial || !last);
        }
    }

    fn record(&mut self, bytes: &[u8], partial: bool) {
        let continued = *self.open;
        encode_record(
            self.out,
            self.stream,
            partial,
            continued,
            self.time_ns,
            *self.prev_time,
            bytes,
        );
        if !continued {
            *self.count += 1;
        }
        *self.open = partial;
        *self.prev_time = Some(self.time_ns);
    }
}

/// Creates file number `seq` of the log at `path` under temporary names (`path.new` and its
/// index), header written; [`commit_file`] renames them into place. The index is optional:
/// `None` if it cannot be created.
fn prepare_file(path: &Path, seq: u64) -> io::Result<(File, Option<File>)> {
    let fresh = |target: &Path, header: &[u8]| -> io::Result<File> {
        remove_if_there(target)?;
        let mut f = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(target)
            .map_err(|e| with_path(e, "failed to create log", target))?;
        f.write_all(header)
            .map_err(|e| with_path(e, "failed to write log", target))?;
        Ok(f)
    };
    let file = fresh(&suffixed(path, ".new"), &format::header(seq))?;
    let index = fresh(
        &suffixed(&index_path(path), ".new"),
        &format::index_header(seq),
    )
    .ok();
    Ok((file, index))
}

/// Renames the files [`prepare_file`] made over the current names (index first, so a reader
/// that finds the new log finds its index too).
fn commit_file(path: &Path) -> io::Result<()> {
    let idx = index_path(path);
    let new_idx = suffixed(&idx, ".new");
    if new_idx.exists() {
        std::fs::rename(&new_idx, &idx).map_err(|e| with_path(e, "failed to rotate log", &idx))?;
    } else {
        remove_if_there(&idx)?;
    }
    let new = suffixed(path, ".new");
    std::fs::rename(&new, path).map_err(|e| with_path(e, "failed to rotate log", path))
}

/// The index of `log`, opened for appending with only its entries before `end` kept (a new
/// session's first batch is a checkpoint at `end`); a missing or foreign one is started
/// afresh. `None` if that fails: the log works without an index.
fn reopen_index(log: &LogFile, end: u64) -> Option<File> {
    let path = index_path(&log.path);
    let (entries, _) = read_index(log, end);
    let mut index = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(&path)
        .ok()?;
    match entries {
        Some(entries) => {
            let keep = entries.iter().take_while(|e| e.offset < end).count();
            index
                .set_len((HEADER_LEN + keep * format::ENTRY_LEN) as u64)
                .ok()?;
        }
        None => {
            index.set_len(0).ok()?;
            index.write_all(&format::index_header(log.seq)).ok()?;
        }
    }
    Some(index)
}

/// Removes `path`; returns whether it was there.
fn remove_if_there(path: &Path) -> io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(with_path(e, "failed to remove log", path)),
    }
}

/// Now, in nanoseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{tail, LogReader, LogRecord};
    use std::io::Write;

    fn read_all(path: &Path) -> Vec<LogRecord> {
        let mut r = LogReader::open(path).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            v.push(rec);
        }
        v
    }

    fn lines(recs: &[LogRecord]) -> Vec<(Stream, bool, String)> {
        recs.iter()
            .map(|r| {
                (
                    r.stream,
                    r.partial,
                    String::from_utf8_lossy(&r.line).into_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn round_trip_keeps_lines_streams_and_times() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut w = LogWriter::open(&p).unwrap();
        w.write_at(Stream::Stdout, b"hello\nworld\n", 1_000)
            .unwrap();
        w.write_at(Stream::Stderr, b"oops\n\n", 900).unwrap();
        drop(w);
        let recs = read_all(&p);
        assert_eq!(
            lines(&recs),
            vec![
                (Stream::Stdout, false, "hello".into()),
                (Stream::Stdout, false, "world".into()),
                (Stream::Stderr, false, "oops".into()),
                (Stream::Stderr, false, "".into()),
            ]
        );
        let times: Vec<i64> = recs.iter().map(|r| r.time_ns).collect();
        assert_eq!(times, vec![1_000, 1_000, 900, 900]);
    }

    #[test]
    fn fragments_wait_for_their_line_per_stream() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut w = LogWriter::open(&p).unwrap();
        w.write_at(Stream::Stdout, b"hel", 1).unwrap();
        w.write_at(Stream::Stderr, b"E1\nE", 2).unwrap();
        assert!(w.has_pending());
        w.write_at(Stream::Stdout, b"lo\nnext", 3).unwrap();
        assert_eq!(
            lines(&read_all(&p)),
            vec![
                (Stream::Stderr, false, "E1".into()),
                (Stream::Stdout, false, "hello".into()),
            ]
        );
        w.flush_partial_at(4).unwrap();
        assert!(!w.has_pending());
        w.write_at(Stream::Stdout, b" line\n", 5).unwrap();
        assert_eq!(
            lines(&read_all(&p))[2..],
            [
                (Stream::Stdout, true, "next".into()),
                (Stream::Stderr, true, "E".into()),
                (Stream::Stdout, false, " line".into()),
            ]
        );
        let joined = tail(&p, 10).unwrap();
        assert_eq!(joined.len(), 4);
        assert_eq!(
            (&joined[2].line[..], joined[2].partial),
            (&b"next line"[..], false)
        );
        // The stderr fragment was never ended: it comes last, still marked partial.
        assert_eq!((&joined[3].line[..], joined[3].partial), (&b"E"[..], true));
    }

    #[test]
    fn long_lines_are_split_never_lost() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let long: Vec<u8> = (0..(MAX_RECORD_LEN * 2 + 100))
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let mut w = LogWriter::open(&p).unwrap();
        // Fed in small chunks without a newline: buffered data stays bounded.
        for chunk in long.chunks(1000) {
            w.write_at(Stream::Stdout, chunk, 7).unwrap();
            assert!(w.pending[0].len() <= MAX_RECORD_LEN);
        }
        w.write_at(Stream::Stdout, b"\n", 8).unwrap();
        let exact = vec![b'x'; MAX_RECORD_LEN];
        let mut with_nl = exact.clone();
        with_nl.push(b'\n');
        w.write_at(Stream::Stdout, &with_nl, 9).unwrap();
        drop(w);
        let recs = read_all(&p);
        let shape: Vec<(usize, bool)> = recs.iter().map(|r| (r.line.len(), r.partial)).collect();
        assert_eq!(
            shape,
            vec![
                (MAX_RECORD_LEN, true),
                (MAX_RECORD_LEN, true),
                (100, false),
                (MAX_RECORD_LEN, false)
            ]
        );
        let joined = tail(&p, 2).unwrap();
        assert_eq!(joined[0].line, long);
        assert_eq!(joined[1].line, exact);
    }

    #[test]
    fn reopen_appends_and_cuts_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut w = LogWriter::open(&p).unwrap();
        w.write_at(Stream::Stdout, b"kept\n", 10).unwrap();
        drop(w);
        let good_len = std::fs::metadata(&p).unwrap().len();
        // A writer that died mid-record left 2 bytes of a record behind.
        let mut f = OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&[0x00, 0x84]).unwrap();
        drop(f);
        let mut w = LogWriter::open(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().len(), good_len);
        w.write_at(Stream::Stderr, b"after\n", 5).unwrap();
        drop(w);
        let recs = read_all(&p);
        assert_eq!(
            lines(&recs),
            vec![
                (Stream::Stdout, false, "kept".into()),
                (Stream::Stderr, false, "after".into()),
            ]
        );
        // The second session starts with an absolute time, so going back in time is kept.
        assert_eq!(recs[1].time_ns, 5);
    }

    #[test]
    fn open_refuses_a_foreign_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, b"not a log").unwrap();
        let err = LogWriter::open(&p).err().unwrap();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(std::fs::read(&p).unwrap(), b"not a log");
    }

    #[test]
    fn reading_while_appending_sees_every_record_once() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut w = LogWriter::open(&p).unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0..2000u32 {
                w.write(Stream::Stdout, format!("line {i}\n").as_bytes())
                    .unwrap();
            }
        });
        let mut r = LogReader::open(&p).unwrap();
        let mut seen = 0u32;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while seen < 2000 {
            match r.next_record().unwrap() {
                Some(rec) => {
                    assert_eq!(rec.line, format!("line {seen}").as_bytes());
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
    }

    #[test]
    fn seq_output_stays_under_twice_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut raw = Vec::new();
        for i in 1..=1_000_000u32 {
            raw.extend_from_slice(i.to_string().as_bytes());
            raw.push(b'\n');
        }
        let mut w = LogWriter::open(&p).unwrap();
        // As the shim reads it: pipe-sized chunks that cut lines anywhere.
        for (n, chunk) in raw.chunks(65_536).enumerate() {
            w.write_at(
                Stream::Stdout,
                chunk,
                1_700_000_000_000_000_000 + n as i64 * 1_000,
            )
            .unwrap();
        }
        drop(w);
        // Everything on disk counts: the log and its index.
        let size: u64 = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
        assert!(
            size <= 2 * raw.len() as u64,
            "log {size} bytes for {} raw",
            raw.len()
        );
        assert!(super::super::files::index_path(&p).exists());
        let last = tail(&p, 1).unwrap();
        assert_eq!(last[0].line, b"1000000");
    }

    fn seq_of(path: &Path) -> u64 {
        open_log_file(path).unwrap().unwrap().seq
    }

    #[test]
    fn reopen_after_rotation_continues_the_numbering_and_cuts_a_torn_index() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 400,
            max_files: 100,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        for i in 0..200 {
            w.write_at(Stream::Stdout, format!("a{i}\n").as_bytes(), i)
                .unwrap();
        }
        drop(w);
        let seq = seq_of(&p);
        assert!(seq >= 3, "rotated {seq} times");
        assert_eq!(seq_of(&rotated_path(&p, 1)), seq - 1);
        // A writer that died while appending an index entry.
        let idx = index_path(&p);
        let mut f = OpenOptions::new().append(true).open(&idx).unwrap();
        f.write_all(&[9, 9, 9, 9, 9]).unwrap();
        drop(f);

        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        assert_eq!(
            (std::fs::metadata(&idx).unwrap().len() - HEADER_LEN as u64) % format::ENTRY_LEN as u64,
            0,
            "torn index entry cut off"
        );
        for i in 200..400 {
            w.write_at(Stream::Stdout, format!("a{i}\n").as_bytes(), i)
                .unwrap();
        }
        drop(w);
        assert!(seq_of(&p) > seq);
        let all: Vec<String> = read_all(&p)
            .iter()
            .map(|r| String::from_utf8_lossy(&r.line).into_owned())
            .collect();
        let want: Vec<String> = (0..400).map(|i| format!("a{i}")).collect();
        assert_eq!(all, want);
        // Tail through the index files written by both sessions.
        let last = tail(&p, 150).unwrap();
        assert_eq!(last.len(), 150);
        assert_eq!(last[0].line, b"a250");
    }

    #[test]
    fn a_missing_current_file_is_recreated_after_the_rotated_ones() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("container.log");
        let rotation = Rotation {
            max_size: 100,
            max_files: 3,
        };
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        for i in 0..30 {
            w.write_at(Stream::Stdout, format!("b{i}\n").as_bytes(), i)
                .unwrap();
        }
        drop(w);
        assert!(rotated_path(&p, 1).exists());
        std::fs::remove_file(&p).unwrap();
        let mut w = LogWriter::open_with(&p, rotation).unwrap();
        assert_eq!(seq_of(&p), seq_of(&rotated_path(&p, 1)) + 1);
        w.write_at(Stream::Stdout, b"after\n", 99).unwrap();
        drop(w);
        let last = tail(&p, 2).unwrap();
        assert_eq!(last[1].line, b"after");
    }
}
