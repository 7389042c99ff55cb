//! Loads images from a `docker save` tar, an OCI archive tar or an OCI layout directory into
//! the store: every blob is verified, every layer unpacked and checked against its diff id in
//! `tmp/`, and only when all of it is right is anything renamed into `blobs/` and `layers/`.
//!
//! Formats: a `docker save` tar has `manifest.json` (`[{Config, RepoTags, Layers}]`, paths
//! inside the tar: `<id>/layer.tar` and `<hex>.json` in the classic form, `blobs/sha256/<hex>`
//! since docker 25, which also adds an OCI `index.json` that gives the manifest digest). An
//! OCI layout (OCI image spec, image-layout.md) has `oci-layout`, `index.json` and
//! `blobs/<alg>/<hex>`; its tags come from the `io.containerd.image.name` annotation (a full
//! reference) or `org.opencontainers.image.ref.name` (annotations.md: a full reference or,
//! by convention, just a tag, which names no repository and is therefore not used).

use super::config::{media_type, Descriptor, DockerArchiveEntry, ImageIndex, ImageManifest};
use super::store::{create_temp_dir, StagedBlob, TempPath};
use super::unpack::{self, UnpackError};
use super::{chain_ids, ImageConfig, ImageError, ImageStore, LayerInfo, LoadedImage, Reference};
use crate::digest::{Digest, HashingReader};
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest JSON document (manifest.json, index.json, manifest, config) read into memory.
const MAX_JSON: u64 = 16 << 20;
const REF_NAME: &str = "org.opencontainers.image.ref.name";
const CONTAINERD_NAME: &str = "io.containerd.image.name";

pub(crate) fn load(store: &ImageStore, path: &Path) -> Result<Vec<LoadedImage>, ImageError> {
    let meta = fs::metadata(path).map_err(|e| ImageError::io("open", path, e))?;
    let work = create_temp_dir(store.tmp_dir(), "load")?;
    let source = if meta.is_dir() {
        Source {
            archive: path.to_path_buf(),
            root: path.to_path_buf(),
            extracted: false,
        }
    } else {
        let root = work.path().join("archive");
        extract(path, &root, meta.len())?;
        Source {
            archive: path.to_path_buf(),
            root,
            extracted: true,
        }
    };
    let mut load = Load {
        store,
        source,
        work: &work,
        blobs: HashMap::new(),
        by_path: HashMap::new(),
        layers: HashMap::new(),
        diff_ids: HashMap::new(),
    };
    let plans = if load.source.is_file("manifest.json") {
        load.plan_docker()?
    } else if load.source.is_file("index.json") {
        load.plan_oci()?
    } else {
        return Err(ImageError::NotAnImage {
            path: path.to_path_buf(),
            reason: "it has neither manifest.json nor index.json".into(),
        });
    };
    let mut images = Vec::with_capacity(plans.len());
    for plan in plans {
        images.push(load.prepare(plan)?);
    }
    load.commit()?;
    // `work` (the extracted archive and anything not moved into the store) is deleted here.
    Ok(images)
}

/// Extracts an outer archive (tar, possibly gzip-compressed) with the same safe unpacker as
/// layers: no path escapes the extraction directory.
fn extract(path: &Path, dest: &Path, len: u64) -> Result<(), ImageError> {
    if len == 0 {
        return Err(ImageError::NotAnImage {
            path: path.to_path_buf(),
            reason: "the file is empty".into(),
        });
    }
    let file = File::open(path).map_err(|e| ImageError::io("open", path, e))?;
    let unpacked = unpack::unpack_layer(io::BufReader::new(file), dest).map_err(|e| match e {
        UnpackError::Truncated(detail) => ImageError::Truncated {
            path: path.to_path_buf(),
            detail,
        },
        UnpackError::Tar(e) => ImageError::NotAnImage {
            path: path.to_path_buf(),
            reason: not_a_tar(&e),
        },
        other => ImageError::BadArchive {
            path: path.to_path_buf(),
            source: other,
        },
    })?;
    if !unpacked.end_marker {
        return Err(ImageError::Truncated {
            path: path.to_path_buf(),
            detail: "the tar stops without its end-of-archive block".into(),
        });
    }
    Ok(())
}

