//! API tokens (`Authorization: Bearer berth_…`): made by a user (or root) for scripts, with a
//! role no higher than their owner's, an optional expiry, revocable at once.

use super::secret::{digest, new_id, new_secret};
use super::{expiry, parse_role, validate_label, Auth, AuthError, AuthResult, Role, Token, ROOT};
use crate::db::now_ms;
use std::time::Duration;

/// What a token's value starts with (so leaked ones are easy to recognise and scan for).
pub const TOKEN_PREFIX: &str = "berth_";

/// How often a token's `last_used_ms` is written at most.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Who a valid token acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPrincipal {
    pub id: String,
    pub owner: String,
    /// The lower of the token's role and its owner's current role (root's is admin).
    pub role: Role,
    pub expires_at_ms: Option<i64>,
}

const COLUMNS: &str = "id, name, owner, role, created_at_ms, expires_at_ms, last_used_ms";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    name: String,
    owner: String,
    role: String,
    created_at_ms: i64,
    expires_at_ms: Option<i64>,
    last_used_ms: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> AuthResult<Token> {
        Ok(Token {
            role: parse_role(&self.role)?,
            id: self.id,
            name: self.name,
            owner: self.owner,
            created_at_ms: self.created_at_ms,
            expires_at_ms: self.expires_at_ms,
            last_used_ms: self.last_used_ms,
        })
    }
}

/// A token looked up by its secret, with its owner's current role (none: no such user).
#[derive(sqlx::FromRow)]
struct PrincipalRow {
    id: String,
    owner: String,
    role: String,
    expires_at_ms: Option<i64>,
    last_used_ms: Option<i64>,
    owner_role: Option<String>,
}

impl Auth {
    /// Makes a token for `owner` (a user, or [`ROOT`]) whose role is `owner_role`: the token's
    /// role defaults to it and may not exceed it (`Forbidden`). Returns the value, which is
    /// not kept (only its SHA-256), with the token's listing.
    pub async fn create_token(
        &self,
        owner: &str,
        owner_role: Role,
        name: &str,
        role: Option<Role>,
        expires_in: Option<Duration>,
    ) -> AuthResult<(String, Token)> {
        validate_label("token", name)?;
        let role = role.unwrap_or(owner_role);
        if role > owner_role {
            return Err(AuthError::Forbidden(format!(
                "a token's role may not exceed its owner's ({owner_role})"
            )));
        }
        self.require_principal(owner).await?;
        let now = now_ms();
        let expires_at_ms = expiry(now, expires_in)?;
        let secret = new_secret(TOKEN_PREFIX);
        let id = new_id();
        sqlx::query(
            "INSERT INTO api_tokens (id, secret_hash, name, owner, role, created_at_ms, \
             expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&id)
        .bind(digest(&secret))
        .bind(name)
        .bind(owner)
        .bind(role.as_str())
        .bind(now)
        .bind(expires_at_ms)
        .execute(&self.db)
        .await?;
        let token = Token {
            id,
            name: name.to_string(),
            owner: owner.to_string(),
            role,
            created_at_ms: now,
            expires_at_ms,
            last_used_ms: None,
        };
        Ok((secret, token))
    }

    /// The tokens not revoked (expired ones included), of one owner or of all.
    pub async fn tokens(&self, owner: Option<&str>) -> AuthResult<Vec<Token>> {
        sqlx::query_as::<_, TokenRow>(&format!(
            "SELECT {COLUMNS} FROM api_tokens WHERE revoked_at_ms IS NULL \
             AND (?1 IS NULL OR owner = ?1) ORDER BY created_at_ms, id"
        ))
        .bind(owner)
        .fetch_all(&self.db)
        .await?
        .into_iter()
        .map(TokenRow::into_token)
        .collect()
    }

    /// Revokes a token at once and returns it; `NotFound` if unknown or already revoked.
    /// Whether the caller may revoke it is the caller's business (it knows who asks).
    pub async fn revoke_token(&self, id: &str) -> AuthResult<Token> {
        sqlx::query_as::<_, TokenRow>(&format!(
            "UPDATE api_tokens SET revoked_at_ms = ? WHERE id = ? AND revoked_at_ms IS NULL \
             RETURNING {COLUMNS}"
        ))
        .bind(now_ms())
        .bind(id)
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| AuthError::NotFound(format!("no such token: {id}")))?
        .into_token()
    }

