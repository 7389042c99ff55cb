//! The embedded catalogue: opens `berth.db` (SQLite, WAL) under the data root and applies the
//! migrations in `migrations/` at start-up. Queries are checked at run time (plain SQL).

use crate::Result;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

pub type Db = SqlitePool;

/// Opens (creating if needed) the catalogue at `path` and brings its schema up to date.
pub async fn open(path: &Path) -> Result<Db> {
    let url = format!("sqlite://{}", path.display());
    let options = SqliteConnectOptions::from_str(&url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await?;
    sqlx::migrate!("../migrations").run(&pool).await?;
    Ok(pool)
}

/// Begins a transaction that will write: `BEGIN IMMEDIATE` takes the write lock first (waiting
/// out other writers with the busy timeout). A deferred `BEGIN` that reads and then writes
/// fails with SQLITE_BUSY_SNAPSHOT (517) when another connection committed in between, as
/// WAL mode cannot upgrade a stale read snapshot ("Sometimes Queries Return SQLITE_BUSY In
/// WAL Mode", sqlite.org/wal.html).
pub async fn begin_write(db: &Db) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    Ok(db.begin_with("BEGIN IMMEDIATE").await?)
}

/// Unix time in milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads, lets another connection try to write, then writes: the transaction must win
    /// (the other write waits for it) instead of failing with SQLITE_BUSY_SNAPSHOT.
    #[tokio::test]
    async fn a_write_transaction_that_reads_first_is_not_overtaken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(&dir.path().join("berth.db")).await.expect("open");
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&db)
            .await
            .expect("create");
        let mut tx = begin_write(&db).await.expect("begin");
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .expect("read");
        let other = tokio::spawn({
            let db = db.clone();
            async move { sqlx::query("INSERT INTO t VALUES (2)").execute(&db).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!other.is_finished(), "another writer got in between");
        sqlx::query("INSERT INTO t VALUES (?)")
            .bind(count + 1)
            .execute(&mut *tx)
            .await
            .expect("write after read");
        tx.commit().await.expect("commit");
        other
            .await
            .expect("join")
            .expect("the other write, after ours");
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&db)
            .await
            .expect("count");
        assert_eq!(total, 2);
    }
}
