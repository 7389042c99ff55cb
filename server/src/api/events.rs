//! `GET /api/v1/events`: the engine's event stream as JSON lines (docker's event objects plus
//! `seq`), replayed from `since` (a time) or `cursor` (a sequence number) and then live until
//! `until`; `GET /api/v1/events/ws` carries the same stream over a WebSocket, one event per
//! text message, for the dashboard (reconnect with `cursor=<last seq>` to resume).

use super::logs::now_ns;
use super::{ApiError, ApiResult};
use crate::transport::limits::WsLimiter;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use berth_engine::events::{EventFilter, EventQuery, EventStream, Since};
use berth_engine::units::parse_time;
use berth_engine::Engine;
use berth_wire::event::EventsQuery;
use futures::StreamExt;

/// The engine's query of an events request.
fn event_query(query: EventsQuery) -> ApiResult<EventQuery> {
    let now = now_ns();
    let time = |text: Option<String>| -> ApiResult<Option<i64>> {
        match text.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(t) => Ok(Some(parse_time(t, now).map_err(ApiError::from)?)),
        }
    };
    let since = match query.cursor {
        Some(seq) => Some(Since::After(seq)),
        None => time(query.since)?.map(Since::Time),
    };
    let filter = match query.filters.as_deref().map(str::trim) {
        None | Some("") => EventFilter::default(),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| ApiError::bad_request(format!("invalid filters {json:?}: {e}")))?,
    };
    Ok(EventQuery {
        since,
        until: time(query.until)?,
        filter,
    })
}

pub async fn events(
    State(engine): State<Engine>,
    Query(query): Query<EventsQuery>,
) -> ApiResult<Response> {
    let stream = engine.events(event_query(query)?)?;
    let lines = stream.into_stream().map(|item| {
        let mut line = match item {
            Ok(event) => serde_json::to_vec(&event),
            Err(e) => serde_json::to_vec(&serde_json::json!({ "error": e.to_string() })),
        }
        .map_err(std::io::Error::other)?;
        line.push(b'\n');
        Ok::<_, std::io::Error>(bytes::Bytes::from(line))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response())
}

pub async fn upgrade(
    State(engine): State<Engine>,
    Query(query): Query<EventsQuery>,
    Extension(limiter): Extension<WsLimiter>,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    // A slot first: over the cap the client gets a 503, not an upgrade.
    let permit = match limiter.try_acquire() {
        Ok(permit) => permit,
        Err(refused) => return Ok(refused.into_response()),
    };
    // Bad parameters are a plain 400 before the upgrade.
    let stream = engine.events(event_query(query)?)?;
    Ok(WsLimiter::bounded(ws).on_upgrade(move |socket| async move {
        forward(socket, stream).await;
        drop(permit);
    }))
}

async fn forward(mut socket: WebSocket, mut stream: EventStream) {
    loop {
        tokio::select! {
            item = stream.next() => {
                let text = match item {
                    Some(Ok(event)) => serde_json::to_string(&event)
                        .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() }).to_string()),
                    Some(Err(e)) => serde_json::json!({ "error": e.to_string() }).to_string(),
                    None => break,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
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
    let _ = socket.send(Message::Close(None)).await;
}
