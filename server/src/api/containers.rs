//! Container endpoints: list, create, inspect, start, stop, kill, wait, remove.

use super::{ApiError, ApiResult};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use berth_engine::container::{ContainerConfig, ContainerSummary, CreateOptions};
use berth_engine::Engine;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Deserialize)]
pub struct ListQuery {
    /// All containers (the default), or only running ones with `all=false`.
    all: Option<bool>,
}

pub async fn list(
    State(engine): State<Engine>,
    Query(query): Query<ListQuery>,
) -> ApiResult<Json<Vec<ContainerSummary>>> {
    Ok(Json(engine.list_containers(query.all.unwrap_or(true)).await?))
}

pub async fn create(
    State(engine): State<Engine>,
    Json(options): Json<CreateOptions>,
) -> ApiResult<(StatusCode, Json<ContainerSummary>)> {
    Ok((StatusCode::CREATED, Json(engine.create(options).await?)))
}

#[derive(Serialize)]
pub struct Inspect {
    #[serde(flatten)]
    summary: ContainerSummary,
    config: ContainerConfig,
}

pub async fn inspect(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<Inspect>> {
    Ok(Json(Inspect {
        summary: engine.container(&id).await?,
        config: engine.container_config(&id).await?,
    }))
}

pub async fn start(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<ContainerSummary>> {
    Ok(Json(engine.start(&id).await?))
}

#[derive(Deserialize)]
pub struct StopQuery {
    /// Seconds to wait after SIGTERM before SIGKILL.
    t: Option<u64>,
}

pub async fn stop(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<StopQuery>,
) -> ApiResult<Json<ContainerSummary>> {
    let grace = query.t.map(Duration::from_secs);
    Ok(Json(engine.stop(&id, grace).await?))
}

#[derive(Deserialize)]
pub struct KillQuery {
    signal: Option<String>,
}

pub async fn kill(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<KillQuery>,
) -> ApiResult<StatusCode> {
    let signal = parse_signal(query.signal.as_deref().unwrap_or("SIGKILL"))?;
    engine.kill(&id, signal).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `KILL`, `SIGKILL` or `9`.
pub fn parse_signal(text: &str) -> ApiResult<nix::sys::signal::Signal> {
    use nix::sys::signal::Signal;
    let invalid = || ApiError::bad_request(format!("invalid signal: {text}"));
    if let Ok(number) = text.parse::<i32>() {
        return Signal::try_from(number).map_err(|_| invalid());
    }
    let upper = text.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    name.parse::<Signal>().map_err(|_| invalid())
}

#[derive(Serialize, Deserialize)]
pub struct WaitResponse {
    pub exit_code: i32,
}

pub async fn wait(
    State(engine): State<Engine>,
    Path(id): Path<String>,
) -> ApiResult<Json<WaitResponse>> {
    Ok(Json(WaitResponse {
        exit_code: engine.wait(&id).await?,
    }))
}

#[derive(Deserialize)]
pub struct RemoveQuery {
    force: Option<bool>,
}

pub async fn remove(
    State(engine): State<Engine>,
    Path(id): Path<String>,
    Query(query): Query<RemoveQuery>,
) -> ApiResult<StatusCode> {
    engine.remove(&id, query.force.unwrap_or(false)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::parse_signal;
    use nix::sys::signal::Signal;

    #[test]
    fn signals_parse_by_name_short_name_and_number() {
        assert_eq!(parse_signal("SIGTERM").ok(), Some(Signal::SIGTERM));
        assert_eq!(parse_signal("hup").ok(), Some(Signal::SIGHUP));
        assert_eq!(parse_signal("9").ok(), Some(Signal::SIGKILL));
        assert!(parse_signal("SIGNOPE").is_err());
        assert!(parse_signal("999").is_err());
    }
}
