//! Authenticated requests to one repository on one registry endpoint: a request that gets
//! 401 is answered (auth::authorize) and retried once, and the `Authorization` header is then
//! kept for the session, shared by parallel blob fetches. Manifests are read with a size cap
//! and checked against their digest; blobs are handed over as responses to stream.

use super::auth::{self, Challenge};
use super::manifest::{ACCEPT, MAX_MANIFEST};
use super::{Credentials, Endpoint, RegistryError, Transport};
use crate::digest::Digest;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT as ACCEPT_HEADER, AUTHORIZATION};
use reqwest::{Method, Response, StatusCode};

/// Scope actions of a session (distribution spec, token scope `repository:<name>:<actions>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

/// A session with one repository on one endpoint.
pub struct RepoClient {
    http: reqwest::Client,
    base: String,
    endpoint: Endpoint,
    repository: String,
    credentials: Option<Credentials>,
    access: Access,
    authorization: tokio::sync::Mutex<Option<String>>,
}

/// A manifest (or index) as the registry sent it, verified against its digest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    /// The `Content-Type` the registry gave, if any.
    pub media_type: Option<String>,
    pub digest: Digest,
}

impl RepoClient {
    /// Opens a session; `credentials` are those stored for the endpoint's registry.
    pub async fn connect(
        transport: &Transport,
        endpoint: &Endpoint,
        repository: &str,
        credentials: Option<Credentials>,
        access: Access,
    ) -> Result<RepoClient, RegistryError> {
        let (http, base) = transport.client_for(endpoint).await?;
        Ok(RepoClient {
            http,
            base,
            endpoint: endpoint.clone(),
            repository: repository.to_string(),
            credentials,
            access,
            authorization: tokio::sync::Mutex::new(None),
        })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// What messages call the registry: the mirror's address for a mirror.
    fn registry_name(&self) -> &str {
        if self.endpoint.mirror {
            &self.base
        } else {
            &self.endpoint.registry
        }
    }

    /// The token scope of the session; none for a session without a repository (login).
    fn scope(&self) -> Option<String> {
        let actions = match self.access {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        (!self.repository.is_empty()).then(|| format!("repository:{}:{actions}", self.repository))
    }

    /// Sends a request to `path` (from `/v2/…` on, or an absolute URL such as an upload
    /// location), authenticating on a 401 and retrying once. Any status is returned except a
    /// second 401, which is [`RegistryError::Unauthorized`].
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Option<Bytes>,
    ) -> Result<Response, RegistryError> {
        let url = if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        };
        let mut retried = false;
        loop {
            let mut request = self
                .http
                .request(method.clone(), &url)
                .headers(headers.clone());
            if let Some(value) = self.authorization.lock().await.clone() {
                request = request.header(AUTHORIZATION, value);
            }
            if let Some(body) = &body {
                request = request.body(body.clone());
            }
            let response = request
                .send()
                .await
                .map_err(|e| RegistryError::unreachable(self.registry_name(), &e))?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if retried {
                return Err(self.refused());
            }
            let challenge = response
                .headers()
                .get(reqwest::header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(Challenge::parse)
                .ok_or_else(|| self.refused())?;
            let value = auth::authorize(
                &self.http,
                self.registry_name(),
                &self.endpoint,
                &challenge,
                self.credentials.as_ref(),
                self.scope().as_deref(),
            )
            .await?;
            *self.authorization.lock().await = Some(value);
            retried = true;
        }
    }

    fn refused(&self) -> RegistryError {
        RegistryError::Unauthorized(match &self.credentials {
            Some(_) => format!("incorrect username or password for {}", self.registry_name()),
            None => format!(
                "{} access denied for {} on {}: the repository does not exist or needs a login (berth login {})",
                match self.access {
                    Access::Pull => "pull",
                    Access::Push => "push",
                },
                self.repository,
                self.registry_name(),
                self.endpoint.registry
            ),
        })
    }

    /// `GET /v2/` with the auth handshake: whether these credentials are accepted (login).
    pub async fn check_login(&self) -> Result<(), RegistryError> {
        let response = self
            .send(Method::GET, "/v2/", HeaderMap::new(), None)
            .await?;
        match response.status() {
            s if s.is_success() => Ok(()),
            StatusCode::FORBIDDEN => Err(RegistryError::Unauthorized(format!(
                "incorrect username or password for {}",
                self.registry_name()
            ))),
            s => Err(self.status_error(s, "GET /v2/", response).await),
        }
    }

    /// Fetches a manifest or index by tag or digest (distribution spec, "Pulling manifests"),
    /// at most [`MAX_MANIFEST`] bytes, and checks its digest: against the digest asked for, or
    /// against `Docker-Content-Digest` when asked by tag.
    pub async fn manifest(&self, reference: &str) -> Result<FetchedManifest, RegistryError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_HEADER, HeaderValue::from_static(ACCEPT));
        let path = format!("/v2/{}/manifests/{reference}", self.repository);
        let response = self.send(Method::GET, &path, headers, None).await?;
        let status = response.status();
        let shown = format!("{}:{reference}", self.repository);
        if status == StatusCode::NOT_FOUND {
            return Err(RegistryError::NotFound(format!(
                "manifest for {shown} not found on {}: manifest unknown",
                self.registry_name()
            )));
        }
        if !status.is_success() {
            return Err(self
                .status_error(status, &format!("GET manifest {shown}"), response)
                .await);
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
        let header_digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<Digest>().ok());
        let too_large = |size| RegistryError::ManifestTooLarge {
            reference: shown.clone(),
            size,
            limit: MAX_MANIFEST,
        };
        if let Some(size) = content_length(&response).filter(|s| *s > MAX_MANIFEST) {
            return Err(too_large(size));
        }
        let bytes = read_capped(response, MAX_MANIFEST, self.registry_name())
            .await?
            .ok_or_else(|| too_large(MAX_MANIFEST + 1))?;
        let digest = Digest::of(&bytes);
        let expected = reference.parse::<Digest>().ok().or(header_digest);
        if let Some(expected) = expected {
            expected
                .verify(&digest)
                .map_err(|e| RegistryError::BadManifest {
                    reference: shown.clone(),
                    reason: e.to_string(),
                })?;
        }
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// `GET` a blob (distribution spec, "Pulling blobs"; redirects to storage are followed).
    /// The response is successful; its body is the blob, not yet verified.
    pub async fn blob(&self, digest: &Digest) -> Result<Response, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", self.repository);
        let response = self
            .send(Method::GET, &path, HeaderMap::new(), None)
            .await?;
        match response.status() {
            s if s.is_success() => Ok(response),
            StatusCode::NOT_FOUND => Err(RegistryError::NotFound(format!(
                "blob {digest} of {} not found on {}",
                self.repository,
                self.registry_name()
            ))),
            s => Err(self
                .status_error(s, &format!("GET blob {digest}"), response)
                .await),
        }
    }

    /// A small blob (a config) read whole, at most `limit` bytes, verified against `digest`
    /// and `size`.
    pub async fn small_blob(
        &self,
        digest: &Digest,
        size: u64,
        limit: u64,
    ) -> Result<Vec<u8>, RegistryError> {
        let what = format!("blob {digest}");
        if size > limit {
            return Err(crate::image::ImageError::TooLarge { what, size, limit }.into());
        }
        let response = self.blob(digest).await?;
        let bytes = read_capped(response, size, self.registry_name())
            .await?
            .ok_or_else(|| digest_error(&what, *digest, size, size + 1))?;
        if bytes.len() as u64 != size {
            return Err(digest_error(&what, *digest, size, bytes.len() as u64));
        }
        digest
            .verify(&Digest::of(&bytes))
            .map_err(|source| crate::image::ImageError::Digest { what, source })?;
        Ok(bytes)
    }

    /// `HEAD` a blob: its size if the repository has it (for push's existence checks).
    pub async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, RegistryError> {
        let path = format!("/v2/{}/blobs/{digest}", self.repository);
        let response = self
            .send(Method::HEAD, &path, HeaderMap::new(), None)
            .await?;
        match response.status() {
            s if s.is_success() => Ok(Some(content_length(&response).unwrap_or(0))),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(self
                .status_error(s, &format!("HEAD blob {digest}"), response)
                .await),
        }
    }

    /// An unexpected status, with the start of the registry's error body (distribution
    /// spec, "Error Codes": `{"errors": [{"code", "message"}]}`).
    pub async fn status_error(
        &self,
        status: StatusCode,
        what: &str,
        response: Response,
    ) -> RegistryError {
        let body = read_capped(response, 4096, self.registry_name())
            .await
            .ok()
            .flatten()
            .map(|b| error_summary(&b))
            .unwrap_or_default();
        RegistryError::Status {
            registry: self.registry_name().to_string(),
            what: what.to_string(),
            status: status.as_u16(),
            body,
        }
    }
}

