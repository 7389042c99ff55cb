//! Removing images from the catalogue as docker's `rmi` and `image prune` do: untag versus
//! delete, conflicts with containers, and what the remaining images still reference.
//!
//! The rules (docker's daemon, `ImageDelete`): a name removes only that tag; removing the last
//! tag also deletes the image unless a container uses it. An id deletes the image with all
//! its tags, but is refused when the image has several tags (unless forced), when a stopped
//! container uses it (unless forced), and always when a running container uses it. berth
//! never deletes an image record a container still needs for its layers: a forced removal
//! of such an image untags it, and `image prune` deletes it once no container uses it.

use super::{familiar, resolve, tags};
use crate::db::Db;
use crate::digest::Digest;
use crate::image::{LayerInfo, Reference};
use crate::{Error, Result};
use berth_wire::container::ContainerState;
use std::collections::HashSet;

pub use berth_wire::image::ImageDeleteRecord;

/// A container that uses an image.
#[derive(Debug, Clone, sqlx::FromRow)]
struct User {
    id: String,
    state: String,
}

impl User {
    fn is_alive(&self) -> bool {
        ContainerState::parse(&self.state).is_some_and(ContainerState::is_alive)
    }
}

async fn users(db: &Db, image_id: &str) -> Result<Vec<User>> {
    Ok(sqlx::query_as::<_, User>(
        "SELECT id, state FROM containers WHERE image_id = ? ORDER BY created_at",
    )
    .bind(image_id)
    .fetch_all(db)
    .await?)
}

/// `rmi [-f] KEY` on the catalogue: returns what was untagged and deleted, in order.
pub(crate) async fn remove(db: &Db, key: &str, force: bool) -> Result<Vec<ImageDeleteRecord>> {
    let image = resolve(db, key).await?;
    let tag_names = tags::names_of(db, &image.id).await?;
    let users = users(db, &image.id).await?;
    let mut records = Vec::new();
    if !is_id_prefix(&image.id, key) {
        let reference = Reference::parse(key).map_err(crate::image::ImageError::from)?;
        if !force && tag_names.len() == 1 {
            if let Some(user) = users.first() {
                // Untagging would leave the container's image dangling: only when forced.
                return Err(Error::Conflict(format!(
                    "conflict: unable to remove repository reference \"{key}\" (must force) - container {} is using its referenced image {}",
                    short(&user.id),
                    short(&image.id)
                )));
            }
        }
        if tags::remove(db, &reference, &image.id).await? {
            records.push(ImageDeleteRecord::Untagged(reference.familiar()));
        }
        // Other names remain, or a container still uses the now untagged image.
        if tag_names.len() > 1 || !users.is_empty() {
            return Ok(records);
        }
    } else if let Some(conflict) = conflict(&image.id, &users, tag_names.len(), force) {
        return Err(conflict);
    }
    delete(db, &image.id, &mut records).await?;
    Ok(records)
}

/// Why an image may not be deleted by id, if it may not (docker's order of checks).
fn conflict(image_id: &str, users: &[User], tag_count: usize, force: bool) -> Option<Error> {
    let refuse = |how: &str, why: String| {
        Some(Error::Conflict(format!(
            "conflict: unable to delete {} ({how}) - {why}",
            short(image_id)
        )))
    };
    if let Some(user) = users.iter().find(|u| u.is_alive()) {
        return refuse(
            "cannot be forced",
            format!(
                "image is being used by running container {}",
                short(&user.id)
            ),
        );
    }
    if force {
        return None;
    }
    if tag_count > 1 {
        return refuse(
            "must be forced",
            "image is referenced in multiple repositories".into(),
        );
    }
    users.first().and_then(|user| {
        refuse(
            "must be forced",
            format!(
                "image is being used by stopped container {}",
                short(&user.id)
            ),
        )
    })
}

