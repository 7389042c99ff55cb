//! The CLI's connection to the daemon: HTTP/1.1 over the unix socket, TCP or TLS, found as
//! docker's CLI finds its daemon: `-H/--host`, else `BERTH_HOST`, else the default socket.
//!
//! Over the unix socket the daemon knows its caller (root, by the socket's permissions) and
//! takes no token; over TCP every request carries the real `Host` and, when there is one, the
//! API token as `Authorization: Bearer` (`BERTH_TOKEN`, else `--token-file`).

use anyhow::{anyhow, bail, Context, Result};
use berth_wire::{ErrorBody, ErrorCode};
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_rustls::rustls;

pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";

/// What to say when the daemon wants a token and the CLI sent none.
pub const NEEDS_TOKEN: &str = "the daemon needs a token: set BERTH_TOKEN or --token-file; create one with `berth token create` on the host";

/// Where the daemon listens, as `-H` names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Host {
    Unix(PathBuf),
    /// `tcp://HOST:PORT`: plain HTTP.
    Tcp(String),
    /// `https://HOST[:PORT]` (443 by default): HTTP over TLS.
    Https(String),
}

impl Host {
    pub fn parse(text: &str) -> Result<Host> {
        if let Some(path) = text.strip_prefix("unix://") {
            if path.is_empty() {
                bail!("invalid host {text:?}: the unix socket path is empty");
            }
            Ok(Host::Unix(PathBuf::from(path)))
        } else if let Some(addr) = text.strip_prefix("tcp://") {
            let addr = authority(text, addr)?;
            if split_port(&addr).1.is_none() {
                bail!("invalid host {text:?}: expected tcp://HOST:PORT");
            }
            Ok(Host::Tcp(addr))
        } else if let Some(addr) = text.strip_prefix("https://") {
            let addr = authority(text, addr)?;
            Ok(Host::Https(match split_port(&addr).1 {
                Some(_) => addr,
                None => format!("{addr}:443"),
            }))
        } else if text.starts_with('/') {
            Ok(Host::Unix(PathBuf::from(text)))
        } else {
            bail!("invalid host {text:?}: expected unix:///path/to.sock, tcp://HOST:PORT or https://HOST:PORT")
        }
    }

    /// `HOST:PORT` over TCP (what `Host:` says), none over the unix socket.
    pub fn authority(&self) -> Option<&str> {
        match self {
            Host::Unix(_) => None,
            Host::Tcp(addr) | Host::Https(addr) => Some(addr),
        }
    }

    /// The daemon's address as a browser reaches it (`http://HOST:PORT`), none over the
    /// unix socket.
    pub fn public_url(&self) -> Option<String> {
        match self {
            Host::Unix(_) => None,
            Host::Tcp(addr) => Some(format!("http://{addr}")),
            Host::Https(addr) => Some(format!("https://{addr}")),
        }
    }
}

/// `HOST:PORT` out of what follows the scheme: no path, user info or empty host.
fn authority(text: &str, rest: &str) -> Result<String> {
    let addr = rest.trim_end_matches('/');
    if addr.is_empty() || addr.contains(['/', '@', '?', '#']) || addr.starts_with(':') {
        bail!("invalid host {text:?}: expected HOST:PORT after the scheme");
    }
    Ok(addr.to_string())
}

/// `("example.com", Some("7878"))`, `("::1", Some("443"))` from `[::1]:443`.
fn split_port(addr: &str) -> (&str, Option<&str>) {
    if let Some(rest) = addr.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (addr, None),
        };
    }
    match addr.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (addr, None),
    }
}

/// How the CLI reaches the daemon besides its address: the token and the TLS trust.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Sent as `Authorization: Bearer` over TCP, never over the unix socket.
    pub token: Option<String>,
    /// A PEM file of certificates to trust besides the system's (a self-signed daemon).
    pub tls_ca: Option<PathBuf>,
}

type RequestBody = BoxBody<Bytes, std::io::Error>;

