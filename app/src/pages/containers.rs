//! The containers page: one page of the host's containers as the address asks for it (search,
//! state chips, label, sort, page; see [`crate::listing`]), with their use while they run,
//! row and bulk actions for operators, and refetched after every burst of the daemon's events
//! (no polling: CPU and memory are as of that fetch, said so on hover).

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::format::{format_bytes, format_utc, humanize_age, humanize_span};
use crate::listing::{ListPage, ListQuery, Row, SortKey, StateFilter, Usage, PAGE_SIZE};
use crate::live_state::use_live;
use crate::model::{short_id, AppError, BulkReport, ContainerAction, ContainerSummary};
use crate::pages::actions::{ContainerButtons, ReadOnly};
use crate::pages::state_badge::StateBadge;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeSet;

/// The most containers one bulk action takes (a page's worth, with room).
pub const BULK_LIMIT: usize = 200;

/// One page of containers for `query`, with the use of the running ones on it. A GET.
#[server(prefix = "/ui/fn", endpoint = "containers_page", input = GetUrl)]
pub async fn containers_page(query: ListQuery) -> Result<ListPage, AppError> {
    let engine = crate::model::engine()?;
    let all = engine.containers().list_containers(true).await?;
    let total = all.len();
    let (picked, page, matched, counts) = crate::listing::select(all, &query);
    let rows = ssr::with_usage(&engine, picked).await;
    Ok(ListPage {
        now_ms: crate::model::now_ms(),
        total,
        matched,
        counts,
        page,
        rows,
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
    ssr::apply(&engine, &id, action).await
}

/// Applies one action to each of `ids` in turn; those that fail are reported by name with
/// the engine's reason, the others go ahead.
#[server(
    prefix = "/ui/fn",
    endpoint = "bulk_action",
    input = Json,
    client = CsrfClient
)]
pub async fn bulk_action(
    ids: Vec<String>,
    action: ContainerAction,
) -> Result<BulkReport, AppError> {
    if ids.len() > BULK_LIMIT {
        return Err(AppError::InvalidInput(format!(
            "at most {BULK_LIMIT} containers at once, not {}",
            ids.len()
        )));
    }
    let engine = crate::model::engine()?;
    let mut report = BulkReport::default();
    for id in ids {
        match ssr::apply(&engine, &id, action).await {
            Ok(()) => report.done += 1,
            Err(e) => report.failed.push((id, e.to_string())),
        }
    }
    Ok(report)
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::listing::{Row, Usage};
    use crate::model::{AppError, ContainerAction, ContainerState, ContainerSummary};
    use berth_engine::Engine;

    pub async fn apply(engine: &Engine, id: &str, action: ContainerAction) -> Result<(), AppError> {
        let containers = engine.containers();
        match action {
            ContainerAction::Start => containers.start(id).await.map(drop)?,
            ContainerAction::Stop => containers.stop(id, None).await.map(drop)?,
            ContainerAction::Restart => containers.restart(id, None).await.map(drop)?,
            ContainerAction::Remove => containers.remove(id, false).await?,
            ContainerAction::ForceRemove => containers.remove(id, true).await?,
        }
        Ok(())
    }

    /// The rows, with the use of those that run: the stats hub's latest readings (its
    /// background pass keeps one for every running container), read side by side. One that
    /// stopped meanwhile just has none.
    pub async fn with_usage(engine: &Engine, picked: Vec<ContainerSummary>) -> Vec<Row> {
        let reads = picked.iter().map(|c| async move {
            if c.state != ContainerState::Running {
                return None;
            }
            let stats = engine.containers().stats(&c.id).await.ok()?;
            Some(Usage {
                cpu_percent: stats.cpu_percent,
                memory_bytes: stats.sample.memory_working_set_bytes,
                memory_limit_bytes: stats.sample.memory_limit_bytes,
            })
        });
        let usage = futures::future::join_all(reads).await;
        picked
            .into_iter()
            .zip(usage)
            .map(|(c, usage)| Row { c, usage })
            .collect()
    }
}

