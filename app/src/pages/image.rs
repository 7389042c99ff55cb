//! One image's page: its names and digests, what its containers start with (Cmd,
//! Entrypoint, Env, ports, volumes…), its layers as history, and the whole inspect as JSON.

use crate::model::AppError;
use crate::pages::images::short_image_id;
use crate::pages::table::DataTable;
use crate::progress::format_bytes;
use berth_wire::image::{HistoryEntry, ImageInspect};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the page shows of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageDetail {
    pub inspect: ImageInspect,
    pub history: Vec<HistoryEntry>,
}

/// One image by id, id prefix or reference. A GET.
#[server(prefix = "/ui/fn", endpoint = "get_image", input = GetUrl)]
pub async fn get_image(id: String) -> Result<ImageDetail, AppError> {
    let engine = crate::model::engine()?;
    let inspect = engine.images().inspect(&id).await?;
    let history = engine.images().history(&inspect.id).await?;
    Ok(ImageDetail { inspect, history })
}

/// The config fields shown as a list, in this order, with their text.
pub fn config_rows(config: &Value) -> Vec<(&'static str, String)> {
    let list = |v: &Value| -> Option<String> {
        match v {
            Value::Array(items) if !items.is_empty() => Some(
                items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Value::Object(map) if !map.is_empty() => {
                Some(map.keys().cloned().collect::<Vec<_>>().join(", "))
            }
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }
    };
    [
        ("Entrypoint", "Entrypoint"),
        ("Cmd", "Cmd"),
        ("WorkingDir", "Working dir"),
        ("User", "User"),
        ("ExposedPorts", "Exposed ports"),
        ("Volumes", "Volumes"),
    ]
    .into_iter()
    .filter_map(|(key, label)| config.get(key).and_then(list).map(|text| (label, text)))
    .collect()
}

/// The config's environment, one `KEY=value` each.
pub fn env_of(config: &Value) -> Vec<String> {
    config
        .get("Env")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[component]
pub fn ImagePage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let info = Resource::new(id, get_image);
    view! {
        <p class="crumbs">
            <a href="/images">"← Images"</a>
        </p>
        <Transition fallback=|| view! { <p class="muted">"Loading image…"</p> }>
            {move || Suspend::new(async move {
                match info.await {
                    Ok(detail) => view! { <ImageDetails detail/> }.into_any(),
                    Err(AppError::NotFound(message)) => {
                        #[cfg(feature = "ssr")]
                        crate::pages::set_status(404);
                        view! {
                            <Title text="Not found · berth"/>
                            <h1>"No such image"</h1>
                            <p class="error" role="alert" data-testid="image-error">{message}</p>
                            <p>
                                <a href="/images">"Back to the images"</a>
                            </p>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="image-error">
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
fn ImageDetails(detail: ImageDetail) -> impl IntoView {
    let ImageDetail { inspect, history } = detail;
    let title = inspect
        .repo_tags
        .first()
        .cloned()
        .unwrap_or_else(|| short_image_id(&inspect.id));
    let json = serde_json::to_string_pretty(&inspect).unwrap_or_default();
    let config = config_rows(&inspect.config);
    let env = env_of(&inspect.config);
    let platform = match &inspect.variant {
        Some(v) => format!("{}/{}/{v}", inspect.os, inspect.architecture),
        None => format!("{}/{}", inspect.os, inspect.architecture),
    };
    let tags = if inspect.repo_tags.is_empty() {
        view! { <span class="muted">"untagged"</span> }.into_any()
    } else {
        inspect
            .repo_tags
            .iter()
            .map(|t| view! { <span class="chip mono" title=t.clone()>{t.clone()}</span> })
            .collect_view()
            .into_any()
    };
    let layers = inspect.root_fs.layers.len();
    let history_rows = history
        .into_iter()
        .map(|h| {
            let size = if h.size == 0 {
                "—".to_string()
            } else {
                format_bytes(h.size as i64)
            };
            view! {
                <tr data-testid="history-row">
                    <td class="mono command" title=h.created_by.clone()>{h.created_by.clone()}</td>
                    <td class="col-created">{h.created.unwrap_or_else(|| "—".into())}</td>
                    <td class="num">{size}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("{title} · Images · berth")/>
        <div class="page-head">
            <h1 class="mono ref-title" title=title.clone() data-testid="image-title">{title.clone()}</h1>
        </div>
        <dl class="details" data-testid="image-details">
            <dt>"ID"</dt>
            <dd class="mono">{inspect.id.clone()}</dd>
            <dt>"Tags"</dt>
            <dd class="chips" data-testid="image-tags">{tags}</dd>
            <dt>"Digests"</dt>
            <dd class="mono small">
                {if inspect.repo_digests.is_empty() {
                    "—".to_string()
                } else {
                    inspect.repo_digests.join("\n")
                }}
            </dd>
            <dt>"Created"</dt>
            <dd>{if inspect.created.is_empty() { "—".to_string() } else { inspect.created.clone() }}</dd>
            <dt>"Size"</dt>
            <dd>
                {format!(
                    "{} in {layers} {}",
                    format_bytes(inspect.size),
                    if layers == 1 { "layer" } else { "layers" },
                )}
            </dd>
            <dt>"Platform"</dt>
            <dd class="mono">{platform}</dd>
            {config
                .into_iter()
                .map(|(label, text)| view! {
                    <dt>{label}</dt>
                    <dd class="mono">{text}</dd>
                })
                .collect_view()}
            <dt>"Env"</dt>
            <dd class="mono small env">
                {if env.is_empty() { "—".to_string() } else { env.join("\n") }}
            </dd>
        </dl>
        <h2 class="section">"History"</h2>
        <DataTable
            class="history"
            testid="history-table"
            columns=vec![("Step", ""), ("Created", "col-created"), ("Size", "num")]
        >
            {history_rows}
        </DataTable>
        <details class="inspect" data-testid="image-inspect">
            <summary>"Inspect (JSON)"</summary>
            <pre class="mono json">{json}</pre>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_rows_show_what_a_container_starts_with() {
        let config = serde_json::json!({
            "Cmd": ["sh", "-c", "echo hi"],
            "Entrypoint": null,
            "Env": ["PATH=/bin", "A=1"],
            "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
            "Volumes": {},
            "WorkingDir": "/srv",
        });
        assert_eq!(
            config_rows(&config),
            vec![
                ("Cmd", "sh -c echo hi".to_string()),
                ("Working dir", "/srv".to_string()),
                ("Exposed ports", "443/tcp, 80/tcp".to_string()),
            ]
        );
        assert_eq!(env_of(&config), vec!["PATH=/bin", "A=1"]);
        assert!(config_rows(&Value::Null).is_empty());
        assert!(env_of(&Value::Null).is_empty());
    }
}
