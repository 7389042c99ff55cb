//! The containers page: every container in a table, with stop / start / remove actions.

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::format::{format_utc, humanize_age};
use crate::model::{
    exit_text, short_id, AppError, ContainerAction, ContainerList, ContainerState, ContainerSummary,
};
use crate::pages::actions::{ContainerButtons, ReadOnly};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;

/// All containers, running or not, with the server's clock. A GET: reading needs no CSRF token.
#[server(prefix = "/ui/fn", endpoint = "list_containers", input = GetUrl)]
pub async fn list_containers() -> Result<ContainerList, AppError> {
    let engine = crate::model::engine()?;
    let containers = engine.containers().list_containers(true).await?;
    Ok(ContainerList {
        now_ms: ssr::now_ms(),
        containers,
    })
}

/// Applies one action to one container; sent with the session's CSRF token.
#[server(
    prefix = "/ui/fn",
    endpoint = "apply_action",
    input = Json,
    client = CsrfClient
)]
pub async fn apply_action(id: String, action: ContainerAction) -> Result<(), AppError> {
    let engine = crate::model::engine()?;
    match action {
        ContainerAction::Start => engine.containers().start(&id).await.map(drop)?,
        ContainerAction::Stop => engine.containers().stop(&id, None).await.map(drop)?,
        ContainerAction::Remove => engine.containers().remove(&id, false).await?,
        ContainerAction::ForceRemove => engine.containers().remove(&id, true).await?,
    }
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    /// Unix milliseconds now.
    pub fn now_ms() -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

#[component]
pub fn ContainersPage() -> impl IntoView {
    let action = ServerAction::<ApplyAction>::new();
    // Bumped by the daemon's events (live_events.rs): a change made anywhere is fetched.
    let changes = RwSignal::new(0u64);
    let containers = Resource::new(
        move || (action.version().get(), changes.get()),
        |_| list_containers(),
    );
    let running_only = RwSignal::new(false);

    #[cfg(feature = "hydrate")]
    {
        let live = StoredValue::new_local(None::<crate::live_events::LiveEvents>);
        Effect::new(move |_| {
            if live.with_value(Option::is_none) {
                match crate::live_events::connect(changes) {
                    Ok(l) => live.set_value(Some(l)),
                    Err(e) => leptos::logging::warn!("{e}"),
                }
            }
        });
        on_cleanup(move || {
            if let Some(l) = live.try_update_value(Option::take).flatten() {
                l.close();
            }
        });
    }

    view! {
        <Title text="Containers · berth"/>
        <div class="page-head">
            <h1>"Containers"</h1>
            <label class="toggle">
                <input
                    type="checkbox"
                    data-testid="running-only"
                    prop:checked=move || running_only.get()
                    on:change=move |ev| running_only.set(event_target_checked(&ev))
                />
                " running only"
            </label>
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
        <Transition fallback=|| view! { <p class="muted">"Loading containers…"</p> }>
            {move || Suspend::new(async move {
                match containers.await {
                    Ok(list) => view! { <ContainerTable list action running_only/> }.into_any(),
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="list-error">
                                {format!("cannot list containers: {e}")}
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
fn ContainerTable(
    list: ContainerList,
    action: ServerAction<ApplyAction>,
    running_only: RwSignal<bool>,
) -> impl IntoView {
    if list.containers.is_empty() {
        return view! {
            <p class="empty" data-testid="no-containers">
                "No containers yet. Start one with "
                <code>"berth run -d busybox sleep 300"</code>
                "."
            </p>
        }
        .into_any();
    }
    let ContainerList { now_ms, containers } = list;
    let rows = move || {
        let only_running = running_only.get();
        containers
            .iter()
            .filter(|c| !only_running || c.state == ContainerState::Running)
            .cloned()
            .map(|c| view! { <ContainerRow c now_ms action/> })
            .collect_view()
    };
    view! {
        <table class="containers" data-testid="containers-table">
            <thead>
                <tr>
                    <th>"Name"</th>
                    <th class="col-image">"Image"</th>
                    <th>"State"</th>
                    <th class="col-exit">"Exit code"</th>
                    <th class="col-created">"Created"</th>
                    <th class="col-command">"Command"</th>
                    <th class="actions-head">"Actions"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ContainerRow(
    c: ContainerSummary,
    now_ms: i64,
    action: ServerAction<ApplyAction>,
) -> impl IntoView {
    let href = format!("/containers/{}", c.id);
    let short_id = short_id(&c.id).to_string();
    let state = c.state;
    let exit_code = exit_text(c.exit_code, c.oom_killed);
    let buttons = if use_caller().can_operate() {
        view! {
            <ContainerButtons id=c.id.clone() name=c.name.clone() state action/>
        }
        .into_any()
    } else {
        view! { <ReadOnly/> }.into_any()
    };
    let row_name = c.name.clone();
    let row_id = c.id.clone();
    view! {
        <tr data-testid="container-row" data-name=row_name data-id=row_id data-state=state.as_str()>
            <td>
                <a class="name" href=href data-testid="container-link">{c.name}</a>
                <div class="muted mono small">{short_id}</div>
            </td>
            <td class="mono col-image">{c.image}</td>
            <td>
                <span class=format!("state state-{}", state.as_str()) data-testid="container-state">
                    {state.as_str()}
                </span>
            </td>
            <td class="mono col-exit" data-testid="container-exit-code">{exit_code}</td>
            <td class="col-created" title=format_utc(c.created_at_ms)>
                {humanize_age(now_ms, c.created_at_ms)}
            </td>
            <td class="mono command col-command" title=c.command.clone()>{c.command.clone()}</td>
            <td class="actions">{buttons}</td>
        </tr>
    }
}
