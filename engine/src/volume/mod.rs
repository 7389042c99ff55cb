//! Volumes: data directories outside any container's union filesystem, at
//! `<data root>/volumes/<name>/_data`, recorded in the catalogue together with the containers
//! that mount them (which is what makes a volume "in use"): create, look up, list, remove,
//! prune, and their size on disk.

pub mod mounts;
pub(crate) mod size;

use crate::db::{now_ms, Db};
use crate::{Error, Result};
use mounts::{validate_volume_name, volume_data_dir, MountConfig, MountType};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The label docker (23+) puts on the volumes it makes for a container.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

pub use berth_wire::volume::{UsageData, Volume, VolumeFilters, VolumePruneReport};

#[derive(Debug, Clone, sqlx::FromRow)]
struct VolumeRow {
    name: String,
    driver: String,
    labels_json: String,
    anonymous: i64,
    created_at: i64,
}

const COLUMNS: &str = "name, driver, labels_json, anonymous, created_at";

/// The volume store: the folder, a lock that orders creation, use and removal, and the cache
/// of measured sizes.
pub(crate) struct Volumes {
    root: PathBuf,
    /// Held while volumes are made, attached to a container, or removed, so a removal never
    /// races a container taking the volume.
    lock: tokio::sync::Mutex<()>,
    sizes: size::SizeCache,
}

