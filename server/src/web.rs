//! The web dashboard's HTTP side: the Leptos pages, their server functions, and the embedded
//! front-end files (wasm, JS, CSS) built by `scripts/build-site.sh` into `target/site`.

#[cfg(test)]
use crate::security::access::RouteEntry;
use crate::security::access::{require, Access, BodyKind, Policy};
use crate::security::reply::refuse;
use app::{shell, App, OUTPUT_NAME};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use berth_engine::Engine;
use berth_wire::ErrorCode;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{
    generate_route_list, handle_server_fns_with_context, render_app_to_stream_with_context,
    LeptosRoutes,
};
use rust_embed::RustEmbed;

/// The front end as `scripts/build-site.sh` leaves it: `pkg/berth.js`, `pkg/berth_bg.wasm`,
/// `berth.css`. Embedded at compile time in release builds (read from disk in debug builds);
/// a missing folder yields pages that work without their wasm, not a build failure.
#[derive(RustEmbed)]
#[folder = "../target/site"]
#[allow_missing = true]
struct Site;

/// Where the pages' server functions are mounted (see the `#[server(prefix = …)]` in `app`).
pub const SERVER_FN_PATH: &str = "/ui/fn/{*name}";

/// The router for the dashboard: pages, server functions, static files, and a 404 page for
/// any other address. It has a fallback, so merge it with routers that have none.
pub fn router(engine: Engine) -> Router {
    let options = LeptosOptions::builder().output_name(OUTPUT_NAME).build();
    let routes = generate_route_list(App);
    let context = move || provide_context(engine.clone());

    let fn_context = context.clone();
    let server_fns = move |req: Request| {
        let context = fn_context.clone();
        async move { handle_server_fns_with_context(context, req).await }
    };
    let shell_options = options.clone();
    let fallback_context = context.clone();
    let fallback_options = options.clone();

    Router::new()
        .route(SERVER_FN_PATH, post(server_fns.clone()).get(server_fns))
        .leptos_routes_with_context(&options, routes, context, move || {
            shell(shell_options.clone())
        })
        // Every page and server function behind its policy; the fallback (static files, the
        // not-found page) is public.
        .route_layer(axum::middleware::from_fn(server_fn_status))
        .route_layer(axum::middleware::from_fn(page_policy))
        .fallback(move |req: Request| {
            fallback(req, fallback_context.clone(), fallback_options.clone())
        })
        .with_state(options)
}

/// The most of a server function's error answer read to find its code.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A server function that fails answers 500 whatever went wrong; its body is the API's one
/// error body (`app::model::AppError`'s encoding), and the status becomes its code's: a
/// missing container is 404, a conflict 409. Decided by the code, never by the message.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let server_fn = req.uri().path().starts_with("/ui/fn/");
    let response = next.run(req).await;
    if !server_fn || !response.status().is_server_error() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, ERROR_BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return refuse(
                ErrorCode::Internal,
                "the server function's error was too long",
            )
        }
    };
    if let Ok(error) = serde_json::from_slice::<berth_wire::ErrorBody>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.error.code.status()) {
            parts.status = status;
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Who may call each server function (`/ui/fn/NAME`), and what it takes. A server function
/// missing here cannot be called at all.
pub const SERVER_FNS: &[(&str, Access, BodyKind)] = &[
    ("overview", Access::VIEWER, BodyKind::None),
    ("containers_page", Access::VIEWER, BodyKind::None),
    ("get_container", Access::VIEWER, BodyKind::None),
    ("container_stats_latest", Access::VIEWER, BodyKind::None),
    ("container_inspect", Access::VIEWER, BodyKind::None),
    ("container_events", Access::VIEWER, BodyKind::None),
    ("events_page", Access::VIEWER, BodyKind::None),
    ("apply_action", Access::OPERATOR, BodyKind::Json),
    ("bulk_action", Access::OPERATOR, BodyKind::Json),
    ("list_images", Access::VIEWER, BodyKind::None),
    ("get_image", Access::VIEWER, BodyKind::None),
    ("image_action", Access::OPERATOR, BodyKind::Json),
    ("run_choices", Access::VIEWER, BodyKind::None),
    ("run_container", Access::OPERATOR, BodyKind::Json),
    ("list_volumes", Access::VIEWER, BodyKind::None),
    ("get_volume", Access::VIEWER, BodyKind::None),
    // A volume's files may hold secrets: operators only.
    ("volume_files", Access::OPERATOR, BodyKind::None),
    ("volume_action", Access::OPERATOR, BodyKind::Json),
    ("list_networks", Access::VIEWER, BodyKind::None),
    ("network_action", Access::OPERATOR, BodyKind::Json),
    ("read_audit", Access::ADMIN, BodyKind::None),
    ("list_board_links", Access::ADMIN, BodyKind::None),
    ("create_board_link", Access::ADMIN, BodyKind::Json),
    ("revoke_board_link", Access::ADMIN, BodyKind::Json),
    ("list_registries", Access::VIEWER, BodyKind::None),
    ("browse_registry", Access::VIEWER, BodyKind::None),
    ("registry_login", Access::ADMIN, BodyKind::Json),
    ("remove_registry", Access::ADMIN, BodyKind::Json),
    // A board link's data: the secret it is called with is checked on every call.
    ("board_snapshot", Access::Public, BodyKind::None),
];

/// Pages anyone may open: the login and first-run setup pages, and board links (whose secret
/// in the address is checked by the page itself).
fn public_page(path: &str) -> bool {
    matches!(path, "/login" | "/setup") || path.starts_with("/board/")
}

/// The policy of a page or server-function request.
fn policy_for(path: &str) -> Option<Policy> {
    if let Some(name) = path.strip_prefix("/ui/fn/") {
        return SERVER_FNS
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|&(_, access, body)| Policy { access, body });
    }
    let access = if public_page(path) {
        Access::Public
    } else {
        Access::VIEWER
    };
    Some(Policy {
        access,
        body: BodyKind::None,
    })
}

