//! `save`: writes stored images to a tar, either as a `docker save` archive or as an OCI
//! archive, into a new file under `tmp/` that the caller streams or moves away.
//!
//! The docker form is docker 25's: `manifest.json` (`[{Config, RepoTags, Layers}]`) and
//! `repositories` for `docker load`, over an OCI layout (`oci-layout`, `index.json`,
//! `blobs/sha256/<hex>`) whose layers are uncompressed tars named by their diff ids, so
//! that OCI tools read the same file. The OCI form (OCI image spec, image-layout.md) keeps
//! the layer blobs as stored (gzip or plain), and reuses the stored manifest when it
//! describes exactly these blobs, so the manifest digest survives a save and load. Each tag
//! is an `index.json` entry annotated with `io.containerd.image.name` (the full reference)
//! and `org.opencontainers.image.ref.name` (the tag, annotations.md).

use super::config::{media_type, Descriptor, DockerArchiveEntry, ImageIndex, ImageManifest};
use super::store::{create_temp_dir, create_temp_file, TempPath};
use super::unpack::{self, Compression};
use super::{ImageError, ImageStore, LayerInfo, Reference};
use crate::digest::{Digest, HashingReader};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

/// Which kind of archive `save` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArchiveFormat {
    /// `docker save` (docker-archive), readable by `docker load` and OCI tools alike.
    #[default]
    Docker,
    /// An OCI image layout in a tar (oci-archive).
    Oci,
}

impl FromStr for ArchiveFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "docker" | "docker-archive" => Ok(ArchiveFormat::Docker),
            "oci" | "oci-archive" => Ok(ArchiveFormat::Oci),
            other => Err(format!(
                "unknown archive format {other:?}: expected docker or oci"
            )),
        }
    }
}

/// One stored image to write.
#[derive(Debug, Clone)]
pub struct SaveImage {
    /// The config digest.
    pub id: Digest,
    /// The config blob as stored (its sha256 is `id`).
    pub config_json: String,
    pub manifest_digest: Option<Digest>,
    /// Bottom first.
    pub layers: Vec<LayerInfo>,
    /// The names it is saved under (none: it loads as a dangling image).
    pub tags: Vec<Reference>,
}

