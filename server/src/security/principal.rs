//! Who is asking: the unix socket's root, an API token, a browser session, or nobody; found
//! from the connection, the `Authorization` header and the session cookie, in that order.

use crate::peer::Peer;
use axum::http::{header, HeaderMap};
use berth_engine::auth::{Auth, AuthError, ROOT};
use berth_wire::auth::{Me, PrincipalKind};
use berth_wire::Role;

/// The session cookie's name. Not `__Host-` prefixed: that needs `Secure`, which plain-HTTP
/// loopback use cannot set.
pub const SESSION_COOKIE: &str = "berth_session";

/// The header a cookie session sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: PrincipalKind,
    /// The user name: a token's owner, `root` on the socket.
    pub user: String,
    pub role: Role,
    pub token_id: Option<String>,
    /// A cookie session's CSRF token.
    pub csrf: Option<String>,
    pub expires_at_ms: Option<i64>,
}

impl Principal {
    pub fn me(&self) -> Me {
        Me {
            username: self.user.clone(),
            role: self.role,
            kind: self.kind,
            csrf_token: self.csrf.clone(),
            expires_at_ms: self.expires_at_ms,
        }
    }

    pub fn root() -> Principal {
        Principal {
            kind: PrincipalKind::Socket,
            user: ROOT.to_string(),
            role: Role::Admin,
            token_id: None,
            csrf: None,
            expires_at_ms: None,
        }
    }

    /// How the audit log names the kind.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Session => "session",
            PrincipalKind::Token => "token",
            PrincipalKind::Socket => "socket",
            PrincipalKind::Board => "board",
        }
    }
}

/// Why a request could not be authenticated at all (as opposed to: it is anonymous).
#[derive(Debug)]
pub enum Refusal {
    /// An `Authorization` header that is not a valid, live token.
    BadToken,
    Store(AuthError),
}

/// What authentication found.
pub struct Found {
    pub principal: Option<Principal>,
    /// The request carried a session cookie that is no longer valid: clear it.
    pub stale_cookie: bool,
}

pub async fn authenticate(auth: &Auth, peer: &Peer, headers: &HeaderMap) -> Result<Found, Refusal> {
    if peer.is_unix() {
        return Ok(Found {
            principal: Some(Principal::root()),
            stale_cookie: false,
        });
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, rest) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            })
            .filter(|s| !s.is_empty())
            .ok_or(Refusal::BadToken)?;
        let token = auth.token(secret).await.map_err(Refusal::Store)?;
        let token = token.ok_or(Refusal::BadToken)?;
        return Ok(Found {
            principal: Some(Principal {
                kind: PrincipalKind::Token,
                user: token.owner,
                role: token.role,
                token_id: Some(token.id),
                csrf: None,
                expires_at_ms: token.expires_at_ms,
            }),
            stale_cookie: false,
        });
    }
    let Some(secret) = session_cookie(headers) else {
        return Ok(Found {
            principal: None,
            stale_cookie: false,
        });
    };
    match auth.session(&secret).await.map_err(Refusal::Store)? {
        Some(session) => Ok(Found {
            principal: Some(Principal {
                kind: PrincipalKind::Session,
                user: session.user,
                role: session.role,
                token_id: None,
                csrf: Some(session.csrf_token),
                expires_at_ms: Some(session.expires_at_ms),
            }),
            stale_cookie: false,
        }),
        None => Ok(Found {
            principal: None,
            stale_cookie: true,
        }),
    }
}

/// The session cookie's value, from any `Cookie` header (RFC 6265 §5.4).
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// The `Set-Cookie` value that stores a new session: HttpOnly (scripts cannot read it),
/// SameSite=Lax (other sites' subrequests do not carry it), Secure under TLS, and no
/// Max-Age: a non-persistent cookie that the browser drops when it closes, while the server
/// ends the session on its idle and absolute timeouts (OWASP Session Management Cheat Sheet,
/// "Cookies" and "Session Expiration").
pub fn session_set_cookie(secret: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn session_clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; berth_session=abc; b=2"),
        );
        assert_eq!(session_cookie(&headers).as_deref(), Some("abc"));
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("xberth_session=abc"),
        );
        assert_eq!(session_cookie(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site() {
        let cookie = session_set_cookie("s", true);
        assert_eq!(
            cookie,
            "berth_session=s; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(!session_set_cookie("s", false).contains("Secure"));
        assert!(session_clear_cookie(false).contains("Max-Age=0"));
    }
}
