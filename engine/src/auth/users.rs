//! Users: who may log in, with which role and password; the naming rule, and the rule that
//! the last admin can be neither removed nor demoted.

use super::{begin_write, parse_role, password, Auth, AuthError, AuthResult, Role, User, ROOT};
use crate::db::now_ms;

const COLUMNS: &str = "name, role, created_at_ms, password_changed_at_ms";

#[derive(sqlx::FromRow)]
struct UserRow {
    name: String,
    role: String,
    created_at_ms: i64,
    password_changed_at_ms: i64,
}

impl UserRow {
    fn into_user(self) -> AuthResult<User> {
        Ok(User {
            role: parse_role(&self.role)?,
            name: self.name,
            created_at_ms: self.created_at_ms,
            password_changed_at_ms: self.password_changed_at_ms,
        })
    }
}

/// 1–64 characters of `[a-z0-9][a-z0-9._-]*`, and not `root` (the unix socket's principal).
pub(crate) fn validate_user_name(name: &str) -> AuthResult<()> {
    let mut chars = name.chars();
    let valid = (1..=64).contains(&name.len())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if !valid {
        return Err(AuthError::InvalidInput(format!(
            "invalid user name {name:?}: 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a \
             letter or digit"
        )));
    }
    if name == ROOT {
        return Err(AuthError::InvalidInput(
            "the name root is reserved for the unix socket".into(),
        ));
    }
    Ok(())
}

fn no_such_user(name: &str) -> AuthError {
    AuthError::NotFound(format!("no such user: {name}"))
}

