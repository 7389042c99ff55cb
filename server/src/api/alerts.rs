//! Alert rules and their delivery log, for admins: list, add, remove, send a test, read the
//! log (`/api/v1/alerts/...`).

use super::{ApiError, ApiResult};
use crate::security::Security;
use axum::extract::{Extension, Path, Query};
use axum::http::StatusCode;
use axum::Json;
use berth_wire::alert::{
    AlertAttempt, AlertDeliveriesQuery, AlertRule, AlertTestResult, CreateAlertRule,
};

pub async fn list(Extension(security): Extension<Security>) -> ApiResult<Json<Vec<AlertRule>>> {
    Ok(Json(security.engine().alerts().rules().await?))
}

pub async fn create(
    Extension(security): Extension<Security>,
    Json(request): Json<CreateAlertRule>,
) -> ApiResult<(StatusCode, Json<AlertRule>)> {
    let rule = security.engine().alerts().add_rule(&request).await?;
    Ok((StatusCode::CREATED, Json(rule)))
}

pub async fn remove(
    Extension(security): Extension<Security>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    security
        .engine()
        .alerts()
        .remove_rule(rule_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn test(
    Extension(security): Extension<Security>,
    Path(id): Path<String>,
) -> ApiResult<Json<AlertTestResult>> {
    Ok(Json(
        security.engine().alerts().test_rule(rule_id(&id)?).await?,
    ))
}

pub async fn deliveries(
    Extension(security): Extension<Security>,
    Query(query): Query<AlertDeliveriesQuery>,
) -> ApiResult<Json<Vec<AlertAttempt>>> {
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(security.engine().alerts().deliveries(limit).await?))
}

/// A rule's id from the address: a number.
fn rule_id(text: &str) -> ApiResult<i64> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("invalid alert rule id {text:?}: a number")))
}
