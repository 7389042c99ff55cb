//! `POST …/containers/{id}/attach` with `Upgrade: tcp` (docker's hijacked attach): the client's
//! input goes to the container's stdin, its output comes back as multiplexed frames from the
//! log, and a last system frame says how it ended (`{"exit_code":N}` or `{"detached":true}`).
//! Docker's detach keys are read from the input here, as docker's daemon does.
//! Also `POST …/containers/{id}/resize?h=&w=`.

use super::logs::{encode_record, now_ns};
use super::{ApiError, ApiResult};
use crate::frames;
use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use berth_engine::attach::detach::{parse_detach_keys, DetachMatcher, DEFAULT_DETACH_KEYS};
use berth_engine::attach::AttachInput;
use berth_engine::container::{ContainerState, LogFollower, LogOptions};
use berth_engine::{Engine, ExitWaiter};
use bytes::{Bytes, BytesMut};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachQuery {
    /// Start the container once attached (`run`, `start -a`).
    start: Option<bool>,
    /// Send the client's input to the container's stdin (if it keeps one open, `-i`).
    stdin: Option<bool>,
    /// docker's `--detach-keys` format; empty for none. Default ctrl-p,ctrl-q.
    detach_keys: Option<String>,
    /// The client's terminal size, given to the container's terminal once it runs.
    h: Option<u16>,
    w: Option<u16>,
}

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

    // The output is the log from now on. A container that never ran is followed from before
    // its start; one that ran before, from the time of this start (its old exit is not this
    // one's).
    let fresh = engine.container(&id).await?.state == ContainerState::Created;
    let output = |since| {
        let options = LogOptions {
            follow: true,
            since,
            tail: since.is_none().then_some(0),
            ..Default::default()
        };
        let engine = engine.clone();
        let id = id.clone();
        async move {
            let waiter = engine.exit_waiter(&id).await?;
            let follower = engine.logs(&id, options).await?;
            Ok::<_, ApiError>((follower, waiter))
        }
    };
    let (follower, waiter, input) = if start {
        let since = now_ns();
        let early = match fresh {
            true => Some(output(None).await?),
            false => None,
        };
        engine.start(&id).await?;
        let (follower, waiter) = match early {
            Some(early) => early,
            None => output(Some(since)).await?,
        };
        // A command that is over already takes no input; its output is still shown.
        let input = match engine.attach(&id, query.stdin.unwrap_or(false)).await {
            Ok(attached) => attached.input,
            Err(berth_engine::Error::Conflict(_) | berth_engine::Error::NotFound { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        (follower, waiter, input)
    } else {
        let attached = engine.attach(&id, query.stdin.unwrap_or(false)).await?;
        let (follower, waiter) = output(None).await?;
        (follower, waiter, attached.input)
    };
    if let (Some(rows), Some(columns)) = (query.h, query.w) {
        // Only a container with a terminal has a size; a failure here is not the attach's.
        let _ = engine.resize(&id, rows, columns).await;
    }

    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                bridge(TokioIo::new(upgraded), input, follower, waiter, detach_keys).await
            }
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

fn system_frame(message: serde_json::Value) -> Bytes {
    let mut out = BytesMut::new();
    frames::encode(&mut out, frames::SYSTEM, message.to_string().as_bytes());
    out.freeze()
}

/// Relays until the container has exited (its output is all sent, then its exit code), the
/// client typed the detach keys, or the client went away. The client's end of input ends the
/// container's stdin (if it was created with StdinOnce) but not the output.
async fn bridge<S>(
    io: S,
    mut input: Option<AttachInput>,
    mut follower: LogFollower,
    waiter: ExitWaiter,
    detach_keys: Vec<u8>,
) where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut from_client, mut to_client) = tokio::io::split(io);
    let (out_tx, mut out_rx) = mpsc::channel::<Bytes>(4);
    let output = tokio::spawn(async move {
        while let Some(batch) = follower.next_batch().await {
            let mut out = BytesMut::new();
            match batch {
                Ok(records) => records
                    .iter()
                    .for_each(|r| encode_record(&mut out, r, false)),
                Err(e) => {
                    let _ = out_tx
                        .send(system_frame(serde_json::json!({ "error": e.to_string() })))
                        .await;
                    return;
                }
            }
            if out_tx.send(out.freeze()).await.is_err() {
                return;
            }
        }
        let end = match waiter.wait().await {
            Ok(code) => serde_json::json!({ "exit_code": code }),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        };
        let _ = out_tx.send(system_frame(end)).await;
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
                        let frame = system_frame(serde_json::json!({ "detached": true }));
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

/// `?h=ROWS&w=COLUMNS` of a resize (containers and exec instances).
#[derive(Deserialize)]
pub struct ResizeQuery {
    pub h: u16,
    pub w: u16,
}

pub async fn resize(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(size): Query<ResizeQuery>,
) -> ApiResult<StatusCode> {
    engine.resize(&id, size.h, size.w).await?;
    Ok(StatusCode::OK)
}
