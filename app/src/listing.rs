//! The containers page's question and answer: a search, a state chip, a label, a sort and a
//! page number (all in the address, so a view is a link and works without JavaScript), and the
//! one page of rows the server picks for it. The picking is here, pure, so it is tested
//! without a daemon; the server function runs it over the engine's (cached) list, so the
//! browser never holds more than a page however many containers the host has.

use crate::model::{ContainerState, ContainerSummary};
use berth_wire::container::health::HealthStatus;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Rows on one page.
pub const PAGE_SIZE: usize = 50;

/// The state chips.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateFilter {
    #[default]
    All,
    Running,
    /// Exited or created: not running, not paused.
    Stopped,
    Paused,
    /// Exited non-zero or by the OOM killer, unhealthy, or waiting out a restart back-off.
    Problems,
}

impl StateFilter {
    pub const ALL: [StateFilter; 5] = [
        StateFilter::All,
        StateFilter::Running,
        StateFilter::Stopped,
        StateFilter::Paused,
        StateFilter::Problems,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::All => "all",
            StateFilter::Running => "running",
            StateFilter::Stopped => "stopped",
            StateFilter::Paused => "paused",
            StateFilter::Problems => "problems",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StateFilter::All => "All",
            StateFilter::Running => "Running",
            StateFilter::Stopped => "Stopped",
            StateFilter::Paused => "Paused",
            StateFilter::Problems => "Problems",
        }
    }

    pub fn parse(s: &str) -> StateFilter {
        StateFilter::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .unwrap_or_default()
    }

    pub fn matches(self, c: &ContainerSummary) -> bool {
        match self {
            StateFilter::All => true,
            StateFilter::Running => c.state == ContainerState::Running,
            StateFilter::Stopped => {
                matches!(c.state, ContainerState::Exited | ContainerState::Created)
            }
            StateFilter::Paused => c.state == ContainerState::Paused,
            StateFilter::Problems => is_problem(c),
        }
    }
}

/// Whether a container needs someone's attention.
pub fn is_problem(c: &ContainerSummary) -> bool {
    let failed =
        c.state == ContainerState::Exited && (c.exit_code.unwrap_or(0) != 0 || c.oom_killed);
    failed || c.restarting || c.health == Some(HealthStatus::Unhealthy)
}

/// The sortable columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortKey {
    Name,
    Image,
    State,
    /// Newest first unless ascending: `docker ps`'s order.
    #[default]
    Created,
}

impl SortKey {
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Image => "image",
            SortKey::State => "state",
            SortKey::Created => "created",
        }
    }

    pub fn parse(s: &str) -> SortKey {
        [
            SortKey::Name,
            SortKey::Image,
            SortKey::State,
            SortKey::Created,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .unwrap_or_default()
    }

    /// The direction a first click on its header sorts in: names A→Z, the newest first.
    pub fn natural_asc(self) -> bool {
        !matches!(self, SortKey::Created)
    }
}

/// What the page asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListQuery {
    /// Words that must each appear in the name, image, id or command (case-insensitive).
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub state: StateFilter,
    /// `key` or `key=value`.
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub sort: SortKey,
    /// Ascending; otherwise the key's own default direction reversed is `asc = false`.
    #[serde(default)]
    pub asc: Option<bool>,
    /// From 0.
    #[serde(default)]
    pub page: usize,
}

impl ListQuery {
    /// Read from the address's query parameters (unknown values fall back to the defaults).
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> ListQuery {
        ListQuery {
            q: get("q").unwrap_or_default(),
            state: get("state")
                .map(|s| StateFilter::parse(&s))
                .unwrap_or_default(),
            label: get("label").unwrap_or_default(),
            sort: get("sort").map(|s| SortKey::parse(&s)).unwrap_or_default(),
            asc: get("asc").and_then(|s| match s.as_str() {
                "1" | "true" => Some(true),
                "0" | "false" => Some(false),
                _ => None,
            }),
            page: get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        }
    }

