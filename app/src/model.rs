//! The data the dashboard moves between server and browser: container views and the app's error.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// Where a container is in its life, as the dashboard shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateView {
    Created,
    Running,
    Paused,
    Exited,
}

impl StateView {
    pub fn as_str(self) -> &'static str {
        match self {
            StateView::Created => "created",
            StateView::Running => "running",
            StateView::Paused => "paused",
            StateView::Exited => "exited",
        }
    }
}

/// One container as a row of the list or the header of its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerView {
    pub id: String,
    pub name: String,
    pub image: String,
    pub command: String,
    pub state: StateView,
    pub exit_code: Option<i32>,
    /// The kernel's OOM killer ended it.
    #[serde(default)]
    pub oom_killed: bool,
    /// Unix milliseconds.
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
}

impl ContainerView {
    /// The first 12 hex digits of the id, as container tools show it.
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }

    /// The exit code as shown: "—" while there is none, "137 (out of memory)" after an OOM kill.
    pub fn exit_text(&self) -> String {
        exit_text(self.exit_code, self.oom_killed)
    }

    /// What the state column says: "exited (137)" for an exited container with a code.
    pub fn status_text(&self) -> String {
        match (self.state, self.exit_code) {
            (StateView::Exited, Some(code)) => format!("exited ({code})"),
            (state, _) => state.as_str().to_string(),
        }
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
    pub containers: Vec<ContainerView>,
}

/// An action a user can take on one container from the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerAction {
    Start,
    Stop,
    Remove,
    ForceRemove,
}

/// What can go wrong behind a page; the message is the one shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
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
    #[error("{0}")]
    Call(ServerFnErrorErr),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Call(value)
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{AppError, ContainerView, StateView};
    use berth_engine::container::{ContainerState, ContainerSummary};

    impl From<ContainerState> for StateView {
        fn from(state: ContainerState) -> Self {
            match state {
                ContainerState::Created => StateView::Created,
                ContainerState::Running => StateView::Running,
                ContainerState::Paused => StateView::Paused,
                ContainerState::Exited => StateView::Exited,
            }
        }
    }

    impl From<ContainerSummary> for ContainerView {
        fn from(s: ContainerSummary) -> Self {
            ContainerView {
                id: s.id,
                name: s.name,
                image: s.image,
                command: s.command,
                state: s.state.into(),
                exit_code: s.exit_code,
                oom_killed: s.oom_killed,
                created_at_ms: s.created_at_ms,
                started_at_ms: s.started_at_ms,
                finished_at_ms: s.finished_at_ms,
            }
        }
    }

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

    /// The engine handle the server provided as context for this request.
    pub fn engine() -> Result<berth_engine::Engine, AppError> {
        leptos::prelude::use_context::<berth_engine::Engine>().ok_or(AppError::NoEngine)
    }
}

#[cfg(feature = "ssr")]
pub use ssr::engine;

#[cfg(test)]
mod tests {
    use super::*;

    fn view(state: StateView, exit_code: Option<i32>) -> ContainerView {
        ContainerView {
            id: "0123456789abcdef0123".into(),
            name: "web".into(),
            image: "busybox".into(),
            command: "sleep 300".into(),
            state,
            exit_code,
            oom_killed: false,
            created_at_ms: 0,
            started_at_ms: None,
            finished_at_ms: None,
        }
    }

    #[test]
    fn short_id_keeps_twelve_digits_and_tolerates_short_ids() {
        assert_eq!(view(StateView::Running, None).short_id(), "0123456789ab");
        let mut v = view(StateView::Running, None);
        v.id = "abc".into();
        assert_eq!(v.short_id(), "abc");
    }

    #[test]
    fn status_text_shows_the_exit_code_only_when_exited() {
        assert_eq!(
            view(StateView::Exited, Some(137)).status_text(),
            "exited (137)"
        );
        assert_eq!(view(StateView::Exited, None).status_text(), "exited");
        assert_eq!(view(StateView::Running, Some(0)).status_text(), "running");
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

    #[cfg(feature = "ssr")]
    #[test]
    fn summary_converts_field_by_field() {
        // Built from JSON so that fields the engine adds later with defaults do not break it.
        let s: berth_engine::container::ContainerSummary = serde_json::from_str(
            r#"{"id":"abc","name":"n","image":"busybox","image_id":"sha256:00","command":"sh",
                "state":"exited","exit_code":3,"oom_killed":true,"pid":null,"created_at_ms":5,
                "started_at_ms":6,"finished_at_ms":7}"#,
        )
        .expect("a summary");
        let v = ContainerView::from(s);
        assert_eq!(v.state, StateView::Exited);
        assert_eq!(v.exit_code, Some(3));
        assert!(v.oom_killed);
        assert_eq!(
            (v.created_at_ms, v.started_at_ms, v.finished_at_ms),
            (5, Some(6), Some(7))
        );
    }
}
