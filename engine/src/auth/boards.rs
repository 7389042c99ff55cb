//! Board links: read-only addresses (`/board/<secret>`) for a wall screen that cannot log in,
//! made by an admin, with an optional expiry, revocable.

use super::secret::{digest, new_id, new_secret};
use super::{expiry, validate_label, Auth, AuthError, AuthResult, BoardLink, ROOT};
use crate::db::now_ms;
use std::time::Duration;

/// What a board link's secret starts with.
pub const BOARD_PREFIX: &str = "board_";

const COLUMNS: &str = "id, name, created_by, created_at_ms, expires_at_ms";

#[derive(sqlx::FromRow)]
struct BoardRow {
    id: String,
    name: String,
    created_by: String,
    created_at_ms: i64,
    expires_at_ms: Option<i64>,
}

impl From<BoardRow> for BoardLink {
    fn from(row: BoardRow) -> BoardLink {
        BoardLink {
            id: row.id,
            name: row.name,
            created_by: row.created_by,
            created_at_ms: row.created_at_ms,
            expires_at_ms: row.expires_at_ms,
        }
    }
}

impl Auth {
    /// Makes a link; returns its secret (shown this once; only its SHA-256 is kept).
    pub async fn create_board_link(
        &self,
        created_by: &str,
        name: &str,
        expires_in: Option<Duration>,
    ) -> AuthResult<(String, BoardLink)> {
        validate_label("board link", name)?;
        self.require_principal(created_by).await?;
        let now = now_ms();
        let expires_at_ms = expiry(now, expires_in)?;
        let secret = new_secret(BOARD_PREFIX);
        let link = BoardLink {
            id: new_id(),
            name: name.to_string(),
            created_by: created_by.to_string(),
            created_at_ms: now,
            expires_at_ms,
        };
        sqlx::query(
            "INSERT INTO board_links (id, secret_hash, name, created_by, created_at_ms, \
             expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&link.id)
        .bind(digest(&secret))
        .bind(&link.name)
        .bind(&link.created_by)
        .bind(now)
        .bind(expires_at_ms)
        .execute(&self.db)
        .await?;
        Ok((secret, link))
    }

    /// The links not revoked (expired ones included), oldest first.
    pub async fn board_links(&self) -> AuthResult<Vec<BoardLink>> {
        Ok(sqlx::query_as::<_, BoardRow>(&format!(
            "SELECT {COLUMNS} FROM board_links WHERE revoked_at_ms IS NULL \
             ORDER BY created_at_ms, id"
        ))
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(BoardLink::from)
        .collect())
    }

    /// `NotFound` if unknown or already revoked.
    pub async fn revoke_board_link(&self, id: &str) -> AuthResult<()> {
        let revoked = sqlx::query(
            "UPDATE board_links SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.db)
        .await?
        .rows_affected();
        if revoked == 0 {
            return Err(AuthError::NotFound(format!("no such board link: {id}")));
        }
        Ok(())
    }

    /// The link of a secret, if it is valid: not revoked, not expired, and its creator (if
    /// not root) still a user.
    pub async fn board_link(&self, secret: &str) -> AuthResult<Option<BoardLink>> {
        if !secret.starts_with(BOARD_PREFIX) {
            return Ok(None);
        }
        Ok(sqlx::query_as::<_, BoardRow>(&format!(
            "SELECT {COLUMNS} FROM board_links b WHERE secret_hash = ? AND revoked_at_ms IS NULL \
             AND (expires_at_ms IS NULL OR expires_at_ms > ?) \
             AND (created_by = ? OR EXISTS (SELECT 1 FROM users u WHERE u.name = b.created_by))"
        ))
        .bind(digest(secret))
        .bind(now_ms())
        .bind(ROOT)
        .fetch_optional(&self.db)
        .await?
        .map(BoardLink::from))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::auth;
    use super::super::Role;
    use super::*;

    #[tokio::test]
    async fn board_links_are_made_looked_up_and_revoked() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        let (secret, link) = auth
            .create_board_link("alice", "lobby screen", None)
            .await
            .unwrap();
        assert!(secret.starts_with("board_") && secret.len() == 6 + 43);
        assert_eq!(auth.board_link(&secret).await.unwrap(), Some(link.clone()));
        assert_eq!(auth.board_links().await.unwrap(), vec![link.clone()]);
        assert!(auth.board_link("board_nope").await.unwrap().is_none());
        assert!(auth.board_link(&secret[6..]).await.unwrap().is_none());
        auth.revoke_board_link(&link.id).await.unwrap();
        assert!(auth.board_link(&secret).await.unwrap().is_none());
        assert!(auth.board_links().await.unwrap().is_empty());
        assert!(matches!(
            auth.revoke_board_link(&link.id).await,
            Err(AuthError::NotFound(_))
        ));
        assert!(matches!(
            auth.create_board_link("nobody", "x", None).await,
            Err(AuthError::NotFound(_))
        ));
        assert!(matches!(
            auth.create_board_link(ROOT, "", None).await,
            Err(AuthError::InvalidInput(_))
        ));
    }

    #[tokio::test]
    async fn a_board_link_expires() {
        let auth = auth().await;
        let (secret, link) = auth
            .create_board_link(ROOT, "demo", Some(Duration::from_millis(200)))
            .await
            .unwrap();
        assert_eq!(link.expires_at_ms, Some(link.created_at_ms + 200));
        assert!(auth.board_link(&secret).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(auth.board_link(&secret).await.unwrap().is_none());
    }
}