#[component]
pub fn ContainersPage() -> impl IntoView {
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(|p| ListQuery::from_params(|k| p.get(k))));
    let action = ServerAction::<ApplyAction>::new();
    let bulk = ServerAction::<BulkAction>::new();
    let live = use_live();
    let list = Resource::new(
        move || {
            (
                query.get(),
                action.version().get(),
                bulk.version().get(),
                live.changes.get(),
            )
        },
        |(query, ..)| containers_page(query),
    );
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let operate = use_caller().can_operate();

    view! {
        <Title text="Containers · berth"/>
        <div class="page-head">
            <h1>"Containers"</h1>
            // Read inside a transition: outside one the server renders it before the list
            // is loaded and the browser after, and hydration would see different text.
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    list.await.ok().map(|p| view! {
                        <span class="count" data-testid="containers-count">{p.total}</span>
                    })
                })}
            </Transition>
            <div class="page-actions">
                <Show when=move || operate>
                    <a class="btn primary" href="/run" data-testid="run-open">"Run a container"</a>
                </Show>
            </div>
        </div>
        <FilterRow query list/>
        <ActionError action bulk/>
        <Transition fallback=|| view! { <p class="muted">"Loading containers…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(page) => {
                        // Forget selected containers that are gone.
                        let here: BTreeSet<String> = page.rows.iter().map(|r| r.c.id.clone()).collect();
                        selected.update_untracked(|s| s.retain(|id| here.contains(id)));
                        view! {
                            {operate.then(|| view! { <BulkBar selected bulk/> })}
                            <ContainerTable page query selected action operate/>
                        }
                            .into_any()
                    }
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

/// The search box, the state chips with their counts, and the label filter. A plain GET
/// form, so it works without JavaScript; once hydrated, typing updates the address (and so
/// the rows) as one goes.
#[component]
fn FilterRow(query: Memo<ListQuery>, list: Resource<Result<ListPage, AppError>>) -> impl IntoView {
    let navigate = use_navigate();
    let go = move |q: ListQuery| {
        navigate(
            &q.href(),
            leptos_router::NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        )
    };
    let go_search = go.clone();
    let on_search = move |ev: leptos::ev::Event| {
        let q = ListQuery {
            q: event_target_value(&ev),
            page: 0,
            ..query.get_untracked()
        };
        go_search(q);
    };
    let on_label = move |ev: leptos::ev::Event| {
        let q = ListQuery {
            label: event_target_value(&ev),
            page: 0,
            ..query.get_untracked()
        };
        go(q);
    };
    // `/` focuses the search box (unless one is typing somewhere already).
    let search_ref = NodeRef::<leptos::html::Input>::new();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() != "/" || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
                return;
            }
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                });
            if let (false, Some(input)) = (typing, search_ref.get_untracked()) {
                ev.prevent_default();
                let _ = input.focus();
            }
        });
        on_cleanup(move || handle.remove());
    }
    let chips = move |counts: Option<crate::listing::StateCounts>| {
        let current = query.get();
        StateFilter::ALL
            .into_iter()
            .map(|f| {
                let active = current.state == f;
                let href = current.with_state(f).href();
                let n = counts.map(|c| c.get(f).to_string());
                view! {
                    <a
                        href=href
                        class=if active { "chip active" } else { "chip" }
                        class:chip-problems={f == StateFilter::Problems}
                        aria-current=active.then_some("true")
                        data-testid=format!("chip-{}", f.as_str())
                    >
                        {f.label()}
                        <span class="chip-n">{n}</span>
                    </a>
                }
            })
            .collect_view()
    };
    view! {
        <form class="filters" method="get" action="/containers" role="search">
            <input
                type="search"
                name="q"
                class="search"
                node_ref=search_ref
                placeholder="Search name, image, id, command  ( / )"
                aria-label="Search containers"
                data-testid="container-search"
                prop:value=move || query.get().q
                on:input=on_search
            />
            <input
                type="text"
                name="label"
                class="label-filter"
                placeholder="label or label=value"
                aria-label="Filter by label"
                data-testid="label-filter"
                prop:value=move || query.get().label
                on:change=on_label
            />
            {move || {
                let q = query.get();
                (q.state != StateFilter::All)
                    .then(|| view! { <input type="hidden" name="state" value=q.state.as_str()/> })
            }}
        </form>
        <nav class="chips" aria-label="Filter by state">
            <Transition fallback=move || chips(None)>
                {move || Suspend::new(async move {
                    let counts = list.await.ok().map(|p| p.counts);
                    chips(counts)
                })}
            </Transition>
        </nav>
    }
}

