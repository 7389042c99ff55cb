//! Random secrets (session cookies, tokens, board links, the setup token), public ids, and how
//! a secret is stored and compared: by its SHA-256, or in constant time.

use base64::Engine as _;
use rand::Rng;
use sha2::{Digest, Sha256};

/// 32 random bytes (256 bits; OWASP Session Management asks for at least 64 bits of entropy)
/// from the thread's CSPRNG (ChaCha seeded by the OS), as unpadded base64url, after `prefix`.
pub(crate) fn new_secret(prefix: &str) -> String {
    let bytes: [u8; 32] = rand::rng().random();
    let mut text = String::with_capacity(prefix.len() + 43);
    text.push_str(prefix);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut text);
    text
}

/// A public id: 12 hex chars.
pub(crate) fn new_id() -> String {
    crate::ids::random_hex::<6>()
}

/// What is stored of a high-entropy secret: its SHA-256, hex. Such a secret cannot be guessed,
/// so a fast hash suffices (a slow one is for passwords), and looking the digest up by index
/// leaks nothing useful through timing.
pub(crate) fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time that depends on their lengths only.
pub(crate) fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_prefixed_and_distinct() {
        let a = new_secret("berth_");
        let b = new_secret("berth_");
        assert!(a.starts_with("berth_"));
        assert_eq!(a.len(), 6 + 43);
        assert_ne!(a, b);
        assert!(a[6..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(new_id().len(), 12);
        assert_eq!(digest("x").len(), 64);
        assert_ne!(digest(&a), digest(&b));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
        assert!(constant_time_eq("", ""));
    }
}
