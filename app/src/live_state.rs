//! The app's one live connection to the daemon's events, as a context every page reads: a
//! counter bumped after each burst of events (a page refetches what it shows when it moves)
//! and the connection's state for the sidebar. Opened once per tab by the frame, in the
//! browser only; the server renders the state as [`ConnState::Static`], which the browser also
//! starts from so that hydration sees the same text.

use leptos::prelude::*;

/// Where the live connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnState {
    /// Rendered on the server, or before the browser has opened it.
    Static,
    Connecting,
    Live,
    /// Dropped; it opens again by itself.
    Reconnecting,
}

impl ConnState {
    /// The class suffix and the test's word.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::Static => "static",
            ConnState::Connecting => "connecting",
            ConnState::Live => "live",
            ConnState::Reconnecting => "reconnecting",
        }
    }
}

/// The context: see the module's comment.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Bumped after each burst of the daemon's events, and after a reconnect (what happened
    /// meanwhile is in the next fetch).
    pub changes: RwSignal<u64>,
    pub state: RwSignal<ConnState>,
}

/// Provides the context and, in the browser, opens the connection (closed with the frame).
pub fn provide_live() {
    let live = Live {
        changes: RwSignal::new(0),
        state: RwSignal::new(ConnState::Static),
    };
    provide_context(live);
    // Only for a logged-in caller: the login, setup and board pages have nothing to follow
    // there (a board follows its own link's socket).
    #[cfg(feature = "hydrate")]
    if crate::auth::use_caller().0.is_some() {
        let conn = StoredValue::new_local(None::<crate::live_events::LiveEvents>);
        Effect::new(move |_| {
            if conn.with_value(Option::is_none) {
                live.state.set(ConnState::Connecting);
                match crate::live_events::connect(live.changes, live.state) {
                    Ok(l) => conn.set_value(Some(l)),
                    Err(e) => {
                        live.state.set(ConnState::Reconnecting);
                        leptos::logging::warn!("{e}");
                    }
                }
            }
        });
        on_cleanup(move || {
            if let Some(l) = conn.try_update_value(Option::take).flatten() {
                l.close();
            }
        });
    }
}

/// The context provided by the frame (a still one outside it, e.g. in tests).
pub fn use_live() -> Live {
    use_context::<Live>().unwrap_or_else(|| Live {
        changes: RwSignal::new(0),
        state: RwSignal::new(ConnState::Static),
    })
}
