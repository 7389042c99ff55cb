//! The audit log: who did what through the API, from where, and how it ended; paged newest
//! first, and pruned of entries older than the retention.

use super::{millis, Auth, AuthResult};
use crate::db::now_ms;
use berth_wire::auth::{AuditEntry, AuditPage};
use std::time::{Duration, Instant};

/// The largest page.
pub const MAX_AUDIT_PAGE: u32 = 1000;

/// The most often old entries are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// An entry to record (its sequence number and time are the log's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub actor: String,
    pub actor_kind: String,
    pub token_id: Option<String>,
    pub peer: String,
    pub action: String,
    pub object: Option<String>,
    pub status: u16,
}

/// Which page to read: entries older than `before` (a sequence number, the previous page's
/// `next`), at most `limit` of them (1 to [`MAX_AUDIT_PAGE`]), none before `since_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditQuery {
    pub before: Option<i64>,
    pub limit: u32,
    pub since_ms: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    seq: i64,
    time_ms: i64,
    actor: String,
    actor_kind: String,
    token_id: Option<String>,
    peer: String,
    action: String,
    object: Option<String>,
    status: i64,
}

impl From<AuditRow> for AuditEntry {
    fn from(row: AuditRow) -> AuditEntry {
        AuditEntry {
            seq: row.seq,
            time_ms: row.time_ms,
            actor: row.actor,
            actor_kind: row.actor_kind,
            token_id: row.token_id,
            peer: row.peer,
            action: row.action,
            object: row.object,
            status: u16::try_from(row.status).unwrap_or(0),
        }
    }
}

impl Auth {
    /// Appends an entry; also deletes the entries older than the retention, at most once an
    /// hour (and on the first record after a start).
    pub async fn record(&self, entry: NewAuditEntry) -> AuthResult<()> {
        let now = now_ms();
        sqlx::query(
            "INSERT INTO audit (time_ms, actor, actor_kind, token_id, peer, action, object, \
             status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(now)
        .bind(&entry.actor)
        .bind(&entry.actor_kind)
        .bind(&entry.token_id)
        .bind(&entry.peer)
        .bind(&entry.action)
        .bind(&entry.object)
        .bind(i64::from(entry.status))
        .execute(&self.db)
        .await?;
        if self.prune_due() {
            sqlx::query("DELETE FROM audit WHERE time_ms < ?")
                .bind(now.saturating_sub(millis(self.policy.audit_retention)))
                .execute(&self.db)
                .await?;
        }
        Ok(())
    }

    /// Whether an hour has passed since the last prune (claiming this one if so).
    fn prune_due(&self) -> bool {
        let mut last = self.last_prune.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < PRUNE_EVERY) {
            return false;
        }
        *last = Some(now);
        true
    }

    /// A page of the log, newest first; `next` is the `before` of the following page, `None`
    /// on the last one.
    pub async fn audit(&self, query: AuditQuery) -> AuthResult<AuditPage> {
        let limit = query.limit.clamp(1, MAX_AUDIT_PAGE);
        let mut rows = sqlx::query_as::<_, AuditRow>(
            "SELECT seq, time_ms, actor, actor_kind, token_id, peer, action, object, status \
             FROM audit WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR time_ms >= ?2) \
             ORDER BY seq DESC LIMIT ?3",
        )
        .bind(query.before)
        .bind(query.since_ms)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.db)
        .await?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let entries: Vec<AuditEntry> = rows.into_iter().map(AuditEntry::from).collect();
        let next = if more {
            entries.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{auth, auth_with};
    use super::super::AuthPolicy;
    use super::*;

    fn entry(action: &str) -> NewAuditEntry {
        NewAuditEntry {
            actor: "alice".into(),
            actor_kind: "session".into(),
            token_id: None,
            peer: "192.0.2.7:51234".into(),
            action: action.into(),
            object: Some("web".into()),
            status: 204,
        }
    }

    #[tokio::test]
    async fn the_log_pages_newest_first() {
        let auth = auth().await;
        let empty = auth
            .audit(AuditQuery {
                before: None,
                limit: 10,
                since_ms: None,
            })
            .await
            .unwrap();
        assert!(empty.entries.is_empty() && empty.next.is_none());
        for i in 0..5 {
            auth.record(entry(&format!("action {i}"))).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = auth
                .audit(AuditQuery {
                    before,
                    limit: 2,
                    since_ms: None,
                })
                .await
                .unwrap();
            assert!(page.entries.len() <= 2);
            seen.extend(page.entries.iter().map(|e| e.action.clone()));
            match page.next {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        assert_eq!(
            seen,
            ["action 4", "action 3", "action 2", "action 1", "action 0"]
        );
        let all = auth
            .audit(AuditQuery {
                before: None,
                limit: 5,
                since_ms: None,
            })
            .await
            .unwrap();
        assert_eq!(all.entries.len(), 5);
        assert_eq!(all.next, None, "no page after an exactly full one");
        let first = &all.entries[4];
        assert_eq!(first.status, 204);
        assert_eq!(first.object.as_deref(), Some("web"));
        assert_eq!(first.peer, "192.0.2.7:51234");
        let later = auth
            .audit(AuditQuery {
                before: None,
                limit: 0,
                since_ms: Some(now_ms() + 60_000),
            })
            .await
            .unwrap();
        assert!(later.entries.is_empty());
    }

    #[tokio::test]
    async fn old_entries_are_pruned() {
        let auth = auth_with(AuthPolicy {
            audit_retention: Duration::from_secs(3600),
            ..AuthPolicy::default()
        })
        .await;
        sqlx::query(
            "INSERT INTO audit (time_ms, actor, actor_kind, peer, action, status) \
             VALUES (?, 'old', 'socket', 'unix', 'login', 200)",
        )
        .bind(now_ms() - 2 * 3600 * 1000)
        .execute(&auth.db)
        .await
        .unwrap();
        auth.record(entry("new")).await.unwrap();
        let page = auth
            .audit(AuditQuery {
                before: None,
                limit: 100,
                since_ms: None,
            })
            .await
            .unwrap();
        let actions: Vec<_> = page.entries.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["new"]);
    }
}
