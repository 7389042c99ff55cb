//! The pull of one image: resolve the reference to a manifest (through the mirrors of
//! docker.io first, then the registry), pick the platform's manifest from an index, fetch
//! and verify the config, then fetch the layers that are not in the store — up to
//! [`PARALLEL_LAYERS`] at a time — verifying each blob's size and digest and unpacking it while
//! it streams, with the same unpacker `load` uses. Everything lands in one temp dir under
//! `tmp/`; only when every blob and layer is verified are they renamed into the store, and
//! only then does the caller record the image. A failed or interrupted pull leaves nothing
//! that looks complete (the temp dir is deleted, or cleared at the next start), and a
//! new pull starts over, skipping the layers already in the store.

use super::client::{Access, FetchedManifest};
use super::manifest::{self, Document, PlatformSpec, MAX_CONFIG};
use super::progress::{LayerState, ProgressSink, PullEvent};
use super::{Registries, RegistryError, RepoClient};
use crate::digest::{digest_error_of, Digest, DigestError, HashingReader, VerifyingReader};
use crate::image::config::{Descriptor, ImageManifest};
use crate::image::store::{create_temp_dir, create_temp_file, StagedBlob, TempPath};
use crate::image::unpack;
use crate::image::Reference;
use crate::image::{chain_ids, ImageConfig, ImageError, ImageStore, LayerInfo, LoadedImage};
use bytes::Bytes;
use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Layers downloaded at the same time (docker's default, `max-concurrent-downloads`, is 3).
pub const PARALLEL_LAYERS: usize = 3;
/// Chunks in flight between a download and its unpacker.
const CHANNEL_CHUNKS: usize = 16;
/// How often a layer's byte count is reported while it downloads.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A pulled image, in the store but not yet in the catalogue.
pub struct Pulled {
    pub image: LoadedImage,
    /// What the reference names: the index digest for a multi-platform image.
    pub digest: Digest,
}

/// Pulls `reference` for `platform` into `store`, reporting progress to `progress`.
pub async fn pull(
    store: &ImageStore,
    registries: &Registries,
    reference: &Reference,
    platform: &PlatformSpec,
    progress: &ProgressSink,
) -> Result<Pulled, RegistryError> {
    let target = match (reference.digest(), reference.tag()) {
        (Some(digest), _) => digest.to_string(),
        (None, Some(tag)) => tag.to_string(),
        (None, None) => crate::image::reference::DEFAULT_TAG.to_string(),
    };
    progress.send(PullEvent::Pulling {
        repository: reference.path().to_string(),
        tag: target.clone(),
    });
    let shown = reference.familiar();
    let started = Instant::now();
    let (session, top) = resolve(registries, reference, &target).await?;
    let work = create_temp_dir(store.tmp_dir(), "pull")?;
    let mut blobs = vec![stage_bytes(store, work.path(), &top.bytes, &top.digest)?];
    let manifest = match manifest::parse(&shown, top.media_type.as_deref(), &top.bytes)? {
        Document::Manifest(m) => m,
        Document::Index(index) => {
            let what = format!("{shown} ({})", top.digest);
            let entry = manifest::select(&index, platform, &what)?.clone();
            let fetched = session.manifest(&entry.digest.to_string()).await?;
            if fetched.bytes.len() as u64 != entry.size {
                return Err(RegistryError::BadManifest {
                    reference: shown,
                    reason: format!(
                        "the index says manifest {} is {} bytes, the registry sent {}",
                        entry.digest,
                        entry.size,
                        fetched.bytes.len()
                    ),
                });
            }
            blobs.push(stage_bytes(
                store,
                work.path(),
                &fetched.bytes,
                &fetched.digest,
            )?);
            match manifest::parse(&shown, fetched.media_type.as_deref(), &fetched.bytes)? {
                Document::Manifest(m) => m,
                Document::Index(_) => {
                    return Err(RegistryError::BadManifest {
                        reference: shown,
                        reason: format!("index entry {} is another index", entry.digest),
                    })
                }
            }
        }
    };
    let (config, config_json) = fetch_config(&session, &manifest, &shown).await?;
    blobs.push(stage_bytes(
        store,
        work.path(),
        config_json.as_bytes(),
        &manifest.config.digest,
    )?);
    let image_id = manifest.config.digest;
    let diff_ids = config.rootfs.diff_ids.clone();
    if diff_ids.len() != manifest.layers.len() {
        return Err(ImageError::LayerCount {
            image: image_id,
            layers: manifest.layers.len(),
            diff_ids: diff_ids.len(),
        }
        .into());
    }
    let chain = chain_ids(&diff_ids);
    let plans: Vec<LayerPlan> = manifest
        .layers
        .iter()
        .enumerate()
        .map(|(index, blob)| LayerPlan {
            index,
            blob: blob.clone(),
            diff_id: diff_ids[index],
            chain_id: chain[index],
            unpacked: store.has_layer(&chain[index]),
        })
        .collect();
    for plan in &plans {
        let state = if plan.unpacked && store.blobs().contains(&plan.blob.digest) {
            LayerState::AlreadyExists
        } else {
            LayerState::Waiting
        };
        progress.layer(&plan.blob.digest, state, 0, plan.blob.size);
    }
    let manifests_done = Instant::now();
    let fetched = fetch_layers(store, &session, &plans, work.path(), image_id, progress).await?;
    let layers_done = Instant::now();
    let store = store.clone();
    let committed = tokio::task::spawn_blocking(move || commit(&store, work, blobs, fetched))
        .await
        .map_err(|e| RegistryError::Unreachable {
            registry: reference.domain().to_string(),
            detail: format!("the pull was interrupted: {e}"),
        })??;
    // Where the time went, for `scripts/bench.sh pull` and anyone asking why a pull is slow.
    tracing::info!(
        image = %shown,
        manifests_ms = ms(manifests_done - started),
        layers_ms = ms(layers_done - manifests_done),
        commit_ms = ms(layers_done.elapsed()),
        total_ms = ms(started.elapsed()),
        "pull timings"
    );
    let layers: Vec<LayerInfo> = plans
        .iter()
        .zip(committed)
        .map(|(plan, size)| LayerInfo {
            blob_digest: plan.blob.digest,
            diff_id: plan.diff_id,
            chain_id: plan.chain_id,
            size,
        })
        .collect();
    let repo_tags = match (reference.tag(), reference.digest()) {
        (Some(_), None) => vec![reference.clone()],
        _ => Vec::new(),
    };
    Ok(Pulled {
        image: LoadedImage {
            id: image_id,
            repo_tags,
            manifest_digest: Some(top.digest),
            config,
            config_json,
            size: layers.iter().map(|l| l.size).sum(),
            layers,
        },
        digest: top.digest,
    })
}

/// The manifest (or index) `target` names, from the first endpoint that has it: a failing
/// mirror is logged and the next endpoint tried, as dockerd does.
async fn resolve(
    registries: &Registries,
    reference: &Reference,
    target: &str,
) -> Result<(RepoClient, FetchedManifest), RegistryError> {
    let endpoints = registries.endpoints(reference.domain());
    let mut last_error = None;
    for endpoint in &endpoints {
        let attempt = async {
            let session = registries
                .connect(endpoint, reference.path(), Access::Pull)
                .await?;
            let fetched = session.manifest(target).await?;
            Ok::<_, RegistryError>((session, fetched))
        }
        .await;
        match attempt {
            Ok(found) => return Ok(found),
            Err(e) if endpoint.mirror => {
                tracing::warn!(mirror = %endpoint.base, "pull through the mirror failed, trying the next endpoint: {e}");
                last_error = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_error.unwrap_or_else(|| RegistryError::BadRegistry(reference.domain().to_string())))
}

async fn fetch_config(
    session: &RepoClient,
    manifest: &ImageManifest,
    shown: &str,
) -> Result<(ImageConfig, String), RegistryError> {
    let descriptor = &manifest.config;
    let bytes = session
        .small_blob(&descriptor.digest, descriptor.size, MAX_CONFIG)
        .await
        .map_err(|e| match e {
            RegistryError::Image(ImageError::Digest { source, .. }) => ImageError::Digest {
                what: format!("config {} of {shown}", descriptor.digest),
                source,
            }
            .into(),
            other => other,
        })?;
    let bad = |reason: String| RegistryError::BadManifest {
        reference: shown.to_string(),
        reason,
    };
    let config: ImageConfig = serde_json::from_slice(&bytes).map_err(|e| {
        bad(format!(
            "its config {} is not an image config: {e}",
            descriptor.digest
        ))
    })?;
    let json = String::from_utf8(bytes)
        .map_err(|_| bad(format!("its config {} is not UTF-8", descriptor.digest)))?;
    Ok((config, json))
}

fn stage_bytes(
    store: &ImageStore,
    work: &Path,
    bytes: &[u8],
    digest: &Digest,
) -> Result<StagedBlob, RegistryError> {
    Ok(store
        .blobs()
        .stage(bytes, Some(digest), Some(bytes.len() as u64), work)?)
}

/// One layer of the manifest and what the store already has of it.
struct LayerPlan {
    index: usize,
    blob: Descriptor,
    diff_id: Digest,
    chain_id: Digest,
    /// `layers/<chain id>` exists.
    unpacked: bool,
}

/// What fetching a layer left in the work dir.
struct FetchedLayer {
    chain_id: Digest,
    /// The verified blob, unless the store had it.
    blob: Option<StagedBlob>,
    /// The unpacked layer, unless the store had it.
    dir: Option<TempPath>,
}

/// Fetches the missing layers, [`PARALLEL_LAYERS`] at a time. On the first failure the
/// others stop; this returns only once every transfer and unpacker has ended, so that the
/// caller's cleanup of the work dir races with nothing.
async fn fetch_layers(
    store: &ImageStore,
    session: &RepoClient,
    plans: &[LayerPlan],
    work: &Path,
    image: Digest,
    progress: &ProgressSink,
) -> Result<Vec<FetchedLayer>, RegistryError> {
    let cancel = AtomicBool::new(false);
    let first_error: Mutex<Option<RegistryError>> = Mutex::new(None);
    // Every layer gets a future; a semaphore (fair, so in manifest order) lets
    // PARALLEL_LAYERS of them transfer at once.
    let slots = tokio::sync::Semaphore::new(PARALLEL_LAYERS);
    let results: Vec<Option<FetchedLayer>> =
        futures::future::join_all(plans.iter().map(|plan| async {
            if plan.unpacked && store.blobs().contains(&plan.blob.digest) {
                return Some(FetchedLayer {
                    chain_id: plan.chain_id,
                    blob: None,
                    dir: None,
                });
            }
            let _slot = slots.acquire().await.ok()?;
            if cancel.load(Ordering::SeqCst) {
                return None;
            }
            match fetch_layer(session, plan, work, image, progress, &cancel).await {
                Ok(layer) => Some(layer),
                Err(e) => {
                    if !cancel.swap(true, Ordering::SeqCst) {
                        *first_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    }
                    None
                }
            }
        }))
        .await;
    if let Some(e) = first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    Ok(results.into_iter().flatten().collect())
}

/// Streams one layer blob from the registry into a staged file, unpacking it on the way
/// (unless the store has the unpacked layer already), and checks its diff id.
async fn fetch_layer(
    session: &RepoClient,
    plan: &LayerPlan,
    work: &Path,
    image: Digest,
    progress: &ProgressSink,
    cancel: &AtomicBool,
) -> Result<FetchedLayer, RegistryError> {
    let digest = plan.blob.digest;
    let total = plan.blob.size;
    let started = Instant::now();
    let mut response = session.blob(&digest).await?;
    // A length that differs from the manifest's is caught before any byte is read.
    if let Some(length) = super::client::content_length(&response).filter(|l| *l != total) {
        return Err(ImageError::Digest {
            what: format!("layer {digest}"),
            source: DigestError::SizeMismatch {
                digest,
                expected: total,
                actual: length,
            },
        }
        .into());
    }
    progress.layer(&digest, LayerState::Downloading, 0, total);
    let (file, path) = create_temp_file(work, "ingest")?;
    let unpack_into = (!plan.unpacked).then(|| work.join(format!("layer-{}", plan.chain_id.hex())));
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Bytes>>(CHANNEL_CHUNKS);
    let ingesting =
        tokio::task::spawn_blocking(move || ingest(rx, file, path, digest, total, unpack_into));
    let mut current = 0u64;
    let mut reported = Instant::now();
    let downloaded: Result<(), RegistryError> = loop {
        if cancel.load(Ordering::SeqCst) {
            let _ = tx
                .send(Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled")))
                .await;
            break Err(RegistryError::Unreachable {
                registry: session.endpoint().registry.clone(),
                detail: "cancelled".into(),
            });
        }
        match response.chunk().await {
            Ok(Some(chunk)) => {
                current += chunk.len() as u64;
                // A closed channel means the unpacker stopped: its result says why.
                if tx.send(Ok(chunk)).await.is_err() {
                    break Ok(());
                }
                if reported.elapsed() >= PROGRESS_EVERY {
                    progress.layer(&digest, LayerState::Downloading, current, total);
                    reported = Instant::now();
                }
            }
            Ok(None) => break Ok(()),
            Err(e) => {
                let err = RegistryError::unreachable(&session.endpoint().registry, &e);
                let _ = tx.send(Err(io::Error::other(err.to_string()))).await;
                break Err(err);
            }
        }
    };
    drop(tx);
    let download = started.elapsed();
    if downloaded.is_ok() {
        progress.layer(&digest, LayerState::Downloading, current, total);
        progress.layer(&digest, LayerState::Verifying, current, total);
        progress.layer(&digest, LayerState::Extracting, current, total);
    }
    let ingested = ingesting.await.map_err(|e| RegistryError::Unreachable {
        registry: session.endpoint().registry.clone(),
        detail: format!("the layer unpacker failed: {e}"),
    });
    // A broken transfer is the cause of whatever the unpacker then saw.
    downloaded?;
    let ingested = ingested??;
    if ingested.diff_id != plan.diff_id {
        return Err(ImageError::DiffIdMismatch {
            image,
            index: plan.index,
            expected: plan.diff_id,
            actual: ingested.diff_id,
        }
        .into());
    }
    progress.layer(&digest, LayerState::PullComplete, total, total);
    // The unpacker's busy time is decompressing, hashing, writing files and the blob; its
    // idle time is waiting for the network.
    tracing::info!(
        layer = %digest,
        bytes = total,
        download_ms = ms(download),
        network_wait_ms = ms(ingested.timings.waited),
        unpack_ms = ms(ingested.timings.busy),
        fsync_ms = ms(ingested.timings.fsync),
        total_ms = ms(started.elapsed()),
        "pull layer timings"
    );
    Ok(FetchedLayer {
        chain_id: plan.chain_id,
        blob: Some(ingested.blob),
        dir: ingested.dir,
    })
}

struct Ingested {
    blob: StagedBlob,
    diff_id: Digest,
    dir: Option<TempPath>,
    timings: IngestTimings,
}

/// Where an ingest's time went.
struct IngestTimings {
    /// Blocked on the download for the next chunk.
    waited: Duration,
    /// Everything else up to the fsync: decompressing, hashing, unpacking, writing the blob.
    busy: Duration,
    /// The staged blob's fsync.
    fsync: Duration,
}

/// Milliseconds, for timing logs.
fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// The blocking half of a layer fetch: the blob's bytes from `rx` are written to `file` and
/// verified against `digest` and `size` while the unpacker (or, for a layer already
/// unpacked, just a hasher of the uncompressed stream) reads them.
fn ingest(
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    file: File,
    path: TempPath,
    digest: Digest,
    size: u64,
    unpack_into: Option<PathBuf>,
) -> Result<Ingested, RegistryError> {
    let started = Instant::now();
    let waited = Rc::new(Cell::new(Duration::ZERO));
    let mut tee = Tee {
        inner: VerifyingReader::new(
            ChannelReader {
                rx,
                pending: Bytes::new(),
                waited: Rc::clone(&waited),
            },
            digest,
            Some(size),
        ),
        out: BufWriter::with_capacity(256 * 1024, file),
        write_error: None,
    };
    let dir = unpack_into.map(TempPath::new);
    let diff_id = match &dir {
        Some(dir) => unpack::unpack_layer(&mut tee, dir.path()).map(|u| u.diff_id),
        None => unpack::decompress(&mut tee).and_then(|decoded| {
            let mut hashing = HashingReader::new(decoded);
            io::copy(&mut hashing, &mut io::sink())
                .map(|_| hashing.finish().0)
                .map_err(unpack::UnpackError::Tar)
        }),
    };
    // Whatever the unpacker thought, read the rest of the blob through the verifier: a
    // corrupt download is reported as the digest mismatch it is, not as a bad tar.
    let rest = io::copy(&mut tee, &mut io::sink());
    if let Some(e) = tee.write_error.take() {
        return Err(ImageError::io("write", path.path(), e).into());
    }
    if let Err(e) = &rest {
        if let Some(mismatch) = digest_error_of(e) {
            return Err(ImageError::Digest {
                what: format!("layer {digest}"),
                source: mismatch.clone(),
            }
            .into());
        }
    }
    let diff_id = diff_id.map_err(|source| ImageError::Layer {
        blob: digest,
        source,
    })?;
    rest.map_err(|e| ImageError::io("read the download of", path.path(), e))?;
    if !tee.inner.is_verified() {
        return Err(ImageError::Digest {
            what: format!("layer {digest}"),
            source: DigestError::SizeMismatch {
                digest,
                expected: size,
                actual: 0,
            },
        }
        .into());
    }
    let file = tee
        .out
        .into_inner()
        .map_err(|e| ImageError::io("write", path.path(), e.into_error()))?;
    let waited = waited.get();
    let busy = started.elapsed().saturating_sub(waited);
    let syncing = Instant::now();
    file.sync_all()
        .map_err(|e| ImageError::io("fsync", path.path(), e))?;
    Ok(Ingested {
        blob: StagedBlob::verified(path, digest, size),
        diff_id,
        dir,
        timings: IngestTimings {
            waited,
            busy,
            fsync: syncing.elapsed(),
        },
    })
}

/// Everything is verified: make it durable and move it into the store. Returns the
/// unpacked size of each layer, in manifest order.
fn commit(
    store: &ImageStore,
    work: TempPath,
    blobs: Vec<StagedBlob>,
    fetched: Vec<FetchedLayer>,
) -> Result<Vec<u64>, RegistryError> {
    let mut all_blobs = blobs;
    let mut dirs = Vec::new();
    let mut chains = Vec::new();
    for layer in fetched {
        chains.push(layer.chain_id);
        all_blobs.extend(layer.blob);
        if let Some(dir) = layer.dir {
            dirs.push((layer.chain_id, dir));
        }
    }
    // One syncfs first: nothing is renamed to where it looks complete before all of it is
    // on disk.
    crate::image::archive::sync_filesystem(work.path())?;
    for blob in all_blobs {
        store.blobs().commit(blob)?;
    }
    for (chain_id, dir) in dirs {
        store.commit_layer(&chain_id, dir)?;
    }
    crate::image::store::sync_dir(store.layers_root())?;
    let mut sizes = Vec::with_capacity(chains.len());
    for chain_id in chains {
        let dir = store.layer_dir(&chain_id);
        sizes.push(unpack::layer_size(&dir)?);
    }
    // `work` (now holding nothing of value) is deleted here.
    drop(work);
    Ok(sizes)
}

/// Reads the chunks a download sends; an `Err` chunk is a broken transfer.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<Bytes>>,
    pending: Bytes,
    /// Time spent blocked waiting for a chunk, shared with the ingest that owns it.
    waited: Rc<Cell<Duration>>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending.is_empty() {
            let waiting = Instant::now();
            let received = self.rx.blocking_recv();
            self.waited.set(self.waited.get() + waiting.elapsed());
            match received {
                Some(Ok(chunk)) => self.pending = chunk,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending.split_to(n));
        Ok(n)
    }
}

/// Writes everything read through it to `out`.
struct Tee<R, W> {
    inner: R,
    out: W,
    write_error: Option<io::Error>,
}

impl<R: Read, W: Write> Read for Tee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            let kind = e.kind();
            self.write_error = Some(e);
            return Err(io::Error::new(kind, "cannot write the staged blob"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `ingest` over `chunks` as a download would send them; unpacks into
    /// `dir/layer` when `unpack`.
    fn ingest_chunks(
        dir: &Path,
        chunks: Vec<io::Result<Bytes>>,
        digest: Digest,
        size: u64,
        unpack: bool,
    ) -> Result<Ingested, RegistryError> {
        let (tx, rx) = tokio::sync::mpsc::channel(chunks.len().max(1));
        for chunk in chunks {
            tx.try_send(chunk).expect("room");
        }
        drop(tx);
        let (file, path) = create_temp_file(dir, "ingest").expect("temp file");
        ingest(
            rx,
            file,
            path,
            digest,
            size,
            unpack.then(|| dir.join("layer")),
        )
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(data).expect("gzip");
        enc.finish().expect("gzip")
    }

    fn layer_tar() -> Vec<u8> {
        let mut b = berth_testkit::LayerBuilder::new();
        b.file("etc/hello", 0o644, b"hi\n").expect("file");
        b.finish().expect("layer").tar().to_vec()
    }

    #[test]
    fn ingest_stores_verifies_and_unpacks_in_one_pass() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tar = layer_tar();
        let blob = gzip(&tar);
        let (a, b) = blob.split_at(blob.len() / 2);
        let chunks = vec![Ok(Bytes::copy_from_slice(a)), Ok(Bytes::copy_from_slice(b))];
        let out = ingest_chunks(
            dir.path(),
            chunks,
            Digest::of(&blob),
            blob.len() as u64,
            true,
        )
        .expect("ingest");
        assert_eq!(out.diff_id, Digest::of(&tar));
        assert_eq!(std::fs::read(out.blob.path()).expect("blob"), blob);
        assert_eq!(
            std::fs::read(dir.path().join("layer/etc/hello")).expect("file"),
            b"hi\n"
        );
    }

    #[test]
    fn a_corrupt_blob_is_a_digest_mismatch_and_leaves_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blob = gzip(&layer_tar());
        let mut corrupt = blob.clone();
        let middle = corrupt.len() / 2;
        corrupt[middle] ^= 0xff;
        let chunks = vec![Ok(Bytes::from(corrupt))];
        let err = ingest_chunks(
            dir.path(),
            chunks,
            Digest::of(&blob),
            blob.len() as u64,
            true,
        )
        .err()
        .expect("fails");
        assert!(
            matches!(
                err,
                RegistryError::Image(ImageError::Digest {
                    source: DigestError::Mismatch { .. },
                    ..
                })
            ),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn a_broken_transfer_fails_the_ingest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let blob = gzip(&layer_tar());
        let chunks = vec![
            Ok(Bytes::copy_from_slice(&blob[..10])),
            Err(io::Error::other("connection reset")),
        ];
        let result = ingest_chunks(
            dir.path(),
            chunks,
            Digest::of(&blob),
            blob.len() as u64,
            true,
        );
        assert!(result.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
    }

    #[test]
    fn a_present_layer_is_only_hashed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tar = layer_tar();
        let digest = Digest::of(&tar);
        let chunks = vec![Ok(Bytes::from(tar.clone()))];
        let out =
            ingest_chunks(dir.path(), chunks, digest, tar.len() as u64, false).expect("ingest");
        assert_eq!(
            out.diff_id, digest,
            "an uncompressed layer's diff id is its digest"
        );
        assert!(out.dir.is_none());
        assert!(!dir.path().join("layer").exists());
    }
}
