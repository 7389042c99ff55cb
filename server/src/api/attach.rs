//! `POST …/containers/{id}/attach` with `Upgrade: tcp` (docker's hijacked attach): the client's
//! input goes to the container's stdin, its output comes back as multiplexed frames from the
//! log, and a last system frame says how it ended (`{"exit_code":N}` or `{"detached":true}`).
//! Docker's detach keys are read from the input here, as docker's daemon does.
//! Also `POST …/containers/{id}/resize?h=&w=`.

use super::logs::{encode_record, exit_end};
use super::{ApiError, ApiResult};
use crate::frames;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use berth_engine::attach::detach::{parse_detach_keys, DetachMatcher, DEFAULT_DETACH_KEYS};
use berth_engine::attach::AttachInput;
use berth_engine::{AttachRequest, AttachSession, Engine, OutputSession};
use berth_wire::container::AttachQuery;
use berth_wire::container::ResizeQuery;
use berth_wire::stream::StreamEnd;
use bytes::{Bytes, BytesMut};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

pub async fn attach(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<AttachQuery>,
    mut request: Request,
) -> ApiResult<Response> {
    let wants_upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"tcp"));
    let start = query.start.unwrap_or(false);
    if !wants_upgrade {
        return super::logs::attach_output(engine, &id, start).await;
    }
    let upgrade = hyper::upgrade::on(&mut request);
    let keys = query.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS);
    let detach_keys = parse_detach_keys(keys)?;
    let request = AttachRequest {
        start,
        stdin: query.stdin.unwrap_or(false),
        output_only: false,
        size: query.h.zip(query.w),
    };
    let AttachSession { output, input } = engine.containers().attach_session(&id, request).await?;

    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => bridge(TokioIo::new(upgraded), input, output, detach_keys).await,
            Err(e) => tracing::warn!("attach stream upgrade failed: {e}"),
        }
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "tcp")
        .header(
            header::CONTENT_TYPE,
            "application/vnd.docker.multiplexed-stream",
        )
        .body(Body::empty())
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Relays until the container has exited (its output is all sent, then its exit code), the
/// client typed the detach keys, or the client went away. The client's end of input ends the
/// container's stdin (if it was created with StdinOnce) but not the output.
async fn bridge<S>(
    io: S,
    mut input: Option<AttachInput>,
    output: OutputSession,
    detach_keys: Vec<u8>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut from_client, mut to_client) = tokio::io::split(io);
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(4);
    let OutputSession { mut follower, exit } = output;
    let output = tokio::spawn(async move {
        while let Some(batch) = follower.next_batch().await {
            let mut out = BytesMut::new();
            match batch {
                Ok(records) => records
                    .iter()
                    .for_each(|r| encode_record(&mut out, r, false)),
                Err(e) => {
                    let end = StreamEnd::Error(ApiError::from(e).detail());
                    let _ = out_tx.send(frames::end_frame(&end)).await;
                    return;
                }
            }
            if out_tx.send(out.freeze()).await.is_err() {
                return;
            }
        }
        let end = exit_end(exit.wait().await);
        let _ = out_tx.send(frames::end_frame(&end)).await;
    });
    let mut matcher = DetachMatcher::new(detach_keys);
    let mut buf = vec![0u8; 32 * 1024];
    let mut reading = true;
    loop {
        tokio::select! {
            chunk = out_rx.recv() => match chunk {
                Some(bytes) => {
                    if to_client.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
            read = from_client.read(&mut buf), if reading => match read {
                Ok(0) | Err(_) => {
                    reading = false;
                    if let Some(input) = &mut input {
                        let _ = input.end().await;
                    }
                }
                Ok(n) => {
                    let (forward, detached) = matcher.feed(&buf[..n]);
                    if let Some(sink) = &mut input {
                        if !forward.is_empty() && sink.send(&forward).await.is_err() {
                            // The container's input is gone (it exited): its output goes on.
                            input = None;
                        }
                    }
                    if detached {
                        let frame = frames::end_frame(&StreamEnd::Detached(true));
                        let _ = to_client.write_all(&frame).await;
                        break;
                    }
                }
            },
        }
    }
    let _ = to_client.shutdown().await;
    output.abort();
}

pub async fn resize(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(size): Query<ResizeQuery>,
) -> ApiResult<StatusCode> {
    engine.containers().resize(&id, size.h, size.w).await?;
    Ok(StatusCode::OK)
}
