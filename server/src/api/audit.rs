//! `GET /api/v1/audit?limit=&before=&since=`: the audit log for admins, newest first, a page
//! at a time.

use super::ApiResult;
use crate::security::Security;
use axum::extract::{Extension, Query};
use axum::Json;
use berth_engine::auth::AuditQuery;
use berth_wire::auth::AuditPage;
use berth_wire::auth::AuditPageQuery;

pub async fn list(
    Extension(security): Extension<Security>,
    Query(query): Query<AuditPageQuery>,
) -> ApiResult<Json<AuditPage>> {
    let page = security
        .engine()
        .auth()
        .audit(AuditQuery {
            before: query.before,
            limit: query.limit.unwrap_or(100).clamp(1, 1000),
            since_ms: query.since,
        })
        .await?;
    Ok(Json(page))
}
