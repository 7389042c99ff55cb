//! Image references (`busybox`, `host:5000/a/b:tag`, `name@sha256:…`): parsing per the
//! distribution reference grammar and docker's normalisation to a full name.
//!
//! The grammar (distribution/reference, `reference.go`):
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [domain "/"] path-component ["/" path-component]*
//! domain           := host [":" port-number]
//! host             := domain-name | IPv4address | "[" IPv6address "]"
//! domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! path-component   := alpha-numeric [separator alpha-numeric]*
//! alpha-numeric    := /[a-z0-9]+/
//! separator        := /[_.]|__|[-]+/
//! tag              := /[\w][\w.-]{0,127}/
//! ```
//! Normalisation (docker's `ParseNormalizedNamed`): the first path component is a registry
//! host only if it contains `.` or `:`, is `localhost`, or has upper-case letters; otherwise
//! the registry is `docker.io`, whose single-component names live under `library/`. A name
//! with neither tag nor digest gets the tag `latest`.

use crate::digest::{Digest, DigestError};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The registry of names without a host.
pub const DEFAULT_DOMAIN: &str = "docker.io";
/// An alias of [`DEFAULT_DOMAIN`] that older tools write.
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// Docker Hub's namespace of official images.
const OFFICIAL_NAMESPACE: &str = "library";
pub const DEFAULT_TAG: &str = "latest";
const MAX_NAME_LEN: usize = 255;
const MAX_TAG_LEN: usize = 128;

/// A string that is not an image reference, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid reference {input:?}: {problem}")]
pub struct InvalidReference {
    pub input: String,
    pub problem: ReferenceProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceProblem {
    #[error("it is empty")]
    Empty,
    #[error("the repository name is empty")]
    EmptyName,
    #[error("repository name must be lowercase")]
    Uppercase,
    #[error("repository name must not be longer than {MAX_NAME_LEN} characters")]
    NameTooLong,
    #[error("bad repository name component {0:?}: only a-z, 0-9 and single separators (., _, __, -) between them are allowed")]
    BadNameComponent(String),
    #[error("bad registry host {0:?}")]
    BadDomain(String),
    #[error("bad tag {0:?}: a tag is 1 to {MAX_TAG_LEN} characters of A-Z, a-z, 0-9, _, . and -, not starting with . or -")]
    BadTag(String),
    #[error("bad digest: {0}")]
    BadDigest(DigestError),
}

/// A normalised image reference: registry host, repository path, and a tag and/or digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises `input` (`busybox` → `docker.io/library/busybox:latest`).
    pub fn parse(input: &str) -> Result<Reference, InvalidReference> {
        parse(input).map_err(|problem| InvalidReference {
            input: input.to_string(),
            problem,
        })
    }

    /// The registry host (and port), e.g. `docker.io` or `localhost:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path inside the registry, e.g. `library/busybox`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The full repository name without tag or digest: `docker.io/library/busybox`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The same repository with `tag` instead of any tag or digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, InvalidReference> {
        check_tag(tag).map_err(|problem| InvalidReference {
            input: tag.to_string(),
            problem,
        })?;
        Ok(Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: Some(tag.to_string()),
            digest: None,
        })
    }

    /// The repository name as docker shows it: `busybox`, `user/app`, `host:5000/a/b`.
    pub fn familiar_name(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.name();
        }
        match self.path.strip_prefix("library/") {
            Some(rest) if !rest.contains('/') => rest.to_string(),
            _ => self.path.clone(),
        }
    }

    /// The reference as docker shows it: `busybox:latest`, `host:5000/a/b@sha256:…`.
    pub fn familiar(&self) -> String {
        let mut out = self.familiar_name();
        self.push_suffix(&mut out);
        out
    }

    fn push_suffix(&self, out: &mut String) {
        if let Some(tag) = &self.tag {
            out.push(':');
            out.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            out.push('@');
            out.push_str(&digest.to_string());
        }
    }
}

