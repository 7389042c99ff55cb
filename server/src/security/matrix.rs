//! The permission matrix, generated from the route table: every route × every kind of caller
//! (anonymous, each role by session and by token, a revoked token, an ended session) gets the
//! status its policy promises. The expected policies are written out below, so a route added
//! without a line here fails the test, and so does a policy changed by accident.

use super::access::{Access, BodyKind, RouteEntry};
use super::{Security, SecurityConfig};
use crate::peer::Peer;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use berth_engine::Engine;
use berth_wire::Role;
use tower::ServiceExt;

/// Every route and who may call it. Keep it sorted by path as the router lists them.
const EXPECTED: &str = "
GET /healthz public
GET /api/v1/version viewer
POST /api/v1/auth/login public
POST /api/v1/auth/logout viewer
GET /api/v1/auth/me viewer
GET /api/v1/users admin
POST /api/v1/users admin
DELETE /api/v1/users/{name} admin
PUT /api/v1/users/{name}/password viewer
PUT /api/v1/users/{name}/role admin
GET /api/v1/tokens viewer
POST /api/v1/tokens viewer
DELETE /api/v1/tokens/{id} viewer
GET /api/v1/boards admin
POST /api/v1/boards admin
DELETE /api/v1/boards/{id} admin
GET /api/v1/boards/{secret}/ws public
GET /api/v1/audit admin
GET /api/v1/alerts/rules admin
POST /api/v1/alerts/rules admin
DELETE /api/v1/alerts/rules/{id} admin
POST /api/v1/alerts/rules/{id}/test admin
GET /api/v1/alerts/deliveries admin
GET /api/v1/events viewer
GET /api/v1/events/ws viewer
GET /api/v1/ws viewer
GET /api/v1/images viewer
POST /api/v1/images/load operator
POST /api/v1/images/pull operator
GET /api/v1/registries viewer
POST /api/v1/registries/login admin
POST /api/v1/registries/logout admin
GET /api/v1/registries/{host}/catalog viewer
GET /api/v1/registries/{host}/repositories/{*name} viewer
POST /api/v1/images/import operator
POST /api/v1/images/prune operator
GET /api/v1/images/get viewer
DELETE /api/v1/images/{name} operator
GET /api/v1/images/{name}/json viewer
GET /api/v1/images/{name}/history viewer
POST /api/v1/images/{name}/tag operator
POST /api/v1/images/{name}/push operator
GET /api/v1/containers viewer
POST /api/v1/containers operator
GET /api/v1/containers/{id} viewer
DELETE /api/v1/containers/{id} operator
POST /api/v1/containers/{id}/start operator
POST /api/v1/containers/{id}/stop operator
POST /api/v1/containers/{id}/kill operator
POST /api/v1/containers/{id}/restart operator
POST /api/v1/containers/{id}/pause operator
POST /api/v1/containers/{id}/unpause operator
POST /api/v1/containers/{id}/rename operator
POST /api/v1/containers/prune operator
GET /api/v1/containers/{id}/stats viewer
GET /api/v1/stats viewer
POST /api/v1/containers/{id}/wait viewer
GET /api/v1/containers/{id}/logs viewer
POST /api/v1/containers/{id}/attach operator
POST /api/v1/containers/{id}/resize operator
POST /api/v1/containers/{id}/exec operator
GET /api/v1/networks viewer
POST /api/v1/networks operator
GET /api/v1/networks/{id} viewer
DELETE /api/v1/networks/{id} operator
POST /api/v1/networks/prune operator
POST /api/v1/networks/{id}/connect operator
POST /api/v1/networks/{id}/disconnect operator
GET /api/v1/volumes viewer
POST /api/v1/volumes operator
POST /api/v1/volumes/prune operator
GET /api/v1/volumes/{name} viewer
DELETE /api/v1/volumes/{name} operator
GET /api/v1/volumes/{name}/ls operator
GET /api/v1/volumes/{name}/file operator
POST /api/v1/exec/{id}/start operator
POST /api/v1/exec/{id}/resize operator
GET /api/v1/exec/{id}/json viewer
GET /api/v1/system/df viewer
POST /api/v1/system/prune operator
GET /api/v1/info viewer
GET /metrics viewer
GET /api/v1/openapi.json viewer
POST /login public
POST /setup public
POST /logout viewer
PAGES
";

