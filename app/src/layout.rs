//! The dashboard's frame around every page: a sidebar with the sections, the host's name, the
//! live connection's state and the user menu; at phone width a bar with a menu button that
//! folds the sidebar out (a checkbox, so it works before and without hydration). The login,
//! setup and board pages get none of it.

use crate::auth::use_caller;
use crate::live_state::{provide_live, use_live, ConnState};
use berth_wire::auth::Role;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// One section of the sidebar.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    /// The role it takes to open it.
    pub role: Role,
}

/// The sidebar's sections, in order; each is shown only to callers whose role may open it.
pub const NAV: &[NavItem] = &[
    NavItem {
        href: "/",
        label: "Overview",
        role: Role::Viewer,
    },
    NavItem {
        href: "/containers",
        label: "Containers",
        role: Role::Viewer,
    },
    NavItem {
        href: "/images",
        label: "Images",
        role: Role::Viewer,
    },
    NavItem {
        href: "/volumes",
        label: "Volumes",
        role: Role::Viewer,
    },
    NavItem {
        href: "/networks",
        label: "Networks",
        role: Role::Viewer,
    },
    NavItem {
        href: "/registries",
        label: "Registries",
        role: Role::Viewer,
    },
    NavItem {
        href: "/events",
        label: "Events",
        role: Role::Viewer,
    },
    NavItem {
        href: "/boards",
        label: "Board links",
        role: Role::Admin,
    },
    NavItem {
        href: "/audit",
        label: "Audit log",
        role: Role::Admin,
    },
];

/// Pages shown without the app's chrome: the ones for people who are not logged in (yet), and
/// the wall screens of board links.
pub fn is_bare(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "/login" | "/setup") || path.starts_with("/board/")
}

/// The host's name, as the server rendered it (read back from the shell's meta tag in the
/// browser, so both sides render the same).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostName(pub String);

/// The `<meta name=…>` holding the host's name.
pub const HOST_META: &str = "berth-host";

/// The name of the machine the page is rendered on.
#[cfg(feature = "ssr")]
pub fn current_host() -> HostName {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    HostName(name.trim().to_string())
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
pub fn current_host() -> HostName {
    HostName(crate::auth::meta_content(HOST_META).unwrap_or_default())
}

#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
pub fn current_host() -> HostName {
    HostName::default()
}

/// The host name the browser reached the dashboard by, for links to published ports: the
/// request's `Host` on the server, the address bar's in the browser (the same name, without
/// the port; an IPv6 literal keeps its brackets).
pub fn use_page_host() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                let host = parts.headers.get(axum::http::header::HOST)?.to_str().ok()?;
                Some(strip_port(host).to_string())
            })
            .unwrap_or_else(|| "localhost".to_string())
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        window()
            .location()
            .hostname()
            .unwrap_or_else(|_| "localhost".to_string())
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        "localhost".to_string()
    }
}

/// `host:port` → `host`; `[::1]:7878` → `[::1]`.
pub fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    host.split(':').next().unwrap_or(host)
}

/// The chrome around a page.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    let location = use_location();
    let bare = move || location.pathname.with(|p| is_bare(p));
    provide_live();
    // The phone menu closes when the page changes.
    let menu_open = RwSignal::new(false);
    Effect::new(move |_| {
        location.pathname.track();
        menu_open.set(false);
    });
    view! {
        <Show when=move || !bare()>
            <input
                type="checkbox"
                id="nav-toggle"
                class="nav-toggle"
                aria-hidden="true"
                tabindex="-1"
                prop:checked=move || menu_open.get()
                on:change=move |ev| menu_open.set(event_target_checked(&ev))
            />
            <header class="phonebar">
                <label for="nav-toggle" class="menu-button" data-testid="menu-button">
                    <span class="menu-icon" aria-hidden="true"></span>
                    "Menu"
                </label>
                <a class="brand" href="/">"berth"</a>
                <Connection/>
            </header>
            <Sidebar/>
        </Show>
        <main class=move || if bare() { "bare" } else { "content" }>{children()}</main>
    }
}

#[component]
fn Sidebar() -> impl IntoView {
    let caller = use_caller();
    let role = caller.role();
    let host = use_context::<HostName>().unwrap_or_default().0;
    let links = NAV
        .iter()
        .filter(|item| role.is_some_and(|r| r >= item.role))
        .map(|item| {
            view! {
                <A href=item.href exact={item.href == "/"} attr:class="nav-link">
                    {item.label}
                </A>
            }
        })
        .collect_view();
    view! {
        <aside class="sidebar" data-testid="sidebar">
            <div class="side-head">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true"></span>
                    "berth"
                </a>
                <div class="side-host" title="This host" data-testid="host-name">{host}</div>
                <Connection/>
            </div>
            <nav class="side-nav" aria-label="Sections">{links}</nav>
            <UserMenu/>
        </aside>
    }
}

/// The live connection's state: the word and a dot, so colour is never the only signal.
#[component]
fn Connection() -> impl IntoView {
    let live = use_live();
    let class = move || format!("conn conn-{}", live.state.get().as_str());
    view! {
        <span class=class data-testid="connection" title=move || live.state.get().hint()>
            <span class="conn-dot" aria-hidden="true"></span>
            {move || live.state.get().label()}
        </span>
    }
}

/// Who is logged in, with which role, and the way out (for a browser session).
#[component]
fn UserMenu() -> impl IntoView {
    let caller = use_caller();
    let csrf = caller.logout_csrf();
    caller.0.map(|me| {
        let role = me.role.as_str();
        view! {
            <div class="user-menu" data-testid="user-menu">
                <span class="user-avatar" aria-hidden="true">
                    {me.username.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()}
                </span>
                <span class="user-name" data-testid="user-name" title=format!("Logged in as {}", me.username)>
                    {me.username.clone()}
                </span>
                <span class=format!("role role-{role}") data-testid="user-role" title=format!("Role: {role}")>
                    {role}
                </span>
                {csrf.map(|token| view! {
                    <form class="logout" method="post" action="/logout">
                        <input type="hidden" name="csrf" value=token/>
                        <button type="submit" class="btn-quiet" data-testid="logout-button">
                            "Log out"
                        </button>
                    </form>
                })}
            </div>
        }
    })
}

impl ConnState {
    /// The word shown.
    pub fn label(self) -> &'static str {
        match self {
            ConnState::Connecting => "connecting",
            ConnState::Live => "live",
            ConnState::Reconnecting => "reconnecting",
            ConnState::Static => "static",
        }
    }

    /// What it means, on hover.
    pub fn hint(self) -> &'static str {
        match self {
            ConnState::Connecting => "Connecting to the daemon's live updates",
            ConnState::Live => "Live: changes made anywhere show up here",
            ConnState::Reconnecting => "The live connection dropped; connecting again by itself",
            ConnState::Static => "Without JavaScript this page shows what it was when loaded",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_host_loses_its_port_but_keeps_ipv6_brackets() {
        assert_eq!(strip_port("127.0.0.1:7878"), "127.0.0.1");
        assert_eq!(strip_port("berth.example"), "berth.example");
        assert_eq!(strip_port("[::1]:7878"), "[::1]");
        assert_eq!(strip_port("[::1]"), "[::1]");
    }

    #[test]
    fn bare_pages_are_login_setup_and_boards() {
        assert!(is_bare("/login"));
        assert!(is_bare("/setup/"));
        assert!(is_bare("/board/abc"));
        assert!(!is_bare("/"));
        assert!(!is_bare("/containers"));
    }
}