/// Writes `images` as one archive into a new temp file, which is deleted when the returned
/// guard is dropped. Blocking.
pub(crate) fn save(
    store: &ImageStore,
    images: &[SaveImage],
    format: ArchiveFormat,
) -> Result<TempPath, ImageError> {
    let (file, path) = create_temp_file(store.tmp_dir(), "save")?;
    let work = create_temp_dir(store.tmp_dir(), "save-work")?;
    let mut archive = Archive {
        store,
        format,
        tar: tar::Builder::new(BufWriter::new(file)),
        path: path.path().to_path_buf(),
        work: &work,
        written: HashSet::new(),
    };
    archive.add_dir("blobs/")?;
    archive.add_dir("blobs/sha256/")?;
    let mut index = ImageIndex {
        schema_version: 2,
        media_type: Some(media_type::OCI_INDEX.into()),
        manifests: Vec::new(),
    };
    let mut entries = Vec::new();
    let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for image in images {
        if Digest::of(image.config_json.as_bytes()) != image.id {
            return Err(ImageError::Digest {
                what: format!("config of image {}", image.id),
                source: crate::digest::DigestError::Mismatch {
                    expected: image.id,
                    actual: Digest::of(image.config_json.as_bytes()),
                },
            });
        }
        let config = archive.add_blob(image.config_json.as_bytes())?;
        let mut layers = Vec::with_capacity(image.layers.len());
        for layer in &image.layers {
            layers.push(archive.add_layer(layer)?);
        }
        let manifest_bytes = match archive.stored_manifest(image, &layers) {
            Some(bytes) => bytes,
            None => to_json(&ImageManifest {
                schema_version: 2,
                media_type: Some(media_type::OCI_MANIFEST.into()),
                config: Descriptor {
                    media_type: media_type::OCI_CONFIG.into(),
                    digest: config.0,
                    size: config.1,
                    annotations: BTreeMap::new(),
                    platform: None,
                },
                layers: layers.clone(),
            })?,
        };
        let manifest = archive.add_blob(&manifest_bytes)?;
        let descriptor = |annotations| Descriptor {
            media_type: media_type::OCI_MANIFEST.into(),
            digest: manifest.0,
            size: manifest.1,
            annotations,
            platform: None,
        };
        if image.tags.is_empty() {
            index.manifests.push(descriptor(BTreeMap::new()));
        }
        for tag in &image.tags {
            let tag_name = tag.tag().unwrap_or(super::reference::DEFAULT_TAG);
            index.manifests.push(descriptor(BTreeMap::from([
                (CONTAINERD_NAME.to_string(), tag.to_string()),
                (REF_NAME.to_string(), tag_name.to_string()),
            ])));
            if let Some(top) = layers.last() {
                repositories
                    .entry(tag.familiar_name())
                    .or_default()
                    .insert(tag_name.to_string(), top.digest.hex());
            }
        }
        entries.push(DockerArchiveEntry {
            config: blob_path(&image.id),
            repo_tags: image.tags.iter().map(Reference::familiar).collect(),
            layers: layers.iter().map(|l| blob_path(&l.digest)).collect(),
        });
    }
    archive.add_bytes("index.json", &to_json(&index)?)?;
    if format == ArchiveFormat::Docker {
        archive.add_bytes("manifest.json", &to_json(&entries)?)?;
    }
    archive.add_bytes("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    if format == ArchiveFormat::Docker && !repositories.is_empty() {
        archive.add_bytes("repositories", &to_json(&repositories)?)?;
    }
    let out = archive
        .tar
        .into_inner()
        .map_err(|e| io_error(&archive.path, e))?;
    let file = out
        .into_inner()
        .map_err(|e| io_error(&archive.path, e.into_error()))?;
    file.sync_all().map_err(|e| io_error(&archive.path, e))?;
    Ok(path)
}

struct Archive<'a> {
    store: &'a ImageStore,
    format: ArchiveFormat,
    tar: tar::Builder<BufWriter<File>>,
    path: PathBuf,
    /// Where compressed layers are decompressed for the docker form.
    work: &'a TempPath,
    /// Paths already in the archive (layers shared by several images are written once).
    written: HashSet<String>,
}

