//! The registries page: the stored logins (registry and user; a password never comes back),
//! which admins add, edit, test and remove; and a browser of any registry's repositories and
//! their tags, from which operators pull a tag with the same live progress as the images page.

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::model::AppError;
use crate::pages::actions::confirm;
use crate::pages::table::DataTable;
use crate::pages::transfer_view::{start_pull, TransferView};
use crate::progress::Transfer;
use berth_wire::auth::Role;
use berth_wire::registry::{Page, StoredLogin};
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;

/// The most names one browse page asks for.
const BROWSE_PAGE: u32 = 100;

/// The stored logins, without passwords. A GET.
#[server(prefix = "/ui/fn", endpoint = "list_registries", input = GetUrl)]
pub async fn list_registries() -> Result<Vec<StoredLogin>, AppError> {
    let engine = crate::model::engine()?;
    Ok(engine.images().stored_logins().await?)
}

/// Checks a login against the registry and, with `save`, stores it (adding or replacing the
/// registry's login). Without a password, `save` is refused and the check uses the stored
/// login. Answers what happened, in words.
#[server(
    prefix = "/ui/fn",
    endpoint = "registry_login",
    input = Json,
    client = CsrfClient
)]
pub async fn registry_login(
    registry: String,
    username: String,
    password: String,
    save: bool,
) -> Result<String, AppError> {
    let engine = crate::model::engine()?;
    let registry = registry.trim().to_string();
    if registry.is_empty() {
        return Err(AppError::InvalidInput(
            "write the registry's address, e.g. registry.example.com or 127.0.0.1:5000".into(),
        ));
    }
    let username = username.trim().to_string();
    if save {
        if username.is_empty() || password.is_empty() {
            return Err(AppError::InvalidInput(
                "a user name and a password (or token) are needed to save a login".into(),
            ));
        }
        let name = engine
            .images()
            .login(&registry, &username, &password)
            .await?;
        return Ok(format!("Login for {name} checked and saved."));
    }
    let given = (!password.is_empty()).then_some((username.as_str(), password.as_str()));
    let how = if given.is_some() {
        "these credentials"
    } else {
        "the stored login"
    };
    let name = engine.images().check_login(&registry, given).await?;
    Ok(format!("{name} accepts {how}."))
}

/// Forgets a registry's stored login.
#[server(
    prefix = "/ui/fn",
    endpoint = "remove_registry",
    input = Json,
    client = CsrfClient
)]
pub async fn remove_registry(registry: String) -> Result<String, AppError> {
    let engine = crate::model::engine()?;
    if engine.images().logout(&registry).await? {
        Ok(format!("Removed the login for {registry}."))
    } else {
        Err(AppError::NotFound(format!(
            "no login is stored for {registry}"
        )))
    }
}

/// One page of a registry's repositories, or with `repository` of its tags. A GET.
#[server(prefix = "/ui/fn", endpoint = "browse_registry", input = GetUrl)]
pub async fn browse_registry(
    registry: String,
    repository: Option<String>,
    last: Option<String>,
) -> Result<Page, AppError> {
    let engine = crate::model::engine()?;
    let registry = registry.trim().to_string();
    if registry.is_empty() {
        return Err(AppError::InvalidInput("write a registry to browse".into()));
    }
    let last = last.filter(|l| !l.is_empty());
    let page = match repository.filter(|r| !r.is_empty()) {
        Some(repo) => {
            engine
                .images()
                .registry_tags(&registry, &repo, Some(BROWSE_PAGE), last.as_deref())
                .await?
        }
        None => {
            engine
                .images()
                .registry_catalog(&registry, Some(BROWSE_PAGE), last.as_deref())
                .await?
        }
    };
    Ok(page)
}

/// What the browser looks at: a registry's catalogue, or one repository's tags.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Browsing {
    registry: String,
    repository: Option<String>,
}

