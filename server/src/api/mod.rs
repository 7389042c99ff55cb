//! The HTTP API (`/api/v1/...`) that the CLI and the dashboard use: a thin adapter that parses
//! requests, calls the engine and renders JSON, streams or WebSockets.

mod attach;
mod containers;
mod events;
mod exec;
mod images;
pub(crate) mod logs;
mod logs_ws;
mod networks;
mod registry;
mod system;
mod volumes;

pub use containers::{PruneResponse, WaitResponse};
pub use exec::{ExecCreated, StartBody as ExecStartBody};
pub use networks::{ContainerRef, NetworkPruneResponse};
pub use registry::{LoginResponse, ProgressEnd};
pub use volumes::CreateVolume;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use berth_engine::Engine;
use berth_wire::{ErrorBody, ErrorCode};
use serde::Serialize;

pub fn router(engine: Engine) -> Router {
    Router::new()
        .route("/api/v1/version", get(version))
        .route("/api/v1/events", get(events::events))
        .route("/api/v1/events/ws", get(events::upgrade))
        .route("/api/v1/images", get(images::list))
        .route("/api/v1/images/load", post(images::load))
        .route("/api/v1/images/pull", post(registry::pull))
        .route("/api/v1/registries", get(registry::list))
        .route("/api/v1/registries/login", post(registry::login))
        .route("/api/v1/registries/logout", post(registry::logout))
        .route("/api/v1/registries/{host}/catalog", get(registry::catalog))
        .route(
            "/api/v1/registries/{host}/repositories/{*name}",
            get(registry::repository),
        )
        .route("/api/v1/images/import", post(images::import))
        .route("/api/v1/images/prune", post(images::prune))
        .route("/api/v1/images/get", get(images::save))
        .route("/api/v1/images/{name}", delete(images::remove))
        .route("/api/v1/images/{name}/json", get(images::inspect))
        .route("/api/v1/images/{name}/history", get(images::history))
        .route("/api/v1/images/{name}/tag", post(images::tag))
        .route("/api/v1/images/{name}/push", post(registry::push))
        .route(
            "/api/v1/containers",
            get(containers::list).post(containers::create),
        )
        .route(
            "/api/v1/containers/{id}",
            get(containers::inspect).delete(containers::remove),
        )
        .route("/api/v1/containers/{id}/start", post(containers::start))
        .route("/api/v1/containers/{id}/stop", post(containers::stop))
        .route("/api/v1/containers/{id}/kill", post(containers::kill))
        .route("/api/v1/containers/{id}/restart", post(containers::restart))
        .route("/api/v1/containers/{id}/pause", post(containers::pause))
        .route("/api/v1/containers/{id}/unpause", post(containers::unpause))
        .route("/api/v1/containers/{id}/rename", post(containers::rename))
        .route("/api/v1/containers/prune", post(containers::prune))
        .route("/api/v1/containers/{id}/stats", get(containers::stats))
        .route("/api/v1/containers/{id}/wait", post(containers::wait))
        .route("/api/v1/containers/{id}/logs", get(logs::logs))
        .route(
            "/api/v1/networks",
            get(networks::list).post(networks::create),
        )
        .route(
            "/api/v1/networks/{id}",
            get(networks::inspect).delete(networks::remove),
        )
        .route("/api/v1/networks/prune", post(networks::prune))
        .route("/api/v1/networks/{id}/connect", post(networks::connect))
        .route(
            "/api/v1/networks/{id}/disconnect",
            post(networks::disconnect),
        )
        .route("/api/v1/containers/{id}/attach", post(attach::attach))
        .route("/api/v1/containers/{id}/resize", post(attach::resize))
        .route("/api/v1/containers/{id}/logs/ws", get(logs_ws::upgrade))
        .route("/api/v1/volumes", get(volumes::list).post(volumes::create))
        .route("/api/v1/volumes/prune", post(volumes::prune))
        .route(
            "/api/v1/volumes/{name}",
            get(volumes::inspect).delete(volumes::remove),
        )
        .route("/api/v1/containers/{id}/exec", post(exec::create))
        .route("/api/v1/exec/{id}/start", post(exec::start))
        .route("/api/v1/exec/{id}/resize", post(exec::resize))
        .route("/api/v1/exec/{id}/json", get(exec::inspect))
        .route("/api/v1/system/df", get(system::df))
        .route("/api/v1/system/prune", post(system::prune))
        .route("/api/v1/info", get(system::info))
        .with_state(engine)
}

#[derive(Serialize)]
struct Version {
    version: &'static str,
    api: &'static str,
}

async fn version() -> Json<Version> {
    Json(Version {
        version: env!("CARGO_PKG_VERSION"),
        api: "v1",
    })
}

/// A list's query: docker's JSON `filters` (`{"dangling":["true"]}`).
#[derive(serde::Deserialize)]
pub struct FiltersQuery {
    filters: Option<String>,
}

impl FiltersQuery {
    pub fn filters(&self) -> Result<berth_engine::filters::Filters, ApiError> {
        let text = self.filters.as_deref().unwrap_or_default();
        Ok(berth_engine::filters::Filters::from_json(text)?)
    }
}

/// An error as the API returns it: a status and `{"error":{"code","message"}}`
/// ([`berth_wire::ErrorBody`]); clients decide on the code, never on the message.
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    /// An error with the status that goes with `code`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::from_u16(code.status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Internal, message)
    }
}

impl From<berth_engine::Error> for ApiError {
    fn from(err: berth_engine::Error) -> Self {
        use berth_engine::Error as E;
        let code = match &err {
            E::NotFound { kind: "image", .. } => ErrorCode::NoSuchImage,
            E::NotFound { .. } => ErrorCode::NotFound,
            E::Conflict(_) => ErrorCode::Conflict,
            E::InvalidInput(_) => ErrorCode::BadRequest,
            E::CommandNotFound(_) => ErrorCode::CommandNotFound,
            E::CommandNotExecutable(_) => ErrorCode::CommandNotExecutable,
            E::Image(berth_engine::image::ImageError::Io { .. }) => ErrorCode::Internal,
            E::Image(_) => ErrorCode::BadRequest,
            E::Registry(e) => {
                use berth_engine::image::registry::RegistryError as R;
                match e {
                    R::Unauthorized(_) => ErrorCode::Unauthorized,
                    R::NotFound(_) => ErrorCode::NotFound,
                    R::BadPlatform(_) | R::BadRegistry(_) => ErrorCode::BadRequest,
                    R::Credentials { .. }
                    | R::Image(berth_engine::image::ImageError::Io { .. }) => ErrorCode::Internal,
                    _ => ErrorCode::BadGateway,
                }
            }
            _ => ErrorCode::Internal,
        };
        if code == ErrorCode::Internal {
            tracing::error!("{err}");
        }
        ApiError::new(code, err.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorBody::new(self.code, self.message))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
