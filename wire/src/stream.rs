//! The last frame of a multiplexed output stream (a hijacked or output-only attach, an exec's
//! output, a followed log): a `SYSTEM` frame whose JSON says how the stream ended.

use crate::ErrorDetail;
use serde::{Deserialize, Serialize};

/// `{"exit_code": 7}`, `{"detached": true}` or `{"error": {"code": …, "message": …}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StreamEnd {
    /// The container (or exec'd process) exited with this code; all its output came first.
    ExitCode(i32),
    /// The client typed the detach keys; the container goes on.
    Detached(bool),
    /// The stream broke: the output is incomplete.
    Error(ErrorDetail),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn ends_have_their_documented_shapes() {
        for (end, json) in [
            (StreamEnd::ExitCode(7), r#"{"exit_code":7}"#),
            (StreamEnd::Detached(true), r#"{"detached":true}"#),
            (
                StreamEnd::Error(ErrorDetail {
                    code: ErrorCode::NotFound,
                    message: "gone".into(),
                }),
                r#"{"error":{"code":"not_found","message":"gone"}}"#,
            ),
        ] {
            assert_eq!(serde_json::to_string(&end).unwrap(), json);
            assert_eq!(serde_json::from_str::<StreamEnd>(json).unwrap(), end);
        }
        assert!(serde_json::from_str::<StreamEnd>("{}").is_err());
        assert!(serde_json::from_str::<StreamEnd>(r#"{"error":"boom"}"#).is_err());
    }
}
