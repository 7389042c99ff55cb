//! Log streams over HTTP: `GET …/logs` (optionally following) and `POST …/attach` (follow from
//! the first line, optionally start, and end with the exit code), as multiplexed frames.

use super::{ApiError, ApiResult};
use crate::frames;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use berth_engine::container::{LogFollower, LogOptions};
use berth_engine::logs::{LogRecord, Stream};
use berth_engine::units::parse_time;
use berth_engine::{AttachRequest, Engine, ExitWaiter};
use berth_wire::container::LogsQuery;
use berth_wire::stream::StreamEnd;
use bytes::BytesMut;

pub async fn logs(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<LogsQuery>,
) -> ApiResult<Response> {
    let tail = match query.tail.as_deref() {
        None | Some("all") | Some("") => None,
        Some(n) => Some(
            n.parse::<usize>()
                .map_err(|_| ApiError::bad_request(format!("invalid tail value {n:?}")))?,
        ),
    };
    let now = now_ns();
    let time = |text: &Option<String>| -> ApiResult<Option<i64>> {
        match text.as_deref() {
            None | Some("") => Ok(None),
            Some(t) => Ok(Some(parse_time(t, now).map_err(ApiError::from)?)),
        }
    };
    let options = LogOptions {
        follow: query.follow.unwrap_or(false),
        tail,
        since: time(&query.since)?,
        until: time(&query.until)?,
        after: None,
    };
    let follower = engine.containers().logs(&id, options).await?;
    Ok(stream_response(
        follower,
        None,
        query.timestamps.unwrap_or(false),
    ))
}

/// `attach` without an upgrade: the output only, from the first line, optionally starting
/// the container, ending with its exit code.
pub(super) async fn attach_output(engine: Engine, id: &str, start: bool) -> ApiResult<Response> {
    let request = AttachRequest {
        start,
        output_only: true,
        ..Default::default()
    };
    let session = engine.containers().attach_session(id, request).await?;
    Ok(stream_response(
        session.output.follower,
        Some(session.output.exit),
        false,
    ))
}

/// How a stream of a container's output ends: its exit code, or why there is none.
pub(super) fn exit_end(exit: berth_engine::Result<i32>) -> StreamEnd {
    match exit {
        Ok(code) => StreamEnd::ExitCode(code),
        Err(e) => StreamEnd::Error(ApiError::from(e).detail()),
    }
}

/// Renders log records as frames; with a waiter, a last SYSTEM frame carries the exit code.
fn stream_response(
    follower: LogFollower,
    waiter: Option<ExitWaiter>,
    timestamps: bool,
) -> Response {
    struct Pump {
        follower: LogFollower,
        waiter: Option<ExitWaiter>,
    }
    let body = futures::stream::unfold(Some(Pump { follower, waiter }), move |state| async move {
        let mut pump = state?;
        let mut out = BytesMut::new();
        match pump.follower.next_batch().await {
            Some(Ok(batch)) => {
                for record in &batch {
                    encode_record(&mut out, record, timestamps);
                }
                Some((Ok::<_, std::io::Error>(out.freeze()), Some(pump)))
            }
            Some(Err(e)) => {
                frames::encode_end(&mut out, &StreamEnd::Error(ApiError::from(e).detail()));
                Some((Ok(out.freeze()), None))
            }
            None => {
                let waiter = pump.waiter.take()?;
                frames::encode_end(&mut out, &exit_end(waiter.wait().await));
                Some((Ok(out.freeze()), None))
            }
        }
    });
    (
        [(
            header::CONTENT_TYPE,
            "application/vnd.berth.multiplexed-stream",
        )],
        Body::from_stream(body),
    )
        .into_response()
}

pub(super) fn encode_record(out: &mut BytesMut, record: &LogRecord, timestamps: bool) {
    let stream = match record.stream {
        Stream::Stdout => frames::STDOUT,
        Stream::Stderr => frames::STDERR,
    };
    let mut payload = Vec::with_capacity(record.line.len() + 40);
    if timestamps {
        payload.extend_from_slice(rfc3339(record.time_ns).as_bytes());
        payload.push(b' ');
    }
    payload.extend_from_slice(&record.line);
    if !record.partial {
        payload.push(b'\n');
    }
    frames::encode(out, stream, &payload);
}

/// Unix nanoseconds as RFC 3339 UTC with nanoseconds, as docker prints log times.
pub fn rfc3339(time_ns: i64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(time_ns.max(0) as u64);
    humantime::format_rfc3339_nanos(time).to_string()
}

pub(super) fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}
