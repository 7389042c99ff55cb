//! The container list's snapshot: every container's summary as of one catalogue generation.
//!
//! Migration 0007's triggers bump the `containers` change counter inside every statement that
//! writes a table a list shows (containers, port bindings, attachments, network names), so a
//! list reads that one row and, while it is unchanged, builds nothing: reading 1000 rows through
//! sqlx's worker hand-over was most of a `GET /api/v1/containers` of 1000 containers.
//!
//! The counter is read *before* the rows. A write landing in between makes the snapshot newer
//! than its label, never older, and the next list (seeing a later counter) rebuilds it.

use super::{ContainerSummary, ListedNetwork};
use crate::db::Db;
use crate::Result;
use std::sync::{Arc, Mutex};

/// Every container's summary (`restarting` unset: that is in memory and read per list),
/// newest first.
pub(crate) struct ListSnapshot {
    pub generation: i64,
    pub all: Vec<ContainerSummary>,
}

#[derive(Default)]
pub(crate) struct ListCache {
    last: Mutex<Option<Arc<ListSnapshot>>>,
}

impl ListCache {
    /// The snapshot of `generation`, if it is the one kept.
    pub fn get(&self, generation: i64) -> Option<Arc<ListSnapshot>> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        last.as_ref()
            .filter(|s| s.generation == generation)
            .map(Arc::clone)
    }

    /// Keeps a snapshot unless a later one is kept already.
    pub fn put(&self, snapshot: Arc<ListSnapshot>) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last
            .as_ref()
            .is_none_or(|s| s.generation <= snapshot.generation)
        {
            *last = Some(snapshot);
        }
    }
}

/// The catalogue's current list generation.
pub(crate) async fn generation(db: &Db) -> Result<i64> {
    let (n,): (i64,) = sqlx::query_as("SELECT n FROM change_counters WHERE name = 'containers'")
        .fetch_one(db)
        .await?;
    Ok(n)
}

/// `none` and `host` have no attachment rows: the mode is the network.
pub(crate) fn mode_network(network: &str) -> ListedNetwork {
    ListedNetwork {
        id: network.to_string(),
        name: network.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of write to every table a list shows moves the generation; a write to
    /// another table does not.
    #[tokio::test]
    async fn each_write_a_list_shows_moves_the_generation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::open(&dir.path().join("berth.db"))
            .await
            .expect("open");
        sqlx::query(
            "INSERT INTO images (id, config_json, layers_json, size, added_at) \
             VALUES ('i', '{}', '[]', 0, 0)",
        )
        .execute(&db)
        .await
        .expect("image");
        // A new network is in no list until a container attaches to it.
        sqlx::query("INSERT INTO networks (id, name, driver, created_at) VALUES ('n1', 'front', 'bridge', 0)")
            .execute(&db)
            .await
            .expect("network");
        let writes = [
            "INSERT INTO containers (id, name, image_ref, image_id, config_json, state, created_at) \
             VALUES ('c1', 'one', 'x', 'i', '{}', 'created', 0)",
            "UPDATE containers SET name = 'uno' WHERE id = 'c1'",
            "UPDATE containers SET state = 'running' WHERE id = 'c1'",
            "INSERT INTO port_bindings VALUES ('c1', 'tcp', 80, '0.0.0.0', 8080)",
            "DELETE FROM port_bindings WHERE container_id = 'c1'",
            "INSERT INTO attachments (container_id, network_id) VALUES ('c1', 'n1')",
            "UPDATE networks SET name = 'back' WHERE id = 'n1'",
            "DELETE FROM attachments WHERE container_id = 'c1'",
            "DELETE FROM containers WHERE id = 'c1'",
        ];
        let mut last = generation(&db).await.expect("generation");
        for sql in writes {
            sqlx::query(sql).execute(&db).await.expect(sql);
            let now = generation(&db).await.expect("generation");
            assert!(now > last, "{sql} left the generation at {now}");
            last = now;
        }
        sqlx::query("INSERT INTO volumes (name, driver, created_at) VALUES ('v', 'local', 0)")
            .execute(&db)
            .await
            .expect("volume");
        assert_eq!(generation(&db).await.expect("generation"), last);
    }

    #[test]
    fn a_later_snapshot_is_never_replaced_by_an_earlier_one() {
        let cache = ListCache::default();
        let snap = |generation| {
            Arc::new(ListSnapshot {
                generation,
                all: Vec::new(),
            })
        };
        cache.put(snap(5));
        cache.put(snap(4));
        assert!(cache.get(4).is_none());
        assert!(cache.get(5).is_some());
        cache.put(snap(6));
        assert!(cache.get(5).is_none());
    }
}
