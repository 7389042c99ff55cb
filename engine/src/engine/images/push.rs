//! The images service's push and registry-browsing verbs: push resolves the stored image and
//! hands it to `image::registry::push`; catalogue and tag pages come from
//! `image::registry::browse`.

use super::Images;
use crate::catalog::{self, tags};
use crate::image::compress::LayerCompression;
use crate::image::registry::browse::{self, Page};
use crate::image::registry::client::Access;
use crate::image::registry::push::{self, PushImage, PushSink};
use crate::image::registry::{JsonMessage, RegistryError};
use crate::image::{ImageError, Reference};
use crate::{Error, Result};
use tokio::sync::mpsc::UnboundedSender;

pub use berth_wire::image::PushResult;

impl Images {
    /// Pushes the local image `name` (tag `latest` when none is given) to the registry its
    /// name points at, sending docker-style progress messages to `events`. Layers stored
    /// uncompressed are sent compressed with `compression`; compressed ones as they are.
    pub async fn push(
        &self,
        name: &str,
        compression: LayerCompression,
        events: Option<UnboundedSender<JsonMessage>>,
    ) -> Result<PushResult> {
        let target = Reference::parse(name).map_err(ImageError::from)?;
        if target.digest().is_some() {
            return Err(Error::InvalidInput(format!(
                "cannot push {name}: push a tag, not a digest"
            )));
        }
        let target = match target.tag() {
            Some(_) => target,
            None => target
                .with_tag(crate::image::reference::DEFAULT_TAG)
                .map_err(ImageError::from)?,
        };
        let row = catalog::resolve(&self.db, &target.to_string())
            .await
            .map_err(|e| match e {
                Error::NotFound { .. } => Error::NotFound {
                    kind: "image",
                    id: format!(
                        "{} (tag it first: berth tag IMAGE {})",
                        target.familiar(),
                        target.familiar()
                    ),
                },
                other => other,
            })?;
        let mount_from = tags::names_of(&self.db, &row.id)
            .await?
            .iter()
            .filter_map(|n| n.parse::<Reference>().ok())
            .filter(|r| r.domain() == target.domain() && r.path() != target.path())
            .map(|r| r.path().to_string())
            .fold(Vec::new(), |mut out, path| {
                if !out.contains(&path) {
                    out.push(path);
                }
                out
            });
        let (id, manifest_digest) = row.digests()?;
        let image = PushImage {
            id,
            manifest_digest,
            layers: row.layers()?,
            config_json: row.config_json,
            mount_from,
        };
        // Shared with loads and pulls, exclusive for the sweep: the blobs stay while we read.
        let _reading = self.lock.read().await;
        let pushed = push::push(
            &self.store,
            &self.registries,
            &target,
            &image,
            compression,
            &PushSink::new(events),
        )
        .await?;
        tracing::info!(reference = %target, digest = %pushed.digest, "pushed");
        self.events
            .image("push", &target.familiar(), &target.familiar_name());
        Ok(PushResult {
            reference: target.to_string(),
            digest: pushed.digest.to_string(),
            size: pushed.size,
        })
    }

    /// One page of a registry's catalogue (`host[:port]`).
    pub async fn registry_catalog(
        &self,
        registry: &str,
        n: Option<u32>,
        last: Option<&str>,
    ) -> Result<Page> {
        let session = self.browse_session(registry, "").await?;
        Ok(browse::catalog(&session, n, last).await?)
    }

    /// One page of the tags of `repository` on a registry.
    pub async fn registry_tags(
        &self,
        registry: &str,
        repository: &str,
        n: Option<u32>,
        last: Option<&str>,
    ) -> Result<Page> {
        if repository.is_empty() {
            return Err(Error::InvalidInput("name a repository".into()));
        }
        let session = self.browse_session(registry, repository).await?;
        Ok(browse::tags(&session, n, last).await?)
    }

    async fn browse_session(
        &self,
        registry: &str,
        repository: &str,
    ) -> Result<crate::image::registry::RepoClient> {
        let host = crate::image::registry::normalize_registry(registry)?;
        let endpoint = self
            .registries
            .endpoints(&host)
            .into_iter()
            .rfind(|e| !e.mirror)
            .ok_or(RegistryError::BadRegistry(host))?;
        Ok(self
            .registries
            .connect(&endpoint, repository, Access::Pull)
            .await?)
    }
}
