//! Authentication and its rules, as one facade ([`Auth`]) over the catalogue: users and their
//! passwords, browser sessions, API tokens, read-only board links, the first-run setup token,
//! the login rate limit and the audit log. The HTTP server only adapts requests to it.
//!
//! One module per concept: `password` (Argon2id), `secret` (random values and their digests),
//! `limiter` (failed logins), `users`, `sessions`, `tokens`, `boards`, `setup`, `audit`.

mod audit;
mod boards;
mod limiter;
mod password;
mod secret;
mod sessions;
mod setup;
mod tokens;
mod users;

pub use audit::{AuditQuery, NewAuditEntry, MAX_AUDIT_PAGE};
pub use berth_wire::auth::{AuditEntry, AuditPage, BoardLink, Token, User};
pub use berth_wire::Role;
pub use boards::BOARD_PREFIX;
pub use sessions::{NewSession, Session};
pub use tokens::{TokenPrincipal, TOKEN_PREFIX};

use crate::db::Db;
use std::time::{Duration, Instant};

/// The unix socket's principal. Reserved: no user may be called `root`; tokens and board
/// links it makes are owned by `root`, which is always an admin.
pub const ROOT: &str = "root";

/// The durations and limits of logins and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthPolicy {
    /// A session not used for this long ends (OWASP Session Management: idle timeout).
    pub session_idle: Duration,
    /// A session ends this long after its login, however much it is used (OWASP Session
    /// Management: absolute timeout).
    pub session_absolute: Duration,
    /// Audit entries older than this are deleted.
    pub audit_retention: Duration,
    /// Failed logins for one user name within `failure_window` after which further attempts
    /// are refused without checking the password (0: no limit).
    pub user_failures: u32,
    /// Failed logins from one address (an IPv6 /64) within `failure_window`, likewise. Both
    /// limits follow OWASP Authentication cheat sheet's advice against brute force.
    pub address_failures: u32,
    pub failure_window: Duration,
}

impl Default for AuthPolicy {
    fn default() -> Self {
        AuthPolicy {
            session_idle: Duration::from_secs(12 * 3600),
            session_absolute: Duration::from_secs(7 * 24 * 3600),
            audit_retention: Duration::from_secs(90 * 24 * 3600),
            user_failures: 5,
            address_failures: 20,
            failure_window: Duration::from_secs(15 * 60),
        }
    }
}

/// What can go wrong. None of the messages carries a password, a hash or a secret.
#[derive(thiserror::Error, Debug)]
pub enum AuthError {
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Forbidden(String),
    /// The same answer for an unknown user and a wrong password (OWASP Authentication cheat
    /// sheet: generic error messages), so that it does not tell which names exist.
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {} s", whole_secs(.retry_after))]
    RateLimited { retry_after: Duration },
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

pub type AuthResult<T> = Result<T, AuthError>;

/// Seconds, rounded up (never 0 for a wait that remains).
fn whole_secs(d: &Duration) -> u64 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.max(1)
}

/// The authentication service: the catalogue's pool, the policy, and what is kept in memory
/// (failed logins, the setup token, when the audit log was last pruned).
pub struct Auth {
    db: Db,
    policy: AuthPolicy,
    limiter: limiter::Limiter,
    setup: tokio::sync::Mutex<Option<String>>,
    last_prune: std::sync::Mutex<Option<Instant>>,
}

impl Auth {
    /// The service over the catalogue `db` (whose migrations made the tables).
    pub fn new(db: Db, policy: AuthPolicy) -> Auth {
        password::prepare_dummy();
        Auth {
            limiter: limiter::Limiter::new(
                policy.user_failures,
                policy.address_failures,
                policy.failure_window,
            ),
            db,
            policy,
            setup: tokio::sync::Mutex::new(None),
            last_prune: std::sync::Mutex::new(None),
        }
    }

    pub fn policy(&self) -> &AuthPolicy {
        &self.policy
    }
}

/// Begins a write transaction (`BEGIN IMMEDIATE`, as [`crate::db::begin_write`] explains).
async fn begin_write(db: &Db) -> AuthResult<crate::db::WriteTx> {
    Ok(crate::db::WriteTx::begin(db).await?)
}

/// A role as stored (CHECKed by the schema, so anything else is a corrupt row).
fn parse_role(text: &str) -> AuthResult<Role> {
    text.parse()
        .map_err(|e: String| AuthError::Db(sqlx::Error::Decode(e.into())))
}

/// A duration in milliseconds, saturating.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// When something valid for `expires_in` from `now_ms` ends; an empty duration is refused.
fn expiry(now_ms: i64, expires_in: Option<Duration>) -> AuthResult<Option<i64>> {
    match expires_in {
        None => Ok(None),
        Some(d) if d.is_zero() => Err(AuthError::InvalidInput(
            "an expiry must be in the future".into(),
        )),
        Some(d) => Ok(Some(now_ms.saturating_add(millis(d)))),
    }
}

/// A display name of a token or board link: 1–64 printable characters.
fn validate_label(what: &str, name: &str) -> AuthResult<()> {
    let count = name.chars().count();
    if count == 0 || count > 64 || name.chars().any(char::is_control) {
        return Err(AuthError::InvalidInput(format!(
            "invalid {what} name: 1 to 64 printable characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! A service on a fresh catalogue for the unit tests.
    use super::*;

    pub struct TestAuth {
        pub auth: Auth,
        pub db: Db,
        _dir: tempfile::TempDir,
    }

    impl std::ops::Deref for TestAuth {
        type Target = Auth;
        fn deref(&self) -> &Auth {
            &self.auth
        }
    }

    pub async fn auth_with(policy: AuthPolicy) -> TestAuth {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = crate::db::open(&dir.path().join("berth.db"))
            .await
            .expect("open db");
        TestAuth {
            auth: Auth::new(db.clone(), policy),
            db,
            _dir: dir,
        }
    }

    pub async fn auth() -> TestAuth {
        auth_with(AuthPolicy::default()).await
    }

    pub fn peer() -> std::net::IpAddr {
        "192.0.2.7".parse().unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_limit_message_rounds_up() {
        let e = AuthError::RateLimited {
            retry_after: Duration::from_millis(1500),
        };
        assert_eq!(e.to_string(), "too many failed logins; try again in 2 s");
        assert_eq!(whole_secs(&Duration::ZERO), 1);
        assert_eq!(
            AuthError::BadCredentials.to_string(),
            "wrong user name or password"
        );
    }

    #[test]
    fn labels_are_checked() {
        assert!(validate_label("token", "ci deploy ✓").is_ok());
        assert!(validate_label("token", "").is_err());
        assert!(validate_label("token", "a\nb").is_err());
        assert!(validate_label("token", &"x".repeat(65)).is_err());
    }
}