fn parse(input: &str) -> Result<Reference, ReferenceProblem> {
    if input.is_empty() {
        return Err(ReferenceProblem::Empty);
    }
    let (rest, digest) = match input.split_once('@') {
        Some((rest, digest)) => (
            rest,
            Some(
                digest
                    .parse::<Digest>()
                    .map_err(ReferenceProblem::BadDigest)?,
            ),
        ),
        None => (input, None),
    };
    // A tag is whatever follows the last ':' after the last '/' (a ':' before that is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => {
            let at = last_slash + i;
            (&rest[..at], Some(&rest[at + 1..]))
        }
        None => (rest, None),
    };
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if name.is_empty() {
        return Err(ReferenceProblem::EmptyName);
    }
    if name.len() > MAX_NAME_LEN {
        return Err(ReferenceProblem::NameTooLong);
    }
    let (domain, path) = split_domain(name);
    check_domain(&domain)?;
    if path.is_empty() {
        return Err(ReferenceProblem::EmptyName);
    }
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ReferenceProblem::Uppercase);
    }
    for component in path.split('/') {
        check_path_component(component)?;
    }
    let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
        format!("{OFFICIAL_NAMESPACE}/{path}")
    } else {
        path.to_string()
    };
    if domain.len() + 1 + path.len() > MAX_NAME_LEN {
        return Err(ReferenceProblem::NameTooLong);
    }
    let tag = match (tag, &digest) {
        (Some(tag), _) => Some(tag.to_string()),
        (None, Some(_)) => None,
        (None, None) => Some(DEFAULT_TAG.to_string()),
    };
    Ok(Reference {
        domain,
        path,
        tag,
        digest,
    })
}

/// Docker's rule for telling a registry host from the first path component.
fn split_domain(name: &str) -> (String, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            let domain = if first == LEGACY_DEFAULT_DOMAIN {
                DEFAULT_DOMAIN
            } else {
                first
            };
            (domain.to_string(), rest)
        }
        _ => (DEFAULT_DOMAIN.to_string(), name),
    }
}

fn check_domain(domain: &str) -> Result<(), ReferenceProblem> {
    let bad = || ReferenceProblem::BadDomain(domain.to_string());
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        // "[" IPv6address "]" [":" port]
        let (inside, after) = rest.split_once(']').ok_or_else(bad)?;
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad());
        }
        match after {
            "" => (None, None),
            _ => (None, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match domain.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(domain), None),
        }
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
    }
    if let Some(host) = host {
        // IPv4 addresses are domain-names too (all components are digits).
        let ok = !host.is_empty()
            && host.split('.').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !c.starts_with('-')
                    && !c.ends_with('-')
            });
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

fn check_path_component(component: &str) -> Result<(), ReferenceProblem> {
    let bad = || ReferenceProblem::BadNameComponent(component.to_string());
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut i = 0;
    // alpha-numeric [separator alpha-numeric]*
    loop {
        let start = i;
        while i < bytes.len() && alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        if i == bytes.len() {
            return Ok(());
        }
        let sep_start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[sep_start..i];
        let sep_ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !sep_ok {
            return Err(bad());
        }
    }
}

fn check_tag(tag: &str) -> Result<(), ReferenceProblem> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = match tag.as_bytes() {
        [first, rest @ ..] => {
            word(*first)
                && rest.len() < MAX_TAG_LEN
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
        }
        [] => false,
    };
    if ok {
        Ok(())
    } else {
        Err(ReferenceProblem::BadTag(tag.to_string()))
    }
}

impl fmt::Display for Reference {
    /// The full normalised form: `docker.io/library/busybox:latest`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = self.name();
        self.push_suffix(&mut out);
        f.write_str(&out)
    }
}

impl fmt::Debug for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Reference({self})")
    }
}

impl FromStr for Reference {
    type Err = super::ImageError;

