//! Container rows in the catalogue: insert, look up by id, id prefix or name, update state.

use super::{ContainerConfig, ContainerState, ContainerSummary, ListedMount};
use crate::db::Db;
use crate::{Error, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ContainerRow {
    pub id: String,
    pub name: String,
    pub image_ref: String,
    pub image_id: String,
    pub config_json: String,
    pub state: String,
    pub pid: Option<i64>,
    pub shim_pid: Option<i64>,
    pub exit_code: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub oom_killed: i64,
}

const COLUMNS: &str = "id, name, image_ref, image_id, config_json, state, pid, shim_pid, \
                       exit_code, created_at, started_at, finished_at, oom_killed";

impl ContainerRow {
    pub fn state(&self) -> Result<ContainerState> {
        ContainerState::parse(&self.state).ok_or_else(|| {
            Error::Corrupt(format!("container {} has state {:?}", self.id, self.state))
        })
    }

    pub fn config(&self) -> Result<ContainerConfig> {
        serde_json::from_str(&self.config_json)
            .map_err(|e| Error::Corrupt(format!("container {} config: {e}", self.id)))
    }

    pub fn summary(&self) -> Result<ContainerSummary> {
        self.summary_with(&self.config()?)
    }

    /// The summary, given this row's config already read.
    pub fn summary_with(&self, config: &ContainerConfig) -> Result<ContainerSummary> {
        Ok(ContainerSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            image: self.image_ref.clone(),
            image_id: self.image_id.clone(),
            command: config.command_line(),
            state: self.state()?,
            exit_code: self.exit_code.map(|c| c as i32),
            oom_killed: self.oom_killed != 0,
            pid: self.pid.map(|p| p as i32),
            created_at_ms: self.created_at,
            started_at_ms: self.started_at,
            finished_at_ms: self.finished_at,
            restarting: false,
            ports: Vec::new(),
            mounts: config
                .mounts
                .iter()
                .map(|m| ListedMount {
                    kind: m.kind,
                    name: m.source.clone(),
                    destination: m.destination.clone(),
                })
                .collect(),
            labels: config.labels.clone(),
            networks: Vec::new(),
            size_rw: None,
            size_root_fs: None,
            health: None,
        })
    }

    pub async fn insert(&self, db: &Db) -> Result<()> {
        let result = sqlx::query(
            "INSERT INTO containers (id, name, image_ref, image_id, config_json, state, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&self.id)
        .bind(&self.name)
        .bind(&self.image_ref)
        .bind(&self.image_id)
        .bind(&self.config_json)
        .bind(&self.state)
        .bind(self.created_at)
        .execute(db)
        .await;
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(
                format!("the container name \"/{}\" is already in use", self.name),
            )),
            other => other.map(|_| ()).map_err(Error::from),
        }
    }

    /// Finds a container by full id, unique id prefix, or name (docker's order).
    pub async fn find(db: &Db, key: &str) -> Result<ContainerRow> {
        let by_id_or_name = format!("SELECT {COLUMNS} FROM containers WHERE id = ? OR name = ?");
        let name = key.strip_prefix('/').unwrap_or(key);
        if let Some(row) = sqlx::query_as::<_, ContainerRow>(&by_id_or_name)
            .bind(key)
            .bind(name)
            .fetch_optional(db)
            .await?
        {
            return Ok(row);
        }
        if !key.is_empty() && key.len() < 64 && key.chars().all(|c| c.is_ascii_hexdigit()) {
            let by_prefix = format!("SELECT {COLUMNS} FROM containers WHERE id LIKE ? LIMIT 2");
            let rows = sqlx::query_as::<_, ContainerRow>(&by_prefix)
                .bind(format!("{}%", key.to_ascii_lowercase()))
                .fetch_all(db)
                .await?;
            match rows.len() {
                1 => {
                    return rows
                        .into_iter()
                        .next()
                        .ok_or_else(|| Error::not_found("container", key))
                }
                0 => {}
                _ => {
                    return Err(Error::InvalidInput(format!(
                        "multiple containers found with provided prefix: {key}"
                    )))
                }
            }
        }
        Err(Error::not_found("container", key))
    }

    pub async fn list(db: &Db, all: bool) -> Result<Vec<ContainerRow>> {
        let sql = if all {
            format!("SELECT {COLUMNS} FROM containers ORDER BY created_at DESC, id")
        } else {
            format!("SELECT {COLUMNS} FROM containers WHERE state IN ('running', 'paused') ORDER BY created_at DESC, id")
        };
        Ok(sqlx::query_as::<_, ContainerRow>(&sql)
            .fetch_all(db)
            .await?)
    }

    pub async fn set_running(db: &Db, id: &str, pid: i32, shim_pid: i32, at: i64) -> Result<()> {
        sqlx::query(
            "UPDATE containers SET state = 'running', pid = ?, shim_pid = ?, exit_code = NULL, \
             started_at = ?, finished_at = NULL WHERE id = ?",
        )
        .bind(pid)
        .bind(shim_pid)
        .bind(at)
        .bind(id)
        .execute(db)
        .await?;
        Ok(())
    }

    pub async fn set_exited(
        db: &Db,
        id: &str,
        exit_code: i32,
        oom_killed: bool,
        at: i64,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE containers SET state = 'exited', pid = NULL, shim_pid = NULL, exit_code = ?, \
             oom_killed = ?, finished_at = ? WHERE id = ?",
        )
        .bind(exit_code)
        .bind(oom_killed as i64)
        .bind(at)
        .bind(id)
        .execute(db)
        .await?;
        Ok(())
    }

    /// Running ⇄ paused.
    pub async fn set_paused(db: &Db, id: &str, paused: bool) -> Result<()> {
        let (to, from) = if paused {
            ("paused", "running")
        } else {
            ("running", "paused")
        };
        sqlx::query("UPDATE containers SET state = ? WHERE id = ? AND state = ?")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(db)
            .await?;
        Ok(())
    }

    pub async fn rename(db: &Db, id: &str, name: &str) -> Result<()> {
        let result = sqlx::query("UPDATE containers SET name = ? WHERE id = ?")
            .bind(name)
            .bind(id)
            .execute(db)
            .await;
        match result {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Conflict(
                format!("the container name \"/{name}\" is already in use"),
            )),
            other => other.map(|_| ()).map_err(Error::from),
        }
    }

    pub async fn delete(db: &Db, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM containers WHERE id = ?")
            .bind(id)
            .execute(db)
            .await?;
        Ok(())
    }
}
