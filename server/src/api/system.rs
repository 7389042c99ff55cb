//! `GET /api/v1/system/df` (disk usage), `POST /api/v1/system/prune` and `GET /api/v1/info`
//! (host and engine).

use super::ApiResult;
use axum::extract::{Query, State};
use axum::Json;
use berth_engine::system::{DiskUsage, SystemInfo, SystemPruneReport};
use berth_engine::Engine;
use berth_wire::system::PruneQuery;

pub async fn df(State(engine): State<Engine>) -> ApiResult<Json<DiskUsage>> {
    Ok(Json(engine.system().disk_usage().await?))
}

pub async fn prune(
    State(engine): State<Engine>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<SystemPruneReport>> {
    let (all, volumes) = (query.all.unwrap_or(false), query.volumes.unwrap_or(false));
    Ok(Json(engine.system().prune_system(all, volumes).await?))
}

pub async fn info(State(engine): State<Engine>) -> ApiResult<Json<SystemInfo>> {
    Ok(Json(engine.system().info().await?))
}
