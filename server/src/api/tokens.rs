//! API tokens: list (one's own; an admin's: all), create (shown once, a role no higher than the
//! creator's), revoke (one's own; an admin: any).

use super::{ApiError, ApiResult};
use crate::security::principal::Principal;
use crate::security::Security;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::Json;
use berth_wire::auth::{CreateToken, CreatedToken, Token};
use berth_wire::{ErrorCode, Role};
use std::time::Duration;

pub async fn list(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
) -> ApiResult<Json<Vec<Token>>> {
    let owner = (principal.role < Role::Admin).then_some(principal.user.as_str());
    Ok(Json(security.engine().auth().tokens(owner).await?))
}

pub async fn create(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
    Json(request): Json<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let (token, info) = security
        .engine()
        .auth()
        .create_token(
            &principal.user,
            principal.role,
            &request.name,
            request.role,
            request.expires_in_secs.map(Duration::from_secs),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, info })))
}

pub async fn revoke(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let auth = security.engine().auth();
    if principal.role < Role::Admin {
        let own = auth.tokens(Some(&principal.user)).await?;
        if !own.iter().any(|t| t.id == id) {
            return Err(ApiError::new(
                ErrorCode::NotFound,
                format!("no such token of {}: {id}", principal.user),
            ));
        }
    }
    auth.revoke_token(&id).await?;
    Ok(StatusCode::NO_CONTENT)
}
