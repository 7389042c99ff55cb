//! Volume endpoints under `/api/v1/volumes`: list (with filters), create, inspect, remove,
//! prune.

use super::ApiResult;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use berth_engine::volume::{Volume, VolumeFilters, VolumePruneReport};
use berth_engine::Engine;
use berth_wire::volume::{CreateVolume, PruneQuery, RemoveQuery};

pub async fn list(
    State(engine): State<Engine>,
    Query(filters): Query<VolumeFilters>,
) -> ApiResult<Json<Vec<Volume>>> {
    Ok(Json(engine.volumes().list(&filters).await?))
}

pub async fn create(
    State(engine): State<Engine>,
    Json(body): Json<CreateVolume>,
) -> ApiResult<(StatusCode, Json<Volume>)> {
    let volume = engine
        .volumes()
        .create(body.name.as_deref(), &body.labels)
        .await?;
    Ok((StatusCode::CREATED, Json(volume)))
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> ApiResult<Json<Volume>> {
    Ok(Json(engine.volumes().inspect(&name).await?))
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    engine
        .volumes()
        .remove(&name, query.force.unwrap_or(false))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn prune(
    State(engine): State<Engine>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<VolumePruneReport>> {
    Ok(Json(
        engine.volumes().prune(query.all.unwrap_or(false)).await?,
    ))
}
