//! Exec endpoints, docker's shape: `POST …/containers/{id}/exec` creates an instance,
//! `POST …/exec/{id}/start` runs it (detached, or over an HTTP/1.1 upgrade to a raw
//! bidirectional stream), `POST …/exec/{id}/resize?h=&w=`, `GET …/exec/{id}/json`.

use super::{ApiError, ApiResult};
use crate::frames;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::exec::{ExecConfig, ExecInspect, ExecSession};
use berth_engine::logs::Stream;
use berth_engine::Engine;
use berth_wire::container::ResizeQuery;
use berth_wire::exec::{ExecCreated, StartBody};
use bytes::BytesMut;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWriteExt};

pub async fn create(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Json(config): Json<ExecConfig>,
) -> ApiResult<(StatusCode, Json<ExecCreated>)> {
    let id = engine.containers().exec_create(&id, config).await?;
    Ok((StatusCode::CREATED, Json(ExecCreated { id })))
}

/// Without `Detach` the request must ask for `Upgrade: tcp`: once the command runs the answer
/// is 101 and the connection carries the client's input one way and the output the other
/// (raw with a terminal, else multiplexed frames) until the command's output ends and it
/// has exited. The client half-closing its side closes the command's stdin.
pub async fn start(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    mut request: Request,
) -> ApiResult<Response> {
    let upgrade = hyper::upgrade::on(&mut request);
    let wants_upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
    let bytes = axum::body::to_bytes(request.into_body(), 64 * 1024)
        .await
        .map_err(|e| ApiError::bad_request(format!("cannot read the request: {e}")))?;
    let body: StartBody = if bytes.is_empty() {
        StartBody::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid exec start body: {e}")))?
    };
    if !body.detach && !wants_upgrade {
        return Err(ApiError::bad_request(
            "exec start needs `Upgrade: tcp` (or Detach)",
        ));
    }
    let session = engine
        .containers()
        .exec_start(
            &id,
            body.console_size.map(|[rows, columns]| (rows, columns)),
        )
        .await?;
    if body.detach {
        // The command keeps running; its output is discarded as nobody reads it.
        return Ok(Json(serde_json::json!({})).into_response());
    }
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => bridge(TokioIo::new(upgraded), session).await,
            Err(e) => tracing::warn!(exec = %session.id, "exec stream upgrade failed: {e}"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(header::CONTENT_TYPE, content_type(&engine, &id))
        .body(Body::empty())
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn content_type(engine: &Engine, id: &str) -> &'static str {
    match engine.containers().exec_inspect(id) {
        Ok(i) if i.process_config.tty => "application/vnd.docker.raw-stream",
        _ => "application/vnd.docker.multiplexed-stream",
    }
}

/// Copies the client's bytes into the command's input and its output back, then closes the
/// connection once the output has ended and the exit code is known.
pub async fn bridge<S>(io: S, mut session: ExecSession)
where
    S: AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut from_client, mut to_client) = tokio::io::split(io);
    let input = session.input.take();
    let feeder = tokio::spawn(async move {
        if let Some(mut sink) = input {
            let _ = tokio::io::copy(&mut from_client, &mut sink).await;
            let _ = sink.shutdown().await;
        }
    });
    while let Some(chunk) = session.output.recv().await {
        let bytes = if session.tty {
            chunk.data
        } else {
            let stream = match chunk.stream {
                Stream::Stdout => frames::STDOUT,
                Stream::Stderr => frames::STDERR,
            };
            let mut out = BytesMut::new();
            frames::encode(&mut out, stream, &chunk.data);
            out.freeze()
        };
        if to_client.write_all(&bytes).await.is_err() {
            // The client is gone: the command runs on, its output is drained and dropped.
            break;
        }
    }
    session.output.close();
    session.wait().await;
    let _ = to_client.shutdown().await;
    feeder.abort();
}

pub async fn resize(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(size): Query<ResizeQuery>,
) -> ApiResult<StatusCode> {
    engine.containers().exec_resize(&id, size.h, size.w)?;
    Ok(StatusCode::OK)
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<ExecInspect>> {
    Ok(Json(engine.containers().exec_inspect(&id)?))
}
