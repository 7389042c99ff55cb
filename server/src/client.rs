//! The CLI's connection to the daemon: HTTP/1.1 over the unix socket (or TCP), found as
//! docker's CLI finds its daemon: `-H/--host`, else `BERTH_HOST`, else the default socket.

use anyhow::{anyhow, bail, Context, Result};
use berth_wire::ErrorBody;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";

/// Where the daemon listens, as `-H` names it.
#[derive(Debug, Clone, PartialEq)]
pub enum Host {
    Unix(PathBuf),
    Tcp(String),
}

impl Host {
    pub fn parse(text: &str) -> Result<Host> {
        if let Some(path) = text.strip_prefix("unix://") {
            if path.is_empty() {
                bail!("invalid host {text:?}: the unix socket path is empty");
            }
            Ok(Host::Unix(PathBuf::from(path)))
        } else if let Some(addr) = text.strip_prefix("tcp://") {
            Ok(Host::Tcp(addr.trim_end_matches('/').to_string()))
        } else if text.starts_with('/') {
            Ok(Host::Unix(PathBuf::from(text)))
        } else {
            bail!("invalid host {text:?}: expected unix:///path/to.sock or tcp://HOST:PORT")
        }
    }
}

type RequestBody = BoxBody<Bytes, std::io::Error>;

#[derive(Clone)]
pub struct Client {
    host: Host,
}

impl Client {
    pub fn new(host: Host) -> Client {
        Client { host }
    }

    /// Sends a request and returns the response, whatever its status.
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: RequestBody,
    ) -> Result<Response<Incoming>> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "berth")
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
        let response = check(response).await?;
        let bytes = response.into_body().collect().await?.to_bytes();
        serde_json::from_slice(&bytes).context("the daemon sent an unreadable answer")
    }

    /// A request whose success answer has no body worth reading.
    pub async fn call(&self, method: Method, path: &str) -> Result<()> {
        let response = self.send(method, path, json_body(None::<&()>)?).await?;
        check(response).await?;
        Ok(())
    }

    /// A POST that asks for `Upgrade: tcp` and gets 101 Switching Protocols: the raw
    /// bidirectional stream that follows (exec, attach).
    pub async fn upgrade(
        &self,
        path: &str,
        body: &impl Serialize,
    ) -> Result<TokioIo<hyper::upgrade::Upgraded>> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(hyper::header::HOST, "berth")
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(hyper::header::CONNECTION, "Upgrade")
            .header(hyper::header::UPGRADE, "tcp")
            .body(json_body(Some(body))?)
            .context("building the request")?;
        let response = self.deliver(request).await?;
        let response = check(response).await?;
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
        check(response).await?;
        Ok(())
    }

    /// A request whose success answer is a stream (logs, attach).
    pub async fn stream(&self, method: Method, path: &str) -> Result<Incoming> {
        let response = self.send(method, path, json_body(None::<&()>)?).await?;
        Ok(check(response).await?.into_body())
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
        let response = check(response).await?;
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

/// Turns an error status into the daemon's message.
async fn check(response: Response<Incoming>) -> Result<Response<Incoming>> {
    let status = response.status();
    if status.is_success() || status == StatusCode::SWITCHING_PROTOCOLS {
        return Ok(response);
    }
    let bytes = response.into_body().collect().await?.to_bytes();
    let message = serde_json::from_slice::<ErrorBody>(&bytes)
        .map(|b| b.error.message)
        .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).trim().to_string());
    Err(anyhow!(DaemonError { status, message }))
}

/// An error answer from the daemon.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DaemonError {
    pub status: StatusCode,
    pub message: String,
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
        assert!(Host::parse("unix://").is_err());
        assert!(Host::parse("ftp://x").is_err());
    }
}
