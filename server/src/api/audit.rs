//! `GET /api/v1/audit?limit=&before=&since=`: the audit log for admins, newest first, a page
//! at a time.

use super::ApiResult;
use crate::security::Security;
use axum::extract::{Extension, Query};
use axum::Json;
use berth_engine::auth::AuditQuery;
use berth_wire::auth::AuditPage;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// At most this many entries (default 100, at most 1000).
    limit: Option<u32>,
    /// Entries older than this sequence number (the previous page's `next`).
    before: Option<i64>,
    /// Entries from this unix millisecond on.
    since: Option<i64>,
}

pub async fn list(
    Extension(security): Extension<Security>,
    Query(query): Query<ListQuery>,
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
