//! The files of one container's log on disk: names of the rotated set, headers, sidecar indexes.
//!
//! `container.log` is the file being written; rotation renames it to `container.log.1`, the
//! previous `.1` to `.2` and so on. Each log file `F` has its index beside it in `F.idx`.
//! Files are identified by the sequence number in their header, not by name, because names
//! shift under a reader while the writer rotates.

use super::format::{self, IndexEntry, ENTRY_LEN, HEADER_LEN};
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

/// How many times a lookup that raced with a rotation is tried again.
const RACE_RETRIES: usize = 100;

/// `base` for `i == 0`, otherwise `base.i`: where the `i`-th newest file of the log lives.
pub(crate) fn rotated_path(base: &Path, i: u32) -> PathBuf {
    if i == 0 {
        return base.to_path_buf();
    }
    suffixed(base, &format!(".{i}"))
}

/// The sidecar index of the log file at `log`.
pub(crate) fn index_path(log: &Path) -> PathBuf {
    suffixed(log, ".idx")
}

pub(crate) fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = OsString::from(path.as_os_str());
    s.push(suffix);
    PathBuf::from(s)
}

pub(crate) fn with_path(e: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}

/// One open log file and the sequence number from its header.
#[derive(Debug)]
pub(crate) struct LogFile {
    pub file: File,
    /// The name it had when opened (it may have been renamed since).
    pub path: PathBuf,
    pub seq: u64,
}

impl LogFile {
    /// A second handle on the same open file (its own read position), for a side scan.
    pub(crate) fn duplicate(&self) -> io::Result<LogFile> {
        let file = self
            .file
            .try_clone()
            .map_err(|e| with_path(e, "failed to open log", &self.path))?;
        Ok(LogFile {
            file,
            path: self.path.clone(),
            seq: self.seq,
        })
    }

    pub(crate) fn len(&self) -> io::Result<u64> {
        Ok(self
            .file
            .metadata()
            .map_err(|e| with_path(e, "failed to stat log", &self.path))?
            .len())
    }

    /// Whether `path` currently names this very file (same device and inode).
    pub(crate) fn is_at(&self, path: &Path) -> io::Result<bool> {
        let mine = self
            .file
            .metadata()
            .map_err(|e| with_path(e, "failed to stat log", &self.path))?;
        match std::fs::metadata(path) {
            Ok(there) => Ok(there.dev() == mine.dev() && there.ino() == mine.ino()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(with_path(e, "failed to stat log", path)),
        }
    }
}

/// Reads as much of `buf` as the file has at `offset`; returns how many bytes were read.
pub(crate) fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// The sequence number in `file`'s header; `None` when the file is shorter than a header but
/// starts like one (being created), an error when it is not a berth log at all.
pub(crate) fn read_header(file: &File, path: &Path) -> io::Result<Option<u64>> {
    let mut h = [0u8; HEADER_LEN];
    let n = read_full_at(file, &mut h, 0).map_err(|e| with_path(e, "failed to read log", path))?;
    let corrupt = |e: format::FormatError| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("corrupt log {}: {e}", path.display()),
        )
    };
    if n < HEADER_LEN {
        let ours = format::header(0);
        let prefix = n.min(format::MAGIC.len() + 1);
        if h[..prefix] == ours[..prefix] {
            return Ok(None);
        }
        return Err(corrupt(format::FormatError::BadMagic));
    }
    format::check_header(&h).map(Some).map_err(corrupt)
}

/// Opens the log file at `path` for reading; `None` if there is none (yet) or it has no
/// complete header.
pub(crate) fn open_log_file(path: &Path) -> io::Result<Option<LogFile>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(with_path(e, "failed to open log", path)),
    };
    Ok(read_header(&file, path)?.map(|seq| LogFile {
        file,
        path: path.to_path_buf(),
        seq,
    }))
}

