//! Reading a log file forwards while the shim may still append to it, and `tail`.
//!
//! The reader holds its own buffer and file offset and never locks: at the current end of the
//! file (including a record the writer has only half written) it returns `None`, keeps what it
//! has, and picks up from there on the next call.

use super::format::{self, RecordHead, HEADER_LEN};
use super::LogRecord;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

const READ_CHUNK: usize = 64 * 1024;

/// Follows one log file from its start.
pub struct LogReader {
    file: File,
    path: PathBuf,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    start: usize,
    /// File offset of `buf[start]`.
    pos: u64,
    header_ok: bool,
    prev_time: Option<i64>,
}

impl LogReader {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path).map_err(|e| with_path(e, "failed to open log", path))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            buf: Vec::with_capacity(READ_CHUNK),
            start: 0,
            pos: 0,
            header_ok: false,
            prev_time: None,
        })
    }

    /// The next record, or `None` at the current end of the file (call again once it grew).
    pub fn next_record(&mut self) -> io::Result<Option<LogRecord>> {
        let Some((head, begin)) = self.next_head()? else {
            return Ok(None);
        };
        Ok(Some(head.to_record(&self.buf[begin..])))
    }

    /// File offset just after the last record returned: where a writer appending to this
    /// file must continue (anything after it is a torn record).
    pub fn position(&self) -> u64 {
        if self.header_ok {
            self.pos
        } else {
            0
        }
    }

    /// Decodes the next record without copying its bytes: its head (with the line's range
    /// relative to `begin`) and where it starts in `self.buf`.
    fn next_head(&mut self) -> io::Result<Option<(RecordHead, usize)>> {
        if !self.header_ok {
            while self.buf.len() - self.start < HEADER_LEN {
                if self.fill()? == 0 {
                    return Ok(None);
                }
            }
            let header = &self.buf[self.start..self.start + HEADER_LEN];
            format::check_header(header).map_err(|e| self.corrupt(e))?;
            self.start += HEADER_LEN;
            self.pos += HEADER_LEN as u64;
            self.header_ok = true;
        }
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
        self.buf.resize(old + READ_CHUNK, 0);
        let res = loop {
            match self.file.read(&mut self.buf[old..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match res {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(old);
                return Err(with_path(e, "failed to read log", &self.path));
            }
        };
        self.buf.truncate(old + n);
        Ok(n)
    }

    fn corrupt(&self, e: format::FormatError) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "corrupt log {} at offset {}: {e}",
                self.path.display(),
                self.pos
            ),
        )
    }
}

/// The last `n` lines of the log, oldest first. A line split over partial records is joined
/// back into one record (with the time of its first piece); a line still unterminated at the
/// end of the file is included with `partial: true`.
///
/// This scans the whole file; the index planned with rotation will make it seek instead.
pub fn tail(path: &Path, n: usize) -> io::Result<Vec<LogRecord>> {
    let mut reader = LogReader::open(path)?;
    // Lines finished so far, in the order their last piece was written.
    let mut done: VecDeque<LogRecord> = VecDeque::with_capacity(n.min(4096));
    let mut open: [Option<LogRecord>; 2] = [None, None];
    while let Some((head, begin)) = reader.next_head()? {
        let bytes = &reader.buf[begin..][head.line.clone()];
        let slot = &mut open[head.stream.index()];
        let line = match slot.take() {
            Some(mut started) => {
                started.line.extend_from_slice(bytes);
                started
            }
            None => head.to_record(&reader.buf[begin..]),
        };
        if head.partial {
            *slot = Some(line);
        } else {
            if n == 0 {
                continue;
            }
            if done.len() == n {
                done.pop_front();
            }
            done.push_back(LogRecord {
                partial: false,
                ..line
            });
        }
    }
    let mut unfinished: Vec<LogRecord> = open.into_iter().flatten().collect();
    unfinished.sort_by_key(|r| r.time_ns);
    for line in unfinished {
        done.push_back(LogRecord {
            partial: true,
            ..line
        });
    }
    while done.len() > n {
        done.pop_front();
    }
    Ok(done.into())
}

/// How a log file that a writer is about to append to ends.
pub(crate) enum FileEnd {
    /// Empty, or only a torn header: the writer starts it afresh.
    Empty,
    /// Complete records end at this offset; anything after it is a torn record.
    At(u64),
}

