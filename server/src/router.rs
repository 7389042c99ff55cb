//! The daemon's whole HTTP surface in one router: the API, the dashboard's forms and its
//! pages, behind the security layer; and the list of every route with its policy.

#[cfg(test)]
use crate::security::access::RouteEntry;
use crate::security::{self, Security};
use crate::{api, forms, web};
use axum::Router;

/// Every route, its handler and its policy, behind the Host, Origin and authentication checks.
pub fn app(security: Security) -> Router {
    let engine = security.engine().clone();
    api::router(engine.clone())
        .merge(forms::routes().into_parts().0)
        .merge(web::router(engine))
        .layer(axum::middleware::from_fn_with_state(
            security.clone(),
            security::guard,
        ))
        .layer(axum::Extension(security))
}

/// Every route as the permission matrix sees it: the API's, the forms' and the pages'.
#[cfg(test)]
pub fn route_entries() -> Vec<RouteEntry> {
    let mut entries = api::routes().into_parts().1;
    entries.extend(forms::routes().into_parts().1);
    entries.extend(web::route_entries());
    entries
}
