//! Every route's policy, declared where the route is registered: who may call it (its
//! [`Access`]) and what body it takes ([`BodyKind`]). [`RouteTable`] registers a handler only
//! together with its policy, so no route can exist without one, and keeps the list that the
//! permission-matrix test reads. [`require`] enforces a policy after routing: authentication,
//! role, content type and, for cookie sessions, the CSRF token.

use super::principal::{Principal, CSRF_HEADER};
use super::reply::{refuse, AuditInfo};
use axum::extract::{DefaultBodyLimit, MatchedPath, RawPathParams, Request};
use axum::handler::Handler;
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{on, MethodFilter};
use axum::{RequestExt, Router};
use berth_wire::auth::PrincipalKind;
use berth_wire::{ErrorCode, Role};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Anyone, logged in or not: login, setup, health, static files.
    Public,
    /// At least this role.
    Role(Role),
}

impl Access {
    pub const VIEWER: Access = Access::Role(Role::Viewer);
    pub const OPERATOR: Access = Access::Role(Role::Operator);
    pub const ADMIN: Access = Access::Role(Role::Admin);
}

/// What a route takes as its request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Nothing (parameters in the address); a body, if any, must be JSON.
    None,
    /// `application/json`.
    Json,
    /// A stream of bytes (an image archive): anything but the content types an HTML form or a
    /// no-cors `fetch` may send without a preflight.
    Stream,
    /// An HTML form (`application/x-www-form-urlencoded`); its handler checks the CSRF token
    /// from the form itself.
    Form,
}

/// One route as the permission matrix sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteEntry {
    pub method: Method,
    pub path: String,
    pub access: Access,
    pub body: BodyKind,
}

/// A policy as the enforcing layer gets it.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub access: Access,
    pub body: BodyKind,
}

/// A router that can only be given routes together with their policies.
pub struct RouteTable<S> {
    router: Router<S>,
    entries: Vec<RouteEntry>,
}

impl<S: Clone + Send + Sync + 'static> Default for RouteTable<S> {
    fn default() -> Self {
        RouteTable {
            router: Router::new(),
            entries: Vec::new(),
        }
    }
}

impl<S: Clone + Send + Sync + 'static> RouteTable<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `handler` for `method` at `path`, behind `access` and taking `body`.
    pub fn add<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        access: Access,
        body: BodyKind,
        handler: H,
    ) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = match MethodFilter::try_from(method.clone()) {
            Ok(filter) => filter,
            Err(_) => panic!("route {method} {path}: no such method filter"),
        };
        let policy = Policy { access, body };
        let mut method_router = on(filter, handler).route_layer(axum::middleware::from_fn(
            move |req: Request, next: Next| require(policy, req, next),
        ));
        if body == BodyKind::Stream {
            // Uploads count their own bytes against their own limit and the free space
            // (`transport::limits::UploadLimits`), not the default body cap.
            method_router = method_router.layer(DefaultBodyLimit::disable());
        }
        self.router = self.router.route(path, method_router);
        self.entries.push(RouteEntry {
            method,
            path: path.to_string(),
            access,
            body,
        });
        self
    }

    pub fn into_parts(self) -> (Router<S>, Vec<RouteEntry>) {
        (self.router, self.entries)
    }
}

/// Whether a method changes state (RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are safe).
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Enforces `policy` on a routed request (the security layer has put the caller, if any,
/// into its extensions).
pub async fn require(policy: Policy, mut req: Request, next: Next) -> Response {
    let object = req
        .extract_parts::<RawPathParams>()
        .await
        .ok()
        .and_then(|params| params.iter().next().map(|(_, v)| v.to_string()));
    let principal = req.extensions().get::<Principal>().cloned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| format!("{} {}", req.method(), p.as_str()));
    let info = AuditInfo { route, object };
    if let Some(refused) = decide(policy, principal.as_ref(), &req) {
        let mut response = refused;
        response.extensions_mut().insert(info);
        return response;
    }
    let mut response = next.run(req).await;
    response.extensions_mut().insert(info);
    response
}

fn decide(policy: Policy, principal: Option<&Principal>, req: &Request) -> Option<Response> {
    if let Access::Role(needed) = policy.access {
        let Some(principal) = principal else {
            return Some(unauthenticated(req));
        };
        if principal.role < needed {
            return Some(refuse(
                ErrorCode::Forbidden,
                format!(
                    "this needs the {needed} role; {} is a {}",
                    principal.user, principal.role
                ),
            ));
        }
    }
    if is_unsafe(req.method()) {
        if let Some(refused) = content_type(policy.body, req) {
            return Some(refused);
        }
        // Public routes (logging in) are guarded by the Origin check alone; forms carry their
        // token in the body, checked by their handler.
        let session = principal.filter(|p| p.kind == PrincipalKind::Session);
        let needs_token = policy.access != Access::Public && policy.body != BodyKind::Form;
        if let (Some(session), true) = (session, needs_token) {
            let sent = req
                .headers()
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let expected = session.csrf.as_deref().unwrap_or_default();
            if expected.is_empty() || !constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
                return Some(refuse(
                    ErrorCode::Forbidden,
                    "missing or wrong CSRF token: send the session's token in X-CSRF-Token",
                ));
            }
        }
    }
    None
}

/// An anonymous caller: a browser asking for a page goes to the login page; anything else
/// gets 401.
fn unauthenticated(req: &Request) -> Response {
    let wants_page = req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
        && !req.uri().path().starts_with("/api/")
        && !req.uri().path().starts_with("/ui/fn/");
    if wants_page {
        let next = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        return Redirect::to(&format!("/login?next={}", percent_encode(next))).into_response();
    }
    let mut response = refuse(
        ErrorCode::Unauthorized,
        "log in first, or send an API token (Authorization: Bearer …)",
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer realm=\"berth\""),
    );
    response
}

fn content_type(body: BodyKind, req: &Request) -> Option<Response> {
    let value = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    let ok = match (body, value.as_deref()) {
        (BodyKind::None | BodyKind::Json | BodyKind::Stream, None) => true,
        (BodyKind::None | BodyKind::Json, Some(t)) => t == "application/json",
        (BodyKind::Stream, Some(t)) => !matches!(
            t,
            "text/plain" | "multipart/form-data" | "application/x-www-form-urlencoded"
        ),
        (BodyKind::Form, t) => t == Some("application/x-www-form-urlencoded"),
    };
    if ok {
        return None;
    }
    let wanted = match body {
        BodyKind::None | BodyKind::Json => "application/json",
        BodyKind::Stream => "an archive (application/x-tar, application/octet-stream …)",
        BodyKind::Form => "application/x-www-form-urlencoded",
    };
    let mut response = refuse(
        ErrorCode::UnsupportedMediaType,
        format!(
            "this route takes {wanted}, not {}",
            value.as_deref().unwrap_or("an untyped body")
        ),
    );
    *response.status_mut() = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    Some(response)
}

/// Compares two secrets without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Percent-encodes a query value (RFC 3986 unreserved characters and `/` kept).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn next_addresses_are_encoded() {
        assert_eq!(
            percent_encode("/containers?all=1&x"),
            "/containers%3Fall%3D1%26x"
        );
    }
}
