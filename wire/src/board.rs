//! What a board link (`/board/<secret>`, a read-only wall screen) shows: the host in one line,
//! its containers by state, and one tile per container. Nothing more: no environment, no
//! command line, no labels or mounts, since anyone holding the link can read it.

use serde::{Deserialize, Serialize};

/// Where a container is in its life, as a board shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum BoardState {
    Created,
    Running,
    Paused,
    Restarting,
    Exited,
}

impl BoardState {
    pub fn as_str(self) -> &'static str {
        match self {
            BoardState::Created => "created",
            BoardState::Running => "running",
            BoardState::Paused => "paused",
            BoardState::Restarting => "restarting",
            BoardState::Exited => "exited",
        }
    }
}

/// A published port: `host_port` on the host reaches `container_port` inside.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardPort {
    pub host_port: u16,
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
}

/// One container's tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardContainer {
    pub name: String,
    pub image: String,
    pub state: BoardState,
    /// The health check's verdict (`healthy`, `unhealthy`, `starting`), if it has one.
    #[serde(default)]
    pub health: Option<String>,
    /// Set once it exited.
    pub exit_code: Option<i32>,
    #[serde(default)]
    pub oom_killed: bool,
    /// Unix milliseconds: since when it runs (running, paused) or since when it is down.
    pub since_ms: Option<i64>,
    #[serde(default)]
    pub ports: Vec<BoardPort>,
}

impl BoardContainer {
    /// Needs someone's attention: exited with a failure, restarting, or unhealthy.
    pub fn is_problem(&self) -> bool {
        self.state == BoardState::Restarting
            || self.oom_killed
            || (self.state == BoardState::Exited && self.exit_code.is_some_and(|c| c != 0))
            || self.health.as_deref() == Some("unhealthy")
    }

    /// Problems first, then running, paused, created, exited cleanly; by name within each.
    pub fn sort_key(&self) -> (u8, &str) {
        let rank = if self.is_problem() {
            0
        } else {
            match self.state {
                BoardState::Running => 1,
                BoardState::Restarting => 0,
                BoardState::Paused => 2,
                BoardState::Created => 3,
                BoardState::Exited => 4,
            }
        };
        (rank, self.name.as_str())
    }
}

/// The containers counted by state; `problems` counts those that need attention (see
/// [`BoardContainer::is_problem`]), which are also counted by their state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardCounts {
    pub running: u32,
    pub paused: u32,
    pub exited: u32,
    pub problems: u32,
    pub total: u32,
}

/// The host line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardHost {
    pub name: String,
    pub cpus: u64,
    /// Bytes.
    pub memory: u64,
}

/// Everything one board shows at one moment; `now_ms` is the server's clock, so that uptimes
/// render the same on the server and in the browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardSnapshot {
    /// The link's own name, as its admin gave it.
    pub title: String,
    pub now_ms: i64,
    pub host: BoardHost,
    pub counts: BoardCounts,
    /// Sorted: problems first (see [`BoardContainer::sort_key`]).
    pub containers: Vec<BoardContainer>,
}

impl BoardSnapshot {
    /// Counts and sorts `containers` into a snapshot.
    pub fn new(
        title: String,
        now_ms: i64,
        host: BoardHost,
        mut containers: Vec<BoardContainer>,
    ) -> BoardSnapshot {
        containers.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut counts = BoardCounts::default();
        for c in &containers {
            counts.total += 1;
            match c.state {
                BoardState::Running => counts.running += 1,
                BoardState::Paused => counts.paused += 1,
                BoardState::Exited => counts.exited += 1,
                // Restarting ones are counted as problems only.
                BoardState::Created | BoardState::Restarting => {}
            }
            if c.is_problem() {
                counts.problems += 1;
            }
        }
        BoardSnapshot {
            title,
            now_ms,
            host,
            counts,
            containers,
        }
    }
}

/// A message of the board's WebSocket (`/api/v1/boards/<secret>/ws`), tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BoardMessage {
    /// The board as it is now.
    Snapshot { snapshot: BoardSnapshot },
    /// The link was revoked or expired; the socket closes after this.
    Invalid,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tile(name: &str, state: BoardState, exit_code: Option<i32>) -> BoardContainer {
        BoardContainer {
            name: name.into(),
            image: "busybox".into(),
            state,
            health: None,
            exit_code,
            oom_killed: false,
            since_ms: None,
            ports: Vec::new(),
        }
    }

    #[test]
    fn problems_come_first_and_are_counted() {
        let host = BoardHost {
            name: "h".into(),
            cpus: 2,
            memory: 1,
        };
        let snapshot = BoardSnapshot::new(
            "wall".into(),
            0,
            host,
            vec![
                tile("a-clean", BoardState::Exited, Some(0)),
                tile("b-web", BoardState::Running, None),
                tile("c-crash", BoardState::Exited, Some(2)),
                tile("d-loop", BoardState::Restarting, None),
                tile("e-nap", BoardState::Paused, None),
            ],
        );
        let names: Vec<&str> = snapshot
            .containers
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["c-crash", "d-loop", "b-web", "e-nap", "a-clean"]);
        assert_eq!(
            snapshot.counts,
            BoardCounts {
                running: 1,
                paused: 1,
                exited: 2,
                problems: 2,
                total: 5
            }
        );
    }

    #[test]
    fn messages_are_tagged() {
        let text = serde_json::to_string(&BoardMessage::Invalid).unwrap();
        assert_eq!(text, r#"{"type":"invalid"}"#);
        let back: BoardMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(back, BoardMessage::Invalid);
    }
}
