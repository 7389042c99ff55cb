//! The events page: the daemon's events, newest first, by kind (chips for containers,
//! images, volumes, networks), a page at a time with "older" links; the newest page follows
//! the daemon's events as they come, without polling.

use crate::model::AppError;
use crate::pages::overview::EventLine;
use berth_wire::event::{Event, Scope};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// Events per page.
pub const PAGE: u32 = 50;

/// One page of events, with the server's clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventPage {
    pub now_ms: i64,
    pub events: Vec<Event>,
    /// The cursor of the next, older page, when there is one.
    pub older: Option<u64>,
}

/// The events of `kind` (empty: all) before the sequence number `before`, newest first.
#[server(prefix = "/ui/fn", endpoint = "events_page", input = GetUrl)]
pub async fn events_page(kind: String, before: Option<u64>) -> Result<EventPage, AppError> {
    let engine = crate::model::engine()?;
    let mut filter = berth_engine::events::EventFilter::default();
    if let Some(scope) = Scope::parse(&kind) {
        filter.add("type", scope.as_str());
    }
    let events = engine.recent_events(before, PAGE, &filter).await?;
    let older = match events.len() as u32 {
        PAGE => events.last().map(|e| e.seq),
        _ => None,
    };
    Ok(EventPage {
        now_ms: crate::model::now_ms(),
        events,
        older,
    })
}

/// The kinds offered as chips, `""` being all of them.
const KINDS: [(&str, &str); 5] = [
    ("", "All"),
    ("container", "Containers"),
    ("image", "Images"),
    ("volume", "Volumes"),
    ("network", "Networks"),
];

/// The page's address for a kind and a cursor.
pub fn href(kind: &str, before: Option<u64>) -> String {
    let mut parts = Vec::new();
    if !kind.is_empty() {
        parts.push(format!("type={}", crate::format::encode_query(kind)));
    }
    if let Some(b) = before {
        parts.push(format!("before={b}"));
    }
    match parts.is_empty() {
        true => "/events".to_string(),
        false => format!("/events?{}", parts.join("&")),
    }
}

#[component]
pub fn EventsPageView() -> impl IntoView {
    let query = use_query_map();
    let kind = Memo::new(move |_| {
        query.with(|q| {
            q.get_str("type")
                .and_then(Scope::parse)
                .map_or("", Scope::as_str)
                .to_string()
        })
    });
    let before =
        Memo::new(move |_| query.with(|q| q.get_str("before").and_then(|b| b.parse().ok())));
    let changes = crate::live_state::use_live().changes;
    // Only the newest page follows the daemon: an older one stays as it was.
    let follow = move || before.get().is_none().then(|| changes.get());
    let page = Resource::new(
        move || (kind.get(), before.get(), follow()),
        |(kind, before, _)| events_page(kind, before),
    );
    let chips = move || {
        KINDS
            .iter()
            .map(|&(value, label)| {
                let active = kind.with(|k| k == value);
                view! {
                    <a
                        href=href(value, None)
                        class=if active { "chip active" } else { "chip" }
                        aria-current=active.then_some("page")
                        data-testid=format!("events-kind-{}", if value.is_empty() { "all" } else { value })
                    >
                        {label}
                    </a>
                }
            })
            .collect_view()
    };
    view! {
        <Title text="Events · berth"/>
        <div class="page-head">
            <h1>"Events"</h1>
            <span class="muted small" data-testid="events-follow">
                {move || if before.get().is_none() { "newest first, live" } else { "older events" }}
            </span>
        </div>
        <nav class="chips" aria-label="Filter by kind">{chips}</nav>
        <Transition fallback=|| view! { <p class="muted">"Reading the events…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) if p.events.is_empty() => {
                        view! { <p class="empty" data-testid="no-events">"No events yet."</p> }
                            .into_any()
                    }
                    Ok(EventPage { now_ms, events, older }) => {
                        let kind = kind.get_untracked();
                        view! {
                            <section class="card events-card">
                                <ul class="card-list events" data-testid="events-list">
                                    {events
                                        .into_iter()
                                        .map(|e| view! { <EventLine e now_ms/> })
                                        .collect_view()}
                                </ul>
                            </section>
                            <nav class="pager" aria-label="Pages">
                                {before.get_untracked().map(|_| view! {
                                    <a class="btn" href=href(&kind, None) data-testid="events-newest">"Newest"</a>
                                })}
                                {older.map(|o| view! {
                                    <a class="btn" href=href(&kind, Some(o)) data-testid="events-older">"Older →"</a>
                                })}
                            </nav>
                        }
                            .into_any()
                    }
                    Err(e) => {
                        view! {
                            <p class="error" role="alert" data-testid="events-error">
                                {format!("cannot read the events: {e}")}
                            </p>
                        }
                            .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_carry_the_kind_and_the_cursor() {
        assert_eq!(href("", None), "/events");
        assert_eq!(href("volume", None), "/events?type=volume");
        assert_eq!(
            href("container", Some(42)),
            "/events?type=container&before=42"
        );
        assert_eq!(href("", Some(7)), "/events?before=7");
    }
}
