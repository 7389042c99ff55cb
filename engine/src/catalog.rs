//! The image catalogue: image rows and tags in the database, recorded after an image's blobs
//! and layers are safely in the store, and looked up by reference, tag or id prefix.
//! Tags (`catalog::tags`), removal rules (`catalog::removal`) and the inspect/history views
//! (`catalog::details`) live in the sub-modules.

pub(crate) mod details;
pub mod filter;
pub(crate) mod removal;
pub(crate) mod tags;

use crate::db::{now_ms, Db};
use crate::image::{ImageDefaults, LayerInfo, LoadedImage, Reference};
use crate::{Error, Result};
use serde::Deserialize;

pub use berth_wire::image::ImageSummary;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct ImageRow {
    pub id: String,
    pub manifest_digest: Option<String>,
    pub config_json: String,
    pub layers_json: String,
    pub size: i64,
    pub created: Option<String>,
}

impl ImageRow {
    /// The image id and manifest digest as digests.
    pub fn digests(&self) -> Result<(crate::digest::Digest, Option<crate::digest::Digest>)> {
        let corrupt = |what: &str| Error::Corrupt(format!("image {} has a bad {what}", self.id));
        let id = self.id.parse().map_err(|_| corrupt("id"))?;
        let manifest = self
            .manifest_digest
            .as_deref()
            .map(str::parse)
            .transpose()
            .map_err(|_| corrupt("manifest digest"))?;
        Ok((id, manifest))
    }

    pub fn layers(&self) -> Result<Vec<LayerInfo>> {
        serde_json::from_str(&self.layers_json)
            .map_err(|e| Error::Corrupt(format!("image {} layers: {e}", self.id)))
    }

    /// The container defaults of the image's config (docker's `config` object).
    pub fn defaults(&self) -> Result<ImageDefaults> {
        #[derive(Deserialize, Default)]
        struct Config {
            #[serde(rename = "Entrypoint", default)]
            entrypoint: Option<Vec<String>>,
            #[serde(rename = "Cmd", default)]
            cmd: Option<Vec<String>>,
            #[serde(rename = "Env", default)]
            env: Option<Vec<String>>,
            #[serde(rename = "WorkingDir", default)]
            working_dir: Option<String>,
            #[serde(rename = "User", default)]
            user: Option<String>,
            #[serde(rename = "StopSignal", default)]
            stop_signal: Option<String>,
            #[serde(rename = "Volumes", default)]
            volumes: Option<std::collections::BTreeMap<String, serde_json::Value>>,
            #[serde(rename = "ExposedPorts", default)]
            exposed_ports: Option<std::collections::BTreeMap<String, serde_json::Value>>,
            #[serde(rename = "Labels", default)]
            labels: Option<std::collections::BTreeMap<String, String>>,
            #[serde(rename = "Healthcheck", default)]
            healthcheck: Option<berth_wire::container::health::HealthConfig>,
        }
        #[derive(Deserialize)]
        struct ImageConfig {
            #[serde(default)]
            config: Option<Config>,
        }
        let parsed: ImageConfig = serde_json::from_str(&self.config_json)
            .map_err(|e| Error::Corrupt(format!("image {} config: {e}", self.id)))?;
        let c = parsed.config.unwrap_or_default();
        Ok(ImageDefaults {
            entrypoint: c.entrypoint.unwrap_or_default(),
            cmd: c.cmd.unwrap_or_default(),
            env: c.env.unwrap_or_default(),
            working_dir: c.working_dir.unwrap_or_default(),
            user: c.user.unwrap_or_default(),
            stop_signal: c.stop_signal.unwrap_or_default(),
            volumes: c.volumes.unwrap_or_default().into_keys().collect(),
            exposed_ports: c.exposed_ports.unwrap_or_default().into_keys().collect(),
            labels: c.labels.unwrap_or_default(),
            healthcheck: c.healthcheck,
        })
    }
}

