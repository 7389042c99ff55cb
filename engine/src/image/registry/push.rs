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

use super::client::{Access, RepoClient};
use super::progress::{short_id, JsonMessage, ProgressDetail};
use super::{Registries, RegistryError};
use crate::digest::Digest;
use crate::image::config::{media_type, Descriptor, ImageManifest};
use crate::image::save::{compression_of, OCI_LAYER_ZSTD};
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

/// Pushes `image` as `target` (a tag; `latest` when none is given).
pub async fn push(
    store: &ImageStore,
    registries: &Registries,
    target: &Reference,
    image: &PushImage,
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
    let layers = layer_descriptors(store, &image.layers)?;
    // docker lists layers top first.
    for layer in layers.iter().rev() {
        sink.layer(&layer.digest, "Preparing");
    }
    for layer in layers.iter().rev() {
        let path = store.blobs().path(&layer.digest);
        let outcome = push_blob(&session, &path, layer, &image.mount_from, sink).await?;
        sink.layer(&layer.digest, outcome);
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

/// The manifest descriptors of the stored layer blobs (size from the file, media type from
/// the blob's compression).
fn layer_descriptors(
    store: &ImageStore,
    layers: &[LayerInfo],
) -> Result<Vec<Descriptor>, RegistryError> {
    let mut out = Vec::with_capacity(layers.len());
    for layer in layers {
        let path = store.blobs().path(&layer.blob_digest);
        let size = std::fs::metadata(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => ImageError::BlobNotFound(layer.blob_digest),
                _ => ImageError::io("inspect", &path, e),
            })?
            .len();
        let media = match compression_of(&path)? {
            Compression::None => media_type::OCI_LAYER,
            Compression::Gzip => media_type::OCI_LAYER_GZIP,
            Compression::Zstd => OCI_LAYER_ZSTD,
        };
        out.push(Descriptor {
            media_type: media.into(),
            digest: layer.blob_digest,
            size,
            annotations: BTreeMap::new(),
            platform: None,
        });
    }
    Ok(out)
}

/// The manifest to put: its bytes and media types.
struct ManifestToPush {
    bytes: Vec<u8>,
    media_type: String,
    config_media_type: String,
}

/// The image's own manifest when the store has it and it describes exactly this config and
/// these layer blobs (so the digest is the one it was pulled or loaded with); else an OCI
/// manifest built from them (image spec, manifest.md). Layer media types follow the stored
/// manifest when it is used.
fn manifest_for(
    store: &ImageStore,
    image: &PushImage,
    layers: &[Descriptor],
) -> Result<ManifestToPush, RegistryError> {
    let stored = image
        .manifest_digest
        .and_then(|digest| store.blobs().read(&digest).ok())
        .and_then(|bytes| {
            let manifest: ImageManifest = serde_json::from_slice(&bytes).ok()?;
            let fits = manifest.config.digest == image.id
                && manifest.layers.len() == layers.len()
                && manifest
                    .layers
                    .iter()
                    .zip(layers)
                    .all(|(a, b)| a.digest == b.digest && a.size == b.size);
            let media_type = manifest
                .media_type
                .clone()
                .filter(|m| m == media_type::OCI_MANIFEST || m == media_type::DOCKER_MANIFEST)?;
            fits.then(|| ManifestToPush {
                bytes,
                media_type,
                config_media_type: manifest.config.media_type.clone(),
            })
        });
    if let Some(stored) = stored {
        return Ok(stored);
    }
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: media_type::OCI_CONFIG.into(),
            digest: image.id,
            size: image.config_json.len() as u64,
            annotations: BTreeMap::new(),
            platform: None,
        },
        layers: layers.to_vec(),
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|source| ImageError::BadJson {
        what: "the manifest to push".into(),
        source,
    })?;
    Ok(ManifestToPush {
        bytes,
        media_type: media_type::OCI_MANIFEST.into(),
        config_media_type: media_type::OCI_CONFIG.into(),
    })
}

/// Makes sure the repository has the blob at `path`; returns docker's final status for it.
async fn push_blob(
    session: &RepoClient,
    path: &Path,
    blob: &Descriptor,
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
            finish_upload(session, &location, blob, Bytes::from(chunk)).await?;
            break;
        }
        if !chunk.is_empty() {
            let len = chunk.len() as u64;
            location = patch_chunk(session, &location, sent, Bytes::from(chunk)).await?;
            sent += len;
            sink.status(
                Some(short_id(&blob.digest)),
                "Pushing".into(),
                Some((sent, blob.size)),
            );
        }
        if last {
            finish_upload(session, &location, blob, Bytes::new()).await?;
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
        Started::Upload(location) => finish_upload(session, &location, blob, bytes).await,
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
    blob: &Descriptor,
    body: Bytes,
) -> Result<(), RegistryError> {
    let separator = if location.contains('?') { '&' } else { '?' };
    let url = format!("{location}{separator}digest={}", blob.digest);
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    let response = session.send(Method::PUT, &url, headers, Some(body)).await?;
    match response.status() {
        StatusCode::CREATED | StatusCode::NO_CONTENT | StatusCode::OK => Ok(()),
        s => Err(session
            .status_error(s, &format!("PUT blob {}", blob.digest), response)
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

    #[test]
    fn built_manifests_describe_the_stored_blobs() {
        let root = tempfile::tempdir().expect("tempdir");
        let store = ImageStore::new(root.path()).expect("store");
        let layer = store
            .blobs()
            .write_bytes(b"plain layer bytes")
            .expect("blob");
        let config = r#"{"architecture":"amd64","os":"linux"}"#.to_string();
        let image = PushImage {
            id: Digest::of(config.as_bytes()),
            config_json: config.clone(),
            manifest_digest: None,
            layers: vec![LayerInfo {
                blob_digest: layer,
                diff_id: layer,
                chain_id: layer,
                size: 17,
            }],
            mount_from: Vec::new(),
        };
        let layers = layer_descriptors(&store, &image.layers).expect("layers");
        assert_eq!(layers[0].size, 17);
        assert_eq!(layers[0].media_type, media_type::OCI_LAYER);
        let built = manifest_for(&store, &image, &layers).expect("manifest");
        assert_eq!(built.media_type, media_type::OCI_MANIFEST);
        let parsed: ImageManifest = serde_json::from_slice(&built.bytes).expect("json");
        assert_eq!(parsed.config.digest, image.id);
        assert_eq!(parsed.config.size, config.len() as u64);
        // A stored manifest of exactly these blobs is pushed as it is (its digest stays).
        let stored = store
            .blobs()
            .write_bytes(&built.bytes)
            .expect("manifest blob");
        let again = manifest_for(
            &store,
            &PushImage {
                manifest_digest: Some(stored),
                ..image.clone()
            },
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
            &PushImage {
                manifest_digest: Some(other),
                ..image
            },
            &layers,
        )
        .expect("manifest");
        assert_eq!(rebuilt.bytes, built.bytes);
    }
}
