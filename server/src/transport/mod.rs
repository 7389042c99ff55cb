//! The daemon's transport: its own accept loops over the TCP listener (plain or TLS) and the
//! unix socket, with what `axum::serve` lacks — a header-read timeout (slowloris; in hyper 1.x
//! it also bounds how long a kept-alive connection may sit idle before its next request), a
//! cap on open connections per listener, a TLS handshake timeout — and the `Peer` of each
//! connection put into every request's extensions. Graceful shutdown on the stop signal.

pub mod limits;
pub mod tls;

use crate::peer::Peer;
use anyhow::{bail, Context, Result};
use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

// `berth serve`'s transport options (a plain comment: flattened under `defer`, a doc
// comment would become `serve`'s about line).
#[derive(clap::Args, Clone, Debug)]
pub struct TransportArgs {
    /// PEM certificate (chain) of the TCP listener: serves HTTPS (with --tls-key)
    #[arg(long = "tls-cert", value_name = "FILE", env = "BERTH_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert
    #[arg(long = "tls-key", value_name = "FILE", env = "BERTH_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Serve plain HTTP on a --listen address that is not loopback (unencrypted, reachable
    /// from the network)
    #[arg(long = "insecure-listen")]
    pub insecure_listen: bool,
    /// Group owning the unix socket (mode 0660), as dockerd's --group
    #[arg(long = "group", value_name = "NAME|GID")]
    pub group: Option<String>,
    /// Open connections at most, per listener (TCP and the unix socket); more are closed at once
    #[arg(long = "max-connections", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// WebSocket clients at most (log and event streams); more are refused with 503
    #[arg(long = "max-websockets", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_websockets: u32,
    /// How long a client may take to send a request's headers, and to start its next request
    /// on a kept-alive connection
    #[arg(long = "header-timeout", hide = true, default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// How long a client may take for the TLS handshake
    #[arg(long = "tls-handshake-timeout", hide = true, default_value = "10s", value_parser = humantime::parse_duration)]
    pub tls_handshake_timeout: Duration,
    /// The free space (bytes) an image upload must leave on the data root
    #[arg(long = "upload-reserve", hide = true, default_value_t = limits::UPLOAD_RESERVE)]
    pub upload_reserve: u64,
}

/// What the transport serves with, checked before the daemon opens anything.
pub struct Transport {
    pub tls: Option<TlsAcceptor>,
    pub group: Option<nix::unistd::Gid>,
    pub options: Options,
    pub ws: limits::WsLimiter,
    pub upload: limits::UploadLimits,
}

/// The connection options of one listener.
#[derive(Clone, Debug)]
pub struct Options {
    pub header_timeout: Duration,
    pub tls_handshake_timeout: Duration,
    pub max_connections: u32,
}

impl TransportArgs {
    /// Checks the flags against `listen` and loads the certificate: a clear error before the
    /// daemon opens its data root.
    pub fn prepare(&self, listen: &str) -> Result<Transport> {
        let tls = match self.tls_files()? {
            Some((cert, key)) => Some(tls::acceptor(cert, key)?),
            None => None,
        };
        check_listen(listen, tls.is_some(), self.insecure_listen)?;
        let group = self.group.as_deref().map(resolve_group).transpose()?;
        Ok(Transport {
            tls,
            group,
            options: Options {
                header_timeout: self.header_timeout,
                tls_handshake_timeout: self.tls_handshake_timeout,
                max_connections: self.max_connections,
            },
            ws: limits::WsLimiter::new(self.max_websockets as usize),
            upload: limits::UploadLimits {
                reserve: self.upload_reserve,
                ..Default::default()
            },
        })
    }

    /// Both TLS files or neither.
    fn tls_files(&self) -> Result<Option<(&Path, &Path)>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some((cert, key))),
            (None, None) => Ok(None),
            (Some(_), None) => bail!("--tls-cert needs --tls-key (the certificate's private key)"),
            (None, Some(_)) => bail!("--tls-key needs --tls-cert (the certificate it goes with)"),
        }
    }
}

/// Whether `listen` (`HOST:PORT`) is a loopback address: 127.0.0.0/8, ::1 or `localhost`.
pub fn is_loopback(listen: &str) -> bool {
    let host = match listen.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => listen,
    };
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Plain HTTP only on loopback, unless asked for with `--insecure-listen`.
pub fn check_listen(listen: &str, tls: bool, insecure_listen: bool) -> Result<()> {
    if tls || insecure_listen || is_loopback(listen) {
        return Ok(());
    }
    bail!(
        "refusing to serve plain HTTP on {listen}, which is not a loopback address: anyone who \
         can reach it could read and drive the API. Use --tls-cert/--tls-key to serve HTTPS, or \
         --insecure-listen to serve plain HTTP anyway"
    )
}

