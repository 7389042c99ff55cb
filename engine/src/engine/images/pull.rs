//! The images service's registry verbs: pull (with progress events, recorded in the
//! catalogue once the store has everything), login and logout. The protocol lives in
//! `image::registry`.

use super::Images;
use crate::catalog;
use crate::image::registry::progress::ProgressSink;
use crate::image::registry::{self, Credentials, PlatformSpec, PullEvent};
use crate::image::Reference;
use crate::Result;
use tokio::sync::mpsc::UnboundedSender;

pub use berth_wire::image::PullResult;

impl Images {
    /// Pulls `reference` for `platform` (`os/arch[/variant]`, default linux and this CPU),
    /// sending progress to `events` (a receiver that goes away does not stop the pull).
    ///
    /// A pull of what is already being pulled joins that pull (its progress from then on,
    /// its result); at most [`super::pull_queue::MAX_RUNNING_PULLS`] download at once, a
    /// bounded number more wait, beyond that the pull is refused with a conflict.
    pub async fn pull(
        &self,
        reference: &str,
        platform: Option<&str>,
        events: Option<UnboundedSender<PullEvent>>,
    ) -> Result<PullResult> {
        let reference = Reference::parse(reference).map_err(crate::image::ImageError::from)?;
        let platform = match platform.filter(|p| !p.is_empty()) {
            Some(text) => PlatformSpec::parse(text)?,
            None => PlatformSpec::host(),
        };
        let key = format!("{reference} {platform:?}");
        self.pulls
            .run(&key, events, |events| {
                self.pull_once(&reference, &platform, Some(events))
            })
            .await
    }

    async fn pull_once(
        &self,
        reference: &Reference,
        platform: &PlatformSpec,
        events: Option<UnboundedSender<PullEvent>>,
    ) -> Result<PullResult> {
        let sink = ProgressSink::new(events);
        let before = catalog::resolve(&self.db, &reference.to_string())
            .await
            .ok()
            .map(|row| row.id);
        let pulled = {
            // Shared with loads, exclusive for the sweep: what this pull puts in the store is
            // not swept before the catalogue records it.
            let _storing = self.lock.read().await;
            let pulled =
                registry::pull::pull(&self.store, &self.registries, reference, platform, &sink)
                    .await?;
            catalog::record(&self.db, &pulled.image).await?;
            pulled
        };
        let id = pulled.image.id.to_string();
        sink.send(PullEvent::Digest {
            digest: pulled.digest,
        });
        let status = if before.as_deref() == Some(id.as_str()) {
            format!("Image is up to date for {}", reference.familiar())
        } else {
            format!("Downloaded newer image for {}", reference.familiar())
        };
        sink.send(PullEvent::Status {
            message: status.clone(),
        });
        tracing::info!(reference = %reference, image = %id, "pulled");
        self.events
            .image("pull", &reference.familiar(), &reference.familiar_name());
        Ok(PullResult {
            reference: reference.familiar(),
            id,
            digest: pulled.digest.to_string(),
            status,
        })
    }

    /// Checks the credentials against the registry and stores them (mode 0600 under the data
    /// root); returns the registry's normalised name.
    pub async fn login(&self, registry: &str, username: &str, password: &str) -> Result<String> {
        let credentials = Credentials {
            username: username.to_string(),
            password: password.to_string(),
        };
        Ok(self.registries.login(registry, credentials).await?)
    }

    /// Forgets a registry's stored login; `false` if there was none.
    pub async fn logout(&self, registry: &str) -> Result<bool> {
        Ok(self.registries.logout(registry)?)
    }

    /// Checks credentials against a registry without storing them: the given ones, else
    /// those stored for it, else anonymous access. Returns the registry's normalised name.
    pub async fn check_login(
        &self,
        registry: &str,
        credentials: Option<(&str, &str)>,
    ) -> Result<String> {
        let credentials = match credentials {
            Some((username, password)) => Some(Credentials {
                username: username.to_string(),
                password: password.to_string(),
            }),
            None => {
                let name = registry::normalize_registry(registry)?;
                self.registries.credentials().get(&name)?
            }
        };
        Ok(self.registries.check(registry, credentials).await?)
    }

    /// Every registry with a stored login and its user name (never the password).
    pub async fn stored_logins(&self) -> Result<Vec<berth_wire::registry::StoredLogin>> {
        Ok(self
            .registries
            .credentials()
            .usernames()?
            .into_iter()
            .map(|(registry, username)| berth_wire::registry::StoredLogin { registry, username })
            .collect())
    }

    /// The registries with a stored login (never their passwords).
    pub async fn logged_in_registries(&self) -> Result<Vec<String>> {
        Ok(self.registries.credentials().registries()?)
    }
}
