//! The progress panel of a pull or push, shared by the images and registries pages: the
//! overall state and summary, then one bar per layer with its status, bytes done of total
//! and speed; a failure in words a user can act on, with the daemon's message beneath.

use crate::progress::{format_bytes, format_speed, LayerBar, Phase, Transfer, Verb};
use leptos::prelude::*;

/// Starts a pull of `reference` into `state` (in the browser; on the server it does nothing:
/// nothing is pulled while a page renders).
pub fn start_pull(reference: String, state: RwSignal<Option<Transfer>>) {
    #[cfg(feature = "hydrate")]
    crate::transfer::start(
        crate::transfer::pull_url(&reference),
        Verb::Pull,
        reference,
        state,
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (reference, state);
}

/// Starts a push of `reference` (with its tag) into `state`.
pub fn start_push(reference: String, state: RwSignal<Option<Transfer>>) {
    #[cfg(feature = "hydrate")]
    crate::transfer::start(
        crate::transfer::push_url(&reference),
        Verb::Push,
        reference,
        state,
    );
    #[cfg(not(feature = "hydrate"))]
    let _ = (reference, state);
}

/// The panel; empty while nothing is watched. `on_done` runs once when a transfer finishes
/// well (the images list reloads).
#[component]
pub fn TransferView(
    state: RwSignal<Option<Transfer>>,
    #[prop(optional, into)] on_done: Option<Callback<()>>,
) -> impl IntoView {
    let finished = Memo::new(move |_| {
        state.with(|t| {
            t.as_ref()
                .is_some_and(|t| matches!(t.phase, Phase::Done(_)))
        })
    });
    Effect::new(move |_| {
        if finished.get() {
            if let Some(done) = on_done {
                done.run(());
            }
        }
    });
    move || {
        state.with(|t| {
            t.as_ref().map(|t| {
                let (word, class) = match &t.phase {
                    Phase::Running => (
                        match t.verb {
                            Verb::Pull => "pulling",
                            Verb::Push => "pushing",
                        },
                        "xfer-running",
                    ),
                    Phase::Done(_) => ("done", "xfer-done"),
                    Phase::Failed(_) => ("failed", "xfer-failed"),
                };
                let outcome = match &t.phase {
                    Phase::Running => None,
                    Phase::Done(text) => Some(
                        view! { <p class="xfer-outcome" data-testid="transfer-done">{text.clone()}</p> }
                            .into_any(),
                    ),
                    Phase::Failed(f) => Some(
                        view! {
                            <div class="error xfer-error" role="alert" data-testid="transfer-error">
                                <p class="xfer-headline">{f.headline.clone()}</p>
                                <p class="mono small xfer-detail">{f.detail.clone()}</p>
                            </div>
                        }
                            .into_any(),
                    ),
                };
                let layers = t
                    .layers
                    .iter()
                    .map(|l| view! { <LayerRow bar=l.clone()/> })
                    .collect_view();
                view! {
                    <section
                        class="xfer"
                        data-testid="transfer"
                        data-state=word
                        aria-live="polite"
                        aria-label=format!("{} of {}", t.verb.as_str(), t.reference)
                    >
                        <div class="xfer-head">
                            <span class=format!("xfer-state {class}") data-testid="transfer-state">
                                {word}
                            </span>
                            <span class="mono xfer-ref" title=t.reference.clone()>
                                {t.reference.clone()}
                            </span>
                            <span class="muted xfer-summary" data-testid="transfer-summary">
                                {t.summary()}
                            </span>
                        </div>
                        {outcome}
                        <ul class="xfer-layers" data-testid="transfer-layers">{layers}</ul>
                    </section>
                }
            })
        })
    }
}

#[component]
fn LayerRow(bar: LayerBar) -> impl IntoView {
    let bytes = if bar.total > 0 {
        format!(
            "{} / {}",
            format_bytes(bar.current as i64),
            format_bytes(bar.total as i64)
        )
    } else {
        String::new()
    };
    let speed = match (bar.finished, bar.bytes_per_s) {
        (false, Some(s)) => format_speed(s),
        _ => String::new(),
    };
    let percent = bar.percent();
    let class = if bar.finished {
        "xfer-bar xfer-bar-done"
    } else {
        "xfer-bar"
    };
    view! {
        <li class="xfer-layer" data-testid="transfer-layer" data-layer=bar.id.clone()>
            <span class="mono xfer-id">{bar.id.clone()}</span>
            <span class="xfer-status" data-testid="layer-status">{bar.status.clone()}</span>
            <span
                class="xfer-track"
                role="progressbar"
                aria-valuemin="0"
                aria-valuemax="100"
                aria-valuenow=format!("{percent:.0}")
            >
                <span class=class style=format!("width: {percent:.1}%")></span>
            </span>
            <span class="num xfer-bytes" data-testid="layer-bytes">{bytes}</span>
            <span class="num xfer-speed">{speed}</span>
        </li>
    }
}
