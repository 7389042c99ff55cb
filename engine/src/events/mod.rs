//! Engine events (docker's `events`): what happened to containers, images, volumes and
//! networks, numbered, broadcast live and persisted so that a client can replay from a time or
//! a sequence number and then follow without gaps or duplicates.
//!
//! `bus` assigns numbers and fans events out, `store` is their table, `stream` is one
//! subscriber (replay, then live), `filter` is docker's `--filter` matching.

mod actors;
mod bus;
mod filter;
mod store;
mod stream;

pub(crate) use bus::EventBus;
pub use filter::EventFilter;
pub use stream::{EventQuery, EventStream, Since};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an event is about (docker's event `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Container,
    Image,
    Volume,
    Network,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Container => "container",
            Scope::Image => "image",
            Scope::Volume => "volume",
            Scope::Network => "network",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        match text {
            "container" => Some(Scope::Container),
            "image" => Some(Scope::Image),
            "volume" => Some(Scope::Volume),
            "network" => Some(Scope::Network),
            _ => None,
        }
    }
}

/// Who an event is about: an id (or a reference, for pulls) and docker's attributes
/// (`name`, `image`, `exitCode`, `signal` …), sorted by key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// One event, shaped as docker's API sends it, plus berth's sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "Type")]
    pub kind: Scope,
    #[serde(rename = "Action")]
    pub action: String,
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Always `local` (docker's scope of an event, as opposed to swarm).
    pub scope: String,
    /// Unix seconds.
    pub time: i64,
    /// Unix nanoseconds.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
    /// Strictly increasing over the engine's life, across restarts: a resume cursor.
    pub seq: u64,
}

impl crate::Engine {
    /// Records an event: numbered and timed now, sent to live subscribers, persisted in the
    /// background. Never blocks on disk and never fails (a lost write is logged).
    pub(crate) fn emit(
        &self,
        scope: Scope,
        action: &str,
        actor_id: &str,
        attributes: &[(&str, &str)],
    ) {
        self.event_bus().emit(scope, action, actor_id, attributes);
    }

    /// Events from the point `query.since` names (persisted ones first), then live ones until
    /// `query.until` (if set), as far as they pass `query.filter`.
    pub fn events(&self, query: EventQuery) -> crate::Result<EventStream> {
        query.filter.validate()?;
        Ok(stream::start(self.event_bus().clone(), query))
    }
}