/// The files of the log from `base` back to file number `oldest` (or as far as they are
/// kept), newest first, as they stand between two rotations; `None` when a rotation was under
/// way while it looked (look again).
///
/// A rotation shifts names from the oldest down, so while it runs there is at most one hole
/// with a file above it, and at its end `.1` is briefly a second name of the current file.
/// Between rotations `.i` holds file number `current - i`. Names only ever get newer files,
/// so a file older than its name says is a lasting gap (a rotation that failed half-way):
/// the chain stops there.
fn snapshot(base: &Path, oldest: u64) -> io::Result<Option<Vec<LogFile>>> {
    let Some(current) = open_log_file(base)? else {
        return Ok(None);
    };
    let newest = current.seq;
    let mut chain = vec![current];
    let mut i = 1u32;
    while newest
        .checked_sub(u64::from(i))
        .is_some_and(|s| s >= oldest)
    {
        let Some(older) = open_log_file(&rotated_path(base, i))? else {
            if rotated_path(base, i + 1).exists() {
                return Ok(None);
            }
            break;
        };
        let Some(expected) = newest.checked_sub(u64::from(i)) else {
            return Ok(None);
        };
        if older.seq > expected || (i == 1 && older.is_at(base)?) {
            return Ok(None);
        }
        if older.seq < expected {
            break;
        }
        chain.push(older);
        i += 1;
    }
    if !chain[0].is_at(base)? {
        return Ok(None);
    }
    Ok(Some(chain))
}

fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(1));
}

/// The log's files, newest first, with contiguous sequence numbers: the current file and the
/// rotated ones still kept.
pub(crate) fn open_chain(base: &Path) -> io::Result<Vec<LogFile>> {
    for _ in 0..RACE_RETRIES {
        if !base.exists() && !rotated_path(base, 1).exists() {
            break;
        }
        match snapshot(base, 0)? {
            Some(chain) => return Ok(chain),
            None => pause(),
        }
    }
    if open_log_file(base)?.is_none() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("failed to open log {}: no such log", base.display()),
        ));
    }
    Err(io::Error::other(format!(
        "log {} keeps rotating while it is opened",
        base.display()
    )))
}

/// Where the log file numbered `seq` is now: `Found`, `Gone` (deleted by rotation: the oldest
/// newer file is returned instead) or `NotYet` (not started yet).
pub(crate) enum Next {
    Found(LogFile),
    Gone(LogFile),
    NotYet,
}

pub(crate) fn find_seq(base: &Path, seq: u64) -> io::Result<Next> {
    for _ in 0..RACE_RETRIES {
        // The writer replaces the current file by rename, so its name never goes missing
        // while the log exists: a missing one means the log was deleted with its container.
        let Some(current) = open_log_file(base)? else {
            return Ok(Next::NotYet);
        };
        if current.seq <= seq {
            return Ok(if current.seq == seq {
                Next::Found(current)
            } else {
                Next::NotYet
            });
        }
        // Where it is between rotations; its number identifies it whatever the name.
        let back = u32::try_from(current.seq - seq).unwrap_or(u32::MAX);
        if let Some(f) = open_log_file(&rotated_path(base, back))? {
            if f.seq == seq {
                return Ok(Next::Found(f));
            }
        }
        let Some(chain) = snapshot(base, seq)? else {
            pause();
            continue;
        };
        let mut newer_kept = None;
        for f in chain {
            if f.seq == seq {
                return Ok(Next::Found(f));
            }
            if f.seq > seq {
                newer_kept = Some(f);
            }
        }
        return Ok(newer_kept.map_or(Next::NotYet, Next::Gone));
    }
    Ok(Next::NotYet)
}

/// The entries of `log`'s index that are valid for a log of `log_len` bytes: `None` when the
/// index is missing or belongs to another file; stops at the first entry out of order or past
/// the end (a torn or stale tail). Also returns the bytes read.
pub(crate) fn read_index(log: &LogFile, log_len: u64) -> (Option<Vec<IndexEntry>>, u64) {
    let Ok(raw) = std::fs::read(index_path(&log.path)) else {
        return (None, 0);
    };
    let bytes = raw.len() as u64;
    if raw.len() < HEADER_LEN || format::check_index_header(&raw[..HEADER_LEN]) != Ok(log.seq) {
        return (None, bytes);
    }
    let mut entries: Vec<IndexEntry> = Vec::new();
    for chunk in raw[HEADER_LEN..].chunks_exact(ENTRY_LEN) {
        let Some(e) = IndexEntry::decode(chunk) else {
            break;
        };
        let after_previous = entries
            .last()
            .is_none_or(|p| e.offset > p.offset && e.lines >= p.lines);
        if e.offset < HEADER_LEN as u64 || e.offset > log_len || !after_previous {
            break;
        }
        entries.push(e);
    }
    (Some(entries), bytes)
}

