//! Where a registry's API is and how to reach it: the endpoints of a registry host (docker.io
//! → its mirrors, then `registry-1.docker.io`), plain HTTP or TLS, and one HTTP client per
//! host with that host's trust settings (system roots, `--registry-ca` files,
//! `<data root>/certs.d/<host>/*.crt` as docker's `/etc/docker/certs.d`, or no verification
//! for an `--insecure-registry`).

use super::RegistryError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Docker Hub's API host (the `docker.io` domain of references is not an API endpoint).
const DOCKER_HUB_API: &str = "https://registry-1.docker.io";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest silence in the middle of a response before the transfer counts as broken.
const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The daemon's registry settings (`berth serve` options).
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// `--registry-mirror URL`: tried in order for docker.io before Docker Hub itself.
    pub mirrors: Vec<String>,
    /// `--insecure-registry HOST[:PORT]`: plain HTTP, or TLS without verification.
    pub insecure: Vec<String>,
    /// `--registry-ca FILE`: extra PEM roots trusted for every registry.
    pub ca_files: Vec<PathBuf>,
}

/// One place to send a registry's API requests to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://host:port` or `http://host:port`, no trailing slash.
    pub base: String,
    /// The registry host of the references (`docker.io` for a mirror of Docker Hub too).
    pub registry: String,
    /// A mirror: on failure, the next endpoint is tried.
    pub mirror: bool,
    /// TLS without verification, with plain HTTP as the fallback.
    pub insecure: bool,
}

/// Builds and caches the HTTP clients, and knows each host's endpoints.
pub struct Transport {
    config: RegistryConfig,
    certs_dir: PathBuf,
    clients: Mutex<HashMap<String, reqwest::Client>>,
    /// Insecure hosts found to speak plain HTTP.
    plain_http: Mutex<HashMap<String, bool>>,
}

impl Transport {
    pub fn new(config: RegistryConfig, data_root: &Path) -> Result<Transport, RegistryError> {
        for url in &config.mirrors {
            mirror_base(url)?;
        }
        Ok(Transport {
            config,
            certs_dir: data_root.join("certs.d"),
            clients: Mutex::new(HashMap::new()),
            plain_http: Mutex::new(HashMap::new()),
        })
    }

    pub fn config(&self) -> &RegistryConfig {
        &self.config
    }

    /// Whether `host` (`name[:port]`) was declared insecure.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.config
            .insecure
            .iter()
            .any(|h| h.trim_end_matches('/').eq_ignore_ascii_case(host))
    }

    /// The endpoints to try for a registry host, in order.
    pub fn endpoints(&self, registry: &str) -> Vec<Endpoint> {
        let mut out = Vec::new();
        if registry == super::super::reference::DEFAULT_DOMAIN {
            for url in &self.config.mirrors {
                if let Ok(base) = mirror_base(url) {
                    let host = host_of(&base);
                    out.push(Endpoint {
                        insecure: self.is_insecure(host),
                        base,
                        registry: registry.to_string(),
                        mirror: true,
                    });
                }
            }
            out.push(Endpoint {
                base: DOCKER_HUB_API.to_string(),
                registry: registry.to_string(),
                mirror: false,
                insecure: false,
            });
            return out;
        }
        let insecure = self.is_insecure(registry);
        out.push(Endpoint {
            base: format!("https://{registry}"),
            registry: registry.to_string(),
            mirror: false,
            insecure,
        });
        out
    }

    /// The HTTP client for an endpoint's host; for an insecure one, also the base URL to use
    /// (docker's rule: HTTPS without verification if the host speaks TLS, else plain HTTP).
    pub async fn client_for(
        &self,
        endpoint: &Endpoint,
    ) -> Result<(reqwest::Client, String), RegistryError> {
        let host = host_of(&endpoint.base).to_string();
        let client = self.client(&host, endpoint.insecure)?;
        if !endpoint.insecure || endpoint.base.starts_with("http://") {
            return Ok((client, endpoint.base.clone()));
        }
        let known = self
            .plain_http
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&host)
            .copied();
        let plain = match known {
            Some(plain) => plain,
            None => {
                // Any answer over TLS (even 401 or 404) means the host speaks TLS.
                let probe = client
                    .get(format!("{}/v2/", endpoint.base))
                    .timeout(CONNECT_TIMEOUT)
                    .send()
                    .await;
                let plain = probe.is_err();
                self.plain_http
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(host.clone(), plain);
                plain
            }
        };
        let base = if plain {
            format!("http://{host}")
        } else {
            endpoint.base.clone()
        };
        Ok((client, base))
    }

    /// The client of a host with its trust settings, cached while those stay the same (a CA
    /// put into `certs.d` later is picked up by the next pull, as docker reads it per pull).
    fn client(&self, host: &str, insecure: bool) -> Result<reqwest::Client, RegistryError> {
        let ca_files = self.ca_files(host);
        let key = format!("{host}|{insecure}|{ca_files:?}");
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(client) = clients.get(&key) {
            return Ok(client.clone());
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(READ_TIMEOUT)
            .danger_accept_invalid_certs(insecure);
        for path in ca_files {
            builder = builder.add_root_certificate(load_certificate(&path)?);
        }
        let client = builder.build().map_err(|e| RegistryError::Unreachable {
            registry: host.to_string(),
            detail: format!("cannot set up the HTTP client: {e}"),
        })?;
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// The `--registry-ca` files, then `certs.d/<host>/*.crt` (sorted).
    fn ca_files(&self, host: &str) -> Vec<PathBuf> {
        let mut files = self.config.ca_files.clone();
        let dir = self.certs_dir.join(host);
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut own: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "crt"))
                .collect();
            own.sort();
            files.extend(own);
        }
        files
    }
}

