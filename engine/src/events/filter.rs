//! docker's event filters: `type`, `event`, `container`, `image`, `volume`, `network` and
//! `label`. Values of one key are alternatives (any may match); different keys must all match.

use super::{Event, Scope};
use crate::filters::{same_image_name, Filters};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

const KEYS: [&str; 7] = [
    "type",
    "event",
    "container",
    "image",
    "volume",
    "network",
    "label",
];

/// Filter key → accepted values (the API's `filters` JSON, `{"type":["container"]}`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventFilter(pub Filters);

impl std::ops::Deref for EventFilter {
    type Target = Filters;
    fn deref(&self) -> &Filters {
        &self.0
    }
}

impl std::ops::DerefMut for EventFilter {
    fn deref_mut(&mut self) -> &mut Filters {
        &mut self.0
    }
}

impl EventFilter {
    pub fn validate(&self) -> Result<()> {
        self.check_keys(&KEYS)?;
        for (key, values) in self.iter() {
            if key == "type" {
                if let Some(bad) = values.iter().find(|v| Scope::parse(v).is_none()) {
                    return Err(Error::InvalidInput(format!(
                        "invalid filter 'type={bad}': the types are container, image, volume and network"
                    )));
                }
            }
        }
        Ok(())
    }

    pub fn matches(&self, event: &Event) -> bool {
        self.iter().all(|(key, values)| {
            values.is_empty() || values.iter().any(|value| matches_one(key, value, event))
        })
    }
}

fn matches_one(key: &str, value: &str, event: &Event) -> bool {
    let attribute = |name: &str| event.actor.attributes.get(name).map(String::as_str);
    // An id prefix or the name, of an actor of the given type.
    let actor_is = |scope: Scope| {
        event.kind == scope
            && ((!value.is_empty() && event.actor.id.starts_with(value))
                || attribute("name") == Some(value))
    };
    match key {
        "type" => event.kind.as_str() == value,
        // `exec_start: sh -c …` is matched by `exec_start`, as docker does.
        "event" => {
            event.action == value
                || event.action.split_once(':').map(|(a, _)| a.trim()) == Some(value)
        }
        "container" => actor_is(Scope::Container),
        "volume" => actor_is(Scope::Volume),
        "network" => actor_is(Scope::Network),
        "image" => {
            let named = match event.kind {
                Scope::Container => attribute("image"),
                Scope::Image => Some(event.actor.id.as_str()),
                _ => None,
            };
            let same = |name: &str| {
                name == value
                    || same_image_name(name, value)
                    || (value.len() >= 4 && name.starts_with(value) && name.starts_with("sha256:"))
            };
            named.is_some_and(same)
                || (event.kind == Scope::Image && attribute("name").is_some_and(same))
        }
        "label" => match value.split_once('=') {
            Some((k, v)) => attribute(k) == Some(v),
            None => attribute(value).is_some(),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: Scope, action: &str, id: &str, attributes: &[(&str, &str)]) -> Event {
        crate::events::test_event(kind, action, id, attributes)
    }

    fn filter(pairs: &[&str]) -> EventFilter {
        let mut f = EventFilter::default();
        for p in pairs {
            f.add_text(p).unwrap();
        }
        f
    }

    #[test]
    fn same_key_is_any_different_keys_are_all() {
        let die = event(
            Scope::Container,
            "die",
            "abc123",
            &[("name", "web"), ("image", "busybox")],
        );
        assert!(filter(&["event=start", "event=die"]).matches(&die));
        assert!(!filter(&["event=start"]).matches(&die));
        assert!(filter(&["type=container", "event=die"]).matches(&die));
        assert!(!filter(&["type=image", "event=die"]).matches(&die));
    }

    #[test]
    fn containers_match_by_name_or_id_prefix() {
        let die = event(Scope::Container, "die", "abc123", &[("name", "web")]);
        assert!(filter(&["container=web"]).matches(&die));
        assert!(filter(&["container=abc"]).matches(&die));
        assert!(!filter(&["container=other"]).matches(&die));
        let pull = event(
            Scope::Image,
            "pull",
            "busybox:latest",
            &[("name", "busybox")],
        );
        assert!(!filter(&["container=web"]).matches(&pull));
    }

    #[test]
    fn images_match_containers_by_their_image_and_latest_is_implied() {
        let start = event(Scope::Container, "start", "abc", &[("image", "busybox")]);
        assert!(filter(&["image=busybox:latest"]).matches(&start));
        assert!(filter(&["image=busybox"]).matches(&start));
        assert!(!filter(&["image=alpine"]).matches(&start));
        let tag = event(Scope::Image, "tag", "sha256:feed", &[("name", "mine:1")]);
        assert!(filter(&["image=mine:1"]).matches(&tag));
        assert!(filter(&["image=sha256:fe"]).matches(&tag));
    }

    #[test]
    fn exec_actions_match_their_prefix() {
        let exec = event(Scope::Container, "exec_start: sh -c true", "abc", &[]);
        assert!(filter(&["event=exec_start"]).matches(&exec));
    }

    #[test]
    fn unknown_keys_and_types_are_refused() {
        assert!(filter(&["colour=red"]).validate().is_err());
        assert!(filter(&["type=plugin"]).validate().is_err());
        assert!(filter(&["type=volume", "label=a=b"]).validate().is_ok());
        assert!(EventFilter::default().add_text("nokey").is_err());
    }
}
