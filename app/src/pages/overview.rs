//! The overview (`/`): the host (kernel, cgroups, CPUs, memory, the data root's disk), the
//! containers counted by state, those that need attention, the busiest by CPU and by memory,
//! and the latest events — refetched after each burst of the daemon's events and every few
//! seconds for the figures.

use crate::auth::use_caller;
use crate::format::{format_bytes, format_utc, humanize_age};
use crate::listing::StateFilter;
use crate::live_state::use_live;
use crate::model::AppError;
use crate::pages::state_badge::StateBadge;
use berth_wire::alert::AlertAttempt;
use berth_wire::container::ContainerSummary;
use berth_wire::event::{Event, Scope};
use berth_wire::system::DiskSpace;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// Rows in each "top" list, problems and events shown.
#[cfg(feature = "ssr")]
const TOP: usize = 5;
#[cfg(feature = "ssr")]
const EVENTS: u32 = 10;

/// A container in a "top" list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopRow {
    pub id: String,
    pub name: String,
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
}

/// The host's facts shown in its card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub name: String,
    pub version: String,
    pub kernel: String,
    pub os: String,
    pub cgroup: String,
    pub cpus: u64,
    pub memory_bytes: u64,
    pub data_root: String,
    pub disk: Option<DiskSpace>,
}

/// Everything the overview shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub now_ms: i64,
    pub host: HostFacts,
    pub counts: crate::listing::StateCounts,
    pub images: u64,
    pub volumes: u64,
    pub networks: u64,
    pub problems: Vec<ContainerSummary>,
    pub top_cpu: Vec<TopRow>,
    pub top_memory: Vec<TopRow>,
    pub events: Vec<Event>,
    /// The alert deliveries (admins only: the alerts' webhooks are theirs).
    pub deliveries: Option<Vec<AlertAttempt>>,
}

/// The overview's data. A GET, for viewers.
#[server(prefix = "/ui/fn", endpoint = "overview", input = GetUrl)]
pub async fn load_overview() -> Result<Overview, AppError> {
    let engine = crate::model::engine()?;
    ssr::overview(&engine).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::listing::is_problem;
    use berth_engine::Engine;
    use berth_wire::auth::Role;

    pub async fn overview(engine: &Engine) -> Result<Overview, AppError> {
        let info = engine.system().info().await?;
        let disk = engine.system().data_root_space().ok();
        let all = engine.containers().list_containers(true).await?;
        let (_, _, _, counts) = crate::listing::select(all.clone(), &Default::default());
        let mut problems: Vec<ContainerSummary> = all.into_iter().filter(is_problem).collect();
        problems.sort_by_key(|c| std::cmp::Reverse(c.finished_at_ms.unwrap_or(c.created_at_ms)));
        problems.truncate(TOP);
        let stats = engine
            .containers()
            .stats_many(None)
            .await
            .unwrap_or_default();
        let rows: Vec<TopRow> = stats
            .into_iter()
            .map(|s| TopRow {
                id: s.id,
                name: s.name,
                cpu_percent: s.cpu_percent,
                memory_bytes: s.sample.memory_working_set_bytes,
                memory_limit_bytes: s.sample.memory_limit_bytes,
            })
            .collect();
        let mut top_cpu = rows.clone();
        top_cpu.sort_by(|a, b| {
            b.cpu_percent
                .total_cmp(&a.cpu_percent)
                .then(a.name.cmp(&b.name))
        });
        top_cpu.truncate(TOP);
        let mut top_memory = rows;
        top_memory.sort_by(|a, b| {
            b.memory_bytes
                .cmp(&a.memory_bytes)
                .then(a.name.cmp(&b.name))
        });
        top_memory.truncate(TOP);
        let events = engine
            .recent_events(None, EVENTS, &Default::default())
            .await?;
        let admin = crate::auth::current_me().is_some_and(|me| me.role >= Role::Admin);
        let deliveries = match admin {
            true => Some(engine.alerts().deliveries(TOP as u32).await?),
            false => None,
        };
        Ok(Overview {
            now_ms: crate::model::now_ms(),
            host: HostFacts {
                name: info.name,
                version: info.server_version,
                kernel: info.kernel_version,
                os: info.operating_system,
                cgroup: format!("v{} ({})", info.cgroup_version, info.cgroup_driver),
                cpus: info.ncpu,
                memory_bytes: info.mem_total,
                data_root: info.docker_root_dir,
                disk,
            },
            counts,
            images: info.images,
            volumes: info.volumes,
            networks: info.networks,
            problems,
            top_cpu,
            top_memory,
            events,
            deliveries,
        })
    }
}

