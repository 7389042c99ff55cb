//! `GET /api/v1/system/df` (disk usage) and `GET /api/v1/info` (host and engine).

use super::ApiResult;
use axum::extract::State;
use axum::Json;
use berth_engine::system::{DiskUsage, SystemInfo};
use berth_engine::Engine;

pub async fn df(State(engine): State<Engine>) -> ApiResult<Json<DiskUsage>> {
    Ok(Json(engine.disk_usage().await?))
}

pub async fn info(State(engine): State<Engine>) -> ApiResult<Json<SystemInfo>> {
    Ok(Json(engine.info().await?))
}
