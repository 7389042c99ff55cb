//! Image endpoints: list, and load an uploaded archive (`docker save` tar or OCI archive).

use super::{ApiError, ApiResult};
use axum::body::Body;
use axum::extract::State;
use axum::Json;
use berth_engine::{Engine, ImageSummary};
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

pub async fn list(State(engine): State<Engine>) -> ApiResult<Json<Vec<ImageSummary>>> {
    Ok(Json(engine.list_images().await?))
}

/// The body is the archive itself; it is spooled to the data root's tmp dir, then loaded.
pub async fn load(State(engine): State<Engine>, body: Body) -> ApiResult<Json<Vec<ImageSummary>>> {
    let upload = tempfile_in(&engine.tmp_dir())?;
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
        engine.load_images(&upload).await.map_err(|e| {
            // The daemon's spool path means nothing to the client: name the upload instead.
            let mut err = ApiError::from(e);
            err.message = err
                .message
                .replace(&upload.display().to_string(), "the uploaded archive");
            err
        })
    }
    .await;
    let _ = tokio::fs::remove_file(&upload).await;
    Ok(Json(result?))
}

fn tempfile_in(dir: &std::path::Path) -> ApiResult<std::path::PathBuf> {
    let name = format!(
        "upload-{}-{}.tar",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    Ok(dir.join(name))
}

fn internal(message: String) -> ApiError {
    tracing::error!("{message}");
    ApiError {
        status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        message,
    }
}
