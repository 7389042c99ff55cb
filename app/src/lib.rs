//! berth's web dashboard: the HTML shell, the routes and the pages, rendered on the server
//! (feature `ssr`) and hydrated in the browser (feature `hydrate`, built for wasm32).

pub mod format;
#[cfg(feature = "hydrate")]
mod live;
pub mod logbuf;
pub mod model;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::container::ContainerPage;
use pages::containers::ContainersPage;
use pages::NotFound;

/// The name wasm-bindgen gives the browser bundle: `/pkg/berth.js` and `/pkg/berth_bg.wasm`.
pub const OUTPUT_NAME: &str = "berth";

/// The whole HTML document around [`App`], as the server sends it.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="stylesheet" href="/berth.css"/>
                <link rel="icon" href="data:,"/>
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
    view! {
        <Title text="berth"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/containers">"berth"</a>
                <nav>
                    <a href="/containers">"Containers"</a>
                </nav>
            </header>
            <main class="content">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/containers"/> }/>
                    // Async: the whole page is rendered before the response starts, so its
                    // status (404 for an unknown container) can still be set.
                    <Route path=path!("/containers") view=ContainersPage ssr=SsrMode::Async/>
                    <Route
                        path=path!("/containers/:id")
                        view=ContainerPage
                        ssr=SsrMode::Async
                    />
                </Routes>
            </main>
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
