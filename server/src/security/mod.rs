//! The security layer in front of every route over TCP and the unix socket: the Host
//! allow-list and cross-site checks (before routing), authentication (the socket's root, an API
//! token or a session cookie), and the audit line of every state change (after the answer).
//! Per-route roles, content types and CSRF tokens are enforced by [`access::require`], which
//! [`access::RouteTable`] puts on every route it registers.

pub mod access;
pub mod host;
pub mod origin;
pub mod principal;
pub mod reply;

#[cfg(test)]
mod crosssite;
#[cfg(test)]
mod matrix;

use crate::peer::Peer;
use access::is_unsafe;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use berth_engine::auth::NewAuditEntry;
use berth_engine::Engine;
use berth_wire::ErrorCode;
use host::AllowedHosts;
use principal::{authenticate, session_clear_cookie, Principal, Refusal};
use reply::{refuse, AuditInfo, Audited};
use std::sync::Arc;

/// What the admin configured about the daemon's public face.
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    /// Host names (or addresses) besides the loopback ones that requests may name.
    pub allowed_hosts: Vec<String>,
    /// Origins the dashboard is reached at (`https://berth.example.org`), from `--public-url`.
    pub public_origins: Vec<String>,
    /// Mark cookies `Secure` even when the daemon itself speaks plain HTTP (TLS ends at a proxy).
    pub secure_cookies: bool,
}

/// The security layer's state: the engine (its auth store) and the configuration.
#[derive(Clone)]
pub struct Security {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    hosts: AllowedHosts,
    public_origins: Vec<String>,
    secure_cookies: bool,
}

impl Security {
    pub fn new(engine: Engine, config: SecurityConfig) -> Security {
        let names = config
            .allowed_hosts
            .iter()
            .cloned()
            .chain(
                config
                    .public_origins
                    .iter()
                    .filter_map(|o| o.split_once("://").map(|(_, rest)| rest.to_string()))
                    .filter_map(|authority| {
                        host::host_name(authority.split('/').next().unwrap_or_default())
                    }),
            )
            .collect::<Vec<_>>();
        Security {
            inner: Arc::new(Inner {
                engine,
                hosts: AllowedHosts::new(names),
                public_origins: config.public_origins,
                secure_cookies: config.secure_cookies,
            }),
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Whether a cookie set in answer to a request from `peer` gets `Secure`.
    pub fn secure_cookie(&self, peer: &Peer) -> bool {
        self.inner.secure_cookies || peer.is_tls()
    }
}

/// The peer of a request: the listeners insert it; a request without one (a router driven
/// directly, in tests) counts as an unauthenticated TCP client.
pub fn peer_of(req: &Request) -> Peer {
    req.extensions()
        .get::<Peer>()
        .copied()
        .unwrap_or_else(unknown_peer)
}

/// The peer of a request that came with none.
pub fn unknown_peer() -> Peer {
    Peer::Tcp {
        addr: std::net::SocketAddr::from(([0, 0, 0, 0], 0)),
        tls: false,
    }
}

fn is_upgrade(req: &Request) -> bool {
    req.headers().contains_key(header::UPGRADE)
}

/// The layer itself (`axum::middleware::from_fn_with_state(security, guard)`).
pub async fn guard(State(security): State<Security>, mut req: Request, next: Next) -> Response {
    let peer = peer_of(&req);
    let changes_state = is_unsafe(req.method()) || is_upgrade(&req);
    if !peer.is_unix() {
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| req.uri().authority().map(|a| a.to_string()));
        if !host
            .as_deref()
            .is_some_and(|h| security.inner.hosts.allows(h))
        {
            return refuse(
                ErrorCode::MisdirectedRequest,
                format!(
                    "this daemon does not answer to the host {:?}; add it with --public-url or --allowed-host",
                    host.unwrap_or_default()
                ),
            );
        }
        if changes_state {
            let verdict = {
                let header_text =
                    |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
                origin::check(
                    header_text("origin"),
                    header_text("sec-fetch-site"),
                    host.as_deref(),
                    peer.is_tls(),
                    &security.inner.public_origins,
                )
            };
            if let Err(cross) = verdict {
                let response = refuse(ErrorCode::Forbidden, cross.to_string());
                let action = route_text(&req);
                write_audit(&security, &peer, None, action, None, 403).await;
                return response;
            }
        }
    }
    let found = match authenticate(security.engine().auth(), &peer, req.headers()).await {
        Ok(found) => found,
        Err(Refusal::BadToken) => {
            let mut response = refuse(
                ErrorCode::Unauthorized,
                "the API token is invalid, expired or revoked",
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"berth\", error=\"invalid_token\""),
            );
            if changes_state {
                let action = route_text(&req);
                write_audit(&security, &peer, None, action, None, 401).await;
            }
            return response;
        }
        Err(Refusal::Store(e)) => {
            tracing::error!("authentication failed: {e}");
            return refuse(ErrorCode::Internal, "authentication is not available");
        }
    };
    if let Some(principal) = &found.principal {
        req.extensions_mut().insert(principal.clone());
        req.extensions_mut().insert(principal.me());
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut response = next.run(req).await;
    if found.stale_cookie {
        if let Ok(value) =
            HeaderValue::from_str(&session_clear_cookie(security.secure_cookie(&peer)))
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    if changes_state && response.extensions().get::<Audited>().is_none() {
        let info = response.extensions().get::<AuditInfo>().cloned();
        let action = info
            .as_ref()
            .and_then(|i| i.route.clone())
            .unwrap_or_else(|| format!("{method} {}", truncate(&path, 200)));
        let object = info.and_then(|i| i.object);
        write_audit(
            &security,
            &peer,
            found.principal.as_ref(),
            action,
            object,
            response.status().as_u16(),
        )
        .await;
    }
    response
}

/// How the audit log names a request refused before routing.
fn route_text(req: &Request) -> String {
    format!("{} {}", req.method(), truncate(req.uri().path(), 200))
}

/// Writes one audit line; a failure is logged, never shown to the caller.
pub async fn write_audit(
    security: &Security,
    peer: &Peer,
    principal: Option<&Principal>,
    action: String,
    object: Option<String>,
    status: u16,
) {
    let entry = NewAuditEntry {
        actor: principal.map(|p| p.user.clone()).unwrap_or_default(),
        actor_kind: principal
            .map_or("anonymous", Principal::kind_name)
            .to_string(),
        token_id: principal.and_then(|p| p.token_id.clone()),
        peer: peer.describe(),
        action,
        object: object.map(|o| truncate(&o, 200).to_string()),
        status,
    };
    if let Err(e) = security.engine().auth().record(entry).await {
        tracing::error!("cannot write the audit log: {e}");
    }
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Writes one audit line for an actor that is not (yet) a principal: a failed login or setup.
pub async fn write_audit_named(
    security: &Security,
    peer: &Peer,
    actor: &str,
    actor_kind: &str,
    action: String,
    status: u16,
) {
    let entry = NewAuditEntry {
        actor: actor.to_string(),
        actor_kind: actor_kind.to_string(),
        token_id: None,
        peer: peer.describe(),
        action,
        object: None,
        status,
    };
    if let Err(e) = security.engine().auth().record(entry).await {
        tracing::error!("cannot write the audit log: {e}");
    }
}
