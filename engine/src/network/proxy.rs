//! The userland proxy behind published ports: per binding, a socket on the host address that
//! forwards to the container's address. TCP: accept, connect, copy both ways. UDP: one
//! upstream socket per client address, dropped after `UDP_IDLE` without replies.

use super::{PortBinding, Proto};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::task::{JoinHandle, JoinSet};

/// How long a UDP flow lives without a reply from the container (docker-proxy uses 90 s).
const UDP_IDLE: Duration = Duration::from_secs(90);

/// A bound host socket, before its proxy runs.
pub(crate) enum Listener {
    Tcp(std::net::TcpListener),
    Udp(std::net::UdpSocket),
}

/// Binds every binding's host socket (random ports get theirs from the kernel) and returns the
/// bindings with their actual ports. On the first failure, the sockets bound so far are closed
/// and docker's message is returned.
pub(crate) fn bind_all(bindings: &[PortBinding]) -> Result<Vec<(PortBinding, Listener)>, String> {
    let mut out = Vec::new();
    for binding in bindings {
        let ip: IpAddr = binding
            .listen_ip()
            .parse()
            .map_err(|_| format!("invalid IP address: {}", binding.host_ip))?;
        let address = SocketAddr::new(ip, binding.host_port);
        let failed = |e: std::io::Error| {
            let why = if e.kind() == std::io::ErrorKind::AddrInUse {
                "port is already allocated".to_string()
            } else {
                e.to_string()
            };
            format!(
                "Bind for {}:{} failed: {why}",
                binding.listen_ip(),
                binding.host_port
            )
        };
        let (listener, port) = match binding.proto {
            Proto::Tcp => {
                let l = std::net::TcpListener::bind(address).map_err(failed)?;
                let port = l.local_addr().map_err(failed)?.port();
                l.set_nonblocking(true).map_err(failed)?;
                (Listener::Tcp(l), port)
            }
            Proto::Udp => {
                let s = std::net::UdpSocket::bind(address).map_err(failed)?;
                let port = s.local_addr().map_err(failed)?.port();
                s.set_nonblocking(true).map_err(failed)?;
                (Listener::Udp(s), port)
            }
        };
        let mut actual = binding.clone();
        actual.host_port = port;
        out.push((actual, listener));
    }
    Ok(out)
}

/// The running proxies, per container.
#[derive(Default)]
pub(crate) struct Proxies {
    running: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
}

impl Proxies {
    /// Starts forwarding each listener to `target:container_port`.
    pub fn start(&self, id: &str, listeners: Vec<(PortBinding, Listener)>, target: IpAddr) {
        let mut tasks = Vec::new();
        for (binding, listener) in listeners {
            let to = SocketAddr::new(target, binding.container_port);
            let task = match listener {
                Listener::Tcp(l) => match TcpListener::from_std(l) {
                    Ok(l) => tokio::spawn(serve_tcp(l, to)),
                    Err(e) => {
                        tracing::warn!(container = %id, "proxy for {binding}: {e}");
                        continue;
                    }
                },
                Listener::Udp(s) => match UdpSocket::from_std(s) {
                    Ok(s) => tokio::spawn(serve_udp(Arc::new(s), to)),
                    Err(e) => {
                        tracing::warn!(container = %id, "proxy for {binding}: {e}");
                        continue;
                    }
                },
            };
            tasks.push(task);
        }
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.entry(id.to_string()).or_default().extend(tasks);
    }

    /// Stops the container's proxies: their sockets close (connections in flight included).
    pub fn stop(&self, id: &str) {
        let tasks = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id)
            .unwrap_or_default();
        for task in tasks {
            task.abort();
        }
    }
}

async fn serve_tcp(listener: TcpListener, target: SocketAddr) {
    // Owned here: aborting this task drops the set, which aborts every connection.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((mut client, _)) => {
                    connections.spawn(async move {
                        if let Ok(mut upstream) = TcpStream::connect(target).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                        }
                    });
                }
                // EMFILE and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn serve_udp(socket: Arc<UdpSocket>, target: SocketAddr) {
    let mut flows: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
    let (ended_tx, mut ended_rx) = tokio::sync::mpsc::unbounded_channel::<SocketAddr>();
    let mut replies = JoinSet::new();
    let mut buf = vec![0u8; 65_536];
    loop {
        tokio::select! {
            received = socket.recv_from(&mut buf) => {
                let Ok((n, client)) = received else {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let flow = match flows.get(&client) {
                    Some(flow) => flow.clone(),
                    None => {
                        let Ok(upstream) = UdpSocket::bind("0.0.0.0:0").await else { continue };
                        if upstream.connect(target).await.is_err() {
                            continue;
                        }
                        let upstream = Arc::new(upstream);
                        flows.insert(client, upstream.clone());
                        replies.spawn(udp_replies(socket.clone(), upstream.clone(), client, ended_tx.clone()));
                        upstream
                    }
                };
                let _ = flow.send(&buf[..n]).await;
            }
            Some(client) = ended_rx.recv() => {
                flows.remove(&client);
            }
            Some(_) = replies.join_next(), if !replies.is_empty() => {}
        }
    }
}

/// Sends the container's replies of one flow back to its client until the flow goes idle.
async fn udp_replies(
    socket: Arc<UdpSocket>,
    upstream: Arc<UdpSocket>,
    client: SocketAddr,
    ended: tokio::sync::mpsc::UnboundedSender<SocketAddr>,
) {
    let mut buf = vec![0u8; 65_536];
    while let Ok(Ok(n)) = tokio::time::timeout(UDP_IDLE, upstream.recv(&mut buf)).await {
        let _ = socket.send_to(&buf[..n], client).await;
    }
    let _ = ended.send(client);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn tcp_is_forwarded_and_stops_with_the_container() {
        let upstream = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream_port = upstream.local_addr().unwrap().port();
        tokio::spawn(async move {
            let (mut s, _) = upstream.accept().await.unwrap();
            s.write_all(b"hello").await.unwrap();
        });
        let binding = PortBinding {
            proto: Proto::Tcp,
            container_port: upstream_port,
            host_ip: "127.0.0.1".into(),
            host_port: 0,
        };
        let bound = bind_all(&[binding]).unwrap();
        let port = bound[0].0.host_port;
        assert_ne!(port, 0);
        let proxies = Proxies::default();
        proxies.start("c", bound, "127.0.0.1".parse().unwrap());
        let mut client = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "hello");
        proxies.stop("c");
        tokio::task::yield_now().await;
        // The listening socket is closed once the task is gone.
        let mut refused = false;
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(refused, "the proxy still listens on {port}");
    }

    #[test]
    fn a_taken_port_is_reported_as_docker_does() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let binding = PortBinding {
            proto: Proto::Tcp,
            container_port: 80,
            host_ip: "127.0.0.1".into(),
            host_port: port,
        };
        let err = bind_all(&[binding]).err().unwrap();
        assert_eq!(
            err,
            format!("Bind for 127.0.0.1:{port} failed: port is already allocated")
        );
    }
}
