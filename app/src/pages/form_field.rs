//! A labelled one-line text field of the small inline forms (create a volume, a network):
//! monospace, no autocomplete or spell check, bound to a string signal.

use leptos::prelude::*;

#[component]
pub fn InlineField(
    id: &'static str,
    label: &'static str,
    placeholder: &'static str,
    testid: &'static str,
    value: RwSignal<String>,
    /// Takes the row's free width.
    #[prop(optional)]
    grow: bool,
) -> impl IntoView {
    view! {
        <div class=if grow { "field grow" } else { "field" }>
            <label for=id>{label}</label>
            <input
                id=id
                type="text"
                class="mono"
                placeholder=placeholder
                autocomplete="off"
                spellcheck="false"
                data-testid=testid
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </div>
    }
}
