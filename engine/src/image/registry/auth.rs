//! Registry authentication: the `WWW-Authenticate` challenge of a 401 answer (RFC 7235
//! §4.1), answered with Basic credentials (RFC 7617) or with a Bearer token fetched from the
//! realm the challenge names (distribution spec, "Token Authentication Specification":
//! `GET realm?service=…&scope=…`, Basic credentials if the user logged in, the answer's
//! `token` or `access_token`).

use super::{Credentials, RegistryError};
use serde::Deserialize;

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parses `Basic realm="…"` or `Bearer realm="…",service="…",scope="…"`; `None` for
    /// other schemes or a Bearer challenge without a realm.
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, params) = header.split_once(' ').unwrap_or((header, ""));
        let params = parse_params(params);
        let get = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if scheme.eq_ignore_ascii_case("basic") {
            Some(Challenge::Basic)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(Challenge::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scope: get("scope"),
            })
        } else {
            None
        }
    }
}

/// `key=value` or `key="quoted, value"` pairs separated by commas.
fn parse_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if key.is_empty() || chars.next() != Some('=') {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect();
        }
        out.push((key.trim().to_string(), value.trim().to_string()));
    }
    out
}

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// Whether the stored Basic credentials of a registry may be sent to a token `realm`.
///
/// Over `https://` they may go anywhere the registry points (Docker Hub's realm is
/// `auth.docker.io`, another host than the registry). In the clear (`http://`) they may go
/// only to a registry marked insecure (`--insecure-registry`, the user chose plain HTTP for
/// it), and then only to that registry's own host name: a plain-HTTP realm of a registry
/// reached over verified TLS, or one on another host, would hand the password to whoever
/// sits on the path. Any other scheme is refused. `registry_base` is the endpoint's
/// `scheme://host[:port]`.
pub fn realm_may_get_credentials(
    realm: &str,
    registry_base: &str,
    insecure: bool,
) -> Result<(), String> {
    let lower = realm.trim().to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Ok(());
    }
    let Some(rest) = lower.strip_prefix("http://") else {
        return Err(format!(
            "the token realm {realm} is not an http(s) URL; credentials not sent"
        ));
    };
    if !insecure {
        return Err(format!(
            "the registry's token realm {realm} is plain HTTP; credentials are sent to a token \
             service only over https (or for a registry marked --insecure-registry)"
        ));
    }
    let base = registry_base.to_ascii_lowercase();
    let base = base
        .split_once("://")
        .map_or(base.as_str(), |(_, rest)| rest);
    if hostname(rest) != hostname(base) {
        return Err(format!(
            "the token realm {realm} is plain HTTP on another host than the registry; \
             credentials not sent"
        ));
    }
    Ok(())
}

/// The host name of `host[:port][/path…]` (userinfo dropped, IPv6 brackets kept).
fn hostname(authority_and_path: &str) -> &str {
    let authority = authority_and_path
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if authority.starts_with('[') {
        return authority
            .split_once(']')
            .map_or(authority, |(h, _)| &authority[..h.len() + 1]);
    }
    authority.split(':').next().unwrap_or_default()
}

/// The largest token answer read (tokens are a few KiB).
const MAX_TOKEN_ANSWER: usize = 1 << 20;

