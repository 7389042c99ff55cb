//! Image endpoints: list, load and import uploads, tag, remove, prune, inspect, history, and
//! save (the archive streamed back).

use super::{ApiError, ApiResult, FiltersQuery};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::image::save::ArchiveFormat;
use berth_engine::{
    Engine, HistoryEntry, ImageDeleteRecord, ImageInspect, ImagePruneReport, ImageSummary,
};
use bytes::Bytes;
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `filters`: dangling, reference, label, before, since.
pub async fn list(
    State(engine): State<Engine>,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Json<Vec<ImageSummary>>> {
    Ok(Json(engine.find_images(query.filters()?).await?))
}

/// The body is the archive itself (`docker save` tar or OCI archive).
pub async fn load(State(engine): State<Engine>, body: Body) -> ApiResult<Json<Vec<ImageSummary>>> {
    let loaded = with_upload(&engine, body, "the uploaded archive", |path| {
        let engine = engine.clone();
        async move { engine.load_images(&path).await }
    })
    .await?;
    Ok(Json(loaded))
}

#[derive(Deserialize)]
pub struct ImportQuery {
    /// The name the image gets, e.g. `app:v1`.
    repo: Option<String>,
    /// The history comment.
    message: Option<String>,
}

/// The body is a root file system tarball (plain or gzip).
pub async fn import(
    State(engine): State<Engine>,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> ApiResult<(StatusCode, Json<ImageSummary>)> {
    let repo = query.repo.filter(|r| !r.is_empty());
    let imported = with_upload(&engine, body, "the uploaded file", |path| {
        let engine = engine.clone();
        async move {
            engine
                .import_image(&path, repo.as_deref(), query.message)
                .await
        }
    })
    .await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

#[derive(Deserialize)]
pub struct TagQuery {
    target: String,
}

pub async fn tag(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<TagQuery>,
) -> ApiResult<StatusCode> {
    engine.tag_image(&name, &query.target).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
pub struct RemoveQuery {
    #[serde(default)]
    force: bool,
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<Json<Vec<ImageDeleteRecord>>> {
    Ok(Json(engine.remove_image(&name, query.force).await?))
}

#[derive(Deserialize)]
pub struct PruneQuery {
    /// Every image without a container, not only dangling ones.
    #[serde(default)]
    all: bool,
}

pub async fn prune(
    State(engine): State<Engine>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<ImagePruneReport>> {
    Ok(Json(engine.prune_images(query.all).await?))
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> ApiResult<Json<ImageInspect>> {
    Ok(Json(engine.inspect_image(&name).await?))
}

pub async fn history(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    Ok(Json(engine.image_history(&name).await?))
}

#[derive(Deserialize)]
pub struct SaveQuery {
    /// Comma-separated image names or ids.
    names: String,
    /// `docker` (the default) or `oci`.
    format: Option<String>,
}

/// Streams the archive of the named images (a tar).
pub async fn save(
    State(engine): State<Engine>,
    Query(query): Query<SaveQuery>,
) -> ApiResult<Response> {
    let format: ArchiveFormat = match query.format.as_deref() {
        None | Some("") => ArchiveFormat::default(),
        Some(text) => text.parse().map_err(ApiError::bad_request)?,
    };
    let names: Vec<String> = query
        .names
        .split(',')
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect();
    let archive = engine.save_images(&names, format).await?;
    let file = tokio::fs::File::open(archive.path())
        .await
        .map_err(|e| internal(format!("cannot open the saved archive: {e}")))?;
    // The archive (deleted on drop) lives as long as the stream reading it.
    let chunks = futures::stream::unfold((file, archive), |(mut file, archive)| async move {
        let mut buffer = vec![0u8; 256 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(n) => {
                buffer.truncate(n);
                Some((Ok(Bytes::from(buffer)), (file, archive)))
            }
            Err(e) => Some((Err(e), (file, archive))),
        }
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-tar")],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// Spools an uploaded body to the data root's tmp dir, runs `then` on the file and removes it.
/// Error messages name the upload as `what`, not the daemon's spool path.
async fn with_upload<T, F, Fut>(engine: &Engine, body: Body, what: &str, then: F) -> ApiResult<T>
where
    F: FnOnce(std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = berth_engine::Result<T>>,
{
    let upload = tempfile_in(&engine.tmp_dir());
    let result = async {
        let mut file = tokio::fs::File::create(&upload)
            .await
            .map_err(|e| internal(format!("cannot create {}: {e}", upload.display())))?;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("upload interrupted: {e}")))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| internal(format!("cannot write {}: {e}", upload.display())))?;
        }
        file.flush()
            .await
            .map_err(|e| internal(format!("cannot write {}: {e}", upload.display())))?;
        drop(file);
        then(upload.clone()).await.map_err(|e| {
            let mut err = ApiError::from(e);
            err.message = err.message.replace(&upload.display().to_string(), what);
            err
        })
    }
    .await;
    let _ = tokio::fs::remove_file(&upload).await;
    result
}

fn tempfile_in(dir: &std::path::Path) -> std::path::PathBuf {
    let name = format!(
        "upload-{}-{}.tar",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    dir.join(name)
}

fn internal(message: String) -> ApiError {
    tracing::error!("{message}");
    ApiError::internal(message)
}
