//! The dashboard's plain HTML forms, which work without JavaScript: `POST /login`,
//! `POST /setup` (the first admin, with the one-time setup token) and `POST /logout`. Each
//! answers with a 303 to the next page, carrying an error code in the query when it failed.

use crate::api::auth::{auth_code, log_in, login_address, session_principal};
use crate::peer::Peer;
use crate::security::access::{constant_time_eq, percent_encode, Access, BodyKind, RouteTable};
use crate::security::principal::{
    session_clear_cookie, session_cookie, session_set_cookie, Principal,
};
use crate::security::reply::Audited;
use crate::security::{unknown_peer, write_audit, write_audit_named, Security};
use axum::extract::{Extension, Form};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use berth_engine::auth::AuthError;
use berth_wire::ErrorCode;
use serde::Deserialize;

pub fn routes() -> RouteTable<()> {
    RouteTable::new()
        .add(
            Method::POST,
            "/login",
            Access::Public,
            BodyKind::Form,
            login,
        )
        .add(
            Method::POST,
            "/setup",
            Access::Public,
            BodyKind::Form,
            setup,
        )
        .add(
            Method::POST,
            "/logout",
            Access::VIEWER,
            BodyKind::Form,
            logout,
        )
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// Where to go after logging in: a path on this site only (never `//host` or a full URL,
/// which would make the login page an open redirect).
pub fn safe_next(next: &str) -> &str {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control());
    if ok {
        next
    } else {
        "/"
    }
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn error_word(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthorized => "bad_credentials",
        ErrorCode::TooManyRequests => "rate_limited",
        ErrorCode::Forbidden => "forbidden",
        ErrorCode::Conflict => "exists",
        _ => "bad_request",
    }
}

async fn login(
    Extension(security): Extension<Security>,
    peer: Option<Extension<Peer>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let peer = peer.map_or_else(unknown_peer, |p| p.0);
    let next = safe_next(&form.next).to_string();
    let mut response = match log_in(&security, &peer, &form.username, &form.password, 303).await {
        Ok(logged_in) => with_cookie(see_other(&next), &logged_in.set_cookie),
        Err(err) => see_other(&format!(
            "/login?error={}&next={}",
            error_word(auth_code(&err)),
            percent_encode(&next)
        )),
    };
    response.extensions_mut().insert(Audited);
    response
}

#[derive(Deserialize)]
pub struct SetupForm {
    token: String,
    username: String,
    password: String,
    confirm: String,
}

async fn setup(
    Extension(security): Extension<Security>,
    peer: Option<Extension<Peer>>,
    Form(form): Form<SetupForm>,
) -> Response {
    let peer = peer.map_or_else(unknown_peer, |p| p.0);
    let again = |word: &str| {
        see_other(&format!(
            "/setup?token={}&error={word}",
            percent_encode(&form.token)
        ))
    };
    let auth = security.engine().auth();
    let mut response = if !constant_time_eq(form.password.as_bytes(), form.confirm.as_bytes()) {
        again("mismatch")
    } else {
        match auth
            .complete_setup(&form.token, &form.username, &form.password)
            .await
        {
            Ok(user) => match auth
                .login(&user.name, &form.password, login_address(&peer))
                .await
            {
                Ok(new) => {
                    let principal = session_principal(&new);
                    write_audit(
                        &security,
                        &peer,
                        Some(&principal),
                        "setup".into(),
                        Some(user.name.clone()),
                        303,
                    )
                    .await;
                    with_cookie(
                        see_other("/"),
                        &session_set_cookie(&new.secret, security.secure_cookie(&peer)),
                    )
                }
                Err(err) => {
                    tracing::error!("logging in the new admin failed: {err}");
                    see_other("/login")
                }
            },
            Err(err) => {
                let code = auth_code(&err);
                let word = match (&err, auth.has_users().await) {
                    (AuthError::Forbidden(_), Ok(true)) => "exists",
                    _ => error_word(code),
                };
                write_audit_named(
                    &security,
                    &peer,
                    &form.username,
                    "anonymous",
                    "setup".into(),
                    code.status(),
                )
                .await;
                again(word)
            }
        }
    };
    response.extensions_mut().insert(Audited);
    response
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    Extension(security): Extension<Security>,
    Extension(principal): Extension<Principal>,
    peer: Option<Extension<Peer>>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Response {
    let peer = peer.map_or_else(unknown_peer, |p| p.0);
    // A form cannot set headers: the CSRF token comes in the form (OWASP's synchronizer token).
    let expected = principal.csrf.as_deref().unwrap_or_default();
    if !expected.is_empty() && !constant_time_eq(form.csrf.as_bytes(), expected.as_bytes()) {
        return (StatusCode::FORBIDDEN, "missing or wrong CSRF token\n").into_response();
    }
    if let Some(secret) = session_cookie(&headers) {
        if let Err(e) = security.engine().auth().end_session(&secret).await {
            tracing::error!("ending a session failed: {e}");
        }
    }
    with_cookie(
        see_other("/login"),
        &session_clear_cookie(security.secure_cookie(&peer)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/containers/web"), "/containers/web");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "",
            "containers",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad:?}");
        }
    }
}
