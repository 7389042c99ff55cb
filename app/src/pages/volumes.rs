//! The volumes page: every volume with its size, the containers that mount it and its age, a
//! search box, and for operators create, remove and "prune unused" (anonymous volumes, as
//! `docker volume prune` does; named ones hold data someone chose to keep).

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::format::{format_utc, humanize_age};
use crate::model::AppError;
use crate::pages::actions::{confirm, ActionNotice};
use crate::pages::form_field::InlineField;
use crate::pages::table::DataTable;
use crate::progress::format_bytes;
use berth_wire::volume::Volume;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// The list page's data, with the server's clock (relative times render the same on both
/// sides).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeList {
    pub now_ms: i64,
    pub volumes: Vec<VolumeItem>,
}

/// One volume and what uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeItem {
    pub volume: Volume,
    /// Unix milliseconds.
    pub created_ms: i64,
    /// Bytes of its files, when measured.
    pub size: Option<i64>,
    /// The containers (any state) that mount it.
    pub users: Vec<VolumeUser>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeUser {
    pub id: String,
    pub name: String,
    /// Where the container sees the volume.
    pub destination: String,
}

/// What an operator can do to volumes from this page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum VolumeOp {
    /// A new volume; an empty name makes an anonymous one.
    Create { name: String },
    /// Refused while a container mounts it.
    Remove { name: String },
    /// Delete every anonymous volume no container mounts.
    Prune,
}

/// All volumes, measured, with their users. A GET: reading needs no CSRF token.
#[server(prefix = "/ui/fn", endpoint = "list_volumes", input = GetUrl)]
pub async fn list_volumes() -> Result<VolumeList, AppError> {
    let engine = crate::model::engine()?;
    let volumes = engine.volumes().usage().await?;
    let containers = engine.containers().list_containers(true).await?;
    Ok(VolumeList {
        now_ms: crate::model::now_ms(),
        volumes: volumes
            .into_iter()
            .map(|v| ssr::item(v, &containers))
            .collect(),
    })
}

/// One volume, measured, with its users.
#[server(prefix = "/ui/fn", endpoint = "get_volume", input = GetUrl)]
pub async fn get_volume(name: String) -> Result<VolumeItem, AppError> {
    let engine = crate::model::engine()?;
    let volume = engine.volumes().inspect(&name).await?;
    let containers = engine.containers().list_containers(true).await?;
    Ok(ssr::item(volume, &containers))
}

/// Applies one [`VolumeOp`]; answers what was done, in words.
#[server(
    prefix = "/ui/fn",
    endpoint = "volume_action",
    input = Json,
    client = CsrfClient
)]
pub async fn volume_action(op: VolumeOp) -> Result<String, AppError> {
    let engine = crate::model::engine()?;
    match op {
        VolumeOp::Create { name } => {
            let name = name.trim();
            let created = engine
                .volumes()
                .create((!name.is_empty()).then_some(name), &Default::default())
                .await?;
            Ok(format!("Created volume {}.", created.name))
        }
        VolumeOp::Remove { name } => {
            engine.volumes().remove(&name, false).await?;
            Ok(format!("Removed volume {name}."))
        }
        VolumeOp::Prune => {
            let report = engine.volumes().prune(false).await?;
            let freed = format_bytes(report.space_reclaimed as i64);
            Ok(match report.volumes_deleted.len() {
                0 => "No unused anonymous volumes to remove.".to_string(),
                1 => format!("Removed 1 unused volume, {freed} freed."),
                n => format!("Removed {n} unused volumes, {freed} freed."),
            })
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{VolumeItem, VolumeUser};
    use berth_wire::container::{ContainerSummary, MountType};
    use berth_wire::volume::Volume;

    pub fn item(volume: Volume, containers: &[ContainerSummary]) -> VolumeItem {
        let users = containers
            .iter()
            .flat_map(|c| {
                c.mounts
                    .iter()
                    .filter(|m| m.kind == MountType::Volume && m.name == volume.name)
                    .map(|m| VolumeUser {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        destination: m.destination.clone(),
                    })
            })
            .collect();
        VolumeItem {
            created_ms: berth_engine::created_seconds(Some(&volume.created_at))
                .saturating_mul(1000),
            size: volume.usage_data.map(|u| u.size).filter(|s| *s >= 0),
            users,
            volume,
        }
    }
}

/// The volumes whose name matches `query` (ignoring case), by name.
pub fn matching<'a>(volumes: &'a [VolumeItem], query: &str) -> Vec<&'a VolumeItem> {
    let query = query.trim().to_ascii_lowercase();
    let mut out: Vec<&VolumeItem> = volumes
        .iter()
        .filter(|v| query.is_empty() || v.volume.name.to_ascii_lowercase().contains(&query))
        .collect();
    out.sort_by(|a, b| a.volume.name.cmp(&b.volume.name));
    out
}

