//! docker's detach keys: parsing `--detach-keys` and finding the sequence in an input stream
//! (ctrl-p ctrl-q unless told otherwise), which ends an attach without ending its input.

use crate::{Error, Result};

/// Finds the detach sequence in the input, holding back a partial match until it is decided
/// (docker's behaviour: the keys of a completed sequence are never sent).
pub struct DetachMatcher {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachMatcher {
    pub fn new(keys: Vec<u8>) -> DetachMatcher {
        DetachMatcher { keys, matched: 0 }
    }

    /// The bytes to forward now, and whether the sequence completed.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        if self.keys.is_empty() {
            return (input.to_vec(), false);
        }
        let mut out = Vec::with_capacity(input.len());
        for &byte in input {
            if byte == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
            } else {
                // The held-back prefix was ordinary input after all.
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                if byte == self.keys[0] {
                    self.matched = 1;
                } else {
                    out.push(byte);
                }
            }
        }
        (out, false)
    }
}

/// `--detach-keys`: docker's format, comma-separated `ctrl-<letter>` (also `ctrl-@`,
/// `ctrl-[`, `ctrl-\`, `ctrl-]`, `ctrl-^`, `ctrl-_`) or single characters. Empty: none.
pub fn parse_detach_keys(text: &str) -> Result<Vec<u8>> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|key| {
            let invalid = || {
                Error::InvalidInput(format!("invalid detach keys {text:?}: unknown key {key:?}"))
            };
            if let Some(rest) = key.strip_prefix("ctrl-") {
                let c = match rest.as_bytes() {
                    [c] => *c,
                    _ => return Err(invalid()),
                };
                match c.to_ascii_uppercase() {
                    c @ b'@'..=b'_' => Ok(c - b'@'),
                    _ => Err(invalid()),
                }
            } else if key.len() == 1 {
                Ok(key.as_bytes()[0])
            } else {
                Err(invalid())
            }
        })
        .collect()
}

/// docker's default detach sequence, ctrl-p ctrl-q.
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert!(parse_detach_keys("ctrl-").is_err());
        assert!(parse_detach_keys("alt-x").is_err());
        assert!(parse_detach_keys("").unwrap().is_empty());
    }

    #[test]
    fn the_detach_sequence_is_held_back_and_not_sent() {
        let mut m = DetachMatcher::new(vec![16, 17]);
        assert_eq!(m.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(m.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(m.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(m.feed(b"\x11rest"), (Vec::new(), true));
        let mut none = DetachMatcher::new(Vec::new());
        assert_eq!(none.feed(b"\x10\x11"), (b"\x10\x11".to_vec(), false));
    }
}
