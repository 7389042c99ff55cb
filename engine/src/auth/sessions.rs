//! Logins and browser sessions: the rate-limited password check, a new session per login, and
//! the session's idle and absolute timeouts (OWASP Session Management cheat sheet).

use super::secret::{digest, new_secret};
use super::{millis, parse_role, password, Auth, AuthError, AuthResult, Role};
use crate::db::now_ms;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

/// The most often a session's last use is written: reads stay reads between writes.
const SLIDE_EVERY: Duration = Duration::from_secs(60);

/// A valid session, as a request authenticated by its cookie sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub role: Role,
    /// The value the browser must send back in `X-CSRF-Token` with every state change.
    pub csrf_token: String,
    pub created_at_ms: i64,
    /// When it ends unless used again: the earlier of the idle deadline and the absolute one.
    pub expires_at_ms: i64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("role", &self.role)
            .field("csrf_token", &"<redacted>")
            .field("created_at_ms", &self.created_at_ms)
            .field("expires_at_ms", &self.expires_at_ms)
            .finish()
    }
}

/// A login's result: the cookie's value (given out this once; only its digest is kept).
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    pub secret: String,
    pub session: Session,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSession")
            .field("secret", &"<redacted>")
            .field("session", &self.session)
            .finish()
    }
}

impl Auth {
    /// Checks a user's password and opens a new session. The rate limit is checked first
    /// (`RateLimited` without looking at the password); an unknown user costs an Argon2
    /// verification like a known one, and both answer `BadCredentials`.
    pub async fn login(&self, name: &str, password: &str, peer: IpAddr) -> AuthResult<NewSession> {
        let attempt = self
            .limiter
            .begin(name, peer)
            .map_err(|retry_after| AuthError::RateLimited { retry_after })?;
        if password.len() > password::MAX_PASSWORD_BYTES {
            return Err(AuthError::BadCredentials);
        }
        let role = match self.credentials(name).await? {
            Some((phc, role)) if password::verify(password, &phc).await? => role,
            Some(_) => return Err(AuthError::BadCredentials),
            None => {
                password::verify_dummy(password).await?;
                return Err(AuthError::BadCredentials);
            }
        };
        self.limiter.succeeded(attempt);
        self.open_session(name, role).await
    }

    /// A fresh session id for every login, never one the client chose (OWASP Session
    /// Management: renew the session id after authentication, against session fixation).
    async fn open_session(&self, name: &str, role: Role) -> AuthResult<NewSession> {
        let secret = new_secret("");
        let csrf_token = new_secret("");
        let now = now_ms();
        let absolute = now.saturating_add(millis(self.policy.session_absolute));
        let idle = self.policy.session_idle;
        // Expired sessions of anyone are swept on each login, so rows do not pile up.
        sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= ? OR last_seen_ms <= ?")
            .bind(now)
            .bind(now.saturating_sub(millis(idle)))
            .execute(&self.db)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_name, csrf_token, created_at_ms, last_seen_ms, \
             expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(digest(&secret))
        .bind(name)
        .bind(&csrf_token)
        .bind(now)
        .bind(now)
        .bind(absolute)
        .execute(&self.db)
        .await?;
        Ok(NewSession {
            secret,
            session: Session {
                user: name.to_string(),
                role,
                csrf_token,
                created_at_ms: now,
                expires_at_ms: absolute.min(now.saturating_add(millis(idle))),
            },
        })
    }

    /// The session of a cookie value; `None` when unknown or expired (idle or absolute; an
    /// expired row is deleted). Use slides the idle deadline, written at most once a minute
    /// (or a quarter of the idle timeout, if that is shorter).
    pub async fn session(&self, secret: &str) -> AuthResult<Option<Session>> {
        let id_hash = digest(secret);
        let row: Option<(String, String, String, i64, i64, i64)> = sqlx::query_as(
            "SELECT s.user_name, u.role, s.csrf_token, s.created_at_ms, s.last_seen_ms, \
             s.expires_at_ms FROM sessions s JOIN users u ON u.name = s.user_name \
             WHERE s.id_hash = ?",
        )
        .bind(&id_hash)
        .fetch_optional(&self.db)
        .await?;
        let Some((user, role, csrf_token, created_at_ms, last_seen_ms, absolute)) = row else {
            return Ok(None);
        };
        let now = now_ms();
        let idle = millis(self.policy.session_idle);
        if now >= absolute || now >= last_seen_ms.saturating_add(idle) {
            self.delete_session(&id_hash).await?;
            return Ok(None);
        }
        let mut last_seen = last_seen_ms;
        let slide = millis(SLIDE_EVERY.min(self.policy.session_idle / 4));
        if now - last_seen_ms >= slide {
            sqlx::query("UPDATE sessions SET last_seen_ms = ? WHERE id_hash = ?")
                .bind(now)
                .bind(&id_hash)
                .execute(&self.db)
                .await?;
            last_seen = now;
        }
        Ok(Some(Session {
            user,
            role: parse_role(&role)?,
            csrf_token,
            created_at_ms,
            expires_at_ms: absolute.min(last_seen.saturating_add(idle)),
        }))
    }

    /// Logs out: the session is deleted (nothing happens for an unknown one).
    pub async fn end_session(&self, secret: &str) -> AuthResult<()> {
        self.delete_session(&digest(secret)).await
    }