fn digest_error(what: &str, digest: Digest, expected: u64, actual: u64) -> RegistryError {
    crate::image::ImageError::Digest {
        what: what.to_string(),
        source: crate::digest::DigestError::SizeMismatch {
            digest,
            expected,
            actual,
        },
    }
    .into()
}

/// The messages of a registry error body, or its text.
fn error_summary(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<ErrorItem>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorItem {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    match serde_json::from_slice::<Errors>(body) {
        Ok(parsed) => parsed
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.code, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        Err(_) => String::from_utf8_lossy(body).trim().to_string(),
    }
}

/// The `Content-Length` header as sent (reqwest's `content_length()` is the body's size hint,
/// which is 0 for the answer to a HEAD request).
pub fn content_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads a response body of at most `limit` bytes; `None` if it is longer.
pub(crate) async fn read_capped(
    mut response: Response,
    limit: u64,
    registry: &str,
) -> Result<Option<Vec<u8>>, RegistryError> {
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| RegistryError::unreachable(registry, &e))?
    {
        if out.len() as u64 + chunk.len() as u64 > limit {
            return Ok(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_error_bodies_are_summarised() {
        let body =
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{}}]}"#;
        assert_eq!(error_summary(body), "MANIFEST_UNKNOWN: manifest unknown");
        assert_eq!(error_summary(b" plain text \n"), "plain text");
    }
}
