//! One volume's page: its details and the containers that mount it, and for operators a file
//! browser over its data (`?path=` names the folder; files download from the API). Viewers
//! see no files: a volume may hold a database's secrets.

use crate::auth::use_caller;
use crate::format::{encode_query, format_utc};
use crate::model::AppError;
use crate::pages::table::{Column, DataTable};
use crate::pages::volumes::{get_volume, VolumeItem};
use crate::progress::format_bytes;
use berth_wire::files::{child, normalise, parent, FileEntry, FileKind, Listing};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// A folder of a volume (traversal-safe in the engine). A GET, for operators.
#[server(prefix = "/ui/fn", endpoint = "volume_files", input = GetUrl)]
pub async fn volume_files(name: String, path: String) -> Result<Listing, AppError> {
    let engine = crate::model::engine()?;
    Ok(engine.volumes().list_files(&name, &path).await?)
}

/// The page of `name`'s folder `path`.
pub fn folder_href(name: &str, path: &str) -> String {
    let base = format!("/volumes/{}", encode_query(name));
    match normalise(path).as_str() {
        "/" => base,
        path => format!("{base}?path={}", encode_query(path)),
    }
}

/// The API address that downloads `name`'s file `path`.
pub fn download_href(name: &str, path: &str) -> String {
    format!(
        "/api/v1/volumes/{}/file?path={}",
        encode_query(name),
        encode_query(&normalise(path))
    )
}

/// The folders from the top down to `path`, each with its label: `/`, `a`, `b`.
pub fn crumbs(path: &str) -> Vec<(String, String)> {
    let path = normalise(path);
    let mut out = vec![("/".to_string(), "/".to_string())];
    let mut at = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        at = format!("{at}/{part}");
        out.push((at.clone(), part.to_string()));
    }
    out
}

/// `rwxr-xr-x` for the permission bits.
pub fn mode_text(kind: FileKind, mode: u32) -> String {
    let first = match kind {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::File => '-',
        FileKind::Other => '?',
    };
    let bits = "rwxrwxrwx";
    let mut out = String::from(first);
    for (i, c) in bits.chars().enumerate() {
        out.push(if mode & (1 << (8 - i)) != 0 { c } else { '-' });
    }
    out
}