    /// Who a bearer token acts as; `None` when unknown, revoked, expired, or its owner (not
    /// root) no longer exists. Use is recorded in `last_used_ms`, at most once a minute.
    pub async fn token(&self, secret: &str) -> AuthResult<Option<TokenPrincipal>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let row: Option<PrincipalRow> = sqlx::query_as(
            "SELECT t.id, t.owner, t.role, t.expires_at_ms, t.last_used_ms, u.role AS owner_role \
             FROM api_tokens t LEFT JOIN users u ON u.name = t.owner \
             WHERE t.secret_hash = ? AND t.revoked_at_ms IS NULL",
        )
        .bind(digest(secret))
        .fetch_optional(&self.db)
        .await?;
        let Some(PrincipalRow {
            id,
            owner,
            role,
            expires_at_ms,
            last_used_ms,
            owner_role,
        }) = row
        else {
            return Ok(None);
        };
        let owner_role = match owner_role {
            Some(role) => parse_role(&role)?,
            None if owner == ROOT => Role::Admin,
            None => return Ok(None),
        };
        let now = now_ms();
        if expires_at_ms.is_some_and(|at| now >= at) {
            return Ok(None);
        }
        if last_used_ms.is_none_or(|at| now - at >= TOUCH_EVERY_MS) {
            sqlx::query("UPDATE api_tokens SET last_used_ms = ? WHERE id = ?")
                .bind(now)
                .bind(&id)
                .execute(&self.db)
                .await?;
        }
        Ok(Some(TokenPrincipal {
            role: parse_role(&role)?.min(owner_role),
            id,
            owner,
            expires_at_ms,
        }))
    }

    /// `NotFound` unless `name` is root or a user.
    pub(super) async fn require_principal(&self, name: &str) -> AuthResult<()> {
        if name != ROOT {
            self.user(name).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::auth;
    use super::*;

    #[tokio::test]
    async fn a_token_acts_as_its_owner_within_its_role() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        auth.add_user("bob", "password2", Role::Operator)
            .await
            .unwrap();
        assert!(matches!(
            auth.create_token("bob", Role::Operator, "ci", Some(Role::Admin), None)
                .await,
            Err(AuthError::Forbidden(_))
        ));
        assert!(matches!(
            auth.create_token("bob", Role::Operator, "", None, None)
                .await,
            Err(AuthError::InvalidInput(_))
        ));
        assert!(matches!(
            auth.create_token("carol", Role::Operator, "ci", None, None)
                .await,
            Err(AuthError::NotFound(_))
        ));
        let (secret, token) = auth
            .create_token("bob", Role::Operator, "ci", None, None)
            .await
            .unwrap();
        assert!(secret.starts_with("berth_") && secret.len() == 6 + 43);
        assert_eq!(token.id.len(), 12);
        assert_eq!(token.role, Role::Operator);
        let principal = auth.token(&secret).await.unwrap().unwrap();
        assert_eq!(
            principal,
            TokenPrincipal {
                id: token.id.clone(),
                owner: "bob".into(),
                role: Role::Operator,
                expires_at_ms: None,
            }
        );
        let listed = auth.tokens(Some("bob")).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used_ms.is_some(), "use is recorded");
        assert!(auth.tokens(Some("alice")).await.unwrap().is_empty());
        assert!(auth.token("berth_nonsense").await.unwrap().is_none());
        assert!(auth.token(&secret[6..]).await.unwrap().is_none());
        // The stored row has the digest only.
        let hash: String = sqlx::query_scalar("SELECT secret_hash FROM api_tokens")
            .fetch_one(&auth.db)
            .await
            .unwrap();
        assert_eq!(hash, digest(&secret));

        // Demoting the owner lowers the token at once.
        let (viewer_secret, _) = auth
            .create_token("bob", Role::Operator, "read", Some(Role::Viewer), None)
            .await
            .unwrap();
        auth.set_role("bob", Role::Viewer).await.unwrap();
        assert_eq!(
            auth.token(&secret).await.unwrap().unwrap().role,
            Role::Viewer
        );
        assert_eq!(
            auth.token(&viewer_secret).await.unwrap().unwrap().role,
            Role::Viewer
        );
        // Promoting does not raise it beyond the token's own role.
        auth.set_role("bob", Role::Admin).await.unwrap();
        assert_eq!(
            auth.token(&secret).await.unwrap().unwrap().role,
            Role::Operator
        );
    }

    #[tokio::test]
    async fn revoking_takes_effect_at_once() {
        let auth = auth().await;
        let (secret, token) = auth
            .create_token(ROOT, Role::Admin, "backup", None, None)
            .await
            .unwrap();
        assert_eq!(
            auth.token(&secret).await.unwrap().unwrap().role,
            Role::Admin
        );
        let revoked = auth.revoke_token(&token.id).await.unwrap();
        assert_eq!(revoked.id, token.id);
        assert!(auth.token(&secret).await.unwrap().is_none());
        assert!(auth.tokens(None).await.unwrap().is_empty());
        assert!(matches!(
            auth.revoke_token(&token.id).await,
            Err(AuthError::NotFound(_))
        ));
        assert!(matches!(
            auth.revoke_token("000000000000").await,
            Err(AuthError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_token_expires() {
        let auth = auth().await;
        let (secret, token) = auth
            .create_token(
                ROOT,
                Role::Admin,
                "short",
                Some(Role::Viewer),
                Some(Duration::from_millis(200)),
            )
            .await
            .unwrap();
        let expires = token.expires_at_ms.unwrap();
        assert_eq!(expires, token.created_at_ms + 200);
        let principal = auth.token(&secret).await.unwrap().unwrap();
        assert_eq!(principal.expires_at_ms, Some(expires));
        assert_eq!(principal.role, Role::Viewer);
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(auth.token(&secret).await.unwrap().is_none());
        assert!(matches!(
            auth.create_token(ROOT, Role::Admin, "x", None, Some(Duration::ZERO))
                .await,
            Err(AuthError::InvalidInput(_))
        ));
    }
}
