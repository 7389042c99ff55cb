//! The `events` table: batched inserts, reads by sequence range, and retention.

use super::{Actor, Event, Scope};
use crate::db::Db;
use crate::{Error, Result};
use std::collections::BTreeMap;

/// Events older than this are deleted…
pub(super) const KEEP_NS: i64 = 7 * 24 * 3600 * 1_000_000_000;
/// …and so is all but this many of the newest.
pub(super) const KEEP_COUNT: u64 = 100_000;

/// The highest sequence number ever stored (0 when none).
pub(super) async fn last_seq(db: &Db) -> Result<u64> {
    let max: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM events")
        .fetch_one(db)
        .await?;
    Ok(max.unwrap_or(0).max(0) as u64)
}

/// Writes a batch in one transaction.
pub(super) async fn insert(db: &Db, events: &[std::sync::Arc<Event>]) -> Result<()> {
    let mut tx = crate::db::begin_write(db).await?;
    for event in events {
        let attributes = serde_json::to_string(&event.actor.attributes)
            .map_err(|e| Error::Corrupt(format!("event attributes: {e}")))?;
        sqlx::query(
            "INSERT INTO events (seq, time_ns, type, action, actor_id, attributes_json) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(event.seq as i64)
        .bind(event.time_nano)
        .bind(event.kind.as_str())
        .bind(&event.action)
        .bind(&event.actor.id)
        .bind(attributes)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Up to `limit` events with `after < seq <= upto` and `time_ns >= since_ns`, oldest first.
pub(super) async fn read(
    db: &Db,
    after: u64,
    upto: u64,
    since_ns: i64,
    limit: u32,
) -> Result<Vec<Event>> {
    let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, time_ns, type, action, actor_id, attributes_json FROM events \
         WHERE seq > ? AND seq <= ? AND time_ns >= ? ORDER BY seq LIMIT ?",
    )
    .bind(after as i64)
    .bind(upto as i64)
    .bind(since_ns)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(row_event).collect()
}

/// An event from its row.
fn row_event(
    (seq, time_ns, kind, action, id, attributes): (i64, i64, String, String, String, String),
) -> Result<Event> {
    let kind = Scope::parse(&kind)
        .ok_or_else(|| Error::Corrupt(format!("event {seq} has type {kind:?}")))?;
    let attributes: BTreeMap<String, String> = serde_json::from_str(&attributes)
        .map_err(|e| Error::Corrupt(format!("event {seq} attributes: {e}")))?;
    Ok(Event {
        kind,
        action,
        actor: Actor { id, attributes },
        scope: "local".into(),
        time: time_ns.div_euclid(1_000_000_000),
        time_nano: time_ns,
        seq: seq as u64,
    })
}

/// Up to `limit` events with `seq < before`, newest first.
pub(super) async fn read_back(db: &Db, before: u64, limit: u32) -> Result<Vec<Event>> {
    let rows: Vec<(i64, i64, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, time_ns, type, action, actor_id, attributes_json FROM events \
         WHERE seq < ? ORDER BY seq DESC LIMIT ?",
    )
    .bind(i64::try_from(before).unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(row_event).collect()
}

/// Deletes events beyond the retention (older than [`KEEP_NS`] before `now_ns`, or not among
/// the newest [`KEEP_COUNT`] up to `newest`).
pub(super) async fn prune(db: &Db, newest: u64, now_ns: i64) -> Result<u64> {
    let floor = newest.saturating_sub(KEEP_COUNT) as i64;
    let done = sqlx::query("DELETE FROM events WHERE seq <= ? OR time_ns < ?")
        .bind(floor)
        .bind(now_ns - KEEP_NS)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