#[derive(Clone)]
pub struct Client {
    host: Host,
    /// Only kept when the host is reached over TCP.
    token: Option<String>,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl Client {
    #[cfg(test)]
    pub fn new(host: Host) -> Client {
        Client::with_options(host, Options::default()).expect("no TLS to set up")
    }

    pub fn with_options(host: Host, options: Options) -> Result<Client> {
        let token = match host {
            Host::Unix(_) => None,
            _ => options.token.filter(|t| !t.is_empty()),
        };
        let tls = match host {
            Host::Https(_) => Some(Arc::new(tls_config(options.tls_ca.as_deref())?)),
            _ => None,
        };
        Ok(Client { host, token, tls })
    }

    pub fn host(&self) -> &Host {
        &self.host
    }

    /// A request to the daemon with the headers every one carries: `Host` (the real
    /// `HOST:PORT` over TCP, `berth` over the unix socket) and, over TCP, the token.
    fn request(&self, method: Method, path: &str) -> hyper::http::request::Builder {
        let builder = Request::builder().method(method).uri(path).header(
            hyper::header::HOST,
            self.host.authority().unwrap_or("berth"),
        );
        match &self.token {
            Some(token) => builder.header(hyper::header::AUTHORIZATION, format!("Bearer {token}")),
            None => builder,
        }
    }

    /// Sends a request and returns the response, whatever its status.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
    ) -> Result<Response<Incoming>> {
        let request = self
            .request(method, path)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(body)
            .context("building the request")?;
        self.deliver(request).await
    }

    /// Connects to the daemon and sends `request` on a connection of its own.
    async fn deliver(&self, request: Request<RequestBody>) -> Result<Response<Incoming>> {
        match &self.host {
            Host::Unix(socket) => {
                let stream = tokio::net::UnixStream::connect(socket)
                    .await
                    .map_err(|e| cannot_connect(&socket.display().to_string(), e))?;
                exchange(stream, request).await
            }
            Host::Tcp(addr) => {
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| cannot_connect(addr, e))?;
                exchange(stream, request).await
            }
            Host::Https(addr) => {
                let config = self.tls.clone().context("TLS is not set up")?;
                let name = rustls_pki_types::ServerName::try_from(split_port(addr).0.to_string())
                    .with_context(|| format!("invalid TLS server name in {addr:?}"))?;
                let stream = tokio::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| cannot_connect(addr, e))?;
                let stream = tokio_rustls::TlsConnector::from(config)
                    .connect(name, stream)
                    .await
                    .with_context(|| format!("TLS handshake with the daemon at {addr} failed (a self-signed certificate? pass --tls-ca FILE or set BERTH_TLS_CA)"))?;
                exchange(stream, request).await
            }
        }
    }

    /// A request with a JSON body (or none) whose success answer is JSON.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T> {
        let response = self.send(method, path, json_body(body)?).await?;
        let response = self.check(response).await?;
        let bytes = response.into_body().collect().await?.to_bytes();
        serde_json::from_slice(&bytes).context("the daemon sent an unreadable answer")
    }

    /// A request whose success answer has no body worth reading.
    pub async fn call(&self, method: Method, path: &str) -> Result<()> {
        let response = self.send(method, path, json_body(None::<&()>)?).await?;
        self.check(response).await?;
        Ok(())
    }

    /// A POST that asks for `Upgrade: tcp` and gets 101 Switching Protocols: the raw
    /// bidirectional stream that follows (exec, attach).
    pub async fn upgrade(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<TokioIo<hyper::upgrade::Upgraded>> {
        let request = self
            .request(Method::POST, path)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::CONNECTION, "Upgrade")
            .header(hyper::header::UPGRADE, "tcp")
            .body(json_body(Some(body))?)
            .context("building the request")?;
        let response = self.deliver(request).await?;
        let response = self.check(response).await?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            bail!(
                "the daemon answered {} instead of switching to a stream",
                response.status()
            );
        }
        let upgraded = hyper::upgrade::on(response)
            .await
            .context("the daemon did not switch to a stream")?;
        Ok(TokioIo::new(upgraded))
    }

    /// A request with a JSON body whose success answer has no body worth reading.
    pub async fn call_with(&self, method: Method, path: &str, body: &impl Serialize) -> Result<()> {
        let response = self.send(method, path, json_body(Some(body))?).await?;
        self.check(response).await?;
        Ok(())
    }

    /// A request whose success answer is a stream (logs, attach).
    pub async fn stream(&self, method: Method, path: &str) -> Result<Incoming> {
        let response = self.send(method, path, json_body(None::<&()>)?).await?;
        Ok(self.check(response).await?.into_body())
    }

    /// Uploads a file as the request body, streamed.
    pub async fn upload<T: DeserializeOwned>(&self, path: &str, file: &Path) -> Result<T> {
        let handle = tokio::fs::File::open(file)
            .await
            .with_context(|| format!("cannot open {}", file.display()))?;
        self.upload_from(path, handle).await
    }

    /// Uploads everything `reader` gives (a file, stdin) as the request body, streamed.
    pub async fn upload_from<T: DeserializeOwned>(
        &self,
        path: &str,
        reader: impl tokio::io::AsyncRead + Send + Sync + Unpin + 'static,
    ) -> Result<T> {
        let chunks = futures::stream::unfold(reader, |mut handle| async move {
            use tokio::io::AsyncReadExt;
            let mut buffer = vec![0u8; 256 * 1024];
            match handle.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    Some((Ok(Frame::data(Bytes::from(buffer))), handle))
                }
                Err(e) => Some((Err(e), handle)),
            }
        });
        let body = BodyExt::boxed(StreamBody::new(chunks));
        let response = self.send(Method::POST, path, body).await?;
        let response = self.check(response).await?;
        let bytes = response.into_body().collect().await?.to_bytes();
        serde_json::from_slice(&bytes).context("the daemon sent an unreadable answer")
    }
}

