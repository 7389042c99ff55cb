//! Read-only board links for wall screens (`/board/<secret>`): list, create (the address is
//! shown once), revoke.

use super::ApiResult;
use crate::security::principal::Principal;
use crate::security::Security;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::Json;
use berth_wire::auth::{BoardLink, CreateBoardLink, CreatedBoardLink};
use std::time::Duration;

pub async fn list(Extension(security): Extension<Security>) -> ApiResult<Json<Vec<BoardLink>>> {
    Ok(Json(security.engine().auth().board_links().await?))
}

pub async fn create(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
    Json(request): Json<CreateBoardLink>,
) -> ApiResult<(StatusCode, Json<CreatedBoardLink>)> {
    let (secret, info) = security
        .engine()
        .auth()
        .create_board_link(
            &principal.user,
            &request.name,
            request.expires_in_secs.map(Duration::from_secs),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedBoardLink {
            path: format!("/board/{secret}"),
            info,
        }),
    ))
}

pub async fn revoke(
    Extension(security): Extension<Security>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    security.engine().auth().revoke_board_link(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