async fn page_policy(req: Request, next: Next) -> Response {
    match policy_for(req.uri().path()) {
        Some(policy) => require(policy, req, next).await,
        None => refuse(ErrorCode::NotFound, "no such server function"),
    }
}

/// The pages and server functions as the permission matrix sees them.
#[cfg(test)]
pub fn route_entries() -> Vec<RouteEntry> {
    let mut entries: Vec<RouteEntry> = generate_route_list(App)
        .iter()
        .map(|route| {
            let path = route.path().to_string();
            let policy = policy_for(&path).unwrap_or(Policy {
                access: Access::ADMIN,
                body: BodyKind::None,
            });
            RouteEntry {
                method: Method::GET,
                path,
                access: policy.access,
                body: policy.body,
            }
        })
        .collect();
    for &(name, access, body) in SERVER_FNS {
        let path = format!("/ui/fn/{name}");
        let method = if body == BodyKind::None {
            Method::GET
        } else {
            Method::POST
        };
        entries.push(RouteEntry {
            method,
            path,
            access,
            body,
        });
    }
    entries
}

/// An embedded file if one is at the address, else a plain 404 under `/api/`, else the
/// app's own "page not found" page (rendered with status 404).
async fn fallback(
    req: Request,
    context: impl Fn() + Clone + Send + Sync + 'static,
    options: LeptosOptions,
) -> Response {
    let path = req.uri().path().trim_start_matches('/').to_string();
    if matches!(*req.method(), Method::GET | Method::HEAD) && !path.is_empty() {
        if let Some(response) = embedded(&path, req.headers()) {
            return response;
        }
    }
    if path == "api" || path.starts_with("api/") || path.starts_with("pkg/") {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    let render = render_app_to_stream_with_context(context, move || shell(options.clone()));
    render(req).await
}

/// An encoding the site is precompressed in (`scripts/build-site.sh` writes `FILE.br` and
/// `FILE.gz` beside each compressible file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => ".br",
            Encoding::Gzip => ".gz",
        }
    }
    fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

/// The encodings an `Accept-Encoding` header allows, best first: brotli before gzip (smaller),
/// each unless refused with `q=0` (by name, or by `*` when not named); `identity` is always
/// possible (RFC 9110 §12.5.3).
fn accepted_encodings(request: &HeaderMap) -> Vec<Encoding> {
    let mut named: Vec<(String, bool)> = Vec::new();
    for value in request.get_all(header::ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for item in value.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            named.push((name, !refused));
        }
    }
    let allowed = |token: &str| {
        named
            .iter()
            .find(|(n, _)| n == token)
            .or_else(|| named.iter().find(|(n, _)| n == "*"))
            .is_some_and(|&(_, ok)| ok)
    };
    [Encoding::Brotli, Encoding::Gzip]
        .into_iter()
        .filter(|e| allowed(e.token()))
        .collect()
}

