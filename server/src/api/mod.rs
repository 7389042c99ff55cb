//! The HTTP API (`/api/v1/...`) that the CLI and the dashboard use: a thin adapter that parses
//! requests, calls the engine and renders JSON, streams or WebSockets.

mod alerts;
mod attach;
mod audit;
pub mod auth;
mod boards;
mod containers;
mod events;
mod exec;
mod file_body;
mod images;
mod list_answers;
pub(crate) mod logs;
mod networks;
mod openapi;
mod registry;
mod system;
mod tokens;
mod users;
mod volumes;
mod ws;
mod ws_close;

use crate::security::access::{Access, BodyKind, RouteTable};
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use berth_engine::Engine;
use berth_wire::system::Version;
use berth_wire::{ErrorBody, ErrorCode};

/// Every API route with its policy (who may call it, what body it takes).
pub fn routes() -> RouteTable<Engine> {
    use BodyKind::{Json as J, None as N, Stream as S};
    use Method as M;
    const V: Access = Access::VIEWER;
    const O: Access = Access::OPERATOR;
    const A: Access = Access::ADMIN;
    const P: Access = Access::Public;
    RouteTable::new()
        .add(M::GET, "/healthz", P, N, healthz)
        .add(M::GET, "/api/v1/version", V, N, version)
        .add(M::POST, "/api/v1/auth/login", P, J, auth::login)
        .add(M::POST, "/api/v1/auth/logout", V, N, auth::logout)
        .add(M::GET, "/api/v1/auth/me", V, N, auth::me)
        .add(M::GET, "/api/v1/users", A, N, users::list)
        .add(M::POST, "/api/v1/users", A, J, users::create)
        .add(M::DELETE, "/api/v1/users/{name}", A, N, users::remove)
        .add(
            M::PUT,
            "/api/v1/users/{name}/password",
            V,
            J,
            users::set_password,
        )
        .add(M::PUT, "/api/v1/users/{name}/role", A, J, users::set_role)
        .add(M::GET, "/api/v1/tokens", V, N, tokens::list)
        .add(M::POST, "/api/v1/tokens", V, J, tokens::create)
        .add(M::DELETE, "/api/v1/tokens/{id}", V, N, tokens::revoke)
        .add(M::GET, "/api/v1/boards", A, N, boards::list)
        .add(M::POST, "/api/v1/boards", A, J, boards::create)
        .add(M::DELETE, "/api/v1/boards/{id}", A, N, boards::revoke)
        .add(M::GET, "/api/v1/boards/{secret}/ws", P, N, boards::live)
        .add(M::GET, "/api/v1/audit", A, N, audit::list)
        .add(M::GET, "/api/v1/alerts/rules", A, N, alerts::list)
        .add(M::POST, "/api/v1/alerts/rules", A, J, alerts::create)
        .add(M::DELETE, "/api/v1/alerts/rules/{id}", A, N, alerts::remove)
        .add(
            M::POST,
            "/api/v1/alerts/rules/{id}/test",
            A,
            N,
            alerts::test,
        )
        .add(
            M::GET,
            "/api/v1/alerts/deliveries",
            A,
            N,
            alerts::deliveries,
        )
        .add(M::GET, "/api/v1/events", V, N, events::events)
        .add(M::GET, "/api/v1/events/ws", V, N, events::upgrade)
        .add(M::GET, "/api/v1/ws", V, N, ws::upgrade)
        .add(M::GET, "/api/v1/images", V, N, images::list)
        .add(M::POST, "/api/v1/images/load", O, S, images::load)
        .add(M::POST, "/api/v1/images/pull", O, N, registry::pull)
        .add(M::GET, "/api/v1/registries", V, N, registry::list)
        .add(M::POST, "/api/v1/registries/login", A, J, registry::login)
        .add(M::POST, "/api/v1/registries/logout", A, J, registry::logout)
        .add(
            M::GET,
            "/api/v1/registries/{host}/catalog",
            V,
            N,
            registry::catalog,
        )
        .add(
            M::GET,
            "/api/v1/registries/{host}/repositories/{*name}",
            V,
            N,
            registry::repository,
        )
        .add(M::POST, "/api/v1/images/import", O, S, images::import)
        .add(M::POST, "/api/v1/images/prune", O, N, images::prune)
        .add(M::GET, "/api/v1/images/get", V, N, images::save)
        .add(M::DELETE, "/api/v1/images/{name}", O, N, images::remove)
        .add(M::GET, "/api/v1/images/{name}/json", V, N, images::inspect)
        .add(
            M::GET,
            "/api/v1/images/{name}/history",
            V,
            N,
            images::history,
        )
        .add(M::POST, "/api/v1/images/{name}/tag", O, N, images::tag)
        .add(M::POST, "/api/v1/images/{name}/push", O, N, registry::push)
        .add(M::GET, "/api/v1/containers", V, N, containers::list)
        .add(M::POST, "/api/v1/containers", O, J, containers::create)
        .add(M::GET, "/api/v1/containers/{id}", V, N, containers::inspect)
        .add(
            M::DELETE,
            "/api/v1/containers/{id}",
            O,
            N,
            containers::remove,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/start",
            O,
            N,
            containers::start,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/stop",
            O,
            N,
            containers::stop,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/kill",
            O,
            N,
            containers::kill,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/restart",
            O,
            N,
            containers::restart,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/pause",
            O,
            N,
            containers::pause,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/unpause",
            O,
            N,
            containers::unpause,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/rename",
            O,
            N,
            containers::rename,
        )
        .add(M::POST, "/api/v1/containers/prune", O, N, containers::prune)
        .add(
            M::GET,
            "/api/v1/containers/{id}/stats",
            V,
            N,
            containers::stats,
        )
        .add(M::GET, "/api/v1/stats", V, N, containers::stats_many)
        .add(
            M::POST,
            "/api/v1/containers/{id}/wait",
            V,
            N,
            containers::wait,
        )
        .add(M::GET, "/api/v1/containers/{id}/logs", V, N, logs::logs)
        .add(
            M::POST,
            "/api/v1/containers/{id}/attach",
            O,
            N,
            attach::attach,
        )
        .add(
            M::POST,
            "/api/v1/containers/{id}/resize",
            O,
            N,
            attach::resize,
        )
        .add(M::POST, "/api/v1/containers/{id}/exec", O, J, exec::create)
        .add(M::GET, "/api/v1/networks", V, N, networks::list)
        .add(M::POST, "/api/v1/networks", O, J, networks::create)
        .add(M::GET, "/api/v1/networks/{id}", V, N, networks::inspect)
        .add(M::DELETE, "/api/v1/networks/{id}", O, N, networks::remove)
        .add(M::POST, "/api/v1/networks/prune", O, N, networks::prune)
        .add(
            M::POST,
            "/api/v1/networks/{id}/connect",
            O,
            J,
            networks::connect,
        )
        .add(
            M::POST,
            "/api/v1/networks/{id}/disconnect",
            O,
            J,
            networks::disconnect,
        )
        .add(M::GET, "/api/v1/volumes", V, N, volumes::list)
        .add(M::POST, "/api/v1/volumes", O, J, volumes::create)
        .add(M::POST, "/api/v1/volumes/prune", O, N, volumes::prune)
        .add(M::GET, "/api/v1/volumes/{name}", V, N, volumes::inspect)
        .add(M::DELETE, "/api/v1/volumes/{name}", O, N, volumes::remove)
        // A volume's files may hold secrets (a database's): operators read them, not viewers.
        .add(
            M::GET,
            "/api/v1/volumes/{name}/ls",
            O,
            N,
            volumes::list_files,
        )
        .add(
            M::GET,
            "/api/v1/volumes/{name}/file",
            O,
            N,
            volumes::download,
        )
        .add(M::POST, "/api/v1/exec/{id}/start", O, J, exec::start)
        .add(M::POST, "/api/v1/exec/{id}/resize", O, N, exec::resize)
        .add(M::GET, "/api/v1/exec/{id}/json", V, N, exec::inspect)
        .add(M::GET, "/api/v1/system/df", V, N, system::df)
        .add(M::POST, "/api/v1/system/prune", O, N, system::prune)
        .add(M::GET, "/api/v1/info", V, N, system::info)
        .add(M::GET, "/metrics", V, N, crate::metrics::scrape)
        .add(M::GET, "/api/v1/openapi.json", V, N, openapi::serve)
}