/// The last action's error, beside the list.
#[component]
fn ActionError(action: ServerAction<ApplyAction>, bulk: ServerAction<BulkAction>) -> impl IntoView {
    let single = move || {
        action
            .value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    let many = move || match bulk.value().get() {
        Some(Err(e)) => Some(e.to_string()),
        Some(Ok(report)) if !report.failed.is_empty() => Some(report.summary()),
        _ => None,
    };
    view! {
        {move || single().map(|e| view! { <p class="error" role="alert" data-testid="action-error">{e}</p> })}
        {move || many().map(|e| view! { <p class="error" role="alert" data-testid="bulk-error">{e}</p> })}
    }
}

/// The bar that appears when rows are ticked: what to do with all of them.
#[component]
fn BulkBar(selected: RwSignal<BTreeSet<String>>, bulk: ServerAction<BulkAction>) -> impl IntoView {
    let run = move |action: ContainerAction| {
        let ids: Vec<String> = selected.get_untracked().into_iter().collect();
        if ids.is_empty() {
            return;
        }
        if action == ContainerAction::ForceRemove
            && !crate::pages::actions::confirm(&format!(
                "Remove {} containers? Running ones are killed first.",
                ids.len()
            ))
        {
            return;
        }
        selected.set(BTreeSet::new());
        bulk.dispatch(BulkAction { ids, action });
    };
    let busy = move || bulk.pending().get();
    view! {
        <Show when=move || !selected.with(BTreeSet::is_empty)>
            <div class="bulk-bar" role="toolbar" aria-label="Selected containers" data-testid="bulk-bar">
                <span class="bulk-count" data-testid="bulk-count">
                    {move || format!("{} selected", selected.with(BTreeSet::len))}
                </span>
                <button class="btn" disabled=busy data-testid="bulk-start" on:click=move |_| run(ContainerAction::Start)>"Start"</button>
                <button class="btn" disabled=busy data-testid="bulk-stop" on:click=move |_| run(ContainerAction::Stop)>"Stop"</button>
                <button class="btn" disabled=busy data-testid="bulk-restart" on:click=move |_| run(ContainerAction::Restart)>"Restart"</button>
                <button class="btn danger" disabled=busy data-testid="bulk-remove" on:click=move |_| run(ContainerAction::ForceRemove)>"Remove…"</button>
                <button class="btn-link" data-testid="bulk-clear" on:click=move |_| selected.set(BTreeSet::new())>"Clear"</button>
            </div>
        </Show>
    }
}

/// A header that sorts by its column (a link: it works without JavaScript).
#[component]
fn SortHeader(
    query: Memo<ListQuery>,
    key: SortKey,
    label: &'static str,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let state = move || {
        let q = query.get();
        (q.sort == key).then(|| {
            if q.ascending() {
                "ascending"
            } else {
                "descending"
            }
        })
    };
    view! {
        <th class=class aria-sort=move || state().unwrap_or("none")>
            <a class="sort" href=move || query.get().sorted_by(key).href() data-testid=format!("sort-{}", key.as_str())>
                {label}
                <span class="sort-mark" aria-hidden="true">
                    {move || match state() {
                        Some("ascending") => "▲",
                        Some(_) => "▼",
                        None => "",
                    }}
                </span>
            </a>
        </th>
    }
}

#[component]
fn ContainerTable(
    page: ListPage,
    query: Memo<ListQuery>,
    selected: RwSignal<BTreeSet<String>>,
    action: ServerAction<ApplyAction>,
    operate: bool,
) -> impl IntoView {
    if page.total == 0 {
        return view! {
            <div class="empty" data-testid="no-containers">
                <p class="empty-title">"No containers yet"</p>
                <p>"Start one from a terminal with " <code>"berth run -d --name web -p 8080:80 nginx"</code> "."</p>
            </div>
        }
        .into_any();
    }
    if page.rows.is_empty() {
        return view! {
            <div class="empty" data-testid="no-matches">
                <p class="empty-title">"No container matches"</p>
                <p>
                    {format!("None of the {} containers matches this search and filter. ", page.total)}
                    <a href="/containers">"Show all"</a>
                </p>
            </div>
        }
        .into_any();
    }
    let ListPage {
        now_ms,
        rows,
        matched,
        page: number,
        ..
    } = page.clone();
    let ids: Vec<String> = rows.iter().map(|r| r.c.id.clone()).collect();
    let all_ids = ids.clone();
    let all_ticked =
        move || selected.with(|s| !all_ids.is_empty() && all_ids.iter().all(|id| s.contains(id)));
    let tick_all = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            for id in &ids {
                if on {
                    s.insert(id.clone());
                } else {
                    s.remove(id);
                }
            }
        });
    };
    let first = number * PAGE_SIZE + 1;
    let last = (number * PAGE_SIZE + rows.len()).min(matched);
    let pages = page.pages();
    view! {
        <div class="table-wrap">
            <table class="containers" data-testid="containers-table">
                <thead>
                    <tr>
                        {operate.then(|| view! {
                            <th class="col-check">
                                <input type="checkbox" aria-label="Select all on this page" data-testid="select-all"
                                    prop:checked=all_ticked on:change=tick_all/>
                            </th>
                        })}
                        <SortHeader query key=SortKey::Name label="Name"/>
                        <SortHeader query key=SortKey::Image label="Image" class="col-image"/>
                        <SortHeader query key=SortKey::State label="State"/>
                        <th class="col-ports">"Ports"</th>
                        <th class="col-num col-cpu">"CPU"</th>
                        <th class="col-num col-mem">"Memory"</th>
                        <SortHeader query key=SortKey::Created label="Created" class="col-created"/>
                        <th class="actions-head">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| view! { <ContainerRow row now_ms selected action operate/> }).collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages" data-testid="pager">
            <span class="muted" data-testid="pager-range">{format!("{first}–{last} of {matched}")}</span>
            {(number > 0).then(|| view! {
                <a class="btn" href=query.get_untracked().at_page(number - 1).href() data-testid="pager-prev">"← Previous"</a>
            })}
            {(number + 1 < pages).then(|| view! {
                <a class="btn" href=query.get_untracked().at_page(number + 1).href() data-testid="pager-next">"Next →"</a>
            })}
        </nav>
    }
    .into_any()
}

