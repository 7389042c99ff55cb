//! Alerts: rules an admin sets up (a container died, was OOM-killed, turned unhealthy, or is
//! in a restart loop), matched against the engine's own events, and sent as a JSON POST to
//! the rule's webhook, retried with back-off, every attempt in a delivery log.
//!
//! `rules` is what a rule is and checks, `matcher` which events fire which rules (and why
//! each fires once per occurrence), `payload` the body a webhook gets, `store` the tables
//! (the queue is persisted: pending deliveries resume after a daemon restart), `delivery`
//! the worker that sends them.
//!
//! What the matcher remembers of containers (a user's kill before an exit, the restart
//! windows) is in memory: a daemon restart starts the windows afresh. Events from the
//! daemon's start on (its reconciling of containers that exited while it was down included)
//! are matched.

mod delivery;
mod matcher;
mod payload;
mod rules;
mod store;

pub use delivery::{retry_delay, AlertConfig};
pub use matcher::UNHEALTHY_ACTION;
pub use rules::validate_webhook;

use crate::db::Db;
use crate::events::{EventBus, EventQuery, EventStream, Since};
use crate::Result;
use berth_wire::alert::{AlertAttempt, AlertRule, AlertTestResult, CreateAlertRule};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Why an alert rule or its webhook is refused.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error("invalid webhook {0}")]
    InvalidWebhook(String),
    #[error("invalid alert rule: {0}")]
    InvalidRule(String),
    #[error("cannot set up the webhook client: {0}")]
    Client(String),
}

/// The alert machinery of one engine.
pub struct Alerts {
    shared: Arc<Shared>,
}

/// What the listener, the worker and the engine's calls share.
pub(crate) struct Shared {
    db: Db,
    config: AlertConfig,
    client: reqwest::Client,
    host: String,
    matcher: Mutex<matcher::Matcher>,
    /// Woken when a delivery is queued.
    queued: Notify,
    /// Bumped after every logged attempt (a test waits for its first).
    attempted: watch::Sender<u64>,
}

impl Alerts {
    pub(crate) fn new(db: Db, config: AlertConfig) -> Result<Alerts> {
        let client = delivery::client(&config).map_err(|e| AlertError::Client(e.to_string()))?;
        Ok(Alerts {
            shared: Arc::new(Shared {
                db,
                config,
                client,
                host: payload::host_name(),
                matcher: Mutex::new(matcher::Matcher::default()),
                queued: Notify::new(),
                attempted: watch::Sender::new(0),
            }),
        })
    }

    /// Loads the rules, then matches every event after sequence number `after` and sends
    /// what they fire, for the engine's life.
    pub(crate) async fn start(&self, bus: EventBus, after: u64) -> Result<()> {
        self.reload().await?;
        tokio::spawn(delivery::run(self.shared.clone()));
        tokio::spawn(listen(self.shared.clone(), bus, after));
        Ok(())
    }

    async fn reload(&self) -> Result<()> {
        let rules = store::rules(&self.shared.db).await?;
        self.shared
            .matcher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .set_rules(rules);
        Ok(())
    }
}

/// Follows the container events; a stream that ends (its table unreadable) is followed again
/// from the last event seen.
async fn listen(shared: Arc<Shared>, bus: EventBus, mut after: u64) {
    loop {
        let mut query = EventQuery {
            since: Some(Since::After(after)),
            ..EventQuery::default()
        };
        query.filter.add("type", "container");
        let mut events: EventStream = crate::events::follow(bus.clone(), query);
        while let Some(item) = events.next().await {
            match item {
                Ok(event) => {
                    after = event.seq;
                    let firings = shared
                        .matcher
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .on_event(&event);
                    for firing in firings {
                        let body = payload::for_firing(&firing, &shared.host);
                        queue(&shared, firing.rule.id, &firing.rule.webhook, &body).await;
                    }
                }
                Err(e) => tracing::warn!("alerts: reading events: {e}"),
            }
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Puts a delivery in the queue and wakes the worker; returns its id.
async fn queue(
    shared: &Shared,
    rule: i64,
    url: &str,
    body: &berth_wire::alert::AlertPayload,
) -> Option<i64> {
    let json = match serde_json::to_string(body) {
        Ok(json) => json,
        Err(e) => {
            tracing::error!("alerts: cannot encode an alert: {e}");
            return None;
        }
    };
    match store::enqueue(
        &shared.db,
        rule,
        &body.alert,
        url,
        &json,
        shared.config.queue_limit,
    )
    .await
    {
        Ok(store::Queued::Pending(id)) => {
            shared.queued.notify_one();
            Some(id)
        }
        Ok(store::Queued::Dropped(id)) => {
            tracing::warn!(rule, "alerts: the delivery queue is full; alert dropped");
            Some(id)
        }
        Err(e) => {
            tracing::error!(rule, "alerts: cannot queue an alert: {e}");
            None
        }
    }
}

impl Alerts {
    /// Every alert rule, oldest first.
    pub async fn rules(&self) -> Result<Vec<AlertRule>> {
        let rules = store::rules(&self.shared.db).await?;
        Ok(rules.iter().map(rules::Rule::to_wire).collect())
    }

    /// Checks and stores a rule; it applies to events from now on.
    pub async fn add_rule(&self, request: &CreateAlertRule) -> Result<AlertRule> {
        let rule = rules::Rule::from_request(request)?;
        let stored = store::insert_rule(&self.shared.db, &rule).await?;
        self.reload().await?;
        Ok(stored.to_wire())
    }

    /// Removes a rule; its deliveries not yet made are cancelled.
    pub async fn remove_rule(&self, id: i64) -> Result<()> {
        store::delete_rule(&self.shared.db, id).await?;
        self.reload().await
    }

    /// Queues a test delivery to the rule's webhook and waits (up to the webhook timeout and a
    /// little) for its first attempt.
    pub async fn test_rule(&self, id: i64) -> Result<AlertTestResult> {
        let shared = &self.shared;
        let rule = store::rule(&shared.db, id).await?;
        let body = payload::for_test(&rule, &shared.host, crate::logs::now_ns());
        let mut attempted = shared.attempted.subscribe();
        let json = serde_json::to_string(&body)
            .map_err(|e| crate::Error::Corrupt(format!("a test alert: {e}")))?;
        let delivery = match store::enqueue(
            &shared.db,
            rule.id,
            &body.alert,
            &rule.webhook,
            &json,
            shared.config.queue_limit,
        )
        .await?
        {
            store::Queued::Pending(id) => {
                shared.queued.notify_one();
                id
            }
            store::Queued::Dropped(id) => id,
        };
        let first = async {
            loop {
                if let Some(attempt) = store::first_attempt(&shared.db, delivery).await? {
                    return Ok(Some(attempt));
                }
                if attempted.changed().await.is_err() {
                    return Ok::<_, crate::Error>(None);
                }
            }
        };
        let limit = shared.config.timeout + Duration::from_secs(5);
        let attempt = tokio::time::timeout(limit, first)
            .await
            .unwrap_or(Ok(None))?;
        Ok(AlertTestResult { delivery, attempt })
    }

    /// The delivery log, newest first: at most `limit` attempts.
    pub async fn deliveries(&self, limit: u32) -> Result<Vec<AlertAttempt>> {
        store::attempts(&self.shared.db, limit).await
    }
}
