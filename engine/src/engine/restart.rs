//! The engine side of restart policies: after an exit, a restart is scheduled per the
//! container's policy with docker's back-off; a user's stop or kill marks the container
//! (docker's HasBeenManuallyStopped) and cancels a pending restart, as `rm` does; a user's
//! start clears both and the restart count; at daemon start, stopped containers whose policy
//! says so are started again. The rules themselves are in `container::restart`.

use super::Containers;
use crate::container::restart::{next_delay, RestartPolicyExt};
use crate::container::ContainerRow;
use crate::{Error, Result};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Per container: the last back-off delay and the pending restart, if any.
#[derive(Default)]
pub(super) struct RestartTimers {
    timers: Mutex<HashMap<String, Timer>>,
    /// Bumped whenever a container's pending restart begins or ends: lists show it.
    changes: AtomicU64,
}

#[derive(Default)]
struct Timer {
    delay: Option<Duration>,
    /// Bumped by every schedule and cancel: a waiting restart whose number is no longer
    /// current has been cancelled.
    generation: u64,
    pending: bool,
}

impl RestartTimers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Timer>> {
        self.timers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many times a pending restart began or ended.
    pub(super) fn changes(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    fn changed(&self) {
        self.changes.fetch_add(1, Ordering::AcqRel);
    }

    /// Cancels a pending restart; with `forget`, the back-off starts over too.
    fn cancel(&self, id: &str, forget: bool) {
        self.changed();
        let mut timers = self.lock();
        if forget {
            timers.remove(id);
        } else if let Some(timer) = timers.get_mut(id) {
            timer.generation += 1;
            timer.pending = false;
        }
    }

    pub(super) fn is_pending(&self, id: &str) -> bool {
        self.lock().get(id).is_some_and(|t| t.pending)
    }
}

/// The restart bookkeeping columns of a container.
async fn counters(engine: &Containers, id: &str) -> Result<(u32, bool)> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT restart_count, manually_stopped FROM containers WHERE id = ?")
            .bind(id)
            .fetch_optional(&engine.inner.db)
            .await?;
    let (count, stopped) = row.ok_or_else(|| Error::not_found("container", id))?;
    Ok((count.max(0) as u32, stopped != 0))
}

impl Containers {
    /// Restarts done by the container's policy since a user last started it.
    pub(crate) async fn restart_count(&self, id: &str) -> Result<u32> {
        Ok(counters(self, id).await?.0)
    }

    /// Whether a policy restart is waiting out its back-off (docker's `Restarting`).
    pub(crate) fn restart_pending(&self, id: &str) -> bool {
        self.inner.restarts.is_pending(id)
    }

    /// A user stops or kills the container: no policy restart follows (until the daemon
    /// restarts, for `always`), and a pending one is cancelled.
    ///
    /// A row that cannot be written (a full disk) is only a warning: stopping, killing and
    /// removing must go on, and the pending restart is cancelled in memory regardless.
    pub(super) async fn mark_manually_stopped_or_warn(&self, id: &str) {
        self.inner.restarts.cancel(id, false);
        let written = sqlx::query("UPDATE containers SET manually_stopped = 1 WHERE id = ?")
            .bind(id)
            .execute(&self.inner.db)
            .await;
        if let Err(e) = written {
            tracing::warn!(container = %id, "recording the manual stop failed: {e}");
        }
    }

    /// A removal begins: no policy restart may follow it. Only a running container or one
    /// with a restart pending needs the mark in its row (the removal deletes the row); for
    /// the rest, as every `run --rm` container at its exit, cancelling in memory is enough
    /// and saves a write.
    pub(super) async fn stop_restarts_for_removal(&self, id: &str, alive: bool) {
        if alive || self.restart_pending(id) {
            self.mark_manually_stopped_or_warn(id).await;
        } else {
            self.inner.restarts.cancel(id, false);
        }
    }

    /// A user starts the container (or removes it): a fresh restart policy state.
    pub(super) async fn reset_restarts(&self, id: &str) -> Result<()> {
        self.inner.restarts.cancel(id, true);
        sqlx::query("UPDATE containers SET manually_stopped = 0, restart_count = 0 WHERE id = ?")
            .bind(id)
            .execute(&self.inner.db)
            .await?;
        Ok(())
    }

    /// After an exit has been recorded: schedules a restart if the policy asks for one.
    pub(super) async fn restart_after_exit(
        &self,
        row: &ContainerRow,
        exit_code: i32,
        finished_ms: i64,
    ) -> Result<()> {
        let policy = row.config()?.restart_policy;
        if policy.is_none() {
            return Ok(());
        }
        let (count, manually_stopped) = counters(self, &row.id).await?;
        if !policy.restarts_after(exit_code, manually_stopped, count) {
            return Ok(());
        }
        let ran_for = Duration::from_millis(
            (finished_ms - row.started_at.unwrap_or(finished_ms)).max(0) as u64,
        );
        let (delay, generation) = {
            let mut timers = self.inner.restarts.lock();
            let timer = timers.entry(row.id.clone()).or_default();
            let delay = next_delay(timer.delay, ran_for);
            timer.delay = Some(delay);
            timer.generation += 1;
            timer.pending = true;
            (delay, timer.generation)
        };
        self.inner.restarts.changed();
        sqlx::query("UPDATE containers SET restart_count = restart_count + 1 WHERE id = ?")
            .bind(&row.id)
            .execute(&self.inner.db)
            .await?;
        let engine = self.clone();
        let id = row.id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let current = |timers: &HashMap<String, Timer>| {
                timers
                    .get(&id)
                    .is_some_and(|t| t.generation == generation && t.pending)
            };
            if !current(&engine.inner.restarts.lock()) {
                return;
            }
            // Still "restarting" until the start is done, so that nobody sees it settled.
            match engine.start_as(&id, false).await {
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => tracing::warn!(container = %id, "restart by policy failed: {e}"),
            }
            let mut timers = engine.inner.restarts.lock();
            if current(&timers) {
                if let Some(timer) = timers.get_mut(&id) {
                    timer.pending = false;
                }
                engine.inner.restarts.changed();
            }
        });
        Ok(())
    }

    /// At daemon start, after reconciling: starts the stopped containers whose policy says so
    /// (a host reboot stops everything; `always` and not manually stopped `unless-stopped`
    /// containers come back, as do failed `on-failure` ones with restarts left).
    pub(super) async fn restart_at_boot(&self) -> Result<()> {
        for row in ContainerRow::list(&self.inner.db, true).await? {
            let policy = row.config()?.restart_policy;
            if policy.is_none()
                || row.state()?.is_alive()
                || row.started_at.is_none()
                || self.restart_pending(&row.id)
            {
                continue;
            }
            let (count, manually_stopped) = counters(self, &row.id).await?;
            let exit_code = row.exit_code.unwrap_or(0) as i32;
            if policy.starts_at_boot(exit_code, manually_stopped, count) {
                // Started again by its policy: later exits follow the policy again.
                sqlx::query("UPDATE containers SET manually_stopped = 0 WHERE id = ?")
                    .bind(&row.id)
                    .execute(&self.inner.db)
                    .await?;
                if let Err(e) = self.start_as(&row.id, false).await {
                    tracing::warn!(container = %row.id, "restart at daemon start failed: {e}");
                }
            }
        }
        Ok(())
    }
}
