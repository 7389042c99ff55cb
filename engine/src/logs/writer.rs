//! Appending a container's output to its log file: splitting into lines, stamping, batching.
//!
//! One `write` call (one chunk read from a pipe) becomes one `write(2)` of all the records it
//! completes, all stamped with the time of the call. Bytes after the last `'\n'` wait in a
//! per-stream buffer until the line ends, grows past [`MAX_RECORD_LEN`], or the caller flushes
//! it as a partial record.

use super::format::{self, encode_record, MAX_RECORD_LEN};
use super::reader::{find_end, with_path, FileEnd};
use super::Stream;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends records to one log file. Only one writer may have a file open at a time (the
/// container's shim); readers need no coordination with it.
pub struct LogWriter {
    file: File,
    path: PathBuf,
    /// Length of the file as this writer has written it (used to cut off a failed write).
    len: u64,
    /// Time of the last record written by this writer; `None` before the first one.
    prev_time: Option<i64>,
    /// The unterminated end of the last line of each stream.
    pending: [Vec<u8>; 2],
    out: Vec<u8>,
}

impl LogWriter {
    /// Opens `path` for appending, creating it with a header if it does not exist. A torn
    /// record left at the end by a writer that crashed mid-write is cut off first.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| with_path(e, "failed to open log", path))?;
        let mut writer = Self {
            file,
            path: path.to_path_buf(),
            len: 0,
            prev_time: None,
            pending: [Vec::new(), Vec::new()],
            out: Vec::with_capacity(64 * 1024),
        };
        let end = match find_end(path)? {
            FileEnd::Empty => None,
            FileEnd::At(end) => Some(end),
        };
        let size = writer
            .file
            .metadata()
            .map_err(|e| with_path(e, "failed to stat log", path))?
            .len();
        match end {
            Some(end) => {
                if end < size {
                    writer.truncate(end)?;
                }
                writer.len = end;
            }
            None => {
                writer.truncate(0)?;
                writer.out.extend_from_slice(&format::header());
                writer.write_out()?;
            }
        }
        Ok(writer)
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
        let Self {
            pending,
            out,
            prev_time,
            ..
        } = self;
        let pending = &mut pending[stream.index()];
        let mut rest = data;
        while let Some(nl) = rest.iter().position(|&b| b == b'\n') {
            if pending.is_empty() {
                emit_line(out, prev_time, stream, time_ns, &rest[..nl], false);
            } else {
                pending.extend_from_slice(&rest[..nl]);
                emit_line(out, prev_time, stream, time_ns, pending, false);
                pending.clear();
            }
            rest = &rest[nl + 1..];
        }
        if !rest.is_empty() {
            pending.extend_from_slice(rest);
            // Keep at most one record's worth buffered; the rest goes out as partial records.
            let full = (pending.len() - 1) / MAX_RECORD_LEN * MAX_RECORD_LEN;
            if full > 0 {
                emit_line(out, prev_time, stream, time_ns, &pending[..full], true);
                pending.drain(..full);
            }
        }
        self.write_out()
    }

    pub(crate) fn flush_partial_at(&mut self, time_ns: i64) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let pending = &mut self.pending[stream.index()];
            if !pending.is_empty() {
                emit_line(
                    &mut self.out,
                    &mut self.prev_time,
                    stream,
                    time_ns,
                    pending,
                    true,
                );
                pending.clear();
            }
        }
        self.write_out()
    }

    /// Writes the encoded batch with one `write(2)`; on failure cuts the file back to its
    /// last complete record so a short write never leaves a torn record mid-file.
    fn write_out(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let res = self.file.write_all(&self.out);
        let written = self.out.len() as u64;
        self.out.clear();
        match res {
            Ok(()) => {
                self.len += written;
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

    fn truncate(&mut self, len: u64) -> io::Result<()> {
        self.file
            .set_len(len)
            .map_err(|e| with_path(e, "failed to truncate log", &self.path))
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Best effort: keep buffered fragments rather than lose them silently.
        let _ = self.flush_partial();
    }
}

/// Encodes one line (or fragment when `partial`) as records of at most [`MAX_RECORD_LEN`]
/// bytes; all but the last piece are partial.
fn emit_line(
    out: &mut Vec<u8>,
    prev_time: &mut Option<i64>,
    stream: Stream,
    time_ns: i64,
    line: &[u8],
    partial: bool,
) {
    let mut pieces = line.chunks(MAX_RECORD_LEN).peekable();
    if pieces.peek().is_none() {
        encode_record(out, stream, partial, time_ns, *prev_time, b"");
        *prev_time = Some(time_ns);
        return;
    }
    while let Some(piece) = pieces.next() {
        let last = pieces.peek().is_none();
        encode_record(out, stream, partial || !last, time_ns, *prev_time, piece);
        *prev_time = Some(time_ns);
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
        let size = std::fs::metadata(&p).unwrap().len();
        assert!(
            size <= 2 * raw.len() as u64,
            "log {size} bytes for {} raw",
            raw.len()
        );
        let last = tail(&p, 1).unwrap();
        assert_eq!(last[0].line, b"1000000");
    }
}
