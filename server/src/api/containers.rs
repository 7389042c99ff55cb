//! Container endpoints: list, create, inspect, start, stop, kill, wait, remove.

use super::list_answers::ListAnswers;
use super::{ApiError, ApiResult};
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use berth_engine::container::inspect::ContainerInspect;
use berth_engine::container::{ContainerSummary, CreateOptions};
use berth_engine::units::parse_signal;
use berth_engine::{ContainerQuery, Engine};
use berth_wire::container::{
    KillQuery, ListQuery, PruneResponse, RemoveQuery, RenameQuery, StopQuery, WaitResponse,
};
use std::sync::Arc;
use std::time::Duration;

pub async fn list(
    State(engine): State<Engine>,
    Extension(answers): Extension<Arc<ListAnswers>>,
    RawQuery(raw): RawQuery,
    Query(query): Query<ListQuery>,
) -> ApiResult<Response> {
    let filters = super::filters(query.filters.as_deref())?;
    let query = ContainerQuery {
        all: query.all.unwrap_or(true),
        filters,
        limit: query.limit.filter(|n| *n > 0),
        size: query.size.unwrap_or(false),
    };
    let raw = raw.unwrap_or_default();
    let stamp = engine.containers().container_list_stamp(&query).await?;
    if let Some(body) = stamp.and_then(|s| answers.get(s, &raw)) {
        return Ok(json_bytes(body));
    }
    let list = engine.containers().find_containers(query).await?;
    let body =
        Bytes::from(serde_json::to_vec(&list).map_err(|e| ApiError::internal(e.to_string()))?);
    if let Some(stamp) = stamp {
        answers.put(stamp, &raw, body.clone());
    }
    Ok(json_bytes(body))
}

fn json_bytes(body: Bytes) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

pub async fn create(
    State(engine): State<Engine>,
    Json(options): Json<CreateOptions>,
) -> ApiResult<(StatusCode, Json<ContainerSummary>)> {
    Ok((
        StatusCode::CREATED,
        Json(engine.containers().create(options).await?),
    ))
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerInspect>> {
    Ok(Json(engine.containers().inspect(&id).await?))
}

pub async fn start(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerSummary>> {
    Ok(Json(engine.containers().start(&id).await?))
}

pub async fn stop(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<Json<ContainerSummary>> {
    let grace = query.t.map(Duration::from_secs);
    Ok(Json(engine.containers().stop(&id, grace).await?))
}

pub async fn kill(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<KillQuery>,
) -> ApiResult<StatusCode> {
    let signal =
        parse_signal(query.signal.as_deref().unwrap_or("SIGKILL")).map_err(ApiError::from)?;
    engine.containers().kill(&id, signal).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn wait(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<WaitResponse>> {
    Ok(Json(WaitResponse {
        exit_code: engine.containers().wait(&id).await?,
    }))
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    let (force, volumes) = (query.force.unwrap_or(false), query.v.unwrap_or(false));
    engine
        .containers()
        .remove_container(&id, force, volumes)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn restart(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<Json<ContainerSummary>> {
    let grace = query.t.map(Duration::from_secs);
    Ok(Json(engine.containers().restart(&id, grace).await?))
}

pub async fn pause(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerSummary>> {
    Ok(Json(engine.containers().pause(&id).await?))
}

pub async fn unpause(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerSummary>> {
    Ok(Json(engine.containers().unpause(&id).await?))
}

pub async fn rename(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<RenameQuery>,
) -> ApiResult<Json<ContainerSummary>> {
    Ok(Json(engine.containers().rename(&id, &query.name).await?))
}

pub async fn prune(State(engine): State<Engine>) -> ApiResult<Json<PruneResponse>> {
    let (containers_deleted, space_reclaimed) = engine.containers().prune_containers().await?;
    Ok(Json(PruneResponse {
        containers_deleted,
        space_reclaimed,
    }))
}

pub async fn stats(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<berth_engine::ContainerStats>> {
    Ok(Json(engine.containers().stats(&id).await?))
}

/// Many containers' usage in one answer, read together (`berth stats`).
pub async fn stats_many(
    State(engine): State<Engine>,
    Query(query): Query<berth_wire::stats::StatsQuery>,
) -> ApiResult<Json<Vec<berth_engine::ContainerStats>>> {
    let keys = query.keys();
    Ok(Json(engine.containers().stats_many(keys.as_deref()).await?))
}
