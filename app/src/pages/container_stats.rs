//! A container's Stats tab: its current figures as numbers (server-rendered from the daemon's
//! last reading, so they show without JavaScript), and charts of the last hour (uPlot, from
//! the bundle in `/live.js`): CPU, memory against its limit, network and block I/O rates, and
//! pids, on one time axis with one hover cursor. The hour comes from the daemon's history
//! (sent first on the stats subscription), so a reload keeps it; live points follow.

use crate::model::AppError;
use crate::stats_series::{
    io_rate, io_size, memory_size, percent, Current, StatsSeries, StatsStatus,
};
use berth_wire::StatsPoint;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// The container's newest two readings (a rate needs two); none when it was never read.
#[server(prefix = "/ui/fn", endpoint = "container_stats_latest", input = GetUrl)]
pub async fn container_stats_latest(id: String) -> Result<Vec<StatsPoint>, AppError> {
    let engine = crate::model::engine()?;
    let history = engine.containers().stats_history(&id).await?;
    Ok(history[history.len().saturating_sub(2)..].to_vec())
}

#[component]
pub fn StatsTab(id: String, running: Signal<bool>) -> impl IntoView {
    let series = RwSignal::new(StatsSeries::default());
    let status = RwSignal::new(if running.get_untracked() {
        StatsStatus::Connecting
    } else {
        StatsStatus::Stopped
    });
    let charts_ref = NodeRef::<Div>::new();
    let latest = Resource::new(
        {
            let id = id.clone();
            move || id.clone()
        },
        container_stats_latest,
    );

    #[cfg(feature = "hydrate")]
    live(id.clone(), running, series, status, charts_ref);
    #[cfg(not(feature = "hydrate"))]
    let _ = (&id, running);

    let points = move || series.with(StatsSeries::len);
    view! {
        <section class="panel stats-panel" data-testid="stats">
            <div class="panel-head">
                <h2>"Resource usage"</h2>
                <span
                    class=move || format!("log-status log-{}", status.with(StatsStatus::kind))
                    data-testid="stats-status"
                >
                    {move || status.with(StatsStatus::text)}
                </span>
                <span class="muted small panel-note">"Last hour · docker's units"</span>
            </div>
            <Transition fallback=|| view! { <Tiles current=Signal::derive(|| None)/> }>
                {move || Suspend::new(async move {
                    let seed = latest.await.unwrap_or_default();
                    let current = Signal::derive(move || {
                        series.with(StatsSeries::current).or_else(|| {
                            let mut s = StatsSeries::default();
                            s.extend(seed.clone());
                            s.current()
                        })
                    });
                    view! { <Tiles current/> }
                })}
            </Transition>
            <div class="charts" node_ref=charts_ref data-testid="stats-charts" data-points=points>
                <noscript>
                    <p class="muted charts-note">"The charts need JavaScript; the figures above are the last reading."</p>
                </noscript>
            </div>
        </section>
    }
    .into_any()
}

/// The figures above the charts, in fixed-width numerals so nothing moves as they change.
#[component]
fn Tiles(current: Signal<Option<Current>>) -> impl IntoView {
    let value = move |f: fn(&Current) -> String| {
        move || current.with(|c| c.as_ref().map_or_else(|| "—".to_string(), f))
    };
    view! {
        <div class="stat-tiles">
            <Tile label="CPU" testid="stat-cpu"
                value=value(|c| percent(c.point.cpu_percent))
                sub=move || "of one CPU".to_string()/>
            <Tile label="Memory" testid="stat-memory"
                value=value(|c| memory_size(c.point.memory_bytes))
                sub=value(|c| format!(
                    "of {} · {}",
                    memory_size(c.point.memory_limit_bytes),
                    percent(c.point.memory_percent)
                ))/>
            <Tile label="Network" testid="stat-net"
                value=value(|c| format!("↓ {}  ↑ {}", io_rate(c.rates.rx), io_rate(c.rates.tx)))
                sub=value(|c| format!(
                    "{} / {} total",
                    io_size(c.point.net_rx_bytes as f64),
                    io_size(c.point.net_tx_bytes as f64)
                ))/>
            <Tile label="Block I/O" testid="stat-block"
                value=value(|c| format!("R {}  W {}", io_rate(c.rates.read), io_rate(c.rates.write)))
                sub=value(|c| format!(
                    "{} / {} total",
                    io_size(c.point.block_read_bytes as f64),
                    io_size(c.point.block_write_bytes as f64)
                ))/>
            <Tile label="PIDs" testid="stat-pids"
                value=value(|c| c.point.pids.to_string())
                sub=move || "processes and threads".to_string()/>
        </div>
    }
}

#[component]
fn Tile(
    label: &'static str,
    testid: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
    sub: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="stat-tile" data-testid=testid>
            <div class="stat-label">{label}</div>
            <div class="stat-value" data-testid="stat-value">{value}</div>
            <div class="stat-sub">{sub}</div>
        </div>
    }
}

/// The browser's part: the subscription and the charts, both ended with the tab.
#[cfg(feature = "hydrate")]
fn live(
    id: String,
    running: Signal<bool>,
    series: RwSignal<StatsSeries>,
    status: RwSignal<StatsStatus>,
    charts_ref: NodeRef<Div>,
) {
    use crate::js::Charts;
    use crate::live_stats::LiveStats;
    use wasm_bindgen::JsCast;

    let conn = StoredValue::new_local(None::<LiveStats>);
    let charts = StoredValue::new_local(None::<Charts>);
    let bundle_failed = RwSignal::new(None::<String>);
    // Subscribed once, while the container runs (a stopped one has no sampler).
    Effect::new(move |_| {
        if !running.get() || conn.with_value(Option::is_some) {
            return;
        }
        match crate::live_stats::connect(&id, series, status) {
            Ok(c) => conn.set_value(Some(c)),
            Err(e) => status.set(StatsStatus::Failed(e)),
        }
    });
    // The charts once the bundle is there and the box exists.
    Effect::new(move |_| {
        let Some(el) = charts_ref.get() else { return };
        crate::js::load(move |loaded| {
            let made = loaded.and_then(|()| {
                let el: web_sys::HtmlElement = el.unchecked_into();
                let columns = series.with_untracked(|s| s.columns().to_json());
                crate::js::charts(&el, &columns)
            });
            match made {
                // The tab may be gone by now.
                Ok(c) => {
                    if let Some(Some(c)) = charts.try_set_value(Some(c)) {
                        c.destroy();
                    }
                }
                Err(e) => {
                    let _ = bundle_failed.try_set(Some(e));
                }
            }
        });
    });
    Effect::new(move |_| {
        let json = series.with(|s| s.columns().to_json());
        charts.with_value(|c| {
            if let Some(c) = c {
                c.set_data(&json);
            }
        });
    });
    Effect::new(move |_| {
        if let Some(e) = bundle_failed.get() {
            status.set(StatsStatus::Failed(e));
        }
    });
    on_cleanup(move || {
        if let Some(c) = conn.try_update_value(Option::take).flatten() {
            c.close();
        }
        if let Some(c) = charts.try_update_value(Option::take).flatten() {
            c.destroy();
        }
    });
}
