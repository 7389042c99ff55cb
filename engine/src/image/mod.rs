//! Images: references, the content-addressed blob store, archive loading and layer unpacking.
//!
//! On disk, under the data root: `blobs/sha256/<hex>` (configs, manifests, layer blobs),
//! `layers/<chain-id-hex>/` (unpacked layers, used read-only as overlayfs lower dirs),
//! `compressed/` (which blob is the compressed copy push made of a plain layer, see
//! [`compress`]) and `tmp/` (where everything is written before it is renamed into place, so
//! nothing that looks complete is ever partial).

pub mod archive;
pub mod compress;
pub mod config;
pub mod import;
pub mod reference;
pub mod registry;
pub mod save;
pub mod store;
pub mod unpack;

pub use config::{ContainerConfig, ImageConfig, ImageDefaults};
pub use reference::{InvalidReference, Reference};
pub use store::BlobStore;
pub use unpack::UnpackError;

use crate::digest::{Digest, DigestError};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use store::TempPath;

/// Why an image operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("failed to {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    InvalidReference(#[from] InvalidReference),
    #[error("{what}: {source}")]
    Digest { what: String, source: DigestError },
    #[error("blob {0} is not in the store")]
    BlobNotFound(Digest),
    #[error("{path} is not an image archive: {reason}")]
    NotAnImage { path: PathBuf, reason: String },
    #[error("{path} is truncated: {detail}")]
    Truncated { path: PathBuf, detail: String },
    #[error("bad archive {path}: {source}")]
    BadArchive { path: PathBuf, source: UnpackError },
    #[error("{archive} is missing {what}")]
    MissingBlob { archive: PathBuf, what: String },
    #[error("bad JSON in {what}: {source}")]
    BadJson {
        what: String,
        source: serde_json::Error,
    },
    #[error("{what} is {size} bytes, more than the {limit} bytes allowed")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("image {image} has {layers} layers but its config lists {diff_ids} diff ids")]
    LayerCount {
        image: Digest,
        layers: usize,
        diff_ids: usize,
    },
    #[error("layer {index} of image {image} has diff id {actual}, but its config says {expected}")]
    DiffIdMismatch {
        image: Digest,
        index: usize,
        expected: Digest,
        actual: Digest,
    },
    #[error("layer {blob}: {source}")]
    Layer { blob: Digest, source: UnpackError },
    #[error("unsupported media type {media_type} for {what}")]
    UnsupportedMediaType { what: String, media_type: String },
    #[error("{what} has no image for {os}/{architecture}")]
    NoMatchingPlatform {
        what: String,
        os: String,
        architecture: String,
    },
}

impl ImageError {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        ImageError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

impl From<DigestError> for ImageError {
    fn from(source: DigestError) -> Self {
        ImageError::Digest {
            what: "digest".to_string(),
            source,
        }
    }
}

/// One layer of an image as stored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// The layer blob as shipped (compressed or not) in `blobs/`.
    pub blob_digest: Digest,
    /// sha256 of the uncompressed tar.
    pub diff_id: Digest,
    /// Names the unpacked directory `layers/<hex>/` (this layer on top of those below it).
    pub chain_id: Digest,
    /// Bytes of the unpacked regular files.
    pub size: u64,
}

/// An image whose blobs and layers are safely in the store.
#[derive(Clone, Debug)]
pub struct LoadedImage {
    /// The digest of the config blob.
    pub id: Digest,
    /// Normalised tags the archive gave it.
    pub repo_tags: Vec<Reference>,
    pub manifest_digest: Option<Digest>,
    pub config: ImageConfig,
    /// The config blob as stored (its sha256 is `id`).
    pub config_json: String,
    /// Bottom first.
    pub layers: Vec<LayerInfo>,
    /// Bytes of all layers unpacked.
    pub size: u64,
}