/// "it is not a tar archive", with the tar reader's words when they are one short printable
/// line (reading garbage, they can quote the garbage).
pub(super) fn not_a_tar(e: &io::Error) -> String {
    let detail = e.to_string();
    if detail.len() <= 120 && detail.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        format!("it is not a tar archive ({detail})")
    } else {
        "it is not a tar archive".to_string()
    }
}

/// Where the archive's files are: the extraction directory, or the OCI layout directory.
struct Source {
    archive: PathBuf,
    root: PathBuf,
    /// Files are ours (under `tmp/`) and may be moved into the store instead of copied.
    extracted: bool,
}

impl Source {
    fn is_file(&self, rel: &str) -> bool {
        self.resolve(rel).is_ok_and(|p| p.is_file())
    }

    /// The real path of `rel` inside the source; symlinks may be followed (`docker save`
    /// links duplicate layers) but never out of the source directory.
    fn resolve(&self, rel: &str) -> Result<PathBuf, ImageError> {
        let missing = || ImageError::MissingBlob {
            archive: self.archive.clone(),
            what: rel.to_string(),
        };
        let mut joined = self.root.clone();
        for part in rel.split('/') {
            match part {
                "" | "." => {}
                ".." => return Err(missing()),
                _ => joined.push(part),
            }
        }
        let real = joined.canonicalize().map_err(|_| missing())?;
        let root = self
            .root
            .canonicalize()
            .map_err(|e| ImageError::io("resolve", &self.root, e))?;
        if real.starts_with(&root) && real.is_file() {
            Ok(real)
        } else {
            Err(missing())
        }
    }

    fn read_json<T: serde::de::DeserializeOwned>(&self, rel: &str) -> Result<T, ImageError> {
        let path = self.resolve(rel)?;
        let bytes = read_limited(&path, rel)?;
        serde_json::from_slice(&bytes).map_err(|source| ImageError::BadJson {
            what: format!("{rel} of {}", self.archive.display()),
            source,
        })
    }
}

