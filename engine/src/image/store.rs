//! The content-addressed blob store (`blobs/sha256/<hex>`): blobs are written to a temp file
//! under `tmp/`, fsynced, verified against their digest and size, and only then renamed into
//! place, so a blob that exists is always complete and correct.

use super::ImageError;
use crate::digest::{digest_error_of, Digest, HashingReader, VerifyingReader};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Prefix of every temp name this module and its callers create under `tmp/` (other parts of
/// berth use `tmp/` too, so cleanup touches only these).
pub(crate) const TMP_PREFIX: &str = "image-";

/// `blobs/sha256/` of a data root.
#[derive(Debug, Clone)]
pub struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
}

/// A blob written and verified under `tmp/` but not yet in the store; removed on drop unless
/// committed.
#[derive(Debug)]
pub struct StagedBlob {
    file: TempPath,
    digest: Digest,
    size: u64,
}

impl StagedBlob {
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Takes over a temp file that the caller wrote, fsynced and verified against `digest`
    /// and `size` while writing it (a blob streamed from a registry).
    pub(crate) fn verified(file: TempPath, digest: Digest, size: u64) -> StagedBlob {
        StagedBlob { file, digest, size }
    }
}

impl BlobStore {
    /// Opens (creating if needed) `<data_root>/blobs/sha256` and `<data_root>/tmp`.
    pub fn open(data_root: &Path) -> Result<BlobStore, ImageError> {
        let store = BlobStore {
            dir: data_root.join("blobs").join("sha256"),
            tmp: data_root.join("tmp"),
        };
        for dir in [&store.dir, &store.tmp] {
            fs::create_dir_all(dir).map_err(|e| ImageError::io("create", dir, e))?;
        }
        Ok(store)
    }

