//! Compressing the uncompressed layer blobs of loaded and imported images for push, as docker
//! and containerd do: `docker save` archives, OCI layouts written by some tools and `import`
//! hold plain tars, which a registry would otherwise store and serve at full size.
//!
//! The compressed blob's digest is only known once it is written, so a layer is compressed,
//! streaming, into a temp file under `tmp/` while it is hashed, then moved into `blobs/` like
//! any other blob. `compressed/<source-hex>.<gzip|zstd>` remembers which blob that was (one
//! line, its digest), so that pushing the image again (another tag, another registry) sends
//! the same bytes without compressing again, and a registry that has them answers the HEAD.
//! The image sweep keeps such a blob while the layer it was made from is in use, and drops
//! the entry and the blob with it (see [`sweep`]).
//!
//! The image config's `rootfs.diff_ids` are the digests of the *uncompressed* tars (OCI image
//! spec, config.md "rootfs"), so compressing changes the manifest's layer descriptors only:
//! the config, and with it the image id, stays the same.

use super::config::media_type;
use super::store::{create_temp_file, sync_dir, BlobStore};
use super::unpack::Compression;
use super::{ImageError, ImageStore};
use crate::digest::{Digest, VerifyingReader};
use std::collections::HashSet;
use std::fmt;
use std::fs;
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The zstd level: zstd's own default, and what containerd and buildkit use.
pub const ZSTD_LEVEL: i32 = 3;

/// How push compresses a layer stored uncompressed (layers already compressed are sent as
/// they are, whatever this says).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LayerCompression {
    /// gzip at zlib's default level (6), as docker's `gzip.DefaultCompression`.
    #[default]
    Gzip,
    /// zstd at [`ZSTD_LEVEL`]; the manifest is then an OCI one (see [`ManifestKind`]).
    Zstd,
}

impl LayerCompression {
    pub fn name(self) -> &'static str {
        match self {
            LayerCompression::Gzip => "gzip",
            LayerCompression::Zstd => "zstd",
        }
    }

    /// The blob compression this produces.
    pub fn compression(self) -> Compression {
        match self {
            LayerCompression::Gzip => Compression::Gzip,
            LayerCompression::Zstd => Compression::Zstd,
        }
    }
}

impl fmt::Display for LayerCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A compression push does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown compression {0:?}: expected gzip or zstd")]
pub struct UnknownCompression(pub String);

impl FromStr for LayerCompression {
    type Err = UnknownCompression;

    fn from_str(s: &str) -> Result<Self, UnknownCompression> {
        match s {
            "gzip" => Ok(LayerCompression::Gzip),
            "zstd" => Ok(LayerCompression::Zstd),
            other => Err(UnknownCompression(other.to_string())),
        }
    }
}

/// The family of media types a manifest and its descriptors use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// OCI image spec, manifest.md and media-types.md.
    Oci,
    /// Docker's image manifest v2, schema 2.
    Docker,
}

impl ManifestKind {
    /// The kind of a manifest media type; `None` for anything that is not an image manifest.
    pub fn of(manifest_media_type: &str) -> Option<ManifestKind> {
        match manifest_media_type {
            media_type::OCI_MANIFEST => Some(ManifestKind::Oci),
            media_type::DOCKER_MANIFEST => Some(ManifestKind::Docker),
            _ => None,
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            ManifestKind::Oci => media_type::OCI_MANIFEST,
            ManifestKind::Docker => media_type::DOCKER_MANIFEST,
        }
    }

