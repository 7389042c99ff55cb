//! Engine events (docker's `events`): what happened to containers, images, volumes and
//! networks, numbered, broadcast live and persisted so that a client can replay from a time or
//! a sequence number and then follow without gaps or duplicates.
//!
//! `bus` assigns numbers and fans events out, `store` is their table, `stream` is one
//! subscriber (replay, then live), `filter` is docker's `--filter` matching.

mod bus;
mod filter;
mod store;
mod stream;

pub(crate) use bus::EventBus;
pub use filter::EventFilter;
pub use stream::{EventQuery, EventStream, Since};

/// Events from `query.since` on, for the engine's own followers (alerts), unvalidated.
pub(crate) fn follow(bus: EventBus, query: EventQuery) -> EventStream {
    stream::start(bus, query)
}

pub use berth_wire::event::{Actor, Event, Scope};

/// An event for tests: `action` on actor `id` with these attributes, at time 0, number 1.
#[cfg(test)]
pub(crate) fn test_event(
    kind: Scope,
    action: &str,
    id: &str,
    attributes: &[(&str, &str)],
) -> Event {
    Event {
        kind,
        action: action.into(),
        actor: Actor {
            id: id.into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        },
        scope: "local".into(),
        time: 0,
        time_nano: 0,
        seq: 1,
    }
}
