//! The alert tables: rules, the queue of deliveries (pending ones survive a restart), and the
//! delivery log of every attempt.

use super::rules::{Condition, Rule};
use crate::db::{begin_write, now_ms, Db};
use crate::{Error, Result};
use berth_wire::alert::{AlertAttempt, AlertKind, AlertOutcome};

/// Finished deliveries beyond this many (the newest kept) are deleted with their attempts.
pub const KEEP_DELIVERIES: i64 = 10_000;

type RuleRow = (
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
);

const RULE_COLUMNS: &str =
    "id, kind, restarts, minutes, container, label, webhook, enabled, created_at_ms";

fn rule_from_row(row: RuleRow) -> Result<Rule> {
    let (id, kind, restarts, minutes, container, label, webhook, enabled, created_at_ms) = row;
    let corrupt = |what: &str| Error::Corrupt(format!("alert rule {id}: {what}"));
    let kind: AlertKind = kind.parse().map_err(|e: String| corrupt(&e))?;
    let number = |n: Option<i64>| n.and_then(|n| u32::try_from(n).ok());
    let condition = Condition::new(kind, number(restarts), number(minutes))
        .map_err(|e| corrupt(&e.to_string()))?;
    Ok(Rule {
        id,
        condition,
        container,
        label,
        webhook,
        enabled: enabled != 0,
        created_at_ms,
    })
}

