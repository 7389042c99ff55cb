//! The images service: every image verb (load, import, pull, push, tag, list, inspect,
//! history, save, remove, prune, registry logins and browsing) over the store it owns. The
//! rules live in `catalog` and `image`; this service orders the steps and keeps the sweep of
//! unused blobs and layers away from anything putting images into the store.

use super::events::Events;
use super::pull_queue::PullQueue;
use crate::catalog::details::{self, HistoryEntry, ImageInspect};
use crate::catalog::filter::{created_seconds, ImageFilter};
use crate::catalog::removal::{self, ImageDeleteRecord};
use crate::catalog::{self, tags, ImageSummary};
use crate::db::Db;
use crate::filters::Filters;
use crate::image::import::{self, ImportOptions};
use crate::image::registry::{PullEvent, Registries, RegistryConfig};
use crate::image::save::{self, ArchiveFormat, SaveImage};
use crate::image::store::TempPath;
use crate::image::ImageStore;
use crate::image::{LoadedImage, Reference};
use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The images service: the content store, the registries, and the lock and queue that order
/// what goes into the store; images' rows are in the catalogue.
pub struct Images {
    db: Db,
    events: Events,
    store: ImageStore,
    /// Mirrors, credentials and connections for pulls and pushes.
    registries: Registries,
    /// Held shared by whatever puts images into the store (load, import, save reading it) from
    /// its first blob until the catalogue records it, and exclusively by the sweep that
    /// deletes blobs and layers no catalogued image uses.
    lock: tokio::sync::RwLock<()>,
    /// Pulls under way: one download per reference, at most a few at once.
    pulls: PullQueue<PullResult, PullEvent>,
}

mod pull;
mod push;

pub use berth_wire::image::ImagePruneReport;
pub use pull::PullResult;
pub use push::PushResult;

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

impl Images {
    /// Opens the store and the registries' settings on the data root; whatever a crash left
    /// half-written in the store's scratch space is removed (it is never complete).
    pub(super) fn open(
        db: Db,
        events: Events,
        root: &Path,
        registry: RegistryConfig,
    ) -> Result<Images> {
        let store = ImageStore::new(root)?;
        let registries = Registries::new(registry, root)?;
        store.clean_tmp()?;
        Ok(Images {
            db,
            events,
            store,
            registries,
            lock: tokio::sync::RwLock::new(()),
            pulls: Default::default(),
        })
    }

    /// The unpacked layers a container of this image stacks, top first, as overlayfs lists
    /// lowerdirs (the catalogue keeps them bottom first).
    pub(super) async fn lower_dirs(&self, image_id: &str) -> Result<Vec<PathBuf>> {
        let image = catalog::resolve(&self.db, image_id).await?;
        Ok(image
            .layers()?
            .iter()
            .rev()
            .map(|layer| self.store.layer_dir(&layer.chain_id))
            .collect())
    }

    /// Loads a `docker save` tar, an OCI archive or an OCI layout directory.
    pub async fn load(&self, archive: &Path) -> Result<Vec<ImageSummary>> {
        let _loading = self.lock.read().await;
        let store = self.store.clone();
        let path = archive.to_path_buf();
        let loaded = tokio::task::spawn_blocking(move || store.load_archive(&path))
            .await
            .map_err(|e| Error::Conflict(format!("image load was interrupted: {e}")))??;
        let mut ids = Vec::new();
        for image in &loaded {
            catalog::record(&self.db, image).await?;
            let id = image.id.to_string();
            let name = image.repo_tags.first().map(|t| t.familiar());
            self.events
                .image("load", &id, name.as_deref().unwrap_or(&id));
            ids.push(id);
        }
        let all = catalog::list(&self.db).await?;
        Ok(ids
            .iter()
            .filter_map(|id| all.iter().find(|s| &s.id == id).cloned())
            .collect())
    }

    /// How many containers use each image that has any, by image id.
    pub async fn containers_per_image(&self) -> Result<std::collections::BTreeMap<String, u32>> {
        removal::containers_per_image(&self.db).await
    }

    pub async fn list(&self) -> Result<Vec<ImageSummary>> {
        catalog::list(&self.db).await
    }

    /// The images docker's `images --filter` selects, newest first.
    pub async fn find(&self, filters: Filters) -> Result<Vec<ImageSummary>> {
        let db = &self.db;
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
    pub async fn tag(&self, source: &str, target: &str) -> Result<()> {
        let reference = tags::parse_target(target)?;
        let image = catalog::resolve(&self.db, source).await?;
        tags::set(&self.db, &reference, &image.id).await?;
        self.events.image("tag", &image.id, &reference.familiar());
        Ok(())
    }

    /// `rmi [-f] KEY`: untags or deletes as docker does (see `catalog::removal`), then frees
    /// the blobs and layers nothing else uses.
    pub async fn remove(&self, key: &str, force: bool) -> Result<Vec<ImageDeleteRecord>> {
        let image_id = catalog::resolve(&self.db, key).await.map(|row| row.id);
        let records = removal::remove(&self.db, key, force).await?;
        self.events
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
    pub async fn prune(&self, all: bool) -> Result<ImagePruneReport> {
        let images_deleted = removal::prune(&self.db, all).await?;
        self.events.image_removal(&images_deleted, "");
        let space_reclaimed = self.sweep().await?;
        Ok(ImagePruneReport {
            images_deleted,
            space_reclaimed,
        })
    }

    pub async fn inspect(&self, key: &str) -> Result<ImageInspect> {
        details::inspect(&self.db, key).await
    }

    pub async fn history(&self, key: &str) -> Result<Vec<HistoryEntry>> {
        details::history(&self.db, key).await
    }

    /// Writes the named images into one archive. A name saves that tag; an id saves the image
    /// untagged, as `docker save` does.
    pub async fn save(&self, keys: &[String], format: ArchiveFormat) -> Result<SavedArchive> {
        if keys.is_empty() {
            return Err(Error::InvalidInput(
                "name at least one image to save".into(),
            ));
        }
        let mut images: Vec<SaveImage> = Vec::new();
        for key in keys {
            let row = catalog::resolve(&self.db, key).await?;
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
        let _reading = self.lock.read().await;
        let store = self.store.clone();
        let saved: Vec<String> = images.iter().map(|i| i.id.to_string()).collect();
        let file = blocking("save", move || save::save(&store, &images, format)).await??;
        for id in &saved {
            self.events.image("save", id, id);
        }
        Ok(SavedArchive { file })
    }

    /// Makes a one-layer image from a root file system tarball (`import FILE [REF]`).
    pub async fn import(
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
        let _importing = self.lock.read().await;
        let store = self.store.clone();
        let path: PathBuf = rootfs.to_path_buf();
        let image: LoadedImage =
            blocking("import", move || import::import(&store, &path, options)).await??;
        catalog::record(&self.db, &image).await?;
        let id = image.id.to_string();
        self.events.image("import", &id, reference.unwrap_or(&id));
        catalog::summary(&self.db, &id).await
    }

    /// Deletes every blob and unpacked layer that no catalogued image uses; returns the bytes
    /// freed. Waits for loads and imports in progress, whose files are not catalogued yet.
    async fn sweep(&self) -> Result<u64> {
        let _exclusive = self.lock.write().await;
        let in_use = removal::in_use(&self.db).await?;
        let store = self.store.clone();
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
