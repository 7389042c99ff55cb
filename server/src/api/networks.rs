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
            .find_networks(super::filters(query.filters.as_deref())?)
            .await?,
    ))
}

pub async fn prune(State(engine): State<Engine>) -> ApiResult<Json<NetworkPruneResponse>> {
    Ok(Json(NetworkPruneResponse {
        networks_deleted: engine.prune_networks().await?,
    }))
}

pub async fn create(
    State(engine): State<Engine>,
    Json(request): Json<NetworkCreate>,
) -> ApiResult<(StatusCode, Json<NetworkRow>)> {
    Ok((
        StatusCode::CREATED,
        Json(engine.network_create(request).await?),
    ))
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<NetworkInspect>> {
    Ok(Json(engine.network_inspect(&id).await?))
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<NetworkRow>> {
    Ok(Json(engine.network_remove(&id).await?))
}

pub async fn connect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Json(body): Json<ContainerRef>,
) -> ApiResult<StatusCode> {
    engine.network_connect(&id, &body.container).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn disconnect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Json(body): Json<ContainerRef>,
) -> ApiResult<StatusCode> {
    engine.network_disconnect(&id, &body.container).await?;
    Ok(StatusCode::NO_CONTENT)
}
