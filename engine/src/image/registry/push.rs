//! Push: uploads a stored image's layer blobs, its config and its manifest to a repository
//! over the distribution API, skipping blobs the repository has (HEAD) and mounting blobs
//! that another repository of the same registry has (cross-repository mount).
//!
//! OCI distribution spec, "Pushing blobs": `POST /v2/<name>/blobs/uploads/` opens an upload
//! session (202 and a `Location`), `PATCH <location>` sends chunks (`Content-Range`), and
//! `PUT <location>?digest=<digest>` closes it (201). "Mounting a blob from another
//! repository": `POST …/uploads/?mount=<digest>&from=<repo>` answers 201 when mounted, or
//! 202 with an upload session when the registry refuses (which we then use to upload).
//! "Pushing Manifests": `PUT /v2/<name>/manifests/<tag>` with the manifest's media type.
//!
//! A layer stored as a plain tar (loaded from a `docker save` archive, imported) is sent
//! compressed, gzip unless zstd is asked for, as docker and containerd do; the manifest then
//! lists the compressed blobs (see `image::compress`). Compressed layers are sent as stored.

use super::client::{Access, RepoClient};
use super::progress::{short_id, JsonMessage, ProgressDetail};
use super::{Registries, RegistryError};
use crate::digest::Digest;
use crate::image::compress::{self, LayerCompression, ManifestKind};
use crate::image::config::{Descriptor, ImageManifest};
use crate::image::save::compression_of;
use crate::image::unpack::Compression;
use crate::image::{ImageError, ImageStore, LayerInfo, Reference};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use reqwest::{Method, StatusCode};
use std::collections::BTreeMap;
use std::path::Path;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc::UnboundedSender;

/// Blobs up to this size go in one `PUT`; larger ones in `PATCH` chunks of this size, so
/// memory stays bounded and progress moves.
const CHUNK: usize = 8 * 1024 * 1024;

/// A stored image to push.
#[derive(Debug, Clone)]
pub struct PushImage {
    pub id: Digest,
    pub config_json: String,
    pub manifest_digest: Option<Digest>,
    /// Bottom first.
    pub layers: Vec<LayerInfo>,
    /// Other repositories (paths) of the same registry the image is known in: where its
    /// blobs may be mounted from.
    pub mount_from: Vec<String>,
}

/// What the registry now has under the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub digest: Digest,
    pub size: u64,
}

/// Sends docker-style push messages to a watcher; a watcher that went away is ignored.
#[derive(Clone)]
pub struct PushSink(Option<UnboundedSender<JsonMessage>>);

impl PushSink {
    pub fn new(tx: Option<UnboundedSender<JsonMessage>>) -> PushSink {
        PushSink(tx)
    }

    pub fn status(&self, id: Option<String>, status: String, progress: Option<(u64, u64)>) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(JsonMessage {
                status,
                id,
                progress_detail: progress.map(|(current, total)| ProgressDetail { current, total }),
                error: None,
            });
        }
    }

    fn layer(&self, digest: &Digest, status: impl Into<String>) {
        self.status(Some(short_id(digest)), status.into(), None);
    }
}

/// One layer as it is pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PushLayer {
    /// The stored blob: what progress messages name (for a plain layer that is its diff id,
    /// the id docker shows).
    stored: Digest,
    /// The blob sent and listed in the manifest: the stored one, or its compressed copy.
    digest: Digest,
    size: u64,
    compression: Compression,
}

