//! The images page: every local image as one row per tag (repository:tag, short id, size,
//! created, how many containers use it), a search box, the pull form with live per-layer
//! progress, and for operators tag, push, remove and "prune unused".

use crate::auth::use_caller;
use crate::csrf::CsrfClient;
use crate::format::{format_utc, humanize_age};
use crate::model::{short_id, AppError};
use crate::pages::actions::{confirm, ActionNotice};
use crate::pages::table::DataTable;
use crate::pages::transfer_view::{start_pull, start_push, TransferView};
use crate::progress::{format_bytes, Transfer};
use berth_wire::image::ImageSummary;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// The list page's data: the images, with the server's clock (relative times render the same
/// on both sides) and the registries with a stored login (the pull form offers them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageList {
    pub now_ms: i64,
    pub images: Vec<ImageItem>,
    pub registries: Vec<String>,
}

/// One image and what uses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageItem {
    pub image: ImageSummary,
    /// Containers (any state) created from it.
    pub containers: u32,
    /// The config's creation time in Unix milliseconds, if it has one.
    pub created_ms: Option<i64>,
}

/// What an operator can do to images from this page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ImageOp {
    /// Give the image `source` (a reference or id) the name `target`.
    Tag { source: String, target: String },
    /// Untag `reference`, deleting the image with its last name; refused while a container
    /// uses it.
    Remove { reference: String },
    /// Delete every image no container uses.
    Prune,
}

/// All images with their use counts. A GET: reading needs no CSRF token.
#[server(prefix = "/ui/fn", endpoint = "list_images", input = GetUrl)]
pub async fn list_images() -> Result<ImageList, AppError> {
    let engine = crate::model::engine()?;
    let images = engine.images().list().await?;
    let counts = engine.images().containers_per_image().await?;
    let registries = engine.images().logged_in_registries().await?;
    Ok(ImageList {
        now_ms: crate::model::now_ms(),
        images: images
            .into_iter()
            .map(|image| {
                let seconds = berth_engine::created_seconds(image.created.as_deref());
                ImageItem {
                    containers: counts.get(&image.id).copied().unwrap_or(0),
                    created_ms: (seconds > 0).then(|| seconds.saturating_mul(1000)),
                    image,
                }
            })
            .collect(),
        registries,
    })
}

