//! The byte layout of a log file and of its index: header, records, index entries, varints.
//!
//! ```text
//! file    = header record*
//! header  = "BERTHLG" version:u8 seq:u64le            (16 bytes; version 2)
//! record  = flags:u8 time:varint len:varint bytes[len]
//! flags   = bit 0: stream (0 stdout, 1 stderr)
//!           bit 1: partial (the line continues in the next record of the same stream)
//!           bit 2: absolute time (`time` is unix ns; otherwise the delta from the previous record)
//!           bit 3: continued (this record continues a line a previous record of its stream began)
//!           bits 4-7: zero in version 2
//! varint  = LEB128 of the zigzag-encoded signed value (time) or of the unsigned value (len)
//!
//! index   = "BERTHIX" version:u8 seq:u64le entry*      (the sidecar `<log file>.idx`)
//! entry   = offset:u64le time:i64le lines:u64le         (24 bytes)
//! ```
//!
//! `seq` numbers the files of one container's log: a rotation starts a file with `seq + 1`, so
//! a reader finds the file after its own whatever its current name is, and an index file is
//! matched to its log by `seq`.
//!
//! Each writer session, and each batch that starts at least [`INDEX_EVERY`] bytes after the last
//! checkpoint, starts with an absolute record: a checkpoint. The index lists checkpoints with
//! the time of that record and the number of lines that began before it in the file (records
//! without the `continued` bit), so a reader can start decoding at any entry: `tail` and
//! `since` seek instead of scanning. Lines read from one pipe chunk share one time, so their
//! delta is 0 and a short line costs 3 bytes + text.

use super::{LogRecord, Stream};
use std::ops::Range;

/// File magic: the first 7 bytes of every log file.
pub(crate) const MAGIC: &[u8; 7] = b"BERTHLG";
/// Index magic: the first 7 bytes of every index file.
pub(crate) const INDEX_MAGIC: &[u8; 7] = b"BERTHIX";
/// The format this module writes; readers reject other versions.
pub const FORMAT_VERSION: u8 = 2;
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 1 + 8;
/// Longest record payload: longer lines are split into partial records of this size.
pub const MAX_RECORD_LEN: usize = 16 * 1024;
/// Size of one index entry.
pub(crate) const ENTRY_LEN: usize = 24;
/// A batch starting this many bytes after the last checkpoint starts a new one.
pub(crate) const INDEX_EVERY: u64 = 64 * 1024;

const FLAG_STDERR: u8 = 1;
const FLAG_PARTIAL: u8 = 1 << 1;
const FLAG_ABSOLUTE: u8 = 1 << 2;
const FLAG_CONTINUED: u8 = 1 << 3;
const KNOWN_FLAGS: u8 = FLAG_STDERR | FLAG_PARTIAL | FLAG_ABSOLUTE | FLAG_CONTINUED;

/// The header of a log file (`magic`) or an index file (`INDEX_MAGIC`) numbered `seq`.
fn header_with(magic: &[u8; 7], seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..magic.len()].copy_from_slice(magic);
    h[magic.len()] = FORMAT_VERSION;
    h[magic.len() + 1..].copy_from_slice(&seq.to_le_bytes());
    h
}

/// The 16-byte header of log file number `seq`.
pub(crate) fn header(seq: u64) -> [u8; HEADER_LEN] {
    header_with(MAGIC, seq)
}

/// The 16-byte header of the index of log file number `seq`.
pub(crate) fn index_header(seq: u64) -> [u8; HEADER_LEN] {
    header_with(INDEX_MAGIC, seq)
}

/// Why bytes could not be decoded as a log file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum FormatError {
    #[error("not a berth log file (bad magic)")]
    BadMagic,
    #[error("unsupported log format version {0}")]
    Version(u8),
    #[error("unknown record flags {0:#04x}")]
    Flags(u8),
    #[error("record length {0} exceeds the maximum {MAX_RECORD_LEN}")]
    TooLong(u64),
    #[error("varint longer than 10 bytes")]
    Varint,
    #[error("relative time in the first record")]
    NoBaseTime,
}

/// Checks a complete log header; returns the file's sequence number.
pub(crate) fn check_header(h: &[u8]) -> Result<u64, FormatError> {
    check_header_with(MAGIC, h)
}

/// Checks a complete index header; returns the sequence number of the log it indexes.
pub(crate) fn check_index_header(h: &[u8]) -> Result<u64, FormatError> {
    check_header_with(INDEX_MAGIC, h)
}