#[component]
fn ContainerRow(
    row: Row,
    now_ms: i64,
    selected: RwSignal<BTreeSet<String>>,
    action: ServerAction<ApplyAction>,
    operate: bool,
) -> impl IntoView {
    let Row { c, usage } = row;
    let href = format!("/containers/{}", c.id);
    let short = short_id(&c.id).to_string();
    let buttons = if operate {
        view! { <ContainerButtons id=c.id.clone() name=c.name.clone() state=c.state action/> }
            .into_any()
    } else {
        view! { <ReadOnly/> }.into_any()
    };
    let id = c.id.clone();
    let check_id = c.id.clone();
    let ticked = move || selected.with(|s| s.contains(&check_id));
    let on_tick = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|s| {
            if on {
                s.insert(id.clone());
            } else {
                s.remove(&id);
            }
        });
    };
    let since = match c.state {
        crate::model::ContainerState::Running => c
            .started_at_ms
            .map(|t| format!("up {}", humanize_span(now_ms, t))),
        _ => None,
    };
    view! {
        <tr data-testid="container-row" data-name=c.name.clone() data-id=c.id.clone() data-state=c.status_word()>
            {operate.then(|| view! {
                <td class="col-check">
                    <input type="checkbox" aria-label=format!("Select {}", c.name) data-testid="select-row"
                        prop:checked=ticked on:change=on_tick/>
                </td>
            })}
            <td class="col-name">
                <a class="name" href=href data-testid="container-link" title=c.name.clone()>{c.name.clone()}</a>
                <div class="muted mono small">{short}</div>
            </td>
            <td class="mono col-image" title=c.image.clone()>{c.image.clone()}</td>
            <td class="col-state"><StateBadge c=c.clone()/></td>
            <td class="mono col-ports"><Ports c=c.clone()/></td>
            <td class="num col-cpu" data-testid="container-cpu">
                {usage.map(|u| format!("{:.1} %", u.cpu_percent))}
            </td>
            <td class="num col-mem" data-testid="container-mem" title=usage.map(memory_title)>
                {usage.map(|u| format_bytes(u.memory_bytes))}
            </td>
            <td class="col-created" title=format_utc(c.created_at_ms)>
                {humanize_age(now_ms, c.created_at_ms)}
                {since.map(|s| view! { <div class="muted small">{s}</div> })}
            </td>
            <td class="actions">{buttons}</td>
        </tr>
    }
}

fn memory_title(u: Usage) -> String {
    format!(
        "{} of {} (working set, when the list was loaded)",
        format_bytes(u.memory_bytes),
        format_bytes(u.memory_limit_bytes)
    )
}

/// Published ports as links to the same host the dashboard is on (TCP), exposed ones as text.
#[component]
fn Ports(c: ContainerSummary) -> impl IntoView {
    let host = crate::layout::use_page_host();
    let mut ports = c.ports.clone();
    ports.sort_by_key(|p| (p.public_port.is_none(), p.public_port, p.private_port));
    ports.dedup_by_key(|p| (p.public_port, p.private_port, p.proto));
    ports
        .into_iter()
        .take(4)
        .map(|p| {
            let proto = p.proto.as_str();
            match p.public_port {
                Some(public) if proto == "tcp" => view! {
                    <a class="port" href=format!("http://{host}:{public}/") target="_blank" rel="noopener noreferrer"
                        data-testid="port-link" title=format!("Open port {public} (container port {}/{proto})", p.private_port)>
                        {format!("{public}→{}", p.private_port)}
                    </a>
                }
                .into_any(),
                Some(public) => view! { <span class="port">{format!("{public}→{}/{proto}", p.private_port)}</span> }.into_any(),
                None => view! { <span class="port muted">{format!("{}/{proto}", p.private_port)}</span> }.into_any(),
            }
        })
        .collect_view()
}
