//! The daemon's whole HTTP surface in one router: the API, the dashboard's forms and its
//! pages, behind the security layer; and the list of every route with its policy.

use crate::metrics::{self, HttpMetrics};
#[cfg(test)]
use crate::security::access::RouteEntry;
use crate::security::{self, Security};
use crate::{api, forms, web};
use axum::extract::MatchedPath;
use axum::Router;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::{Level, Span};

const X_REQUEST_ID: &str = "x-request-id";

/// Every route, its handler and its policy, behind the Host, Origin and authentication checks;
/// each request counted (`/metrics`), traced and given a request id.
pub fn app(security: Security) -> Router {
    let engine = security.engine().clone();
    let http = HttpMetrics::default();
    api::router(engine.clone())
        .merge(forms::routes().into_parts().0)
        .merge(web::router(engine))
        .layer(axum::middleware::from_fn_with_state(
            security.clone(),
            security::guard,
        ))
        .layer(axum::Extension(security))
        .layer(axum::Extension(http.clone()))
        // Layers of the whole router run per route, after routing: they see `MatchedPath`.
        .layer(axum::middleware::from_fn_with_state(http, metrics::track))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// A request's span: its method, matched route (never the raw path, whose query may hold a
/// secret) and request id; no headers, cookies or bodies. The response's status and latency
/// are logged in it by `DefaultOnResponse`.
fn request_span(req: &axum::http::Request<axum::body::Body>) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(metrics::FALLBACK_ROUTE, |p| p.as_str());
    // A client's own id is kept only if it is short and printable.
    let id = req
        .headers()
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .unwrap_or("-");
    tracing::info_span!("request", method = %req.method(), route, request_id = id)
}

/// Every route as the permission matrix sees it: the API's, the forms' and the pages'.
#[cfg(test)]
pub fn route_entries() -> Vec<RouteEntry> {
    let mut entries = api::routes().into_parts().1;
    entries.extend(forms::routes().into_parts().1);
    entries.extend(web::route_entries());
    entries
}
