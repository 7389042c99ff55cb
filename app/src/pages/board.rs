//! A board link's page (`/board/<secret>`): a read-only wall screen for people who do not log
//! in. The host in one line, big counters by state, one tile per container with the problems
//! first; no navigation, no buttons. Rendered whole on the server (it works without
//! JavaScript); once hydrated it follows the board's WebSocket and reconnects by itself.

use crate::model::AppError;
use berth_wire::board::{BoardContainer, BoardSnapshot, BoardState};
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// What an invalid, revoked or expired link's page says.
pub const INVALID_LINK: &str = "This board link is not valid (revoked or expired).";

/// The board of a link's secret, checked on every call. Public: the secret is the credential.
#[server(prefix = "/ui/fn", endpoint = "board_snapshot", input = GetUrl)]
pub async fn load_board(secret: String) -> Result<BoardSnapshot, AppError> {
    let engine = crate::model::engine()?;
    match ssr::snapshot(&engine, &secret).await? {
        Some(snapshot) => Ok(snapshot),
        None => Err(AppError::NotFound(INVALID_LINK.to_string())),
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! The board built from the engine, shared by the page's server function and the
    //! daemon's board WebSocket.

    use crate::model::AppError;
    use berth_engine::container::{ContainerState, ContainerSummary};
    use berth_engine::Engine;
    use berth_wire::board::{BoardContainer, BoardHost, BoardPort, BoardSnapshot, BoardState};

    /// The board of `secret`, or None if the link is not valid (unknown, revoked, expired).
    pub async fn snapshot(
        engine: &Engine,
        secret: &str,
    ) -> Result<Option<BoardSnapshot>, AppError> {
        let link = engine
            .auth()
            .board_link(secret)
            .await
            .map_err(|e| AppError::Engine(e.to_string()))?;
        let Some(link) = link else {
            return Ok(None);
        };
        let containers = engine
            .containers()
            .list_containers(true)
            .await?
            .into_iter()
            .map(tile)
            .collect();
        Ok(Some(BoardSnapshot::new(
            link.name,
            crate::model::now_ms(),
            host(),
            containers,
        )))
    }

    fn tile(s: ContainerSummary) -> BoardContainer {
        let state = match s.state {
            _ if s.restarting => BoardState::Restarting,
            ContainerState::Created => BoardState::Created,
            ContainerState::Running => BoardState::Running,
            ContainerState::Paused => BoardState::Paused,
            ContainerState::Exited => BoardState::Exited,
        };
        let since_ms = match state {
            BoardState::Running | BoardState::Paused => s.started_at_ms,
            BoardState::Exited | BoardState::Restarting => s.finished_at_ms,
            BoardState::Created => Some(s.created_at_ms),
        };
        let ports = s
            .ports
            .iter()
            .filter_map(|p| {
                Some(BoardPort {
                    host_port: p.public_port?,
                    container_port: p.private_port,
                    proto: p.proto.as_str().to_string(),
                })
            })
            .collect();
        BoardContainer {
            name: s.name,
            image: s.image,
            state,
            health: None,
            exit_code: s.exit_code.filter(|_| state != BoardState::Running),
            oom_killed: s.oom_killed,
            since_ms,
            ports,
        }
    }

    /// The host's name, CPUs and memory, read cheaply from the kernel.
    fn host() -> BoardHost {
        let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let cpus = std::thread::available_parallelism().map_or(0, |n| n.get() as u64);
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            })
            .map_or(0, |kib| kib * 1024);
        BoardHost { name, cpus, memory }
    }
}

/// "42 s", "5 min", "3 h 12 min", "4 d 2 h": a duration as a wall screen shows it.
pub fn span_text(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3_600, s % 3_600 / 60),
        s => format!("{} d {} h", s / 86_400, s % 86_400 / 3_600),
    }
}

/// "1.9 GiB", "512 MiB".
pub fn bytes_text(bytes: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let gib = bytes as f64 / GIB;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{} MiB", bytes / (1024 * 1024))
    }
}