fn read_limited(path: &Path, what: &str) -> Result<Vec<u8>, ImageError> {
    let file = File::open(path).map_err(|e| ImageError::io("open", path, e))?;
    let size = file
        .metadata()
        .map_err(|e| ImageError::io("inspect", path, e))?
        .len();
    if size > MAX_JSON {
        return Err(ImageError::TooLarge {
            what: what.to_string(),
            size,
            limit: MAX_JSON,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_JSON)
        .read_to_end(&mut bytes)
        .map_err(|e| ImageError::io("read", path, e))?;
    Ok(bytes)
}

/// A blob as the archive refers to it.
#[derive(Debug, Clone)]
struct BlobRef {
    /// Path inside the archive or layout.
    rel: String,
    /// Known from a descriptor or a content-addressed file name.
    digest: Option<Digest>,
    size: Option<u64>,
}

impl BlobRef {
    /// A path whose file name is (after an optional `.json`) 64 hex digits names its digest.
    fn from_path(rel: &str) -> BlobRef {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let stem = name.strip_suffix(".json").unwrap_or(name);
        BlobRef {
            rel: rel.to_string(),
            digest: Digest::from_hex(stem).ok(),
            size: None,
        }
    }

    fn from_descriptor(d: &Descriptor) -> BlobRef {
        BlobRef {
            rel: format!("blobs/{}/{}", d.digest.algorithm(), d.digest.hex()),
            digest: Some(d.digest),
            size: Some(d.size),
        }
    }
}

/// One image found in the archive, before anything is verified.
struct Plan {
    tags: Vec<Reference>,
    manifest_digest: Option<Digest>,
    config: BlobRef,
    layers: Vec<BlobRef>,
}

/// An unpacked layer waiting in `tmp/` for the commit.
struct StagedLayer {
    dir: TempPath,
}

struct Load<'a> {
    store: &'a ImageStore,
    source: Source,
    work: &'a TempPath,
    /// Verified blobs waiting for the commit, by digest.
    blobs: HashMap<Digest, StagedBlob>,
    /// Digest of every archive path already staged.
    by_path: HashMap<PathBuf, Digest>,
    /// Unpacked layers waiting for the commit, by chain id.
    layers: HashMap<Digest, StagedLayer>,
    /// Diff ids already computed, by layer blob digest.
    diff_ids: HashMap<Digest, Digest>,
}

impl Load<'_> {
    fn plan_docker(&mut self) -> Result<Vec<Plan>, ImageError> {
        let entries: Vec<DockerArchiveEntry> = self.source.read_json("manifest.json")?;
        if entries.is_empty() {
            return Err(ImageError::NotAnImage {
                path: self.source.archive.clone(),
                reason: "its manifest.json lists no image".into(),
            });
        }
        // Since docker 25 the archive is also an OCI layout; its index names the manifests.
        let manifests = if self.source.is_file("index.json") {
            self.docker_manifest_digests()?
        } else {
            HashMap::new()
        };
        let mut plans = Vec::with_capacity(entries.len());
        for entry in entries {
            let config = BlobRef::from_path(&entry.config);
            let manifest_digest = config.digest.and_then(|d| manifests.get(&d).copied());
            let tags = entry
                .repo_tags
                .iter()
                .map(|t| Reference::parse(t))
                .collect::<Result<Vec<_>, _>>()?;
            plans.push(Plan {
                tags,
                manifest_digest,
                config,
                layers: entry.layers.iter().map(|l| BlobRef::from_path(l)).collect(),
            });
        }
        Ok(plans)
    }

    /// Config digest → manifest digest, for the plain manifests `index.json` lists.
    fn docker_manifest_digests(&mut self) -> Result<HashMap<Digest, Digest>, ImageError> {
        let index: ImageIndex = self.source.read_json("index.json")?;
        let mut out = HashMap::new();
        for descriptor in index.manifests {
            if !media_type::is_manifest(&descriptor.media_type) {
                continue;
            }
            let manifest: ImageManifest =
                self.stage_json(&BlobRef::from_descriptor(&descriptor))?;
            out.insert(manifest.config.digest, descriptor.digest);
        }
        Ok(out)
    }

    fn plan_oci(&mut self) -> Result<Vec<Plan>, ImageError> {
        if !self.source.is_file("oci-layout") {
            tracing::warn!(archive = %self.source.archive.display(), "OCI layout without an oci-layout file");
        }
        let index: ImageIndex = self.source.read_json("index.json")?;
        let mut plans: Vec<Plan> = Vec::new();
        for descriptor in &index.manifests {
            let tags = tags_of(descriptor)?;
            let manifest = if media_type::is_index(&descriptor.media_type) {
                let nested: ImageIndex = self.stage_json(&BlobRef::from_descriptor(descriptor))?;
                pick_platform(&nested, &descriptor.digest)?
            } else if media_type::is_manifest(&descriptor.media_type) {
                descriptor.clone()
            } else {
                tracing::warn!(media_type = %descriptor.media_type, digest = %descriptor.digest, "skipping an index entry that is not an image");
                continue;
            };
            // Several tags may name one manifest.
            if let Some(plan) = plans
                .iter_mut()
                .find(|p| p.manifest_digest == Some(manifest.digest))
            {
                for tag in tags {
                    if !plan.tags.contains(&tag) {
                        plan.tags.push(tag);
                    }
                }
                continue;
            }
            let parsed: ImageManifest = self.stage_json(&BlobRef::from_descriptor(&manifest))?;
            for layer in &parsed.layers {
                if layer.media_type.ends_with("+zstd") {
                    return Err(ImageError::UnsupportedMediaType {
                        what: format!("layer {}", layer.digest),
                        media_type: layer.media_type.clone(),
                    });
                }
            }
            plans.push(Plan {
                tags,
                manifest_digest: Some(manifest.digest),
                config: BlobRef::from_descriptor(&parsed.config),
                layers: parsed.layers.iter().map(BlobRef::from_descriptor).collect(),
            });
        }
        if plans.is_empty() {
            return Err(ImageError::NotAnImage {
                path: self.source.archive.clone(),
                reason: "its index.json lists no image manifest".into(),
            });
        }
        Ok(plans)
    }

    /// Verifies a blob and keeps it for the commit; returns its digest.
    fn stage(&mut self, blob: &BlobRef) -> Result<Digest, ImageError> {
        let path = self.source.resolve(&blob.rel)?;
        if let Some(digest) = self.by_path.get(&path) {
            return Ok(*digest);
        }
        let staged = if self.source.extracted {
            self.store
                .blobs()
                .adopt(&path, blob.digest.as_ref(), blob.size)?
        } else {
            let file = File::open(&path).map_err(|e| ImageError::io("open", &path, e))?;
            self.store.blobs().stage(
                io::BufReader::new(file),
                blob.digest.as_ref(),
                blob.size,
                self.work.path(),
            )?
        };
        let digest = *staged.digest();
        self.by_path.insert(path, digest);
        // The same content under another path is already staged: the copy is not needed.
        self.blobs.entry(digest).or_insert(staged);
        Ok(digest)
    }

    fn staged_path(&self, digest: &Digest) -> Result<&Path, ImageError> {
        self.blobs
            .get(digest)
            .map(|b| b.path())
            .ok_or(ImageError::BlobNotFound(*digest))
    }

    /// Stages a JSON blob and parses it.
    fn stage_json<T: serde::de::DeserializeOwned>(
        &mut self,
        blob: &BlobRef,
    ) -> Result<T, ImageError> {
        let (_, bytes) = self.stage_bytes(blob)?;
        serde_json::from_slice(&bytes).map_err(|source| ImageError::BadJson {
            what: format!("{} of {}", blob.rel, self.source.archive.display()),
            source,
        })
    }

    fn stage_bytes(&mut self, blob: &BlobRef) -> Result<(Digest, Vec<u8>), ImageError> {
        let digest = self.stage(blob)?;
        let bytes = read_limited(self.staged_path(&digest)?, &blob.rel)?;
        Ok((digest, bytes))
    }

    /// Verifies one image's config and layers, unpacking layers that are not in the store.
    fn prepare(&mut self, plan: Plan) -> Result<LoadedImage, ImageError> {
        let (id, config_bytes) = self.stage_bytes(&plan.config)?;
        let bad_json = |source| ImageError::BadJson {
            what: format!(
                "config {} of {}",
                plan.config.rel,
                self.source.archive.display()
            ),
            source,
        };
        let config: ImageConfig = serde_json::from_slice(&config_bytes).map_err(bad_json)?;
        let config_json = String::from_utf8(config_bytes)
            .map_err(|_| bad_json(serde::de::Error::custom("the config is not UTF-8")))?;
        let diff_ids = &config.rootfs.diff_ids;
        if diff_ids.len() != plan.layers.len() {
            return Err(ImageError::LayerCount {
                image: id,
                layers: plan.layers.len(),
                diff_ids: diff_ids.len(),
            });
        }
        let chain = chain_ids(diff_ids);
        let mut layers = Vec::with_capacity(plan.layers.len());
        for (index, blob) in plan.layers.iter().enumerate() {
            let blob_digest = self.stage(blob)?;
            let (expected, chain_id) = (diff_ids[index], chain[index]);
            let mismatch = |actual| ImageError::DiffIdMismatch {
                image: id,
                index,
                expected,
                actual,
            };
            let layer_dir = self.store.layer_dir(&chain_id);
            // Unpacked already (in the store, or earlier in this archive)?
            let unpacked_dir = match self.layers.get(&chain_id) {
                Some(staged) => Some(staged.dir.path().to_path_buf()),
                None => Some(layer_dir).filter(|d| d.is_dir()),
            };
            let size = if let Some(dir) = unpacked_dir {
                // Only check that this blob really is that layer.
                let actual = self.diff_id_of(&blob_digest)?;
                if actual != expected {
                    return Err(mismatch(actual));
                }
                unpack::layer_size(&dir)?
            } else {
                let dir = TempPath::new(self.work.path().join(format!("layer-{}", chain_id.hex())));
                let file = self.open_staged(&blob_digest)?;
                let unpacked = unpack::unpack_layer(io::BufReader::new(file), dir.path()).map_err(
                    |source| ImageError::Layer {
                        blob: blob_digest,
                        source,
                    },
                )?;
                self.diff_ids.insert(blob_digest, unpacked.diff_id);
                if unpacked.diff_id != expected {
                    return Err(mismatch(unpacked.diff_id));
                }
                let size = unpack::layer_size(dir.path())?;
                self.layers.insert(chain_id, StagedLayer { dir });
                size
            };
            layers.push(LayerInfo {
                blob_digest,
                diff_id: expected,
                chain_id,
                size,
            });
        }
        Ok(LoadedImage {
            id,
            repo_tags: plan.tags,
            manifest_digest: plan.manifest_digest,
            config,
            config_json,
            size: layers.iter().map(|l| l.size).sum(),
            layers,
        })
    }

    fn open_staged(&self, digest: &Digest) -> Result<File, ImageError> {
        let path = self.staged_path(digest)?;
        File::open(path).map_err(|e| ImageError::io("open", path, e))
    }

    /// The sha256 of a staged layer blob's uncompressed content.
    fn diff_id_of(&mut self, blob: &Digest) -> Result<Digest, ImageError> {
        if let Some(known) = self.diff_ids.get(blob) {
            return Ok(*known);
        }
        let layer_error = |source| ImageError::Layer {
            blob: *blob,
            source,
        };
        let file = self.open_staged(blob)?;
        let decoded = unpack::decompress(io::BufReader::new(file)).map_err(layer_error)?;
        let mut hashing = HashingReader::new(decoded);
        io::copy(&mut hashing, &mut io::sink()).map_err(|e| layer_error(UnpackError::Tar(e)))?;
        let diff_id = hashing.finish().0;
        self.diff_ids.insert(*blob, diff_id);
        Ok(diff_id)
    }

    /// Everything is verified: make it durable, then move it into the store.
    fn commit(&mut self) -> Result<(), ImageError> {
        sync_filesystem(self.work.path())?;
        for (_, staged) in self.blobs.drain() {
            self.store.blobs().commit(staged)?;
        }
        let layers_root = self.store.layers_root().to_path_buf();
        for (chain_id, staged) in self.layers.drain() {
            self.store.commit_layer(&chain_id, staged.dir)?;
        }
        super::store::sync_dir(&layers_root)
    }
}

