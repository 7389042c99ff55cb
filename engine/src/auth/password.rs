//! Passwords: the rules a new one must meet, and Argon2id hashing and verification, run on
//! tokio's blocking threads (each takes tens of milliseconds of CPU and 19 MiB on purpose).

use super::{AuthError, AuthResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::Rng;
use std::sync::OnceLock;

/// OWASP Password Storage / Authentication cheat sheets: at least 8 characters, and a maximum
/// so that very long passwords cannot be used to make the server hash megabytes.
pub(crate) const MIN_PASSWORD_BYTES: usize = 8;
pub(crate) const MAX_PASSWORD_BYTES: usize = 1024;

pub(crate) fn validate_password(password: &str) -> AuthResult<()> {
    if password.len() < MIN_PASSWORD_BYTES || password.len() > MAX_PASSWORD_BYTES {
        return Err(AuthError::InvalidInput(format!(
            "a password must be {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes long"
        )));
    }
    Ok(())
}

/// The hasher: Argon2id, v19, with the crate's default parameters m=19 MiB, t=2, p=1, which
/// are OWASP Password Storage's first recommendation for Argon2id.
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) of `password`, with a fresh
/// 16-byte random salt.
pub(crate) async fn hash(password: &str) -> AuthResult<String> {
    let password = password.to_owned();
    blocking(move || hash_now(&password)).await?
}

/// Whether `password` matches `phc` (whose own parameters are used, so hashes made with older
/// parameters keep verifying).
pub(crate) async fn verify(password: &str, phc: &str) -> AuthResult<bool> {
    let (password, phc) = (password.to_owned(), phc.to_owned());
    blocking(move || verify_now(&password, &phc)).await?
}

/// Spends one verification against a hash no password matches, so that a login for an
/// unknown user takes as long as one with a wrong password and does not reveal which names
/// exist (OWASP Authentication cheat sheet: respond uniformly).
pub(crate) async fn verify_dummy(password: &str) -> AuthResult<()> {
    let password = password.to_owned();
    blocking(move || {
        let phc = dummy_hash()
            .ok_or_else(|| AuthError::Hash("could not make the dummy hash".to_string()))?;
        verify_now(&password, phc).map(|_| ())
    })
    .await?
}

/// Makes the dummy hash ahead of the first login for an unknown user (whose answer would
/// otherwise take a hash longer), on a blocking thread if there is a runtime.
pub(crate) fn prepare_dummy() {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn_blocking(dummy_hash);
    }
}

/// The hash of a random, forgotten value, made once (callers wait for the one maker).
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| hash_now(&super::secret::new_secret("")).ok())
        .as_deref()
}

fn hash_now(password: &str) -> AuthResult<String> {
    let salt_bytes: [u8; 16] = rand::rng().random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| AuthError::Hash(e.to_string()))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

fn verify_now(password: &str, phc: &str) -> AuthResult<bool> {
    let parsed = PasswordHash::new(phc).map_err(|e| AuthError::Hash(e.to_string()))?;
    match argon2().verify_password(password.as_bytes(), &parsed) {
        Ok(()) => Ok(true),
        Err(argon2::password_hash::Error::Password) => Ok(false),
        Err(e) => Err(AuthError::Hash(e.to_string())),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> AuthResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AuthError::Hash(format!("hashing task failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let phc = hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(!phc.contains("correct horse"));
        assert!(verify("correct horse", &phc).await.unwrap());
        assert!(!verify("correct horsf", &phc).await.unwrap());
        assert_ne!(phc, hash("correct horse").await.unwrap(), "salted");
        verify_dummy("anything").await.unwrap();
        assert!(matches!(
            verify("x", "not a hash").await,
            Err(AuthError::Hash(_))
        ));
    }

    #[test]
    fn password_length_is_checked() {
        assert!(validate_password("1234567").is_err());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"x".repeat(1024)).is_ok());
        assert!(validate_password(&"x".repeat(1025)).is_err());
    }
}
