//! `POST /api/v1/auth/login` (JSON user name and password → a session cookie and who you are),
//! `POST /api/v1/auth/logout`, `GET /api/v1/auth/me`; and the mapping of the auth store's
//! errors to the API's.

use super::ApiError;
use crate::peer::Peer;
use crate::security::principal::{
    session_clear_cookie, session_cookie, session_set_cookie, Principal,
};
use crate::security::reply::{refuse, Audited};
use crate::security::{unknown_peer, write_audit, write_audit_named, Security};
use axum::extract::Extension;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_engine::auth::{AuthError, NewSession};
use berth_wire::auth::{LoginRequest, Me, PrincipalKind};
use berth_wire::ErrorCode;
use std::net::{IpAddr, Ipv4Addr};

impl From<AuthError> for ApiError {
    fn from(err: AuthError) -> Self {
        let code = auth_code(&err);
        if code == ErrorCode::Internal {
            tracing::error!("{err}");
        }
        ApiError::new(code, err.to_string())
    }
}

/// The API's code for an auth store error.
pub fn auth_code(err: &AuthError) -> ErrorCode {
    match err {
        AuthError::InvalidInput(_) => ErrorCode::BadRequest,
        AuthError::NotFound(_) => ErrorCode::NotFound,
        AuthError::Conflict(_) => ErrorCode::Conflict,
        AuthError::Forbidden(_) => ErrorCode::Forbidden,
        AuthError::BadCredentials => ErrorCode::Unauthorized,
        AuthError::RateLimited { .. } => ErrorCode::TooManyRequests,
        _ => ErrorCode::Internal,
    }
}

/// The address a login is counted against: the TCP peer's, or loopback for the socket.
pub fn login_address(peer: &Peer) -> IpAddr {
    peer.ip().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The principal a new session stands for.
pub fn session_principal(new: &NewSession) -> Principal {
    Principal {
        kind: PrincipalKind::Session,
        user: new.session.user.clone(),
        role: new.session.role,
        token_id: None,
        csrf: Some(new.session.csrf_token.clone()),
        expires_at_ms: Some(new.session.expires_at_ms),
    }
}

/// A successful login: the session's principal and the `Set-Cookie` value that stores it.
pub struct LoggedIn {
    pub principal: Principal,
    pub set_cookie: String,
}

/// Checks a user name and password (rate-limited by the store) and starts a session; the
/// attempt is written to the audit log as `login` with `ok_status` or the refusal's status.
pub async fn log_in(
    security: &Security,
    peer: &Peer,
    username: &str,
    password: &str,
    ok_status: u16,
) -> Result<LoggedIn, AuthError> {
    let auth = security.engine().auth();
    match auth.login(username, password, login_address(peer)).await {
        Ok(new) => {
            let principal = session_principal(&new);
            write_audit(
                security,
                peer,
                Some(&principal),
                "login".into(),
                None,
                ok_status,
            )
            .await;
            let set_cookie = session_set_cookie(&new.secret, security.secure_cookie(peer));
            Ok(LoggedIn {
                principal,
                set_cookie,
            })
        }
        Err(err) => {
            let code = auth_code(&err);
            if code == ErrorCode::Internal {
                tracing::error!("login failed: {err}");
            }
            let attempted: String = username.chars().take(64).collect();
            write_audit_named(
                security,
                peer,
                &attempted,
                "anonymous",
                "login".into(),
                code.status(),
            )
            .await;
            Err(err)
        }
    }
}

pub async fn login(
    Extension(security): Extension<Security>,
    peer: Option<Extension<Peer>>,
    Json(request): Json<LoginRequest>,
) -> Response {
    let peer = peer.map_or_else(unknown_peer, |p| p.0);
    let mut response =
        match log_in(&security, &peer, &request.username, &request.password, 200).await {
            Ok(logged_in) => {
                let mut response = Json(logged_in.principal.me()).into_response();
                if let Ok(value) = HeaderValue::from_str(&logged_in.set_cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
                response
            }
            Err(err) => login_refusal(&err),
        };
    response.extensions_mut().insert(Audited);
    response
}

/// The answer to a failed login: 401 without saying whether the name exists, 429 with
/// `Retry-After` when rate limited.
pub fn login_refusal(err: &AuthError) -> Response {
    let code = auth_code(err);
    let mut response = refuse(code, err.to_string());
    if let AuthError::RateLimited { retry_after } = err {
        if let Ok(value) = HeaderValue::from_str(&retry_after.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
    }
    response
}

pub async fn logout(
    Extension(security): Extension<Security>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let peer = peer.map_or_else(unknown_peer, |p| p.0);
    if let Some(secret) = session_cookie(&headers) {
        security.engine().auth().end_session(&secret).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = HeaderValue::from_str(&session_clear_cookie(security.secure_cookie(&peer))) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn me(Extension(principal): Extension<Principal>) -> Json<Me> {
    Json(principal.me())
}