/// syncfs(2) of the file system holding `path`: every staged file and unpacked layer is on
/// disk before any of them is renamed to where it looks complete.
pub(super) fn sync_filesystem(path: &Path) -> Result<(), ImageError> {
    let dir = File::open(path).map_err(|e| ImageError::io("open", path, e))?;
    nix::unistd::syncfs(&dir).map_err(|e| ImageError::io("sync", path, e.into()))
}

/// The references an index entry names (see the module comment for the two annotations).
fn tags_of(descriptor: &Descriptor) -> Result<Vec<Reference>, ImageError> {
    if let Some(name) = descriptor.annotations.get(CONTAINERD_NAME) {
        return Ok(vec![Reference::parse(name)?]);
    }
    match descriptor.annotations.get(REF_NAME) {
        Some(name) if name.contains(['/', ':', '@']) => Ok(vec![Reference::parse(name)?]),
        Some(name) => {
            tracing::warn!(ref_name = %name, "ignoring a bare tag with no repository name");
            Ok(Vec::new())
        }
        None => Ok(Vec::new()),
    }
}

/// The manifest of an index that runs on this host (linux and this CPU).
fn pick_platform(index: &ImageIndex, index_digest: &Digest) -> Result<Descriptor, ImageError> {
    let architecture = host_architecture();
    index
        .manifests
        .iter()
        .find(|m| {
            media_type::is_manifest(&m.media_type)
                && m.platform
                    .as_ref()
                    .is_some_and(|p| p.os == "linux" && p.architecture == architecture)
        })
        .cloned()
        .ok_or_else(|| ImageError::NoMatchingPlatform {
            what: format!("index {index_digest}"),
            os: "linux".into(),
            architecture: architecture.into(),
        })
}