fn check_header_with(magic: &[u8; 7], h: &[u8]) -> Result<u64, FormatError> {
    if h.len() < magic.len() + 1 || &h[..magic.len()] != magic {
        return Err(FormatError::BadMagic);
    }
    match h[magic.len()] {
        FORMAT_VERSION => {}
        v => return Err(FormatError::Version(v)),
    }
    let seq: [u8; 8] = h
        .get(magic.len() + 1..HEADER_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(FormatError::BadMagic)?;
    Ok(u64::from_le_bytes(seq))
}

/// One index entry: a checkpoint, where decoding can start with no earlier state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// File offset of an absolute-time record (or of the end of the file).
    pub offset: u64,
    /// Time of the record at `offset`.
    pub time_ns: i64,
    /// Lines that began before `offset` in this file.
    pub lines: u64,
}

impl IndexEntry {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.time_ns.to_le_bytes());
        out.extend_from_slice(&self.lines.to_le_bytes());
    }

    /// Decodes the entry at the start of `b` (at least [`ENTRY_LEN`] bytes).
    pub(crate) fn decode(b: &[u8]) -> Option<Self> {
        let word = |i: usize| -> Option<[u8; 8]> { b.get(i * 8..i * 8 + 8)?.try_into().ok() };
        Some(IndexEntry {
            offset: u64::from_le_bytes(word(0)?),
            time_ns: i64::from_le_bytes(word(1)?),
            lines: u64::from_le_bytes(word(2)?),
        })
    }
}

pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Decodes a varint; `Ok(None)` when `buf` ends inside it.
pub(crate) fn get_uvarint(buf: &[u8]) -> Result<Option<(u64, usize)>, FormatError> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate() {
        if i == 10 {
            return Err(FormatError::Varint);
        }
        v |= u64::from(b & 0x7f) << (7 * i as u32).min(63);
        if b & 0x80 == 0 {
            return Ok(Some((v, i + 1)));
        }
    }
    if buf.len() >= 10 {
        return Err(FormatError::Varint);
    }
    Ok(None)
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Appends one record. `prev_time` is the time of the record before it in this file, `None`
/// for a checkpoint (which is then stored with an absolute time). `continued` marks a record
/// that goes on with a line an earlier record of the same stream left `partial`.
pub(crate) fn encode_record(
    out: &mut Vec<u8>,
    stream: Stream,
    partial: bool,
    continued: bool,
    time_ns: i64,
    prev_time: Option<i64>,
    line: &[u8],
) {
    debug_assert!(line.len() <= MAX_RECORD_LEN);
    let mut flags = 0u8;
    if stream == Stream::Stderr {
        flags |= FLAG_STDERR;
    }
    if partial {
        flags |= FLAG_PARTIAL;
    }
    if continued {
        flags |= FLAG_CONTINUED;
    }
    let time = match prev_time {
        Some(prev) => time_ns.wrapping_sub(prev),
        None => {
            flags |= FLAG_ABSOLUTE;
            time_ns
        }
    };
    out.push(flags);
    put_uvarint(out, zigzag(time));
    put_uvarint(out, line.len() as u64);
    out.extend_from_slice(line);
}

/// The time of the record at the start of `buf` if it is an absolute one (a checkpoint); needs
/// only the record's first bytes.
pub(crate) fn absolute_time(buf: &[u8]) -> Option<i64> {
    let flags = *buf.first()?;
    if flags & !KNOWN_FLAGS != 0 || flags & FLAG_ABSOLUTE == 0 {
        return None;
    }
    let (time, _) = get_uvarint(&buf[1..]).ok()??;
    Some(unzigzag(time))
}

/// A decoded record: its fields, and where its bytes are in the buffer it was decoded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecordHead {
    pub time_ns: i64,
    pub stream: Stream,
    pub partial: bool,
    /// The record continues a line that an earlier record began (it does not start a line).
    pub continued: bool,
    pub line: Range<usize>,
}

impl RecordHead {
    pub(crate) fn to_record(&self, buf: &[u8]) -> LogRecord {
        LogRecord {
            time_ns: self.time_ns,
            stream: self.stream,
            partial: self.partial,
            line: buf[self.line.clone()].to_vec(),
        }
    }
}

