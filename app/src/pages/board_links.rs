//! Board links for admins: the read-only wall-screen addresses (`/board/<secret>`) — list
//! (name, who made it, when, until when), create one (its address shown this once, to open
//! or copy; only a digest of the secret is kept) and revoke one (its screens go blank).

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::format::format_utc;
use crate::model::AppError;
use crate::pages::actions::{confirm, copy_text, ActionNotice};
use crate::pages::form_field::InlineField;
use crate::pages::table::DataTable;
use berth_wire::auth::{BoardLink, CreatedBoardLink, Role};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;

/// The links not revoked, oldest first. A GET, for admins.
#[server(prefix = "/ui/fn", endpoint = "list_board_links", input = GetUrl)]
pub async fn list_board_links() -> Result<Vec<BoardLink>, AppError> {
    let engine = crate::model::engine()?;
    Ok(engine.auth().board_links().await?)
}

/// A new link named `name`, valid for `hours` (0: until revoked), made by the caller.
#[server(
    prefix = "/ui/fn",
    endpoint = "create_board_link",
    input = Json,
    client = CsrfClient
)]
pub async fn create_board_link(name: String, hours: u64) -> Result<CreatedBoardLink, AppError> {
    let engine = crate::model::engine()?;
    let me = crate::auth::current_me().ok_or_else(|| AppError::Refused {
        code: berth_wire::ErrorCode::Unauthorized,
        message: "log in first".into(),
    })?;
    let expires = (hours > 0).then(|| std::time::Duration::from_secs(hours.saturating_mul(3600)));
    let (secret, info) = engine
        .auth()
        .create_board_link(&me.username, name.trim(), expires)
        .await?;
    Ok(CreatedBoardLink {
        path: format!("/board/{secret}"),
        info,
    })
}

/// Revokes the link `id`; answers what was done.
#[server(
    prefix = "/ui/fn",
    endpoint = "revoke_board_link",
    input = Json,
    client = CsrfClient
)]
pub async fn revoke_board_link(id: String, name: String) -> Result<String, AppError> {
    let engine = crate::model::engine()?;
    engine.auth().revoke_board_link(&id).await?;
    Ok(format!(
        "Revoked the board link {name}: its screens go blank."
    ))
}

/// How long a new link lasts, as offered: (hours, label).
const LIFETIMES: [(u64, &str); 4] = [
    (0, "until revoked"),
    (24, "1 day"),
    (24 * 7, "1 week"),
    (24 * 30, "30 days"),
];

#[component]
pub fn BoardLinksPage() -> impl IntoView {
    let admin = use_caller().role() == Some(Role::Admin);
    view! {
        <Title text="Board links · berth"/>
        <div class="page-head">
            <h1>"Board links"</h1>
        </div>
        <p class="muted intro">
            "A board link shows this host's containers, large and live, to anyone who has the address: no login, no controls. For a wall screen."
        </p>
        {if admin {
            view! { <BoardLinks/> }.into_any()
        } else {
            view! {
                <p class="muted" data-testid="boards-need-admin">"Board links are made by admins."</p>
            }
                .into_any()
        }}
    }
}

#[component]
fn BoardLinks() -> impl IntoView {
    let create = ServerAction::<CreateBoardLink>::new();
    let revoke = ServerAction::<RevokeBoardLink>::new();
    let links = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_board_links(),
    );
    let name = RwSignal::new(String::new());
    let hours = RwSignal::new(0u64);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateBoardLink {
            name: name.get_untracked(),
            hours: hours.get_untracked(),
        });
    };
    let created = move || {
        create.value().get().map(|r| match r {
            Ok(made) => view! { <CreatedNotice made/> }.into_any(),
            Err(e) => view! {
                <p class="error" role="alert" data-testid="action-error">{e.to_string()}</p>
            }
            .into_any(),
        })
    };
    view! {
        <form class="pull-form" data-testid="board-form" on:submit=submit>
            <InlineField id="board-name" label="Name" placeholder="Lobby wall" testid="board-name" value=name grow=true/>
            <div class="field">
                <label for="board-lifetime">"Valid"</label>
                <select
                    id="board-lifetime"
                    data-testid="board-lifetime"
                    on:change=move |ev| hours.set(event_target_value(&ev).parse().unwrap_or(0))
                >
                    {LIFETIMES
                        .iter()
                        .map(|&(h, label)| view! { <option value=h.to_string()>{label}</option> })
                        .collect_view()}
                </select>
            </div>
            <button
                type="submit"
                class="btn primary"
                data-testid="board-create"
                disabled=move || create.pending().get()
            >
                "Create link"
            </button>
        </form>
        {created}
        <ActionNotice value=revoke.value()/>
        <Transition fallback=|| view! { <p class="muted">"Loading board links…"</p> }>
            {move || Suspend::new(async move {
                match links.await {
                    Ok(list) if list.is_empty() => {
                        view! { <p class="empty" data-testid="no-boards">"No board links yet."</p> }
                            .into_any()
                    }
                    Ok(list) => {
                        let rows = list
                            .into_iter()
                            .map(|link| view! { <BoardRow link revoke/> })
                            .collect_view();
                        let columns = vec![
                            ("Name", ""),
                            ("Made by", "col-by"),
                            ("Created", "col-created"),
                            ("Valid until", ""),
                            ("Actions", "actions-head"),
                        ];
                        view! {
                            <DataTable class="boards" testid="boards-table" columns>{rows}</DataTable>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="list-error">
                                {format!("cannot list board links: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The new link's address, shown this once, with a button that copies it whole.
#[component]
fn CreatedNotice(made: CreatedBoardLink) -> impl IntoView {
    let copied = RwSignal::new(false);
    let path = made.path.clone();
    let copy = move |_| {
        // The whole address: a wall screen is set up from another machine.
        #[cfg(feature = "hydrate")]
        let origin = window().location().origin().unwrap_or_default();
        #[cfg(not(feature = "hydrate"))]
        let origin = String::new();
        copy_text(format!("{origin}{path}"), copied);
    };
    view! {
        <div class="notice created-link" role="status" data-testid="board-created">
            <p>
                {format!("Created the board link {}. Its address is shown only now:", made.info.name)}
            </p>
            <p class="run-line-row">
                <a class="mono" href=made.path.clone() target="_blank" rel="noopener" data-testid="board-address">
                    {made.path.clone()}
                </a>
                <button type="button" class="btn" data-testid="board-copy" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy address" }}
                </button>
            </p>
        </div>
    }
}

#[component]
fn BoardRow(link: BoardLink, revoke: ServerAction<RevokeBoardLink>) -> impl IntoView {
    let BoardLink {
        id,
        name,
        created_by,
        created_at_ms,
        expires_at_ms,
    } = link;
    let until = expires_at_ms.map_or_else(|| "until revoked".to_string(), format_utc);
    let label = name.clone();
    view! {
        <tr data-testid="board-row" data-name=name.clone()>
            <td class="col-name">
                <span class="ref" title=name.clone()>{name.clone()}</span>
            </td>
            <td class="col-by">{created_by}</td>
            <td class="col-created">{format_utc(created_at_ms)}</td>
            <td>{until}</td>
            <td class="actions">
                <button
                    class="btn small-btn danger"
                    data-testid="board-revoke"
                    disabled=move || revoke.pending().get()
                    on:click=move |_| {
                        if confirm(&format!("Revoke the board link {label}? Screens showing it go blank.")) {
                            revoke.dispatch(RevokeBoardLink { id: id.clone(), name: label.clone() });
                        }
                    }
                >
                    "Revoke"
                </button>
            </td>
        </tr>
    }
}