/// A group name or a numeric gid.
fn resolve_group(group: &str) -> Result<nix::unistd::Gid> {
    if let Ok(gid) = group.parse::<u32>() {
        return Ok(nix::unistd::Gid::from_raw(gid));
    }
    match nix::unistd::Group::from_name(group) {
        Ok(Some(found)) => Ok(found.gid),
        Ok(None) => bail!("--group {group}: no such group"),
        Err(e) => bail!("--group {group}: cannot look the group up: {e}"),
    }
}

/// Gives the socket to `gid` (its mode stays 0660: root and the group's members).
pub fn chown_socket(path: &Path, gid: nix::unistd::Gid) -> Result<()> {
    nix::unistd::chown(path, None, Some(gid))
        .with_context(|| format!("cannot give {} to group {gid}", path.display()))
}

/// A listener the accept loop serves: TCP (the peer's address) or unix (the peer's uid).
pub trait Listener {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept_peer(&self)
        -> impl std::future::Future<Output = io::Result<(Self::Io, Peer)>> + Send;
}

impl Listener for TcpListener {
    type Io = tokio::net::TcpStream;
    async fn accept_peer(&self) -> io::Result<(Self::Io, Peer)> {
        let (stream, addr) = self.accept().await?;
        Ok((stream, Peer::Tcp { addr, tls: false }))
    }
}

impl Listener for UnixListener {
    type Io = tokio::net::UnixStream;
    async fn accept_peer(&self) -> io::Result<(Self::Io, Peer)> {
        let (stream, _) = self.accept().await?;
        let uid = stream.peer_cred().ok().map(|cred| cred.uid());
        Ok((stream, Peer::Unix { uid }))
    }
}

/// Serves `app` on `listener` until `stop` turns true, then lets open connections finish
/// their requests (the caller bounds how long).
pub async fn serve<L: Listener>(
    listener: L,
    app: Router,
    options: Options,
    tls: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    let max = options.max_connections;
    let slots = Arc::new(Semaphore::new(max as usize));
    loop {
        let accepted = tokio::select! {
            biased;
            () = stopped(stop.clone()) => break,
            accepted = listener.accept_peer() => accepted,
        };
        let (io, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                accept_failed(e).await;
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            // Over the cap: closed at once, not queued.
            tracing::warn!(
                peer = %peer.describe(),
                "connection refused: {max} connections are open (--max-connections)"
            );
            drop(io);
            continue;
        };
        let io = Counted { io, _slot: slot };
        let app = app.clone();
        let options = options.clone();
        let tls = tls.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            match (tls, peer) {
                (Some(acceptor), Peer::Tcp { addr, .. }) => {
                    let handshake =
                        tokio::time::timeout(options.tls_handshake_timeout, acceptor.accept(io));
                    match handshake.await {
                        Ok(Ok(io)) => {
                            let peer = Peer::Tcp { addr, tls: true };
                            serve_connection(io, peer, app, &options, stop).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                }
                (_, peer) => serve_connection(io, peer, app, &options, stop).await,
            }
        });
    }
    // Every open connection holds a slot (an upgraded one too): wait until all are back.
    let _ = slots.acquire_many(max).await;
}

/// One connection: HTTP/1.1 with upgrades (exec, attach, WebSockets), the header timeout, and
/// a graceful end (the current request finishes) on stop.
async fn serve_connection<I>(
    io: I,
    peer: Peer,
    app: Router,
    options: &Options,
    stop: watch::Receiver<bool>,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(peer);
        app.clone().oneshot(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    let connection = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopped(stop) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(peer = %peer.describe(), "connection ended: {e}");
    }
}

