//! The engine's image verbs beyond load and list: filtered lists, tag, remove, prune, inspect,
//! history, save and import. The rules live in `catalog` and `image`; this file orders the steps and keeps
//! the sweep of unused blobs and layers away from anything putting images into the store.

use super::Engine;
use crate::catalog::details::{self, HistoryEntry, ImageInspect};
use crate::catalog::filter::{created_seconds, ImageFilter};
use crate::catalog::removal::{self, ImageDeleteRecord};
use crate::catalog::{self, tags, ImageSummary};
use crate::filters::Filters;
use crate::image::import::{self, ImportOptions};
use crate::image::save::{self, ArchiveFormat, SaveImage};
use crate::image::store::TempPath;
use crate::image::{LoadedImage, Reference};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The images service: the content store, the registries, and the lock and queue that order
/// what goes into the store.
pub(super) struct Images {
    pub(super) store: crate::image::ImageStore,
    /// Mirrors, credentials and connections for pulls and pushes.
    pub(super) registries: crate::image::registry::Registries,
    /// Held shared by whatever puts images into the store (load, import, save reading it) from
    /// its first blob until the catalogue records it, and exclusively by the sweep that
    /// deletes blobs and layers no catalogued image uses.
    pub(super) lock: tokio::sync::RwLock<()>,
    /// Pulls under way: one download per reference, at most a few at once.
    pub(super) pulls:
        super::pull_queue::PullQueue<super::PullResult, crate::image::registry::PullEvent>,
}

pub use berth_wire::image::ImagePruneReport;

/// An archive written by [`Engine::save_images`] under the data root's `tmp/`; deleted
/// when dropped.
pub struct SavedArchive {
    file: TempPath,
}

impl SavedArchive {
    pub fn path(&self) -> &Path {
        self.file.path()
    }
}

impl Engine {
    /// The images docker's `images --filter` selects, newest first.
    pub async fn find_images(&self, filters: Filters) -> Result<Vec<ImageSummary>> {
        let db = &self.inner.db;
        let mut filter = ImageFilter::new(filters)?;
        if let Some(key) = filter.filters().values("before").first() {
            filter.before = Some(created_seconds(
                catalog::resolve(db, key).await?.created.as_deref(),
            ));
        }
        if let Some(key) = filter.filters().values("since").first() {
            filter.since = Some(created_seconds(
                catalog::resolve(db, key).await?.created.as_deref(),
            ));
        }
        Ok(catalog::list(db)
            .await?
            .into_iter()
            .filter_map(|image| filter.select(image))
            .collect())
    }

    /// Points the name `target` at the image `source` (`tag SOURCE TARGET`).
    pub async fn tag_image(&self, source: &str, target: &str) -> Result<()> {
        let reference = tags::parse_target(target)?;
        let image = catalog::resolve(&self.inner.db, source).await?;
        tags::set(&self.inner.db, &reference, &image.id).await?;
        self.inner
            .events
            .image("tag", &image.id, &reference.familiar());
        Ok(())
    }

    /// `rmi [-f] KEY`: untags or deletes as docker does (see `catalog::removal`), then frees
    /// the blobs and layers nothing else uses.
    pub async fn remove_image(&self, key: &str, force: bool) -> Result<Vec<ImageDeleteRecord>> {
        let image_id = catalog::resolve(&self.inner.db, key)
            .await
            .map(|row| row.id);
        let records = removal::remove(&self.inner.db, key, force).await?;
        self.inner
            .events
            .image_removal(&records, image_id.as_deref().unwrap_or(key));
        if records
            .iter()
            .any(|r| matches!(r, ImageDeleteRecord::Deleted(_)))
        {
            self.sweep().await?;
        }
        Ok(records)
    }

    /// `image prune [-a]`: deletes dangling images (or, with `all`, every image no container
    /// uses) and frees what they alone used.
    pub async fn prune_images(&self, all: bool) -> Result<ImagePruneReport> {
        let images_deleted = removal::prune(&self.inner.db, all).await?;
        self.inner.events.image_removal(&images_deleted, "");
        let space_reclaimed = self.sweep().await?;
        Ok(ImagePruneReport {
            images_deleted,
            space_reclaimed,
        })
    }

    pub async fn inspect_image(&self, key: &str) -> Result<ImageInspect> {
        details::inspect(&self.inner.db, key).await
    }

    pub async fn image_history(&self, key: &str) -> Result<Vec<HistoryEntry>> {
        details::history(&self.inner.db, key).await
    }

    /// Writes the named images into one archive. A name saves that tag; an id saves the image
    /// untagged, as `docker save` does.
    pub async fn save_images(
        &self,
        keys: &[String],
        format: ArchiveFormat,
    ) -> Result<SavedArchive> {
        if keys.is_empty() {
            return Err(Error::InvalidInput(
                "name at least one image to save".into(),
            ));
        }
        let mut images: Vec<SaveImage> = Vec::new();
        for key in keys {
            let row = catalog::resolve(&self.inner.db, key).await?;
            let tag = if removal::is_id_prefix(&row.id, key) {
                None
            } else {
                Some(Reference::parse(key).map_err(crate::image::ImageError::from)?)
            };
            if let Some(image) = images.iter_mut().find(|i| i.id.to_string() == row.id) {
                image.tags.extend(tag.filter(|t| !image.tags.contains(t)));
                continue;
            }
            let (id, manifest_digest) = row.digests()?;
            images.push(SaveImage {
                id,
                manifest_digest,
                layers: row.layers()?,
                config_json: row.config_json,
                tags: tag.into_iter().collect(),
            });
        }
        let _reading = self.inner.images.lock.read().await;
        let store = self.inner.images.store.clone();
        let saved: Vec<String> = images.iter().map(|i| i.id.to_string()).collect();
        let file = blocking("save", move || save::save(&store, &images, format)).await??;
        for id in &saved {
            self.inner.events.image("save", id, id);
        }
        Ok(SavedArchive { file })
    }

    /// Makes a one-layer image from a root file system tarball (`import FILE [REF]`).
    pub async fn import_image(
        &self,
        rootfs: &Path,
        reference: Option<&str>,
        message: Option<String>,
    ) -> Result<ImageSummary> {
        let tags = reference.map(tags::parse_target).transpose()?;
        let options = ImportOptions {
            tags: tags.into_iter().collect(),
            message,
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        };
        let _importing = self.inner.images.lock.read().await;
        let store = self.inner.images.store.clone();
        let path: PathBuf = rootfs.to_path_buf();
        let image: LoadedImage =
            blocking("import", move || import::import(&store, &path, options)).await??;
        catalog::record(&self.inner.db, &image).await?;
        let id = image.id.to_string();
        self.inner
            .events
            .image("import", &id, reference.unwrap_or(&id));
        catalog::summary(&self.inner.db, &id).await
    }

    /// Deletes every blob and unpacked layer that no catalogued image uses; returns the bytes
    /// freed. Waits for loads and imports in progress, whose files are not catalogued yet.
    async fn sweep(&self) -> Result<u64> {
        let _exclusive = self.inner.images.lock.write().await;
        let in_use = removal::in_use(&self.inner.db).await?;
        let store = self.inner.images.store.clone();
        Ok(blocking("cleanup", move || {
            store.remove_unused(&in_use.chain_ids, &in_use.blobs)
        })
        .await??)
    }
}

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Conflict(format!("image {what} was interrupted: {e}")))
}
