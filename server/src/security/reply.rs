//! The security layer's answers: refusals in the API's one error body, and the notes a routed
//! request leaves on its response for the audit log.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_wire::{ErrorBody, ErrorCode};

/// A refusal with `code`'s status and the API's error body.
pub fn refuse(code: ErrorCode, message: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::FORBIDDEN);
    (status, Json(ErrorBody::new(code, message))).into_response()
}

/// Left on a response by the route's policy layer: the route (`POST /api/v1/containers/{id}/stop`)
/// and the object the address names.
#[derive(Debug, Clone)]
pub struct AuditInfo {
    pub route: Option<String>,
    pub object: Option<String>,
}

/// Left on a response by a handler that wrote its own audit line (login, setup), so the
/// security layer writes none.
#[derive(Debug, Clone, Copy)]
pub struct Audited;