/// Pushes `image` as `target` (a tag; `latest` when none is given), compressing plain layers
/// with `compression`.
pub async fn push(
    store: &ImageStore,
    registries: &Registries,
    target: &Reference,
    image: &PushImage,
    compression: LayerCompression,
    sink: &PushSink,
) -> Result<Pushed, RegistryError> {
    let endpoint = registries
        .endpoints(target.domain())
        .into_iter()
        .rfind(|e| !e.mirror)
        .ok_or_else(|| RegistryError::BadRegistry(target.domain().to_string()))?;
    let session = registries
        .connect(&endpoint, target.path(), Access::Push)
        .await?;
    sink.status(
        None,
        format!("The push refers to repository [{}]", target.familiar_name()),
        None,
    );
    // docker lists layers top first.
    for layer in image.layers.iter().rev() {
        sink.layer(&layer.blob_digest, "Preparing");
    }
    let layers = prepare_layers(store, &image.layers, compression).await?;
    for layer in layers.iter().rev() {
        let path = store.blobs().path(&layer.digest);
        let outcome = push_blob(&session, &path, layer, &image.mount_from, sink).await?;
        sink.layer(&layer.stored, outcome);
    }
    let config = image.config_json.as_bytes();
    let config_digest = Digest::of(config);
    if config_digest != image.id {
        return Err(ImageError::Digest {
            what: format!("config of image {}", image.id),
            source: crate::digest::DigestError::Mismatch {
                expected: image.id,
                actual: config_digest,
            },
        }
        .into());
    }
    let manifest = manifest_for(store, image, &layers)?;
    let config_desc = Descriptor {
        media_type: manifest.config_media_type.clone(),
        digest: config_digest,
        size: config.len() as u64,
        annotations: BTreeMap::new(),
        platform: None,
    };
    if session.blob_size(&config_digest).await?.is_none() {
        upload_bytes(&session, &config_desc, Bytes::copy_from_slice(config)).await?;
    }
    let tag = target.tag().unwrap_or(crate::image::reference::DEFAULT_TAG);
    put_manifest(&session, tag, &manifest.media_type, manifest.bytes.clone()).await?;
    let pushed = Pushed {
        digest: Digest::of(&manifest.bytes),
        size: manifest.bytes.len() as u64,
    };
    sink.status(
        None,
        format!("{tag}: digest: {} size: {}", pushed.digest, pushed.size),
        None,
    );
    Ok(pushed)
}

/// The layers as they are pushed, bottom first: compressing (off the async threads) those
/// stored uncompressed.
async fn prepare_layers(
    store: &ImageStore,
    layers: &[LayerInfo],
    compression: LayerCompression,
) -> Result<Vec<PushLayer>, RegistryError> {
    let mut out = Vec::with_capacity(layers.len());
    for layer in layers {
        let store = store.clone();
        let layer = layer.clone();
        let prepared =
            tokio::task::spawn_blocking(move || prepare_layer(&store, &layer, compression))
                .await
                .map_err(|e| {
                    RegistryError::Interrupted(format!("the push was interrupted: {e}"))
                })??;
        out.push(prepared);
    }
    Ok(out)
}

/// One stored layer as it is pushed: as it is when compressed (gzip or zstd: never
/// recompressed), else its `compression` copy (told from the bytes, as media types of
/// loaded archives are not kept per layer).
fn prepare_layer(
    store: &ImageStore,
    layer: &LayerInfo,
    compression: LayerCompression,
) -> Result<PushLayer, ImageError> {
    let path = store.blobs().path(&layer.blob_digest);
    let size = std::fs::metadata(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ImageError::BlobNotFound(layer.blob_digest),
            _ => ImageError::io("inspect", &path, e),
        })?
        .len();
    let stored = compression_of(&path)?;
    if stored != Compression::None {
        return Ok(PushLayer {
            stored: layer.blob_digest,
            digest: layer.blob_digest,
            size,
            compression: stored,
        });
    }
    let started = std::time::Instant::now();
    let copy = compress::compressed_copy(store, &layer.blob_digest, compression)?;
    tracing::info!(
        layer = %layer.blob_digest,
        compressed = %copy.digest,
        %compression,
        size,
        compressed_size = copy.size,
        reused = copy.reused,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "layer compressed for push"
    );
    Ok(PushLayer {
        stored: layer.blob_digest,
        digest: copy.digest,
        size: copy.size,
        compression: compression.compression(),
    })
}

/// The manifest to put: its bytes and media types.
struct ManifestToPush {
    bytes: Vec<u8>,
    media_type: String,
    config_media_type: String,
}