/// Applies one [`ImageOp`]; answers what was done, in words.
#[server(
    prefix = "/ui/fn",
    endpoint = "image_action",
    input = Json,
    client = CsrfClient
)]
pub async fn image_action(op: ImageOp) -> Result<String, AppError> {
    let engine = crate::model::engine()?;
    match op {
        ImageOp::Tag { source, target } => {
            let target = target.trim();
            if target.is_empty() {
                return Err(AppError::InvalidInput("a new name is required".into()));
            }
            engine.images().tag(&source, target).await?;
            Ok(format!("Tagged {source} as {target}."))
        }
        ImageOp::Remove { reference } => {
            let records =
                engine.images().remove(&reference, false).await.map_err(
                    |e| match AppError::from(e) {
                        AppError::Conflict(m) => {
                            AppError::Conflict(format!("Cannot remove {reference}: {m}"))
                        }
                        other => other,
                    },
                )?;
            Ok(ssr::removed_text(&records))
        }
        ImageOp::Prune => {
            let report = engine.images().prune(true).await?;
            let deleted = report
                .images_deleted
                .iter()
                .filter(|r| matches!(r, berth_engine::ImageDeleteRecord::Deleted(_)))
                .count();
            Ok(match deleted {
                0 => "No unused images to remove.".to_string(),
                1 => format!(
                    "Removed 1 unused image, {} freed.",
                    format_bytes(report.space_reclaimed as i64)
                ),
                n => format!(
                    "Removed {n} unused images, {} freed.",
                    format_bytes(report.space_reclaimed as i64)
                ),
            })
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use berth_engine::ImageDeleteRecord;

    /// "Untagged busybox:1." or "Deleted busybox:latest (sha256:…)."
    pub fn removed_text(records: &[ImageDeleteRecord]) -> String {
        let untagged: Vec<&str> = records
            .iter()
            .filter_map(|r| match r {
                ImageDeleteRecord::Untagged(t) => Some(t.as_str()),
                ImageDeleteRecord::Deleted(_) => None,
            })
            .collect();
        let deleted = records
            .iter()
            .any(|r| matches!(r, ImageDeleteRecord::Deleted(_)));
        match (untagged.is_empty(), deleted) {
            (false, true) => format!("Removed {}.", untagged.join(", ")),
            (false, false) => format!("Untagged {}.", untagged.join(", ")),
            (true, true) => "Removed the image.".to_string(),
            (true, false) => "Nothing was removed.".to_string(),
        }
    }
}

/// One line of the table: an image under one of its names (or `<none>`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageLine {
    /// The name shown (`busybox:latest`), `<none>` for an untagged image.
    pub name: String,
    /// What actions name: the tag, or the id for an untagged image.
    pub reference: String,
    pub tagged: bool,
    pub item: ImageItem,
}

/// The table's lines: one per tag, an untagged image once; those that match `query` (in the
/// name or the id, ignoring case), sorted by name with untagged ones last.
pub fn lines(images: &[ImageItem], query: &str) -> Vec<ImageLine> {
    let query = query.trim().to_ascii_lowercase();
    let mut out: Vec<ImageLine> = images
        .iter()
        .flat_map(|item| {
            let names: Vec<(String, bool)> = if item.image.repo_tags.is_empty() {
                vec![("<none>".to_string(), false)]
            } else {
                item.image
                    .repo_tags
                    .iter()
                    .map(|t| (t.clone(), true))
                    .collect()
            };
            names.into_iter().map(|(name, tagged)| ImageLine {
                reference: if tagged {
                    name.clone()
                } else {
                    item.image.id.clone()
                },
                name,
                tagged,
                item: item.clone(),
            })
        })
        .filter(|line| {
            query.is_empty()
                || line.name.to_ascii_lowercase().contains(&query)
                || line
                    .item
                    .image
                    .id
                    .trim_start_matches("sha256:")
                    .starts_with(&query)
        })
        .collect();
    out.sort_by(|a, b| (!a.tagged, &a.name).cmp(&(!b.tagged, &b.name)));
    out
}

/// The hex of an image id without `sha256:`, cut to 12 digits.
pub fn short_image_id(id: &str) -> String {
    short_id(id.trim_start_matches("sha256:")).to_string()
}

/// Asks the user for a line of text; `None` when cancelled or empty.
fn prompt(message: &str, default: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        window()
            .prompt_with_message_and_default(message, default)
            .ok()
            .flatten()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (message, default);
        None
    }
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let action = ServerAction::<ImageAction>::new();
    let transfer = RwSignal::new(None::<Transfer>);
    // Bumped by the daemon's events (a pull, tag or delete made anywhere) and by a finished
    // pull or push on this page.
    let changes = crate::live_state::use_live().changes;
    let images = Resource::new(
        move || (action.version().get(), changes.get()),
        |_| list_images(),
    );
    let query = RwSignal::new(String::new());
    let pull_open = RwSignal::new(false);
    let can_operate = use_caller().can_operate();
    let search = NodeRef::<leptos::html::Input>::new();

    #[cfg(feature = "hydrate")]
    {
        // `/` focuses the search box (unless typing somewhere already).
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            use wasm_bindgen::JsCast;
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                });
            if ev.key() == "/" && !typing {
                if let Some(input) = search.get_untracked() {
                    ev.prevent_default();
                    let _ = input.focus();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }

    let on_done = Callback::new(move |_| changes.update(|n| *n += 1));
    let count =
        move || Suspend::new(async move { images.await.ok().map(|l| l.images.len().to_string()) });

    view! {
        <Title text="Images · berth"/>
        <div class="page-head">
            <h1>"Images" <Transition fallback=|| ()>
                    <span class="count" data-testid="image-count">{count}</span>
                </Transition></h1>
            <div class="page-actions">
                <Show when=move || can_operate>
                    <button
                        class="btn primary"
                        data-testid="pull-open"
                        aria-expanded=move || pull_open.get().to_string()
                        on:click=move |_| pull_open.update(|o| *o = !*o)
                    >
                        "Pull image"
                    </button>
                </Show>
            </div>
        </div>
        <Show when=move || can_operate && pull_open.get()>
            <PullForm transfer images/>
        </Show>
        <TransferView state=transfer on_done/>
        <ActionNotice value=action.value()/>
        <div class="filter-row">
            <input
                type="search"
                class="search"
                placeholder="Search images   ( / )"
                aria-label="Search images by name or id"
                data-testid="image-search"
                node_ref=search
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <Show when=move || can_operate>
                <button
                    class="btn"
                    data-testid="prune-images"
                    disabled=move || action.pending().get()
                    on:click=move |_| {
                        if confirm("Remove every image that no container uses?") {
                            action.dispatch(ImageAction { op: ImageOp::Prune });
                        }
                    }
                >
                    "Prune unused"
                </button>
            </Show>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading images…"</p> }>
            {move || Suspend::new(async move {
                match images.await {
                    Ok(list) => {
                        view! { <ImageTable list query action transfer can_operate/> }.into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="list-error">
                                {format!("cannot list images: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The pull form: a reference and, optionally, a registry with a stored login to pull from.
#[component]
fn PullForm(
    transfer: RwSignal<Option<Transfer>>,
    images: Resource<Result<ImageList, AppError>>,
) -> impl IntoView {
    let reference = RwSignal::new(String::new());
    let registry = RwSignal::new(String::new());
    let form_error = RwSignal::new(None::<String>);
    let busy = move || transfer.with(|t| t.as_ref().is_some_and(Transfer::running));
    let registries = move || {
        images
            .get()
            .and_then(Result::ok)
            .map(|l| l.registries)
            .unwrap_or_default()
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match full_reference(&registry.get_untracked(), &reference.get_untracked()) {
            Ok(full) => {
                form_error.set(None);
                start_pull(full, transfer);
            }
            Err(e) => form_error.set(Some(e)),
        }
    };
    view! {
        <form class="pull-form" data-testid="pull-form" on:submit=submit>
            <div class="field grow">
                <label for="pull-reference">"Image"</label>
                <input
                    id="pull-reference"
                    type="text"
                    class="mono"
                    placeholder="busybox:latest or 127.0.0.1:5000/team/app:1"
                    autocomplete="off"
                    spellcheck="false"
                    data-testid="pull-reference"
                    prop:value=move || reference.get()
                    on:input=move |ev| reference.set(event_target_value(&ev))
                />
            </div>
            <div class="field">
                <label for="pull-registry">"Registry"</label>
                <select
                    id="pull-registry"
                    data-testid="pull-registry"
                    on:change=move |ev| registry.set(event_target_value(&ev))
                >
                    <option value="">"As written (anonymous or stored login)"</option>
                    {move || {
                        registries()
                            .into_iter()
                            .map(|r| {
                                let label = format!("{r} (stored login)");
                                view! { <option value=r>{label}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            </div>
            <button type="submit" class="btn primary" data-testid="pull-submit" disabled=busy>
                {move || if busy() { "Pulling…" } else { "Pull" }}
            </button>
            {move || {
                form_error
                    .get()
                    .map(|e| view! { <p class="error field-error" role="alert" data-testid="pull-form-error">{e}</p> })
            }}
        </form>
    }
}

/// The reference to pull: `reference` as written, or under `registry` when one is chosen and
/// the reference does not name a registry already.
pub fn full_reference(registry: &str, reference: &str) -> Result<String, String> {
    let reference = reference.trim();
    if reference.is_empty() {
        return Err("Write the image to pull, e.g. busybox:latest.".into());
    }
    if reference.chars().any(char::is_whitespace) {
        return Err("An image reference has no spaces.".into());
    }
    let registry = registry.trim();
    if registry.is_empty() || reference.starts_with(&format!("{registry}/")) {
        return Ok(reference.to_string());
    }
    Ok(format!("{registry}/{reference}"))
}

#[component]
fn ImageTable(
    list: ImageList,
    query: RwSignal<String>,
    action: ServerAction<ImageAction>,
    transfer: RwSignal<Option<Transfer>>,
    can_operate: bool,
) -> impl IntoView {
    if list.images.is_empty() {
        let hint = if can_operate {
            "No images yet. Pull one with “Pull image” above, or load an archive with "
        } else {
            "No images yet. An operator can pull one, or load an archive with "
        };
        return view! {
            <p class="empty" data-testid="no-images">
                {hint}
                <code>"berth load -i image.tar"</code>
                "."
            </p>
        }
        .into_any();
    }
    let ImageList { now_ms, images, .. } = list;
    let rows = move || {
        let shown = lines(&images, &query.get());
        if shown.is_empty() {
            return view! {
                <tr>
                    <td colspan="6" class="empty-row" data-testid="no-match">
                        "No image matches this search."
                    </td>
                </tr>
            }
            .into_any();
        }
        shown
            .into_iter()
            .map(|line| view! { <ImageRow line now_ms action transfer can_operate/> })
            .collect_view()
            .into_any()
    };
    let columns = vec![
        ("Repository:tag", ""),
        ("ID", "col-id"),
        ("Size", "num"),
        ("Created", "col-created"),
        ("In use", "num col-used"),
        (if can_operate { "Actions" } else { "" }, "actions-head"),
    ];
    view! { <DataTable class="" testid="images-table" columns>{rows}</DataTable> }.into_any()
}

#[component]
fn ImageRow(
    line: ImageLine,
    now_ms: i64,
    action: ServerAction<ImageAction>,
    transfer: RwSignal<Option<Transfer>>,
    can_operate: bool,
) -> impl IntoView {
    let ImageLine {
        name,
        reference,
        tagged,
        item,
    } = line;
    let href = format!("/images/{}", item.image.id.trim_start_matches("sha256:"));
    let id = short_image_id(&item.image.id);
    let (created_text, created_title) = match item.created_ms {
        Some(ms) => (humanize_age(now_ms, ms), format_utc(ms)),
        None => ("—".to_string(), String::new()),
    };
    let used = match item.containers {
        0 => "—".to_string(),
        1 => "1 container".to_string(),
        n => format!("{n} containers"),
    };
    let buttons = can_operate.then(|| {
        let busy = move || action.pending().get();
        let tag_source = reference.clone();
        let tag_label = name.clone();
        let push_ref = reference.clone();
        let remove_ref = reference.clone();
        let remove_label = name.clone();
        let in_use = item.containers;
        let run_href = format!("/run?image={}", crate::format::encode_query(&reference));
        view! {
            <a class="btn small-btn" href=run_href data-testid="run-image-button" title="Run a container from this image">
                "Run"
            </a>
            <button
                class="btn small-btn"
                data-testid="tag-button"
                title="Give this image another name"
                disabled=busy
                on:click=move |_| {
                    if let Some(target) = prompt(&format!("New name for {tag_label}:"), &tag_label) {
                        action.dispatch(ImageAction {
                            op: ImageOp::Tag { source: tag_source.clone(), target },
                        });
                    }
                }
            >
                "Tag"
            </button>
            <Show when=move || tagged>
                <button
                    class="btn small-btn"
                    data-testid="push-button"
                    title="Push to the registry in its name"
                    disabled=move || transfer.with(|t| t.as_ref().is_some_and(Transfer::running))
                    on:click={
                        let push_ref = push_ref.clone();
                        move |_| start_push(push_ref.clone(), transfer)
                    }
                >
                    "Push"
                </button>
            </Show>
            <button
                class="btn small-btn danger"
                data-testid="remove-image-button"
                title="Remove this name (the image goes with its last name)"
                disabled=busy
                on:click=move |_| {
                    let ask = if in_use > 0 {
                        format!("Remove {remove_label}? Containers use this image; the daemon will refuse if this is its last name.")
                    } else {
                        format!("Remove {remove_label}?")
                    };
                    if confirm(&ask) {
                        action.dispatch(ImageAction {
                            op: ImageOp::Remove { reference: remove_ref.clone() },
                        });
                    }
                }
            >
                "Remove"
            </button>
        }
    });
    let name_class = if tagged { "mono ref" } else { "mono ref muted" };
    view! {
        <tr data-testid="image-row" data-name=name.clone() data-id=item.image.id.clone()>
            <td class="col-name">
                <a class=name_class href=href title=name.clone() data-testid="image-link">
                    {name.clone()}
                </a>
            </td>
            <td class="mono col-id" title=item.image.id.clone()>{id}</td>
            <td class="num" data-testid="image-size">{format_bytes(item.image.size)}</td>
            <td class="col-created" title=created_title>{created_text}</td>
            <td class="num col-used" data-testid="image-used">{used}</td>
            <td class="actions">{buttons}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, tags: &[&str], containers: u32) -> ImageItem {
        ImageItem {
            image: ImageSummary {
                id: id.into(),
                repo_tags: tags.iter().map(|t| t.to_string()).collect(),
                repo_digests: vec![],
                created: None,
                size: 1000,
                labels: Default::default(),
            },
            containers,
            created_ms: None,
        }
    }

    #[test]
    fn lines_are_one_per_tag_searchable_by_name_or_id() {
        let images = vec![
            item("sha256:bbbb", &["web:2", "web:1"], 1),
            item("sha256:aaaa", &[], 0),
            item("sha256:cccc", &["alpine:3"], 0),
        ];
        let all = lines(&images, "");
        let names: Vec<&str> = all.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["alpine:3", "web:1", "web:2", "<none>"]);
        assert_eq!(all[3].reference, "sha256:aaaa", "untagged: acted on by id");
        assert_eq!(all[1].reference, "web:1");
        assert_eq!(lines(&images, " WEB ").len(), 2);
        assert_eq!(lines(&images, "aaa")[0].name, "<none>");
        assert!(lines(&images, "nothing").is_empty());
        assert_eq!(short_image_id("sha256:0123456789abcdef"), "0123456789ab");
    }

    #[test]
    fn the_registry_chosen_prefixes_a_bare_reference() {
        assert_eq!(full_reference("", " busybox ").as_deref(), Ok("busybox"));
        assert_eq!(
            full_reference("127.0.0.1:5000", "e2e/busybox:1").as_deref(),
            Ok("127.0.0.1:5000/e2e/busybox:1")
        );
        assert_eq!(
            full_reference("127.0.0.1:5000", "127.0.0.1:5000/e2e/busybox:1").as_deref(),
            Ok("127.0.0.1:5000/e2e/busybox:1")
        );
        assert!(full_reference("r", "  ").is_err());
        assert!(full_reference("", "a b").is_err());
    }
}
