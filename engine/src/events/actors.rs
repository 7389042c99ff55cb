//! docker's actors and attributes for the engine's own events: a container event carries the
//! container's `name` and `image`; an image event names the image (or reference) it is about.

use super::Scope;
use crate::catalog::removal::ImageDeleteRecord;
use crate::container::ContainerRow;
use crate::Engine;

impl Engine {
    /// A container event with the container's labels, `name` and `image`, then `extra`
    /// attributes (docker's order: a label cannot hide the name or image).
    pub(crate) fn emit_container(&self, row: &ContainerRow, action: &str, extra: &[(&str, &str)]) {
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
    pub(crate) fn emit_image(&self, action: &str, actor: &str, name: &str) {
        self.emit(Scope::Image, action, actor, &[("name", name)]);
    }

    /// `untag` and `delete` events for what `rmi`/`image prune` did. Untags come before the
    /// deletion of their image; untags not followed by one belong to `untagged_image`.
    pub(crate) fn emit_image_removal(&self, records: &[ImageDeleteRecord], untagged_image: &str) {
        let mut untags: Vec<&str> = Vec::new();
        for record in records {
            match record {
                ImageDeleteRecord::Untagged(tag) => untags.push(tag),
                ImageDeleteRecord::Deleted(id) => {
                    for _ in untags.drain(..) {
                        self.emit_image("untag", id, id);
                    }
                    self.emit_image("delete", id, id);
                }
            }
        }
        for _ in untags {
            self.emit_image("untag", untagged_image, untagged_image);
        }
    }
}
