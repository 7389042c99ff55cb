//! The container page's Inspect tab (the whole `inspect` document as a folding tree) and
//! Events tab (this container's events, newest first, read again as the daemon reports
//! more).

use crate::model::AppError;
use crate::pages::json_tree::JsonTree;
use crate::pages::overview::EventLine;
use berth_wire::event::Event;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use serde::{Deserialize, Serialize};

/// `inspect` of one container, as the API answers it. A GET.
#[server(prefix = "/ui/fn", endpoint = "container_inspect", input = GetUrl)]
pub async fn container_inspect(id: String) -> Result<serde_json::Value, AppError> {
    let engine = crate::model::engine()?;
    let inspect = engine.containers().inspect(&id).await?;
    serde_json::to_value(inspect).map_err(|e| AppError::Engine(e.to_string()))
}

/// A container's recent events, with the server's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventList {
    pub now_ms: i64,
    pub events: Vec<Event>,
}

/// The newest events of one container (by id), newest first. A GET.
#[server(prefix = "/ui/fn", endpoint = "container_events", input = GetUrl)]
pub async fn container_events(id: String) -> Result<EventList, AppError> {
    let engine = crate::model::engine()?;
    /// How many of a container's events the tab lists.
    const EVENTS: u32 = 100;
    let mut filter = berth_engine::events::EventFilter::default();
    filter.add("container", &id);
    Ok(EventList {
        now_ms: crate::model::now_ms(),
        events: engine.recent_events(None, EVENTS, &filter).await?,
    })
}

#[component]
pub fn InspectTab(id: String) -> impl IntoView {
    let changes = crate::live_state::use_live().changes;
    let id = StoredValue::new(id);
    let doc = Resource::new(
        move || changes.get(),
        move |_| container_inspect(id.get_value()),
    );
    view! {
        <section class="panel inspect-panel" data-testid="inspect-panel">
            <Transition fallback=|| view! { <p class="muted">"Reading the container…"</p> }>
                {move || Suspend::new(async move {
                    match doc.await {
                        Ok(value) => view! { <JsonTree value testid="inspect-tree"/> }.into_any(),
                        Err(e) => {
                            view! {
                                <p class="error" role="alert" data-testid="inspect-error">
                                    {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn EventsTab(id: String) -> impl IntoView {
    let changes = crate::live_state::use_live().changes;
    let id = StoredValue::new(id);
    let events = Resource::new(
        move || changes.get(),
        move |_| container_events(id.get_value()),
    );
    view! {
        <section class="panel events-panel" data-testid="container-events">
            <Transition fallback=|| view! { <p class="muted">"Reading the events…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(list) if list.events.is_empty() => {
                            view! { <p class="card-empty">"No events for this container."</p> }
                                .into_any()
                        }
                        Ok(EventList { now_ms, events }) => {
                            view! {
                                <ul class="card-list events">
                                    {events
                                        .into_iter()
                                        .map(|e| view! { <EventLine e now_ms/> })
                                        .collect_view()}
                                </ul>
                            }
                                .into_any()
                        }
                        Err(e) => {
                            view! {
                                <p class="error" role="alert" data-testid="events-error">
                                    {e.to_string()}
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}