/// Records a loaded image and points its tags at it (a tag moves from any older image).
pub(crate) async fn record(db: &Db, image: &LoadedImage) -> Result<()> {
    let layers_json = serde_json::to_string(&image.layers)
        .map_err(|e| Error::Corrupt(format!("layers of {}: {e}", image.id)))?;
    let mut tx = crate::db::begin_write(db).await?;
    sqlx::query(
        "INSERT INTO images (id, manifest_digest, config_json, layers_json, size, created, added_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT(id) DO UPDATE SET manifest_digest = COALESCE(excluded.manifest_digest, images.manifest_digest)",
    )
    .bind(image.id.to_string())
    .bind(image.manifest_digest.as_ref().map(|d| d.to_string()))
    .bind(&image.config_json)
    .bind(&layers_json)
    .bind(image.size as i64)
    .bind(image.config.created.clone())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    for tag in &image.repo_tags {
        sqlx::query(
            "INSERT INTO image_tags (name, image_id) VALUES (?, ?) \
             ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
        )
        .bind(tag.to_string())
        .bind(image.id.to_string())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

const COLUMNS: &str = "id, manifest_digest, config_json, layers_json, size, created";

/// Finds an image by reference (`busybox`, `busybox:1`, `host:5000/x@sha256:…`), by id
/// (`sha256:<hex>`) or by a unique id prefix of at least 4 hex characters.
pub(crate) async fn resolve(db: &Db, key: &str) -> Result<ImageRow> {
    let hex_key = key.strip_prefix("sha256:").unwrap_or(key);
    let is_hex = hex_key.len() >= 4 && hex_key.chars().all(|c| c.is_ascii_hexdigit());
    if is_hex {
        let rows = sqlx::query_as::<_, ImageRow>(&format!(
            "SELECT {COLUMNS} FROM images WHERE id LIKE ? LIMIT 2"
        ))
        .bind(format!("sha256:{}%", hex_key.to_ascii_lowercase()))
        .fetch_all(db)
        .await?;
        match rows.len() {
            1 => {
                return rows
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::not_found("image", key))
            }
            0 => {}
            _ => {
                return Err(Error::InvalidInput(format!(
                    "image id prefix {key} is ambiguous"
                )))
            }
        }
        if key.starts_with("sha256:") {
            return Err(Error::not_found("image", key));
        }
    }
    let reference: Reference = key.parse()?;
    let tagged = sqlx::query_as::<_, ImageRow>(&format!(
        "SELECT {COLUMNS} FROM images WHERE id = (SELECT image_id FROM image_tags WHERE name = ?)"
    ))
    .bind(reference.to_string())
    .fetch_optional(db)
    .await?;
    // `name@sha256:…` names the manifest an image was pulled by (pulls by digest add no tag).
    let by_digest = match (&tagged, reference.digest()) {
        (None, Some(digest)) => {
            sqlx::query_as::<_, ImageRow>(&format!(
                "SELECT {COLUMNS} FROM images WHERE manifest_digest = ? LIMIT 1"
            ))
            .bind(digest.to_string())
            .fetch_optional(db)
            .await?
        }
        _ => None,
    };
    tagged
        .or(by_digest)
        .ok_or_else(|| Error::not_found("image", key))
}

pub(crate) async fn list(db: &Db) -> Result<Vec<ImageSummary>> {
    let rows = sqlx::query_as::<_, ImageRow>(&format!(
        "SELECT {COLUMNS} FROM images ORDER BY added_at DESC, id"
    ))
    .fetch_all(db)
    .await?;
    let tags: Vec<(String, String)> =
        sqlx::query_as("SELECT name, image_id FROM image_tags ORDER BY name")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let names: Vec<&str> = tags
                .iter()
                .filter(|(_, image)| *image == row.id)
                .map(|(name, _)| name.as_str())
                .collect();
            row.summary(&names)
        })
        .collect())
}

/// Every image's id with its layers, bottom first (disk usage accounting).
pub(crate) async fn layers_of_all(db: &Db) -> Result<Vec<(String, Vec<crate::image::LayerInfo>)>> {
    let rows = sqlx::query_as::<_, ImageRow>(&format!("SELECT {COLUMNS} FROM images"))
        .fetch_all(db)
        .await?;
    rows.into_iter()
        .map(|row| Ok((row.id.clone(), row.layers()?)))
        .collect()
}

/// The list entry of one image, by its exact id.
pub(crate) async fn summary(db: &Db, id: &str) -> Result<ImageSummary> {
    let row = sqlx::query_as::<_, ImageRow>(&format!("SELECT {COLUMNS} FROM images WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| Error::not_found("image", id))?;
    let names = tags::names_of(db, id).await?;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Ok(row.summary(&names))
}

impl ImageRow {
    /// The list entry of this image, given the full names of its tags.
    pub(crate) fn summary(self, tag_names: &[&str]) -> ImageSummary {
        // A config that cannot be read lists without labels; inspect reports the damage.
        let labels = self.defaults().map(|d| d.labels).unwrap_or_default();
        ImageSummary {
            labels,
            repo_tags: tag_names.iter().map(|name| familiar(name)).collect(),
            repo_digests: repo_digests(tag_names, self.manifest_digest.as_deref()),
            id: self.id,
            created: self.created,
            size: self.size,
        }
    }
}

/// One `repository@digest` per repository among `tag_names` (sorted, without repeats).
fn repo_digests(tag_names: &[&str], manifest_digest: Option<&str>) -> Vec<String> {
    let Some(digest) = manifest_digest else {
        return Vec::new();
    };
    let mut out: Vec<String> = tag_names
        .iter()
        .filter_map(|name| name.parse::<Reference>().ok())
        .map(|r| format!("{}@{digest}", r.familiar_name()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `docker.io/library/busybox:latest` → `busybox:latest`, as docker shows names.
pub(crate) fn familiar(name: &str) -> String {
    name.parse::<Reference>()
        .map(|r| r.familiar())
        .unwrap_or_else(|_| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_digests_name_each_repository_once() {
        let digest = "sha256:aa";
        let names = [
            "docker.io/library/busybox:latest",
            "docker.io/library/busybox:1",
            "localhost:5000/app:v1",
        ];
        assert_eq!(
            repo_digests(&names, Some(digest)),
            vec![
                "busybox@sha256:aa".to_string(),
                "localhost:5000/app@sha256:aa".to_string()
            ]
        );
        assert!(repo_digests(&names, None).is_empty());
    }
}
