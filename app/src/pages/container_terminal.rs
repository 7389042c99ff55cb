//! A container's Terminal tab (operators and admins): a command (a shell by default) with a
//! TTY in the running container, in an xterm.js terminal that fills the tab and follows its
//! size; the command and user fields and a Connect / Reconnect button; the connection's state
//! and the command's exit code. Viewers get a note instead of any control (and the daemon
//! refuses their terminal subscriptions anyway).

use crate::auth::use_caller;
use crate::terminal_session::{TermStatus, DEFAULT_COMMAND};
use leptos::html::Div;
use leptos::prelude::*;

#[component]
pub fn TerminalTab(id: String, running: Signal<bool>) -> impl IntoView {
    if !use_caller().can_operate() {
        return view! {
            <section class="panel term-panel" data-testid="terminal-read-only">
                <p class="term-note">
                    "Opening a terminal runs a command in the container, which needs the operator role. "
                    "Ask an admin for it, or use the Logs and Stats tabs."
                </p>
            </section>
        }
        .into_any();
    }
    let command = RwSignal::new(DEFAULT_COMMAND.to_string());
    let user = RwSignal::new(String::new());
    let status = RwSignal::new(TermStatus::Idle);
    let form_error = RwSignal::new(None::<String>);
    let box_ref = NodeRef::<Div>::new();

    #[cfg(feature = "hydrate")]
    let connect = live(id, running, command, user, status, form_error, box_ref);
    #[cfg(not(feature = "hydrate"))]
    let connect = {
        let _ = (id, form_error);
        move || {}
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        connect();
    };
    let label = move || match status.get() {
        TermStatus::Idle => "Connect",
        TermStatus::Connecting => "Connecting…",
        TermStatus::Live => "Connected",
        _ => "Reconnect",
    };
    view! {
        <section class="panel term-panel" data-testid="terminal-tab">
            <form class="term-bar" on:submit=on_submit data-testid="terminal-form">
                <label class="term-field term-command">
                    <span>"Command"</span>
                    <input
                        type="text"
                        name="command"
                        spellcheck="false"
                        autocomplete="off"
                        data-testid="terminal-command"
                        bind:value=command
                    />
                </label>
                <label class="term-field term-user">
                    <span>"User"</span>
                    <input
                        type="text"
                        name="user"
                        spellcheck="false"
                        autocomplete="off"
                        placeholder="image default"
                        data-testid="terminal-user"
                        bind:value=user
                    />
                </label>
                <button
                    type="submit"
                    class="btn primary"
                    data-testid="terminal-connect"
                    disabled=move || !running.get() || !status.with(TermStatus::can_connect)
                >
                    {label}
                </button>
                <span
                    class=move || format!("log-status log-{}", status.with(TermStatus::kind))
                    data-testid="terminal-status"
                    role="status"
                >
                    {move || status.with(TermStatus::text)}
                </span>
            </form>
            {move || form_error.get().map(|e| view! {
                <p class="error" role="alert" data-testid="terminal-error">{e}</p>
            })}
            {move || (!running.get()).then(|| view! {
                <p class="term-note" data-testid="terminal-not-running">
                    "The container is not running. Start it to open a terminal."
                </p>
            })}
            <div class="terminal" node_ref=box_ref data-testid="terminal">
                <noscript>
                    <p class="term-note">"The terminal needs JavaScript."</p>
                </noscript>
            </div>
        </section>
    }
    .into_any()
}

/// The browser's part: the terminal (once the bundle is there), connected at once while the
/// container runs; the returned closure (re)connects with the fields as they are.
#[cfg(feature = "hydrate")]
fn live(
    id: String,
    running: Signal<bool>,
    command: RwSignal<String>,
    user: RwSignal<String>,
    status: RwSignal<TermStatus>,
    form_error: RwSignal<Option<String>>,
    box_ref: NodeRef<Div>,
) -> impl Fn() + Copy + 'static {
    use crate::live_terminal::LiveTerminal;
    use crate::terminal_session::Session;
    use wasm_bindgen::JsCast;

    let term = StoredValue::new_local(None::<LiveTerminal>);
    let id = StoredValue::new(id);
    let connect = move || {
        if !running.get_untracked() {
            return;
        }
        let session = Session::new(
            &id.get_value(),
            &command.get_untracked(),
            &user.get_untracked(),
        );
        match session {
            Ok(session) => {
                form_error.set(None);
                term.with_value(|t| {
                    if let Some(t) = t {
                        t.connect(session);
                    }
                });
            }
            Err(e) => form_error.set(Some(e)),
        }
    };
    Effect::new(move |_| {
        let Some(el) = box_ref.get() else { return };
        crate::js::load(move |loaded| {
            let opened = loaded.and_then(|()| {
                let el: web_sys::HtmlElement = el.unchecked_into();
                LiveTerminal::open(&el, status)
            });
            match opened {
                Ok(t) => {
                    if let Some(Some(t)) = term.try_set_value(Some(t)) {
                        // The tab went while the bundle loaded.
                        t.close();
                        return;
                    }
                    connect();
                }
                Err(e) => {
                    let _ = status.try_set(TermStatus::Failed(e));
                }
            }
        });
    });
    on_cleanup(move || {
        if let Some(t) = term.try_update_value(Option::take).flatten() {
            t.close();
        }
    });
    connect
}
