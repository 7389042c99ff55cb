//! Health checks as docker's API carries them: the check's settings (`Healthcheck` of an image
//! or container config, `HealthConfig`), the status, and `State.Health` with the last results.

use serde::{Deserialize, Serialize};

/// docker's `HealthConfig`: the test and its timing; zero or absent fields take the image's
/// value, then the defaults (30 s interval and timeout, 3 retries, no start period).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct HealthConfig {
    /// `["NONE"]` (no check), `["CMD", args…]`, `["CMD-SHELL", command]`; empty: inherit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub test: Vec<String>,
    /// Nanoseconds between the end of one check and the start of the next.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    /// Nanoseconds a check may run before it counts as failed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    /// Nanoseconds after the start in which failures do not count.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    /// Consecutive failures that make the container unhealthy.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub retries: u32,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

impl HealthConfig {
    /// The check is switched off (`--no-healthcheck`, `HEALTHCHECK NONE`).
    pub fn is_none(&self) -> bool {
        self.test.first().map(String::as_str) == Some("NONE")
    }
}

/// A container's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// Not yet passed a check (and not yet failed enough of them).
    Starting,
    Healthy,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One check's result, as docker's `State.Health.Log` entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct HealthResult {
    /// RFC 3339.
    pub start: String,
    pub end: String,
    /// The command's exit code; -1 when it timed out or could not run.
    pub exit_code: i64,
    /// The first 4 KiB of its output.
    pub output: String,
}

/// docker's `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    pub status: HealthStatus,
    pub failing_streak: u32,
    /// The last five results, oldest first.
    pub log: Vec<HealthResult>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_config_reads_dockers_json() {
        let c: HealthConfig = serde_json::from_str(
            r#"{"Test":["CMD-SHELL","curl -f localhost"],"Interval":30000000000,"Retries":3}"#,
        )
        .unwrap();
        assert_eq!(c.test, ["CMD-SHELL", "curl -f localhost"]);
        assert_eq!((c.interval, c.timeout, c.retries), (30_000_000_000, 0, 3));
        assert!(!c.is_none());
        let none: HealthConfig = serde_json::from_str(r#"{"Test":["NONE"]}"#).unwrap();
        assert!(none.is_none());
        assert_eq!(
            serde_json::to_value(HealthStatus::Unhealthy).unwrap(),
            "unhealthy"
        );
    }
}