    /// Where the blob lives (whether or not it exists).
    pub fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.hex())
    }

    pub fn contains(&self, digest: &Digest) -> bool {
        self.path(digest).is_file()
    }

    /// Opens a stored blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, ImageError> {
        let path = self.path(digest);
        File::open(&path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => ImageError::BlobNotFound(*digest),
            _ => ImageError::io("open", &path, e),
        })
    }

    /// Reads a stored blob whole (for small JSON documents: configs, manifests).
    pub fn read(&self, digest: &Digest) -> Result<Vec<u8>, ImageError> {
        let mut out = Vec::new();
        self.open_blob(digest)?
            .read_to_end(&mut out)
            .map_err(|e| ImageError::io("read", self.path(digest), e))?;
        Ok(out)
    }

    /// Streams `content` into the store as `expected` (and `expected_size` bytes, if given),
    /// atomically; on any mismatch nothing is stored. Returns the size.
    pub fn write(
        &self,
        content: impl Read,
        expected: &Digest,
        expected_size: Option<u64>,
    ) -> Result<u64, ImageError> {
        let staged = self.stage(content, Some(expected), expected_size, &self.tmp)?;
        let size = staged.size;
        self.commit(staged)?;
        Ok(size)
    }

    /// Stores `bytes` under their own digest.
    pub fn write_bytes(&self, bytes: &[u8]) -> Result<Digest, ImageError> {
        let digest = Digest::of(bytes);
        self.write(bytes, &digest, Some(bytes.len() as u64))?;
        Ok(digest)
    }

    /// Copies `content` to a new temp file in `tmp_dir` (on the store's file system), fsyncs
    /// it, and checks it against `expected` and `expected_size` when given.
    pub fn stage(
        &self,
        content: impl Read,
        expected: Option<&Digest>,
        expected_size: Option<u64>,
        tmp_dir: &Path,
    ) -> Result<StagedBlob, ImageError> {
        let (mut out, file) = create_temp_file(tmp_dir, "ingest")?;
        let copied = match expected {
            Some(expected) => {
                let mut reader = VerifyingReader::new(content, *expected, expected_size);
                io::copy(&mut reader, &mut out).map(|size| (*expected, size))
            }
            None => {
                let mut reader = HashingReader::new(content);
                io::copy(&mut reader, &mut out).map(|_| reader.finish())
            }
        };
        let (digest, size) = copied.map_err(|e| match digest_error_of(&e) {
            Some(mismatch) => ImageError::Digest {
                what: match expected {
                    Some(d) => format!("blob {d}"),
                    None => "blob".to_string(),
                },
                source: mismatch.clone(),
            },
            None => ImageError::io("write", file.path(), e),
        })?;
        if let (None, Some(expected_size)) = (expected, expected_size) {
            if size != expected_size {
                return Err(ImageError::Digest {
                    what: format!("blob {digest}"),
                    source: crate::digest::DigestError::SizeMismatch {
                        digest,
                        expected: expected_size,
                        actual: size,
                    },
                });
            }
        }
        out.sync_all()
            .map_err(|e| ImageError::io("fsync", file.path(), e))?;
        Ok(StagedBlob { file, digest, size })
    }

    /// Hashes an existing temp file in place (a file the caller created under `tmp/`, such as
    /// one extracted from an archive) and takes it over as a staged blob.
    pub(crate) fn adopt(
        &self,
        path: &Path,
        expected: Option<&Digest>,
        expected_size: Option<u64>,
    ) -> Result<StagedBlob, ImageError> {
        let file = File::open(path).map_err(|e| ImageError::io("open", path, e))?;
        let mut reader = HashingReader::new(&file);
        io::copy(&mut reader, &mut io::sink()).map_err(|e| ImageError::io("read", path, e))?;
        let (digest, size) = reader.finish();
        let what = || format!("blob {} ({})", expected.unwrap_or(&digest), path.display());
        if let Some(expected_size) = expected_size {
            if expected_size != size {
                return Err(ImageError::Digest {
                    what: what(),
                    source: crate::digest::DigestError::SizeMismatch {
                        digest: *expected.unwrap_or(&digest),
                        expected: expected_size,
                        actual: size,
                    },
                });
            }
        }
        if let Some(expected) = expected {
            expected
                .verify(&digest)
                .map_err(|source| ImageError::Digest {
                    what: what(),
                    source,
                })?;
        }
        file.sync_all()
            .map_err(|e| ImageError::io("fsync", path, e))?;
        Ok(StagedBlob {
            file: TempPath::new(path.to_path_buf()),
            digest,
            size,
        })
    }

    /// Moves a staged blob into the store (replacing an identical blob is harmless).
    pub fn commit(&self, staged: StagedBlob) -> Result<(), ImageError> {
        let target = self.path(&staged.digest);
        let from = staged.file.path().to_path_buf();
        fs::rename(&from, &target).map_err(|e| ImageError::io("rename into place", &from, e))?;
        staged.file.keep();
        sync_dir(&self.dir)
    }

    /// Every digest in the store.
    pub fn list(&self) -> Result<Vec<Digest>, ImageError> {
        let entries = fs::read_dir(&self.dir).map_err(|e| ImageError::io("list", &self.dir, e))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| ImageError::io("list", &self.dir, e))?;
            if let Some(digest) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            {
                out.push(digest);
            }
        }
        out.sort();
        Ok(out)
    }

    /// Deletes a blob; `false` if it was not there.
    pub fn remove(&self, digest: &Digest) -> Result<bool, ImageError> {
        let path = self.path(digest);
        match fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ImageError::io("remove", &path, e)),
        }
    }
}

/// A path under `tmp/` that is deleted (file or whole tree) when dropped, unless kept.
#[derive(Debug)]
pub(crate) struct TempPath {
    path: PathBuf,
    keep: bool,
}

impl TempPath {
    pub(crate) fn new(path: PathBuf) -> TempPath {
        TempPath { path, keep: false }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The path now belongs elsewhere (it was renamed into place): do not delete it.
    pub(crate) fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let result = match fs::symlink_metadata(&self.path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&self.path),
            Ok(_) => fs::remove_file(&self.path),
            Err(_) => Ok(()),
        };
        if let Err(e) = result {
            tracing::warn!(path = %self.path.display(), error = %e, "failed to remove temp path");
        }
    }
}

