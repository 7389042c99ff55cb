//! The JSON body a webhook receives: the alert, the rule, the container, the event, the host
//! and a line for a human.

use super::matcher::Firing;
use super::rules::Rule;
use berth_wire::alert::{AlertContainer, AlertEvent, AlertPayload};
use std::collections::BTreeMap;

/// The body for a rule that fired.
pub fn for_firing(firing: &Firing, host: &str) -> AlertPayload {
    let event = &firing.event;
    let attribute = |name: &str| {
        event
            .actor
            .attributes
            .get(name)
            .cloned()
            .unwrap_or_default()
    };
    AlertPayload {
        alert: firing.kind.as_str().to_string(),
        rule: firing.rule.id,
        container: Some(AlertContainer {
            id: event.actor.id.clone(),
            name: attribute("name"),
            image: attribute("image"),
        }),
        event: AlertEvent {
            action: event.action.clone(),
            time: event.time_nano,
            attributes: event.actor.attributes.clone(),
        },
        host: host.to_string(),
        message: format!("{}: {}", host, firing.message),
    }
}

/// The body of `berth alert test`: alert `test`, no container, a `test` event now.
pub fn for_test(rule: &Rule, host: &str, now_ns: i64) -> AlertPayload {
    AlertPayload {
        alert: "test".to_string(),
        rule: rule.id,
        container: None,
        event: AlertEvent {
            action: "test".to_string(),
            time: now_ns,
            attributes: BTreeMap::new(),
        },
        host: host.to_string(),
        message: format!(
            "{host}: a test of alert rule {} ({})",
            rule.id,
            rule.condition.kind()
        ),
    }
}

/// The machine's host name, as the body names it.
pub fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::rules::Condition;
    use berth_wire::alert::AlertKind;
    use berth_wire::event::{Actor, Event, Scope};

    #[test]
    fn the_body_has_the_documented_shape() {
        let rule = Rule {
            id: 4,
            condition: Condition::Died,
            container: None,
            label: None,
            webhook: "http://127.0.0.1:9/".into(),
            enabled: true,
            created_at_ms: 0,
        };
        let event = Event {
            kind: Scope::Container,
            action: "die".into(),
            actor: Actor {
                id: "abc".into(),
                attributes: [("name", "web"), ("image", "busybox"), ("exitCode", "3")]
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            scope: "local".into(),
            time: 1,
            time_nano: 1_500_000_000,
            seq: 9,
        };
        let firing = Firing {
            rule,
            kind: AlertKind::Died,
            event,
            message: "container web (busybox) died with exit code 3".into(),
        };
        let body = serde_json::to_value(for_firing(&firing, "node1")).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "alert": "died",
                "rule": 4,
                "container": {"id": "abc", "name": "web", "image": "busybox"},
                "event": {
                    "action": "die",
                    "time": 1_500_000_000i64,
                    "attributes": {"exitCode": "3", "image": "busybox", "name": "web"}
                },
                "host": "node1",
                "message": "node1: container web (busybox) died with exit code 3"
            })
        );
        let test = serde_json::to_value(for_test(&firing.rule, "node1", 7)).unwrap();
        assert_eq!(test["alert"], "test");
        assert_eq!(test["container"], serde_json::Value::Null);
        assert_eq!(test["event"]["action"], "test");
        assert!(!host_name().is_empty());
    }
}