/// The chain ids of a stack of layers given bottom first (OCI image spec, config.md "Layer
/// ChainID"): `ChainID(L0) = DiffID(L0)` and `ChainID(L0..Ln) = sha256(ChainID(L0..Ln-1) +
/// " " + DiffID(Ln))`, over the digests' `sha256:<hex>` string forms.
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for diff_id in diff_ids {
        let next = match out.last() {
            None => *diff_id,
            Some(below) => Digest::of(format!("{below} {diff_id}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// The image part of a data root: blobs, unpacked layers and the temp area.
#[derive(Debug, Clone)]
pub struct ImageStore {
    blobs: BlobStore,
    layers: PathBuf,
    compressed: PathBuf,
    tmp: PathBuf,
}

impl ImageStore {
    /// Opens the store under `data_root`, creating `blobs/sha256/`, `layers/`, `compressed/`
    /// and `tmp/`.
    pub fn new(data_root: &Path) -> Result<Self, ImageError> {
        let blobs = BlobStore::open(data_root)?;
        let layers = data_root.join("layers");
        // Only root may reach unpacked layers: images carry setuid binaries, which must not
        // be runnable by host users from here.
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&layers)
            .map_err(|e| ImageError::io("create", &layers, e))?;
        let compressed = data_root.join("compressed");
        fs::create_dir_all(&compressed).map_err(|e| ImageError::io("create", &compressed, e))?;
        Ok(ImageStore {
            blobs,
            layers,
            compressed,
            tmp: data_root.join("tmp"),
        })
    }

    /// Loads every image of a `docker save` tar, an OCI archive tar (either optionally
    /// gzip-compressed) or an OCI layout directory. All or nothing: on error no new blob or
    /// layer is left in the store. Blocking and possibly slow: async callers use
    /// `spawn_blocking`.
    pub fn load_archive(&self, path: &Path) -> Result<Vec<LoadedImage>, ImageError> {
        archive::load(self, path)
    }

    /// The unpacked layer directory of a chain id (whether or not it exists).
    pub fn layer_dir(&self, chain_id: &Digest) -> PathBuf {
        self.layers.join(chain_id.hex())
    }

    pub fn has_layer(&self, chain_id: &Digest) -> bool {
        self.layer_dir(chain_id).is_dir()
    }

    pub fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub(crate) fn tmp_dir(&self) -> &Path {
        &self.tmp
    }

    /// Where [`compress`] remembers the compressed copies of plain layer blobs.
    pub(crate) fn compressed_dir(&self) -> &Path {
        &self.compressed
    }

    pub(crate) fn layers_root(&self) -> &Path {
        &self.layers
    }

    /// Moves a layer unpacked under `tmp/` to `layers/<chain-id>/`; if a concurrent load put
    /// the same layer there first, ours is dropped. The caller syncs the file system first.
    pub(crate) fn commit_layer(
        &self,
        chain_id: &Digest,
        staged: TempPath,
    ) -> Result<(), ImageError> {
        let target = self.layer_dir(chain_id);
        match fs::rename(staged.path(), &target) {
            Ok(()) => {
                staged.keep();
                Ok(())
            }
            Err(_) if target.is_dir() => Ok(()),
            Err(e) => Err(ImageError::io("rename into place", staged.path(), e)),
        }
    }

    /// Deletes every unpacked layer and blob not listed (but the compressed copies push made of
    /// listed blobs); returns the bytes freed. Callers make sure no load or push runs at the
    /// same time and no running container uses a layer being removed.
    pub fn remove_unused(
        &self,
        keep_chain_ids: &HashSet<Digest>,
        keep_blobs: &HashSet<Digest>,
    ) -> Result<u64, ImageError> {
        let mut freed = 0;
        let entries =
            fs::read_dir(&self.layers).map_err(|e| ImageError::io("list", &self.layers, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ImageError::io("list", &self.layers, e))?;
            let Some(chain_id) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::from_hex(n).ok())
            else {
                continue;
            };
            if keep_chain_ids.contains(&chain_id) {
                continue;
            }
            // Rename first, so that a crash mid-delete leaves no half layer under its name.
            let doomed = store::TempPath::new(store::temp_name(&self.tmp, "remove"));
            fs::rename(entry.path(), doomed.path())
                .map_err(|e| ImageError::io("move aside", entry.path(), e))?;
            freed += unpack::layer_size(doomed.path()).unwrap_or(0);
            fs::remove_dir_all(doomed.path())
                .map_err(|e| ImageError::io("remove", doomed.path(), e))?;
        }
        let copies = compress::sweep(&self.compressed, &self.blobs, keep_blobs)?;
        for digest in self.blobs.list()? {
            if !keep_blobs.contains(&digest) && !copies.contains(&digest) {
                let size = fs::metadata(self.blobs.path(&digest)).map_or(0, |m| m.len());
                if self.blobs.remove(&digest)? {
                    freed += size;
                }
            }
        }
        Ok(freed)
    }

    /// Deletes what interrupted loads left in `tmp/` (only this module's own temp names).
    /// Call it at daemon start, before any load.
    pub fn clean_tmp(&self) -> Result<(), ImageError> {
        let entries = fs::read_dir(&self.tmp).map_err(|e| ImageError::io("list", &self.tmp, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ImageError::io("list", &self.tmp, e))?;
            let ours = entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(store::TMP_PREFIX));
            if ours {
                // Dropping the guard deletes the file or tree.
                drop(store::TempPath::new(entry.path()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &[u8]) -> Digest {
        Digest::of(s)
    }

    #[test]
    fn chain_id_of_one_layer_is_its_diff_id() {
        assert_eq!(chain_ids(&[d(b"a")]), vec![d(b"a")]);
        assert!(chain_ids(&[]).is_empty());
    }

    #[test]
    fn chain_ids_follow_the_oci_formula() {
        let (a, b, c) = (d(b"a"), d(b"b"), d(b"c"));
        let ids = chain_ids(&[a, b, c]);
        let ab = Digest::of(format!("{a} {b}").as_bytes());
        let abc = Digest::of(format!("{ab} {c}").as_bytes());
        assert_eq!(ids, vec![a, ab, abc]);
        // Order matters: the same layers stacked differently are a different chain.
        assert_ne!(chain_ids(&[b, a])[1], ab);
    }

    #[test]
    fn chain_id_matches_a_known_value() {
        // Computed independently: printf 'sha256:<a> sha256:<b>' | sha256sum
        let a: Digest = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
            .parse()
            .expect("digest");
        let b: Digest = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
            .parse()
            .expect("digest");
        assert_eq!(a, d(b"a"));
        assert_eq!(b, d(b"b"));
        assert_eq!(
            chain_ids(&[a, b])[1].hex(),
            "51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676"
        );
    }

    #[test]
    fn new_creates_the_layout() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("new");
        for dir in ["blobs/sha256", "layers", "tmp"] {
            assert!(root.path().join(dir).is_dir(), "{dir}");
        }
        let layers = fs::metadata(root.path().join("layers")).expect("layers");
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&layers.permissions()) & 0o777,
            0o700
        );
        let id = d(b"x");
        assert_eq!(
            store.layer_dir(&id),
            root.path().join("layers").join(id.hex())
        );
        assert!(!store.has_layer(&id));
    }

    #[test]
    fn remove_unused_keeps_only_what_is_listed() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("new");
        let (keep_layer, drop_layer) = (d(b"l1"), d(b"l2"));
        for id in [keep_layer, drop_layer] {
            fs::create_dir_all(store.layer_dir(&id).join("etc")).expect("mkdir");
            fs::write(store.layer_dir(&id).join("etc/f"), b"x").expect("write");
        }
        let keep_blob = store.blobs().write_bytes(b"keep").expect("write");
        let drop_blob = store.blobs().write_bytes(b"drop").expect("write");
        let freed = store
            .remove_unused(&HashSet::from([keep_layer]), &HashSet::from([keep_blob]))
            .expect("remove");
        assert_eq!(
            freed,
            1 + 4,
            "the dropped layer's file and the dropped blob"
        );
        assert!(store.has_layer(&keep_layer));
        assert!(!store.has_layer(&drop_layer));
        assert!(store.blobs().contains(&keep_blob));
        assert!(!store.blobs().contains(&drop_blob));
        assert_eq!(
            fs::read_dir(root.path().join("tmp")).expect("tmp").count(),
            0
        );
    }

    #[test]
    fn clean_tmp_removes_only_image_temp_names() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("new");
        let tmp = root.path().join("tmp");
        fs::create_dir_all(tmp.join("image-load-1/x")).expect("mkdir");
        fs::write(tmp.join("image-ingest-2"), b"partial").expect("write");
        fs::write(tmp.join("upload-3"), b"someone else's").expect("write");
        store.clean_tmp().expect("clean");
        let left: Vec<_> = fs::read_dir(&tmp)
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("upload-3")]);
    }
}