/// An accept error: a client that gave up is nothing; running out of descriptors (EMFILE)
/// is waited out rather than spun on.
async fn accept_failed(e: io::Error) {
    use io::ErrorKind as K;
    if matches!(
        e.kind(),
        K::ConnectionAborted | K::ConnectionReset | K::ConnectionRefused | K::Interrupted
    ) {
        return;
    }
    tracing::warn!("accepting a connection failed: {e}");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

pub async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// A connection's stream with its slot under the connection cap: the slot is freed when the
/// stream is dropped, which for an upgraded connection is when its exec, attach or WebSocket
/// ends.
struct Counted<I> {
    io: I,
    _slot: OwnedSemaphorePermit,
}

impl<I: AsyncRead + Unpin> AsyncRead for Counted<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Counted<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        transport: TransportArgs,
    }

    fn args(argv: &[&str]) -> TransportArgs {
        Cli::try_parse_from(std::iter::once("serve").chain(argv.iter().copied()))
            .expect("flags parse")
            .transport
    }

    #[test]
    fn loopback_addresses_are_recognised() {
        for listen in [
            "127.0.0.1:7878",
            "127.1.2.3:80",
            "[::1]:7878",
            "localhost:7878",
            "LOCALHOST:1",
            "[::ffff:127.0.0.1]:7878",
        ] {
            assert!(is_loopback(listen), "{listen}");
        }
        for listen in [
            "0.0.0.0:7878",
            "[::]:7878",
            "192.168.1.10:7878",
            ":7878",
            "example.com:7878",
            "localhost.example.com:7878",
            "[::ffff:10.0.0.1]:7878",
        ] {
            assert!(!is_loopback(listen), "{listen}");
        }
    }

    #[test]
    fn plain_http_off_loopback_needs_tls_or_insecure_listen() {
        assert!(check_listen("127.0.0.1:7878", false, false).is_ok());
        assert!(check_listen("0.0.0.0:7878", true, false).is_ok(), "TLS");
        assert!(
            check_listen("0.0.0.0:7878", false, true).is_ok(),
            "asked for"
        );
        let err = check_listen("0.0.0.0:7878", false, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("--tls-cert/--tls-key"), "{err}");
        assert!(err.contains("--insecure-listen"), "{err}");
    }

    #[test]
    fn tls_flags_come_in_pairs() {
        assert!(args(&[]).tls_files().unwrap().is_none());
        let both = args(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
        let (cert, key) = both.tls_files().unwrap().unwrap();
        assert_eq!((cert, key), (Path::new("c.pem"), Path::new("k.pem")));
        let err = args(&["--tls-cert", "c.pem"]).tls_files().unwrap_err();
        assert!(err.to_string().contains("needs --tls-key"), "{err}");
        let err = args(&["--tls-key", "k.pem"]).tls_files().unwrap_err();
        assert!(err.to_string().contains("needs --tls-cert"), "{err}");
        let err = args(&[
            "--tls-cert",
            "/nonexistent/c.pem",
            "--tls-key",
            "/nonexistent/k.pem",
        ])
        .prepare("127.0.0.1:7878")
        .err()
        .expect("unreadable files are refused");
        assert!(format!("{err:#}").contains("cannot read"), "{err:#}");
    }

    #[test]
    fn the_defaults_are_the_documented_limits() {
        let a = args(&[]);
        assert_eq!(a.max_connections, 1024);
        assert_eq!(a.max_websockets, 256);
        assert_eq!(a.header_timeout, Duration::from_secs(10));
        assert_eq!(a.tls_handshake_timeout, Duration::from_secs(10));
        assert!(Cli::try_parse_from(["serve", "--max-connections", "0"]).is_err());
    }

    async fn get(mut stream: impl AsyncRead + AsyncWrite + Unpin) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let request = "GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }

    #[tokio::test]
    async fn every_request_carries_its_peer_and_the_loops_end_on_stop() {
        async fn who(axum::Extension(peer): axum::Extension<Peer>) -> String {
            format!("{peer:?}")
        }
        let app = Router::new().route("/who", axum::routing::get(who));
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = tcp.local_addr().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.sock");
        let unix = UnixListener::bind(&path).unwrap();
        let options = Options {
            header_timeout: Duration::from_secs(5),
            tls_handshake_timeout: Duration::from_secs(5),
            max_connections: 4,
        };
        let (stop, stopping) = watch::channel(false);
        let client = async move {
            let stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let local = stream.local_addr().unwrap();
            let over_tcp = get(stream).await;
            let over_unix = get(tokio::net::UnixStream::connect(&path).await.unwrap()).await;
            stop.send(true).unwrap();
            (local, over_tcp, over_unix)
        };
        let servers = async {
            tokio::join!(
                serve(tcp, app.clone(), options.clone(), None, stopping.clone()),
                serve(unix, app, options, None, stopping),
                client
            )
        };
        let ((), (), (local, over_tcp, over_unix)) =
            tokio::time::timeout(Duration::from_secs(10), servers)
                .await
                .expect("the loops end on stop");
        let expected = format!(
            "{:?}",
            Peer::Tcp {
                addr: local,
                tls: false
            }
        );
        assert!(over_tcp.ends_with(&expected), "{over_tcp}");
        let uid = nix::unistd::geteuid().as_raw();
        let expected = format!("{:?}", Peer::Unix { uid: Some(uid) });
        assert!(over_unix.ends_with(&expected), "{over_unix}");
    }

    #[test]
    fn groups_resolve_by_name_or_number() {
        assert_eq!(resolve_group("0").unwrap(), nix::unistd::Gid::from_raw(0));
        assert_eq!(
            resolve_group("root").unwrap(),
            nix::unistd::Gid::from_raw(0)
        );
        assert!(resolve_group("no-such-group-berth").is_err());
    }
}