    pub fn ascending(&self) -> bool {
        self.asc.unwrap_or_else(|| self.sort.natural_asc())
    }

    /// The address of this view (`/containers?…`), defaults left out.
    pub fn href(&self) -> String {
        let mut parts = Vec::new();
        let mut push =
            |k: &str, v: &str| parts.push(format!("{k}={}", crate::format::encode_query(v)));
        if !self.q.is_empty() {
            push("q", &self.q);
        }
        if self.state != StateFilter::All {
            push("state", self.state.as_str());
        }
        if !self.label.is_empty() {
            push("label", &self.label);
        }
        if self.sort != SortKey::default() {
            push("sort", self.sort.as_str());
        }
        if let Some(asc) = self.asc {
            push("asc", if asc { "1" } else { "0" });
        }
        if self.page > 0 {
            push("page", &self.page.to_string());
        }
        if parts.is_empty() {
            "/containers".to_string()
        } else {
            format!("/containers?{}", parts.join("&"))
        }
    }

    /// The same view with another state chip (from its first page).
    pub fn with_state(&self, state: StateFilter) -> ListQuery {
        ListQuery {
            state,
            page: 0,
            ..self.clone()
        }
    }

    /// The view sorted by `key`: its header clicked again turns the direction round.
    pub fn sorted_by(&self, key: SortKey) -> ListQuery {
        let asc = if self.sort == key {
            !self.ascending()
        } else {
            key.natural_asc()
        };
        ListQuery {
            sort: key,
            asc: (asc != key.natural_asc()).then_some(asc),
            page: 0,
            ..self.clone()
        }
    }

    pub fn at_page(&self, page: usize) -> ListQuery {
        ListQuery {
            page,
            ..self.clone()
        }
    }
}

/// How many containers each chip would show (for the search and label in force).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    pub all: usize,
    pub running: usize,
    pub stopped: usize,
    pub paused: usize,
    pub problems: usize,
}

impl StateCounts {
    pub fn get(&self, f: StateFilter) -> usize {
        match f {
            StateFilter::All => self.all,
            StateFilter::Running => self.running,
            StateFilter::Stopped => self.stopped,
            StateFilter::Paused => self.paused,
            StateFilter::Problems => self.problems,
        }
    }
}

/// A running container's use, as the row shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub cpu_percent: f64,
    pub memory_bytes: u64,
    pub memory_limit_bytes: u64,
}

/// One row: the container and, while it runs, its use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub c: ContainerSummary,
    pub usage: Option<Usage>,
}

/// The answer: one page of rows and what the chips and the pager need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    /// The server's clock, so relative times render the same on both sides.
    pub now_ms: i64,
    /// Containers on the host.
    pub total: usize,
    /// Those the query matched (all pages).
    pub matched: usize,
    pub counts: StateCounts,
    /// The page shown (the last one when the asked one is past the end).
    pub page: usize,
    pub rows: Vec<Row>,
}

impl ListPage {
    pub fn pages(&self) -> usize {
        self.matched.div_ceil(PAGE_SIZE).max(1)
    }
}

fn matches_search(c: &ContainerSummary, words: &[String]) -> bool {
    words.iter().all(|w| {
        [&c.name, &c.image, &c.id, &c.command]
            .iter()
            .any(|field| field.to_lowercase().contains(w.as_str()))
    })
}

fn matches_label(c: &ContainerSummary, label: &str) -> bool {
    let label = label.trim();
    if label.is_empty() {
        return true;
    }
    match label.split_once('=') {
        Some((k, v)) => c.labels.get(k.trim()).is_some_and(|have| have == v.trim()),
        None => c.labels.contains_key(label),
    }
}

