//! What one client may cost the daemon: body sizes (a small default on every route, a large
//! one with a free-space check on the image uploads), WebSocket message sizes and the number
//! of WebSocket clients at once. Errors are the API's error body (`berth_wire::ErrorBody`).

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use berth_wire::{ErrorBody, ErrorCode};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The body limit of every route but the image uploads (JSON bodies are small).
pub const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;
/// The largest image upload (`images/load`, `images/import`).
pub const UPLOAD_LIMIT: u64 = 64 * 1024 * 1024 * 1024;
/// The free space an upload leaves on the data root's file system.
pub const UPLOAD_RESERVE: u64 = 256 * 1024 * 1024;
/// How often (in bytes received) a streaming upload re-checks the free space.
pub const UPLOAD_CHECK_EVERY: u64 = 4 * 1024 * 1024;
/// The largest WebSocket message and frame a client may send (the dashboard only listens).
pub const WS_MESSAGE_LIMIT: usize = 64 * 1024;
/// Bytes read from a WebSocket at a time.
const WS_READ_BUFFER: usize = 8 * 1024;
/// Bytes of outgoing frames gathered before they are written to the socket.
const WS_WRITE_BUFFER: usize = 32 * 1024;

/// A limit was hit: the status and error body the client gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl LimitError {
    pub fn new(code: ErrorCode, status: StatusCode, message: impl Into<String>) -> LimitError {
        LimitError {
            status,
            body: ErrorBody::new(code, message),
        }
    }
}

impl IntoResponse for LimitError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

/// The cap on concurrent WebSocket clients, shared by every upgrade handler (an `Extension`).
#[derive(Clone, Debug)]
pub struct WsLimiter {
    slots: Arc<Semaphore>,
    max: usize,
}

/// One WebSocket client's slot, held by its socket task; freed on drop.
#[derive(Debug)]
pub struct WsPermit(#[allow(dead_code)] OwnedSemaphorePermit);

impl WsLimiter {
    pub fn new(max: usize) -> WsLimiter {
        WsLimiter {
            slots: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A slot, or the 503 the client gets before any upgrade.
    pub fn try_acquire(&self) -> Result<WsPermit, LimitError> {
        self.slots
            .clone()
            .try_acquire_owned()
            .map(WsPermit)
            .map_err(|_| {
                LimitError::new(
                    ErrorCode::ServiceUnavailable,
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "too many WebSocket clients (the limit is {}); retry later",
                        self.max
                    ),
                )
            })
    }

    /// The clients connected now.
    pub fn active(&self) -> usize {
        self.max - self.slots.available_permits()
    }

    /// The message and frame limits every upgrade gets, and small buffers: clients send
    /// little, and what the daemon sends is bounded by each connection's own queue, so the
    /// 128 KiB read and write buffers tungstenite would give each connection are memory a
    /// hundred viewers of a log would hold for nothing.
    pub fn bounded(ws: WebSocketUpgrade) -> WebSocketUpgrade {
        ws.max_message_size(WS_MESSAGE_LIMIT)
            .max_frame_size(WS_MESSAGE_LIMIT)
            .read_buffer_size(WS_READ_BUFFER)
            .write_buffer_size(WS_WRITE_BUFFER)
    }
}

/// The limits of the image uploads (an `Extension`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadLimits {
    /// The most bytes one upload may have.
    pub max_bytes: u64,
    /// The free space (bytes) the upload must leave on the data root's file system.
    pub reserve: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_bytes: UPLOAD_LIMIT,
            reserve: UPLOAD_RESERVE,
        }
    }
}

impl UploadLimits {
    /// Before reading: refuses a body whose announced length is over the limit (413) or over
    /// the free space of `dir`'s file system less the reserve (507).
    pub fn admit(&self, dir: &Path, length: Option<u64>) -> Result<(), LimitError> {
        let Some(length) = length else {
            return self.check_room(dir, 0);
        };
        if length > self.max_bytes {
            return Err(self.too_large());
        }
        self.check_room(dir, length)
    }

    /// While reading: `received` bytes so far; over the limit is a 413.
    pub fn check_size(&self, received: u64) -> Result<(), LimitError> {
        if received > self.max_bytes {
            return Err(self.too_large());
        }
        Ok(())
    }

    /// Whether `more` bytes still fit on `dir`'s file system above the reserve (507 if not).
    pub fn check_room(&self, dir: &Path, more: u64) -> Result<(), LimitError> {
        // A file system that cannot be asked is not refused here: the write fails later.
        let Ok(free) = free_space(dir) else {
            return Ok(());
        };
        room_decision(free, self.reserve, more)
    }

    fn too_large(&self) -> LimitError {
        LimitError::new(
            ErrorCode::PayloadTooLarge,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the upload is larger than {} bytes", self.max_bytes),
        )
    }
}