/// The checkpoints of `log` (whose length is `log_len`), the first always at the end of the
/// header. A missing, foreign or damaged index yields just that first entry (reading then
/// scans). Returns the entries and the bytes read.
pub(crate) fn load_index(log: &LogFile, log_len: u64) -> (Vec<IndexEntry>, u64) {
    let (entries, mut bytes) = read_index(log, log_len);
    let mut entries = entries.unwrap_or_default();
    if entries
        .first()
        .is_none_or(|e| e.offset != HEADER_LEN as u64)
    {
        entries.insert(
            0,
            IndexEntry {
                offset: HEADER_LEN as u64,
                time_ns: first_time(log).unwrap_or(i64::MAX),
                lines: 0,
            },
        );
        bytes += 32;
    }
    (entries, bytes)
}

/// The time of the first record of `log` (always an absolute one), if it has a record.
fn first_time(log: &LogFile) -> Option<i64> {
    let mut buf = [0u8; 32];
    let n = read_full_at(&log.file, &mut buf, HEADER_LEN as u64).ok()?;
    format::absolute_time(&buf[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names_follow_the_base() {
        let base = Path::new("/d/container.log");
        assert_eq!(rotated_path(base, 0), base);
        assert_eq!(rotated_path(base, 2), Path::new("/d/container.log.2"));
        assert_eq!(
            index_path(&rotated_path(base, 1)),
            Path::new("/d/container.log.1.idx")
        );
    }

    #[test]
    fn headers_of_other_files_are_refused_and_torn_ones_are_not_yet_logs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(&p, b"BERTH").unwrap();
        assert!(open_log_file(&p).unwrap().is_none());
        std::fs::write(&p, b"hello").unwrap();
        let err = open_log_file(&p).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        std::fs::write(&p, format::header(42)).unwrap();
        assert_eq!(open_log_file(&p).unwrap().unwrap().seq, 42);
        assert!(open_log_file(&dir.path().join("none")).unwrap().is_none());
    }

    #[test]
    fn index_of_another_file_or_with_bad_entries_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        let mut log = format::header(3).to_vec();
        format::encode_record(
            &mut log,
            super::super::Stream::Stdout,
            false,
            false,
            77,
            None,
            b"x",
        );
        std::fs::write(&p, &log).unwrap();
        let lf = open_log_file(&p).unwrap().unwrap();
        let len = log.len() as u64;

        // No index: one entry, at the first record, with its time.
        let (e, _) = load_index(&lf, len);
        assert_eq!(
            e,
            vec![IndexEntry {
                offset: HEADER_LEN as u64,
                time_ns: 77,
                lines: 0
            }]
        );

        // An index for another file number is ignored.
        let mut idx = format::index_header(4).to_vec();
        let good = IndexEntry {
            offset: HEADER_LEN as u64,
            time_ns: 77,
            lines: 0,
        };
        good.encode(&mut idx);
        std::fs::write(index_path(&p), &idx).unwrap();
        assert_eq!(load_index(&lf, len).0.len(), 1);

        // Entries past the end of the log, going backwards, and torn ones are dropped.
        let mut idx = format::index_header(3).to_vec();
        good.encode(&mut idx);
        IndexEntry {
            offset: len,
            time_ns: 77,
            lines: 1,
        }
        .encode(&mut idx);
        IndexEntry {
            offset: len + 1,
            time_ns: 78,
            lines: 1,
        }
        .encode(&mut idx);
        idx.extend_from_slice(&[1, 2, 3]);
        std::fs::write(index_path(&p), &idx).unwrap();
        let (e, _) = load_index(&lf, len);
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].offset, len);
    }
}