/// What a tile says under the name: "up 5 min", "exited (2) 3 min ago", "restarting".
pub fn tile_status(c: &BoardContainer, now_ms: i64) -> String {
    let ago = c.since_ms.map(|t| span_text(now_ms - t));
    match (c.state, ago) {
        (BoardState::Running, Some(up)) => format!("up {up}"),
        (BoardState::Paused, Some(up)) => format!("paused, up {up}"),
        (BoardState::Exited, ago) => {
            let code = match (c.exit_code, c.oom_killed) {
                (Some(code), true) => format!(" ({code}, out of memory)"),
                (Some(code), false) => format!(" ({code})"),
                (None, _) => String::new(),
            };
            match ago {
                Some(ago) => format!("exited{code} {ago} ago"),
                None => format!("exited{code}"),
            }
        }
        (state, _) => state.as_str().to_string(),
    }
}

/// Whether the board's live connection is up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    /// Server-rendered, not hydrated (yet): what the page shows is as of its loading.
    Static,
    Connected,
    Reconnecting,
    /// The link was revoked or expired while the board was open.
    Invalid,
}

#[component]
pub fn BoardPage() -> impl IntoView {
    let params = use_params_map();
    let secret = move || params.read().get("secret").unwrap_or_default();
    let first = Resource::new(secret, load_board);
    view! {
        <Suspense fallback=|| view! { <p class="board-loading">"Loading the board…"</p> }>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(snapshot) => view! { <LiveBoard secret=secret() snapshot/> }.into_any(),
                    Err(AppError::NotFound(_)) => {
                        #[cfg(feature = "ssr")]
                        crate::pages::set_status(404);
                        view! { <InvalidBoard/> }.into_any()
                    }
                    Err(e) => {
                        view! {
                            <div class="board board-invalid" data-testid="board-error">
                                <Title text="Board · berth"/>
                                <h1>"The board cannot be shown"</h1>
                                <p>{e.to_string()}</p>
                            </div>
                        }
                            .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn InvalidBoard() -> impl IntoView {
    view! {
        <Title text="Board link not valid · berth"/>
        <div class="board board-invalid" data-testid="board-invalid">
            <h1>"Board link not valid"</h1>
            <p>{INVALID_LINK}</p>
            <p class="muted">"Ask an administrator for a new link."</p>
        </div>
    }
}

#[component]
fn LiveBoard(secret: String, snapshot: BoardSnapshot) -> impl IntoView {
    let board = RwSignal::new(snapshot);
    let status = RwSignal::new(LiveStatus::Static);
    #[cfg(feature = "hydrate")]
    {
        let secret = secret.clone();
        Effect::new(move |started: Option<()>| {
            if started.is_none() {
                crate::live_board::follow(secret.clone(), board, status);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = secret;

    let title = move || board.with(|b| format!("{} · berth board", b.title));
    let (live_class, live_text) = (
        move || match status.get() {
            LiveStatus::Static => "live live-static",
            LiveStatus::Connected => "live live-on",
            LiveStatus::Reconnecting => "live live-retry",
            LiveStatus::Invalid => "live live-off",
        },
        move || match status.get() {
            LiveStatus::Static => "as loaded",
            LiveStatus::Connected => "live",
            LiveStatus::Reconnecting => "reconnecting…",
            LiveStatus::Invalid => "link no longer valid",
        },
    );
    let tiles = move || {
        board.with(|b| {
            let now = b.now_ms;
            b.containers
                .iter()
                .map(|c| view! { <Tile c=c.clone() now_ms=now/> })
                .collect_view()
        })
    };
    let counter = move |label: &'static str, class: &'static str, n: fn(&BoardSnapshot) -> u32| {
        view! {
            <div class=move || {
                let zero = board.with(|b| n(b) == 0);
                format!("counter {class}{}", if zero { " zero" } else { "" })
            } data-testid=format!("count-{}", class.trim_start_matches("c-"))>
                <span class="counter-n">{move || board.with(n)}</span>
                <span class="counter-label">{label}</span>
            </div>
        }
    };
    view! {
        <Title text=title/>
        <div class="board" data-testid="board">
            <header class="board-head">
                <div class="board-title">
                    <span class="board-name" data-testid="board-title">
                        {move || board.with(|b| b.title.clone())}
                    </span>
                    <span class="board-host" data-testid="board-host">
                        {move || {
                            board.with(|b| {
                                format!(
                                    "{} · {} CPUs · {}",
                                    b.host.name,
                                    b.host.cpus,
                                    bytes_text(b.host.memory),
                                )
                            })
                        }}
                    </span>
                </div>
                <span class=live_class data-testid="board-live" data-status=live_text>
                    <span class="live-dot"></span>
                    {live_text}
                </span>
            </header>
            <Show when=move || status.get() == LiveStatus::Invalid>
                <p class="board-revoked" role="alert" data-testid="board-revoked">{INVALID_LINK}</p>
            </Show>
            <section class="counters">
                {counter("running", "c-running", |b| b.counts.running)}
                {counter("paused", "c-paused", |b| b.counts.paused)}
                {counter("exited", "c-exited", |b| b.counts.exited)}
                {counter("need attention", "c-problems", |b| b.counts.problems)}
            </section>
            <Show
                when=move || board.with(|b| !b.containers.is_empty())
                fallback=|| view! { <p class="board-empty" data-testid="board-empty">"No containers."</p> }
            >
                <section class="tiles" data-testid="board-tiles">{tiles}</section>
            </Show>
        </div>
    }
}

#[component]
fn Tile(c: BoardContainer, now_ms: i64) -> impl IntoView {
    let problem = c.is_problem();
    let state = c.state.as_str();
    let status = tile_status(&c, now_ms);
    let ports = c
        .ports
        .iter()
        .map(|p| format!("{}→{}/{}", p.host_port, p.container_port, p.proto))
        .collect::<Vec<_>>()
        .join("  ");
    let class = format!(
        "tile tile-{state}{}",
        if problem { " tile-problem" } else { "" }
    );
    let badge = if problem && c.state == BoardState::Exited {
        "failed"
    } else {
        state
    };
    view! {
        <article class=class data-testid="board-tile" data-name=c.name.clone() data-state=state>
            <div class="tile-top">
                <span class="tile-name" title=c.name.clone()>{c.name.clone()}</span>
                <span class=format!("badge badge-{}", if problem { "problem" } else { state })>
                    {badge}
                </span>
            </div>
            <div class="tile-status" data-testid="tile-status">{status}</div>
            <div class="tile-image" title=c.image.clone()>{c.image.clone()}</div>
            {(!ports.is_empty()).then(|| view! { <div class="tile-ports">{ports}</div> })}
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(state: BoardState, exit_code: Option<i32>, since_ms: Option<i64>) -> BoardContainer {
        BoardContainer {
            name: "web".into(),
            image: "busybox".into(),
            state,
            health: None,
            exit_code,
            oom_killed: false,
            since_ms,
            ports: Vec::new(),
        }
    }

    #[test]
    fn spans_read_at_a_glance() {
        assert_eq!(span_text(42_000), "42 s");
        assert_eq!(span_text(5 * 60_000 + 10), "5 min");
        assert_eq!(span_text(3 * 3_600_000 + 12 * 60_000), "3 h 12 min");
        assert_eq!(span_text(4 * 86_400_000 + 2 * 3_600_000), "4 d 2 h");
        assert_eq!(span_text(-5), "0 s");
        assert_eq!(bytes_text(2 * 1024 * 1024 * 1024), "2.0 GiB");
        assert_eq!(bytes_text(512 * 1024 * 1024), "512 MiB");
    }

    #[test]
    fn tiles_say_how_long_and_how_it_ended() {
        let now = 600_000;
        assert_eq!(
            tile_status(&tile(BoardState::Running, None, Some(0)), now),
            "up 10 min"
        );
        assert_eq!(
            tile_status(&tile(BoardState::Exited, Some(2), Some(540_000)), now),
            "exited (2) 1 min ago"
        );
        assert_eq!(
            tile_status(&tile(BoardState::Restarting, None, None), now),
            "restarting"
        );
    }
}
