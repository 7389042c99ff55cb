//! The buttons that act on one container — Stop and Remove… (with a confirmation) while it
//! runs, Start and Remove otherwise — shared by the list's rows and the container's page; and
//! the read-only hint viewers get in their place.

use crate::model::{ContainerAction, StateView};
use crate::pages::containers::ApplyAction;
use leptos::prelude::*;

/// Asks the user to confirm; outside the browser there is nobody to ask.
fn confirm(message: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        window().confirm_with_message(message).unwrap_or(false)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = message;
        false
    }
}

/// The two buttons for a container in `state`; they dispatch `action` and are disabled while
/// it runs.
#[component]
pub fn ContainerButtons(
    id: String,
    name: String,
    state: StateView,
    action: ServerAction<ApplyAction>,
) -> impl IntoView {
    let busy = move || action.pending().get();
    let run = move |what: ContainerAction| {
        action.dispatch(ApplyAction {
            id: id.clone(),
            action: what,
        });
    };
    if state == StateView::Running {
        let stop = run.clone();
        view! {
            <button
                class="btn"
                data-testid="stop-button"
                disabled=busy
                on:click=move |_| stop(ContainerAction::Stop)
            >
                "Stop"
            </button>
            <button
                class="btn danger"
                data-testid="force-remove-button"
                disabled=busy
                on:click=move |_| {
                    if confirm(&format!("Container {name} is running. Kill and remove it?")) {
                        run(ContainerAction::ForceRemove)
                    }
                }
            >
                "Remove…"
            </button>
        }
        .into_any()
    } else {
        let start = run.clone();
        view! {
            <button
                class="btn"
                data-testid="start-button"
                disabled=busy
                on:click=move |_| start(ContainerAction::Start)
            >
                "Start"
            </button>
            <button
                class="btn danger"
                data-testid="remove-button"
                disabled=busy
                on:click=move |_| run(ContainerAction::Remove)
            >
                "Remove"
            </button>
        }
        .into_any()
    }
}

/// What a viewer sees where the buttons would be.
#[component]
pub fn ReadOnly(#[prop(optional)] class: &'static str) -> impl IntoView {
    view! {
        <span
            class=format!("read-only {class}")
            data-testid="read-only"
            title="Your role lets you look, not start, stop or remove"
        >
            "read-only"
        </span>
    }
}
