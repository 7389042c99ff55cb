//! Registry endpoints: `POST /images/pull` streams the pull's progress as newline-delimited
//! JSON (docker's `/images/create` messages, then a `{"result": …}` or `{"error": …}` line);
//! login and logout check and store, or forget, a registry's credentials. Passwords are
//! never logged or returned.

use super::{ApiError, ApiResult};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::Response;
use axum::Json;
use berth_engine::image::compress::{LayerCompression, UnknownCompression};
use berth_engine::image::registry::browse::Page;
use berth_engine::image::registry::{JsonMessage, PullEvent};
use berth_engine::Engine;
use berth_wire::image::{ProgressEnd, PullQuery, PushQuery};
use berth_wire::registry::{LoginRequest, LoginResponse, LogoutRequest, PageQuery};
use futures::StreamExt;
use serde::Serialize;

pub async fn pull(State(engine): State<Engine>, Query(query): Query<PullQuery>) -> Response {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<PullEvent>();
    // The pull runs on its own task: a client that disconnects does not cancel it.
    let task = tokio::spawn(async move {
        engine
            .images()
            .pull(&query.reference, query.platform.as_deref(), Some(tx))
            .await
    });
    progress_stream(rx, |e| e.to_message(), task, "pull")
}

/// `POST /images/{name}/push?tag=&compression=`: streams docker's push messages, then the
/// result. An unknown compression is a 400 before anything is sent.
pub async fn push(
    State(engine): State<Engine>,
    Path(name): Path<String>,
    Query(query): Query<PushQuery>,
) -> ApiResult<Response> {
    let compression: LayerCompression = match query.compression.as_deref() {
        None | Some("") => LayerCompression::default(),
        Some(name) => name
            .parse()
            .map_err(|e: UnknownCompression| ApiError::bad_request(e.to_string()))?,
    };
    let reference = match query.tag.filter(|t| !t.is_empty()) {
        Some(tag) => format!("{name}:{tag}"),
        None => name,
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<JsonMessage>();
    let task = tokio::spawn(async move {
        engine
            .images()
            .push(&reference, compression, Some(tx))
            .await
    });
    Ok(progress_stream(rx, JsonMessage::clone, task, "push"))
}

/// Newline-delimited JSON: each event as a docker message, then the task's end line.
fn progress_stream<E: Send + 'static, R: Serialize + Send + 'static>(
    rx: tokio::sync::mpsc::UnboundedReceiver<E>,
    to_message: fn(&E) -> JsonMessage,
    task: tokio::task::JoinHandle<berth_engine::Result<R>>,
    verb: &'static str,
) -> Response {
    let events = futures::stream::unfold(rx, move |mut rx| async move {
        let event = rx.recv().await?;
        Some((line(&to_message(&event)), rx))
    });
    let end = futures::stream::once(async move {
        let end = match task.await {
            Ok(Ok(result)) => ProgressEnd {
                result: Some(result),
                error: None,
            },
            Ok(Err(e)) => ProgressEnd {
                result: None,
                error: Some(e.to_string()),
            },
            Err(e) => ProgressEnd {
                result: None,
                error: Some(format!("the {verb} was interrupted: {e}")),
            },
        };
        line(&end)
    });
    let body = events.chain(end).map(Ok::<_, std::convert::Infallible>);
    Response::builder()
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from_stream(body))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn line<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string(value).unwrap_or_else(|e| {
        serde_json::to_string(&JsonMessage {
            error: Some(format!("cannot encode a progress message: {e}")),
            ..Default::default()
        })
        .unwrap_or_default()
    });
    text.push('\n');
    text
}

pub async fn login(
    State(engine): State<Engine>,
    Json(request): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    if request.username.is_empty() || request.password.is_empty() {
        return Err(ApiError::bad_request(
            "a username and a password are required",
        ));
    }
    let registry = engine
        .images()
        .login(&request.registry, &request.username, &request.password)
        .await?;
    Ok(Json(LoginResponse {
        registry,
        status: "Login Succeeded".into(),
    }))
}

pub async fn logout(
    State(engine): State<Engine>,
    Json(request): Json<LogoutRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let removed = engine.images().logout(&request.registry).await?;
    let registry = berth_engine::image::registry::normalize_registry(&request.registry)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let status = if removed {
        format!("Removing login credentials for {registry}")
    } else {
        format!("Not logged in to {registry}")
    };
    Ok(Json(LoginResponse { registry, status }))
}

/// `GET /registries`: the registries with a stored login (names only).
pub async fn list(State(engine): State<Engine>) -> ApiResult<Json<Vec<String>>> {
    Ok(Json(engine.images().logged_in_registries().await?))
}

/// `GET /registries/{host}/catalog?n=&last=`: one page of the registry's repositories.
pub async fn catalog(
    State(engine): State<Engine>,
    Path(host): Path<String>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Page>> {
    Ok(Json(
        engine
            .images()
            .registry_catalog(&host, query.n, query.last.as_deref())
            .await?,
    ))
}

/// `GET /registries/{host}/repositories/{name}/tags?n=&last=`: one page of a repository's
/// tags. The route is a wildcard because `name` contains `/` (raw or as `%2F`).
pub async fn repository(
    State(engine): State<Engine>,
    Path((host, rest)): Path<(String, String)>,
    Query(query): Query<PageQuery>,
) -> ApiResult<Json<Page>> {
    let Some(name) = rest.strip_suffix("/tags") else {
        return Err(ApiError::new(
            berth_wire::ErrorCode::NotFound,
            format!("no such endpoint: /registries/{host}/repositories/{rest}"),
        ));
    };
    Ok(Json(
        engine
            .images()
            .registry_tags(&host, name, query.n, query.last.as_deref())
            .await?,
    ))
}
