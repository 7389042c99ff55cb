//! The networks page: every network with its driver, subnet, gateway and the containers on
//! it; for operators create (a user bridge, its subnet chosen or given), remove, prune, and
//! connect or disconnect a container, as `docker network connect` does.

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::model::AppError;
use crate::pages::actions::{confirm, ActionNotice};
use crate::pages::form_field::InlineField;
use crate::pages::table::DataTable;
use berth_wire::network::NetworkSummary;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// A container as the page names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: String,
    pub name: String,
}

/// One network and the containers on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkItem {
    pub network: NetworkSummary,
    pub members: Vec<Member>,
}

/// The page's data: the networks, and every container (to connect one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetworkList {
    pub networks: Vec<NetworkItem>,
    pub containers: Vec<Member>,
}

/// What an operator can do to networks from this page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum NetworkOp {
    /// A user bridge; an empty subnet is chosen by the daemon.
    Create {
        name: String,
        subnet: String,
    },
    /// Refused while a container is on it.
    Remove {
        name: String,
    },
    Connect {
        network: String,
        container: String,
    },
    Disconnect {
        network: String,
        container: String,
    },
    /// Every user network no container is on.
    Prune,
}

/// The networks, by name, with their containers. A GET.
#[server(prefix = "/ui/fn", endpoint = "list_networks", input = GetUrl)]
pub async fn list_networks() -> Result<NetworkList, AppError> {
    let engine = crate::model::engine()?;
    let mut networks = engine.networks().find(Default::default()).await?;
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    let mut containers = engine.containers().list_containers(true).await?;
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(NetworkList {
        networks: networks
            .into_iter()
            .map(|network| NetworkItem {
                members: containers
                    .iter()
                    .filter(|c| c.networks.iter().any(|n| n.id == network.id))
                    .map(|c| Member {
                        id: c.id.clone(),
                        name: c.name.clone(),
                    })
                    .collect(),
                network,
            })
            .collect(),
        containers: containers
            .into_iter()
            .map(|c| Member {
                id: c.id,
                name: c.name,
            })
            .collect(),
    })
}

/// Applies one [`NetworkOp`]; answers what was done, in words.
#[server(
    prefix = "/ui/fn",
    endpoint = "network_action",
    input = Json,
    client = CsrfClient
)]
pub async fn network_action(op: NetworkOp) -> Result<String, AppError> {
    let engine = crate::model::engine()?;
    let networks = engine.networks();
    match op {
        NetworkOp::Create { name, subnet } => {
            let subnet = subnet.trim();
            let made = networks
                .create(berth_wire::network::NetworkCreate {
                    name: name.trim().to_string(),
                    subnet: (!subnet.is_empty()).then(|| subnet.to_string()),
                    ..Default::default()
                })
                .await?;
            Ok(format!("Created network {} ({}).", made.name, made.subnet))
        }
        NetworkOp::Remove { name } => {
            networks.remove(&name).await?;
            Ok(format!("Removed network {name}."))
        }
        NetworkOp::Connect { network, container } => {
            networks.connect(&network, &container).await?;
            Ok(format!("Connected {container} to {network}."))
        }
        NetworkOp::Disconnect { network, container } => {
            networks.disconnect(&network, &container).await?;
            Ok(format!("Disconnected {container} from {network}."))
        }
        NetworkOp::Prune => Ok(match networks.prune().await?.as_slice() {
            [] => "No unused networks to remove.".to_string(),
            names => format!("Removed {}.", names.join(", ")),
        }),
    }
}