impl Archive<'_> {
    fn add_dir(&mut self, path: &str) -> Result<(), ImageError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Directory);
        header.set_size(0);
        header.set_mode(0o755);
        header.set_mtime(0);
        self.tar
            .append_data(&mut header, path, io::empty())
            .map_err(|e| io_error(&self.path, e))
    }

    fn add_entry(&mut self, path: &str, size: u64, content: impl Read) -> Result<(), ImageError> {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(0);
        self.tar
            .append_data(&mut header, path, content)
            .map_err(|e| io_error(&self.path, e))
    }

    fn add_bytes(&mut self, path: &str, bytes: &[u8]) -> Result<(), ImageError> {
        self.add_entry(path, bytes.len() as u64, bytes)
    }

    /// Adds `blobs/sha256/<hex>` of `bytes` once; returns its digest and size.
    fn add_blob(&mut self, bytes: &[u8]) -> Result<(Digest, u64), ImageError> {
        let digest = Digest::of(bytes);
        let path = blob_path(&digest);
        if self.written.insert(path.clone()) {
            self.add_bytes(&path, bytes)?;
        }
        Ok((digest, bytes.len() as u64))
    }

    /// Adds a file under the blob name `digest` once, copying it as it is.
    fn add_blob_file(&mut self, digest: &Digest, file: &Path) -> Result<u64, ImageError> {
        let opened = File::open(file).map_err(|e| ImageError::io("open", file, e))?;
        let size = opened
            .metadata()
            .map_err(|e| ImageError::io("inspect", file, e))?
            .len();
        let path = blob_path(digest);
        if self.written.insert(path.clone()) {
            self.add_entry(&path, size, io::BufReader::new(opened))?;
        }
        Ok(size)
    }

    /// Adds one layer as this format wants it; returns its manifest descriptor.
    fn add_layer(&mut self, layer: &LayerInfo) -> Result<Descriptor, ImageError> {
        let stored = self.store.blobs().path(&layer.blob_digest);
        let compression = compression_of(&stored)?;
        let (digest, media, size) = match (self.format, compression) {
            (ArchiveFormat::Docker, Compression::None)
            | (ArchiveFormat::Oci, Compression::None) => {
                let size = self.add_blob_file(&layer.blob_digest, &stored)?;
                (layer.blob_digest, media_type::OCI_LAYER, size)
            }
            (ArchiveFormat::Oci, compressed) => {
                let size = self.add_blob_file(&layer.blob_digest, &stored)?;
                let media = if compressed == Compression::Gzip {
                    media_type::OCI_LAYER_GZIP
                } else {
                    media_type::OCI_LAYER_ZSTD
                };
                (layer.blob_digest, media, size)
            }
            // docker load wants plain tars named by their diff ids.
            (ArchiveFormat::Docker, _) => {
                let plain = self.decompress(layer, &stored)?;
                let size = self.add_blob_file(&layer.diff_id, plain.path())?;
                (layer.diff_id, media_type::OCI_LAYER, size)
            }
        };
        Ok(Descriptor {
            media_type: media.into(),
            digest,
            size,
            annotations: BTreeMap::new(),
            platform: None,
        })
    }

    /// The layer's uncompressed tar in a temp file, checked against its diff id.
    fn decompress(&self, layer: &LayerInfo, stored: &Path) -> Result<TempPath, ImageError> {
        let (mut out, path) = create_temp_file(self.work.path(), "layer")?;
        let file = File::open(stored).map_err(|e| ImageError::io("open", stored, e))?;
        let layer_error = |source| ImageError::Layer {
            blob: layer.blob_digest,
            source,
        };
        let decoded = unpack::decompress(io::BufReader::new(file)).map_err(layer_error)?;
        let mut hashing = HashingReader::new(decoded);
        io::copy(&mut hashing, &mut out).map_err(|e| layer_error(unpack::UnpackError::Tar(e)))?;
        let (actual, _) = hashing.finish();
        layer
            .diff_id
            .verify(&actual)
            .map_err(|source| ImageError::Digest {
                what: format!("layer {} uncompressed", layer.blob_digest),
                source,
            })?;
        Ok(path)
    }

    /// The stored manifest's bytes, if it is an OCI manifest of exactly this config and
    /// these layer blobs (then its digest, the image's repo digest, is kept).
    fn stored_manifest(&self, image: &SaveImage, layers: &[Descriptor]) -> Option<Vec<u8>> {
        let digest = image.manifest_digest?;
        let bytes = self.store.blobs().read(&digest).ok()?;
        let manifest: ImageManifest = serde_json::from_slice(&bytes).ok()?;
        let same = manifest.media_type.as_deref() == Some(media_type::OCI_MANIFEST)
            && manifest.config.digest == image.id
            && manifest.layers.len() == layers.len()
            && manifest
                .layers
                .iter()
                .zip(layers)
                .all(|(a, b)| a.digest == b.digest && a.media_type == b.media_type);
        same.then_some(bytes)
    }
}

pub(crate) fn compression_of(path: &Path) -> Result<Compression, ImageError> {
    let mut head = [0u8; 4];
    let mut file = File::open(path).map_err(|e| ImageError::io("open", path, e))?;
    let mut len = 0;
    while len < head.len() {
        match file.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ImageError::io("read", path, e)),
        }
    }
    Ok(Compression::detect(&head[..len]))
}

fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, ImageError> {
    serde_json::to_vec(value).map_err(|source| ImageError::BadJson {
        what: "the archive's index".into(),
        source,
    })
}

