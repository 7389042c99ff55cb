//! Random hex ids: the 64-character ids of containers, networks and anonymous volumes, and
//! the short public ids of the auth records.

use rand::Rng;

/// `N` random bytes from the thread's CSPRNG, as `2 * N` lowercase hex characters.
pub(crate) fn random_hex<const N: usize>() -> String {
    let bytes: [u8; N] = rand::rng().random();
    hex::encode(bytes)
}

/// A new random 64-hex id (containers, networks, anonymous volumes, exec instances).
pub(crate) fn new_id() -> String {
    random_hex::<32>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_and_differ() {
        let (a, b) = (new_id(), new_id());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn random_hex_is_twice_its_bytes_long() {
        assert_eq!(random_hex::<6>().len(), 12);
    }
}
