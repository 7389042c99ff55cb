//! The data the dashboard moves between server and browser: container views and the app's error.

use berth_wire::{ErrorBody, ErrorCode, ErrorDetail};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A container's state and a container as a row of the list or the header of its page: the
/// wire's types, as the API answers them.
pub use berth_wire::container::{ContainerState, ContainerSummary};

/// The first 12 hex digits of an id, as container tools show it.
pub fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// What the state column says: "exited (137)" for an exited container with a code.
pub fn status_text(c: &ContainerSummary) -> String {
    match (c.state, c.exit_code) {
        (ContainerState::Exited, Some(code)) => format!("exited ({code})"),
        (state, _) => state.as_str().to_string(),
    }
}

/// The exit code as shown: "—" while there is none, "137 (out of memory)" after an OOM kill.
pub fn exit_text(exit_code: Option<i32>, oom_killed: bool) -> String {
    match (exit_code, oom_killed) {
        (None, _) => "—".to_string(),
        (Some(code), false) => code.to_string(),
        (Some(code), true) => format!("{code} (out of memory)"),
    }
}

/// The list page's data; `now_ms` is the server's clock so that relative times render the
/// same on the server and in the browser (hydration must not see different text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerList {
    pub now_ms: i64,
    pub containers: Vec<ContainerSummary>,
}

/// An action a user can take on one container from the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerAction {
    Start,
    Stop,
    Restart,
    Remove,
    ForceRemove,
}

/// What a bulk action did: how many went ahead, and each that failed with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkReport {
    pub done: usize,
    /// (container id, the engine's message)
    pub failed: Vec<(String, String)>,
}

impl BulkReport {
    /// One line for the page: "2 of 5 failed: abc123: …; def456: …".
    pub fn summary(&self) -> String {
        let reasons: Vec<String> = self
            .failed
            .iter()
            .map(|(id, why)| format!("{}: {why}", short_id(id)))
            .collect();
        format!(
            "{} of {} failed: {}",
            self.failed.len(),
            self.failed.len() + self.done,
            reasons.join("; ")
        )
    }
}

/// What can go wrong behind a page; the message is the one shown to the user. On the wire it
/// is the API's one error body (`{"error": {"code", "message"}}`), so a server function's
/// error reads like any other answer of the daemon, and the server gives it its code's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(into = "ErrorBody", from = "ErrorBody")]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("engine error: {0}")]
    Engine(String),
    #[error("the engine is not available to the web app")]
    NoEngine,
    /// Refused by the daemon before the function ran (a login, a role, a limit).
    #[error("{message}")]
    Refused { code: ErrorCode, message: String },
    #[error("{0}")]
    Call(ServerFnErrorErr),
}

impl AppError {
    /// The API's code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::InvalidInput(_) => ErrorCode::BadRequest,
            AppError::Engine(_) => ErrorCode::Internal,
            AppError::NoEngine => ErrorCode::ServiceUnavailable,
            AppError::Refused { code, .. } => *code,
            AppError::Call(
                ServerFnErrorErr::Args(_)
                | ServerFnErrorErr::MissingArg(_)
                | ServerFnErrorErr::Deserialization(_),
            ) => ErrorCode::BadRequest,
            AppError::Call(_) => ErrorCode::Internal,
        }
    }
}

impl From<AppError> for ErrorBody {
    fn from(e: AppError) -> ErrorBody {
        let message = match &e {
            AppError::Engine(message) => message.clone(),
            other => other.to_string(),
        };
        ErrorBody::new(e.code(), message)
    }
}