fn io_error(path: &Path, e: io::Error) -> ImageError {
    ImageError::io("write", path, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_parse_from_their_names() {
        assert_eq!("docker".parse(), Ok(ArchiveFormat::Docker));
        assert_eq!("docker-archive".parse(), Ok(ArchiveFormat::Docker));
        assert_eq!("oci".parse(), Ok(ArchiveFormat::Oci));
        assert!("zip".parse::<ArchiveFormat>().is_err());
    }

    /// An image in a fresh store, imported from a gzip rootfs (so its layer blob is gzip).
    fn stored_image(root: &Path) -> (ImageStore, SaveImage) {
        let store = ImageStore::new(root).expect("store");
        let rootfs = root.join("rootfs.tar.gz");
        let tar = super::super::import::tests::rootfs_tar();
        std::fs::write(&rootfs, super::super::import::tests::gzip(&tar)).expect("write");
        let options = super::super::import::ImportOptions {
            created: "2024-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        let image = super::super::import::import(&store, &rootfs, options).expect("import");
        let save = SaveImage {
            id: image.id,
            config_json: image.config_json,
            manifest_digest: None,
            layers: image.layers,
            tags: vec![Reference::parse("example/app:v1").expect("ref")],
        };
        (store, save)
    }

    #[test]
    fn both_forms_load_back_as_the_same_image() {
        let src = tempfile::tempdir().expect("tempdir");
        let (store, image) = stored_image(src.path());
        for format in [ArchiveFormat::Docker, ArchiveFormat::Oci] {
            let saved = save(&store, std::slice::from_ref(&image), format).expect("save");
            let dst = tempfile::tempdir().expect("tempdir");
            let other = ImageStore::new(dst.path()).expect("store");
            let loaded = other.load_archive(saved.path()).expect("load");
            assert_eq!(loaded.len(), 1, "{format:?}");
            assert_eq!(loaded[0].id, image.id, "{format:?}");
            assert_eq!(loaded[0].repo_tags, image.tags, "{format:?}");
            assert_eq!(loaded[0].layers[0].diff_id, image.layers[0].diff_id);
            let blob = loaded[0].layers[0].blob_digest;
            match format {
                // docker load wants plain tars: the layer is written uncompressed.
                ArchiveFormat::Docker => assert_eq!(blob, image.layers[0].diff_id),
                ArchiveFormat::Oci => assert_eq!(blob, image.layers[0].blob_digest),
            }
            let manifest = loaded[0].manifest_digest.expect("a manifest digest");
            assert!(other.blobs().contains(&manifest));
        }
    }

    #[test]
    fn the_docker_form_has_docker_and_oci_indexes() {
        let src = tempfile::tempdir().expect("tempdir");
        let (store, image) = stored_image(src.path());
        let saved = save(
            &store,
            &[image.clone(), image.clone()],
            ArchiveFormat::Docker,
        )
        .expect("save");
        let mut names = Vec::new();
        let mut archive = tar::Archive::new(File::open(saved.path()).expect("open"));
        let mut manifest_json = String::new();
        for entry in archive.entries().expect("entries") {
            let mut entry = entry.expect("entry");
            let name = entry.path().expect("path").display().to_string();
            if name == "manifest.json" {
                entry.read_to_string(&mut manifest_json).expect("read");
            }
            names.push(name);
        }
        for name in ["index.json", "manifest.json", "oci-layout", "repositories"] {
            assert!(names.contains(&name.to_string()), "{name} in {names:?}");
        }
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "shared blobs are written once");
        let entries: Vec<DockerArchiveEntry> =
            serde_json::from_str(&manifest_json).expect("manifest.json");
        assert_eq!(entries[0].repo_tags, vec!["example/app:v1".to_string()]);
        assert_eq!(entries[0].config, blob_path(&image.id));
        assert_eq!(entries[0].layers, vec![blob_path(&image.layers[0].diff_id)]);
    }

    #[test]
    fn a_layer_that_does_not_match_its_diff_id_is_not_saved() {
        let src = tempfile::tempdir().expect("tempdir");
        let (store, mut image) = stored_image(src.path());
        image.layers[0].diff_id = Digest::of(b"something else");
        let err = save(&store, &[image], ArchiveFormat::Docker).expect_err("refused");
        assert!(matches!(err, ImageError::Digest { .. }), "{err}");
        let left = std::fs::read_dir(src.path().join("tmp"))
            .expect("tmp")
            .count();
        assert_eq!(left, 0, "the partial archive is removed");
    }
}
