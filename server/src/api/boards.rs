//! Read-only board links for wall screens (`/board/<secret>`): list, create (the address is
//! shown once), revoke; and a link's board, live over a WebSocket.

use super::{ApiError, ApiResult};
use crate::security::principal::Principal;
use crate::security::Security;
use crate::transport::limits::WsLimiter;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::events::{EventQuery, EventStream};
use berth_engine::Engine;
use berth_wire::auth::{BoardLink, CreateBoardLink, CreatedBoardLink};
use berth_wire::board::{BoardMessage, BoardSnapshot};
use berth_wire::ErrorCode;
use std::time::Duration;
use tokio::time::{Instant, MissedTickBehavior};

pub async fn list(Extension(security): Extension<Security>) -> ApiResult<Json<Vec<BoardLink>>> {
    Ok(Json(security.engine().auth().board_links().await?))
}

pub async fn create(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
    Json(request): Json<CreateBoardLink>,
) -> ApiResult<(StatusCode, Json<CreatedBoardLink>)> {
    let (secret, info) = security
        .engine()
        .auth()
        .create_board_link(
            &principal.user,
            &request.name,
            request.expires_in_secs.map(Duration::from_secs),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedBoardLink {
            path: format!("/board/{secret}"),
            info,
        }),
    ))
}

pub async fn revoke(
    Extension(security): Extension<Security>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    security.engine().auth().revoke_board_link(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How often a board gets a fresh snapshot when nothing happens (uptimes move on, and a
/// revoked or expired link is noticed).
const HEARTBEAT: Duration = Duration::from_secs(10);
/// At most one snapshot this often however fast the events come.
const COALESCE: Duration = Duration::from_millis(500);

/// `GET /api/v1/boards/{secret}/ws`: the board of a link, live. Public: the secret in the
/// address is the credential, checked before the upgrade (404 if the link is not valid) and
/// again before every snapshot; the socket closes once the link is revoked or expires.
pub async fn live(
    State(engine): State<Engine>,
    Path(secret): Path<String>,
    Extension(limiter): Extension<WsLimiter>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    let first = board(&engine, &secret)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such board link"))?;
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    // A slot first: over the cap the client gets a 503, not an upgrade.
    let permit = match limiter.try_acquire() {
        Ok(permit) => permit,
        Err(refused) => return Ok(refused.into_response()),
    };
    let events = engine.events(EventQuery::default())?;
    Ok(WsLimiter::bounded(ws).on_upgrade(move |socket| async move {
        push(socket, engine, secret, first, events).await;
        drop(permit);
    }))
}

async fn board(engine: &Engine, secret: &str) -> ApiResult<Option<BoardSnapshot>> {
    app::pages::board::ssr::snapshot(engine, secret)
        .await
        .map_err(|e| ApiError::new(ErrorCode::Internal, e.to_string()))
}

fn text(message: &BoardMessage) -> Message {
    let json = serde_json::to_string(message).unwrap_or_else(|_| r#"{"type":"invalid"}"#.into());
    Message::Text(json.into())
}

async fn push(
    mut socket: WebSocket,
    engine: Engine,
    secret: String,
    first: BoardSnapshot,
    mut events: EventStream,
) {
    if socket
        .send(text(&BoardMessage::Snapshot { snapshot: first }))
        .await
        .is_err()
    {
        return;
    }
    let mut last = Instant::now();
    let mut heartbeat = tokio::time::interval_at(last + HEARTBEAT, HEARTBEAT);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut dirty = false;
    let mut events_open = true;
    loop {
        let due = tokio::time::sleep_until(last + COALESCE);
        tokio::select! {
            item = events.next(), if events_open => match item {
                Some(_) => dirty = true,
                // The engine stops: the heartbeat goes on alone.
                None => events_open = false,
            },
            _ = due, if dirty => {}
            _ = heartbeat.tick() => dirty = true,
            incoming = socket.recv() => match incoming {
                // The board only listens; a close or an error ends it.
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
        if !dirty || last.elapsed() < COALESCE {
            continue;
        }
        dirty = false;
        last = Instant::now();
        heartbeat.reset();
        let message = match board(&engine, &secret).await {
            Ok(Some(snapshot)) => BoardMessage::Snapshot { snapshot },
            Ok(None) => {
                let _ = socket.send(text(&BoardMessage::Invalid)).await;
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            Err(e) => {
                tracing::warn!("a board snapshot failed: {}", e.message);
                continue;
            }
        };
        if socket.send(text(&message)).await.is_err() {
            return;
        }
    }
}
