//! A container's page: its details and its log, followed live over the log WebSocket.

use crate::auth::use_caller;
use crate::format::{format_utc, log_clock};
use crate::live_state::use_live;
use crate::logbuf::{LogBuffer, LogLine, LogStatus};
use crate::model::{exit_text, AppError, ContainerAction, ContainerState, ContainerSummary};
use crate::pages::actions::{ContainerButtons, ReadOnly};
use crate::pages::container_tabs::ContainerTabs;
use crate::pages::containers::ApplyAction;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

/// One container by id, unique id prefix or name. A GET: reading needs no CSRF token.
#[server(prefix = "/ui/fn", endpoint = "get_container", input = GetUrl)]
pub async fn get_container(id: String) -> Result<ContainerSummary, AppError> {
    let engine = crate::model::engine()?;
    Ok(engine.containers().container(&id).await?)
}

#[component]
pub fn ContainerPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let action = ServerAction::<ApplyAction>::new();
    let live = use_live();
    // The page's structure (and its log) for the id; its details read again after each
    // action and each burst of the daemon's events, so the header follows changes made
    // anywhere (an exit's finish time, a restart) without rebuilding the log.
    let info = Resource::new(id, get_container);
    let fresh = Resource::new(
        move || (id(), action.version().get(), live.changes.get()),
        |(id, ..)| get_container(id),
    );
    // A removed container has no page any more: back to the list.
    let navigate = use_navigate();
    Effect::new(move |_| {
        let removed = action.input().with_untracked(|i| {
            i.as_ref().is_some_and(|i| {
                matches!(
                    i.action,
                    ContainerAction::Remove | ContainerAction::ForceRemove
                )
            })
        });
        if matches!(action.value().get(), Some(Ok(()))) && removed {
            navigate("/containers", Default::default());
        }
    });

    view! {
        <p class="crumbs">
            <a href="/containers">"← Containers"</a>
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading container…"</p> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(c) => view! { <ContainerDetails c fresh action/> }.into_any(),
                    Err(AppError::NotFound(message)) => {
                        #[cfg(feature = "ssr")]
                        crate::pages::set_status(404);
                        view! {
                            <Title text="Not found · berth"/>
                            <h1>"No such container"</h1>
                            <p class="error" data-testid="container-error">{message}</p>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="container-error">
                                {format!("cannot load the container: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn ContainerDetails(
    c: ContainerSummary,
    fresh: Resource<Result<ContainerSummary, AppError>>,
    action: ServerAction<ApplyAction>,
) -> impl IntoView {
    let status = RwSignal::new(LogStatus::Connecting);
    let first = c.clone();
    // The latest details read (the first ones until another arrives).
    let now = Memo::new(move |_| {
        fresh
            .get()
            .and_then(Result::ok)
            .unwrap_or_else(|| first.clone())
    });
    // The log saw the exit: read the details again for its finish time. The events socket
    // may have opened after the `die` event (a container that exits while the page loads),
    // and the engine writes the exit before the log's end is sent.
    Effect::new(move |_| {
        if matches!(status.get(), LogStatus::Exited(_)) {
            fresh.refetch();
        }
    });
    // Once the log says the container exited, the header says so too, without a reload.
    let exited = move || match status.get() {
        LogStatus::Exited(code) => Some(code),
        _ => None,
    };
    // The exit the log saw wins over details read before it, of the run the log followed (a
    // restart policy's next run has a later start and is shown as it is).
    let log_run = c.started_at_ms;
    let stale = move |c: &ContainerSummary| {
        c.state == ContainerState::Running && c.started_at_ms == log_run
    };
    let state = move || {
        let c = now.get();
        match exited() {
            Some(_) if stale(&c) => ContainerState::Exited,
            _ => c.state,
        }
    };
    let exit_code = move || {
        let c = now.get();
        match exited() {
            Some(code) if stale(&c) => exit_text(Some(code), false),
            _ => exit_text(c.exit_code, c.oom_killed),
        }
    };
    let when = |t: Option<i64>| t.map_or_else(|| "—".to_string(), format_utc);
    let title = format!("{} · berth", c.name);
    view! {
        <Title text=title/>
        <div class="page-head">
            <h1 data-testid="container-name">{c.name.clone()}</h1>
            <span
                class=move || format!("state state-{}", state().as_str())
                data-testid="container-state"
            >
                {move || state().as_str()}
            </span>
            <ContainerActions id=c.id.clone() name=c.name.clone() state=Signal::derive(state) action/>
        </div>
        {move || {
            action
                .value()
                .get()
                .and_then(Result::err)
                .map(|e| {
                    view! {
                        <p class="error" role="alert" data-testid="action-error">
                            {e.to_string()}
                        </p>
                    }
                })
        }}
        <dl class="details" data-testid="container-details">
            <dt>"ID"</dt>
            <dd class="mono" data-testid="container-id">{c.id.clone()}</dd>
            <dt>"Image"</dt>
            <dd class="mono">{c.image.clone()}</dd>
            <dt>"Command"</dt>
            <dd class="mono">{c.command.clone()}</dd>
            <dt>"Exit code"</dt>
            <dd class="mono" data-testid="container-exit-code">{exit_code}</dd>
            <dt>"Created"</dt>
            <dd>{format_utc(c.created_at_ms)}</dd>
            <dt>"Started"</dt>
            <dd data-testid="container-started">{move || when(now.get().started_at_ms)}</dd>
            <dt>"Finished"</dt>
            <dd data-testid="container-finished">{move || when(now.get().finished_at_ms)}</dd>
        </dl>
        <ContainerTabs id=c.id state=Signal::derive(state) status/>
    }
}

/// The header's buttons for operators and admins (following the container's state); a
/// read-only hint for viewers.
#[component]
fn ContainerActions(
    id: String,
    name: String,
    state: Signal<ContainerState>,
    action: ServerAction<ApplyAction>,
) -> impl IntoView {
    if !use_caller().can_operate() {
        return view! { <ReadOnly class="page-actions"/> }.into_any();
    }
    view! {
        <div class="page-actions">
            {move || {
                view! {
                    <ContainerButtons id=id.clone() name=name.clone() state=state.get() action/>
                }
            }}
        </div>
    }
    .into_any()
}

#[component]
pub(crate) fn LogView(id: String, status: RwSignal<LogStatus>) -> impl IntoView {
    let log = RwSignal::new(LogBuffer::default());
    let log_ref = NodeRef::<Div>::new();
    // Follow the end of the log unless the user scrolled up to read.
    let follow = RwSignal::new(true);

    #[cfg(feature = "hydrate")]
    {
        let live = StoredValue::new_local(None::<crate::live::LiveLog>);
        Effect::new(move |_| {
            if live.with_value(Option::is_some) {
                return;
            }
            match crate::live::connect(&id, log, status) {
                Ok(l) => live.set_value(Some(l)),
                Err(e) => status.set(LogStatus::Failed(e)),
            }
        });
        on_cleanup(move || {
            if let Some(l) = live.try_update_value(Option::take).flatten() {
                l.close();
            }
        });
        Effect::new(move |_| {
            log.track();
            if follow.get_untracked() {
                request_animation_frame(move || {
                    if let Some(el) = log_ref.get_untracked() {
                        el.set_scroll_top(el.scroll_height());
                    }
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;

    let on_scroll = move |_| {
        if let Some(el) = log_ref.get_untracked() {
            follow.set(el.scroll_top() + el.client_height() >= el.scroll_height() - 24);
        }
    };
    let counts = move || {
        log.with(|b| {
            let shown = b.len();
            match b.dropped() {
                0 => format!("{shown} lines"),
                dropped => format!("last {shown} lines ({dropped} older not shown)"),
            }
        })
    };

    view! {
        <section class="log-panel">
            <div class="log-head">
                <h2>"Log"</h2>
                <span class=move || format!("log-status log-{}", status.with(LogStatus::kind))
                      data-testid="log-status">
                    {move || status.with(LogStatus::text)}
                </span>
                <span class="muted small" data-testid="log-count">{counts}</span>
            </div>
            <div class="log" data-testid="log" node_ref=log_ref on:scroll=on_scroll>
                <For
                    each=move || log.with(|b| b.chunks().cloned().collect::<Vec<_>>())
                    key=|chunk| chunk.seq
                    children=|chunk| {
                        view! {
                            <div class="log-chunk">
                                {chunk.lines.iter().map(log_row).collect_view()}
                            </div>
                        }
                    }
                />
            </div>
        </section>
    }
}

fn log_row(line: &LogLine) -> impl IntoView {
    let class = if line.stream == "stderr" {
        "log-line stderr"
    } else {
        "log-line"
    };
    view! {
        <div class=class data-testid="log-line">
            <span class="log-time" title=format_utc(line.time_ms)>
                {log_clock(line.time_ms)}
            </span>
            <span class="log-text">{line.text.clone()}</span>
        </div>
    }
}
