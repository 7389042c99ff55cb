//! The live log WebSocket the dashboard uses: batches of lines as JSON, then the exit code.
//! Messages: `{"lines":[{"time","stream","line","partial"}…]}` and finally `{"exit_code":N}`.

use super::logs::rfc3339;
use super::{ApiError, ApiResult};
use crate::transport::limits::WsLimiter;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_engine::container::{LogFollower, LogOptions};
use berth_engine::logs::Stream;
use berth_engine::{Engine, ExitWaiter};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct WsQuery {
    tail: Option<usize>,
}

#[derive(Serialize)]
struct Line<'a> {
    time: String,
    stream: &'static str,
    line: std::borrow::Cow<'a, str>,
    partial: bool,
}

pub async fn upgrade(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<WsQuery>,
    Extension(limiter): Extension<WsLimiter>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    // A slot first: over the cap the client gets a 503, not an upgrade.
    let permit = match limiter.try_acquire() {
        Ok(permit) => permit,
        Err(refused) => return Ok(refused.into_response()),
    };
    // Resolve before upgrading, so an unknown container is a plain 404.
    let waiter = engine.exit_waiter(&id).await?;
    let follower = engine
        .logs(
            &id,
            LogOptions {
                follow: true,
                tail: query.tail,
                ..Default::default()
            },
        )
        .await
        .map_err(ApiError::from)?;
    Ok(WsLimiter::bounded(ws).on_upgrade(move |socket| async move {
        stream_logs(socket, follower, waiter).await;
        drop(permit);
    }))
}

async fn stream_logs(mut socket: WebSocket, mut follower: LogFollower, waiter: ExitWaiter) {
    loop {
        tokio::select! {
            batch = follower.next_batch() => match batch {
                Some(Ok(records)) => {
                    let lines: Vec<Line> = records
                        .iter()
                        .map(|r| Line {
                            time: rfc3339(r.time_ns),
                            stream: match r.stream {
                                Stream::Stdout => "stdout",
                                Stream::Stderr => "stderr",
                            },
                            line: String::from_utf8_lossy(&r.line),
                            partial: r.partial,
                        })
                        .collect();
                    let text = serde_json::json!({ "lines": lines }).to_string();
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    let text = serde_json::json!({ "error": e.to_string() }).to_string();
                    let _ = socket.send(Message::Text(text.into())).await;
                    let _ = socket.send(Message::Close(None)).await;
                    return;
                }
                None => break,
            },
            incoming = socket.recv() => match incoming {
                // The browser only listens; a close ends the stream, and so does a broken
                // frame, answered with the close code that says what was wrong with it.
                None | Some(Ok(Message::Close(_))) => return,
                Some(Err(err)) => {
                    super::ws_close::refuse(&mut socket, err).await;
                    return;
                }
                Some(Ok(_)) => {}
            },
        }
    }
    let text = match waiter.wait().await {
        Ok(code) => serde_json::json!({ "exit_code": code }),
        Err(e) => serde_json::json!({ "error": e.to_string() }),
    };
    let _ = socket.send(Message::Text(text.to_string().into())).await;
    let _ = socket.send(Message::Close(None)).await;
}