#[component]
pub fn VolumePage() -> impl IntoView {
    let params = use_params_map();
    let name = move || params.read().get("name").unwrap_or_default();
    let info = Resource::new(name, get_volume);
    view! {
        <p class="crumbs">
            <a href="/volumes">"← Volumes"</a>
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading volume…"</p> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(item) => view! { <VolumeDetails item/> }.into_any(),
                    Err(AppError::NotFound(message)) => {
                        #[cfg(feature = "ssr")]
                        crate::pages::set_status(404);
                        view! {
                            <Title text="Not found · berth"/>
                            <h1>"No such volume"</h1>
                            <p class="error" role="alert" data-testid="volume-error">{message}</p>
                            <p>
                                <a href="/volumes">"Back to the volumes"</a>
                            </p>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="volume-error">
                                {e.to_string()}
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
fn VolumeDetails(item: VolumeItem) -> impl IntoView {
    let VolumeItem {
        volume,
        created_ms,
        size,
        users,
    } = item;
    let can_operate = use_caller().can_operate();
    let labels = if volume.labels.is_empty() {
        view! { <span class="muted">"none"</span> }.into_any()
    } else {
        volume
            .labels
            .iter()
            .map(|(k, v)| view! { <span class="chip mono">{format!("{k}={v}")}</span> })
            .collect_view()
            .into_any()
    };
    let used_by = if users.is_empty() {
        view! { <span class="muted">"no container"</span> }.into_any()
    } else {
        users
            .iter()
            .map(|u| {
                let href = format!("/containers/{}", u.id);
                view! {
                    <span class="chip">
                        <a href=href>{u.name.clone()}</a>
                        <span class="mono muted">{format!(" at {}", u.destination)}</span>
                    </span>
                }
            })
            .collect_view()
            .into_any()
    };
    let name = volume.name.clone();
    view! {
        <Title text=format!("{} · Volumes · berth", volume.name)/>
        <div class="page-head">
            <h1 class="mono ref-title" title=volume.name.clone() data-testid="volume-title">
                {volume.name.clone()}
            </h1>
        </div>
        <dl class="details" data-testid="volume-details">
            <dt>"Driver"</dt>
            <dd>{volume.driver.clone()}</dd>
            <dt>"Host path"</dt>
            <dd class="mono small">{volume.mountpoint.display().to_string()}</dd>
            <dt>"Created"</dt>
            <dd>{format_utc(created_ms)}</dd>
            <dt>"Size"</dt>
            <dd data-testid="volume-size">{size.map_or_else(|| "—".to_string(), format_bytes)}</dd>
            <dt>"In use by"</dt>
            <dd class="chips" data-testid="volume-users">{used_by}</dd>
            <dt>"Labels"</dt>
            <dd class="chips">{labels}</dd>
        </dl>
        <h2>"Files"</h2>
        {if can_operate {
            view! { <FileBrowser name/> }.into_any()
        } else {
            view! {
                <p class="muted" data-testid="files-need-operator">
                    "Browsing a volume's files takes the operator role: they may hold secrets."
                </p>
            }
                .into_any()
        }}
    }
}

#[component]
fn FileBrowser(name: String) -> impl IntoView {
    let query = use_query_map();
    let path = move || normalise(&query.read().get("path").unwrap_or_default());
    let listing = {
        let name = name.clone();
        Resource::new(path, move |path| volume_files(name.clone(), path))
    };
    view! {
        <Transition fallback=|| view! { <p class="muted">"Reading the folder…"</p> }>
            {move || {
                let name = name.clone();
                Suspend::new(async move {
                    match listing.await {
                        Ok(listing) => view! { <FileTable name listing/> }.into_any(),
                        Err(e) => {
                            view! {
                                <p class="error" role="alert" data-testid="files-error">
                                    {e.to_string()}
                                </p>
                                <p>
                                    <a href=folder_href(&name, "/")>"Back to the top folder"</a>
                                </p>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Transition>
    }
}

/// The file table's headings.
const COLUMNS: [Column; 4] = [
    ("Name", ""),
    ("Size", "num"),
    ("Mode", "col-mode"),
    ("Modified", "col-created"),
];

#[component]
fn FileTable(name: String, listing: Listing) -> impl IntoView {
    let trail = crumbs(&listing.path)
        .into_iter()
        .map(|(at, label)| {
            view! {
                <a class="mono" href=folder_href(&name, &at) data-testid="files-crumb">{label}</a>
            }
        })
        .collect_view();
    let up = (listing.path != "/").then(|| {
        view! {
            <tr data-testid="file-row" data-name="..">
                <td colspan="4">
                    <a class="mono" href=folder_href(&name, &parent(&listing.path))>"↑ .."</a>
                </td>
            </tr>
        }
    });
    let empty = listing.entries.is_empty().then(|| {
        view! {
            <tr>
                <td colspan="4" class="empty-row" data-testid="files-empty">
                    "This folder is empty."
                </td>
            </tr>
        }
    });
    let rows = listing
        .entries
        .iter()
        .map(|entry| view! { <FileRow name=name.clone() dir=listing.path.clone() entry=entry.clone()/> })
        .collect_view();
    let truncated = listing.truncated.then(|| {
        view! {
            <p class="muted" data-testid="files-truncated">
                {format!(
                    "Only the first {} entries of this folder are shown.",
                    berth_wire::files::MAX_LISTED,
                )}
            </p>
        }
    });
    view! {
        <nav class="file-crumbs" aria-label="Folder" data-testid="files-path">{trail}</nav>
        <DataTable class="files" testid="files-table" columns=COLUMNS.to_vec()>
            {up}
            {rows}
            {empty}
        </DataTable>
        {truncated}
    }
}

#[component]
fn FileRow(name: String, dir: String, entry: FileEntry) -> impl IntoView {
    let at = child(&dir, &entry.name);
    let label = match entry.kind {
        FileKind::Dir => format!("{}/", entry.name),
        _ => entry.name.clone(),
    };
    let link = match entry.kind {
        FileKind::Dir => view! {
            <a class="mono" href=folder_href(&name, &at) data-testid="folder-link">{label}</a>
        }
        .into_any(),
        FileKind::File => {
            let title = format!("Download {}", entry.name);
            view! {
                <a
                    class="mono"
                    href=download_href(&name, &at)
                    download=entry.name.clone()
                    title=title
                    data-testid="file-link"
                >
                    {label}
                </a>
            }
            .into_any()
        }
        FileKind::Symlink => {
            let target = entry.link_target.clone().unwrap_or_default();
            view! {
                <span class="mono">{label}</span>
                <span class="mono muted">{format!(" → {target}")}</span>
            }
            .into_any()
        }
        FileKind::Other => view! { <span class="mono muted">{label}</span> }.into_any(),
    };
    let size = match entry.kind {
        FileKind::Dir => "—".to_string(),
        _ => format_bytes(entry.size as i64),
    };
    view! {
        <tr data-testid="file-row" data-name=entry.name.clone()>
            <td class="col-name">{link}</td>
            <td class="num">{size}</td>
            <td class="mono col-mode">{mode_text(entry.kind, entry.mode)}</td>
            <td class="col-created">{format_utc(entry.modified_ms)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_and_download_addresses_encode_the_path() {
        assert_eq!(folder_href("db", "/"), "/volumes/db");
        assert_eq!(folder_href("db", "a b/../c"), "/volumes/db?path=%2Fc");
        assert_eq!(
            download_href("db", "/etc/x&y.txt"),
            "/api/v1/volumes/db/file?path=%2Fetc%2Fx%26y.txt"
        );
    }

    #[test]
    fn crumbs_lead_from_the_top_to_the_folder() {
        assert_eq!(crumbs("/"), [("/".into(), "/".into())]);
        assert_eq!(
            crumbs("/a/b"),
            [
                ("/".to_string(), "/".to_string()),
                ("/a".to_string(), "a".to_string()),
                ("/a/b".to_string(), "b".to_string())
            ]
        );
    }

    #[test]
    fn modes_read_like_ls() {
        assert_eq!(mode_text(FileKind::Dir, 0o755), "drwxr-xr-x");
        assert_eq!(mode_text(FileKind::File, 0o640), "-rw-r-----");
        assert_eq!(mode_text(FileKind::Symlink, 0o777), "lrwxrwxrwx");
    }
}