/// The image's own manifest when the store has it and it lists exactly this config and these
/// blobs (so the digest is the one it was pulled or loaded with). Otherwise (no manifest, or
/// layers compressed for this push) one is built of the stored manifest's kind, keeping its
/// config media type and layer annotations, or an OCI one when there is none (image spec,
/// manifest.md). Layer media types follow each blob's compression (layer.md); a docker
/// manifest cannot list a zstd layer, so it becomes an OCI one (see `ManifestKind`).
fn manifest_for(
    store: &ImageStore,
    image: &PushImage,
    layers: &[PushLayer],
) -> Result<ManifestToPush, RegistryError> {
    let stored = image
        .manifest_digest
        .and_then(|digest| store.blobs().read(&digest).ok())
        .and_then(|bytes| {
            let manifest: ImageManifest = serde_json::from_slice(&bytes).ok()?;
            let kind = ManifestKind::of(manifest.media_type.as_deref()?)?;
            (manifest.config.digest == image.id).then_some((bytes, manifest, kind))
        });
    if let Some((bytes, manifest, kind)) = &stored {
        let fits = manifest.layers.len() == layers.len()
            && manifest
                .layers
                .iter()
                .zip(layers)
                .all(|(a, b)| a.digest == b.digest && a.size == b.size);
        if fits {
            return Ok(ManifestToPush {
                bytes: bytes.clone(),
                media_type: kind.media_type().into(),
                config_media_type: manifest.config.media_type.clone(),
            });
        }
    }
    let wanted = stored
        .as_ref()
        .map_or(ManifestKind::Oci, |(_, _, kind)| *kind);
    let kind = match layers
        .iter()
        .all(|l| wanted.layer_media_type(l.compression).is_some())
    {
        true => wanted,
        false => ManifestKind::Oci,
    };
    let config_media_type = match &stored {
        Some((_, manifest, stored_kind)) if *stored_kind == kind => {
            manifest.config.media_type.clone()
        }
        _ => kind.config_media_type().to_string(),
    };
    let stored_layers = stored
        .as_ref()
        .map(|(_, manifest, _)| manifest.layers.as_slice())
        .filter(|stored| stored.len() == layers.len())
        .unwrap_or_default();
    let descriptors = layers
        .iter()
        .enumerate()
        .map(|(i, layer)| Descriptor {
            media_type: kind
                .layer_media_type(layer.compression)
                .unwrap_or(crate::image::config::media_type::OCI_LAYER)
                .into(),
            digest: layer.digest,
            size: layer.size,
            annotations: stored_layers
                .get(i)
                .filter(|d| d.digest == layer.stored || d.digest == layer.digest)
                .map(|d| d.annotations.clone())
                .unwrap_or_default(),
            platform: None,
        })
        .collect();
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(kind.media_type().into()),
        config: Descriptor {
            media_type: config_media_type.clone(),
            digest: image.id,
            size: image.config_json.len() as u64,
            annotations: BTreeMap::new(),
            platform: None,
        },
        layers: descriptors,
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|source| ImageError::BadJson {
        what: "the manifest to push".into(),
        source,
    })?;
    Ok(ManifestToPush {
        bytes,
        media_type: kind.media_type().into(),
        config_media_type,
    })
}