fn json_body(body: Option<&impl Serialize>) -> Result<RequestBody> {
    let bytes = match body {
        Some(value) => Bytes::from(serde_json::to_vec(value)?),
        None => Bytes::new(),
    };
    Ok(Full::new(bytes).map_err(|never| match never {}).boxed())
}

async fn exchange<S>(stream: S, request: Request<RequestBody>) -> Result<Response<Incoming>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .context("cannot talk HTTP to the daemon")?;
    tokio::spawn(async move {
        // Upgrades (exec, attach) hand the connection over to the caller.
        if let Err(e) = connection.with_upgrades().await {
            tracing::debug!("connection to the daemon ended: {e}");
        }
    });
    sender
        .send_request(request)
        .await
        .context("the daemon did not answer")
}

/// An error answer from the daemon.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DaemonError {
    pub status: StatusCode,
    /// What went wrong, to decide on (the body's code, else the status's).
    pub code: ErrorCode,
    pub message: String,
}

impl DaemonError {
    /// Reads an error answer: `{"error":{"code","message"}}`, else the body as text.
    pub fn read(status: StatusCode, bytes: &[u8]) -> DaemonError {
        match serde_json::from_slice::<ErrorBody>(bytes) {
            Ok(body) => DaemonError {
                status,
                code: body.error.code,
                message: body.error.message,
            },
            Err(_) => DaemonError {
                status,
                code: ErrorCode::from_status(status.as_u16()),
                message: String::from_utf8_lossy(bytes).trim().to_string(),
            },
        }
    }
}

/// `true` when `error` is the daemon's answer with `code`.
pub fn has_code(error: &anyhow::Error, code: ErrorCode) -> bool {
    error
        .downcast_ref::<DaemonError>()
        .is_some_and(|d| d.code == code)
}

impl Client {
    /// Turns an error status into the daemon's error; a 401 over TCP without a token says how
    /// to get one.
    async fn check(&self, response: Response<Incoming>) -> Result<Response<Incoming>> {
        let status = response.status();
        if status.is_success() || status == StatusCode::SWITCHING_PROTOCOLS {
            return Ok(response);
        }
        let bytes = response.into_body().collect().await?.to_bytes();
        let mut error = DaemonError::read(status, &bytes);
        // Without a token the daemon refuses before anything else, so this 401 is its own (with
        // one, a 401 may also be a registry's, whose message is kept).
        if error.code == ErrorCode::Unauthorized
            && self.host.authority().is_some()
            && self.token.is_none()
        {
            error.message = NEEDS_TOKEN.to_string();
        }
        Err(anyhow!(error))
    }
}