impl From<ErrorBody> for AppError {
    fn from(body: ErrorBody) -> AppError {
        let ErrorDetail { code, message } = body.error;
        match code {
            ErrorCode::NotFound | ErrorCode::NoSuchImage => AppError::NotFound(message),
            ErrorCode::Conflict => AppError::Conflict(message),
            ErrorCode::BadRequest => AppError::InvalidInput(message),
            ErrorCode::Internal => AppError::Engine(message),
            code => AppError::Refused { code, message },
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Call(value)
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::AppError;

    impl From<berth_engine::Error> for AppError {
        fn from(e: berth_engine::Error) -> Self {
            match e {
                berth_engine::Error::NotFound { .. } => AppError::NotFound(e.to_string()),
                berth_engine::Error::Conflict(m) => AppError::Conflict(m),
                berth_engine::Error::InvalidInput(m) => AppError::InvalidInput(m),
                other => AppError::Engine(other.to_string()),
            }
        }
    }

    impl From<berth_engine::auth::AuthError> for AppError {
        fn from(e: berth_engine::auth::AuthError) -> Self {
            use berth_engine::auth::AuthError as A;
            use berth_wire::ErrorCode;
            match e {
                A::InvalidInput(m) => AppError::InvalidInput(m),
                A::NotFound(m) => AppError::NotFound(m),
                A::Conflict(m) => AppError::Conflict(m),
                A::Forbidden(m) => AppError::Refused {
                    code: ErrorCode::Forbidden,
                    message: m,
                },
                other => AppError::Engine(other.to_string()),
            }
        }
    }

    /// Unix milliseconds now (the server's clock, sent with pages that show relative times,
    /// so both sides render the same text).
    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }

    /// The engine handle the server provided as context for this request.
    pub fn engine() -> Result<berth_engine::Engine, AppError> {
        leptos::prelude::use_context::<berth_engine::Engine>().ok_or(AppError::NoEngine)
    }
}

#[cfg(feature = "ssr")]
pub use ssr::{engine, now_ms};

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: ContainerState, exit_code: Option<i32>) -> ContainerSummary {
        let mut c: ContainerSummary = serde_json::from_str(
            r#"{"id":"0123456789abcdef0123","name":"web","image":"busybox","image_id":"",
                "command":"sleep 300","state":"running","exit_code":null,"pid":null,
                "created_at_ms":0,"started_at_ms":null,"finished_at_ms":null}"#,
        )
        .expect("a summary");
        c.state = state;
        c.exit_code = exit_code;
        c
    }

    #[test]
    fn short_id_keeps_twelve_digits_and_tolerates_short_ids() {
        assert_eq!(
            short_id(&view(ContainerState::Running, None).id),
            "0123456789ab"
        );
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn status_text_shows_the_exit_code_only_when_exited() {
        assert_eq!(
            status_text(&view(ContainerState::Exited, Some(137))),
            "exited (137)"
        );
        assert_eq!(status_text(&view(ContainerState::Exited, None)), "exited");
        assert_eq!(
            status_text(&view(ContainerState::Running, Some(0))),
            "running"
        );
    }

    #[test]
    fn a_bulk_report_names_each_failure() {
        let report = BulkReport {
            done: 3,
            failed: vec![("0123456789abcdef".into(), "no such container".into())],
        };
        assert_eq!(
            report.summary(),
            "1 of 4 failed: 0123456789ab: no such container"
        );
    }

    #[test]
    fn exit_text_marks_oom_kills() {
        assert_eq!(exit_text(None, false), "—");
        assert_eq!(exit_text(Some(0), false), "0");
        assert_eq!(exit_text(Some(137), true), "137 (out of memory)");
    }

    #[test]
    fn app_error_round_trips_through_its_server_fn_encoding() {
        let e = AppError::Conflict("container web is running".into());
        let back = AppError::de(e.ser());
        assert_eq!(back, e);
        assert_eq!(back.to_string(), "container web is running");
    }

    #[test]
    fn an_app_error_travels_as_the_apis_error_body() {
        let e = AppError::NotFound("no such container: ghost".into());
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            serde_json::json!({"error": {"code": "not_found", "message": "no such container: ghost"}})
        );
        for e in [
            AppError::NotFound("x".into()),
            AppError::Conflict("y".into()),
            AppError::InvalidInput("z".into()),
            AppError::Engine("disk full".into()),
            AppError::Refused {
                code: ErrorCode::Forbidden,
                message: "operators only".into(),
            },
        ] {
            assert_eq!(AppError::de(e.ser()), e);
        }
        // The security layer's refusals decode too.
        let refused =
            AppError::de(r#"{"error":{"code":"unauthorized","message":"log in"}}"#.into());
        assert_eq!(refused.code(), ErrorCode::Unauthorized);
        assert_eq!(refused.to_string(), "log in");
        assert_eq!(AppError::NoEngine.code().status(), 503);
    }

    #[test]
    fn undecodable_error_bytes_become_a_call_error() {
        let back = AppError::de("not json".into());
        assert!(matches!(
            back,
            AppError::Call(ServerFnErrorErr::Deserialization(_))
        ));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn engine_errors_keep_their_kind_and_message() {
        let e: AppError = berth_engine::Error::Conflict("busy".into()).into();
        assert_eq!(e, AppError::Conflict("busy".into()));
        let e: AppError = berth_engine::Error::NotFound {
            kind: "container",
            id: "nope".into(),
        }
        .into();
        assert_eq!(e, AppError::NotFound("no such container: nope".into()));
    }
}
