//! berth's web dashboard: the HTML shell, the routes and the pages, rendered on the server
//! (feature `ssr`) and hydrated in the browser (feature `hydrate`, built for wasm32).

// The pages' view trees are deep types; the default limit (128) is too low for the overview.
#![recursion_limit = "256"]

pub mod auth;
pub mod csrf;
pub mod format;
#[cfg(feature = "hydrate")]
mod js;
pub mod layout;
pub mod listing;
#[cfg(feature = "hydrate")]
mod live;
#[cfg(feature = "hydrate")]
mod live_board;
#[cfg(feature = "hydrate")]
mod live_events;
pub mod live_state;
#[cfg(feature = "hydrate")]
mod live_stats;
#[cfg(feature = "hydrate")]
mod live_terminal;
pub mod logbuf;
pub mod model;
pub mod pages;
pub mod progress;
pub mod run_form;
pub mod shell_words;
#[cfg(feature = "hydrate")]
mod socket;
pub mod stats_series;
pub mod terminal_session;
#[cfg(feature = "hydrate")]
mod transfer;

use auth::Caller;
use layout::{Frame, HOST_META};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::audit::AuditLogPage;
use pages::board::BoardPage;
use pages::board_links::BoardLinksPage;
use pages::container::ContainerPage;
use pages::containers::ContainersPage;
use pages::events::EventsPageView;
use pages::image::ImagePage;
use pages::images::ImagesPage;
use pages::login::{LoginPage, SetupPage};
use pages::networks::NetworksPage;
use pages::overview::OverviewPage;
use pages::registries::RegistriesPage;
use pages::run::RunPage;
use pages::volume::VolumePage;
use pages::volumes::VolumesPage;
use pages::NotFound;

/// The name wasm-bindgen gives the browser bundle: `/pkg/berth.js` and `/pkg/berth_bg.wasm`.
pub const OUTPUT_NAME: &str = "berth";

/// The whole HTML document around [`App`], as the server sends it, with the caller's meta tags
/// (see [`auth`]).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let me = auth::current_me();
    let host = layout::current_host().0;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href="/berth.css"/>
                <link rel="icon" href="data:,"/>
                <meta name=HOST_META content=host/>
                {auth::meta_tags(me.as_ref())}
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_context(Caller(auth::current_me()));
    provide_context(layout::current_host());
    view! {
        <Title text="berth"/>
        <Router>
            <Frame>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=OverviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage/>
                    <Route path=path!("/setup") view=SetupPage/>
                    // Async: the whole page is rendered before the response starts, so its
                    // status (404 for an unknown container) can still be set.
                    <Route path=path!("/containers") view=ContainersPage ssr=SsrMode::Async/>
                    <Route path=path!("/board/:secret") view=BoardPage ssr=SsrMode::Async/>
                    <Route path=path!("/images") view=ImagesPage ssr=SsrMode::Async/>
                    <Route path=path!("/images/:id") view=ImagePage ssr=SsrMode::Async/>
                    <Route path=path!("/run") view=RunPage ssr=SsrMode::Async/>
                    <Route path=path!("/events") view=EventsPageView ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/boards") view=BoardLinksPage ssr=SsrMode::Async/>
                    <Route path=path!("/volumes") view=VolumesPage ssr=SsrMode::Async/>
                    <Route path=path!("/volumes/:name") view=VolumePage ssr=SsrMode::Async/>
                    <Route path=path!("/networks") view=NetworksPage ssr=SsrMode::Async/>
                    <Route path=path!("/registries") view=RegistriesPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/containers/:id")
                        view=ContainerPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </Frame>
        </Router>
    }
}

