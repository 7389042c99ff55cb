//! What `image inspect` and `history` show of a catalogued image, shaped like docker's.

use super::{tags, ImageRow};
use crate::db::Db;
use crate::image::{ImageConfig, LayerInfo};
use crate::{Error, Result};

pub use berth_wire::image::{HistoryEntry, ImageInspect, InspectRootFs};

pub(crate) async fn inspect(db: &Db, key: &str) -> Result<ImageInspect> {
    let row = super::resolve(db, key).await?;
    let names = tags::names_of(db, &row.id).await?;
    let name_refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let raw: serde_json::Value = serde_json::from_str(&row.config_json)
        .map_err(|e| Error::Corrupt(format!("image {} config: {e}", row.id)))?;
    let config = parse_config(&row)?;
    let text = |field: &str| {
        raw.get(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let (comment, author) = (text("comment"), text("author"));
    let summary = row.clone().summary(&name_refs);
    Ok(ImageInspect {
        id: summary.id,
        repo_tags: summary.repo_tags,
        repo_digests: summary.repo_digests,
        parent: String::new(),
        comment,
        created: config.created.clone().unwrap_or_default(),
        author,
        config: raw
            .get("config")
            .cloned()
            .unwrap_or(serde_json::Value::Null),
        architecture: config.architecture,
        variant: config.variant,
        os: config.os,
        size: row.size,
        root_fs: InspectRootFs {
            kind: config.rootfs.kind,
            layers: config
                .rootfs
                .diff_ids
                .iter()
                .map(|d| d.to_string())
                .collect(),
        },
    })
}

pub(crate) async fn history(db: &Db, key: &str) -> Result<Vec<HistoryEntry>> {
    let row = super::resolve(db, key).await?;
    let tags = tags::names_of(db, &row.id).await?;
    let config = parse_config(&row)?;
    Ok(history_of(
        &row.id,
        &config,
        &row.layers()?,
        tags.iter().map(|t| super::familiar(t)).collect(),
    ))
}

fn parse_config(row: &ImageRow) -> Result<ImageConfig> {
    serde_json::from_str(&row.config_json)
        .map_err(|e| Error::Corrupt(format!("image {} config: {e}", row.id)))
}

/// The config's history matched to the layers: each step that is not an `empty_layer` made
/// the next layer (OCI image spec, config.md "history"). An image without history gets one
/// row per layer.
fn history_of(
    id: &str,
    config: &ImageConfig,
    layers: &[LayerInfo],
    tags: Vec<String>,
) -> Vec<HistoryEntry> {
    let mut layer_sizes = layers.iter().map(|l| l.size);
    let mut rows: Vec<HistoryEntry> = if config.history.is_empty() {
        layer_sizes
            .map(|size| HistoryEntry {
                id: String::new(),
                created: config.created.clone(),
                created_by: String::new(),
                size,
                comment: String::new(),
                tags: Vec::new(),
            })
            .collect()
    } else {
        config
            .history
            .iter()
            .map(|step| HistoryEntry {
                id: String::new(),
                created: step.created.clone(),
                created_by: step.created_by.clone().unwrap_or_default(),
                size: if step.empty_layer {
                    0
                } else {
                    layer_sizes.next().unwrap_or(0)
                },
                comment: step.comment.clone().unwrap_or_default(),
                tags: Vec::new(),
            })
            .collect()
    };
    rows.reverse();
    for (i, row) in rows.iter_mut().enumerate() {
        row.id = if i == 0 {
            id.to_string()
        } else {
            "<missing>".into()
        };
    }
    if let Some(top) = rows.first_mut() {
        top.tags = tags;
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;
    use crate::image::config::History;

    fn layer(size: u64) -> LayerInfo {
        let d = Digest::of(&size.to_be_bytes());
        LayerInfo {
            blob_digest: d,
            diff_id: d,
            chain_id: d,
            size,
        }
    }

    fn step(created_by: &str, empty_layer: bool) -> History {
        History {
            created: Some("2024-01-01T00:00:00Z".into()),
            created_by: Some(created_by.into()),
            author: None,
            comment: None,
            empty_layer,
        }
    }

    #[test]
    fn history_skips_empty_layers_when_matching_sizes() {
        let config = ImageConfig {
            history: vec![
                step("ADD rootfs /", false),
                step("ENV A=b", true),
                step("RUN make", false),
                step("CMD [\"sh\"]", true),
            ],
            ..Default::default()
        };
        let rows = history_of(
            "sha256:top",
            &config,
            &[layer(100), layer(7)],
            vec!["x:1".into()],
        );
        let got: Vec<(&str, &str, u64)> = rows
            .iter()
            .map(|r| (r.id.as_str(), r.created_by.as_str(), r.size))
            .collect();
        assert_eq!(
            got,
            vec![
                ("sha256:top", "CMD [\"sh\"]", 0),
                ("<missing>", "RUN make", 7),
                ("<missing>", "ENV A=b", 0),
                ("<missing>", "ADD rootfs /", 100),
            ]
        );
        assert_eq!(rows[0].tags, vec!["x:1".to_string()]);
        assert!(rows[1].tags.is_empty());
    }

    #[test]
    fn an_image_without_history_shows_its_layers() {
        let config = ImageConfig {
            created: Some("2024-02-02T00:00:00Z".into()),
            ..Default::default()
        };
        let rows = history_of("sha256:i", &config, &[layer(1), layer(2)], Vec::new());
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].id.as_str(), rows[0].size), ("sha256:i", 2));
        assert_eq!((rows[1].id.as_str(), rows[1].size), ("<missing>", 1));
        assert_eq!(rows[1].created.as_deref(), Some("2024-02-02T00:00:00Z"));
    }
}