    async fn delete_session(&self, id_hash: &str) -> AuthResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.db)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{auth, auth_with, peer};
    use super::super::AuthPolicy;
    use super::*;

    #[tokio::test]
    async fn a_login_opens_a_session_and_a_logout_ends_it() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Operator)
            .await
            .unwrap();
        let new = auth.login("alice", "password1", peer()).await.unwrap();
        assert!(new.secret.len() >= 43);
        assert!(new.session.csrf_token.len() >= 43);
        assert_ne!(new.secret, new.session.csrf_token);
        assert!(!format!("{new:?}").contains(&new.secret));
        assert!(!format!("{new:?}").contains(&new.session.csrf_token));
        let session = auth.session(&new.secret).await.unwrap().unwrap();
        assert_eq!(session, new.session);
        assert_eq!(session.user, "alice");
        assert_eq!(session.role, Role::Operator);
        let policy = AuthPolicy::default();
        assert_eq!(
            session.expires_at_ms,
            session.created_at_ms + millis(policy.session_idle)
        );
        // Only the digest is stored.
        let stored: String = sqlx::query_scalar("SELECT id_hash FROM sessions")
            .fetch_one(&auth.db)
            .await
            .unwrap();
        assert_eq!(stored, digest(&new.secret));
        assert!(auth.session("nonsense").await.unwrap().is_none());
        let other = auth.login("alice", "password1", peer()).await.unwrap();
        assert_ne!(other.secret, new.secret);
        auth.end_session(&new.secret).await.unwrap();
        assert!(auth.session(&new.secret).await.unwrap().is_none());
        assert!(auth.session(&other.secret).await.unwrap().is_some());
        auth.end_session(&new.secret).await.unwrap();
    }

    #[tokio::test]
    async fn wrong_passwords_and_unknown_users_get_the_same_answer() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        for (name, password) in [("alice", "password2"), ("nobody", "password1")] {
            let e = auth.login(name, password, peer()).await.unwrap_err();
            assert!(matches!(e, AuthError::BadCredentials), "{e}");
            assert_eq!(e.to_string(), "wrong user name or password");
        }
        assert!(matches!(
            auth.login("alice", &"x".repeat(2000), peer()).await,
            Err(AuthError::BadCredentials)
        ));
    }

    #[tokio::test]
    async fn failures_are_limited_per_name_and_per_address() {
        let auth = auth_with(AuthPolicy {
            user_failures: 5,
            address_failures: 8,
            ..AuthPolicy::default()
        })
        .await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        auth.add_user("bob", "password2", Role::Viewer)
            .await
            .unwrap();
        for _ in 0..5 {
            assert!(matches!(
                auth.login("alice", "wrong-password", peer()).await,
                Err(AuthError::BadCredentials)
            ));
        }
        // The 6th attempt is refused before the password is looked at, even a right one.
        match auth.login("alice", "password1", peer()).await {
            Err(AuthError::RateLimited { retry_after }) => {
                assert!(
                    retry_after > Duration::from_secs(14 * 60),
                    "{retry_after:?}"
                )
            }
            other => panic!("{other:?}"),
        }
        // Another name from the same address works until the address has its 8 failures.
        auth.login("bob", "password2", peer()).await.unwrap();
        for _ in 0..3 {
            assert!(matches!(
                auth.login("bob", "wrong-password", peer()).await,
                Err(AuthError::BadCredentials)
            ));
        }
        assert!(matches!(
            auth.login("bob", "password2", peer()).await,
            Err(AuthError::RateLimited { .. })
        ));
        // Another address may still log in as bob (his failures are below the name limit).
        auth.login("bob", "password2", "192.0.2.8".parse().unwrap())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_burst_of_parallel_guesses_gets_no_more_tries_than_the_limit() {
        let auth = std::sync::Arc::new(auth().await);
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        let guesses: Vec<_> = (0..10)
            .map(|i| {
                let auth = auth.clone();
                tokio::spawn(
                    async move { auth.login("alice", &format!("guess-{i:04}"), peer()).await },
                )
            })
            .collect();
        let mut checked = 0;
        for guess in guesses {
            match guess.await.unwrap() {
                Err(AuthError::BadCredentials) => checked += 1,
                Err(AuthError::RateLimited { .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(checked, 5);
    }

    #[tokio::test]
    async fn a_success_resets_the_names_failures() {
        let auth = auth().await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        for round in 0..2 {
            for _ in 0..4 {
                assert!(matches!(
                    auth.login("alice", "wrong-password", peer()).await,
                    Err(AuthError::BadCredentials)
                ));
            }
            auth.login("alice", "password1", peer())
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }

    #[tokio::test]
    async fn an_unused_session_ends_after_the_idle_timeout() {
        let auth = auth_with(AuthPolicy {
            session_idle: Duration::from_millis(300),
            session_absolute: Duration::from_secs(60),
            ..AuthPolicy::default()
        })
        .await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        let new = auth.login("alice", "password1", peer()).await.unwrap();
        // Used every 150 ms, it outlives the idle timeout …
        for _ in 0..3 {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let session = auth.session(&new.secret).await.unwrap();
            assert!(session.is_some(), "a used session ended");
        }
        // … and unused for longer, it ends, and its row is gone.
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert!(auth.session(&new.secret).await.unwrap().is_none());
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&auth.db)
            .await
            .unwrap();
        assert_eq!(rows, 0);
    }

    #[tokio::test]
    async fn a_session_ends_at_its_absolute_timeout_however_used() {
        let auth = auth_with(AuthPolicy {
            session_idle: Duration::from_secs(60),
            session_absolute: Duration::from_millis(300),
            ..AuthPolicy::default()
        })
        .await;
        auth.add_user("alice", "password1", Role::Admin)
            .await
            .unwrap();
        let new = auth.login("alice", "password1", peer()).await.unwrap();
        assert_eq!(
            new.session.expires_at_ms,
            new.session.created_at_ms + 300,
            "the absolute deadline comes first"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(auth.session(&new.secret).await.unwrap().is_some());
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(auth.session(&new.secret).await.unwrap().is_none());
    }
}