pub fn router(engine: Engine) -> Router {
    let (router, entries) = routes().into_parts();
    router
        .with_state(engine)
        .layer(axum::Extension(openapi::Served::new(&entries)))
        .layer(axum::Extension(std::sync::Arc::new(
            list_answers::ListAnswers::default(),
        )))
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn version() -> Json<Version> {
    Json(Version {
        version: env!("CARGO_PKG_VERSION").to_string(),
        api: "v1".to_string(),
    })
}

/// A list's docker-style JSON `filters` (`{"dangling":["true"]}`, the `filters` of
/// `berth_wire::filters::FiltersQuery` and of the per-list queries), parsed; none is no filter.
pub fn filters(text: Option<&str>) -> Result<berth_engine::filters::Filters, ApiError> {
    Ok(berth_engine::filters::Filters::from_json(
        text.unwrap_or_default(),
    )?)
}

/// An error as the API returns it: the code's status and the one error body
/// `{"error": {"code": "not_found", "message": "…"}}` (`berth_wire::ErrorBody`).
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// The error as the inside of an error body (or of a stream's end).
    pub fn detail(self) -> berth_wire::ErrorDetail {
        berth_wire::ErrorDetail {
            code: self.code,
            message: self.message,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::BadRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(ErrorCode::Internal, message)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
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
            E::Alert(berth_engine::alerts::AlertError::Client(_)) => ErrorCode::Internal,
            E::Alert(_) => ErrorCode::BadRequest,
            E::Image(_) => ErrorCode::BadRequest,
            E::Registry(e) => {
                use berth_engine::image::registry::RegistryError as R;
                match e {
                    R::Unauthorized(_) => ErrorCode::Unauthorized,
                    R::NotFound(_) => ErrorCode::NotFound,
                    R::BadPlatform(_) | R::BadRegistry(_) => ErrorCode::BadRequest,
                    R::Credentials { .. }
                    | R::Interrupted(_)
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
        (self.status(), Json(ErrorBody::new(self.code, self.message))).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