fn access_word(access: Access) -> &'static str {
    match access {
        Access::Public => "public",
        Access::Role(role) => role.as_str(),
    }
}

/// A caller of the matrix.
#[derive(Debug, Clone)]
struct Caller {
    name: &'static str,
    /// The role a request is judged by; None: it must be treated as anonymous.
    role: Option<Role>,
    user: String,
    cookie: Option<String>,
    csrf: Option<String>,
    bearer: Option<String>,
    /// A token that is no longer valid: refused before routing.
    dead_token: bool,
}

async fn engine(dir: &tempfile::TempDir) -> Engine {
    crate::testing::engine(dir).await
}

const PASSWORD: &str = "correct horse battery";

async fn session_caller(engine: &Engine, name: &'static str, user: &str, role: Role) -> Caller {
    let new = engine
        .auth()
        .login(user, PASSWORD, "127.0.0.1".parse().unwrap())
        .await
        .expect("login");
    Caller {
        name,
        role: Some(role),
        user: user.to_string(),
        cookie: Some(new.secret),
        csrf: Some(new.session.csrf_token),
        bearer: None,
        dead_token: false,
    }
}

async fn token_caller(
    engine: &Engine,
    name: &'static str,
    owner: &str,
    owner_role: Role,
    role: Role,
) -> Caller {
    let (secret, _) = engine
        .auth()
        .create_token(owner, owner_role, name, Some(role), None)
        .await
        .expect("token");
    Caller {
        name,
        role: Some(role),
        user: owner.to_string(),
        cookie: None,
        csrf: None,
        bearer: Some(secret),
        dead_token: false,
    }
}

async fn callers(engine: &Engine) -> Vec<Caller> {
    let auth = engine.auth();
    for (user, role) in [
        ("admin", Role::Admin),
        ("oper", Role::Operator),
        ("view", Role::Viewer),
        ("gone", Role::Viewer),
    ] {
        auth.add_user(user, PASSWORD, role).await.expect("add user");
    }
    let mut callers = vec![Caller {
        name: "anonymous",
        role: None,
        user: String::new(),
        cookie: None,
        csrf: None,
        bearer: None,
        dead_token: false,
    }];
    callers.push(session_caller(engine, "viewer session", "view", Role::Viewer).await);
    callers.push(session_caller(engine, "operator session", "oper", Role::Operator).await);
    callers.push(session_caller(engine, "admin session", "admin", Role::Admin).await);
    callers.push(token_caller(engine, "viewer token", "admin", Role::Admin, Role::Viewer).await);
    callers.push(
        token_caller(
            engine,
            "operator token",
            "admin",
            Role::Admin,
            Role::Operator,
        )
        .await,
    );
    callers.push(token_caller(engine, "admin token", "admin", Role::Admin, Role::Admin).await);
    let mut revoked =
        token_caller(engine, "revoked token", "admin", Role::Admin, Role::Admin).await;
    let tokens = auth.tokens(None).await.expect("tokens");
    let id = tokens
        .iter()
        .find(|t| t.name == "revoked token")
        .map(|t| t.id.clone())
        .expect("the revoked token is listed");
    auth.revoke_token(&id).await.expect("revoke");
    revoked.role = None;
    revoked.dead_token = true;
    callers.push(revoked);
    // A session ended by a password change.
    let mut ended = session_caller(engine, "ended session", "gone", Role::Viewer).await;
    auth.set_password("gone", "another long password")
        .await
        .expect("passwd");
    ended.role = None;
    callers.push(ended);
    callers
}

/// The address of a route with its parameters filled in: the caller's own name where a user
/// is named (so that "one's own password" is the case judged), else names that exist nowhere.
fn address(entry: &RouteEntry, caller: &Caller) -> String {
    let user = if caller.user.is_empty() {
        "nobody"
    } else {
        &caller.user
    };
    entry
        .path
        .replace("{name}", user)
        .replace("{*name}", "repo/tags")
        .replace("{host}", "127.0.0.1:1")
        .replace("{id}", "no-such-object")
        .replace(":id", "no-such-object")
}