/// How often the figures are read again while the page is open.
#[cfg(feature = "hydrate")]
const REFRESH_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

#[component]
pub fn OverviewPage() -> impl IntoView {
    let live = use_live();
    let tick = RwSignal::new(0u64);
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) =
            set_interval_with_handle(move || tick.update(|n| *n += 1), REFRESH_EVERY)
        {
            on_cleanup(move || handle.clear());
        }
    }
    let data = Resource::new(
        move || (live.changes.get(), tick.get()),
        |_| load_overview(),
    );
    view! {
        <Title text="Overview · berth"/>
        <div class="page-head">
            <h1>"Overview"</h1>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(o) => view! { <OverviewBody o/> }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert" data-testid="overview-error">
                            {format!("cannot load the overview: {e}")}
                        </p>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OverviewBody(o: Overview) -> impl IntoView {
    let Overview {
        now_ms,
        host,
        counts,
        images,
        volumes,
        networks,
        problems,
        top_cpu,
        top_memory,
        events,
        deliveries,
    } = o;
    let tiles = [
        (StateFilter::Running, counts.running),
        (StateFilter::Stopped, counts.stopped),
        (StateFilter::Paused, counts.paused),
        (StateFilter::Problems, counts.problems),
    ];
    let admin = use_caller()
        .role()
        .is_some_and(|r| r >= berth_wire::auth::Role::Admin);
    view! {
        <section class="stat-tiles" aria-label="Containers by state" data-testid="state-counts">
            {tiles.into_iter().map(|(f, n)| {
                let href = crate::listing::ListQuery::default().with_state(f).href();
                view! {
                    <a class=format!("stat-tile tile-{}", f.as_str()) class:zero={n == 0} href=href
                       data-testid=format!("count-{}", f.as_str())>
                        <span class="stat-n">{n}</span>
                        <span class="stat-label">{f.label()}</span>
                    </a>
                }
            }).collect_view()}
        </section>
        <div class="overview-grid">
            <HostCard host images volumes networks total=counts.all/>
            <section class="card" data-testid="problems">
                <h2>"Needs attention"</h2>
                {if problems.is_empty() {
                    view! { <p class="card-empty">"Nothing: no failed exits, no unhealthy containers."</p> }.into_any()
                } else {
                    view! {
                        <ul class="card-list">
                            {problems.into_iter().map(|c| view! {
                                <li>
                                    <a class="name" href=format!("/containers/{}", c.id)>{c.name.clone()}</a>
                                    <StateBadge c=c.clone()/>
                                    <span class="muted small when">
                                        {c.finished_at_ms.map(|t| humanize_age(now_ms, t))}
                                    </span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
            <TopCard title="Top CPU" rows=top_cpu testid="top-cpu" cpu=true/>
            <TopCard title="Top memory" rows=top_memory testid="top-memory" cpu=false/>
            <section class="card card-wide" data-testid="recent-events">
                <h2>"Recent events"</h2>
                {if events.is_empty() {
                    view! { <p class="card-empty">"No events yet: they appear as containers, images and volumes change."</p> }.into_any()
                } else {
                    view! { <ul class="card-list events">{events.into_iter().map(|e| view! { <EventLine e now_ms/> }).collect_view()}</ul> }.into_any()
                }}
            </section>
            {(admin).then(|| deliveries.map(|d| view! { <AlertsCard deliveries=d now_ms/> }))}
        </div>
    }
}

#[component]
fn HostCard(
    host: HostFacts,
    images: u64,
    volumes: u64,
    networks: u64,
    total: usize,
) -> impl IntoView {
    let disk = host.disk.map(|d| {
        let used = d.total_bytes.saturating_sub(d.available_bytes);
        let percent = if d.total_bytes == 0 { 0.0 } else { used as f64 * 100.0 / d.total_bytes as f64 };
        view! {
            <dt>"Data root disk"</dt>
            <dd>
                <div class="meter" role="meter" aria-valuemin="0" aria-valuemax="100" aria-valuenow=format!("{percent:.0}")
                     aria-label="Data root disk used" class:meter-high={percent >= 90.0}>
                    <span style=format!("width: {percent:.1}%")></span>
                </div>
                <span class="small muted" data-testid="disk-free">
                    {format!("{} free of {}", format_bytes(d.available_bytes), format_bytes(d.total_bytes))}
                </span>
            </dd>
        }
    });
    view! {
        <section class="card" data-testid="host-card">
            <h2>"Host " <span class="mono host-name">{host.name}</span></h2>
            <dl class="facts">
                <dt>"berth"</dt><dd class="mono">{host.version}</dd>
                <dt>"Kernel"</dt><dd class="mono" data-testid="host-kernel">{host.kernel}</dd>
                <dt>"System"</dt><dd>{host.os}</dd>
                <dt>"cgroups"</dt><dd class="mono" data-testid="host-cgroup">{host.cgroup}</dd>
                <dt>"CPUs"</dt><dd class="num">{host.cpus}</dd>
                <dt>"Memory"</dt><dd>{format_bytes(host.memory_bytes)}</dd>
                <dt>"Data root"</dt><dd class="mono">{host.data_root}</dd>
                {disk}
                <dt>"Objects"</dt>
                <dd>
                    <a href="/containers">{format!("{total} containers")}</a>
                    {format!(" · {images} images · {volumes} volumes · {networks} networks")}
                </dd>
            </dl>
        </section>
    }
}

#[component]
fn TopCard(
    title: &'static str,
    rows: Vec<TopRow>,
    testid: &'static str,
    cpu: bool,
) -> impl IntoView {
    view! {
        <section class="card" data-testid=testid>
            <h2>{title}</h2>
            {if rows.is_empty() {
                view! { <p class="card-empty">"No container is running."</p> }.into_any()
            } else {
                view! {
                    <table class="top">
                        <tbody>
                            {rows.into_iter().map(|r| {
                                let (figure, share) = if cpu {
                                    (format!("{:.1} %", r.cpu_percent), r.cpu_percent.min(100.0))
                                } else {
                                    let share = if r.memory_limit_bytes == 0 { 0.0 } else {
                                        r.memory_bytes as f64 * 100.0 / r.memory_limit_bytes as f64
                                    };
                                    (format_bytes(r.memory_bytes), share)
                                };
                                view! {
                                    <tr>
                                        <td class="top-name"><a href=format!("/containers/{}", r.id) title=r.name.clone()>{r.name.clone()}</a></td>
                                        <td class="top-bar"><div class="meter"><span style=format!("width: {share:.1}%")></span></div></td>
                                        <td class="num">{figure}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// One event as a line: when, what and on which object.
#[component]
pub fn EventLine(e: Event, now_ms: i64) -> impl IntoView {
    let ms = e.time_nano / 1_000_000;
    // A volume's id is its name; a container's or an image's is a digest, cut short.
    let name = match (e.actor.attributes.get("name"), e.kind) {
        (Some(name), _) => name.clone(),
        (None, Scope::Volume) => e.actor.id.clone(),
        (None, _) => crate::model::short_id(&e.actor.id).to_string(),
    };
    let gone = matches!(e.action.as_str(), "destroy" | "delete");
    let href = match e.kind {
        Scope::Container if !gone => Some(format!("/containers/{}", e.actor.id)),
        Scope::Volume if !gone => Some(format!(
            "/volumes/{}",
            crate::format::encode_query(&e.actor.id)
        )),
        _ => None,
    };
    view! {
        <li class="event" data-testid="event-line">
            <span class="muted small when" title=format_utc(ms)>{humanize_age(now_ms, ms)}</span>
            <span class="event-kind">{e.kind.as_str().to_string()}</span>
            <span class=format!("event-action action-{}", e.action.split(':').next().unwrap_or_default())>{e.action.clone()}</span>
            {match href {
                Some(href) => view! { <a class="name" href=href>{name}</a> }.into_any(),
                None => view! { <span class="name">{name}</span> }.into_any(),
            }}
        </li>
    }
}

#[component]
fn AlertsCard(deliveries: Vec<AlertAttempt>, now_ms: i64) -> impl IntoView {
    view! {
        <section class="card" data-testid="alert-deliveries">
            <h2>"Alert deliveries"</h2>
            {if deliveries.is_empty() {
                view! { <p class="card-empty">"No alert sent yet. Add rules with " <code>"berth alert add"</code> "."</p> }.into_any()
            } else {
                view! {
                    <ul class="card-list">
                        {deliveries.into_iter().map(|d| view! {
                            <li>
                                <span class="muted small when">{humanize_age(now_ms, d.time_ms)}</span>
                                <span>{d.alert.clone()}</span>
                                <span class=format!("outcome outcome-{}", d.outcome.as_str())>{d.outcome.as_str()}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}