fn load_certificate(path: &Path) -> Result<reqwest::Certificate, RegistryError> {
    let bad = |detail: String| RegistryError::BadCertificate {
        path: path.to_path_buf(),
        detail,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    reqwest::Certificate::from_pem(&pem).map_err(|e| bad(e.to_string()))
}

/// A mirror URL as an endpoint base: `http(s)://host[:port]`, no path (dockerd accepts no
/// path either).
fn mirror_base(url: &str) -> Result<String, RegistryError> {
    let bad = || RegistryError::BadRegistry(url.to_string());
    let trimmed = url.trim_end_matches('/');
    let (scheme, rest) = trimmed.split_once("://").ok_or_else(bad)?;
    if !matches!(scheme, "http" | "https") || rest.is_empty() || rest.contains('/') {
        return Err(bad());
    }
    Ok(format!("{scheme}://{rest}"))
}

/// `host[:port]` of a base URL.
fn host_of(base: &str) -> &str {
    base.split_once("://").map_or(base, |(_, rest)| rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(config: RegistryConfig) -> Transport {
        Transport::new(config, Path::new("/nonexistent")).expect("transport")
    }

    #[test]
    fn docker_hub_goes_through_mirrors_first() {
        let t = transport(RegistryConfig {
            mirrors: vec!["http://127.0.0.1:5000/".into()],
            ..Default::default()
        });
        let endpoints = t.endpoints("docker.io");
        assert_eq!(endpoints.len(), 2);
        assert_eq!(endpoints[0].base, "http://127.0.0.1:5000");
        assert!(endpoints[0].mirror);
        assert_eq!(endpoints[0].registry, "docker.io");
        assert_eq!(endpoints[1].base, "https://registry-1.docker.io");
        assert!(!endpoints[1].mirror);
        // Mirrors are only for Docker Hub.
        let other = t.endpoints("quay.io");
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].base, "https://quay.io");
    }

    #[test]
    fn insecure_hosts_are_matched_exactly() {
        let t = transport(RegistryConfig {
            insecure: vec!["127.0.0.1:5000".into()],
            ..Default::default()
        });
        assert!(t.endpoints("127.0.0.1:5000")[0].insecure);
        assert!(!t.endpoints("127.0.0.1:5001")[0].insecure);
        assert!(!t.endpoints("docker.io")[0].insecure);
    }

    #[test]
    fn mirror_urls_must_be_http_or_https_without_a_path() {
        assert!(mirror_base("https://m.example").is_ok());
        for bad in [
            "m.example",
            "ftp://m.example",
            "https://m.example/v2",
            "http://",
        ] {
            assert!(mirror_base(bad).is_err(), "{bad}");
        }
        assert!(Transport::new(
            RegistryConfig {
                mirrors: vec!["nope".into()],
                ..Default::default()
            },
            Path::new("/")
        )
        .is_err());
    }

    #[test]
    fn certs_dir_files_of_the_host_are_trusted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let host_dir = dir.path().join("certs.d/reg:5000");
        std::fs::create_dir_all(&host_dir).expect("mkdir");
        std::fs::write(host_dir.join("ca.crt"), b"x").expect("write");
        std::fs::write(host_dir.join("client.key"), b"x").expect("write");
        let t = Transport::new(
            RegistryConfig {
                ca_files: vec!["/etc/extra.pem".into()],
                ..Default::default()
            },
            dir.path(),
        )
        .expect("transport");
        assert_eq!(
            t.ca_files("reg:5000"),
            vec![PathBuf::from("/etc/extra.pem"), host_dir.join("ca.crt")]
        );
        assert_eq!(t.ca_files("other"), vec![PathBuf::from("/etc/extra.pem")]);
        // A file that is no certificate is a clear error, not a silent skip.
        assert!(matches!(
            t.client("reg:5000", false),
            Err(RegistryError::BadCertificate { .. })
        ));
    }
}