impl Volumes {
    pub fn new(data_root: &Path) -> Result<Volumes> {
        let root = data_root.join("volumes");
        std::fs::create_dir_all(&root).map_err(|e| Error::io("create", &root, e))?;
        Ok(Volumes {
            root,
            lock: tokio::sync::Mutex::new(()),
            sizes: size::SizeCache::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a volume (a fresh 64-hex name when `name` is `None`); an existing name is
    /// returned as it is (docker's create is idempotent). Says whether it was made now.
    pub async fn create(
        &self,
        db: &Db,
        name: Option<&str>,
        labels: &BTreeMap<String, String>,
    ) -> Result<(Volume, bool)> {
        let _guard = self.lock.lock().await;
        let (name, anonymous) = match name.filter(|n| !n.is_empty()) {
            Some(name) => (name.to_string(), false),
            None => (crate::ids::new_id(), true),
        };
        validate_volume_name(&name)?;
        let mut labels = labels.clone();
        if anonymous {
            labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
        }
        let created = self.ensure(db, &name, &labels, anonymous).await?;
        Ok((self.get(db, &name).await?, created))
    }

    /// Makes the volume's row and folder unless the row exists; the caller holds the lock.
    async fn ensure(
        &self,
        db: &Db,
        name: &str,
        labels: &BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<bool> {
        let labels_json = serde_json::to_string(labels)
            .map_err(|e| Error::Corrupt(format!("volume labels: {e}")))?;
        let inserted = sqlx::query(
            "INSERT INTO volumes (name, driver, labels_json, anonymous, created_at) \
             VALUES (?, 'local', ?, ?, ?) ON CONFLICT(name) DO NOTHING",
        )
        .bind(name)
        .bind(labels_json)
        .bind(anonymous as i64)
        .bind(now_ms())
        .execute(db)
        .await?
        .rows_affected()
            == 1;
        let data = volume_data_dir(&self.root, name);
        if let Err(e) = std::fs::create_dir_all(&data) {
            if inserted {
                let _ = sqlx::query("DELETE FROM volumes WHERE name = ?")
                    .bind(name)
                    .execute(db)
                    .await;
            }
            return Err(Error::io("create", &data, e));
        }
        Ok(inserted)
    }

    /// Records that container `id` mounts its volumes (making missing ones, and the missing
    /// host folders of `-v` bind mounts, as docker does). Returns the volumes made now; on
    /// error, nothing it made is left.
    pub async fn attach(&self, db: &Db, id: &str, mounts: &[MountConfig]) -> Result<Vec<String>> {
        let _guard = self.lock.lock().await;
        let mut made = Vec::new();
        let result = self.attach_locked(db, id, mounts, &mut made).await;
        if result.is_err() {
            let _ = sqlx::query("DELETE FROM container_volumes WHERE container_id = ?")
                .bind(id)
                .execute(db)
                .await;
            for name in &made {
                let _ = self.delete_locked(db, name).await;
            }
        }
        result.map(|()| made)
    }

    async fn attach_locked(
        &self,
        db: &Db,
        id: &str,
        mounts: &[MountConfig],
        made: &mut Vec<String>,
    ) -> Result<()> {
        for mount in mounts {
            match mount.kind {
                MountType::Volume => {
                    let mut labels = BTreeMap::new();
                    if mount.anonymous {
                        labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
                    }
                    if self
                        .ensure(db, &mount.source, &labels, mount.anonymous)
                        .await?
                    {
                        made.push(mount.source.clone());
                    }
                    sqlx::query(
                        "INSERT INTO container_volumes (container_id, volume_name, destination) \
                         VALUES (?, ?, ?)",
                    )
                    .bind(id)
                    .bind(&mount.source)
                    .bind(&mount.destination)
                    .execute(db)
                    .await?;
                }
                MountType::Bind if !Path::new(&mount.source).exists() => {
                    // `-v /host/path:…` creates a missing host folder (docker's -v);
                    // `--mount type=bind` was refused at parse time instead.
                    std::fs::create_dir_all(&mount.source)
                        .map_err(|e| Error::io("create", &mount.source, e))?;
                }
                MountType::Bind | MountType::Tmpfs => {}
            }
        }
        Ok(())
    }

    /// One volume, without its size.
    pub async fn get(&self, db: &Db, name: &str) -> Result<Volume> {
        let row = sqlx::query_as::<_, VolumeRow>(&format!(
            "SELECT {COLUMNS} FROM volumes WHERE name = ?"
        ))
        .bind(name)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| Error::not_found("volume", name))?;
        self.volume(&row)
    }

    /// One volume with its usage (the size is measured on a blocking thread, cached briefly).
    pub async fn inspect(&self, db: &Db, name: &str) -> Result<Volume> {
        let mut volume = self.get(db, name).await?;
        volume.usage_data = Some(self.usage(db, name).await?);
        Ok(volume)
    }

    async fn usage(&self, db: &Db, name: &str) -> Result<UsageData> {
        let size = self
            .sizes
            .measure(name, volume_data_dir(&self.root, name))
            .await;
        Ok(UsageData {
            size: size as i64,
            ref_count: self.users(db, name).await?.len() as i64,
        })
    }

    /// Volumes by name, filtered; with their usage when `usage` (`system df -v`).
    pub async fn list(&self, db: &Db, filters: &VolumeFilters, usage: bool) -> Result<Vec<Volume>> {
        let rows =
            sqlx::query_as::<_, VolumeRow>(&format!("SELECT {COLUMNS} FROM volumes ORDER BY name"))
                .fetch_all(db)
                .await?;
        let mut out = Vec::new();
        for row in rows {
            if let Some(part) = &filters.name {
                if !row.name.contains(part.as_str()) {
                    continue;
                }
            }
            if let Some(dangling) = filters.dangling {
                if self.users(db, &row.name).await?.is_empty() != dangling {
                    continue;
                }
            }
            let mut volume = self.volume(&row)?;
            if let Some(label) = &filters.label {
                let matches = match label.split_once('=') {
                    Some((k, v)) => volume.labels.get(k).is_some_and(|have| have == v),
                    None => volume.labels.contains_key(label),
                };
                if !matches {
                    continue;
                }
            }
            if usage {
                volume.usage_data = Some(self.usage(db, &row.name).await?);
            }
            out.push(volume);
        }
        Ok(out)
    }

    /// The ids of the containers (running or not) that mount `name`.
    async fn users(&self, db: &Db, name: &str) -> Result<Vec<String>> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT container_id FROM container_volumes WHERE volume_name = ? \
             ORDER BY container_id",
        )
        .bind(name)
        .fetch_all(db)
        .await?;
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }

    /// Removes a volume no container uses. `force` only forgives a missing volume (as
    /// docker's `volume rm -f`); it never removes one in use.
    pub async fn remove(&self, db: &Db, name: &str, force: bool) -> Result<()> {
        let _guard = self.lock.lock().await;
        match self.get(db, name).await {
            Err(Error::NotFound { .. }) if force => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let users = self.users(db, name).await?;
        if !users.is_empty() {
            return Err(Error::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                users.join(", ")
            )));
        }
        self.delete_locked(db, name).await
    }