/// Scans an existing log file to find where its last complete record ends.
pub(crate) fn find_end(path: &Path) -> io::Result<FileEnd> {
    let mut reader = LogReader::open(path)?;
    while reader.next_head()?.is_some() {}
    if reader.header_ok {
        return Ok(FileEnd::At(reader.pos));
    }
    // Shorter than a header: accept only a prefix of our own header, never clobber another file.
    let have = &reader.buf[reader.start..];
    if format::header().starts_with(have) {
        Ok(FileEnd::Empty)
    } else {
        Err(reader.corrupt(format::FormatError::BadMagic))
    }
}

pub(crate) fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::format::{encode_record, header};
    use crate::logs::Stream;
    use std::io::Write;

    fn write_raw(path: &Path, records: &[(Stream, bool, i64, &[u8])]) {
        let mut out = header().to_vec();
        let mut prev = None;
        for &(stream, partial, t, line) in records {
            encode_record(&mut out, stream, partial, t, prev, line);
            prev = Some(t);
        }
        std::fs::write(path, out).unwrap();
    }

    fn read_all(path: &Path) -> Vec<LogRecord> {
        let mut r = LogReader::open(path).unwrap();
        let mut v = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            v.push(rec);
        }
        v
    }

    #[test]
    fn empty_or_header_only_file_has_no_records() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, b"").unwrap();
        assert!(read_all(&p).is_empty());
        std::fs::write(&p, &header()[..3]).unwrap();
        assert!(read_all(&p).is_empty());
        std::fs::write(&p, header()).unwrap();
        assert!(read_all(&p).is_empty());
    }

    #[test]
    fn foreign_file_is_invalid_data() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, b"hello world\n").unwrap();
        let err = LogReader::open(&p).unwrap().next_record().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("bad magic"), "{err}");
        assert!(matches!(find_end(&p), Err(e) if e.kind() == io::ErrorKind::InvalidData));
    }

    #[test]
    fn torn_record_is_returned_once_complete() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        write_raw(&p, &[(Stream::Stdout, false, 100, b"first")]);
        let mut full = std::fs::read(&p).unwrap();
        encode_record(&mut full, Stream::Stderr, false, 150, Some(100), b"second");
        let cut = full.len() - 3;
        std::fs::write(&p, &full[..cut]).unwrap();

        let mut r = LogReader::open(&p).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().line, b"first");
        let end_of_first = r.position();
        assert_eq!(r.next_record().unwrap(), None, "torn record must wait");
        assert_eq!(r.next_record().unwrap(), None);
        assert!(matches!(find_end(&p).unwrap(), FileEnd::At(e) if e == end_of_first));

        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(&full[cut..]).unwrap();
        let second = r.next_record().unwrap().unwrap();
        assert_eq!(
            (second.stream, second.time_ns, &second.line[..]),
            (Stream::Stderr, 150, &b"second"[..])
        );
        assert_eq!(r.position(), full.len() as u64);
    }

    #[test]
    fn tail_joins_partials_and_keeps_last_n() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        write_raw(
            &p,
            &[
                (Stream::Stdout, false, 1, b"one"),
                (Stream::Stdout, true, 2, b"tw"),
                (Stream::Stderr, false, 3, b"err"),
                (Stream::Stdout, false, 4, b"o"),
                (Stream::Stdout, false, 5, b"three"),
                (Stream::Stderr, true, 6, b"prompt> "),
            ],
        );
        let all = tail(&p, 10).unwrap();
        let lines: Vec<(&[u8], Stream, bool, i64)> = all
            .iter()
            .map(|r| (&r.line[..], r.stream, r.partial, r.time_ns))
            .collect();
        assert_eq!(
            lines,
            vec![
                (&b"one"[..], Stream::Stdout, false, 1),
                (&b"err"[..], Stream::Stderr, false, 3),
                (&b"two"[..], Stream::Stdout, false, 2),
                (&b"three"[..], Stream::Stdout, false, 5),
                (&b"prompt> "[..], Stream::Stderr, true, 6),
            ]
        );
        let last2 = tail(&p, 2).unwrap();
        assert_eq!(last2.len(), 2);
        assert_eq!(last2[0].line, b"three");
        assert_eq!(last2[1].line, b"prompt> ");
        assert!(tail(&p, 0).unwrap().is_empty());
    }
}
