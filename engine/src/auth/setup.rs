//! First-run setup: while there is no user, a one-time token kept in memory (never in the
//! catalogue) lets whoever reads it from the daemon's host make the first admin.

use super::secret::{constant_time_eq, new_secret};
use super::{Auth, AuthError, AuthResult, Role, User};

impl Auth {
    /// The setup token while there is no user: the same one on every call until it is used.
    /// `None` once a user exists.
    pub async fn setup_token(&self) -> AuthResult<Option<String>> {
        let mut token = self.setup.lock().await;
        if self.has_users().await? {
            *token = None;
            return Ok(None);
        }
        Ok(Some(token.get_or_insert_with(|| new_secret("")).clone()))
    }

    /// Makes the first admin, given the setup token (compared in constant time), which is
    /// then spent. `Forbidden` for a wrong or spent token, or once a user exists; a name or
    /// password that is refused leaves the token valid.
    pub async fn complete_setup(
        &self,
        token: &str,
        name: &str,
        password: &str,
    ) -> AuthResult<User> {
        let mut current = self.setup.lock().await;
        let valid = current
            .as_deref()
            .is_some_and(|expected| constant_time_eq(expected, token));
        if !valid {
            return Err(AuthError::Forbidden(
                "wrong or spent setup token".to_string(),
            ));
        }
        match self.insert_user(name, password, Role::Admin, true).await {
            Ok(user) => {
                *current = None;
                Ok(user)
            }
            Err(AuthError::Forbidden(e)) => {
                *current = None;
                Err(AuthError::Forbidden(e))
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{auth, peer};
    use super::*;

    #[tokio::test]
    async fn the_setup_token_makes_one_admin_once() {
        let auth = auth().await;
        let token = auth.setup_token().await.unwrap().unwrap();
        assert!(token.len() >= 43);
        assert_eq!(auth.setup_token().await.unwrap().as_deref(), Some(&*token));
        assert!(matches!(
            auth.complete_setup("wrong", "alice", "password1").await,
            Err(AuthError::Forbidden(_))
        ));
        assert!(matches!(
            auth.complete_setup(&token, "Alice", "password1").await,
            Err(AuthError::InvalidInput(_))
        ));
        let user = auth
            .complete_setup(&token, "alice", "password1")
            .await
            .unwrap();
        assert_eq!(user.role, Role::Admin);
        assert!(matches!(
            auth.complete_setup(&token, "bob", "password1").await,
            Err(AuthError::Forbidden(_))
        ));
        assert_eq!(auth.setup_token().await.unwrap(), None);
        auth.login("alice", "password1", peer()).await.unwrap();
    }

    #[tokio::test]
    async fn there_is_no_setup_token_once_a_user_exists() {
        let auth = auth().await;
        let token = auth.setup_token().await.unwrap().unwrap();
        auth.add_user("alice", "password1", Role::Viewer)
            .await
            .unwrap();
        assert_eq!(auth.setup_token().await.unwrap(), None);
        assert!(matches!(
            auth.complete_setup(&token, "bob", "password1").await,
            Err(AuthError::Forbidden(_))
        ));
        assert_eq!(auth.users().await.unwrap().len(), 1);
    }
}