/// 507 when `more` bytes would leave less than `reserve` of `free`.
fn room_decision(free: u64, reserve: u64, more: u64) -> Result<(), LimitError> {
    let room = free.saturating_sub(reserve);
    if more > room || free < reserve {
        return Err(LimitError::new(
            ErrorCode::InsufficientStorage,
            StatusCode::INSUFFICIENT_STORAGE,
            format!(
                "not enough free space on the data root: {free} bytes free, the upload needs \
                 {more} more and {reserve} must stay free"
            ),
        ));
    }
    Ok(())
}

/// The bytes an unprivileged writer may still use on `dir`'s file system (statvfs).
pub fn free_space(dir: &Path) -> std::io::Result<u64> {
    let stat = nix::sys::statvfs::statvfs(dir).map_err(std::io::Error::from)?;
    #[allow(clippy::unnecessary_cast)]
    Ok((stat.blocks_available() as u64).saturating_mul(stat.fragment_size() as u64))
}

/// The router with the limits: 1 MiB bodies by default (routes raise it for themselves with
/// their own `DefaultBodyLimit`), the limiter and upload limits as extensions, and axum's
/// plain-text 413 turned into the API's error body.
pub fn apply(app: Router, ws: WsLimiter, upload: UploadLimits) -> Router {
    app.layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .layer(axum::middleware::map_response(json_payload_too_large))
        .layer(Extension(ws))
        .layer(Extension(upload))
}

/// A 413 without a JSON body (axum's extractors answer in plain text) gets the error body.
async fn json_payload_too_large(response: Response) -> Response {
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json(&response) {
        return response;
    }
    LimitError::new(
        ErrorCode::PayloadTooLarge,
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the request body is larger than {DEFAULT_BODY_LIMIT} bytes"),
    )
    .into_response()
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v: &HeaderValue| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::post;
    use tower::ServiceExt;

    #[test]
    fn the_limiter_refuses_beyond_its_cap_and_frees_on_drop() {
        let limiter = WsLimiter::new(2);
        let a = limiter.try_acquire().unwrap();
        let _b = limiter.clone().try_acquire().unwrap();
        assert_eq!(limiter.active(), 2);
        let refused = limiter.try_acquire().unwrap_err();
        assert_eq!(refused.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(refused.body.error.message.contains("limit is 2"));
        drop(a);
        assert_eq!(limiter.active(), 1);
        let _c = limiter.try_acquire().expect("a freed slot is reusable");
    }

    #[test]
    fn room_is_free_space_less_the_reserve() {
        assert!(room_decision(1000, 100, 900).is_ok());
        let err = room_decision(1000, 100, 901).unwrap_err();
        assert_eq!(err.status, StatusCode::INSUFFICIENT_STORAGE);
        assert_eq!(err.body.error.code, ErrorCode::InsufficientStorage);
        assert!(
            room_decision(50, 100, 0).is_err(),
            "already under the reserve"
        );
        assert!(room_decision(100, 100, 0).is_ok());
    }

    #[test]
    fn an_announced_length_over_the_limit_is_413_before_the_space_check() {
        let limits = UploadLimits {
            max_bytes: 10,
            reserve: u64::MAX,
        };
        let dir = tempfile::tempdir().unwrap();
        let err = limits.admit(dir.path(), Some(11)).unwrap_err();
        assert_eq!(err.status, StatusCode::PAYLOAD_TOO_LARGE);
        let err = limits.admit(dir.path(), Some(5)).unwrap_err();
        assert_eq!(err.status, StatusCode::INSUFFICIENT_STORAGE, "no room");
        assert!(limits.check_size(10).is_ok());
        assert!(limits.check_size(11).is_err());
        assert!(UploadLimits::default()
            .admit(dir.path(), Some(1024))
            .is_ok());
    }

    #[tokio::test]
    async fn a_too_large_json_body_is_413_with_the_error_body() {
        async fn echo(
            axum::Json(v): axum::Json<serde_json::Value>,
        ) -> axum::Json<serde_json::Value> {
            axum::Json(v)
        }
        let app = apply(
            Router::new().route("/echo", post(echo)),
            WsLimiter::new(1),
            UploadLimits::default(),
        );
        let big = format!("\"{}\"", "x".repeat(DEFAULT_BODY_LIMIT + 1));
        let request = Request::post("/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(big))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let body: ErrorBody = serde_json::from_slice(&bytes).expect("the error body");
        assert_eq!(body.error.code, ErrorCode::PayloadTooLarge);

        let small = Request::post("/echo")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("[1]"))
            .unwrap();
        assert_eq!(app.oneshot(small).await.unwrap().status(), StatusCode::OK);
    }
}