/// The embedded file at `path` in the best encoding the request accepts that the site has, or
/// `None` when there is no such file.
fn embedded(path: &str, request: &HeaderMap) -> Option<Response> {
    embedded_from(path, request, |p| {
        Site::get(p).map(|file| (file.data, file.metadata.sha256_hash()))
    })
}

/// [`embedded`] over any store: `get` answers a file's bytes and SHA-256. A compressed
/// variant is not a file of its own. Its ETag is the variant's own (a 304 is per encoding).
fn embedded_from(
    path: &str,
    request: &HeaderMap,
    get: impl Fn(&str) -> Option<(std::borrow::Cow<'static, [u8]>, [u8; 32])>,
) -> Option<Response> {
    if path.ends_with(".br") || path.ends_with(".gz") {
        return None;
    }
    let identity = get(path)?;
    let compressible = get(&format!("{path}.gz")).is_some();
    let variant = accepted_encodings(request)
        .into_iter()
        .find_map(|encoding| get(&format!("{path}{}", encoding.suffix())).map(|f| (encoding, f)));
    let (encoding, (bytes, hash)) = match variant {
        Some((encoding, file)) => (Some(encoding), file),
        None => (None, identity),
    };
    let mut response = asset_response(path, bytes.into_owned(), &etag(&hash), request);
    let headers = response.headers_mut();
    if let Some(encoding) = encoding {
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(encoding.token()),
        );
    }
    // A cache must not hand the brotli bytes to a client that asked for none.
    if compressible {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Some(response)
}

/// A strong entity tag from a content hash.
fn etag(sha256: &[u8; 32]) -> String {
    let hex: String = sha256[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// The response for one static file: its MIME type (wasm must be `application/wasm` for
/// streaming compilation), and an ETag with `no-cache`: the bundle's names carry no hash, so
/// browsers revalidate each time and get a bodiless 304 when nothing changed
/// (RFC 9110 §13.1.2 If-None-Match, RFC 9111 §5.2.2.4 no-cache).
fn asset_response(path: &str, bytes: Vec<u8>, etag: &str, request: &HeaderMap) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    let (status, body) = if fresh {
        (StatusCode::NOT_MODIFIED, Body::empty())
    } else {
        (StatusCode::OK, Body::from(bytes))
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request as HttpRequest;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn engine(dir: &tempfile::TempDir) -> Engine {
        crate::testing::engine(dir).await
    }

    async fn send(router: Router, method: Method, uri: &str) -> (StatusCode, HeaderMap, String) {
        // Server functions answer an HTML-accepting caller (a plain form post) with a redirect;
        // pages are asked for as a browser would.
        let accept = if method == Method::GET && !uri.starts_with("/ui/fn/") {
            "text/html"
        } else {
            "application/json"
        };
        let request = HttpRequest::builder()
            .method(method)
            .uri(uri)
            .header(header::ACCEPT, accept)
            .extension(crate::security::principal::Principal::root())
            .body(Body::empty())
            .expect("request");
        let response = router.oneshot(request).await.expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    #[tokio::test]
    async fn containers_page_is_rendered_on_the_server() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(engine(&dir).await);
        let (status, _, body) = send(router, Method::GET, "/containers").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("<h1>Containers</h1>"), "{body}");
        assert!(body.contains(r#"data-testid="no-containers""#), "{body}");
        assert!(
            body.contains("/pkg/berth_bg.wasm"),
            "hydration scripts missing: {body}"
        );
        assert!(body.contains("/berth.css"), "{body}");
    }

    #[tokio::test]
    async fn unknown_container_page_is_a_404() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(engine(&dir).await);
        let (status, _, body) = send(router, Method::GET, "/containers/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("no such container"), "{body}");
    }

    #[tokio::test]
    async fn unknown_addresses_get_the_not_found_page() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(engine(&dir).await);
        let (status, _, body) = send(router.clone(), Method::GET, "/no/such/page").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains(r#"data-testid="not-found""#), "{body}");
        let (status, _, body) = send(router, Method::GET, "/api/v1/nothing-here").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body, "not found\n");
    }

    #[tokio::test]
    async fn root_is_the_overview() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(engine(&dir).await);
        let (status, _, body) = send(router, Method::GET, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(r#"data-testid="host-card""#), "{body}");
        assert!(
            body.contains(r#"data-testid="no-containers""#) || body.contains("Needs attention"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn server_function_pages_containers_as_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(engine(&dir).await);
        // A read: a GET, which needs no CSRF token.
        let (status, _, body) = send(router, Method::GET, "/ui/fn/containers_page?query[q]=").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page: app::listing::ListPage = serde_json::from_str(&body).expect("json page");
        assert!(page.rows.is_empty());
        assert_eq!((page.total, page.matched), (0, 0));
        assert!(page.now_ms > 0);
    }

    /// A page as `role` sees it (the security layer leaves the caller in the extensions).
    async fn page_as(router: Router, uri: &str, role: berth_wire::Role) -> (StatusCode, String) {
        let mut request = HttpRequest::builder()
            .uri(uri)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .expect("request");
        // The security layer leaves both: the principal the policy checks, and its Me.
        let principal = crate::security::principal::Principal {
            kind: berth_wire::auth::PrincipalKind::Session,
            user: "ada".into(),
            role,
            token_id: None,
            csrf: Some("t".into()),
            expires_at_ms: None,
        };
        request.extensions_mut().insert(principal.me());
        request.extensions_mut().insert(principal);
        let response = router.oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    /// An engine with one imported image `web:1` (a one-file root file system).
    async fn engine_with_image(dir: &tempfile::TempDir) -> (Engine, String) {
        let engine = engine(dir).await;
        let rootfs = dir.path().join("rootfs.tar");
        let mut builder = tar::Builder::new(Vec::new());
        let data = b"hello\n";
        let mut head = tar::Header::new_gnu();
        head.set_size(data.len() as u64);
        head.set_mode(0o644);
        head.set_cksum();
        builder
            .append_data(&mut head, "etc/hello", &data[..])
            .expect("tar entry");
        std::fs::write(&rootfs, builder.into_inner().expect("tar")).expect("write tar");
        let image = engine
            .images()
            .import(&rootfs, Some("web:1"), None)
            .await
            .expect("import");
        (engine, image.id)
    }

    #[tokio::test]
    async fn images_page_renders_rows_and_only_the_controls_the_role_may_use() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (engine, id) = engine_with_image(&dir).await;
        let (status, body) = page_as(
            router(engine.clone()),
            "/images",
            berth_wire::Role::Operator,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"data-testid="images-table""#), "{body}");
        assert!(body.contains(r#"data-name="web:1""#), "{body}");
        assert!(body.contains(&id[7..19]), "the short id: {body}");
        assert!(
            body.contains(r#"data-testid="image-used" class="num col-used">—<"#),
            "{body}"
        );
        for control in [
            "pull-open",
            "prune-images",
            "tag-button",
            "push-button",
            "remove-image-button",
        ] {
            assert!(
                body.contains(&format!(r#"data-testid="{control}""#)),
                "{control}: {body}"
            );
        }
        let (status, body) = page_as(router(engine), "/images", berth_wire::Role::Viewer).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"data-name="web:1""#), "{body}");
        for control in [
            "pull-open",
            "prune-images",
            "tag-button",
            "push-button",
            "remove-image-button",
        ] {
            assert!(
                !body.contains(&format!(r#"data-testid="{control}""#)),
                "{control}: {body}"
            );
        }
    }

    #[tokio::test]
    async fn images_page_without_images_says_how_to_get_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (status, body) = page_as(
            router(engine(&dir).await),
            "/images",
            berth_wire::Role::Operator,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"data-testid="no-images""#), "{body}");
        assert!(body.contains("Pull image"), "{body}");
    }

    #[tokio::test]
    async fn image_page_shows_tags_history_and_inspect_and_404s_for_an_unknown_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (engine, id) = engine_with_image(&dir).await;
        let hex = id.trim_start_matches("sha256:").to_string();
        let (status, body) = page_as(
            router(engine.clone()),
            &format!("/images/{hex}"),
            berth_wire::Role::Viewer,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"data-testid="image-title""#), "{body}");
        assert!(body.contains(">web:1<"), "{body}");
        assert!(body.contains(r#"data-testid="history-row""#), "{body}");
        assert!(
            body.contains("&quot;RootFS&quot;") || body.contains("\"RootFS\""),
            "{body}"
        );
        let (status, body) =
            page_as(router(engine), "/images/0000ffff", berth_wire::Role::Viewer).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert!(body.contains("No such image"), "{body}");
    }

    #[tokio::test]
    async fn registries_page_lists_logins_for_all_and_offers_changes_to_admins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = engine(&dir).await;
        let (status, body) = page_as(
            router(engine.clone()),
            "/registries",
            berth_wire::Role::Viewer,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"data-testid="no-registries""#), "{body}");
        assert!(!body.contains(r#"data-testid="registry-add""#), "{body}");
        assert!(body.contains(r#"data-testid="browse-form""#), "{body}");
        let (_, body) = page_as(router(engine), "/registries", berth_wire::Role::Admin).await;
        assert!(body.contains(r#"data-testid="registry-add""#), "{body}");
    }

    #[tokio::test]
    async fn server_function_lists_images_with_their_containers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (engine, id) = engine_with_image(&dir).await;
        let (status, _, body) = send(router(engine), Method::GET, "/ui/fn/list_images").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let list: app::pages::images::ImageList = serde_json::from_str(&body).expect("json");
        assert_eq!(list.images.len(), 1);
        assert_eq!(list.images[0].image.id, id);
        assert_eq!(list.images[0].containers, 0);
        assert!(list.registries.is_empty());
    }

    #[tokio::test]
    async fn server_function_errors_carry_the_engine_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let router = router(engine(&dir).await);
        let request = HttpRequest::builder()
            .method(Method::POST)
            .uri("/ui/fn/apply_action")
            .header(header::CONTENT_TYPE, "application/json")
            .extension(crate::security::principal::Principal::root())
            .body(Body::from(r#"{"id":"ghost","action":"stop"}"#))
            .expect("request");
        let response = router.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let error: app::model::AppError = serde_json::from_slice(&bytes).expect("json error");
        assert_eq!(
            error,
            app::model::AppError::NotFound("no such container: ghost".into())
        );
    }

    /// A request with no principal at all: a wall screen that never logged in.
    async fn send_anonymous(router: Router, uri: &str) -> (StatusCode, String) {
        // A server function answers an HTML-accepting caller with a redirect.
        let accept = if uri.starts_with("/ui/fn/") {
            "application/json"
        } else {
            "text/html"
        };
        let request = HttpRequest::builder()
            .uri(uri)
            .header(header::ACCEPT, accept)
            .body(Body::empty())
            .expect("request");
        let response = router.oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn board_pages_check_their_secret() {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = engine(&dir).await;
        let (secret, _) = engine
            .auth()
            .create_board_link("root", "Lobby wall", None)
            .await
            .expect("a board link");
        let router = router(engine.clone());

        let (status, body) = send_anonymous(router.clone(), &format!("/board/{secret}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.contains(r#"data-testid="board""#), "{body}");
        assert!(body.contains("Lobby wall"), "{body}");
        assert!(body.contains(r#"data-testid="count-running""#), "{body}");
        assert!(body.contains(r#"data-testid="board-empty""#), "{body}");
        assert!(!body.contains("topbar"), "a board has no chrome: {body}");
        assert!(!body.contains("<button"), "a board has no buttons: {body}");

        // Its data, for anyone holding the secret.
        let (status, json) = send_anonymous(
            router.clone(),
            &format!("/ui/fn/board_snapshot?secret={secret}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        let snapshot: berth_wire::board::BoardSnapshot =
            serde_json::from_str(&json).expect("a snapshot");
        assert_eq!(snapshot.title, "Lobby wall");
        assert!(snapshot.host.cpus > 0);

        for bad in ["board_nope", "nope", &format!("{secret}x")] {
            let (status, body) = send_anonymous(router.clone(), &format!("/board/{bad}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{bad}: {body}");
            assert!(
                body.contains("This board link is not valid (revoked or expired)"),
                "{body}"
            );
            assert!(!body.contains("Lobby wall"), "{body}");
            let (status, json) = send_anonymous(
                router.clone(),
                &format!("/ui/fn/board_snapshot?secret={bad}"),
            )
            .await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{bad}: {json}");
            let error: app::model::AppError = serde_json::from_str(&json).expect("json error");
            assert!(
                matches!(error, app::model::AppError::NotFound(_)),
                "{error:?}"
            );
        }

        // A revoked link is dead at once.
        let id = engine.auth().board_links().await.expect("links")[0]
            .id
            .clone();
        engine.auth().revoke_board_link(&id).await.expect("revoke");
        let (status, _) = send_anonymous(router, &format!("/board/{secret}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn wasm_is_served_as_application_wasm_with_revalidation() {
        let response = asset_response(
            "pkg/berth_bg.wasm",
            vec![0, 97, 115, 109],
            "\"abc\"",
            &HeaderMap::new(),
        );
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(headers[header::ETAG], "\"abc\"");
        assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
        let css = asset_response("berth.css", Vec::new(), "\"x\"", &HeaderMap::new());
        assert_eq!(css.headers()[header::CONTENT_TYPE], "text/css");
    }

    #[test]
    fn matching_if_none_match_gets_a_304() {
        let mut request = HeaderMap::new();
        request.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"old\", W/\"abc\""),
        );
        let response = asset_response("pkg/berth.js", b"js".to_vec(), "\"abc\"", &request);
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        request.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"old\""));
        let response = asset_response("pkg/berth.js", b"js".to_vec(), "\"abc\"", &request);
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// A site of `berth.css` (with its two variants) and `logo.png` (none).
    fn fake_site(path: &str) -> Option<(std::borrow::Cow<'static, [u8]>, [u8; 32])> {
        let (bytes, hash): (&'static [u8], u8) = match path {
            "berth.css" => (b"body{}", 1),
            "berth.css.br" => (b"BR", 2),
            "berth.css.gz" => (b"GZ", 3),
            "logo.png" => (b"PNG", 4),
            _ => return None,
        };
        Some((bytes.into(), [hash; 32]))
    }

    async fn fetch_fake(
        path: &str,
        accept: Option<&str>,
        if_none: Option<&str>,
    ) -> Option<(StatusCode, HeaderMap, Vec<u8>)> {
        let mut request = HeaderMap::new();
        if let Some(accept) = accept {
            request.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(accept).unwrap(),
            );
        }
        if let Some(tag) = if_none {
            request.insert(header::IF_NONE_MATCH, HeaderValue::from_str(tag).unwrap());
        }
        let response = embedded_from(path, &request, fake_site)?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Some((status, headers, body.to_vec()))
    }

    #[tokio::test]
    async fn assets_are_served_in_the_encoding_asked_for() {
        let br = etag(&[2; 32]);
        let gz = etag(&[3; 32]);
        let plain = etag(&[1; 32]);
        for (accept, body, encoding, tag) in [
            (Some("gzip, deflate, br, zstd"), &b"BR"[..], Some("br"), &br),
            (Some("gzip"), b"GZ", Some("gzip"), &gz),
            (Some("br;q=0, gzip;q=0.5"), b"GZ", Some("gzip"), &gz),
            (Some("*"), b"BR", Some("br"), &br),
            (Some("*;q=0, identity"), b"body{}", None, &plain),
            (Some("gzip;q=0"), b"body{}", None, &plain),
            (Some("identity"), b"body{}", None, &plain),
            (None, b"body{}", None, &plain),
        ] {
            let (status, headers, got) =
                fetch_fake("berth.css", accept, None).await.expect("a file");
            assert_eq!(status, StatusCode::OK, "{accept:?}");
            assert_eq!(got, body, "{accept:?}");
            assert_eq!(
                headers
                    .get(header::CONTENT_ENCODING)
                    .map(|v| v.to_str().unwrap()),
                encoding,
                "{accept:?}"
            );
            assert_eq!(headers[header::VARY], "accept-encoding", "{accept:?}");
            assert_eq!(headers[header::CONTENT_TYPE], "text/css", "{accept:?}");
            assert_eq!(&headers[header::ETAG], tag.as_str(), "{accept:?}");
        }
        // A file without variants: as it is, and no Vary.
        let (_, headers, got) = fetch_fake("logo.png", Some("br"), None)
            .await
            .expect("a file");
        assert_eq!(got, b"PNG");
        assert!(headers.get(header::CONTENT_ENCODING).is_none());
        assert!(headers.get(header::VARY).is_none());
        assert_eq!(headers[header::CONTENT_TYPE], "image/png");
        // The variants are no addresses of their own.
        assert!(fetch_fake("berth.css.br", Some("br"), None).await.is_none());
        assert!(fetch_fake("nothing.css", Some("br"), None).await.is_none());
    }

    #[tokio::test]
    async fn a_compressed_asset_still_answers_304_for_its_own_etag() {
        let br = etag(&[2; 32]);
        let (status, headers, body) = fetch_fake("berth.css", Some("br"), Some(&br))
            .await
            .expect("a file");
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        assert!(body.is_empty());
        assert_eq!(headers[header::CONTENT_ENCODING], "br");
        assert_eq!(headers[header::VARY], "accept-encoding");
        // The brotli tag does not match the gzip bytes: those come in full.
        let (status, _, body) = fetch_fake("berth.css", Some("gzip"), Some(&br))
            .await
            .expect("a file");
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, b"GZ");
    }

    #[test]
    fn etag_is_quoted_hex() {
        assert_eq!(etag(&[0xab; 32]), format!("\"{}\"", "ab".repeat(16)));
    }
}
