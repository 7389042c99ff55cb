//! One viewer's connection to the daemon's `/api/v1/ws`: a WebSocket opened with an API token
//! (`Authorization: Bearer`, no `Origin`, so the cross-site check lets it through), carrying
//! `berth_wire::ws` messages as JSON text.

use berth_wire::ws::{ClientMsg, ServerMsg};
use futures::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, Uri};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct Conn(WebSocketStream<MaybeTlsStream<TcpStream>>);

impl Conn {
    /// Opens `url` (`ws://127.0.0.1:PORT/api/v1/ws`) as the holder of `token`.
    pub async fn open(url: &str, token: &str) -> Result<Conn, String> {
        let mut request = url
            .into_client_request()
            .map_err(|e| format!("bad url {url}: {e}"))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|e| format!("bad token: {e}"))?;
        request.headers_mut().insert("authorization", bearer);
        let (socket, _) = tokio_tungstenite::connect_async_with_config(request, None, true)
            .await
            .map_err(|e| format!("connecting to {url}: {e}"))?;
        Ok(Conn(socket))
    }

    pub async fn send(&mut self, msg: &ClientMsg) -> Result<(), String> {
        let text = serde_json::to_string(msg).map_err(|e| e.to_string())?;
        self.0
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| format!("sending: {e}"))
    }

    /// The next server message; None when the server closed the connection.
    pub async fn recv(&mut self) -> Result<Option<ServerMsg>, String> {
        loop {
            match self.0.next().await {
                None | Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Err(e)) => return Err(format!("receiving: {e}")),
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str())
                        .map(Some)
                        .map_err(|e| format!("not a ServerMsg ({e}): {}", text.as_str()))
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.0.close(None).await;
    }
}

/// `host:port` of a `ws://` URL: what an HTTP request to the same daemon sends as `Host`.
pub fn authority(url: &str) -> Result<String, String> {
    let uri: Uri = url.parse().map_err(|e| format!("bad url {url}: {e}"))?;
    uri.authority()
        .map(|a| a.to_string())
        .ok_or_else(|| format!("no host in {url}"))
}