pub async fn rules(db: &Db) -> Result<Vec<Rule>> {
    let rows: Vec<RuleRow> = sqlx::query_as(&format!(
        "SELECT {RULE_COLUMNS} FROM alert_rules ORDER BY id"
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(rule_from_row).collect()
}

pub async fn rule(db: &Db, id: i64) -> Result<Rule> {
    let row: Option<RuleRow> = sqlx::query_as(&format!(
        "SELECT {RULE_COLUMNS} FROM alert_rules WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    rule_from_row(row.ok_or_else(|| Error::not_found("alert rule", id.to_string()))?)
}

/// Stores a checked rule; returns it with its id and creation time.
pub async fn insert_rule(db: &Db, rule: &Rule) -> Result<Rule> {
    let (restarts, minutes) = match rule.condition {
        Condition::RestartLoop { restarts, minutes } => (Some(restarts), Some(minutes)),
        _ => (None, None),
    };
    let now = now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alert_rules (kind, restarts, minutes, container, label, webhook, enabled, created_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(rule.condition.kind().as_str())
    .bind(restarts)
    .bind(minutes)
    .bind(&rule.container)
    .bind(&rule.label)
    .bind(&rule.webhook)
    .bind(rule.enabled as i64)
    .bind(now)
    .fetch_one(db)
    .await?;
    Ok(Rule {
        id,
        created_at_ms: now,
        ..rule.clone()
    })
}

/// Removes a rule; its deliveries not yet made are cancelled (the log stays).
pub async fn delete_rule(db: &Db, id: i64) -> Result<()> {
    let mut tx = begin_write(db).await?;
    let deleted = sqlx::query("DELETE FROM alert_rules WHERE id = ?")
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(Error::not_found("alert rule", id.to_string()));
    }
    sqlx::query(
        "UPDATE alert_deliveries SET state = 'cancelled' WHERE rule_id = ? AND state = 'pending'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What became of a delivery put in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    Pending(i64),
    /// The queue held `limit` deliveries: recorded as dropped, never sent.
    Dropped(i64),
}

/// Queues a delivery of `body` to `url`, due now, unless `limit` are already waiting.
pub async fn enqueue(
    db: &Db,
    rule_id: i64,
    alert: &str,
    url: &str,
    body: &str,
    limit: u32,
) -> Result<Queued> {
    let mut tx = begin_write(db).await?;
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM alert_deliveries WHERE state IN ('pending', 'sending')",
    )
    .fetch_one(&mut *tx)
    .await?;
    let now = now_ms();
    let full = waiting >= i64::from(limit);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO alert_deliveries (rule_id, alert, url, body, state, next_at_ms, created_at_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(rule_id)
    .bind(alert)
    .bind(url)
    .bind(if full { "" } else { body })
    .bind(if full { "dropped" } else { "pending" })
    .bind(now)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    if full {
        sqlx::query(
            "INSERT INTO alert_attempts (delivery_id, rule_id, alert, time_ms, attempt, error, outcome) \
             VALUES (?, ?, ?, ?, 0, ?, 'dropped')",
        )
        .bind(id)
        .bind(rule_id)
        .bind(alert)
        .bind(now)
        .bind(format!("dropped: {waiting} deliveries are already waiting"))
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(if full {
        Queued::Dropped(id)
    } else {
        Queued::Pending(id)
    })
}

/// A delivery taken from the queue to be sent.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub rule_id: i64,
    pub alert: String,
    pub url: String,
    pub body: String,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// Marks up to `limit` deliveries due by `now` as being sent and returns them, oldest due first.
pub async fn claim_due(db: &Db, now: i64, limit: u32) -> Result<Vec<Due>> {
    let rows: Vec<(i64, i64, String, String, String, i64)> = sqlx::query_as(
        "UPDATE alert_deliveries SET state = 'sending' WHERE id IN \
         (SELECT id FROM alert_deliveries WHERE state = 'pending' AND next_at_ms <= ? \
          ORDER BY next_at_ms, id LIMIT ?) \
         RETURNING id, rule_id, alert, url, body, attempts",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut due: Vec<Due> = rows
        .into_iter()
        .map(|(id, rule_id, alert, url, body, attempts)| Due {
            id,
            rule_id,
            alert,
            url,
            body,
            attempts: attempts.max(0) as u32,
        })
        .collect();
    due.sort_by_key(|d| d.id);
    Ok(due)
}

/// When the next pending delivery is due (unix ms), if any is.
pub async fn next_due(db: &Db) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT MIN(next_at_ms) FROM alert_deliveries WHERE state = 'pending'")
            .fetch_one(db)
            .await?,
    )
}

/// At start: deliveries a stopped daemon was sending go back into the queue.
pub async fn resume(db: &Db) -> Result<u64> {
    Ok(
        sqlx::query("UPDATE alert_deliveries SET state = 'pending' WHERE state = 'sending'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// One attempt's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    pub status: Option<u16>,
    pub error: Option<String>,
    pub outcome: AlertOutcome,
    pub next_retry_ms: Option<i64>,
}

/// Logs an attempt and moves its delivery on (delivered, failed, or pending again).
pub async fn record_attempt(db: &Db, due: &Due, result: &Attempted) -> Result<()> {
    let now = now_ms();
    let attempt = due.attempts + 1;
    let (state, next_at) = match result.outcome {
        AlertOutcome::Delivered => ("delivered", now),
        AlertOutcome::Retrying => ("pending", result.next_retry_ms.unwrap_or(now)),
        AlertOutcome::Failed | AlertOutcome::Dropped => ("failed", now),
    };
    let mut tx = begin_write(db).await?;
    sqlx::query(
        "INSERT INTO alert_attempts (delivery_id, rule_id, alert, time_ms, attempt, status, error, outcome, next_retry_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(due.id)
    .bind(due.rule_id)
    .bind(&due.alert)
    .bind(now)
    .bind(attempt)
    .bind(result.status)
    .bind(&result.error)
    .bind(result.outcome.as_str())
    .bind(result.next_retry_ms)
    .execute(&mut *tx)
    .await?;
    // A delivery cancelled meanwhile (its rule removed) stays cancelled.
    sqlx::query(
        "UPDATE alert_deliveries SET attempts = ?, next_at_ms = ?, \
         state = CASE WHEN state = 'cancelled' THEN 'cancelled' ELSE ? END WHERE id = ?",
    )
    .bind(attempt)
    .bind(next_at)
    .bind(state)
    .bind(due.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

type AttemptRow = (
    i64,
    i64,
    i64,
    String,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<i64>,
);

const ATTEMPT_COLUMNS: &str =
    "id, delivery_id, rule_id, alert, time_ms, attempt, status, error, outcome, next_retry_ms";

fn attempt_from_row(row: AttemptRow) -> Result<AlertAttempt> {
    let (id, delivery, rule, alert, time_ms, attempt, status, error, outcome, next_retry_ms) = row;
    let outcome = match outcome.as_str() {
        "delivered" => AlertOutcome::Delivered,
        "retrying" => AlertOutcome::Retrying,
        "failed" => AlertOutcome::Failed,
        "dropped" => AlertOutcome::Dropped,
        other => {
            return Err(Error::Corrupt(format!(
                "alert attempt {id} has outcome {other:?}"
            )))
        }
    };
    Ok(AlertAttempt {
        id,
        delivery,
        rule,
        alert,
        time_ms,
        attempt: attempt.max(0) as u32,
        status: status.and_then(|s| u16::try_from(s).ok()),
        error,
        outcome,
        next_retry_ms,
    })
}

/// The delivery log, newest first.
pub async fn attempts(db: &Db, limit: u32) -> Result<Vec<AlertAttempt>> {
    let rows: Vec<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM alert_attempts ORDER BY id DESC LIMIT ?"
    ))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(attempt_from_row).collect()
}

/// A delivery's first attempt, once made.
pub async fn first_attempt(db: &Db, delivery: i64) -> Result<Option<AlertAttempt>> {
    let row: Option<AttemptRow> = sqlx::query_as(&format!(
        "SELECT {ATTEMPT_COLUMNS} FROM alert_attempts WHERE delivery_id = ? ORDER BY id LIMIT 1"
    ))
    .bind(delivery)
    .fetch_optional(db)
    .await?;
    row.map(attempt_from_row).transpose()
}

/// Deletes finished deliveries (and their attempts) older than the newest `keep`.
pub async fn prune(db: &Db, keep: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM alert_deliveries WHERE state NOT IN ('pending', 'sending') \
         AND id <= (SELECT MAX(id) FROM alert_deliveries) - ?",
    )
    .bind(keep)
    .execute(db)
    .await?
    .rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn db() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::db::open(&dir.path().join("berth.db")).await.unwrap();
        (dir, db)
    }

    fn a_rule(condition: Condition) -> Rule {
        Rule {
            id: 0,
            condition,
            container: Some("web".into()),
            label: None,
            webhook: "http://127.0.0.1:9/".into(),
            enabled: true,
            created_at_ms: 0,
        }
    }

    #[tokio::test]
    async fn rules_read_back_as_stored() {
        let (_dir, db) = db().await;
        let lp = insert_rule(
            &db,
            &a_rule(Condition::RestartLoop {
                restarts: 3,
                minutes: 2,
            }),
        )
        .await
        .unwrap();
        let died = insert_rule(&db, &a_rule(Condition::Died)).await.unwrap();
        assert!(died.id > lp.id);
        assert_eq!(rules(&db).await.unwrap(), vec![lp.clone(), died.clone()]);
        assert_eq!(rule(&db, lp.id).await.unwrap(), lp);
        delete_rule(&db, lp.id).await.unwrap();
        assert!(matches!(
            delete_rule(&db, lp.id).await,
            Err(Error::NotFound { .. })
        ));
        assert_eq!(rules(&db).await.unwrap(), vec![died]);
    }

    #[tokio::test]
    async fn the_queue_is_bounded_and_an_overflow_is_logged_as_dropped() {
        let (_dir, db) = db().await;
        for _ in 0..3 {
            assert!(matches!(
                enqueue(&db, 1, "died", "http://h/", "{}", 3).await.unwrap(),
                Queued::Pending(_)
            ));
        }
        let Queued::Dropped(id) = enqueue(&db, 1, "died", "http://h/", "{}", 3).await.unwrap()
        else {
            panic!("a fourth delivery was queued past the limit of 3");
        };
        let log = attempts(&db, 10).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].delivery, id);
        assert_eq!(log[0].outcome, AlertOutcome::Dropped);
        // Claimed ones still count as waiting; a sent one makes room.
        let due = claim_due(&db, now_ms() + 1, 10).await.unwrap();
        assert_eq!(due.len(), 3);
        assert!(claim_due(&db, now_ms() + 1, 10).await.unwrap().is_empty());
        let delivered = Attempted {
            status: Some(200),
            error: None,
            outcome: AlertOutcome::Delivered,
            next_retry_ms: None,
        };
        record_attempt(&db, &due[0], &delivered).await.unwrap();
        assert!(matches!(
            enqueue(&db, 1, "died", "http://h/", "{}", 3).await.unwrap(),
            Queued::Pending(_)
        ));
    }

    #[tokio::test]
    async fn a_retry_is_due_later_and_sending_ones_resume_after_a_restart() {
        let (_dir, db) = db().await;
        enqueue(&db, 1, "oom", "http://h/", "{}", 10).await.unwrap();
        let due = claim_due(&db, now_ms() + 1, 10).await.unwrap();
        let later = now_ms() + 60_000;
        let retry = Attempted {
            status: Some(500),
            error: None,
            outcome: AlertOutcome::Retrying,
            next_retry_ms: Some(later),
        };
        record_attempt(&db, &due[0], &retry).await.unwrap();
        assert_eq!(next_due(&db).await.unwrap(), Some(later));
        assert!(claim_due(&db, now_ms(), 10).await.unwrap().is_empty());
        let again = claim_due(&db, later, 10).await.unwrap();
        assert_eq!(again[0].attempts, 1);
        // The daemon stops while sending: the next one finds it pending.
        assert_eq!(resume(&db).await.unwrap(), 1);
        assert_eq!(claim_due(&db, later, 10).await.unwrap().len(), 1);
        let first = first_attempt(&db, due[0].id).await.unwrap().unwrap();
        assert_eq!((first.attempt, first.status), (1, Some(500)));
    }
}
