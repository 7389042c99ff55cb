//! The dashboard's pages, one module each, plus the page for unknown addresses.

pub mod actions;
pub mod audit;
pub mod board;
pub mod board_links;
pub mod container;
pub mod container_info;
pub mod container_stats;
pub mod container_tabs;
pub mod container_terminal;
pub mod containers;
pub mod events;
pub mod form_field;
pub mod image;
pub mod images;
pub mod json_tree;
pub mod login;
pub mod networks;
pub mod overview;
pub mod registries;
pub mod run;
pub mod state_badge;
pub mod table;
pub mod transfer_view;
pub mod volume;
pub mod volumes;

use leptos::prelude::*;
use leptos_meta::Title;

/// Sets the HTTP status of the page being rendered on the server.
#[cfg(feature = "ssr")]
pub(crate) fn set_status(code: u16) {
    if let (Some(response), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::StatusCode::from_u16(code),
    ) {
        response.set_status(status);
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_status(404);
    view! {
        <Title text="Not found · berth"/>
        <h1>"Page not found"</h1>
        <p data-testid="not-found">
            "There is nothing at this address. " <a href="/">"Go to the overview"</a> "."
        </p>
    }
}
