//! The delivery worker: takes due deliveries from the queue, POSTs each to its webhook (with a
//! timeout, following redirects only within the same scheme, host and port), logs the attempt
//! and, on a connection error or a non-2xx answer, puts it back with exponential back-off
//! until its last attempt.

use super::store::{self, Attempted, Due};
use super::Shared;
use crate::db::now_ms;
use berth_wire::alert::AlertOutcome;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// Deliveries sent at once at most (a slow webhook holds one slot, not the queue).
const IN_FLIGHT: usize = 4;
/// Redirects followed at most, all to the webhook's own origin.
const MAX_REDIRECTS: usize = 5;
/// The longest wait between two attempts, whatever the base and count.
const MAX_DELAY: Duration = Duration::from_secs(3600);
/// The worker looks at the queue at least this often (a clock change, a missed wake-up).
const IDLE_POLL: Duration = Duration::from_secs(30);
/// Finished deliveries are pruned after this many attempts.
const PRUNE_EVERY: u64 = 500;

/// How deliveries are sent.
#[derive(Debug, Clone)]
pub struct AlertConfig {
    /// The wait after the first failed attempt; each later one doubles it (1 s, 2 s, 4 s …).
    pub retry_base: Duration,
    /// Attempts per delivery, the first included.
    pub attempts: u32,
    /// One attempt's limit (connect, send and answer).
    pub timeout: Duration,
    /// Deliveries waiting at most; more are logged as dropped.
    pub queue_limit: u32,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            retry_base: Duration::from_secs(1),
            attempts: 5,
            timeout: Duration::from_secs(10),
            queue_limit: 1000,
        }
    }
}

/// The wait before the next attempt after `made` attempts failed, or None after the last:
/// base × 2^(made−1), at most an hour.
pub fn retry_delay(config: &AlertConfig, made: u32) -> Option<Duration> {
    if made == 0 || made >= config.attempts {
        return None;
    }
    let factor = 1u32.checked_shl(made - 1).unwrap_or(u32::MAX);
    Some(
        config
            .retry_base
            .checked_mul(factor)
            .unwrap_or(MAX_DELAY)
            .min(MAX_DELAY),
    )
}

/// The HTTP client of every delivery: a timeout, and redirects only to the same origin (a
/// webhook must not bounce the alert, or the daemon, to another host).
pub fn client(config: &AlertConfig) -> reqwest::Result<reqwest::Client> {
    let policy = reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if attempt.previous().len() > MAX_REDIRECTS || !same_origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .redirect(policy)
        .user_agent(concat!("berth/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// The worker: runs for the engine's life.
pub(super) async fn run(shared: Arc<Shared>) {
    match store::resume(&shared.db).await {
        Ok(0) => {}
        Ok(n) => tracing::info!("resuming {n} alert deliveries"),
        Err(e) => tracing::warn!("alert deliveries: {e}"),
    }
    let mut in_flight: JoinSet<()> = JoinSet::new();
    let mut since_prune = 0u64;
    loop {
        let free = IN_FLIGHT.saturating_sub(in_flight.len());
        let mut claimed = 0;
        if free > 0 {
            match store::claim_due(&shared.db, now_ms(), free as u32).await {
                Ok(due) => {
                    for due in due {
                        claimed += 1;
                        since_prune += 1;
                        in_flight.spawn(attempt(shared.clone(), due));
                    }
                }
                Err(e) => tracing::warn!("alert deliveries: {e}"),
            }
        }
        if since_prune >= PRUNE_EVERY {
            since_prune = 0;
            if let Err(e) = store::prune(&shared.db, store::KEEP_DELIVERIES).await {
                tracing::warn!("alert delivery retention: {e}");
            }
        }
        let wait = if in_flight.len() >= IN_FLIGHT {
            IDLE_POLL
        } else {
            match store::next_due(&shared.db).await {
                Ok(Some(at)) => Duration::from_millis((at - now_ms()).clamp(0, 30_000) as u64),
                Ok(None) => IDLE_POLL,
                Err(e) => {
                    tracing::warn!("alert deliveries: {e}");
                    IDLE_POLL
                }
            }
        };
        if wait.is_zero() && claimed > 0 && in_flight.len() < IN_FLIGHT {
            continue;
        }
        // Due now but nothing taken (a failing database): no busy loop.
        let wait = wait.max(Duration::from_millis(50));
        tokio::select! {
            () = shared.queued.notified() => {}
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// One attempt at one delivery, logged; the queue is told either way.
async fn attempt(shared: Arc<Shared>, due: Due) {
    let result = send(&shared, &due).await;
    if let Err(e) = store::record_attempt(&shared.db, &due, &result).await {
        tracing::error!(delivery = due.id, "cannot log an alert delivery: {e}");
    }
    shared.attempted.send_modify(|n| *n += 1);
}

/// POSTs the body: 2xx is delivered; anything else is retried while attempts are left.
async fn send(shared: &Shared, due: &Due) -> Attempted {
    let answer = shared
        .client
        .post(&due.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(due.body.clone())
        .send()
        .await;
    let (status, error) = match answer {
        Ok(response) if response.status().is_success() => {
            return Attempted {
                status: Some(response.status().as_u16()),
                error: None,
                outcome: AlertOutcome::Delivered,
                next_retry_ms: None,
            };
        }
        Ok(response) if response.status().is_redirection() => (
            Some(response.status().as_u16()),
            Some(match response.headers().get(reqwest::header::LOCATION) {
                Some(to) => format!(
                    "a redirect to {} (not followed: another origin, or too many)",
                    String::from_utf8_lossy(to.as_bytes())
                ),
                None => "a redirect without a location".to_string(),
            }),
        ),
        Ok(response) => (Some(response.status().as_u16()), None),
        Err(e) => (None, Some(describe(&e))),
    };
    match retry_delay(&shared.config, due.attempts + 1) {
        Some(delay) => Attempted {
            status,
            error,
            outcome: AlertOutcome::Retrying,
            next_retry_ms: Some(now_ms() + delay.as_millis() as i64),
        },
        None => Attempted {
            status,
            error,
            outcome: AlertOutcome::Failed,
            next_retry_ms: None,
        },
    }
}

/// A client error with its causes ("error sending request: … Connection refused").
fn describe(err: &reqwest::Error) -> String {
    let mut text = if err.is_timeout() {
        "timed out".to_string()
    } else {
        err.to_string()
    };
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_the_base_and_stops_after_the_last_attempt() {
        let config = AlertConfig::default();
        let delays: Vec<Option<Duration>> = (1..=5).map(|n| retry_delay(&config, n)).collect();
        let s = Duration::from_secs;
        assert_eq!(
            delays,
            vec![Some(s(1)), Some(s(2)), Some(s(4)), Some(s(8)), None]
        );
        let fast = AlertConfig {
            retry_base: Duration::from_millis(50),
            attempts: 3,
            ..AlertConfig::default()
        };
        assert_eq!(retry_delay(&fast, 1), Some(Duration::from_millis(50)));
        assert_eq!(retry_delay(&fast, 2), Some(Duration::from_millis(100)));
        assert_eq!(retry_delay(&fast, 3), None);
        let many = AlertConfig {
            attempts: 100,
            ..AlertConfig::default()
        };
        assert_eq!(retry_delay(&many, 60), Some(MAX_DELAY));
        assert_eq!(retry_delay(&many, 0), None);
    }
}
