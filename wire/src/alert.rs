//! Alerts on the wire: the rules an admin sets up, the webhook body they send, and the
//! delivery log (every attempt at sending one).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// What a rule watches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A container exited with a non-zero code (not after a user's stop or kill).
    Died,
    /// A container's process was killed for running out of memory.
    Oom,
    /// A container's health check turned unhealthy.
    Unhealthy,
    /// A container restarted `restarts` times within `minutes` minutes.
    RestartLoop,
}

impl AlertKind {
    pub const ALL: [AlertKind; 4] = [
        AlertKind::Died,
        AlertKind::Oom,
        AlertKind::Unhealthy,
        AlertKind::RestartLoop,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Died => "died",
            AlertKind::Oom => "oom",
            AlertKind::Unhealthy => "unhealthy",
            AlertKind::RestartLoop => "restart_loop",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AlertKind {
    type Err = String;

    /// The wire names, and `restart-loop` as the CLI spells it.
    fn from_str(s: &str) -> Result<AlertKind, String> {
        match s {
            "died" => Ok(AlertKind::Died),
            "oom" => Ok(AlertKind::Oom),
            "unhealthy" => Ok(AlertKind::Unhealthy),
            "restart_loop" | "restart-loop" => Ok(AlertKind::RestartLoop),
            other => Err(format!(
                "invalid alert {other:?}: expected died, oom, unhealthy or restart-loop"
            )),
        }
    }
}

/// One alert rule (`GET /api/v1/alerts/rules`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertRule {
    pub id: i64,
    pub kind: AlertKind,
    /// `restart_loop`: this many restarts…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<u32>,
    /// …within this many minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    /// Only this container (its name, or a prefix of its id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// Only containers with this label (`key` or `key=value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Where the alert is POSTed (http or https).
    pub webhook: String,
    pub enabled: bool,
    /// Unix milliseconds.
    pub created_at_ms: i64,
}

/// `POST /api/v1/alerts/rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAlertRule {
    pub kind: AlertKind,
    /// Required for `restart_loop` (at least 1), refused for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<u32>,
    /// Required for `restart_loop` (1 to 1440), refused for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub webhook: String,
    /// Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

/// The container an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertContainer {
    pub id: String,
    pub name: String,
    pub image: String,
}

/// The event that fired an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertEvent {
    /// docker's action: `die`, `oom`, `health_status: unhealthy`, `start` …
    pub action: String,
    /// Unix nanoseconds.
    pub time: i64,
    /// docker's attributes (`exitCode`, the labels, `name`, `image` …).
    pub attributes: BTreeMap<String, String>,
}

/// The JSON body POSTed to a rule's webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertPayload {
    /// `died`, `oom`, `unhealthy`, `restart_loop`, or `test` (`berth alert test`).
    pub alert: String,
    /// The rule's id.
    pub rule: i64,
    /// None for a test.
    pub container: Option<AlertContainer>,
    pub event: AlertEvent,
    /// The daemon's host name.
    pub host: String,
    /// One line for a human.
    pub message: String,
}

/// What became of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AlertOutcome {
    /// The webhook answered 2xx.
    Delivered,
    /// It failed; another attempt is due at `next_retry_ms`.
    Retrying,
    /// It failed and was the last attempt.
    Failed,
    /// Never sent: the queue was full.
    Dropped,
}

impl AlertOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertOutcome::Delivered => "delivered",
            AlertOutcome::Retrying => "retrying",
            AlertOutcome::Failed => "failed",
            AlertOutcome::Dropped => "dropped",
        }
    }
}

/// One line of the delivery log (`GET /api/v1/alerts/deliveries`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertAttempt {
    pub id: i64,
    /// The delivery (one alert to one webhook) this attempt belongs to.
    pub delivery: i64,
    pub rule: i64,
    pub alert: String,
    /// Unix milliseconds.
    pub time_ms: i64,
    /// 1 for the first attempt; 0 for a dropped delivery.
    pub attempt: u32,
    /// The webhook's HTTP status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub outcome: AlertOutcome,
    /// Unix milliseconds, when retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_retry_ms: Option<i64>,
}

/// The query of `GET /api/v1/alerts/deliveries`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct AlertDeliveriesQuery {
    /// At most this many attempts (default 100, at most 1000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// `POST /api/v1/alerts/rules/{id}/test`: the test delivery, and its first attempt if it
/// was made within the webhook timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertTestResult {
    pub delivery: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<AlertAttempt>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_and_the_cli_spelling_is_accepted() {
        for kind in AlertKind::ALL {
            assert_eq!(kind.as_str().parse::<AlertKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!("restart-loop".parse(), Ok(AlertKind::RestartLoop));
        assert!("crashed".parse::<AlertKind>().is_err());
    }

    #[test]
    fn a_rule_request_refuses_unknown_fields() {
        let ok: CreateAlertRule =
            serde_json::from_str(r#"{"kind":"died","webhook":"http://h/"}"#).unwrap();
        assert_eq!(ok.kind, AlertKind::Died);
        assert!(serde_json::from_str::<CreateAlertRule>(
            r#"{"kind":"died","webhook":"http://h/","colour":1}"#
        )
        .is_err());
    }
}