fn state_rank(c: &ContainerSummary) -> u8 {
    match (c.state, is_problem(c)) {
        (_, true) => 0,
        (ContainerState::Running, _) => 1,
        (ContainerState::Paused, _) => 2,
        (ContainerState::Created, _) => 3,
        (ContainerState::Exited, _) => 4,
    }
}

/// The page of `all` that `query` asks for: the containers, without their use yet (the server
/// adds it for the running ones on the page only), the page number actually shown, the
/// matched count and the chips' counts.
pub fn select(
    all: Vec<ContainerSummary>,
    query: &ListQuery,
) -> (Vec<ContainerSummary>, usize, usize, StateCounts) {
    let words: Vec<String> = query.q.split_whitespace().map(str::to_lowercase).collect();
    let mut counts = StateCounts::default();
    let mut picked: Vec<ContainerSummary> = Vec::new();
    for c in all {
        if !matches_search(&c, &words) || !matches_label(&c, &query.label) {
            continue;
        }
        counts.all += 1;
        counts.running += usize::from(StateFilter::Running.matches(&c));
        counts.stopped += usize::from(StateFilter::Stopped.matches(&c));
        counts.paused += usize::from(StateFilter::Paused.matches(&c));
        counts.problems += usize::from(StateFilter::Problems.matches(&c));
        if query.state.matches(&c) {
            picked.push(c);
        }
    }
    let by = |a: &ContainerSummary, b: &ContainerSummary| -> Ordering {
        match query.sort {
            SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
            SortKey::Image => a.image.cmp(&b.image),
            SortKey::State => state_rank(a).cmp(&state_rank(b)),
            SortKey::Created => a.created_at_ms.cmp(&b.created_at_ms),
        }
    };
    let ascending = query.ascending();
    // Ties keep one order whatever the direction: by name, then id.
    picked.sort_by(|a, b| {
        let o = by(a, b);
        let o = if ascending { o } else { o.reverse() };
        o.then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.id.cmp(&b.id))
    });
    let matched = picked.len();
    let last_page = matched.saturating_sub(1) / PAGE_SIZE;
    let page = query.page.min(last_page);
    let rows = picked
        .into_iter()
        .skip(page * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    (rows, page, matched, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, state: ContainerState, exit: Option<i32>, created: i64) -> ContainerSummary {
        let mut c: ContainerSummary = serde_json::from_value(serde_json::json!({
            "id": format!("{name:0>12}abcdef"), "name": name, "image": "busybox", "image_id": "",
            "command": "sleep 300", "state": "running", "exit_code": null, "pid": null,
            "created_at_ms": created, "started_at_ms": null, "finished_at_ms": null
        }))
        .expect("a summary");
        c.state = state;
        c.exit_code = exit;
        c
    }

    fn names(rows: &[ContainerSummary]) -> Vec<&str> {
        rows.iter().map(|c| c.name.as_str()).collect()
    }

    fn host() -> Vec<ContainerSummary> {
        let mut web = c("web", ContainerState::Running, None, 3);
        web.labels.insert("tier".into(), "front".into());
        web.image = "nginx:1.25".into();
        let mut db = c("db", ContainerState::Running, None, 1);
        db.labels.insert("tier".into(), "back".into());
        vec![
            web,
            db,
            c("job", ContainerState::Exited, Some(0), 2),
            c("crash", ContainerState::Exited, Some(2), 4),
            c("new", ContainerState::Created, None, 5),
            c("held", ContainerState::Paused, None, 0),
        ]
    }

    #[test]
    fn the_default_view_is_every_container_newest_first_with_the_chips_counted() {
        let (rows, page, matched, counts) = select(host(), &ListQuery::default());
        assert_eq!(names(&rows), ["new", "crash", "web", "job", "db", "held"]);
        assert_eq!((page, matched), (0, 6));
        assert_eq!(
            counts,
            StateCounts {
                all: 6,
                running: 2,
                stopped: 3,
                paused: 1,
                problems: 1
            }
        );
    }

    #[test]
    fn chips_search_and_labels_narrow_the_rows() {
        let q = ListQuery {
            state: StateFilter::Problems,
            ..ListQuery::default()
        };
        assert_eq!(names(&select(host(), &q).0), ["crash"]);
        let q = ListQuery {
            q: "NGINX".into(),
            ..ListQuery::default()
        };
        let (rows, _, matched, counts) = select(host(), &q);
        assert_eq!((names(&rows), matched, counts.all), (vec!["web"], 1, 1));
        // Every word must match, in any field.
        let q = ListQuery {
            q: "web sleep".into(),
            ..ListQuery::default()
        };
        assert_eq!(names(&select(host(), &q).0), ["web"]);
        let q = ListQuery {
            q: "web nothing".into(),
            ..ListQuery::default()
        };
        assert!(select(host(), &q).0.is_empty());
        for (label, want) in [
            ("tier", vec!["web", "db"]),
            ("tier=back", vec!["db"]),
            ("tier=x", vec![]),
        ] {
            let q = ListQuery {
                label: label.into(),
                ..ListQuery::default()
            };
            assert_eq!(names(&select(host(), &q).0), want, "{label}");
        }
    }

    #[test]
    fn sorting_turns_round_on_a_second_click_and_keeps_ties_in_name_order() {
        let by_name = ListQuery::default().sorted_by(SortKey::Name);
        assert!(by_name.ascending());
        assert_eq!(by_name.asc, None, "A→Z is the name's own direction");
        assert_eq!(
            names(&select(host(), &by_name).0),
            ["crash", "db", "held", "job", "new", "web"]
        );
        let back = by_name.sorted_by(SortKey::Name);
        assert_eq!(back.asc, Some(false));
        assert_eq!(names(&select(host(), &back).0)[0], "web");
        let by_state = ListQuery::default().sorted_by(SortKey::State);
        assert_eq!(
            names(&select(host(), &by_state).0),
            ["crash", "db", "web", "held", "new", "job"]
        );
    }

    #[test]
    fn pages_hold_fifty_rows_and_a_page_past_the_end_shows_the_last() {
        let many: Vec<_> = (0..120)
            .map(|i| c(&format!("c{i:03}"), ContainerState::Running, None, i))
            .collect();
        let q = ListQuery::default().sorted_by(SortKey::Name).at_page(1);
        let (rows, page, matched, _) = select(many.clone(), &q);
        assert_eq!((rows.len(), page, matched), (PAGE_SIZE, 1, 120));
        assert_eq!(rows[0].name, "c050");
        let (rows, page, _, _) = select(many, &q.at_page(9));
        assert_eq!((rows.len(), page), (20, 2));
        let (rows, page, matched, _) = select(Vec::new(), &q.at_page(3));
        assert_eq!((rows.len(), page, matched), (0, 0, 0));
    }

    #[test]
    fn a_view_is_an_address_and_reads_back_from_it() {
        let q = ListQuery {
            q: "a b&c".into(),
            state: StateFilter::Running,
            label: "tier=front".into(),
            sort: SortKey::Name,
            asc: Some(false),
            page: 2,
        };
        let href = q.href();
        assert_eq!(
            href,
            "/containers?q=a%20b%26c&state=running&label=tier%3Dfront&sort=name&asc=0&page=2"
        );
        let params: Vec<(String, String)> = [
            ("q", "a b&c"),
            ("state", "running"),
            ("label", "tier=front"),
            ("sort", "name"),
            ("asc", "0"),
            ("page", "2"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let back = ListQuery::from_params(|k| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        });
        assert_eq!(back, q);
        assert_eq!(ListQuery::default().href(), "/containers");
        let junk = ListQuery::from_params(|k| Some(format!("junk-{k}")));
        assert_eq!(junk.state, StateFilter::All);
        assert_eq!(junk.sort, SortKey::Created);
        assert_eq!((junk.asc, junk.page), (None, 0));
    }
}
