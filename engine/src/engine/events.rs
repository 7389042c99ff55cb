//! The events service: records the engine's events on the bus (with docker's actors and
//! attributes: a container event carries the container's `name` and `image`; an image event
//! names the image or reference it is about) and streams them to subscribers.

use crate::catalog::removal::ImageDeleteRecord;
use crate::container::ContainerRow;
use crate::events::{EventBus, EventQuery, EventStream, Scope};

#[derive(Clone)]
pub(super) struct Events {
    /// Numbers, broadcasts and persists engine events.
    pub(super) bus: EventBus,
}

impl Events {
    /// Records an event: numbered and timed now, sent to live subscribers, persisted in the
    /// background. Never blocks on disk and never fails (a lost write is logged).
    pub(super) fn emit(
        &self,
        scope: Scope,
        action: &str,
        actor_id: &str,
        attributes: &[(&str, &str)],
    ) {
        self.bus.emit(scope, action, actor_id, attributes);
    }

    /// Events from the point `query.since` names (persisted ones first), then live ones until
    /// `query.until` (if set), as far as they pass `query.filter`.
    pub(super) fn stream(&self, query: EventQuery) -> crate::Result<EventStream> {
        query.filter.validate()?;
        Ok(crate::events::follow(self.bus.clone(), query))
    }

    /// See [`crate::Engine::recent_events`].
    pub(super) async fn recent(
        &self,
        before: Option<u64>,
        limit: u32,
        filter: &crate::events::EventFilter,
    ) -> crate::Result<Vec<crate::events::Event>> {
        filter.validate()?;
        self.bus.recent(before, limit, filter).await
    }

    /// A container event with the container's labels, `name` and `image`, then `extra`
    /// attributes (docker's order: a label cannot hide the name or image).
    pub(super) fn container(&self, row: &ContainerRow, action: &str, extra: &[(&str, &str)]) {
        let labels = row.config().map(|c| c.labels).unwrap_or_default();
        let mut attributes: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        attributes.push(("name", row.name.as_str()));
        attributes.push(("image", row.image_ref.as_str()));
        attributes.extend_from_slice(extra);
        self.emit(Scope::Container, action, &row.id, &attributes);
    }

    /// An image event: `actor` is the image id or reference, `name` docker's name attribute.
    pub(super) fn image(&self, action: &str, actor: &str, name: &str) {
        self.emit(Scope::Image, action, actor, &[("name", name)]);
    }

    /// `untag` and `delete` events for what `rmi`/`image prune` did. Untags come before the
    /// deletion of their image; untags not followed by one belong to `untagged_image`.
    pub(super) fn image_removal(&self, records: &[ImageDeleteRecord], untagged_image: &str) {
        let mut untags: Vec<&str> = Vec::new();
        for record in records {
            match record {
                ImageDeleteRecord::Untagged(tag) => untags.push(tag),
                ImageDeleteRecord::Deleted(id) => {
                    for _ in untags.drain(..) {
                        self.image("untag", id, id);
                    }
                    self.image("delete", id, id);
                }
            }
        }
        for _ in untags {
            self.image("untag", untagged_image, untagged_image);
        }
    }
}
