//! Tags: the names (`image_tags`) that point at images — read, added or moved, and removed.

use crate::db::Db;
use crate::image::Reference;
use crate::{Error, Result};

/// The full names of an image's tags (`docker.io/library/busybox:latest`), sorted.
pub(crate) async fn names_of(db: &Db, image_id: &str) -> Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT name FROM image_tags WHERE image_id = ? ORDER BY name")
            .bind(image_id)
            .fetch_all(db)
            .await?,
    )
}

/// The reference a new tag gets from `target`: a name with an optional tag (`latest` when
/// none is given). A digest names content, not a tag, and is refused as docker does.
pub(crate) fn parse_target(target: &str) -> Result<Reference> {
    let reference = Reference::parse(target).map_err(crate::image::ImageError::from)?;
    if reference.digest().is_some() {
        return Err(Error::InvalidInput(format!(
            "refusing to create a tag with a digest reference: {target}"
        )));
    }
    Ok(reference)
}

/// Points `reference` at `image_id`, moving it from any other image (which keeps its other
/// tags, or becomes dangling).
pub(crate) async fn set(db: &Db, reference: &Reference, image_id: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO image_tags (name, image_id) VALUES (?, ?) \
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id",
    )
    .bind(reference.to_string())
    .bind(image_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Removes the tag `reference` if it still names `image_id`; says whether it did.
pub(crate) async fn remove(db: &Db, reference: &Reference, image_id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM image_tags WHERE name = ? AND image_id = ?")
        .bind(reference.to_string())
        .bind(image_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_targets_default_to_latest_and_refuse_digests() {
        let r = parse_target("app").expect("valid");
        assert_eq!(r.to_string(), "docker.io/library/app:latest");
        let r = parse_target("localhost:5000/a/b:v2").expect("valid");
        assert_eq!(r.familiar(), "localhost:5000/a/b:v2");
        let digest = format!("app@sha256:{}", "a".repeat(64));
        assert!(matches!(parse_target(&digest), Err(Error::InvalidInput(_))));
        assert!(matches!(
            parse_target("Bad/Name"),
            Err(Error::Image(crate::image::ImageError::InvalidReference(_)))
        ));
        assert!(parse_target("app:-bad").is_err());
    }
}