/// Deletes an image's tags and, when no container uses it, the image record, in one
/// transaction; appends what it did to `records`.
async fn delete(db: &Db, image_id: &str, records: &mut Vec<ImageDeleteRecord>) -> Result<()> {
    let mut tx = crate::db::begin_write(db).await?;
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM image_tags WHERE image_id = ? ORDER BY name")
            .bind(image_id)
            .fetch_all(&mut *tx)
            .await?;
    sqlx::query("DELETE FROM image_tags WHERE image_id = ?")
        .bind(image_id)
        .execute(&mut *tx)
        .await?;
    let used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM containers WHERE image_id = ?")
        .bind(image_id)
        .fetch_one(&mut *tx)
        .await?;
    if used == 0 {
        sqlx::query("DELETE FROM images WHERE id = ?")
            .bind(image_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    records.extend(
        names
            .iter()
            .map(|name| ImageDeleteRecord::Untagged(familiar(name))),
    );
    if used == 0 {
        records.push(ImageDeleteRecord::Deleted(image_id.to_string()));
    }
    Ok(())
}

/// `image prune`: deletes dangling images (no tag, no container), or with `all` every image
/// no container uses.
pub(crate) async fn prune(db: &Db, all: bool) -> Result<Vec<ImageDeleteRecord>> {
    let mut query =
        String::from("SELECT id FROM images WHERE id NOT IN (SELECT image_id FROM containers)");
    if !all {
        query.push_str(" AND id NOT IN (SELECT image_id FROM image_tags)");
    }
    query.push_str(" ORDER BY added_at, id");
    let ids: Vec<String> = sqlx::query_scalar(&query).fetch_all(db).await?;
    let mut records = Vec::new();
    for id in ids {
        delete(db, &id, &mut records).await?;
    }
    Ok(records)
}

/// How many containers (in any state) use each image that has any, by image id: what keeps
/// an image from being removed without force, and from `prune --all`.
pub(crate) async fn containers_per_image(
    db: &Db,
) -> Result<std::collections::BTreeMap<String, u32>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT image_id, COUNT(*) FROM containers GROUP BY image_id")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u32::try_from(n).unwrap_or(u32::MAX)))
        .collect())
}

/// What the catalogued images still need on disk: their layers' chain ids, and their
/// config, manifest and layer blobs.
#[derive(Debug, Default)]
pub(crate) struct InUse {
    pub chain_ids: HashSet<Digest>,
    pub blobs: HashSet<Digest>,
}

pub(crate) async fn in_use(db: &Db) -> Result<InUse> {
    let rows: Vec<(String, Option<String>, String)> =
        sqlx::query_as("SELECT id, manifest_digest, layers_json FROM images")
            .fetch_all(db)
            .await?;
    let mut out = InUse::default();
    for (id, manifest_digest, layers_json) in rows {
        let corrupt = |what: &str| Error::Corrupt(format!("image {id} {what}"));
        out.blobs
            .insert(id.parse().map_err(|_| corrupt("has a bad id"))?);
        if let Some(manifest) = manifest_digest {
            out.blobs.insert(
                manifest
                    .parse()
                    .map_err(|_| corrupt("has a bad manifest digest"))?,
            );
        }
        let layers: Vec<LayerInfo> =
            serde_json::from_str(&layers_json).map_err(|_| corrupt("has bad layers"))?;
        for layer in layers {
            out.blobs.insert(layer.blob_digest);
            out.chain_ids.insert(layer.chain_id);
        }
    }
    Ok(out)
}

/// Whether `key` named the image by (a prefix of) its id rather than by a reference; the
/// same test as the lookup, which tries ids first.
pub(crate) fn is_id_prefix(image_id: &str, key: &str) -> bool {
    let hex = key.strip_prefix("sha256:").unwrap_or(key);
    let id_hex = image_id.strip_prefix("sha256:").unwrap_or(image_id);
    hex.len() >= 4 && id_hex.starts_with(&hex.to_ascii_lowercase())
}

