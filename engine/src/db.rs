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
pub async fn begin_write(db: &Db) -> Result<WriteTx> {
    Ok(WriteTx::begin(db).await?)
}

/// A write transaction on a connection of the pool, with `BEGIN IMMEDIATE` and `COMMIT` as
/// plain statements. A transaction that fails to commit (SQLITE_FULL on a full disk) or is
/// dropped unfinished takes its connection out of the pool and closes it, which rolls it back
/// (sqlite3_close): sqlx's own transactions return such a connection to the pool still
/// counting an open transaction, and every later `begin` on it then fails ("attempted to
/// call begin_with at non-zero transaction depth") long after the disk has room again.
pub struct WriteTx {
    conn: Option<sqlx::pool::PoolConnection<sqlx::Sqlite>>,
}

impl WriteTx {
    pub async fn begin(db: &Db) -> std::result::Result<WriteTx, sqlx::Error> {
        let mut conn = db.acquire().await?;
        sqlx::query("BEGIN IMMEDIATE").execute(&mut *conn).await?;
        Ok(WriteTx { conn: Some(conn) })
    }

    pub async fn commit(mut self) -> std::result::Result<(), sqlx::Error> {
        let Some(mut conn) = self.conn.take() else {
            return Ok(());
        };
        match sqlx::query("COMMIT").execute(&mut *conn).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
                drop(conn.detach());
                Err(e)
            }
        }
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::SqliteConnection;

    fn deref(&self) -> &sqlx::SqliteConnection {
        match &self.conn {
            Some(conn) => conn,
            // Only `commit` and `drop` take the connection, and both consume the transaction.
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::SqliteConnection {
        match &mut self.conn {
            Some(conn) => conn,
            None => unreachable!("a write transaction is used after it ended"),
        }
    }
}

impl Drop for WriteTx {
    /// Unfinished (an error part-way): closing the connection rolls the transaction back.
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
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

    /// A commit that fails (here a deferred foreign key; on a full disk SQLITE_FULL) and a
    /// transaction dropped part-way leave nothing written and every connection usable.
    #[tokio::test]
    async fn failed_and_abandoned_transactions_leave_the_pool_usable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open(&dir.path().join("berth.db")).await.expect("open");
        for sql in [
            "CREATE TABLE p (id INTEGER PRIMARY KEY)",
            "CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)",
        ] {
            sqlx::query(sql).execute(&db).await.expect(sql);
        }
        for _ in 0..8 {
            let mut tx = begin_write(&db).await.expect("begin");
            sqlx::query("INSERT INTO c VALUES (42)")
                .execute(&mut *tx)
                .await
                .expect("deferred check");
            assert!(
                tx.commit().await.is_err(),
                "the deferred foreign key fails the commit"
            );
            let mut tx = begin_write(&db).await.expect("begin after a dropped one");
            sqlx::query("INSERT INTO p VALUES (1)")
                .execute(&mut *tx)
                .await
                .expect("insert");
            drop(tx);
        }
        let mut tx = begin_write(&db).await.expect("begin after failures");
        sqlx::query("INSERT INTO p VALUES (7)")
            .execute(&mut *tx)
            .await
            .expect("insert");
        tx.commit().await.expect("commit");
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM p")
            .fetch_all(&db)
            .await
            .expect("p");
        assert_eq!(rows, [(7,)]);
        let orphans: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM c")
            .fetch_one(&db)
            .await
            .expect("c");
        assert_eq!(orphans, 0);
    }

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
