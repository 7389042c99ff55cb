//! Container names: validation and docker-style generation (ids are in `crate::ids`).

use crate::ids::new_id;
use crate::{Error, Result};
use rand::Rng;

/// Names follow docker's rule: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if name.len() < 2 || name.len() > 128 || !first_ok || !rest_ok {
        return Err(Error::InvalidInput(format!(
            "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least 2 characters"
        )));
    }
    Ok(())
}

const ADJECTIVES: &[&str] = &[
    "agile", "bold", "brave", "bright", "calm", "clever", "crisp", "eager", "fair", "fond",
    "gentle", "glad", "happy", "keen", "kind", "lucid", "merry", "modest", "nimble", "noble",
    "proud", "quick", "quiet", "sharp", "steady", "sunny", "swift", "tender", "vivid", "witty",
];
const NOUNS: &[&str] = &[
    "anchor", "beacon", "buoy", "cargo", "compass", "current", "dock", "ferry", "harbor", "hull",
    "island", "keel", "lagoon", "mast", "pier", "quay", "reef", "rudder", "sail", "schooner",
    "shore", "skiff", "sloop", "tide", "wharf", "yacht", "voyage", "lantern",
];

/// A docker-style random name, e.g. `swift_harbor`; `taken` says whether a name is in use.
pub(crate) fn generate_name(taken: impl Fn(&str) -> bool) -> String {
    let mut rng = rand::rng();
    for attempt in 0..64 {
        let adjective = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
        let noun = NOUNS[rng.random_range(0..NOUNS.len())];
        let name = if attempt < 8 {
            format!("{adjective}_{noun}")
        } else {
            format!("{adjective}_{noun}{}", rng.random_range(0..1000))
        };
        if !taken(&name) {
            return name;
        }
    }
    format!("berth_{}", &new_id()[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated_like_docker() {
        assert!(validate_name("web-1").is_ok());
        assert!(validate_name("a.b_c").is_ok());
        for bad in ["", "x", "-web", "web/1", "we b", "../etc"] {
            assert!(validate_name(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn generated_names_avoid_taken_ones() {
        let name = generate_name(|n| !n.contains(char::is_numeric));
        assert!(name.chars().any(|c| c.is_ascii_digit()) || name.starts_with("berth_"));
        assert!(validate_name(&generate_name(|_| false)).is_ok());
    }
}