fn request(entry: &RouteEntry, caller: &Caller) -> Request<Body> {
    let mut builder = Request::builder()
        .method(entry.method.clone())
        .uri(address(entry, caller))
        .header(header::HOST, "127.0.0.1:7878")
        .header(header::ACCEPT, "text/html, application/json");
    if let Some(cookie) = &caller.cookie {
        builder = builder.header(header::COOKIE, format!("berth_session={cookie}"));
    }
    if let Some(csrf) = &caller.csrf {
        builder = builder.header("x-csrf-token", csrf);
    }
    if let Some(bearer) = &caller.bearer {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {bearer}"));
    }
    let body = match entry.body {
        BodyKind::Json => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from("{}")
        }
        BodyKind::Form => {
            builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            // A form carries its CSRF token in its body.
            Body::from(match &caller.csrf {
                Some(csrf) => format!("csrf={csrf}"),
                None => String::new(),
            })
        }
        BodyKind::Stream => {
            builder = builder.header(header::CONTENT_TYPE, "application/x-tar");
            Body::from("not a tar")
        }
        BodyKind::None => Body::empty(),
    };
    let mut request = builder.body(body).expect("request");
    request.extensions_mut().insert(Peer::Tcp {
        addr: "127.0.0.1:40000".parse().unwrap(),
        tls: false,
    });
    request
}

fn is_logout(entry: &RouteEntry) -> bool {
    entry.path.ends_with("/logout") && !entry.path.contains("registries")
}

#[tokio::test]
async fn every_route_answers_every_caller_as_its_policy_says() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = engine(&dir).await;
    let entries = crate::router::route_entries();

    // The table written above is the table the router has.
    let pages: Vec<String> = crate::web::route_entries()
        .iter()
        .map(|e| format!("{} {} {}", e.method, e.path, access_word(e.access)))
        .collect();
    let expected = EXPECTED.trim().replace("PAGES", &pages.join("\n"));
    let actual: Vec<String> = entries
        .iter()
        .map(|e| format!("{} {} {}", e.method, e.path, access_word(e.access)))
        .collect();
    assert_eq!(
        actual.join("\n"),
        expected,
        "the route table changed: give every route its line in EXPECTED"
    );
    // Pages: the dashboard needs a login, except to log in and set up.
    for page in crate::web::route_entries() {
        if page.path.starts_with("/ui/fn/") {
            continue;
        }
        let public =
            matches!(page.path.as_str(), "/login" | "/setup") || page.path.starts_with("/board/");
        let expected = if public {
            Access::Public
        } else {
            Access::VIEWER
        };
        assert_eq!(page.access, expected, "{}", page.path);
    }

    let app: Router = crate::router::app(Security::new(engine.clone(), SecurityConfig::default()));
    let callers = callers(&engine).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for entry in &entries {
        for caller in &callers {
            let mut caller = caller.clone();
            if is_logout(entry) && caller.cookie.is_some() && caller.role.is_some() {
                // Logging out ends the session: use one of its own.
                let user = caller.user.clone();
                let role = caller.role.unwrap_or(Role::Viewer);
                caller = session_caller(&engine, caller.name, &user, role).await;
            }
            let response = app
                .clone()
                .oneshot(request(entry, &caller))
                .await
                .expect("infallible");
            let status = response.status();
            let page = !entry.path.starts_with("/api/")
                && !entry.path.starts_with("/ui/fn/")
                && entry.method == Method::GET;
            let ok = match (entry.access, caller.role) {
                (_, _) if caller.dead_token => status == StatusCode::UNAUTHORIZED,
                (Access::Public, _) => {
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                }
                (Access::Role(_), None) if page => status == StatusCode::SEE_OTHER,
                (Access::Role(_), None) => status == StatusCode::UNAUTHORIZED,
                (Access::Role(needed), Some(role)) if role < needed => {
                    status == StatusCode::FORBIDDEN
                }
                (Access::Role(_), Some(_)) => {
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN
                }
            };
            checked += 1;
            if !ok {
                failures.push(format!(
                    "{} {} as {}: {status}",
                    entry.method,
                    address(entry, &caller),
                    caller.name
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} requests broke their policy:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 600, "only {checked} requests were checked");
}
