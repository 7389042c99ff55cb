//! Registries: pulling images over the OCI distribution API (Docker Registry HTTP API v2),
//! with anonymous, Basic and Bearer-token auth, stored credentials, mirrors for docker.io and
//! insecure (plain HTTP or unverified TLS) registries.
//!
//! The protocol client is our own, small, on `reqwest` + rustls, rather than `oci-client`
//! (evaluated at 0.15): oci-client streams blobs and does token and Basic auth, but its TLS
//! settings are per client, not per registry (`accept_invalid_certificates` for one insecure
//! registry would switch off verification for every other one, and extra CAs apply to all),
//! it has no mirror fallback, reads manifests whole with no size cap, and hands blobs over as
//! a stream that we would verify and unpack ourselves anyway. What berth needs beyond that is
//! a few hundred lines: one HTTP client per registry host with that host's trust settings
//! (`transport`), the auth handshake (`auth`), authenticated requests for one repository
//! (`client`), manifest parsing and platform selection (`manifest`), and the pull itself
//! (`pull`), which reuses the store's staging and the layer unpacker that `load` uses.
//!
//! Push reuses [`RepoClient`] (authenticated requests with any method and body, blob
//! existence checks) with the `push` scope.

pub mod auth;
pub mod browse;
pub mod client;
pub mod credentials;
pub mod manifest;
pub mod progress;
pub mod pull;
pub mod push;
pub mod transport;

pub use client::RepoClient;
pub use credentials::{normalize_registry, CredentialStore, Credentials};
pub use manifest::PlatformSpec;
pub use progress::{JsonMessage, LayerState, PullEvent};
pub use transport::{Endpoint, RegistryConfig, Transport};

use super::ImageError;
use std::path::PathBuf;

/// Why talking to a registry failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach registry {registry}: {detail}")]
    Unreachable { registry: String, detail: String },
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    #[error("{0}")]
    NotFound(String),
    #[error("registry {registry} answered {status} to {what}: {body}")]
    Status {
        registry: String,
        what: String,
        status: u16,
        body: String,
    },
    #[error("the manifest of {reference} is {size} bytes, more than the {limit} bytes allowed")]
    ManifestTooLarge {
        reference: String,
        size: u64,
        limit: u64,
    },
    #[error("bad manifest for {reference}: {reason}")]
    BadManifest { reference: String, reason: String },
    #[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/amd64")]
    BadPlatform(String),
    #[error("{what} has no image for {wanted} (it has: {available})")]
    NoMatchingPlatform {
        what: String,
        wanted: String,
        available: String,
    },
    #[error("invalid registry address {0:?}")]
    BadRegistry(String),
    #[error("cannot read the CA certificate {path}: {detail}")]
    BadCertificate { path: PathBuf, detail: String },
    #[error("failed to {action} the credentials file {path}: {source}")]
    Credentials {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// Blocking work of a pull or push (a panic, a runtime shutting down) did not finish.
    #[error("{0}")]
    Interrupted(String),
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl RegistryError {
    /// A transport failure (connection refused, TLS, timeout, broken stream) while talking to
    /// `registry`, with reqwest's chain of causes spelled out (its top message alone is vague).
    pub(crate) fn unreachable(registry: &str, err: &reqwest::Error) -> RegistryError {
        let mut detail = message_without_url(err);
        let mut source = std::error::Error::source(err);
        while let Some(cause) = source {
            let text = cause.to_string();
            if !detail.contains(&text) {
                detail.push_str(": ");
                detail.push_str(&text);
            }
            source = cause.source();
        }
        RegistryError::Unreachable {
            registry: registry.to_string(),
            detail,
        }
    }
}

/// reqwest's message without its " for url (…)" part, so that no query string (token
/// scopes, service names) lands in messages.
fn message_without_url(err: &reqwest::Error) -> String {
    let text = err.to_string();
    match err.url() {
        Some(url) => text.replace(&format!(" for url ({url})"), ""),
        None => text,
    }
}

/// The daemon's view of registries: how to reach them and the stored logins.
pub struct Registries {
    transport: Transport,
    credentials: CredentialStore,
}

impl Registries {
    pub fn new(config: RegistryConfig, data_root: &std::path::Path) -> Result<Self, RegistryError> {
        Ok(Registries {
            transport: Transport::new(config, data_root)?,
            credentials: CredentialStore::new(data_root),
        })
    }

    pub fn credentials(&self) -> &CredentialStore {
        &self.credentials
    }

    /// The endpoints of a registry host, in the order to try them (mirrors first).
    pub fn endpoints(&self, registry: &str) -> Vec<Endpoint> {
        self.transport.endpoints(registry)
    }

    /// A session with `repository` on `endpoint`, with the credentials stored for the
    /// registry (for a mirror: those stored for the mirror's own host, if any).
    pub async fn connect(
        &self,
        endpoint: &Endpoint,
        repository: &str,
        access: client::Access,
    ) -> Result<RepoClient, RegistryError> {
        let key = normalize_registry(if endpoint.mirror {
            &endpoint.base
        } else {
            &endpoint.registry
        })?;
        let credentials = self.credentials.get(&key)?;
        RepoClient::connect(&self.transport, endpoint, repository, credentials, access).await
    }

    /// Checks `credentials` against the registry (`GET /v2/` with the auth handshake) and
    /// stores them; returns the normalised registry name.
    pub async fn login(
        &self,
        registry: &str,
        credentials: Credentials,
    ) -> Result<String, RegistryError> {
        let registry = self.check(registry, credentials.clone()).await?;
        self.credentials.set(&registry, &credentials)?;
        Ok(registry)
    }

    /// Checks `credentials` (or, without them, anonymous access) against the registry
    /// without storing anything; returns the normalised registry name.
    pub async fn check(
        &self,
        registry: &str,
        credentials: impl Into<Option<Credentials>>,
    ) -> Result<String, RegistryError> {
        let registry = normalize_registry(registry)?;
        let endpoint = self
            .endpoints(&registry)
            .into_iter()
            .rfind(|e| !e.mirror)
            .ok_or_else(|| RegistryError::BadRegistry(registry.clone()))?;
        let session = RepoClient::connect(
            &self.transport,
            &endpoint,
            "",
            credentials.into(),
            client::Access::Pull,
        )
        .await?;
        session.check_login().await?;
        Ok(registry)
    }

    /// Forgets the stored login of a registry; `false` if there was none.
    pub fn logout(&self, registry: &str) -> Result<bool, RegistryError> {
        self.credentials.remove(&normalize_registry(registry)?)
    }
}