    pub fn config_media_type(self) -> &'static str {
        match self {
            ManifestKind::Oci => media_type::OCI_CONFIG,
            ManifestKind::Docker => media_type::DOCKER_CONFIG,
        }
    }

    /// The layer media type of a blob with this compression. Docker's schema 2 names a plain
    /// tar (`…rootfs.diff.tar`) and a gzip one (`…rootfs.diff.tar.gzip`) but no zstd layer, so
    /// a zstd layer has none there (`None`): such an image is pushed with an OCI manifest, as
    /// buildkit does (its `compression=zstd` forces `oci-mediatypes=true`).
    pub fn layer_media_type(self, compression: Compression) -> Option<&'static str> {
        match (self, compression) {
            (ManifestKind::Oci, Compression::None) => Some(media_type::OCI_LAYER),
            (ManifestKind::Oci, Compression::Gzip) => Some(media_type::OCI_LAYER_GZIP),
            (ManifestKind::Oci, Compression::Zstd) => Some(media_type::OCI_LAYER_ZSTD),
            (ManifestKind::Docker, Compression::None) => Some(media_type::DOCKER_LAYER),
            (ManifestKind::Docker, Compression::Gzip) => Some(media_type::DOCKER_LAYER_GZIP),
            (ManifestKind::Docker, Compression::Zstd) => None,
        }
    }
}

/// A compressed copy of a plain layer blob, in the blob store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compressed {
    pub digest: Digest,
    pub size: u64,
    /// Made by an earlier push (found in the cache) rather than now.
    pub reused: bool,
}

/// The `compression` copy of the uncompressed layer blob `source` (its digest is the layer's
/// diff id): the one an earlier push made when it is still in the store, else compressed now,
/// streaming, and kept for the next push. The source is checked against its digest while it
/// is read; nothing is kept when anything fails (the temp file is deleted). Blocking and slow
/// for big layers: async callers use `spawn_blocking`.
pub fn compressed_copy(
    store: &ImageStore,
    source: &Digest,
    compression: LayerCompression,
) -> Result<Compressed, ImageError> {
    let entry = entry_path(store.compressed_dir(), source, compression);
    if let Some(found) = cached(store.blobs(), &entry) {
        return Ok(found);
    }
    let input = store.blobs().open_blob(source)?;
    // The source is checked against its digest as the encoder reads it; the store stages the
    // encoder's output (temp file, hash, fsync) as it stages every other blob.
    let reader = VerifyingReader::new(BufReader::with_capacity(1 << 20, input), *source, None);
    let encoded: Box<dyn Read> = match compression {
        // mtime 0 and no file name in the header: the same input gives the same blob.
        LayerCompression::Gzip => Box::new(flate2::read::GzEncoder::new(
            reader,
            flate2::Compression::default(),
        )),
        LayerCompression::Zstd => Box::new(
            zstd::stream::read::Encoder::new(reader, ZSTD_LEVEL)
                .map_err(|e| ImageError::io("compress", store.blobs().path(source), e))?,
        ),
    };
    let staged = store.blobs().stage(encoded, None, None, store.tmp_dir())?;
    let (digest, size) = (*staged.digest(), staged.size());
    store.blobs().commit(staged)?;
    remember(store, &entry, &digest)?;
    Ok(Compressed {
        digest,
        size,
        reused: false,
    })
}

/// `compressed/<source-hex>.<compression>`.
fn entry_path(dir: &Path, source: &Digest, compression: LayerCompression) -> PathBuf {
    dir.join(format!("{}.{}", source.hex(), compression.name()))
}

/// The source blob and compression an entry's file name names.
fn parse_entry_name(name: &str) -> Option<(Digest, LayerCompression)> {
    let (hex, compression) = name.split_once('.')?;
    Some((Digest::from_hex(hex).ok()?, compression.parse().ok()?))
}

/// The blob an entry names, if the entry is readable and the blob still stored (anything
/// else is a miss: the layer is compressed again and the entry rewritten).
fn cached(blobs: &BlobStore, entry: &Path) -> Option<Compressed> {
    let text = fs::read_to_string(entry).ok()?;
    let digest: Digest = text.trim().parse().ok()?;
    let size = fs::metadata(blobs.path(&digest)).ok()?.len();
    Some(Compressed {
        digest,
        size,
        reused: true,
    })
}

