//! Health checks, docker's rules: a running container with a check is probed once per
//! interval (the first probe one interval after the start), each probe its test run as an
//! exec in the container with a timeout; a success makes it healthy at once, failures count
//! into a streak (not while it is still starting within its start period) and `retries` of
//! them in a row make it unhealthy. The last five results are kept for `State.Health`, and
//! each change of status is a `health_status: …` event (daemon/health.go in moby).

pub use berth_wire::container::health::{Health, HealthConfig, HealthResult, HealthStatus};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// docker's defaults for fields left at zero.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_RETRIES: u32 = 3;
/// Results kept in `State.Health.Log` (docker's maxLogEntries).
pub const LOG_ENTRIES: usize = 5;
/// Output kept of each probe (docker's maxOutputLen).
pub const OUTPUT_MAX: usize = 4096;

/// A check's timing with the defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub retries: u32,
}

impl Timing {
    pub fn of(config: &HealthConfig) -> Timing {
        let ns = |v: i64, default: Duration| match v {
            v if v > 0 => Duration::from_nanos(v as u64),
            _ => default,
        };
        Timing {
            interval: ns(config.interval, DEFAULT_INTERVAL),
            timeout: ns(config.timeout, DEFAULT_TIMEOUT),
            start_period: ns(config.start_period, Duration::ZERO),
            retries: if config.retries == 0 {
                DEFAULT_RETRIES
            } else {
                config.retries
            },
        }
    }
}

/// The command a probe runs: `CMD args…` as is, `CMD-SHELL command` through `/bin/sh -c`.
pub fn probe_command(config: &HealthConfig) -> Option<Vec<String>> {
    match config.test.split_first() {
        Some((kind, args)) if kind == "CMD" && !args.is_empty() => Some(args.to_vec()),
        Some((kind, [command])) if kind == "CMD-SHELL" => {
            Some(vec!["/bin/sh".into(), "-c".into(), command.clone()])
        }
        _ => None,
    }
}

/// One container's health as its probes have found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracker {
    health: Health,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            health: Health {
                status: HealthStatus::Starting,
                failing_streak: 0,
                log: Vec::new(),
            },
        }
    }
}

impl Tracker {
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Takes a probe's result; `in_start_period`: the probe began within the start period.
    /// Returns the new status when it changed.
    pub fn record(
        &mut self,
        result: HealthResult,
        in_start_period: bool,
        retries: u32,
    ) -> Option<HealthStatus> {
        let before = self.health.status;
        if result.exit_code == 0 {
            self.health.failing_streak = 0;
            self.health.status = HealthStatus::Healthy;
        } else if !(before == HealthStatus::Starting && in_start_period) {
            // Failures while still starting within the start period do not count.
            self.health.failing_streak += 1;
            if self.health.failing_streak >= retries {
                self.health.status = HealthStatus::Unhealthy;
            }
        }
        self.health.log.push(result);
        if self.health.log.len() > LOG_ENTRIES {
            let extra = self.health.log.len() - LOG_ENTRIES;
            self.health.log.drain(..extra);
        }
        (self.health.status != before).then_some(self.health.status)
    }
}

/// The trackers of running containers with a check, and their probe loops.
#[derive(Default)]
pub(crate) struct HealthMonitors {
    entries: Mutex<HashMap<String, Monitor>>,
    /// Bumped by every change of a status (and every watch and stop): lists show them.
    changes: AtomicU64,
}

struct Monitor {
    tracker: Tracker,
    task: tokio::task::AbortHandle,
}

impl HealthMonitors {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Monitor>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times a status changed (a stamp for kept list answers).
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Starts watching a container whose probe loop is `task` (a previous one is stopped).
    pub fn watch(&self, id: &str, task: tokio::task::AbortHandle) {
        let old = self.lock().insert(
            id.to_string(),
            Monitor {
                tracker: Tracker::default(),
                task,
            },
        );
        if let Some(old) = old {
            old.task.abort();
        }
        self.changed();
    }

    /// Stops a container's probes (it exited or was removed); its health is forgotten.
    pub fn stop(&self, id: &str) {
        if let Some(monitor) = self.lock().remove(id) {
            monitor.task.abort();
            self.changed();
        }
    }

    /// Records a probe's result for a watched container; the new status when it changed.
    pub fn record(
        &self,
        id: &str,
        result: HealthResult,
        in_start_period: bool,
        retries: u32,
    ) -> Option<HealthStatus> {
        let changed = self
            .lock()
            .get_mut(id)
            .and_then(|m| m.tracker.record(result, in_start_period, retries));
        if changed.is_some() {
            self.changed();
        }
        changed
    }

    pub fn health(&self, id: &str) -> Option<Health> {
        self.lock().get(id).map(|m| m.tracker.health().clone())
    }

    pub fn status(&self, id: &str) -> Option<HealthStatus> {
        self.lock().get(id).map(|m| m.tracker.health().status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(code: i64) -> HealthResult {
        HealthResult {
            start: String::new(),
            end: String::new(),
            exit_code: code,
            output: format!("code {code}"),
        }
    }

    #[test]
    fn statuses_change_as_dockers_do() {
        let mut t = Tracker::default();
        assert_eq!(t.health().status, HealthStatus::Starting);
        // Failures within the start period do not count while starting.
        assert_eq!(t.record(result(1), true, 2), None);
        assert_eq!(t.health().failing_streak, 0);
        assert_eq!(t.record(result(1), false, 2), None);
        assert_eq!(t.record(result(1), false, 2), Some(HealthStatus::Unhealthy));
        assert_eq!(t.health().failing_streak, 2);
        // One success is enough to be healthy again.
        assert_eq!(t.record(result(0), false, 2), Some(HealthStatus::Healthy));
        assert_eq!(t.health().failing_streak, 0);
        // Once healthy, the start period no longer shields failures.
        assert_eq!(t.record(result(1), true, 2), None);
        assert_eq!(t.record(result(-1), true, 2), Some(HealthStatus::Unhealthy));
        // The log keeps the last five, oldest first.
        assert_eq!(t.health().log.len(), LOG_ENTRIES);
        assert_eq!(t.health().log.last().unwrap().exit_code, -1);
    }

    #[test]
    fn commands_and_defaults() {
        let shell = HealthConfig {
            test: vec!["CMD-SHELL".into(), "curl -f localhost || exit 1".into()],
            ..HealthConfig::default()
        };
        assert_eq!(
            probe_command(&shell).unwrap(),
            ["/bin/sh", "-c", "curl -f localhost || exit 1"]
        );
        let cmd = HealthConfig {
            test: vec!["CMD".into(), "pg_isready".into(), "-q".into()],
            interval: 2_000_000_000,
            ..HealthConfig::default()
        };
        assert_eq!(probe_command(&cmd).unwrap(), ["pg_isready", "-q"]);
        let none = HealthConfig {
            test: vec!["NONE".into()],
            ..HealthConfig::default()
        };
        assert_eq!(probe_command(&none), None);
        let t = Timing::of(&cmd);
        assert_eq!(t.interval, Duration::from_secs(2));
        assert_eq!((t.timeout, t.retries), (DEFAULT_TIMEOUT, DEFAULT_RETRIES));
        assert_eq!(t.start_period, Duration::ZERO);
    }
}
