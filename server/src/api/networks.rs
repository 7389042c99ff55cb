//! Network endpoints: list, create, inspect, remove, connect and disconnect containers.

use super::ApiResult;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use berth_engine::network::{NetworkCreate, NetworkInspect, NetworkRow};
use berth_engine::Engine;
use berth_wire::filters::FiltersQuery;
use berth_wire::network::{ContainerRef, NetworkPruneResponse};

/// `filters`: name, id, driver, type, scope, label.
pub async fn list(
    State(engine): State<Engine>,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Json<Vec<NetworkRow>>> {
    Ok(Json(
        engine
            .networks()
            .find(super::filters(query.filters.as_deref())?)
            .await?,
    ))
}

pub async fn prune(State(engine): State<Engine>) -> ApiResult<Json<NetworkPruneResponse>> {
    Ok(Json(NetworkPruneResponse {
        networks_deleted: engine.networks().prune().await?,
    }))
}

pub async fn create(
    State(engine): State<Engine>,
    Json(request): Json<NetworkCreate>,
) -> ApiResult<(StatusCode, Json<NetworkRow>)> {
    Ok((
        StatusCode::CREATED,
        Json(engine.networks().create(request).await?),
    ))
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<NetworkInspect>> {
    Ok(Json(engine.networks().inspect(&id).await?))
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<NetworkRow>> {
    Ok(Json(engine.networks().remove(&id).await?))
}

pub async fn connect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Json(body): Json<ContainerRef>,
) -> ApiResult<StatusCode> {
    engine.networks().connect(&id, &body.container).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn disconnect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Json(body): Json<ContainerRef>,
) -> ApiResult<StatusCode> {
    engine.networks().disconnect(&id, &body.container).await?;
    Ok(StatusCode::NO_CONTENT)
}