#[component]
pub fn RegistriesPage() -> impl IntoView {
    let caller = use_caller();
    let is_admin = caller.role() == Some(Role::Admin);
    let can_operate = caller.can_operate();
    let login = ServerAction::<RegistryLogin>::new();
    let remove = ServerAction::<RemoveRegistry>::new();
    let logins = Resource::new(
        move || (login.version().get(), remove.version().get()),
        |_| list_registries(),
    );
    let form_open = RwSignal::new(false);
    let form_registry = RwSignal::new(String::new());
    let form_user = RwSignal::new(String::new());
    let browsing = RwSignal::new(None::<Browsing>);
    let transfer = RwSignal::new(None::<Transfer>);

    let count = move || Suspend::new(async move { logins.await.ok().map(|l| l.len().to_string()) });
    let outcome = move || {
        let last = match (login.value().get(), remove.value().get()) {
            (Some(a), Some(b)) => {
                if login.version().get_untracked() >= remove.version().get_untracked() {
                    Some(a)
                } else {
                    Some(b)
                }
            }
            (a, b) => a.or(b),
        };
        last.map(|r| match r {
            Ok(text) => {
                view! { <p class="notice" role="status" data-testid="registry-done">{text}</p> }
                    .into_any()
            }
            Err(e) => view! {
                <p class="error" role="alert" data-testid="registry-error">{e.to_string()}</p>
            }
            .into_any(),
        })
    };

    view! {
        <Title text="Registries · berth"/>
        <div class="page-head">
            <h1>"Registries" <Transition fallback=|| ()>
                    <span class="count" data-testid="registry-count">{count}</span>
                </Transition></h1>
            <div class="page-actions">
                <Show when=move || is_admin>
                    <button
                        class="btn primary"
                        data-testid="registry-add"
                        aria-expanded=move || form_open.get().to_string()
                        on:click=move |_| {
                            form_registry.set(String::new());
                            form_user.set(String::new());
                            form_open.update(|o| *o = !*o);
                        }
                    >
                        "Add registry"
                    </button>
                </Show>
            </div>
        </div>
        <Show when=move || is_admin && form_open.get()>
            <LoginForm login form_registry form_user/>
        </Show>
        {outcome}
        <Transition fallback=|| view! { <p class="muted">"Loading registries…"</p> }>
            {move || Suspend::new(async move {
                match logins.await {
                    Ok(list) if list.is_empty() => {
                        let hint = if is_admin {
                            "No stored logins. Add one with “Add registry” to pull private images; public registries need none — browse one below."
                        } else {
                            "No stored logins. An admin can add one; public registries need none — browse one below."
                        };
                        view! { <p class="empty" data-testid="no-registries">{hint}</p> }.into_any()
                    }
                    Ok(list) => {
                        let rows = list
                            .into_iter()
                            .map(|l| {
                                let StoredLogin { registry, username } = l;
                                let (r_browse, r_edit, u_edit, r_test, r_remove) = (
                                    registry.clone(),
                                    registry.clone(),
                                    username.clone(),
                                    registry.clone(),
                                    registry.clone(),
                                );
                                view! {
                                    <tr data-testid="registry-row" data-registry=registry.clone()>
                                        <td class="mono ref" title=registry.clone()>{registry.clone()}</td>
                                        <td class="mono" data-testid="registry-user">{username.clone()}</td>
                                        <td class="actions">
                                            <button
                                                class="btn small-btn"
                                                data-testid="registry-browse"
                                                on:click=move |_| browsing.set(Some(Browsing {
                                                    registry: r_browse.clone(),
                                                    repository: None,
                                                }))
                                            >
                                                "Browse"
                                            </button>
                                            <Show when=move || is_admin>
                                                <button
                                                    class="btn small-btn"
                                                    data-testid="registry-test"
                                                    disabled=move || login.pending().get()
                                                    on:click={
                                                        let r = r_test.clone();
                                                        move |_| {
                                                            login.dispatch(RegistryLogin {
                                                                registry: r.clone(),
                                                                username: String::new(),
                                                                password: String::new(),
                                                                save: false,
                                                            });
                                                        }
                                                    }
                                                >
                                                    "Test login"
                                                </button>
                                                <button
                                                    class="btn small-btn"
                                                    data-testid="registry-edit"
                                                    on:click={
                                                        let (r, u) = (r_edit.clone(), u_edit.clone());
                                                        move |_| {
                                                            form_registry.set(r.clone());
                                                            form_user.set(u.clone());
                                                            form_open.set(true);
                                                        }
                                                    }
                                                >
                                                    "Edit"
                                                </button>
                                                <button
                                                    class="btn small-btn danger"
                                                    data-testid="registry-remove"
                                                    disabled=move || remove.pending().get()
                                                    on:click={
                                                        let r = r_remove.clone();
                                                        move |_| {
                                                            if confirm(&format!("Forget the login for {r}?")) {
                                                                remove.dispatch(RemoveRegistry { registry: r.clone() });
                                                            }
                                                        }
                                                    }
                                                >
                                                    "Remove"
                                                </button>
                                            </Show>
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view();
                        let columns = vec![("Registry", ""), ("User", ""), ("Actions", "actions-head")];
                        view! {
                            <DataTable class="registries" testid="registries-table" columns>
                                {rows}
                            </DataTable>
                        }
                            .into_any()
                    }
                    Err(e) => view! {
                        <p class="error" role="alert" data-testid="list-error">
                            {format!("cannot list registries: {e}")}
                        </p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <RegistryBrowser browsing transfer can_operate/>
    }
}

/// Add or edit a login: the password field always starts empty (it is never sent back).
#[component]
fn LoginForm(
    login: ServerAction<RegistryLogin>,
    form_registry: RwSignal<String>,
    form_user: RwSignal<String>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    // Whether the last request was a save (a test keeps the password for the save after it).
    let saving = RwSignal::new(false);
    let send = move |save: bool| {
        saving.set(save);
        login.dispatch(RegistryLogin {
            registry: form_registry.get_untracked(),
            username: form_user.get_untracked(),
            password: password.get_untracked(),
            save,
        });
    };
    // A saved login empties the password field.
    Effect::new(move |_| {
        if matches!(login.value().get(), Some(Ok(_))) && saving.get_untracked() {
            password.set(String::new());
        }
    });
    let send_test = send;
    view! {
        <form
            class="pull-form login-form"
            data-testid="registry-form"
            on:submit=move |ev| {
                ev.prevent_default();
                send(true);
            }
        >
            <div class="field grow">
                <label for="reg-address">"Registry"</label>
                <input
                    id="reg-address"
                    type="text"
                    class="mono"
                    placeholder="registry.example.com or 127.0.0.1:5000"
                    autocomplete="off"
                    spellcheck="false"
                    data-testid="registry-address"
                    prop:value=move || form_registry.get()
                    on:input=move |ev| form_registry.set(event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="reg-user">"User"</label>
                <input
                    id="reg-user"
                    type="text"
                    autocomplete="username"
                    data-testid="registry-username"
                    prop:value=move || form_user.get()
                    on:input=move |ev| form_user.set(event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="reg-password">"Password or token"</label>
                <input
                    id="reg-password"
                    type="password"
                    autocomplete="new-password"
                    data-testid="registry-password"
                    prop:value=move || password.get()
                    on:input=move |ev| password.set(event_target_value(&ev))
                />
            </div>
            <button
                type="button"
                class="btn"
                data-testid="registry-form-test"
                disabled=move || login.pending().get()
                on:click=move |_| send_test(false)
            >
                "Test login"
            </button>
            <button
                type="submit"
                class="btn primary"
                data-testid="registry-save"
                disabled=move || login.pending().get()
            >
                "Save"
            </button>
        </form>
    }
}

/// Browse any registry: its repositories, then a repository's tags, each tag pullable.
#[component]
fn RegistryBrowser(
    browsing: RwSignal<Option<Browsing>>,
    transfer: RwSignal<Option<Transfer>>,
    can_operate: bool,
) -> impl IntoView {
    let address = RwSignal::new(String::new());
    // Following the table's Browse buttons.
    Effect::new(move |_| {
        if let Some(b) = browsing.get() {
            address.set(b.registry);
        }
    });
    let page = Resource::new(
        move || browsing.get(),
        |b| async move {
            match b {
                None => Ok(None),
                Some(b) => browse_registry(b.registry, b.repository, None)
                    .await
                    .map(Some),
            }
        },
    );
    view! {
        <h2 class="section">"Browse a registry"</h2>
        <form
            class="pull-form browse-form"
            data-testid="browse-form"
            on:submit=move |ev| {
                ev.prevent_default();
                browsing.set(Some(Browsing {
                    registry: address.get_untracked(),
                    repository: None,
                }));
            }
        >
            <div class="field grow">
                <label for="browse-address">"Registry"</label>
                <input
                    id="browse-address"
                    type="text"
                    class="mono"
                    placeholder="127.0.0.1:5000"
                    autocomplete="off"
                    spellcheck="false"
                    data-testid="browse-address"
                    prop:value=move || address.get()
                    on:input=move |ev| address.set(event_target_value(&ev))
                />
            </div>
            <button type="submit" class="btn" data-testid="browse-submit">"Browse"</button>
        </form>
        <TransferView state=transfer/>
        <Transition fallback=|| view! { <p class="muted">"Asking the registry…"</p> }>
            {move || {
                let watched = browsing.get();
                Suspend::new(async move {
                let Some(b) = watched else {
                    return view! {
                        <p class="empty" data-testid="browse-idle">
                            "Write a registry's address, or press Browse beside a stored login, to see its repositories and tags."
                        </p>
                    }
                    .into_any();
                };
                match page.await {
                    Ok(None) => ().into_any(),
                    Ok(Some(page)) => view! { <BrowseList b page browsing transfer can_operate/> }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert" data-testid="browse-error">
                            {format!("Cannot browse {}: {e}", b.registry)}
                        </p>
                    }
                    .into_any(),
                }
            })
            }}
        </Transition>
    }
}

#[component]
fn BrowseList(
    b: Browsing,
    page: Page,
    browsing: RwSignal<Option<Browsing>>,
    transfer: RwSignal<Option<Transfer>>,
    can_operate: bool,
) -> impl IntoView {
    let Browsing {
        registry,
        repository,
    } = b;
    let more = page.next.is_some().then(|| {
        view! {
            <p class="muted small" data-testid="browse-more">
                {format!("Showing the first {BROWSE_PAGE}; the registry has more.")}
            </p>
        }
    });
    match repository {
        None => {
            let empty = page.names.is_empty().then(|| {
                view! { <p class="empty" data-testid="browse-empty">"This registry has no repositories yet. Push one with berth push."</p> }
            });
            let items = page
                .names
                .into_iter()
                .map(|name| {
                    let reg = registry.clone();
                    let repo = name.clone();
                    view! {
                        <li>
                            <button
                                class="linkish mono"
                                data-testid="browse-repo"
                                title=name.clone()
                                on:click=move |_| browsing.set(Some(Browsing {
                                    registry: reg.clone(),
                                    repository: Some(repo.clone()),
                                }))
                            >
                                {name.clone()}
                            </button>
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="browse" data-testid="browse-repos">
                    <p class="browse-where mono">{registry.clone()}</p>
                    {empty}
                    <ul class="browse-list">{items}</ul>
                    {more}
                </div>
            }
            .into_any()
        }
        Some(repo) => {
            let back_reg = registry.clone();
            let items = page
                .names
                .into_iter()
                .map(|tag| {
                    let reference = format!("{registry}/{repo}:{tag}");
                    let pull = can_operate.then(|| {
                        let reference = reference.clone();
                        view! {
                            <button
                                class="btn small-btn"
                                data-testid="browse-pull"
                                disabled=move || transfer.with(|t| t.as_ref().is_some_and(Transfer::running))
                                on:click=move |_| start_pull(reference.clone(), transfer)
                            >
                                "Pull"
                            </button>
                        }
                    });
                    view! {
                        <li class="browse-tag" data-testid="browse-tag" data-tag=tag.clone()>
                            <span class="mono ref" title=reference.clone()>{tag.clone()}</span>
                            {pull}
                        </li>
                    }
                })
                .collect_view();
            view! {
                <div class="browse" data-testid="browse-tags">
                    <p class="browse-where">
                        <button
                            class="linkish"
                            data-testid="browse-back"
                            on:click=move |_| browsing.set(Some(Browsing {
                                registry: back_reg.clone(),
                                repository: None,
                            }))
                        >
                            {format!("← {registry}")}
                        </button>
                        <span class="mono">{format!(" / {repo}")}</span>
                    </p>
                    <ul class="browse-list">{items}</ul>
                    {more}
                </div>
            }
            .into_any()
        }
    }
}
