//! Who is looking at the dashboard. The server's security layer authenticates each request and
//! leaves a [`Me`] in its extensions (none for an anonymous caller); the page is rendered with it
//! and writes it into two `<meta>` tags of the shell, from which the browser reads it back when
//! it hydrates, so both sides render the same user menu and the same controls.

use berth_wire::auth::{Me, PrincipalKind, Role};
use leptos::prelude::*;

/// The `<meta name=…>` holding the caller as JSON, without its CSRF token.
pub const ME_META: &str = "berth-me";
/// The `<meta name=…>` holding the token a cookie session sends back in [`CSRF_HEADER`].
pub const CSRF_META: &str = "csrf-token";
/// The header the server expects on a cookie session's state changes.
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// The caller of the page, as a context: `None` when anonymous.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caller(pub Option<Me>);

impl Caller {
    pub fn role(&self) -> Option<Role> {
        self.0.as_ref().map(|me| me.role)
    }

    /// Whether the caller may change containers (start, stop, remove): operators and admins.
    /// An anonymous caller may not.
    pub fn can_operate(&self) -> bool {
        self.role().is_some_and(|role| role >= Role::Operator)
    }

    /// The token for the logout form, for a browser session only: a token or the unix socket
    /// has nothing to log out of.
    pub fn logout_csrf(&self) -> Option<String> {
        let me = self.0.as_ref()?;
        (me.kind == PrincipalKind::Session).then(|| me.csrf_token.clone().unwrap_or_default())
    }
}

/// The caller as the page's components see it (provided by [`crate::App`]).
pub fn use_caller() -> Caller {
    use_context::<Caller>().unwrap_or_default()
}

/// What the `berth-me` meta tag holds: the caller without the CSRF token, which has its own tag.
pub fn me_json(me: &Me) -> String {
    let public = Me {
        csrf_token: None,
        ..me.clone()
    };
    serde_json::to_string(&public).unwrap_or_default()
}

/// Reads back what [`me_json`] wrote, with the token from its own tag.
pub fn me_from_meta(json: &str, csrf_token: Option<String>) -> Option<Me> {
    let mut me: Me = serde_json::from_str(json).ok()?;
    me.csrf_token = csrf_token.filter(|t| !t.is_empty());
    Some(me)
}

/// The caller of the request being rendered: a [`Me`] provided as context directly (tests), or
/// the one the security layer left in the request's extensions.
#[cfg(feature = "ssr")]
pub fn current_me() -> Option<Me> {
    use_context::<Me>().or_else(|| {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Me>().cloned())
    })
}

/// The caller the server rendered the page for, read back from the shell's meta tags.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn current_me() -> Option<Me> {
    me_from_meta(&meta_content(ME_META)?, meta_content(CSRF_META))
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
pub fn current_me() -> Option<Me> {
    None
}

/// The `content` of `<meta name="{name}">` in this document.
#[cfg(feature = "hydrate")]
pub(crate) fn meta_content(name: &str) -> Option<String> {
    document()
        .query_selector(&format!("meta[name=\"{name}\"]"))
        .ok()
        .flatten()?
        .get_attribute("content")
}

/// The shell's tags for the caller (nothing when anonymous).
pub fn meta_tags(me: Option<&Me>) -> impl IntoView {
    me.map(|me| {
        let token = me.csrf_token.clone().unwrap_or_default();
        view! {
            <meta name=ME_META content=me_json(me)/>
            <meta name=CSRF_META content=token/>
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(role: Role, kind: PrincipalKind) -> Me {
        Me {
            username: "ada".into(),
            role,
            kind,
            csrf_token: Some("t0k".into()),
            expires_at_ms: Some(5),
        }
    }

    #[test]
    fn only_operators_and_admins_operate() {
        assert!(!Caller(None).can_operate());
        assert!(!Caller(Some(me(Role::Viewer, PrincipalKind::Session))).can_operate());
        assert!(Caller(Some(me(Role::Operator, PrincipalKind::Token))).can_operate());
        assert!(Caller(Some(me(Role::Admin, PrincipalKind::Socket))).can_operate());
    }

    #[test]
    fn only_sessions_log_out() {
        let session = Caller(Some(me(Role::Viewer, PrincipalKind::Session)));
        assert_eq!(session.logout_csrf().as_deref(), Some("t0k"));
        assert_eq!(
            Caller(Some(me(Role::Admin, PrincipalKind::Token))).logout_csrf(),
            None
        );
        assert_eq!(Caller(None).logout_csrf(), None);
    }

    #[test]
    fn the_meta_json_leaves_the_token_out_and_reads_back_with_it() {
        let original = me(Role::Operator, PrincipalKind::Session);
        let json = me_json(&original);
        assert!(!json.contains("t0k"), "{json}");
        assert_eq!(me_from_meta(&json, Some("t0k".into())), Some(original));
        let back = me_from_meta(&json, Some(String::new())).expect("a caller");
        assert_eq!(back.csrf_token, None);
        assert_eq!(me_from_meta("garbage", None), None);
    }
}
