//! The engine side of health checks: a probe loop per running container that has a check,
//! started with the container (and with the daemon, for those already running) and stopped
//! when it exits; each probe an exec of the check's command, bounded by its timeout. The
//! rules are in `crate::health`.

use super::Containers;
use crate::container::{signal_container_group, ContainerRow};
use crate::exec::ExecConfig;
use crate::health::{probe_command, HealthResult, Timing, OUTPUT_MAX};
use nix::sys::signal::Signal;
use std::time::{Duration, Instant, SystemTime};

impl Containers {
    /// Starts probing a container that has just started, if it has a check.
    pub(super) fn health_start(&self, row: &ContainerRow) {
        let Ok(config) = row.config() else {
            return;
        };
        let Some(check) = config.healthcheck.filter(|c| !c.is_none()) else {
            return;
        };
        let Some(command) = probe_command(&check) else {
            return;
        };
        let timing = Timing::of(&check);
        let engine = self.clone();
        let id = row.id.clone();
        let started = Instant::now();
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(timing.interval).await;
                let begun = Instant::now();
                let in_start_period = begun.duration_since(started) < timing.start_period;
                let result = engine.probe(&id, &command, timing.timeout).await;
                let changed =
                    engine
                        .inner
                        .health
                        .record(&id, result, in_start_period, timing.retries);
                if let Some(status) = changed {
                    if let Ok(row) = ContainerRow::find(&engine.inner.db, &id).await {
                        let action = format!("health_status: {}", status.as_str());
                        engine.inner.events.container(&row, &action, &[]);
                    }
                }
            }
        });
        self.inner.health.watch(&row.id, task.abort_handle());
    }

    /// Stops probing a container (it has exited or is gone).
    pub(super) fn health_stop(&self, id: &str) {
        self.inner.health.stop(id);
    }

    /// Runs the check's command once in the container: its exit code and the start of its
    /// output, or -1 when it could not run or ran past `timeout` (then it is killed).
    async fn probe(&self, id: &str, command: &[String], timeout: Duration) -> HealthResult {
        let start = SystemTime::now();
        let config = ExecConfig {
            cmd: command.to_vec(),
            env: Vec::new(),
            user: None,
            working_dir: None,
            tty: false,
            attach_stdin: false,
            privileged: false,
        };
        let (exit_code, output) = match self.probe_exec(id, config, timeout).await {
            Ok(done) => done,
            Err(message) => (-1, message),
        };
        HealthResult {
            start: rfc3339(start),
            end: rfc3339(SystemTime::now()),
            exit_code,
            output,
        }
    }

    async fn probe_exec(
        &self,
        id: &str,
        config: ExecConfig,
        timeout: Duration,
    ) -> std::result::Result<(i64, String), String> {
        let exec_id = self
            .exec_create(id, config)
            .await
            .map_err(|e| e.to_string())?;
        let outcome = async {
            let mut session = self
                .exec_start(&exec_id, None)
                .await
                .map_err(|e| e.to_string())?;
            let mut output = Vec::new();
            while let Some(chunk) = session.output.recv().await {
                let room = OUTPUT_MAX.saturating_sub(output.len());
                output.extend_from_slice(&chunk.data[..chunk.data.len().min(room)]);
            }
            let code = session.wait().await;
            Ok::<_, String>((code as i64, String::from_utf8_lossy(&output).into_owned()))
        };
        let result = match tokio::time::timeout(timeout, outcome).await {
            Ok(done) => done,
            Err(_) => {
                // The command and what it started: it leads its own session.
                match self.exec_inspect(&exec_id) {
                    Ok(inspect) if inspect.pid > 0 => {
                        if let Err(e) =
                            signal_container_group(inspect.pid as i64, id, Signal::SIGKILL)
                        {
                            tracing::warn!(container = %id, "ending a timed-out health check: {e}");
                        }
                    }
                    _ => tracing::warn!(container = %id, "a timed-out health check has no pid"),
                }
                Err(format!(
                    "Health check exceeded timeout ({})",
                    humantime::format_duration(timeout)
                ))
            }
        };
        self.inner.execs.forget(&exec_id);
        result
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_nanos(t).to_string()
}
