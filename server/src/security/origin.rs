//! Cross-site request checks (OWASP CSRF Prevention Cheat Sheet, "Verifying Origin with
//! standard headers" and "Fetch Metadata headers"): a state change or a WebSocket upgrade that a
//! browser sends from another origin is refused. Browsers send `Origin` on every POST, PUT,
//! DELETE and WebSocket handshake (RFC 6454 §7, RFC 6455 §4.1) and `Sec-Fetch-Site` on every
//! request; a client that sends neither is not a browser, and cookie sessions additionally need
//! the CSRF token, so such a request is let through to authentication.

use super::host::host_name;

/// Why a request was judged cross-site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrossSite {
    /// `Origin` names another origin (or is `null`).
    Origin(String),
    /// `Sec-Fetch-Site` says `cross-site` or `same-site`.
    FetchSite(String),
}

impl std::fmt::Display for CrossSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrossSite::Origin(o) => write!(
                f,
                "cross-site request refused: origin {o:?} is not this dashboard's"
            ),
            CrossSite::FetchSite(s) => write!(
                f,
                "cross-site request refused: the browser says it comes from a {s} page"
            ),
        }
    }
}

/// Decides on one request. `host` is its Host header; `tls` whether it came over TLS;
/// `trusted` the origins configured as this dashboard's public addresses (behind a proxy the
/// Host the daemon sees may differ from the one in the browser).
pub fn check(
    origin: Option<&str>,
    fetch_site: Option<&str>,
    host: Option<&str>,
    tls: bool,
    trusted: &[String],
) -> Result<(), CrossSite> {
    if let Some(site) = fetch_site.map(str::trim) {
        // same-origin: the dashboard itself; none: typed in or bookmarked by the user.
        if !site.eq_ignore_ascii_case("same-origin") && !site.eq_ignore_ascii_case("none") {
            return Err(CrossSite::FetchSite(site.to_ascii_lowercase()));
        }
    }
    let Some(origin) = origin.map(str::trim) else {
        return Ok(());
    };
    let normalized = normalize_origin(origin);
    let same_as_host = match (&normalized, host) {
        (Some(o), Some(h)) => {
            let scheme = if tls { "https" } else { "http" };
            normalize_origin(&format!("{scheme}://{h}")).is_some_and(|own| own == *o)
        }
        _ => false,
    };
    let trusted_match = normalized.as_ref().is_some_and(|o| {
        trusted
            .iter()
            .any(|t| normalize_origin(t).as_ref() == Some(o))
    });
    if same_as_host || trusted_match {
        Ok(())
    } else {
        Err(CrossSite::Origin(origin.to_string()))
    }
}

/// `scheme://host:port` with the default port made explicit, lower-cased; None for `null`
/// or anything that is not an http(s) origin.
pub fn normalize_origin(text: &str) -> Option<String> {
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => "80",
        "https" => "443",
        _ => return None,
    };
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') {
        return None;
    }
    let name = host_name(authority)?;
    let port = if let Some(rest) = authority.strip_prefix('[') {
        rest.split_once("]:").map(|(_, p)| p.to_string())
    } else {
        authority.rsplit_once(':').map(|(_, p)| p.to_string())
    }
    .unwrap_or_else(|| default_port.to_string());
    let name = if name.contains(':') {
        format!("[{name}]")
    } else {
        name
    };
    Some(format!("{scheme}://{name}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dashboards_own_origin_passes() {
        assert_eq!(
            check(
                Some("http://127.0.0.1:7878"),
                Some("same-origin"),
                Some("127.0.0.1:7878"),
                false,
                &[]
            ),
            Ok(())
        );
        assert_eq!(
            check(
                Some("https://localhost"),
                None,
                Some("localhost:443"),
                true,
                &[]
            ),
            Ok(())
        );
        assert_eq!(
            check(
                Some("http://[::1]:7878"),
                None,
                Some("[::1]:7878"),
                false,
                &[]
            ),
            Ok(())
        );
        // Behind a proxy: the browser's origin is the configured public address.
        assert_eq!(
            check(
                Some("https://berth.example.org"),
                None,
                Some("127.0.0.1:7878"),
                false,
                &["https://berth.example.org/".into()]
            ),
            Ok(())
        );
    }

    #[test]
    fn clients_that_are_not_browsers_pass_to_authentication() {
        assert_eq!(
            check(None, None, Some("127.0.0.1:7878"), false, &[]),
            Ok(())
        );
        assert_eq!(check(None, Some("none"), None, false, &[]), Ok(()));
    }

    #[test]
    fn other_origins_are_refused() {
        for origin in [
            "http://evil.example",
            "http://127.0.0.2:9999",
            "http://127.0.0.1:9999",
            "https://127.0.0.1:7878",
            "null",
            "file://",
            "http://127.0.0.1:7878.evil.example",
        ] {
            assert!(
                matches!(
                    check(Some(origin), None, Some("127.0.0.1:7878"), false, &[]),
                    Err(CrossSite::Origin(_))
                ),
                "{origin}"
            );
        }
    }

    #[test]
    fn fetch_metadata_of_another_site_is_refused_even_without_origin() {
        for site in ["cross-site", "same-site"] {
            assert_eq!(
                check(None, Some(site), Some("127.0.0.1:7878"), false, &[]),
                Err(CrossSite::FetchSite(site.into()))
            );
        }
    }

    #[test]
    fn origins_normalise_default_ports_and_case() {
        assert_eq!(
            normalize_origin("HTTP://LocalHost").as_deref(),
            Some("http://localhost:80")
        );
        assert_eq!(
            normalize_origin("https://x.org:443/").as_deref(),
            Some("https://x.org:443")
        );
        assert_eq!(
            normalize_origin("http://[::1]:8080").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(normalize_origin("null"), None);
        assert_eq!(normalize_origin("ws://x"), None);
    }
}

/// Property tests: any `Origin` is normalised or refused without a panic, normalising is
/// idempotent, and the cross-site check never panics.
#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(256)
        ))]

        #[test]
        fn normalising_is_idempotent(text in any::<String>(), shaped in "(https?|HTTP|ftp)://\\[?[a-zA-Z0-9.:\\-]{0,16}\\]?(:[0-9]{0,6})?/?") {
            for origin in [&text, &shaped] {
                if let Some(normal) = normalize_origin(origin) {
                    prop_assert_eq!(normalize_origin(&normal), Some(normal.clone()));
                    prop_assert!(normal.starts_with("http://") || normal.starts_with("https://"));
                }
            }
        }

        #[test]
        fn the_check_never_panics(origin in any::<Option<String>>(), site in any::<Option<String>>(), host in any::<Option<String>>(), tls in any::<bool>(), trusted in prop::collection::vec(any::<String>(), 0..3)) {
            let _ = check(origin.as_deref(), site.as_deref(), host.as_deref(), tls, &trusted);
        }
    }
}