/// Makes sure the repository has the blob at `path`; returns docker's final status for it.
async fn push_blob(
    session: &RepoClient,
    path: &Path,
    blob: &PushLayer,
    mount_from: &[String],
    sink: &PushSink,
) -> Result<String, RegistryError> {
    if session.blob_size(&blob.digest).await?.is_some() {
        return Ok("Layer already exists".into());
    }
    // One mount attempt: a refusal (202) opens an upload session, which we then use.
    let query = match mount_from.iter().find(|r| *r != session.repository()) {
        Some(from) => format!("?mount={}&from={from}", blob.digest),
        None => String::new(),
    };
    let location = match start_upload(session, &query).await? {
        Started::Upload(url) => url,
        Started::Mounted => {
            return Ok(match query.split_once("&from=") {
                Some((_, from)) => format!("Mounted from {from}"),
                None => "Pushed".into(),
            })
        }
    };
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| ImageError::io("open", path, e))?;
    let mut sent = 0u64;
    let mut location = location;
    loop {
        let mut chunk = Vec::with_capacity(CHUNK.min(blob.size as usize));
        (&mut file)
            .take(CHUNK as u64)
            .read_to_end(&mut chunk)
            .await
            .map_err(|e| ImageError::io("read", path, e))?;
        let last = sent + chunk.len() as u64 >= blob.size || chunk.is_empty();
        if last && sent == 0 {
            // Monolithic: the whole blob in the closing PUT.
            finish_upload(session, &location, &blob.digest, Bytes::from(chunk)).await?;
            break;
        }
        if !chunk.is_empty() {
            let len = chunk.len() as u64;
            location = patch_chunk(session, &location, sent, Bytes::from(chunk)).await?;
            sent += len;
            // The bytes sent: of the compressed copy, for a plain layer.
            sink.status(
                Some(short_id(&blob.stored)),
                "Pushing".into(),
                Some((sent, blob.size)),
            );
        }
        if last {
            finish_upload(session, &location, &blob.digest, Bytes::new()).await?;
            break;
        }
    }
    Ok("Pushed".into())
}

/// Uploads a small blob held in memory (a config), unless a mount or upload is not needed.
async fn upload_bytes(
    session: &RepoClient,
    blob: &Descriptor,
    bytes: Bytes,
) -> Result<(), RegistryError> {
    match start_upload(session, "").await? {
        Started::Mounted => Ok(()),
        Started::Upload(location) => finish_upload(session, &location, &blob.digest, bytes).await,
    }
}

enum Started {
    Mounted,
    Upload(String),
}

/// `POST /v2/<name>/blobs/uploads/<query>`.
async fn start_upload(session: &RepoClient, query: &str) -> Result<Started, RegistryError> {
    let path = format!("/v2/{}/blobs/uploads/{query}", session.repository());
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("0"));
    let response = session
        .send(Method::POST, &path, headers, Some(Bytes::new()))
        .await?;
    match response.status() {
        StatusCode::CREATED => Ok(Started::Mounted),
        StatusCode::ACCEPTED => Ok(Started::Upload(location_of(session, &response)?)),
        s => Err(session
            .status_error(s, "POST a blob upload", response)
            .await),
    }
}

/// `PATCH <location>` with one chunk at `offset`; returns the next location.
async fn patch_chunk(
    session: &RepoClient,
    location: &str,
    offset: u64,
    chunk: Bytes,
) -> Result<String, RegistryError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let range = format!("{offset}-{}", offset + chunk.len() as u64 - 1);
    headers.insert(
        "content-range",
        HeaderValue::from_str(&range).map_err(|_| bad_location(session, location))?,
    );
    let response = session
        .send(Method::PATCH, location, headers, Some(chunk))
        .await?;
    match response.status() {
        StatusCode::ACCEPTED => location_of(session, &response),
        s => Err(session
            .status_error(s, "PATCH a blob chunk", response)
            .await),
    }
}

/// `PUT <location>?digest=<digest>` with the rest of the blob (all of it, for a monolithic
/// upload).
async fn finish_upload(
    session: &RepoClient,
    location: &str,
    digest: &Digest,
    body: Bytes,
) -> Result<(), RegistryError> {
    let separator = if location.contains('?') { '&' } else { '?' };
    let url = format!("{location}{separator}digest={digest}");
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let response = session.send(Method::PUT, &url, headers, Some(body)).await?;
    match response.status() {
        StatusCode::CREATED | StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
        s => Err(session
            .status_error(s, &format!("PUT blob {digest}"), response)
            .await),
    }
}

async fn put_manifest(
    session: &RepoClient,
    tag: &str,
    media: &str,
    bytes: Vec<u8>,
) -> Result<(), RegistryError> {
    let path = format!("/v2/{}/manifests/{tag}", session.repository());
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_str(media).map_err(|_| RegistryError::BadManifest {
            reference: tag.to_string(),
            reason: format!("media type {media:?}"),
        })?,
    );
    let response = session
        .send(Method::PUT, &path, headers, Some(Bytes::from(bytes)))
        .await?;
    match response.status() {
        s if s.is_success() => Ok(()),
        s => Err(session
            .status_error(s, &format!("PUT manifest {tag}"), response)
            .await),
    }
}