/// The roots a `https://` daemon is checked against: the system's, and `ca`'s when given.
fn tls_config(ca: Option<&Path>) -> Result<rustls::ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A system certificate rustls cannot read is skipped, as reqwest does.
        let _ = roots.add(cert);
    }
    if let Some(ca) = ca {
        let certs = CertificateDer::pem_file_iter(ca)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| anyhow!("cannot read the CA certificates in {}: {e}", ca.display()))?;
        if certs.is_empty() {
            bail!("no PEM certificate in {}", ca.display());
        }
        for cert in certs {
            roots
                .add(cert)
                .with_context(|| format!("invalid CA certificate in {}", ca.display()))?;
        }
    }
    if roots.is_empty() {
        bail!("no trusted certificates for TLS: pass --tls-ca FILE or set BERTH_TLS_CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("setting up TLS")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

fn cannot_connect(target: &str, err: std::io::Error) -> anyhow::Error {
    anyhow!(
        "cannot connect to the berth daemon at {target}: {err}. Is `berth serve` running? (set -H or BERTH_HOST to reach another one)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_parse_like_docker() {
        assert_eq!(
            Host::parse("unix:///run/x.sock").ok(),
            Some(Host::Unix("/run/x.sock".into()))
        );
        assert_eq!(
            Host::parse("tcp://127.0.0.1:7878").ok(),
            Some(Host::Tcp("127.0.0.1:7878".into()))
        );
        assert_eq!(
            Host::parse("tcp://[::1]:7878/").ok(),
            Some(Host::Tcp("[::1]:7878".into()))
        );
        assert_eq!(
            Host::parse("https://berth.example:8443").ok(),
            Some(Host::Https("berth.example:8443".into()))
        );
        assert_eq!(
            Host::parse("https://berth.example").ok(),
            Some(Host::Https("berth.example:443".into()))
        );
        assert_eq!(
            Host::parse("https://[::1]").ok(),
            Some(Host::Https("[::1]:443".into()))
        );
        assert!(Host::parse("unix://").is_err());
        assert!(Host::parse("ftp://x").is_err());
        assert!(Host::parse("tcp://host").is_err(), "tcp needs a port");
        assert!(Host::parse("https://").is_err());
        assert!(Host::parse("https://a:1/path").is_err());
        assert!(Host::parse("https://user@a:1").is_err());
    }

    #[test]
    fn public_urls_follow_the_scheme() {
        let url = |h: &str| Host::parse(h).unwrap().public_url();
        assert_eq!(
            url("tcp://10.0.0.2:7878").as_deref(),
            Some("http://10.0.0.2:7878")
        );
        assert_eq!(
            url("https://b.example").as_deref(),
            Some("https://b.example:443")
        );
        assert_eq!(url("unix:///run/x.sock"), None);
    }

    fn headers(client: &Client) -> hyper::HeaderMap {
        client
            .request(Method::GET, "/api/v1/version")
            .body(())
            .unwrap()
            .headers()
            .clone()
    }

    fn with_token(host: &str) -> Client {
        let options = Options {
            token: Some("bt_secret".into()),
            tls_ca: None,
        };
        Client::with_options(Host::parse(host).unwrap(), options).unwrap()
    }

    #[test]
    fn the_token_goes_over_tcp_only() {
        let tcp = headers(&with_token("tcp://127.0.0.1:7878"));
        assert_eq!(tcp["host"], "127.0.0.1:7878");
        assert_eq!(tcp["authorization"], "Bearer bt_secret");

        let unix = headers(&with_token("unix:///run/berth/berth.sock"));
        assert_eq!(unix["host"], "berth");
        assert!(unix.get("authorization").is_none(), "{unix:?}");

        let none = headers(&Client::new(Host::parse("tcp://h:1").unwrap()));
        assert_eq!(none["host"], "h:1");
        assert!(none.get("authorization").is_none());
    }

    #[test]
    fn https_takes_an_extra_ca_file() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let options = |ca: &Path| Options {
            token: Some("t".into()),
            tls_ca: Some(ca.to_path_buf()),
        };
        let host = Host::parse("https://b.example:8443").unwrap();
        let err = Client::with_options(host.clone(), options(&empty))
            .err()
            .unwrap();
        assert!(err.to_string().contains("no PEM certificate"), "{err}");
        let missing = dir.path().join("missing.pem");
        let err = Client::with_options(host, options(&missing)).err().unwrap();
        assert!(err.to_string().contains("missing.pem"), "{err}");
    }

    #[test]
    fn error_bodies_carry_their_code() {
        let body = br#"{"error":{"code":"no_such_image","message":"no such image: x"}}"#;
        let e = DaemonError::read(StatusCode::NOT_FOUND, body);
        assert_eq!(e.code, ErrorCode::NoSuchImage);
        assert_eq!(e.message, "no such image: x");
        let e = DaemonError::read(StatusCode::BAD_GATEWAY, b"upstream down\n");
        assert_eq!(e.code, ErrorCode::BadGateway);
        assert_eq!(e.message, "upstream down");
        assert!(has_code(&anyhow!(e), ErrorCode::BadGateway));
    }
}
