//! Image endpoints: list, load and import uploads, tag, remove, prune, inspect, history, and
//! save (the archive streamed back).

use super::{ApiError, ApiResult};
use crate::transport::limits::{LimitError, UploadLimits, UPLOAD_CHECK_EVERY};
use axum::body::{Body, HttpBody};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use berth_engine::image::save::ArchiveFormat;
use berth_engine::{
    Engine, HistoryEntry, ImageDeleteRecord, ImageInspect, ImagePruneReport, ImageSummary,
};
use berth_wire::filters::FiltersQuery;
use berth_wire::image::{ImportQuery, PruneQuery, RemoveQuery, SaveQuery, TagQuery};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

/// `filters`: dangling, reference, label, before, since.
pub async fn list(
    State(engine): State<Engine>,
    Query(query): Query<FiltersQuery>,
) -> ApiResult<Json<Vec<ImageSummary>>> {
    Ok(Json(
        engine
            .images()
            .find(super::filters(query.filters.as_deref())?)
            .await?,
    ))
}

/// The body is the archive itself (`docker save` tar or OCI archive).
pub async fn load(
    State(engine): State<Engine>,
    Extension(limits): Extension<UploadLimits>,
    body: Body,
) -> Result<Json<Vec<ImageSummary>>, UploadError> {
    let loaded = with_upload(&engine, limits, body, "the uploaded archive", |path| {
        let engine = engine.clone();
        async move { engine.images().load(&path).await }
    })
    .await?;
    Ok(Json(loaded))
}

/// The body is a root file system tarball (plain or gzip).
pub async fn import(
    State(engine): State<Engine>,
    Extension(limits): Extension<UploadLimits>,
    Query(query): Query<ImportQuery>,
    body: Body,
) -> Result<(StatusCode, Json<ImageSummary>), UploadError> {
    let repo = query.repo.filter(|r| !r.is_empty());
    let imported = with_upload(&engine, limits, body, "the uploaded file", |path| {
        let engine = engine.clone();
        async move {
            engine
                .images()
                .import(&path, repo.as_deref(), query.message)
                .await
        }
    })
    .await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

pub async fn tag(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<TagQuery>,
) -> ApiResult<StatusCode> {
    engine.images().tag(&name, &query.target).await?;
    Ok(StatusCode::CREATED)
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<Json<Vec<ImageDeleteRecord>>> {
    Ok(Json(engine.images().remove(&name, query.force).await?))
}

pub async fn prune(
    State(engine): State<Engine>,
    Query(query): Query<PruneQuery>,
) -> ApiResult<Json<ImagePruneReport>> {
    Ok(Json(engine.images().prune(query.all).await?))
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> ApiResult<Json<ImageInspect>> {
    Ok(Json(engine.images().inspect(&name).await?))
}

pub async fn history(
    State(engine): State<Engine>,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    Ok(Json(engine.images().history(&name).await?))
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
    let archive = engine.images().save(&names, format).await?;
    let file = tokio::fs::File::open(archive.path())
        .await
        .map_err(|e| internal(format!("cannot open the saved archive: {e}")))?;
    // The archive (deleted on drop) lives as long as the stream reading it.
    Ok((
        [(header::CONTENT_TYPE, "application/x-tar")],
        super::file_body::body(file, archive),
    )
        .into_response())
}

/// Why an upload failed: the API's usual error, or a size or free-space limit.
pub enum UploadError {
    Api(ApiError),
    Limit(LimitError),
}

impl From<ApiError> for UploadError {
    fn from(err: ApiError) -> Self {
        UploadError::Api(err)
    }
}

impl From<LimitError> for UploadError {
    fn from(err: LimitError) -> Self {
        UploadError::Limit(err)
    }
}

impl IntoResponse for UploadError {
    fn into_response(self) -> Response {
        match self {
            UploadError::Api(err) => err.into_response(),
            UploadError::Limit(err) => err.into_response(),
        }
    }
}

/// Spools an uploaded body to the data root's tmp dir, runs `then` on the file and removes it.
/// Error messages name the upload as `what`, not the daemon's spool path. The body is
/// refused (413, 507) before anything is written if its announced length is over the limit
/// or the free space, and aborted (the spool removed) if it grows past either while read.
async fn with_upload<T, F, Fut>(
    engine: &Engine,
    limits: UploadLimits,
    body: Body,
    what: &str,
    then: F,
) -> Result<T, UploadError>
where
    F: FnOnce(std::path::PathBuf) -> Fut,
    Fut: std::future::Future<Output = berth_engine::Result<T>>,
{
    let dir = engine.system().tmp_dir();
    limits.admit(&dir, body.size_hint().exact())?;
    let upload = tempfile_in(&dir);
    let result = async {
        let mut file = tokio::fs::File::create(&upload)
            .await
            .map_err(|e| internal(format!("cannot create {}: {e}", upload.display())))?;
        let mut stream = body.into_data_stream();
        let (mut received, mut unchecked) = (0u64, 0u64);
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| ApiError::bad_request(format!("upload interrupted: {e}")))?;
            received += chunk.len() as u64;
            unchecked += chunk.len() as u64;
            limits.check_size(received)?;
            if unchecked >= UPLOAD_CHECK_EVERY {
                limits.check_room(&dir, chunk.len() as u64)?;
                unchecked = 0;
            }
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
            UploadError::from(err)
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
