//! Engine events on the wire (docker's `events`, plus berth's sequence number).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What an event is about (docker's event `Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    #[serde(rename = "ID")]
    pub id: String,
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// One event, shaped as docker's API sends it, plus berth's sequence number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// The query of `GET /api/v1/events`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventsQuery {
    /// RFC 3339, unix seconds (with a fraction) or a duration ago.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Resume after this sequence number (takes precedence over `since`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<u64>,
    /// docker's JSON filters: `{"type":["container"],"event":["die"]}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filters: Option<String>,
}
