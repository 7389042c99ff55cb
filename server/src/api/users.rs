//! Users: list, add, remove, change a password (admins, or a user their own), change a role.

use super::{ApiError, ApiResult};
use crate::security::principal::Principal;
use crate::security::Security;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::Json;
use berth_wire::auth::{CreateUser, SetPassword, SetRole, User};
use berth_wire::{ErrorCode, Role};

pub async fn list(Extension(security): Extension<Security>) -> ApiResult<Json<Vec<User>>> {
    Ok(Json(security.engine().auth().users().await?))
}

pub async fn create(
    Extension(security): Extension<Security>,
    Json(request): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let user = security
        .engine()
        .auth()
        .add_user(&request.name, &request.password, request.role)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

pub async fn remove(
    Extension(security): Extension<Security>,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    security.engine().auth().remove_user(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn set_password(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
    Path(name): Path<String>,
    Json(request): Json<SetPassword>,
) -> ApiResult<StatusCode> {
    if principal.role < Role::Admin && principal.user != name {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "only an admin may change another user's password",
        ));
    }
    security
        .engine()
        .auth()
        .set_password(&name, &request.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn set_role(
    Extension(security): Extension<Security>,
    Path(name): Path<String>,
    Json(request): Json<SetRole>,
) -> ApiResult<StatusCode> {
    security
        .engine()
        .auth()
        .set_role(&name, request.role)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