/// Decodes the record at the start of `buf`; `Ok(None)` when `buf` ends inside it (a torn
/// or still-being-written record). Returns the record and the number of bytes it used.
pub(crate) fn decode_record(
    buf: &[u8],
    prev_time: Option<i64>,
) -> Result<Option<(RecordHead, usize)>, FormatError> {
    let Some(&flags) = buf.first() else {
        return Ok(None);
    };
    if flags & !KNOWN_FLAGS != 0 {
        return Err(FormatError::Flags(flags));
    }
    let mut at = 1;
    let Some((time, n)) = get_uvarint(&buf[at..])? else {
        return Ok(None);
    };
    at += n;
    let Some((len, n)) = get_uvarint(&buf[at..])? else {
        return Ok(None);
    };
    at += n;
    if len > MAX_RECORD_LEN as u64 {
        return Err(FormatError::TooLong(len));
    }
    let len = len as usize;
    if buf.len() < at + len {
        return Ok(None);
    }
    let time = unzigzag(time);
    let time_ns = if flags & FLAG_ABSOLUTE != 0 {
        time
    } else {
        prev_time.ok_or(FormatError::NoBaseTime)?.wrapping_add(time)
    };
    let head = RecordHead {
        time_ns,
        stream: if flags & FLAG_STDERR != 0 {
            Stream::Stderr
        } else {
            Stream::Stdout
        },
        partial: flags & FLAG_PARTIAL != 0,
        continued: flags & FLAG_CONTINUED != 0,
        line: at..at + len,
    };
    Ok(Some((head, at + len)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_round_trips_edge_values() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_uvarint(&mut out, v);
            assert_eq!(get_uvarint(&out), Ok(Some((v, out.len()))), "value {v}");
            assert_eq!(get_uvarint(&out[..out.len() - 1]), Ok(None), "torn {v}");
        }
    }

    #[test]
    fn overlong_varint_is_rejected() {
        assert_eq!(get_uvarint(&[0xff; 11]), Err(FormatError::Varint));
    }

    #[test]
    fn zigzag_keeps_sign() {
        for v in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn records_decode_with_relative_and_absolute_times() {
        let mut out = Vec::new();
        let t0 = 1_700_000_000_123_456_789;
        encode_record(&mut out, Stream::Stdout, false, false, t0, None, b"a");
        encode_record(
            &mut out,
            Stream::Stderr,
            true,
            true,
            t0 - 5,
            Some(t0),
            b"bc",
        );
        let (h1, n1) = decode_record(&out, None).unwrap().unwrap();
        let r1 = h1.to_record(&out);
        assert_eq!(
            (r1.time_ns, r1.stream, r1.partial, &r1.line[..]),
            (t0, Stream::Stdout, false, &b"a"[..])
        );
        let (h2, n2) = decode_record(&out[n1..], Some(r1.time_ns))
            .unwrap()
            .unwrap();
        let r2 = h2.to_record(&out[n1..]);
        assert_eq!(
            (r2.time_ns, r2.stream, r2.partial, &r2.line[..]),
            (t0 - 5, Stream::Stderr, true, &b"bc"[..])
        );
        assert!(!h1.continued && h2.continued);
        assert_eq!(n1 + n2, out.len());
        // A short line in a batch costs flags + 1-byte delta + 1-byte length.
        assert_eq!(n2, 3 + 2);
    }

    #[test]
    fn relative_first_record_and_bad_flags_are_errors() {
        let mut out = Vec::new();
        encode_record(&mut out, Stream::Stdout, false, false, 10, Some(5), b"x");
        assert_eq!(decode_record(&out, None), Err(FormatError::NoBaseTime));
        assert_eq!(
            decode_record(&[0x80, 0, 0], None),
            Err(FormatError::Flags(0x80))
        );
    }

    #[test]
    fn oversized_length_is_an_error() {
        let mut out = vec![FLAG_ABSOLUTE, 0];
        put_uvarint(&mut out, MAX_RECORD_LEN as u64 + 1);
        assert_eq!(
            decode_record(&out, None),
            Err(FormatError::TooLong(MAX_RECORD_LEN as u64 + 1))
        );
    }

    #[test]
    fn header_is_checked_and_carries_the_sequence_number() {
        assert_eq!(check_header(&header(7)), Ok(7));
        assert_eq!(check_index_header(&index_header(u64::MAX)), Ok(u64::MAX));
        assert_eq!(check_index_header(&header(7)), Err(FormatError::BadMagic));
        assert_eq!(check_header(&index_header(7)), Err(FormatError::BadMagic));
        let mut h = header(1);
        h[MAGIC.len()] = 1;
        assert_eq!(check_header(&h), Err(FormatError::Version(1)));
        assert_eq!(check_header(b"NOTALOG!"), Err(FormatError::BadMagic));
    }

    #[test]
    fn index_entries_round_trip() {
        let e = IndexEntry {
            offset: 1 << 40,
            time_ns: -3,
            lines: 12_345,
        };
        let mut out = Vec::new();
        e.encode(&mut out);
        assert_eq!(out.len(), ENTRY_LEN);
        assert_eq!(IndexEntry::decode(&out), Some(e));
        assert_eq!(IndexEntry::decode(&out[..ENTRY_LEN - 1]), None);
    }
}