/// A fresh, unique name under `dir`: `<dir>/image-<what>-<random>`.
pub(crate) fn temp_name(dir: &Path, what: &str) -> PathBuf {
    dir.join(format!("{TMP_PREFIX}{what}-{:016x}", rand::random::<u64>()))
}

/// Creates a new, empty temp file (never an existing one) readable only by its owner.
pub(crate) fn create_temp_file(dir: &Path, what: &str) -> Result<(File, TempPath), ImageError> {
    loop {
        let path = temp_name(dir, what);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(file) => return Ok((file, TempPath::new(path))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ImageError::io("create", &path, e)),
        }
    }
}

/// Creates a new, empty temp directory.
pub(crate) fn create_temp_dir(dir: &Path, what: &str) -> Result<TempPath, ImageError> {
    loop {
        let path = temp_name(dir, what);
        // Private: extracted archives and staged layers may hold setuid files.
        match fs::DirBuilder::new().mode(0o700).create(&path) {
            Ok(()) => return Ok(TempPath::new(path)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(ImageError::io("create", &path, e)),
        }
    }
}

/// fsyncs a directory so that renames into it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), ImageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| ImageError::io("fsync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::DigestError;

    fn tmp_entries(root: &Path) -> usize {
        fs::read_dir(root.join("tmp"))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    #[test]
    fn writes_verified_blobs_under_their_digest() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(root.path()).expect("open");
        let digest = store.write_bytes(b"hello").expect("write");
        assert_eq!(digest, Digest::of(b"hello"));
        assert!(store.contains(&digest));
        assert_eq!(store.read(&digest).expect("read"), b"hello");
        assert_eq!(
            store.path(&digest),
            root.path().join("blobs/sha256").join(digest.hex())
        );
        assert_eq!(store.list().expect("list"), vec![digest]);
        assert_eq!(tmp_entries(root.path()), 0);
    }

    #[test]
    fn a_mismatching_blob_is_not_stored() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(root.path()).expect("open");
        let claimed = Digest::of(b"hello");
        let err = store.write(&b"jello"[..], &claimed, Some(5)).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::Digest {
                    source: DigestError::Mismatch { .. },
                    ..
                }
            ),
            "{err}"
        );
        let err = store.write(&b"hello!"[..], &claimed, Some(5)).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::Digest {
                    source: DigestError::SizeMismatch { .. },
                    ..
                }
            ),
            "{err}"
        );
        assert!(!store.contains(&claimed));
        assert!(store.list().expect("list").is_empty());
        assert_eq!(tmp_entries(root.path()), 0, "temp files are cleaned up");
    }

    #[test]
    fn staged_blobs_vanish_unless_committed() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(root.path()).expect("open");
        let tmp = root.path().join("tmp");
        let staged = store.stage(&b"abc"[..], None, None, &tmp).expect("stage");
        assert_eq!(staged.digest(), &Digest::of(b"abc"));
        assert!(staged.path().exists());
        drop(staged);
        assert_eq!(tmp_entries(root.path()), 0);
        assert!(store.list().expect("list").is_empty());
    }

    #[test]
    fn adopt_verifies_an_existing_file() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(root.path()).expect("open");
        let file = root.path().join("tmp").join("image-x");
        fs::write(&file, b"abc").expect("write");
        let wrong = Digest::of(b"abd");
        assert!(store.adopt(&file, Some(&wrong), None).is_err());
        assert!(store.adopt(&file, None, Some(4)).is_err());
        let staged = store
            .adopt(&file, Some(&Digest::of(b"abc")), Some(3))
            .expect("adopt");
        store.commit(staged).expect("commit");
        assert!(store.contains(&Digest::of(b"abc")));
        assert!(!file.exists());
    }

    #[test]
    fn remove_reports_whether_the_blob_existed() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = BlobStore::open(root.path()).expect("open");
        let d = store.write_bytes(b"x").expect("write");
        assert!(store.remove(&d).expect("remove"));
        assert!(!store.remove(&d).expect("remove again"));
        assert!(matches!(
            store.open_blob(&d),
            Err(ImageError::BlobNotFound(_))
        ));
    }
}