/// The 12 hex characters docker shows of an id.
pub(crate) fn short(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .chars()
        .take(12)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn user(id: &str, state: &str) -> User {
        User {
            id: id.into(),
            state: state.into(),
        }
    }

    fn message(e: Option<Error>) -> String {
        e.map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn ids_and_prefixes_are_told_from_names() {
        assert!(is_id_prefix(ID, "0123"));
        assert!(is_id_prefix(ID, "sha256:0123456789AB"));
        assert!(is_id_prefix(ID, ID));
        assert!(!is_id_prefix(ID, "012"), "too short to be an id prefix");
        assert!(!is_id_prefix(ID, "busybox"));
        assert!(!is_id_prefix(ID, "4567"));
        assert_eq!(short(ID), "0123456789ab");
    }

    #[test]
    fn a_running_user_cannot_be_forced() {
        let users = [user("c1", "exited"), user("c2", "running")];
        for force in [false, true] {
            let m = message(conflict(ID, &users, 1, force));
            assert!(
                m.contains("(cannot be forced)") && m.contains("running container c2"),
                "{m}"
            );
        }
        let paused = [user("c3", "paused")];
        assert!(message(conflict(ID, &paused, 0, true)).contains("cannot be forced"));
    }

    #[test]
    fn stopped_users_and_several_tags_need_force() {
        let stopped = [user("c1", "exited")];
        let m = message(conflict(ID, &stopped, 1, false));
        assert!(
            m.contains("(must be forced)") && m.contains("stopped container c1"),
            "{m}"
        );
        assert!(conflict(ID, &stopped, 1, true).is_none());
        let m = message(conflict(ID, &[], 2, false));
        assert!(m.contains("referenced in multiple repositories"), "{m}");
        assert!(conflict(ID, &[], 2, true).is_none());
        assert!(conflict(ID, &[], 1, false).is_none());
        assert!(conflict(ID, &[], 0, false).is_none());
    }

    /// A catalogue with images `a` (tags `a:1`, `a:2`), `b` (tag `b:latest`) and `c`
    /// (dangling), each with one layer of its own.
    async fn catalogue(dir: &std::path::Path) -> (Db, [String; 3]) {
        let db = crate::db::open(&dir.join("berth.db")).await.expect("db");
        let ids = [b"a", b"b", b"c"].map(|n| Digest::of(n).to_string());
        for (i, id) in ids.iter().enumerate() {
            let layer = Digest::of(&[i as u8]);
            let layers = vec![LayerInfo {
                blob_digest: layer,
                diff_id: layer,
                chain_id: layer,
                size: 1,
            }];
            sqlx::query(
                "INSERT INTO images (id, config_json, layers_json, size, added_at) VALUES (?, '{}', ?, 1, ?)",
            )
            .bind(id)
            .bind(serde_json::to_string(&layers).expect("json"))
            .bind(i as i64)
            .execute(&db)
            .await
            .expect("image");
        }
        for (name, id) in [("a:1", &ids[0]), ("a:2", &ids[0]), ("b", &ids[1])] {
            let reference = Reference::parse(name).expect("ref");
            tags::set(&db, &reference, id).await.expect("tag");
        }
        (db, ids)
    }

    async fn add_container(db: &Db, id: &str, image_id: &str, state: &str) {
        sqlx::query(
            "INSERT INTO containers (id, name, image_ref, image_id, config_json, state, created_at) \
             VALUES (?, ?, 'x', ?, '{}', ?, 0)",
        )
        .bind(id)
        .bind(id)
        .bind(image_id)
        .bind(state)
        .execute(db)
        .await
        .expect("container");
    }

    async fn image_count(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM images")
            .fetch_one(db)
            .await
            .expect("count")
    }

    use ImageDeleteRecord::{Deleted, Untagged};

    #[tokio::test]
    async fn a_name_untags_and_the_last_name_deletes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, ids) = catalogue(dir.path()).await;
        assert_eq!(
            remove(&db, "a:1", false).await.expect("rmi a:1"),
            vec![Untagged("a:1".into())]
        );
        assert_eq!(image_count(&db).await, 3, "a keeps its other tag");
        assert_eq!(
            remove(&db, "a:2", false).await.expect("rmi a:2"),
            vec![Untagged("a:2".into()), Deleted(ids[0].clone())]
        );
        assert_eq!(image_count(&db).await, 2);
        assert!(matches!(
            remove(&db, "a:2", false).await,
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn an_id_with_several_tags_needs_force_then_goes_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, ids) = catalogue(dir.path()).await;
        let prefix = &ids[0][7..19];
        let err = remove(&db, prefix, false).await.expect_err("refused");
        assert!(err.to_string().contains("multiple repositories"), "{err}");
        assert_eq!(image_count(&db).await, 3, "nothing changed");
        assert_eq!(
            remove(&db, prefix, true).await.expect("forced"),
            vec![
                Untagged("a:1".into()),
                Untagged("a:2".into()),
                Deleted(ids[0].clone())
            ]
        );
        // One tag: an id deletes without force.
        assert_eq!(
            remove(&db, &ids[1], false).await.expect("rmi b by id"),
            vec![Untagged("b:latest".into()), Deleted(ids[1].clone())]
        );
    }

    #[tokio::test]
    async fn containers_keep_their_image() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, ids) = catalogue(dir.path()).await;
        add_container(&db, "stopped1", &ids[1], "exited").await;
        let err = remove(&db, "b", false).await.expect_err("in use");
        assert!(err.to_string().contains("must force"), "{err}");
        let err = remove(&db, &ids[1], false).await.expect_err("in use");
        assert!(
            err.to_string().contains("stopped container stopped1"),
            "{err}"
        );
        // Forced: untagged, but kept for the container's layers.
        assert_eq!(
            remove(&db, &ids[1], true).await.expect("forced"),
            vec![Untagged("b:latest".into())]
        );
        assert_eq!(image_count(&db).await, 3);

        add_container(&db, "running1", &ids[0], "running").await;
        let err = remove(&db, &ids[0], true).await.expect_err("running");
        assert!(err.to_string().contains("cannot be forced"), "{err}");
        // A name with other names left is only untagged, even with a running container.
        assert_eq!(
            remove(&db, "a:1", false).await.expect("untag"),
            vec![Untagged("a:1".into())]
        );
        assert!(
            remove(&db, "a:2", false).await.is_err(),
            "the last name needs force"
        );
        assert_eq!(
            remove(&db, "a:2", true).await.expect("forced untag"),
            vec![Untagged("a:2".into())]
        );
        assert_eq!(
            image_count(&db).await,
            3,
            "no image of a container was deleted"
        );
    }

    #[tokio::test]
    async fn containers_are_counted_per_image() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, ids) = catalogue(dir.path()).await;
        assert!(containers_per_image(&db).await.expect("none").is_empty());
        add_container(&db, "c1", &ids[0], "running").await;
        add_container(&db, "c2", &ids[0], "exited").await;
        add_container(&db, "c3", &ids[2], "created").await;
        let counts = containers_per_image(&db).await.expect("counts");
        assert_eq!(counts.get(&ids[0]), Some(&2));
        assert_eq!(counts.get(&ids[1]), None);
        assert_eq!(counts.get(&ids[2]), Some(&1));
    }

    #[tokio::test]
    async fn prune_takes_dangling_images_or_with_all_every_unused_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (db, ids) = catalogue(dir.path()).await;
        add_container(&db, "c1", &ids[1], "exited").await;
        assert_eq!(
            prune(&db, false).await.expect("prune"),
            vec![Deleted(ids[2].clone())]
        );
        assert_eq!(
            prune(&db, true).await.expect("prune -a"),
            vec![
                Untagged("a:1".into()),
                Untagged("a:2".into()),
                Deleted(ids[0].clone())
            ]
        );
        assert_eq!(image_count(&db).await, 1, "the container's image stays");
        let kept = in_use(&db).await.expect("in use");
        assert_eq!(kept.chain_ids, HashSet::from([Digest::of(&[1])]));
        assert!(kept.blobs.contains(&ids[1].parse().expect("digest")));
        assert!(kept.blobs.contains(&Digest::of(&[1])));
        assert_eq!(kept.blobs.len(), 2);
    }

    #[test]
    fn records_use_dockers_wire_names() {
        let json = serde_json::to_string(&[
            ImageDeleteRecord::Untagged("busybox:latest".into()),
            ImageDeleteRecord::Deleted(ID.into()),
        ])
        .expect("json");
        assert_eq!(
            json,
            format!(r#"[{{"Untagged":"busybox:latest"}},{{"Deleted":"{ID}"}}]"#)
        );
    }
}
