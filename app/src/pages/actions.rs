//! The buttons that act on one container — Stop and Remove… (with a confirmation) while it
//! runs, Start and Remove otherwise — shared by the list's rows and the container's page; the
//! read-only hint viewers get in their place; and what every page's actions share: the
//! confirmation and the line that says what an action did.

use crate::model::{AppError, ContainerAction, ContainerState};
use crate::pages::containers::ApplyAction;
use leptos::prelude::*;

/// Asks the user to confirm; outside the browser there is nobody to ask.
pub(crate) fn confirm(message: &str) -> bool {
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

/// Copies `text` to the clipboard (in the browser) and sets `copied` once it is there.
pub fn copy_text(text: String, copied: RwSignal<bool>) {
    #[cfg(feature = "hydrate")]
    {
        let promise = window().navigator().clipboard().write_text(&text);
        leptos::task::spawn_local(async move {
            if wasm_bindgen_futures::JsFuture::from(promise).await.is_ok() {
                copied.set(true);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, copied);
}

/// What a page's last action answered: its text as a notice, or its error as an alert.
#[component]
pub fn ActionNotice(
    #[prop(into)] value: Signal<Option<Result<String, AppError>>>,
) -> impl IntoView {
    move || {
        value.get().map(|r| match r {
            Ok(text) => {
                view! { <p class="notice" role="status" data-testid="action-done">{text}</p> }
                    .into_any()
            }
            Err(e) => view! {
                <p class="error" role="alert" data-testid="action-error">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    }
}

/// The two buttons for a container in `state`; they dispatch `action` and are disabled while
/// it runs.
#[component]
pub fn ContainerButtons(
    id: String,
    name: String,
    state: ContainerState,
    action: ServerAction<ApplyAction>,
) -> impl IntoView {
    let busy = move || action.pending().get();
    let run = move |what: ContainerAction| {
        action.dispatch(ApplyAction {
            id: id.clone(),
            action: what,
        });
    };
    let running = state == ContainerState::Running;
    // A running container is stopped, or killed and removed after a confirmation; any other
    // is started, or removed.
    let (first, first_label, first_id) = match running {
        true => (ContainerAction::Stop, "Stop", "stop-button"),
        false => (ContainerAction::Start, "Start", "start-button"),
    };
    let (removal, removal_label, removal_id) = match running {
        true => (
            ContainerAction::ForceRemove,
            "Remove…",
            "force-remove-button",
        ),
        false => (ContainerAction::Remove, "Remove", "remove-button"),
    };
    let ask = running.then(|| format!("Container {name} is running. Kill and remove it?"));
    let run_first = run.clone();
    view! {
        <button
            class="btn"
            data-testid=first_id
            disabled=busy
            on:click=move |_| run_first(first)
        >
            {first_label}
        </button>
        <button
            class="btn danger"
            data-testid=removal_id
            disabled=busy
            on:click=move |_| {
                if ask.as_deref().is_none_or(confirm) {
                    run(removal)
                }
            }
        >
            {removal_label}
        </button>
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