/// This CPU in the OCI/Go naming (image-index.md "platform").
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn descriptor(annotations: &[(&str, &str)]) -> Descriptor {
        Descriptor {
            media_type: media_type::OCI_MANIFEST.into(),
            digest: Digest::of(b"m"),
            size: 1,
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
            platform: None,
        }
    }

    #[test]
    fn tags_prefer_the_containerd_name() {
        let d = descriptor(&[
            (CONTAINERD_NAME, "docker.io/library/busybox:1.36"),
            (REF_NAME, "1.36"),
        ]);
        let tags = tags_of(&d).expect("tags");
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].familiar(), "busybox:1.36");
    }

    #[test]
    fn ref_name_is_used_when_it_is_a_reference() {
        let tags = tags_of(&descriptor(&[(REF_NAME, "localhost:5000/app:v1")])).expect("tags");
        assert_eq!(tags[0].to_string(), "localhost:5000/app:v1");
        let bare = tags_of(&descriptor(&[(REF_NAME, "latest")])).expect("tags");
        assert!(bare.is_empty(), "a bare tag names no repository");
        assert!(tags_of(&descriptor(&[])).expect("tags").is_empty());
        assert!(tags_of(&descriptor(&[(REF_NAME, "Bad/Name:x")])).is_err());
    }

    #[test]
    fn blob_refs_take_digests_from_content_addressed_names() {
        let hex = Digest::of(b"c").hex();
        assert_eq!(
            BlobRef::from_path(&format!("{hex}.json")).digest,
            Some(Digest::of(b"c"))
        );
        assert_eq!(
            BlobRef::from_path(&format!("blobs/sha256/{hex}")).digest,
            Some(Digest::of(b"c"))
        );
        assert_eq!(BlobRef::from_path("0123abcd/layer.tar").digest, None);
    }

    #[test]
    fn platform_selection_picks_this_host() {
        let mut here = descriptor(&[]);
        here.platform = Some(super::super::config::Platform {
            architecture: host_architecture().into(),
            os: "linux".into(),
            variant: None,
        });
        here.digest = Digest::of(b"here");
        let mut other = here.clone();
        other.platform = Some(super::super::config::Platform {
            architecture: "s390x-not-this-one".into(),
            os: "linux".into(),
            variant: None,
        });
        other.digest = Digest::of(b"other");
        let index = ImageIndex {
            schema_version: 2,
            media_type: None,
            manifests: vec![other.clone(), here.clone()],
        };
        let picked = pick_platform(&index, &Digest::of(b"i")).expect("a match");
        assert_eq!(picked.digest, here.digest);
        let none = ImageIndex {
            manifests: vec![other],
            ..index
        };
        assert!(matches!(
            pick_platform(&none, &Digest::of(b"i")),
            Err(ImageError::NoMatchingPlatform { .. })
        ));
    }

    #[test]
    fn sources_never_resolve_outside_their_root() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        fs::create_dir_all(root.join("blobs")).expect("mkdir");
        fs::write(dir.path().join("secret"), b"x").expect("write");
        fs::write(root.join("blobs/ok"), b"y").expect("write");
        std::os::unix::fs::symlink("../../secret", root.join("blobs/escape")).expect("symlink");
        std::os::unix::fs::symlink("ok", root.join("blobs/alias")).expect("symlink");
        let source = Source {
            archive: dir.path().join("a.tar"),
            root: root.clone(),
            extracted: true,
        };
        assert!(source.resolve("blobs/ok").is_ok());
        assert!(source.resolve("/blobs/./ok").is_ok());
        assert_eq!(
            source.resolve("blobs/alias").expect("alias"),
            root.canonicalize().expect("canon").join("blobs/ok")
        );
        for bad in [
            "blobs/escape",
            "../secret",
            "blobs/../../secret",
            "blobs",
            "nope",
        ] {
            assert!(
                matches!(source.resolve(bad), Err(ImageError::MissingBlob { .. })),
                "{bad}"
            );
        }
    }
}
