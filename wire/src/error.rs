//! The one error body of the API: `{"error": {"code": "not_found", "message": "…"}}`, with the
//! code a client decides on (never the English message) and the HTTP status it goes with.

use serde::{Deserialize, Serialize};

/// What went wrong, as a client can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request is malformed or a value is invalid (400).
    BadRequest,
    /// No valid session or token (401).
    Unauthorized,
    /// Authenticated, but the role does not allow it, or a cross-site check failed (403).
    Forbidden,
    /// The object does not exist (404).
    NotFound,
    /// The object's state does not allow it (409).
    Conflict,
    /// The body is larger than the route allows (413).
    PayloadTooLarge,
    /// The body is not of the content type the route takes (415).
    UnsupportedMediaType,
    /// Too many attempts; retry later (429).
    TooManyRequests,
    /// The Host header is not one this daemon answers to (421).
    MisdirectedRequest,
    /// An image is missing where one is needed (404 with its own code, as docker's
    /// "No such image" that `run` turns into a pull).
    NoSuchImage,
    /// A container's command was not found in its image (400: the request names it; docker
    /// answers 400 too). `run` exits 127 on it, as a shell does.
    CommandNotFound,
    /// A container's command exists but cannot be executed: no permission, not a binary
    /// (400, as CommandNotFound). `run` exits 126 on it.
    CommandNotExecutable,
    /// The data root has no room for the upload (507).
    InsufficientStorage,
    /// A registry or another upstream failed (502).
    BadGateway,
    /// The daemon is at a limit (e.g. of WebSocket clients); retry later (503).
    ServiceUnavailable,
    /// The daemon failed (500).
    Internal,
}

impl ErrorCode {
    /// The HTTP status that goes with the code.
    pub fn status(self) -> u16 {
        match self {
            ErrorCode::BadRequest
            | ErrorCode::CommandNotFound
            | ErrorCode::CommandNotExecutable => 400,
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::NotFound | ErrorCode::NoSuchImage => 404,
            ErrorCode::Conflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::UnsupportedMediaType => 415,
            ErrorCode::MisdirectedRequest => 421,
            ErrorCode::TooManyRequests => 429,
            ErrorCode::InsufficientStorage => 507,
            ErrorCode::BadGateway => 502,
            ErrorCode::ServiceUnavailable => 503,
            ErrorCode::Internal => 500,
        }
    }

    /// The code a status stands for when a body carries none (a proxy's answer, say).
    pub fn from_status(status: u16) -> ErrorCode {
        match status {
            400 => ErrorCode::BadRequest,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            421 => ErrorCode::MisdirectedRequest,
            429 => ErrorCode::TooManyRequests,
            503 => ErrorCode::ServiceUnavailable,
            502 | 504 => ErrorCode::BadGateway,
            507 => ErrorCode::InsufficientStorage,
            s if (400..500).contains(&s) => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        }
    }
}

/// The inside of an error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
}

/// Every error answer of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code,
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_has_the_documented_shape() {
        let body = ErrorBody::new(ErrorCode::NotFound, "no such container: x");
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"error":{"code":"not_found","message":"no such container: x"}}"#
        );
    }

    #[test]
    fn codes_and_statuses_agree_both_ways() {
        for code in [
            ErrorCode::BadRequest,
            ErrorCode::Unauthorized,
            ErrorCode::Forbidden,
            ErrorCode::NotFound,
            ErrorCode::Conflict,
            ErrorCode::PayloadTooLarge,
            ErrorCode::UnsupportedMediaType,
            ErrorCode::MisdirectedRequest,
            ErrorCode::TooManyRequests,
            ErrorCode::InsufficientStorage,
            ErrorCode::BadGateway,
            ErrorCode::ServiceUnavailable,
            ErrorCode::Internal,
        ] {
            assert_eq!(ErrorCode::from_status(code.status()), code, "{code:?}");
        }
        assert_eq!(ErrorCode::NoSuchImage.status(), 404);
        assert_eq!(ErrorCode::CommandNotFound.status(), 400);
        assert_eq!(ErrorCode::CommandNotExecutable.status(), 400);
        assert_eq!(
            serde_json::to_string(&ErrorCode::CommandNotExecutable).unwrap(),
            r#""command_not_executable""#
        );
    }
}