/// Answers a challenge: the `Authorization` header value to retry with. `scope` is used
/// when the challenge names none (a challenge to `/v2/` has none).
pub async fn authorize(
    http: &reqwest::Client,
    registry: &str,
    endpoint: &super::Endpoint,
    challenge: &Challenge,
    credentials: Option<&Credentials>,
    scope: Option<&str>,
) -> Result<String, RegistryError> {
    let (realm, service, scope) = match challenge {
        Challenge::Basic => {
            return credentials.map(Credentials::basic_header).ok_or_else(|| {
                RegistryError::Unauthorized(format!(
                    "registry {registry} requires a login (berth login {registry})"
                ))
            })
        }
        Challenge::Bearer {
            realm,
            service,
            scope: challenged,
        } => (realm, service, challenged.as_deref().or(scope)),
    };
    if credentials.is_some() {
        realm_may_get_credentials(realm, &endpoint.base, endpoint.insecure)
            .map_err(|why| RegistryError::Unauthorized(format!("{registry}: {why}")))?;
    }
    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(service) = service {
        query.push(("service", service));
    }
    if let Some(scope) = scope {
        query.push(("scope", scope));
    }
    if let Some(credentials) = credentials {
        query.push(("account", &credentials.username));
    }
    let mut request = http.get(realm).query(&query);
    if let Some(credentials) = credentials {
        request = request.header(reqwest::header::AUTHORIZATION, credentials.basic_header());
    }
    let answer = request
        .send()
        .await
        .map_err(|e| RegistryError::unreachable(registry, &e))?;
    let status = answer.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(RegistryError::Unauthorized(match credentials {
            Some(_) => format!("incorrect username or password for {registry}"),
            None => format!(
                "the token service of {registry} refused anonymous access (berth login {registry})"
            ),
        }));
    }
    if !status.is_success() {
        return Err(RegistryError::Status {
            registry: registry.to_string(),
            what: "a token request".into(),
            status: status.as_u16(),
            body: String::new(),
        });
    }
    let body = super::client::read_capped(answer, MAX_TOKEN_ANSWER as u64, registry)
        .await?
        .ok_or_else(|| RegistryError::Status {
            registry: registry.to_string(),
            what: "a token request".into(),
            status: status.as_u16(),
            body: "the token answer is too large".into(),
        })?;
    let parsed: TokenAnswer = serde_json::from_slice(&body).map_err(|e| RegistryError::Status {
        registry: registry.to_string(),
        what: "a token request".into(),
        status: status.as_u16(),
        body: format!("unreadable token answer: {e}"),
    })?;
    let token = parsed
        .token
        .or(parsed.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| RegistryError::Status {
            registry: registry.to_string(),
            what: "a token request".into(),
            status: status.as_u16(),
            body: "the answer has no token".into(),
        })?;
    Ok(format!("Bearer {token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/busybox:pull".into()),
            })
        );
    }

    #[test]
    fn quoted_values_may_hold_commas_and_escapes() {
        let c = Challenge::parse(
            r#"bearer realm="http://t/token", scope="repository:a:pull,push", error="x\"y""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "http://t/token".into(),
                service: None,
                scope: Some("repository:a:pull,push".into()),
            })
        );
        assert_eq!(parse_params(r#"a=1, b="2,3""#).len(), 2);
        assert_eq!(parse_params("a=plain,b=x")[1], ("b".into(), "x".into()));
    }

    #[test]
    fn basic_and_unknown_schemes() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(Challenge::parse("Negotiate"), None);
        assert_eq!(Challenge::parse(r#"Bearer service="x""#), None, "no realm");
    }

    #[test]
    fn credentials_go_to_a_token_realm_only_over_https_or_to_an_insecure_registry() {
        let hub = "https://registry-1.docker.io";
        assert!(realm_may_get_credentials("https://auth.docker.io/token", hub, false).is_ok());
        assert!(realm_may_get_credentials("HTTPS://auth.docker.io/token", hub, false).is_ok());
        // A plain-HTTP realm of a TLS registry: refused, whatever the host.
        assert!(realm_may_get_credentials("http://auth.docker.io/token", hub, false).is_err());
        assert!(realm_may_get_credentials("http://registry-1.docker.io/t", hub, false).is_err());
        // An insecure registry: plain HTTP to its own host (any port), not elsewhere.
        let local = "http://127.0.0.1:5000";
        assert!(realm_may_get_credentials("http://127.0.0.1:5001/token", local, true).is_ok());
        assert!(realm_may_get_credentials("http://127.0.0.1/token", local, true).is_ok());
        assert!(realm_may_get_credentials("http://10.0.0.9:5001/token", local, true).is_err());
        assert!(realm_may_get_credentials("http://127.0.0.1@evil.example/t", local, true).is_err());
        assert!(realm_may_get_credentials("https://evil.example/t", local, true).is_ok());
        // Not HTTP at all.
        assert!(realm_may_get_credentials("ftp://127.0.0.1/token", local, true).is_err());
        assert!(realm_may_get_credentials("/token", local, true).is_err());
        let why = realm_may_get_credentials("http://auth.example/token", hub, false).unwrap_err();
        assert!(why.contains("plain HTTP"), "{why}");
    }

    #[test]
    fn host_names_of_authorities() {
        assert_eq!(hostname("a.example:80/x"), "a.example");
        assert_eq!(hostname("u:p@b.example/x"), "b.example");
        assert_eq!(hostname("[::1]:5000/x"), "[::1]");
        assert_eq!(hostname("c.example?x=1"), "c.example");
    }
}
