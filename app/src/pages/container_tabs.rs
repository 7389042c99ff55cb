//! The container page's tabs — Logs, Stats, Terminal, Inspect, Events — chosen by `?tab=` in
//! the address, so a tab survives a reload and is rendered on the server. The log stays
//! mounted under the other tabs (it tells the header when the container exits); the others
//! are mounted on their first visit and kept, so switching back finds the charts and the
//! shell as they were.

use crate::auth::use_caller;
use crate::logbuf::LogStatus;
use crate::model::ContainerState;
use crate::pages::container::LogView;
use crate::pages::container_info::{EventsTab, InspectTab};
use crate::pages::container_stats::StatsTab;
use crate::pages::container_terminal::TerminalTab;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Logs,
    Stats,
    Terminal,
    Inspect,
    Events,
}

impl Tab {
    /// The tab of a `?tab=` value; the log for anything else.
    pub fn parse(value: Option<&str>) -> Tab {
        match value {
            Some("stats") => Tab::Stats,
            Some("terminal") => Tab::Terminal,
            Some("inspect") => Tab::Inspect,
            Some("events") => Tab::Events,
            _ => Tab::Logs,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Logs => "logs",
            Tab::Stats => "stats",
            Tab::Terminal => "terminal",
            Tab::Inspect => "inspect",
            Tab::Events => "events",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Logs => "Logs",
            Tab::Stats => "Stats",
            Tab::Terminal => "Terminal",
            Tab::Inspect => "Inspect",
            Tab::Events => "Events",
        }
    }
}

#[component]
pub fn ContainerTabs(
    id: String,
    state: Signal<ContainerState>,
    status: RwSignal<LogStatus>,
) -> impl IntoView {
    let query = use_query_map();
    let tab = Memo::new(move |_| query.with(|q| Tab::parse(q.get_str("tab"))));
    // A viewer cannot open a terminal: no tab for it.
    let tabs: &[Tab] = if use_caller().can_operate() {
        &[
            Tab::Logs,
            Tab::Stats,
            Tab::Terminal,
            Tab::Inspect,
            Tab::Events,
        ]
    } else {
        &[Tab::Logs, Tab::Stats, Tab::Inspect, Tab::Events]
    };
    let running = Signal::derive(move || state.get() == ContainerState::Running);
    let seen = move |which: Tab| {
        Memo::new(move |before: Option<&bool>| before == Some(&true) || tab.get() == which)
    };
    let stats_seen = seen(Tab::Stats);
    let terminal_seen = seen(Tab::Terminal);
    let inspect_seen = seen(Tab::Inspect);
    let events_seen = seen(Tab::Events);
    let link = move |which: Tab| {
        view! {
            <a
                role="tab"
                href=format!("?tab={}", which.as_str())
                class="tab"
                class:active=move || tab.get() == which
                aria-selected=move || if tab.get() == which { "true" } else { "false" }
                data-testid=format!("tab-{}", which.as_str())
            >
                {which.label()}
            </a>
        }
    };
    let stats_id = id.clone();
    let terminal_id = id.clone();
    let inspect_id = id.clone();
    let events_id = id.clone();
    view! {
        <nav class="tabs" role="tablist" aria-label="Container views" data-testid="container-tabs">
            {tabs.iter().map(|&t| link(t)).collect_view()}
        </nav>
        <div class="tab-panel" role="tabpanel" hidden=move || tab.get() != Tab::Logs>
            {view! { <LogView id status/> }.into_any()}
        </div>
        <Show when=move || stats_seen.get()>
            <div class="tab-panel" role="tabpanel" hidden=move || tab.get() != Tab::Stats>
                <StatsTab id=stats_id.clone() running/>
            </div>
        </Show>
        <Show when=move || terminal_seen.get()>
            <div class="tab-panel" role="tabpanel" hidden=move || tab.get() != Tab::Terminal>
                <TerminalTab id=terminal_id.clone() running/>
            </div>
        </Show>
        <Show when=move || inspect_seen.get()>
            <div class="tab-panel" role="tabpanel" hidden=move || tab.get() != Tab::Inspect>
                <InspectTab id=inspect_id.clone()/>
            </div>
        </Show>
        <Show when=move || events_seen.get()>
            <div class="tab-panel" role="tabpanel" hidden=move || tab.get() != Tab::Events>
                <EventsTab id=events_id.clone()/>
            </div>
        </Show>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tab_comes_from_the_query_and_defaults_to_the_log() {
        assert_eq!(Tab::parse(Some("stats")), Tab::Stats);
        assert_eq!(Tab::parse(Some("terminal")), Tab::Terminal);
        assert_eq!(Tab::parse(Some("logs")), Tab::Logs);
        assert_eq!(Tab::parse(Some("Stats")), Tab::Logs);
        assert_eq!(Tab::parse(None), Tab::Logs);
        for t in [
            Tab::Logs,
            Tab::Stats,
            Tab::Terminal,
            Tab::Inspect,
            Tab::Events,
        ] {
            assert_eq!(Tab::parse(Some(t.as_str())), t);
        }
    }
}