#[component]
pub fn VolumesPage() -> impl IntoView {
    let action = ServerAction::<VolumeAction>::new();
    // Bumped by the daemon's events (a volume made or removed anywhere, a container's
    // mount).
    let changes = crate::live_state::use_live().changes;
    let volumes = Resource::new(
        move || (action.version().get(), changes.get()),
        |_| list_volumes(),
    );
    let query = RwSignal::new(String::new());
    let create_open = RwSignal::new(false);
    let can_operate = use_caller().can_operate();
    let count = move || {
        Suspend::new(async move { volumes.await.ok().map(|l| l.volumes.len().to_string()) })
    };

    view! {
        <Title text="Volumes · berth"/>
        <div class="page-head">
            <h1>"Volumes" <Transition fallback=|| ()>
                    <span class="count" data-testid="volume-count">{count}</span>
                </Transition></h1>
            <div class="page-actions">
                <Show when=move || can_operate>
                    <button
                        class="btn primary"
                        data-testid="create-volume-open"
                        aria-expanded=move || create_open.get().to_string()
                        on:click=move |_| create_open.update(|o| *o = !*o)
                    >
                        "Create volume"
                    </button>
                </Show>
            </div>
        </div>
        <Show when=move || can_operate && create_open.get()>
            <CreateForm action/>
        </Show>
        <ActionNotice value=action.value()/>
        <div class="filter-row">
            <input
                type="search"
                class="search"
                placeholder="Search volumes"
                aria-label="Search volumes by name"
                data-testid="volume-search"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <Show when=move || can_operate>
                <button
                    class="btn"
                    data-testid="prune-volumes"
                    disabled=move || action.pending().get()
                    on:click=move |_| {
                        if confirm(
                            "Remove every anonymous volume that no container uses? Named volumes are kept.",
                        ) {
                            action.dispatch(VolumeAction { op: VolumeOp::Prune });
                        }
                    }
                >
                    "Prune unused"
                </button>
            </Show>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading volumes…"</p> }>
            {move || Suspend::new(async move {
                match volumes.await {
                    Ok(list) => view! { <VolumeTable list query action can_operate/> }.into_any(),
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="list-error">
                                {format!("cannot list volumes: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The create form: a name, or none for an anonymous volume.
#[component]
fn CreateForm(action: ServerAction<VolumeAction>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(VolumeAction {
            op: VolumeOp::Create {
                name: name.get_untracked(),
            },
        });
        name.set(String::new());
    };
    view! {
        <form class="pull-form" data-testid="create-volume-form" on:submit=submit>
            <InlineField
                id="volume-name"
                label="Name"
                placeholder="pgdata (empty: an anonymous volume)"
                testid="volume-name"
                value=name
                grow=true
            />
            <button
                type="submit"
                class="btn primary"
                data-testid="create-volume-submit"
                disabled=move || action.pending().get()
            >
                "Create"
            </button>
        </form>
    }
}

#[component]
fn VolumeTable(
    list: VolumeList,
    query: RwSignal<String>,
    action: ServerAction<VolumeAction>,
    can_operate: bool,
) -> impl IntoView {
    if list.volumes.is_empty() {
        let hint = if can_operate {
            "No volumes yet. Create one above, or run a container with "
        } else {
            "No volumes yet. They appear when an operator runs a container with "
        };
        return view! {
            <p class="empty" data-testid="no-volumes">
                {hint}
                <code>"-v name:/path"</code>
                "."
            </p>
        }
        .into_any();
    }
    let VolumeList { now_ms, volumes } = list;
    let rows = move || {
        let shown = matching(&volumes, &query.get());
        if shown.is_empty() {
            return view! {
                <tr>
                    <td colspan="5" class="empty-row" data-testid="no-match">
                        "No volume matches this search."
                    </td>
                </tr>
            }
            .into_any();
        }
        shown
            .into_iter()
            .map(|item| view! { <VolumeRow item=item.clone() now_ms action can_operate/> })
            .collect_view()
            .into_any()
    };
    let columns = vec![
        ("Name", ""),
        ("Size", "num"),
        ("In use by", "col-used"),
        ("Created", "col-created"),
        (if can_operate { "Actions" } else { "" }, "actions-head"),
    ];
    view! { <DataTable class="volumes" testid="volumes-table" columns>{rows}</DataTable> }
        .into_any()
}

#[component]
fn VolumeRow(
    item: VolumeItem,
    now_ms: i64,
    action: ServerAction<VolumeAction>,
    can_operate: bool,
) -> impl IntoView {
    let name = item.volume.name.clone();
    let href = format!("/volumes/{}", crate::format::encode_query(&name));
    let users = item
        .users
        .iter()
        .map(|u| {
            let href = format!("/containers/{}", u.id);
            let title = format!("mounted at {}", u.destination);
            view! { <a href=href title=title class="user-link">{u.name.clone()}</a> }
        })
        .collect_view();
    let in_use = !item.users.is_empty();
    let buttons = can_operate.then(|| {
        let name = name.clone();
        view! {
            <button
                class="btn small-btn danger"
                data-testid="remove-volume-button"
                title=if in_use { "Containers mount this volume: remove them first" } else { "Remove this volume and its files" }
                disabled=move || action.pending().get() || in_use
                on:click=move |_| {
                    if confirm(&format!("Remove volume {name} and every file in it?")) {
                        action.dispatch(VolumeAction { op: VolumeOp::Remove { name: name.clone() } });
                    }
                }
            >
                "Remove"
            </button>
        }
    });
    view! {
        <tr data-testid="volume-row" data-name=name.clone()>
            <td class="col-name">
                <a class="mono ref" href=href title=name.clone() data-testid="volume-link">
                    {name.clone()}
                </a>
            </td>
            <td class="num" data-testid="volume-size">
                {item.size.map_or_else(|| "—".to_string(), format_bytes)}
            </td>
            <td class="col-used" data-testid="volume-users">
                {if in_use { users.into_any() } else { "—".into_any() }}
            </td>
            <td class="col-created" title=format_utc(item.created_ms)>
                {humanize_age(now_ms, item.created_ms)}
            </td>
            <td class="actions">{buttons}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, users: &[&str]) -> VolumeItem {
        VolumeItem {
            volume: Volume {
                name: name.into(),
                driver: "local".into(),
                mountpoint: format!("/v/{name}/_data").into(),
                created_at: "2026-12-07T10:00:00Z".into(),
                labels: Default::default(),
                scope: "local".into(),
                options: Default::default(),
                usage_data: None,
            },
            created_ms: 0,
            size: None,
            users: users
                .iter()
                .map(|u| VolumeUser {
                    id: format!("id-{u}"),
                    name: u.to_string(),
                    destination: "/data".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn volumes_are_searched_by_name_and_sorted() {
        let all = vec![
            item("web-data", &[]),
            item("db", &["pg"]),
            item("Cache", &[]),
        ];
        let names = |q: &str| -> Vec<String> {
            matching(&all, q)
                .iter()
                .map(|v| v.volume.name.clone())
                .collect()
        };
        assert_eq!(names(""), ["Cache", "db", "web-data"]);
        assert_eq!(names(" CACHE "), ["Cache"]);
        assert!(names("nothing").is_empty());
    }
}
