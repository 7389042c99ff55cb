//! sha256 digests (`sha256:<64 hex>`): parsing, computing and verifying.
//!
//! A [`Digest`] names content in the blob store, an image (its config digest), a layer's
//! uncompressed tar (diff id) or a stack of layers (chain id). [`Hasher`] and
//! [`HashingReader`] compute one while data streams past; [`VerifyingReader`] fails the read
//! that reaches the end of a stream whose size or digest is not the expected one.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

/// The only algorithm berth supports so far (OCI image spec, descriptor.md "Digests":
/// `sha256` is the registered algorithm every implementation must support).
pub const SHA256: &str = "sha256";

/// Why a string is not a digest, or why content does not match one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("invalid digest {0:?}: expected sha256:<64 lower-case hex characters>")]
    Invalid(String),
    #[error("unsupported digest algorithm {0:?}: only sha256 is supported")]
    UnsupportedAlgorithm(String),
    #[error("digest mismatch: expected {expected}, got {actual}")]
    Mismatch { expected: Digest, actual: Digest },
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        digest: Digest,
        expected: u64,
        actual: u64,
    },
}

/// A sha256 content digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest(Sha256::digest(bytes).into())
    }

    /// Parses the 64 lower-case hex characters of a sha256 digest (no `sha256:` prefix).
    pub fn from_hex(hex_str: &str) -> Result<Digest, DigestError> {
        let valid = hex_str.len() == 64
            && hex_str
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !valid {
            return Err(DigestError::Invalid(hex_str.to_string()));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex_str, &mut bytes)
            .map_err(|_| DigestError::Invalid(hex_str.to_string()))?;
        Ok(Digest(bytes))
    }

    /// The 64 lower-case hex characters, as used in file names (`blobs/sha256/<hex>`).
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn algorithm(&self) -> &'static str {
        SHA256
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Fails with [`DigestError::Mismatch`] unless `actual` is this digest.
    pub fn verify(&self, actual: &Digest) -> Result<(), DigestError> {
        if self == actual {
            Ok(())
        } else {
            Err(DigestError::Mismatch {
                expected: *self,
                actual: *actual,
            })
        }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SHA256}:{}", self.hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    /// Parses `sha256:<64 lower-case hex>`; any other registered algorithm is reported as
    /// unsupported rather than invalid.
    fn from_str(s: &str) -> Result<Digest, DigestError> {
        let Some((algorithm, encoded)) = s.split_once(':') else {
            return Err(DigestError::Invalid(s.to_string()));
        };
        // OCI image spec, descriptor.md "Digests": algorithm := [a-z0-9]+ ([+._-] [a-z0-9]+)*
        let algorithm_ok = !algorithm.is_empty()
            && algorithm
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"+._-".contains(&b));
        if !algorithm_ok {
            return Err(DigestError::Invalid(s.to_string()));
        }
        if algorithm != SHA256 {
            return Err(DigestError::UnsupportedAlgorithm(algorithm.to_string()));
        }
        Digest::from_hex(encoded).map_err(|_| DigestError::Invalid(s.to_string()))
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental sha256 that also counts the bytes it has seen.
#[derive(Clone, Default)]
pub struct Hasher {
    state: Sha256,
    len: u64,
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher::default()
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.state.update(bytes);
        self.len += bytes.len() as u64;
    }

    /// Bytes hashed so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest and the number of bytes hashed.
    pub fn finish(self) -> (Digest, u64) {
        (Digest(self.state.finalize().into()), self.len)
    }
}

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> HashingReader<R> {
        HashingReader {
            inner,
            hasher: Hasher::new(),
        }
    }

    /// Bytes read so far.
    pub fn len(&self) -> u64 {
        self.hasher.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hasher.is_empty()
    }

    /// The digest and size of what was read (not of what is left unread).
    pub fn finish(self) -> (Digest, u64) {
        self.hasher.finish()
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Passes data through and turns the end of the stream into an `InvalidData` error (carrying
/// a [`DigestError`]) if the content is longer or shorter than expected or hashes differently.
/// Reading past `expected_size` fails at once, so an oversized stream is never consumed whole.
pub struct VerifyingReader<R> {
    inner: HashingReader<R>,
    expected: Digest,
    expected_size: Option<u64>,
    verified: bool,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: Digest, expected_size: Option<u64>) -> VerifyingReader<R> {
        VerifyingReader {
            inner: HashingReader::new(inner),
            expected,
            expected_size,
            verified: false,
        }
    }

    /// True once the whole stream was read and matched.
    pub fn is_verified(&self) -> bool {
        self.verified
    }

    fn check_end(&mut self) -> io::Result<()> {
        let (actual, size) = self.inner.hasher.clone().finish();
        if let Some(expected) = self.expected_size {
            if size != expected {
                return Err(size_error(self.expected, expected, size));
            }
        }
        self.expected
            .verify(&actual)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.verified = true;
        Ok(())
    }
}

fn size_error(digest: Digest, expected: u64, actual: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        DigestError::SizeMismatch {
            digest,
            expected,
            actual,
        },
    )
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            if !self.verified {
                self.check_end()?;
            }
            return Ok(0);
        }
        if let Some(expected) = self.expected_size {
            if self.inner.len() > expected {
                return Err(size_error(self.expected, expected, self.inner.len()));
            }
        }
        Ok(n)
    }
}