    fn from_str(s: &str) -> Result<Reference, super::ImageError> {
        Ok(Reference::parse(s)?)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Reference, D::Error> {
        let s = String::deserialize(deserializer)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn full(input: &str) -> String {
        Reference::parse(input)
            .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"))
            .to_string()
    }

    fn problem(input: &str) -> ReferenceProblem {
        match Reference::parse(input) {
            Ok(r) => panic!("{input:?} should be rejected, parsed as {r}"),
            Err(e) => e.problem,
        }
    }

    #[test]
    fn normalises_official_images_to_docker_hub_library() {
        assert_eq!(full("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(full("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(
            full("docker.io/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(
            full("index.docker.io/library/busybox:musl"),
            "docker.io/library/busybox:musl"
        );
    }

    #[test]
    fn every_spelling_of_an_official_image_is_one_reference() {
        for spelling in [
            "busybox",
            "library/busybox",
            "docker.io/busybox",
            "docker.io/library/busybox:latest",
            "index.docker.io/busybox",
            "index.docker.io/library/busybox:latest",
        ] {
            assert_eq!(
                full(spelling),
                "docker.io/library/busybox:latest",
                "{spelling}"
            );
        }
        let r = Reference::parse("busybox").expect("parses");
        assert_eq!((r.domain(), r.path()), ("docker.io", "library/busybox"));
    }

    #[test]
    fn keeps_user_namespaces_on_docker_hub() {
        assert_eq!(full("user/app"), "docker.io/user/app:latest");
        assert_eq!(full("a/b/c:v1"), "docker.io/a/b/c:v1");
    }

    #[test]
    fn recognises_registry_hosts() {
        assert_eq!(full("host:5000/a/b:tag"), "host:5000/a/b:tag");
        assert_eq!(full("localhost/app"), "localhost/app:latest");
        assert_eq!(full("127.0.0.1:5000/app"), "127.0.0.1:5000/app:latest");
        assert_eq!(full("[::1]:5000/app:v2"), "[::1]:5000/app:v2");
        assert_eq!(
            full("registry.example.com/x"),
            "registry.example.com/x:latest"
        );
        assert_eq!(full("Registry.Example/x"), "Registry.Example/x:latest");
        let r = Reference::parse("host:5000/a/b:tag").expect("parses");
        assert_eq!(r.domain(), "host:5000");
        assert_eq!(r.path(), "a/b");
        assert_eq!(r.tag(), Some("tag"));
    }

    #[test]
    fn digest_references_get_no_default_tag() {
        let input = format!("busybox@sha256:{HEX}");
        let r = Reference::parse(&input).expect("parses");
        assert_eq!(r.tag(), None);
        assert_eq!(r.digest().map(|d| d.hex()), Some(HEX.to_string()));
        assert_eq!(
            r.to_string(),
            format!("docker.io/library/busybox@sha256:{HEX}")
        );
        let both = full(&format!("host:5000/app:v1@sha256:{HEX}"));
        assert_eq!(both, format!("host:5000/app:v1@sha256:{HEX}"));
    }

    #[test]
    fn familiar_form_drops_default_registry_and_library() {
        let f = |s: &str| Reference::parse(s).expect("parses").familiar();
        assert_eq!(f("busybox"), "busybox:latest");
        assert_eq!(f("docker.io/library/busybox:1"), "busybox:1");
        assert_eq!(f("user/app"), "user/app:latest");
        assert_eq!(f("docker.io/library/a/b"), "library/a/b:latest");
        assert_eq!(f("localhost:5000/app:x"), "localhost:5000/app:x");
    }

    #[test]
    fn rejects_upper_case_repository_names() {
        assert_eq!(problem("BusyBox"), ReferenceProblem::Uppercase);
        assert_eq!(problem("user/App"), ReferenceProblem::Uppercase);
        assert_eq!(problem("host:5000/App"), ReferenceProblem::Uppercase);
    }

    #[test]
    fn rejects_empty_input_and_names() {
        assert_eq!(problem(""), ReferenceProblem::Empty);
        assert_eq!(problem(":latest"), ReferenceProblem::EmptyName);
        assert_eq!(problem("host:5000/"), ReferenceProblem::EmptyName);
    }

    #[test]
    fn rejects_bad_tags() {
        assert!(matches!(problem("busybox:"), ReferenceProblem::BadTag(_)));
        assert!(matches!(problem("busybox:-x"), ReferenceProblem::BadTag(_)));
        assert!(matches!(
            problem("busybox:a+b"),
            ReferenceProblem::BadTag(_)
        ));
        let long = format!("busybox:{}", "a".repeat(129));
        assert!(matches!(problem(&long), ReferenceProblem::BadTag(_)));
        assert!(Reference::parse(&format!("busybox:{}", "a".repeat(128))).is_ok());
        assert!(Reference::parse("busybox:V1.0_rc-2").is_ok());
    }

    #[test]
    fn rejects_bad_name_components() {
        for bad in [
            "a..b", "a/-b", "a-/b", "_a", "a//b", "a/b/", "a___b", "a._b", "a$b",
        ] {
            assert!(
                matches!(problem(bad), ReferenceProblem::BadNameComponent(_)),
                "{bad:?}"
            );
        }
        for good in ["a.b", "a_b", "a__b", "a-b", "a---b", "a0/b1.c_d"] {
            assert!(Reference::parse(good).is_ok(), "{good:?} should parse");
        }
    }

    #[test]
    fn rejects_bad_hosts_and_digests() {
        assert!(matches!(
            problem("-bad.host/a"),
            ReferenceProblem::BadDomain(_)
        ));
        assert!(matches!(
            problem("host:port/a"),
            ReferenceProblem::BadDomain(_)
        ));
        assert!(matches!(
            problem("[zz]:5000/a"),
            ReferenceProblem::BadDomain(_)
        ));
        assert!(matches!(
            problem("busybox@sha256:abc"),
            ReferenceProblem::BadDigest(_)
        ));
        assert!(matches!(
            problem("busybox@"),
            ReferenceProblem::BadDigest(_)
        ));
    }

    #[test]
    fn rejects_overlong_names() {
        let long = "a".repeat(256);
        assert_eq!(problem(&long), ReferenceProblem::NameTooLong);
        // 250 characters pass the raw check but not once normalised ("docker.io/library/" added).
        let near = "a".repeat(250);
        assert_eq!(problem(&near), ReferenceProblem::NameTooLong);
    }

    #[test]
    fn errors_name_the_input_and_the_problem() {
        let e = Reference::parse("Bad").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid reference \"Bad\": repository name must be lowercase"
        );
    }

    #[test]
    fn serde_and_from_str_use_the_full_form() {
        let r: Reference = "busybox".parse().expect("parses");
        let json = serde_json::to_string(&r).expect("serialize");
        assert_eq!(json, "\"docker.io/library/busybox:latest\"");
        let back: Reference = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, r);
        assert!(serde_json::from_str::<Reference>("\"UPPER\"").is_err());
        assert!("UPPER".parse::<Reference>().is_err());
    }

    #[test]
    fn with_tag_replaces_tag_and_digest() {
        let r = Reference::parse(&format!("app:1@sha256:{HEX}")).expect("parses");
        let t = r.with_tag("2").expect("valid tag");
        assert_eq!(t.to_string(), "docker.io/library/app:2");
        assert!(r.with_tag("bad tag").is_err());
    }
}

/// Property tests: any text parses or is refused without a panic, and a parsed reference
/// printed back parses to itself (normalising is idempotent).
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    use crate::proptest_cases::config;

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn any_text_is_parsed_or_refused(text in any::<String>()) {
            let _ = Reference::parse(&text);
        }

        #[test]
        fn parsed_references_round_trip(
            text in "([a-z0-9]{1,8}(\\.[a-z]{1,4})?(:[0-9]{1,5})?/)?[a-z0-9]{1,6}([._-][a-z0-9]{1,4})?(/[a-z0-9]{1,6}){0,2}(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,10})?(@sha256:[0-9a-f]{64})?"
        ) {
            if let Ok(reference) = Reference::parse(&text) {
                let again = Reference::parse(&reference.to_string());
                prop_assert_eq!(again.as_ref(), Ok(&reference));
                let familiar = Reference::parse(&reference.familiar());
                prop_assert_eq!(familiar.as_ref(), Ok(&reference));
            }
        }
    }
}