impl Auth {
    pub async fn has_users(&self) -> AuthResult<bool> {
        Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users)")
            .fetch_one(&self.db)
            .await?)
    }

    /// Adds a user; `Conflict` if the name is taken.
    pub async fn add_user(&self, name: &str, password: &str, role: Role) -> AuthResult<User> {
        self.insert_user(name, password, role, false).await
    }

    /// Validates, hashes and inserts; with `only_first`, only when there is no user yet
    /// (`Forbidden` otherwise: the first-run setup).
    pub(super) async fn insert_user(
        &self,
        name: &str,
        password: &str,
        role: Role,
        only_first: bool,
    ) -> AuthResult<User> {
        validate_user_name(name)?;
        password::validate_password(password)?;
        let phc = password::hash(password).await?;
        let now = now_ms();
        let mut tx = begin_write(&self.db).await?;
        let (exists, any): (bool, bool) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM users WHERE name = ?), EXISTS (SELECT 1 FROM users)",
        )
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        if only_first && any {
            return Err(AuthError::Forbidden("setup is already done".into()));
        }
        if exists {
            return Err(AuthError::Conflict(format!("user {name} already exists")));
        }
        sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_at_ms, password_changed_at_ms) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(&phc)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(User {
            name: name.to_string(),
            role,
            created_at_ms: now,
            password_changed_at_ms: now,
        })
    }

    /// All users, by name.
    pub async fn users(&self) -> AuthResult<Vec<User>> {
        sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users ORDER BY name"))
            .fetch_all(&self.db)
            .await?
            .into_iter()
            .map(UserRow::into_user)
            .collect()
    }

    pub async fn user(&self, name: &str) -> AuthResult<User> {
        sqlx::query_as::<_, UserRow>(&format!("SELECT {COLUMNS} FROM users WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| no_such_user(name))?
            .into_user()
    }

    /// Removes a user: their sessions end (by cascade), their tokens are revoked and their
    /// board links too. `Conflict` when they are the last admin.
    pub async fn remove_user(&self, name: &str) -> AuthResult<()> {
        let mut tx = begin_write(&self.db).await?;
        let role = current_role(&mut tx, name).await?;
        if role == Role::Admin && admin_count(&mut tx).await? <= 1 {
            return Err(AuthError::Conflict(format!(
                "{name} is the last admin; make another user admin first"
            )));
        }
        let now = now_ms();
        sqlx::query(
            "UPDATE api_tokens SET revoked_at_ms = ? WHERE owner = ? AND revoked_at_ms IS NULL",
        )
        .bind(now)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE board_links SET revoked_at_ms = ? \
             WHERE created_by = ? AND revoked_at_ms IS NULL",
        )
        .bind(now)
        .bind(name)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM users WHERE name = ?")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password and ends all the user's sessions (OWASP Session Management: renew
    /// or invalidate sessions when the password changes).
    pub async fn set_password(&self, name: &str, password: &str) -> AuthResult<()> {
        password::validate_password(password)?;
        let phc = password::hash(password).await?;
        let mut tx = begin_write(&self.db).await?;
        let updated = sqlx::query(
            "UPDATE users SET password_hash = ?, password_changed_at_ms = ? WHERE name = ?",
        )
        .bind(&phc)
        .bind(now_ms())
        .bind(name)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(no_such_user(name));
        }
        end_sessions_of(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes a user's role and ends their sessions (a privilege change; OWASP Session
    /// Management). Their tokens follow at once: a token never exceeds its owner's role.
    /// `Conflict` when that would leave no admin.
    pub async fn set_role(&self, name: &str, role: Role) -> AuthResult<()> {
        let mut tx = begin_write(&self.db).await?;
        let current = current_role(&mut tx, name).await?;
        if current == role {
            return Ok(());
        }
        if current == Role::Admin && admin_count(&mut tx).await? <= 1 {
            return Err(AuthError::Conflict(format!(
                "{name} is the last admin; make another user admin first"
            )));
        }
        sqlx::query("UPDATE users SET role = ? WHERE name = ?")
            .bind(role.as_str())
            .bind(name)
            .execute(&mut *tx)
            .await?;
        end_sessions_of(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The stored hash and role of `name`, for a login.
    pub(super) async fn credentials(&self, name: &str) -> AuthResult<Option<(String, Role)>> {
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT password_hash, role FROM users WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.db)
                .await?;
        row.map(|(phc, role)| Ok((phc, parse_role(&role)?)))
            .transpose()
    }
}

async fn current_role(tx: &mut sqlx::SqliteConnection, name: &str) -> AuthResult<Role> {
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE name = ?")
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
    parse_role(&role.ok_or_else(|| no_such_user(name))?)
}

async fn admin_count(tx: &mut sqlx::SqliteConnection) -> AuthResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin'")
            .fetch_one(&mut *tx)
            .await?,
    )
}

async fn end_sessions_of(tx: &mut sqlx::SqliteConnection, name: &str) -> AuthResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_name = ?")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::{auth, peer};
    use super::*;

    #[test]
    fn user_names_are_checked() {
        for good in [
            "alice",
            "a",
            "0ps",
            "bob.smith",
            "ci-bot_2",
            &"a".repeat(64),
        ] {
            assert!(validate_user_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "root",
            "Alice",
            ".alice",
            "-a",
            "_a",
            "a b",
            "a/b",
            "é",
            &"a".repeat(65),
        ] {
            assert!(
                matches!(validate_user_name(bad), Err(AuthError::InvalidInput(_))),
                "{bad}"
            );
        }
    }

    #[tokio::test]
    async fn users_are_added_listed_and_refused_twice() {
        let auth = auth().await;
        assert!(!auth.has_users().await.unwrap());
        let alice = auth
            .add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        assert_eq!(alice.role, Role::Admin);
        assert!(auth.has_users().await.unwrap());
        assert!(matches!(
            auth.add_user("alice", "password2", Role::Viewer).await,
            Err(AuthError::Conflict(_))
        ));
        assert!(matches!(
            auth.add_user("bob", "short", Role::Viewer).await,
            Err(AuthError::InvalidInput(_))
        ));
        assert!(matches!(
            auth.add_user("root", "password1", Role::Viewer).await,
            Err(AuthError::InvalidInput(_))
        ));
        auth.add_user("bob", "password2", Role::Viewer)
            .await
            .unwrap();
        let names: Vec<_> = auth
            .users()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.name)
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(auth.user("bob").await.unwrap().role, Role::Viewer);
        assert!(matches!(
            auth.user("carol").await,
            Err(AuthError::NotFound(_))
        ));
        // The hash is stored, never the password.
        let phc: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE name = 'bob'")
            .fetch_one(&auth.db)
            .await
            .unwrap();
        assert!(phc.starts_with("$argon2id$") && !phc.contains("password2"));
    }

    #[tokio::test]
    async fn the_last_admin_can_be_neither_removed_nor_demoted() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        auth.add_user("bob", "password2", Role::Operator)
            .await
            .unwrap();
        assert!(matches!(
            auth.remove_user("alice").await,
            Err(AuthError::Conflict(_))
        ));
        assert!(matches!(
            auth.set_role("alice", Role::Viewer).await,
            Err(AuthError::Conflict(_))
        ));
        auth.set_role("bob", Role::Admin).await.unwrap();
        auth.set_role("alice", Role::Viewer).await.unwrap();
        assert!(matches!(
            auth.remove_user("bob").await,
            Err(AuthError::Conflict(_))
        ));
        auth.remove_user("alice").await.unwrap();
        assert!(matches!(
            auth.remove_user("alice").await,
            Err(AuthError::NotFound(_))
        ));
        assert!(matches!(
            auth.set_role("alice", Role::Admin).await,
            Err(AuthError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn a_new_password_ends_the_users_sessions_only() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        auth.add_user("bob", "password2", Role::Viewer)
            .await
            .unwrap();
        let a1 = auth.login("alice", "password1", peer()).await.unwrap();
        let a2 = auth.login("alice", "password1", peer()).await.unwrap();
        let b = auth.login("bob", "password2", peer()).await.unwrap();
        auth.set_password("alice", "password3").await.unwrap();
        assert!(auth.session(&a1.secret).await.unwrap().is_none());
        assert!(auth.session(&a2.secret).await.unwrap().is_none());
        assert!(auth.session(&b.secret).await.unwrap().is_some());
        assert!(matches!(
            auth.login("alice", "password1", peer()).await,
            Err(AuthError::BadCredentials)
        ));
        auth.login("alice", "password3", peer()).await.unwrap();
        assert!(matches!(
            auth.set_password("carol", "password3").await,
            Err(AuthError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn removing_a_user_ends_sessions_and_invalidates_tokens_and_links() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        auth.add_user("bob", "password2", Role::Operator)
            .await
            .unwrap();
        let session = auth.login("bob", "password2", peer()).await.unwrap();
        let (token, _) = auth
            .create_token("bob", Role::Operator, "ci", None, None)
            .await
            .unwrap();
        let (link, _) = auth.create_board_link("bob", "wall", None).await.unwrap();
        assert!(auth.token(&token).await.unwrap().is_some());
        assert!(auth.board_link(&link).await.unwrap().is_some());
        auth.remove_user("bob").await.unwrap();
        assert!(auth.session(&session.secret).await.unwrap().is_none());
        assert!(auth.token(&token).await.unwrap().is_none());
        assert!(auth.board_link(&link).await.unwrap().is_none());
        // A new user of the same name does not inherit them.
        auth.add_user("bob", "password2", Role::Operator)
            .await
            .unwrap();
        assert!(auth.token(&token).await.unwrap().is_none());
        assert!(auth.board_link(&link).await.unwrap().is_none());
        assert!(auth.tokens(Some("bob")).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_role_change_ends_sessions() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        auth.add_user("bob", "password2", Role::Operator)
            .await
            .unwrap();
        let session = auth.login("bob", "password2", peer()).await.unwrap();
        auth.set_role("bob", Role::Viewer).await.unwrap();
        assert!(auth.session(&session.secret).await.unwrap().is_none());
        let session = auth.login("bob", "password2", peer()).await.unwrap();
        assert_eq!(session.session.role, Role::Viewer);
    }
}