/// If `err` (from a [`VerifyingReader`]) carries a [`DigestError`], returns it.
pub fn digest_error_of(err: &io::Error) -> Option<&DigestError> {
    err.get_ref()
        .and_then(|inner| inner.downcast_ref::<DigestError>())
}

#[cfg(test)]
mod tests {
    use super::*;

    // sha256 of the empty string and of "abc" (FIPS 180-2 test vector).
    const EMPTY: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn computes_known_vectors() {
        assert_eq!(Digest::of(b"").hex(), EMPTY);
        assert_eq!(Digest::of(b"abc").to_string(), format!("sha256:{ABC}"));
    }

    #[test]
    fn parses_and_displays_round_trip() {
        let text = format!("sha256:{ABC}");
        let d: Digest = text.parse().expect("valid digest");
        assert_eq!(d.to_string(), text);
        assert_eq!(d, Digest::of(b"abc"));
        assert_eq!(Digest::from_hex(ABC).expect("hex"), d);
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in [
            "",
            ABC,
            "sha256:",
            "sha256:abc",
            &format!("sha256:{}", ABC.to_uppercase()),
            &format!("sha256:{ABC}0"),
            &format!("sha256:{}g", &ABC[..63]),
            &format!("SHA256:{ABC}"),
            &format!(":{ABC}"),
        ] {
            assert!(
                matches!(bad.parse::<Digest>(), Err(DigestError::Invalid(_))),
                "{bad:?} should be invalid"
            );
        }
    }

    #[test]
    fn reports_other_algorithms_as_unsupported() {
        let err = format!("sha512:{ABC}{ABC}").parse::<Digest>().unwrap_err();
        assert_eq!(err, DigestError::UnsupportedAlgorithm("sha512".into()));
    }

    #[test]
    fn serializes_as_a_string() {
        let d = Digest::of(b"abc");
        let json = serde_json::to_string(&d).expect("serialize");
        assert_eq!(json, format!("\"sha256:{ABC}\""));
        let back: Digest = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Digest>("\"sha256:nope\"").is_err());
    }

    #[test]
    fn hashing_reader_hashes_what_passes_through() {
        let mut reader = HashingReader::new(&b"abc"[..]);
        let mut out = Vec::new();
        reader.read_to_end(&mut out).expect("read");
        assert_eq!(out, b"abc");
        assert_eq!(reader.finish(), (Digest::of(b"abc"), 3));
    }

    #[test]
    fn hasher_counts_and_hashes_in_pieces() {
        let mut h = Hasher::new();
        h.write_all(b"a").expect("write");
        h.update(b"bc");
        assert_eq!(h.len(), 3);
        assert_eq!(h.finish(), (Digest::of(b"abc"), 3));
    }

    #[test]
    fn verifying_reader_accepts_matching_content() {
        let mut r = VerifyingReader::new(&b"abc"[..], Digest::of(b"abc"), Some(3));
        let mut out = Vec::new();
        r.read_to_end(&mut out).expect("matching content reads");
        assert!(r.is_verified());
    }

    #[test]
    fn verifying_reader_fails_on_wrong_content() {
        let mut r = VerifyingReader::new(&b"abd"[..], Digest::of(b"abc"), None);
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(matches!(
            digest_error_of(&err),
            Some(DigestError::Mismatch { .. })
        ));
        assert!(!r.is_verified());
    }

    #[test]
    fn verifying_reader_fails_on_short_and_long_content() {
        let mut short = VerifyingReader::new(&b"ab"[..], Digest::of(b"abc"), Some(3));
        let err = short.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(matches!(
            digest_error_of(&err),
            Some(DigestError::SizeMismatch { actual: 2, .. })
        ));
        let mut long = VerifyingReader::new(&b"abcd"[..], Digest::of(b"abc"), Some(3));
        let err = long.read_to_end(&mut Vec::new()).unwrap_err();
        assert!(matches!(
            digest_error_of(&err),
            Some(DigestError::SizeMismatch { expected: 3, .. })
        ));
    }
}