    /// Deletes the row and the folder; the caller holds the lock and checked the users.
    async fn delete_locked(&self, db: &Db, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM volumes WHERE name = ?")
            .bind(name)
            .execute(db)
            .await?;
        self.sizes.forget(name);
        let dir = self.root.join(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &dir, e)),
        }
    }

    /// At start-up, after a crash: every volume row gets its folder back (the row is what
    /// `create` commits first, so a row without a folder is a create cut short: the volume is
    /// empty), and a folder without a row is removed (`remove` deletes the row first, so such a
    /// folder is a removal cut short). Returns what was repaired, as log lines.
    pub async fn reconcile(&self, db: &Db) -> Result<Vec<String>> {
        let _guard = self.lock.lock().await;
        let names: Vec<(String,)> = sqlx::query_as("SELECT name FROM volumes")
            .fetch_all(db)
            .await?;
        let known: std::collections::HashSet<String> = names.into_iter().map(|(n,)| n).collect();
        let mut repaired = Vec::new();
        for name in &known {
            let data = volume_data_dir(&self.root, name);
            if !data.is_dir() {
                std::fs::create_dir_all(&data).map_err(|e| Error::io("create", &data, e))?;
                repaired.push(format!(
                    "volume {name}: folder made again (its create was cut short)"
                ));
            }
        }
        let entries =
            std::fs::read_dir(&self.root).map_err(|e| Error::io("list", &self.root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io("list", &self.root, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            // Only folders this store could have made (a valid volume name) are touched.
            if known.contains(&name) || validate_volume_name(&name).is_err() {
                continue;
            }
            let path = entry.path();
            std::fs::remove_dir_all(&path).map_err(|e| Error::io("remove", &path, e))?;
            repaired.push(format!(
                "volume {name}: folder without a row removed (its removal was cut short)"
            ));
        }
        Ok(repaired)
    }

    /// Removes the unused volumes: anonymous ones, or all with `all` (docker 23+).
    pub async fn prune(&self, db: &Db, all: bool) -> Result<VolumePruneReport> {
        let unused = VolumeFilters {
            dangling: Some(true),
            ..Default::default()
        };
        let mut report = VolumePruneReport::default();
        for volume in self.list(db, &unused, false).await? {
            if !all && !volume.labels.contains_key(ANONYMOUS_LABEL) {
                continue;
            }
            let size = self
                .sizes
                .measure_now(&volume.name, volume_data_dir(&self.root, &volume.name))
                .await;
            match self.remove(db, &volume.name, false).await {
                Ok(()) => {
                    report.volumes_deleted.push(volume.name);
                    report.space_reclaimed += size;
                }
                // Taken by a container meanwhile, or removed by someone else.
                Err(Error::Conflict(_)) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }

    /// After a container's removal (its rows are gone with it): removes its anonymous volumes
    /// that no other container uses (`rm -v`, `run --rm`). Returns the names removed.
    pub async fn remove_anonymous(&self, db: &Db, mounts: &[MountConfig]) -> Vec<String> {
        let mut removed = Vec::new();
        for mount in mounts.iter().filter(|m| m.anonymous) {
            match self.remove(db, &mount.source, true).await {
                Ok(()) => removed.push(mount.source.clone()),
                Err(e) => tracing::info!(volume = %mount.source, "kept: {e}"),
            }
        }
        removed
    }

    fn volume(&self, row: &VolumeRow) -> Result<Volume> {
        let mut labels: BTreeMap<String, String> = serde_json::from_str(&row.labels_json)
            .map_err(|e| Error::Corrupt(format!("volume {} labels: {e}", row.name)))?;
        if row.anonymous != 0 {
            labels.entry(ANONYMOUS_LABEL.to_string()).or_default();
        }
        let created =
            std::time::UNIX_EPOCH + std::time::Duration::from_millis(row.created_at.max(0) as u64);
        Ok(Volume {
            name: row.name.clone(),
            driver: row.driver.clone(),
            mountpoint: volume_data_dir(&self.root, &row.name),
            created_at: humantime::format_rfc3339_seconds(created).to_string(),
            labels,
            scope: "local".to_string(),
            options: BTreeMap::new(),
            usage_data: None,
        })
    }
}
