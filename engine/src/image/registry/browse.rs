//! Browsing a registry: one page of its catalogue (`GET /v2/_catalog`) or of a repository's
//! tags (`GET /v2/<name>/tags/list`), with the `n`/`last` pagination of the distribution
//! spec ("Listing Repositories", "Listing Image Tags"): the registry announces a further page
//! with `Link: </v2/…?last=<x>&n=<n>>; rel="next"`.

use super::client::{read_capped, RepoClient};
use super::RegistryError;
use reqwest::header::{HeaderMap, LINK};
use reqwest::{Method, StatusCode};
use serde::Deserialize;

pub use berth_wire::registry::Page;

/// Pages are capped so that a hostile registry cannot make us hold a huge list.
const MAX_PAGE_BYTES: u64 = 4 * 1024 * 1024;

#[derive(Deserialize)]
struct Listing {
    #[serde(default)]
    repositories: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

/// A page of the catalogue (the session's repository is not used).
pub async fn catalog(
    session: &RepoClient,
    n: Option<u32>,
    last: Option<&str>,
) -> Result<Page, RegistryError> {
    page(session, "/v2/_catalog".to_string(), n, last).await
}

/// A page of the session repository's tags.
pub async fn tags(
    session: &RepoClient,
    n: Option<u32>,
    last: Option<&str>,
) -> Result<Page, RegistryError> {
    let path = format!("/v2/{}/tags/list", session.repository());
    page(session, path, n, last).await
}

async fn page(
    session: &RepoClient,
    path: String,
    n: Option<u32>,
    last: Option<&str>,
) -> Result<Page, RegistryError> {
    let mut query = Vec::new();
    if let Some(n) = n {
        query.push(format!("n={n}"));
    }
    if let Some(last) = last {
        query.push(format!("last={}", encode(last)));
    }
    let url = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{}", query.join("&"))
    };
    let response = session
        .send(Method::GET, &url, HeaderMap::new(), None)
        .await?;
    let registry = session.endpoint().registry.clone();
    match response.status() {
        s if s.is_success() => {}
        StatusCode::NOT_FOUND => {
            return Err(RegistryError::NotFound(format!(
                "{path} not found on {registry}"
            )))
        }
        s => {
            return Err(session
                .status_error(s, &format!("GET {path}"), response)
                .await)
        }
    }
    let next = response
        .headers()
        .get_all(LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(next_last);
    let body = read_capped(response, MAX_PAGE_BYTES, &registry)
        .await?
        .ok_or_else(|| RegistryError::Status {
            registry: registry.clone(),
            what: format!("GET {path}"),
            status: 200,
            body: format!("the list is longer than {MAX_PAGE_BYTES} bytes"),
        })?;
    let listing: Listing = serde_json::from_slice(&body).map_err(|e| RegistryError::Status {
        registry: registry.clone(),
        what: format!("GET {path}"),
        status: 200,
        body: format!("unreadable list: {e}"),
    })?;
    let names = listing.repositories.or(listing.tags).unwrap_or_default();
    Ok(paginate(names, next, n, last))
}

/// A registry that ignores `n`/`last` (docker-registry 2.8 does for tags) sent everything:
/// cut the page here, as the spec wants it — in lexical order, the names after `last`, at
/// most `n`, with the next page starting after the last one kept.
fn paginate(
    mut names: Vec<String>,
    next: Option<String>,
    n: Option<u32>,
    last: Option<&str>,
) -> Page {
    let Some(n) = n.map(|n| n as usize) else {
        return Page { names, next };
    };
    if names.len() <= n && (next.is_some() || last.is_none()) {
        return Page { names, next };
    }
    names.sort();
    names.retain(|name| last.is_none_or(|last| name.as_str() > last));
    if names.len() <= n {
        return Page { names, next: None };
    }
    names.truncate(n);
    let next = names.last().cloned();
    Page { names, next }
}

/// The `last` parameter of a `Link: <url>; rel="next"` header (RFC 8288), decoded.
fn next_last(header: &str) -> Option<String> {
    header.split(',').find_map(|link| {
        let (target, params) = link.trim().split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim().split_once('='), Some(("rel", v)) if v.trim_matches('"') == "next"));
        if !is_next {
            return None;
        }
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        let (_, query) = target.split_once('?')?;
        query.split('&').find_map(|pair| match pair.split_once('=') {
            Some(("last", value)) => Some(decode(value)),
            _ => None,
        })
    })
}

/// Percent-encodes a query value (repository names have `/`, which stays readable).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(value)) => {
                out.push(value);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_starts_after_the_link_headers_last() {
        assert_eq!(
            next_last(r#"</v2/_catalog?last=test%2Fb&n=2>; rel="next""#),
            Some("test/b".to_string())
        );
        assert_eq!(
            next_last(r#"</v2/a/tags/list?n=2&last=v2>; rel=next"#),
            Some("v2".to_string())
        );
        assert_eq!(next_last(r#"</v2/_catalog?last=x>; rel="prev""#), None);
        assert_eq!(encode("test/a b"), "test/a%20b");
        // A registry that ignored n and last: the pages are cut here.
        let all = || vec!["3".to_string(), "1".to_string(), "2".to_string()];
        let first = paginate(all(), None, Some(2), None);
        assert_eq!(first.names, ["1", "2"]);
        assert_eq!(first.next.as_deref(), Some("2"));
        let second = paginate(all(), None, Some(2), Some("2"));
        assert_eq!(
            second,
            Page {
                names: vec!["3".into()],
                next: None
            }
        );
        // One that paginates is taken at its word.
        let honest = paginate(
            vec!["a".into(), "b".into()],
            Some("b".into()),
            Some(2),
            None,
        );
        assert_eq!(honest.next.as_deref(), Some("b"));
        assert_eq!(decode(&encode("x:y z")), "x:y z");
    }
}