/// The browser entry point: takes over the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A marker for tests and tools: the page is interactive from here on.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use berth_wire::auth::{Me, PrincipalKind, Role};
    use leptos_router::location::RequestUrl;

    /// The app's HTML for one address, as the server renders it for `me`.
    fn render(url: &str, me: Option<Me>) -> String {
        let owner = Owner::new();
        owner.with(|| {
            provide_context(RequestUrl::new(url));
            if let Some(me) = me {
                provide_context(me);
            }
            view! { <App/> }.to_html()
        })
    }

    fn me(role: Role, kind: PrincipalKind) -> Me {
        Me {
            username: "ada".into(),
            role,
            kind,
            csrf_token: Some("c5rf".into()),
            expires_at_ms: None,
        }
    }

    #[test]
    fn the_login_page_is_a_form_without_chrome_and_says_what_went_wrong() {
        let html = render(
            "/login?error=bad_credentials&next=%2Fcontainers%2Fabc",
            None,
        );
        assert!(!html.contains("sidebar"), "{html}");
        assert!(html.contains(r#"method="post" action="/login""#), "{html}");
        assert!(
            html.contains(r#"name="next" value="/containers/abc""#),
            "{html}"
        );
        assert!(html.contains(r#"autocomplete="username""#), "{html}");
        assert!(
            html.contains(r#"autocomplete="current-password""#),
            "{html}"
        );
        assert!(html.contains("Wrong user name or password."), "{html}");
        let html = render("/login?error=rate_limited", None);
        assert!(html.contains("wait a few minutes"), "{html}");
        assert!(html.contains(r#"name="next" value="/""#), "{html}");
        let html = render("/login", None);
        assert!(!html.contains("auth-error"), "{html}");
    }

    #[test]
    fn the_setup_page_carries_the_token_and_its_errors() {
        let html = render("/setup?token=s3cret&error=mismatch", None);
        assert!(!html.contains("sidebar"), "{html}");
        assert!(html.contains("Create the first admin"), "{html}");
        assert!(html.contains(r#"name="token" value="s3cret""#), "{html}");
        assert!(html.contains(r#"value="admin""#), "{html}");
        assert!(html.contains(r#"name="confirm""#), "{html}");
        assert!(html.contains("passwords differ"), "{html}");
        let html = render("/setup", None);
        assert!(html.contains("setup-no-token"), "{html}");
    }

    #[test]
    fn the_sidebar_shows_the_user_role_and_a_logout_form_for_sessions() {
        let html = render("/nowhere", Some(me(Role::Viewer, PrincipalKind::Session)));
        assert!(html.contains(r#"data-testid="sidebar""#), "{html}");
        assert!(html.contains(r#"data-testid="user-name""#), "{html}");
        assert!(html.contains(">ada<"), "{html}");
        assert!(html.contains("role role-viewer"), "{html}");
        assert!(html.contains(r#"action="/logout""#), "{html}");
        assert!(html.contains(r#"name="csrf" value="c5rf""#), "{html}");

        let html = render("/nowhere", Some(me(Role::Admin, PrincipalKind::Token)));
        assert!(html.contains("role role-admin"), "{html}");
        assert!(
            !html.contains("/logout"),
            "a token has nothing to log out of: {html}"
        );

        let html = render("/nowhere", None);
        assert!(!html.contains("user-menu"), "{html}");
    }

    #[test]
    fn the_shell_carries_the_caller_and_the_csrf_token() {
        let owner = Owner::new();
        let html = owner.with(|| {
            provide_context(RequestUrl::new("/nowhere"));
            provide_context(me(Role::Operator, PrincipalKind::Session));
            let options = LeptosOptions::builder().output_name(OUTPUT_NAME).build();
            shell(options).to_html()
        });
        assert!(
            html.contains(r#"<meta name="csrf-token" content="c5rf">"#),
            "{html}"
        );
        assert!(html.contains(r#"<meta name="berth-me""#), "{html}");
        let json_start = html.find(r#"name="berth-me" content=""#).expect("me tag") + 25;
        let json_end = json_start + html[json_start..].find('"').expect("end of the attribute");
        // Attribute-escaped JSON, without the token.
        assert!(!html[json_start..json_end].contains("c5rf"), "{html}");
        assert!(
            html[json_start..json_end].contains("&quot;operator&quot;"),
            "{html}"
        );
    }
}
