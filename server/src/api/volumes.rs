//! Volume endpoints under `/api/v1/volumes`: list (with filters), create, inspect, remove,
//! prune, and a volume's files: list a folder, download a file.

use super::ApiResult;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::volume::{Volume, VolumeFilters, VolumePruneReport};
use berth_engine::Engine;
use berth_wire::files::{Listing, PathQuery};
use berth_wire::volume::{CreateVolume, PruneQuery, RemoveQuery};
use tokio::io::AsyncReadExt;

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

/// `GET /api/v1/volumes/{name}/ls?path=/a`: a folder of the volume.
pub async fn list_files(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<PathQuery>,
) -> ApiResult<Json<Listing>> {
    Ok(Json(engine.volumes().list_files(&name, &query.path).await?))
}

/// `GET /api/v1/volumes/{name}/file?path=/a/b`: one regular file of the volume, as a download.
pub async fn download(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<PathQuery>,
) -> ApiResult<Response> {
    let (file, size) = engine.volumes().open_file(&name, &query.path).await?;
    let path = berth_wire::files::normalise(&query.path);
    let file_name = path.rsplit('/').next().unwrap_or("file");
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
            (
                header::CONTENT_DISPOSITION,
                super::file_body::attachment(file_name),
            ),
        ],
        // No more than the length announced, should the file grow meanwhile.
        super::file_body::body(tokio::fs::File::from_std(file).take(size), ()),
    )
        .into_response())
}