/// Writes an entry atomically (temp file, fsync, rename).
fn remember(store: &ImageStore, entry: &Path, digest: &Digest) -> Result<(), ImageError> {
    let (mut file, temp) = create_temp_file(store.tmp_dir(), "compressed-entry")?;
    file.write_all(format!("{digest}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| ImageError::io("write", temp.path(), e))?;
    fs::rename(temp.path(), entry).map_err(|e| ImageError::io("rename into place", entry, e))?;
    temp.keep();
    sync_dir(store.compressed_dir())
}

/// For the image sweep: deletes the entries whose source blob is not in `keep` or whose
/// compressed blob is gone, and returns the compressed blobs of the others, which the sweep
/// must keep as well (no image lists them, but they belong to a layer in use).
pub(crate) fn sweep(
    dir: &Path,
    blobs: &BlobStore,
    keep: &HashSet<Digest>,
) -> Result<HashSet<Digest>, ImageError> {
    let mut kept = HashSet::new();
    let entries = fs::read_dir(dir).map_err(|e| ImageError::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ImageError::io("list", dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let Some((source, _)) = parse_entry_name(&name) else {
            continue;
        };
        let target = cached(blobs, &entry.path()).map(|c| c.digest);
        match target {
            Some(target) if keep.contains(&source) => {
                kept.insert(target);
            }
            _ => match fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(ImageError::io("remove", entry.path(), e)),
            },
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::unpack;
    use std::io::Read;

    /// A compressible "layer": the same bytes the tests push around are never a valid tar,
    /// which compression does not care about.
    fn plain_layer(store: &ImageStore) -> (Digest, Vec<u8>) {
        let bytes: Vec<u8> = (0..200_000u32)
            .flat_map(|i| format!("line {} of the layer\n", i % 977).into_bytes())
            .collect();
        (store.blobs().write_bytes(&bytes).expect("blob"), bytes)
    }

    fn fresh_store() -> (tempfile::TempDir, ImageStore) {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        (root, store)
    }

    fn tmp_entries(root: &Path) -> usize {
        fs::read_dir(root.join("tmp")).map_or(0, |d| d.count())
    }

    #[test]
    fn compression_names_parse_and_unknown_ones_are_refused() {
        assert_eq!("gzip".parse(), Ok(LayerCompression::Gzip));
        assert_eq!("zstd".parse(), Ok(LayerCompression::Zstd));
        assert_eq!(LayerCompression::default(), LayerCompression::Gzip);
        let err = "lz4".parse::<LayerCompression>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown compression \"lz4\": expected gzip or zstd"
        );
        assert!("GZIP".parse::<LayerCompression>().is_err());
        assert!("".parse::<LayerCompression>().is_err());
    }

    #[test]
    fn layer_media_types_follow_the_manifest_kind() {
        use ManifestKind::{Docker, Oci};
        let expected = [
            (
                Oci,
                Compression::None,
                "application/vnd.oci.image.layer.v1.tar",
            ),
            (
                Oci,
                Compression::Gzip,
                "application/vnd.oci.image.layer.v1.tar+gzip",
            ),
            (
                Oci,
                Compression::Zstd,
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
            (
                Docker,
                Compression::None,
                "application/vnd.docker.image.rootfs.diff.tar",
            ),
            (
                Docker,
                Compression::Gzip,
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
            ),
        ];
        for (kind, compression, media_type) in expected {
            assert_eq!(kind.layer_media_type(compression), Some(media_type));
        }
        assert_eq!(Docker.layer_media_type(Compression::Zstd), None);
        assert_eq!(
            ManifestKind::of("application/vnd.docker.distribution.manifest.v2+json"),
            Some(Docker)
        );
        assert_eq!(
            ManifestKind::of("application/vnd.oci.image.manifest.v1+json"),
            Some(Oci)
        );
        assert_eq!(
            ManifestKind::of("application/vnd.oci.image.index.v1+json"),
            None
        );
        assert_eq!(
            Docker.config_media_type(),
            "application/vnd.docker.container.image.v1+json"
        );
        assert_eq!(
            Oci.config_media_type(),
            "application/vnd.oci.image.config.v1+json"
        );
    }

    #[test]
    fn compressed_copies_decompress_to_the_layer_and_are_reused() {
        let (root, store) = fresh_store();
        let (source, bytes) = plain_layer(&store);
        for (compression, magic) in [
            (LayerCompression::Gzip, &[0x1f, 0x8b][..]),
            (LayerCompression::Zstd, &[0x28, 0xb5, 0x2f, 0xfd][..]),
        ] {
            let made = compressed_copy(&store, &source, compression).expect("compress");
            assert!(!made.reused);
            let blob = store.blobs().read(&made.digest).expect("stored");
            assert_eq!(Digest::of(&blob), made.digest);
            assert_eq!(blob.len() as u64, made.size);
            assert!(blob.starts_with(magic), "{compression}");
            assert!(
                made.size * 10 < bytes.len() as u64,
                "{compression}: {}",
                made.size
            );
            let mut back = Vec::new();
            unpack::decompress(&blob[..])
                .expect("decoder")
                .read_to_end(&mut back)
                .expect("decompress");
            assert_eq!(Digest::of(&back), source, "{compression}");
            let again = compressed_copy(&store, &source, compression).expect("again");
            assert!(again.reused, "{compression}: found in the cache");
            assert_eq!((again.digest, again.size), (made.digest, made.size));
        }
        assert_eq!(tmp_entries(root.path()), 0);
    }

    #[test]
    fn gzip_output_is_deterministic() {
        let (_root, store) = fresh_store();
        let (source, _) = plain_layer(&store);
        let first = compressed_copy(&store, &source, LayerCompression::Gzip).expect("compress");
        fs::remove_file(store.blobs().path(&first.digest)).expect("drop the copy");
        let second = compressed_copy(&store, &source, LayerCompression::Gzip).expect("again");
        assert!(!second.reused, "the cached blob is gone: compressed again");
        assert_eq!(second.digest, first.digest);
    }

    #[test]
    fn a_corrupt_source_is_refused_and_leaves_nothing() {
        let (root, store) = fresh_store();
        let (source, mut bytes) = plain_layer(&store);
        bytes[10] ^= 1;
        fs::write(store.blobs().path(&source), &bytes).expect("corrupt");
        let err = compressed_copy(&store, &source, LayerCompression::Gzip).unwrap_err();
        assert!(matches!(err, ImageError::Digest { .. }), "{err}");
        assert_eq!(tmp_entries(root.path()), 0, "the temp file is gone");
        assert_eq!(store.blobs().list().expect("list"), vec![source]);
        assert_eq!(
            fs::read_dir(store.compressed_dir()).expect("dir").count(),
            0
        );
        let missing = Digest::of(b"not stored");
        assert!(matches!(
            compressed_copy(&store, &missing, LayerCompression::Zstd),
            Err(ImageError::BlobNotFound(_))
        ));
    }

    #[test]
    fn the_sweep_keeps_copies_of_layers_in_use_only() {
        let (_root, store) = fresh_store();
        let (source, _) = plain_layer(&store);
        let gz = compressed_copy(&store, &source, LayerCompression::Gzip).expect("gzip");
        let zst = compressed_copy(&store, &source, LayerCompression::Zstd).expect("zstd");
        let keep: HashSet<Digest> = [source].into();
        store.remove_unused(&HashSet::new(), &keep).expect("sweep");
        for blob in [source, gz.digest, zst.digest] {
            assert!(store.blobs().contains(&blob), "{blob} kept");
        }
        assert!(
            compressed_copy(&store, &source, LayerCompression::Gzip)
                .expect("cached")
                .reused
        );
        // The layer is no longer used: its copies and their entries go with it.
        store
            .remove_unused(&HashSet::new(), &HashSet::new())
            .expect("sweep");
        assert!(store.blobs().list().expect("list").is_empty());
        assert_eq!(
            fs::read_dir(store.compressed_dir()).expect("dir").count(),
            0
        );
    }
}
