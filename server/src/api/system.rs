//! `GET /api/v1/system/df` (disk usage), `POST /api/v1/system/prune` and `GET /api/v1/info`
//! (host and engine).

use super::ApiResult;
use axum::extract::{Query, State};
use axum::Json;
use berth_engine::system::{DiskUsage, SystemInfo, SystemPruneReport};
use berth_engine::Engine;
use serde::Deserialize;

pub async fn df(State(engine): State<Engine>) -> ApiResult<Json<DiskUsage>> {
    Ok(Json(engine.disk_usage().await?))
}

#[derive(Deserialize)]
pub struct PruneQuery {
    /// Every unused image, not only dangling ones.
    all: Option<bool>,
    /// Unused anonymous volumes too.
    volumes: Option<bool>,
}

pub async fn prune(
    State(engine): State<Engine>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<SystemPruneReport>> {
    let (all, volumes) = (query.all.unwrap_or(false), query.volumes.unwrap_or(false));
    Ok(Json(engine.prune_system(all, volumes).await?))
}

pub async fn info(State(engine): State<Engine>) -> ApiResult<Json<SystemInfo>> {
    Ok(Json(engine.info().await?))
}