/// The `Location` of an upload session, absolute (it may be given relative to the registry).
fn location_of(
    session: &RepoClient,
    response: &reqwest::Response,
) -> Result<String, RegistryError> {
    let location = response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| bad_location(session, ""))?;
    let url = response
        .url()
        .join(location)
        .map_err(|_| bad_location(session, location))?;
    Ok(url.to_string())
}

fn bad_location(session: &RepoClient, location: &str) -> RegistryError {
    RegistryError::Status {
        registry: session.endpoint().registry.clone(),
        what: "a blob upload".into(),
        status: 202,
        body: format!("unusable upload location {location:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::config::media_type;
    use std::io::Write;

    fn layer_of(blob: Digest, diff_id: Digest) -> LayerInfo {
        LayerInfo {
            blob_digest: blob,
            diff_id,
            chain_id: diff_id,
            size: 1,
        }
    }

    fn image_of(layers: Vec<LayerInfo>, manifest_digest: Option<Digest>) -> PushImage {
        let config = r#"{"architecture":"amd64","os":"linux"}"#.to_string();
        PushImage {
            id: Digest::of(config.as_bytes()),
            config_json: config,
            manifest_digest,
            layers,
            mount_from: Vec::new(),
        }
    }

    fn plain_bytes() -> Vec<u8> {
        b"plain layer bytes, plain layer bytes, plain layer bytes".repeat(100)
    }

    #[test]
    fn plain_layers_are_listed_compressed_and_stored_manifests_reused_when_they_fit() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        let plain = plain_bytes();
        let layer = store.blobs().write_bytes(&plain).expect("blob");
        let image = image_of(vec![layer_of(layer, layer)], None);
        let prepared =
            prepare_layer(&store, &image.layers[0], LayerCompression::Gzip).expect("prepare");
        assert_eq!(prepared.stored, layer);
        assert_ne!(prepared.digest, layer, "the compressed copy is sent");
        assert_eq!(prepared.compression, Compression::Gzip);
        assert!(prepared.size < plain.len() as u64);
        let sent = store.blobs().read(&prepared.digest).expect("copy");
        assert_eq!(sent.len() as u64, prepared.size);
        assert!(sent.starts_with(&[0x1f, 0x8b]));

        let layers = vec![prepared];
        let built = manifest_for(&store, &image, &layers).expect("manifest");
        assert_eq!(built.media_type, media_type::OCI_MANIFEST);
        assert_eq!(built.config_media_type, media_type::OCI_CONFIG);
        let parsed: ImageManifest = serde_json::from_slice(&built.bytes).expect("json");
        assert_eq!(parsed.config.digest, image.id);
        assert_eq!(parsed.config.size, image.config_json.len() as u64);
        assert_eq!(parsed.layers.len(), 1);
        assert_eq!(parsed.layers[0].media_type, media_type::OCI_LAYER_GZIP);
        assert_eq!(parsed.layers[0].digest, layers[0].digest);
        assert_eq!(parsed.layers[0].size, layers[0].size);

        // A stored manifest of exactly these blobs is pushed as it is (its digest stays).
        let stored = store
            .blobs()
            .write_bytes(&built.bytes)
            .expect("manifest blob");
        let again = manifest_for(
            &store,
            &image_of(image.layers.clone(), Some(stored)),
            &layers,
        )
        .expect("manifest");
        assert_eq!(again.bytes, built.bytes);
        // One that names other layers is not.
        let other = ImageManifest {
            layers: Vec::new(),
            ..parsed
        };
        let other = store
            .blobs()
            .write_bytes(&serde_json::to_vec(&other).expect("json"))
            .expect("blob");
        let rebuilt = manifest_for(
            &store,
            &image_of(image.layers.clone(), Some(other)),
            &layers,
        )
        .expect("manifest");
        assert_eq!(rebuilt.bytes, built.bytes);
    }

    #[test]
    fn compressed_layers_are_sent_as_stored() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        let plain = plain_bytes();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&plain).expect("gzip");
        let gz = store
            .blobs()
            .write_bytes(&gz.finish().expect("gzip"))
            .expect("blob");
        let zst = zstd::stream::encode_all(&plain[..], 1).expect("zstd");
        let zst = store.blobs().write_bytes(&zst).expect("blob");
        for (blob, compression) in [(gz, Compression::Gzip), (zst, Compression::Zstd)] {
            for wanted in [LayerCompression::Gzip, LayerCompression::Zstd] {
                let prepared = prepare_layer(&store, &layer_of(blob, Digest::of(&plain)), wanted)
                    .expect("prepare");
                assert_eq!(prepared.digest, blob, "{wanted}: not recompressed");
                assert_eq!(prepared.compression, compression);
            }
        }
        assert_eq!(
            store.blobs().list().expect("list").len(),
            2,
            "no copies made"
        );
    }

    #[test]
    fn docker_manifests_stay_docker_with_gzip_and_turn_oci_with_zstd() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        let layer = store.blobs().write_bytes(&plain_bytes()).expect("blob");
        let image = image_of(vec![layer_of(layer, layer)], None);
        let note: BTreeMap<String, String> =
            [("org.example.note".to_string(), "kept".to_string())].into();
        let docker = ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::DOCKER_MANIFEST.into()),
            config: Descriptor {
                media_type: media_type::DOCKER_CONFIG.into(),
                digest: image.id,
                size: image.config_json.len() as u64,
                annotations: BTreeMap::new(),
                platform: None,
            },
            layers: vec![Descriptor {
                media_type: media_type::DOCKER_LAYER.into(),
                digest: layer,
                size: plain_bytes().len() as u64,
                annotations: note.clone(),
                platform: None,
            }],
        };
        let stored = store
            .blobs()
            .write_bytes(&serde_json::to_vec(&docker).expect("json"))
            .expect("manifest");
        let image = image_of(image.layers, Some(stored));

        let gzip =
            vec![prepare_layer(&store, &image.layers[0], LayerCompression::Gzip).expect("gzip")];
        let built = manifest_for(&store, &image, &gzip).expect("manifest");
        assert_eq!(built.media_type, media_type::DOCKER_MANIFEST);
        assert_eq!(built.config_media_type, media_type::DOCKER_CONFIG);
        let parsed: ImageManifest = serde_json::from_slice(&built.bytes).expect("json");
        assert_eq!(
            parsed.media_type.as_deref(),
            Some(media_type::DOCKER_MANIFEST)
        );
        assert_eq!(parsed.config.media_type, media_type::DOCKER_CONFIG);
        assert_eq!(parsed.layers[0].media_type, media_type::DOCKER_LAYER_GZIP);
        assert_eq!(parsed.layers[0].digest, gzip[0].digest);
        assert_eq!(parsed.layers[0].annotations, note);

        let zstd =
            vec![prepare_layer(&store, &image.layers[0], LayerCompression::Zstd).expect("zstd")];
        assert!(store
            .blobs()
            .read(&zstd[0].digest)
            .expect("copy")
            .starts_with(&[0x28, 0xb5, 0x2f, 0xfd]));
        let built = manifest_for(&store, &image, &zstd).expect("manifest");
        assert_eq!(built.media_type, media_type::OCI_MANIFEST);
        assert_eq!(built.config_media_type, media_type::OCI_CONFIG);
        let parsed: ImageManifest = serde_json::from_slice(&built.bytes).expect("json");
        assert_eq!(parsed.media_type.as_deref(), Some(media_type::OCI_MANIFEST));
        assert_eq!(parsed.config.media_type, media_type::OCI_CONFIG);
        assert_eq!(parsed.layers[0].media_type, media_type::OCI_LAYER_ZSTD);
        assert_eq!(parsed.layers[0].digest, zstd[0].digest);
        assert_eq!(parsed.layers[0].annotations, note);
    }
}