#[component]
pub fn NetworksPage() -> impl IntoView {
    let action = ServerAction::<NetworkAction>::new();
    // Bumped by the daemon's events (a network made, removed, connected anywhere).
    let changes = crate::live_state::use_live().changes;
    let list = Resource::new(
        move || (action.version().get(), changes.get()),
        |_| list_networks(),
    );
    let can_operate = use_caller().can_operate();
    let create_open = RwSignal::new(false);
    view! {
        <Title text="Networks · berth"/>
        <div class="page-head">
            <h1>"Networks"</h1>
            <div class="page-actions">
                <Show when=move || can_operate>
                    <button
                        class="btn"
                        data-testid="prune-networks"
                        disabled=move || action.pending().get()
                        on:click=move |_| {
                            if confirm("Remove every user network that no container is on?") {
                                action.dispatch(NetworkAction { op: NetworkOp::Prune });
                            }
                        }
                    >
                        "Prune unused"
                    </button>
                    <button
                        class="btn primary"
                        data-testid="create-network-open"
                        aria-expanded=move || create_open.get().to_string()
                        on:click=move |_| create_open.update(|o| *o = !*o)
                    >
                        "Create network"
                    </button>
                </Show>
            </div>
        </div>
        <Show when=move || can_operate && create_open.get()>
            <CreateForm action/>
        </Show>
        <ActionNotice value=action.value()/>
        <Transition fallback=|| view! { <p class="muted">"Loading networks…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Ok(list) => view! { <NetworkTable list action can_operate/> }.into_any(),
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="list-error">
                                {format!("cannot list networks: {e}")}
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
fn CreateForm(action: ServerAction<NetworkAction>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let subnet = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(NetworkAction {
            op: NetworkOp::Create {
                name: name.get_untracked(),
                subnet: subnet.get_untracked(),
            },
        });
    };
    view! {
        <form class="pull-form" data-testid="create-network-form" on:submit=submit>
            <InlineField id="network-name" label="Name" placeholder="backend" testid="network-name" value=name grow=true/>
            <InlineField
                id="network-subnet"
                label="Subnet"
                placeholder="automatic (or 10.42.0.0/24)"
                testid="network-subnet"
                value=subnet
            />
            <button
                type="submit"
                class="btn primary"
                data-testid="create-network-submit"
                disabled=move || action.pending().get()
            >
                "Create"
            </button>
        </form>
    }
}

#[component]
fn NetworkTable(
    list: NetworkList,
    action: ServerAction<NetworkAction>,
    can_operate: bool,
) -> impl IntoView {
    let NetworkList {
        networks,
        containers,
    } = list;
    let containers = StoredValue::new(containers);
    let rows = networks
        .into_iter()
        .map(|item| view! { <NetworkRow item containers action can_operate/> })
        .collect_view();
    let columns = vec![
        ("Name", ""),
        ("Driver", "col-driver"),
        ("Subnet", "col-subnet"),
        ("Containers", "col-members"),
        (if can_operate { "Actions" } else { "" }, "actions-head"),
    ];
    view! { <DataTable class="networks" testid="networks-table" columns>{rows}</DataTable> }
}

#[component]
fn NetworkRow(
    item: NetworkItem,
    containers: StoredValue<Vec<Member>>,
    action: ServerAction<NetworkAction>,
    can_operate: bool,
) -> impl IntoView {
    let NetworkItem { network, members } = item;
    let name = network.name.clone();
    let predefined = network.is_predefined();
    // docker connects and disconnects user networks only (the predefined ones are chosen at
    // create time).
    let editable = can_operate && !predefined;
    let member_chips = members
        .iter()
        .map(|m| {
            let href = format!("/containers/{}", m.id);
            let disconnect = editable.then(|| {
                let (network, container) = (name.clone(), m.name.clone());
                let label = format!("Disconnect {container} from {network}");
                view! {
                    <button
                        class="chip-x"
                        title=label.clone()
                        aria-label=label
                        data-testid="disconnect-button"
                        disabled=move || action.pending().get()
                        on:click=move |_| {
                            action.dispatch(NetworkAction {
                                op: NetworkOp::Disconnect {
                                    network: network.clone(),
                                    container: container.clone(),
                                },
                            });
                        }
                    >
                        "×"
                    </button>
                }
            });
            view! {
                <span class="chip member" data-testid="network-member" data-name=m.name.clone()>
                    <a href=href>{m.name.clone()}</a>
                    {disconnect}
                </span>
            }
        })
        .collect_view();
    let member_ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let actions = editable.then(|| {
        let choice = RwSignal::new(String::new());
        let options = containers.with_value(|all| {
            all.iter()
                .filter(|c| !member_ids.contains(&c.id))
                .map(|c| view! { <option value=c.name.clone()>{c.name.clone()}</option> })
                .collect_view()
        });
        let connect_to = name.clone();
        let remove_name = name.clone();
        let in_use = !members.is_empty();
        view! {
            <select
                class="connect-select"
                aria-label=format!("Container to connect to {name}")
                data-testid="connect-select"
                on:change=move |ev| choice.set(event_target_value(&ev))
            >
                <option value="">"Container…"</option>
                {options}
            </select>
            <button
                class="btn small-btn"
                data-testid="connect-button"
                disabled=move || action.pending().get() || choice.with(String::is_empty)
                on:click=move |_| {
                    action.dispatch(NetworkAction {
                        op: NetworkOp::Connect {
                            network: connect_to.clone(),
                            container: choice.get_untracked(),
                        },
                    });
                }
            >
                "Connect"
            </button>
            <button
                class="btn small-btn danger"
                data-testid="remove-network-button"
                title=if in_use { "Containers are on it: disconnect them first" } else { "Remove this network" }
                disabled=move || action.pending().get() || in_use
                on:click=move |_| {
                    if confirm(&format!("Remove network {remove_name}?")) {
                        action.dispatch(NetworkAction {
                            op: NetworkOp::Remove { name: remove_name.clone() },
                        });
                    }
                }
            >
                "Remove"
            </button>
        }
    });
    let subnet = match (network.subnet.as_str(), network.gateway.as_str()) {
        ("", _) => "—".to_string(),
        (subnet, "") => subnet.to_string(),
        (subnet, gateway) => format!("{subnet} via {gateway}"),
    };
    view! {
        <tr data-testid="network-row" data-name=name.clone()>
            <td class="col-name">
                <span class="mono ref" title=network.id.clone()>{name.clone()}</span>
            </td>
            <td class="col-driver">{network.driver.clone()}</td>
            <td class="mono col-subnet">{subnet}</td>
            <td class="col-members" data-testid="network-members">
                {if members.is_empty() {
                    view! { <span class="muted">"—"</span> }.into_any()
                } else {
                    member_chips.into_any()
                }}
            </td>
            <td class="actions">{actions}</td>
        </tr>
    }
}
